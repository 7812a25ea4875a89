#!/usr/bin/env bash
# bench.sh measures the Huimin webhook against the minimal baseline handler,
# in the same session on the same machine, and checks the targets (issue
# 11), each row against the baseline of its load and mode:
#
#   zero errors; p99 within 1.5x the baseline's p99;
#   throughput at least 0.6x the baseline's on Redis, 0.4x on bolt.
#
# For each load (what citizens write, how many connections) and mode (plain,
# safe) it runs the same load against the baseline, the baseline making one
# pipelined Redis round trip per message (baseline+redis: a de-duplication
# SET NX, the sender's session read and written back, a connection per
# concurrent request — the ceiling one store round trip per message allows,
# shown for reference, not checked), the service on the embedded bolt
# store, and the service on Redis, then prints a markdown table. It exits 1
# if any checked row fails.
#
# Each row also shows the server's peak resident memory: VmHWM from
# /proc/<pid>/status, read when the load ends and before the server is
# stopped, the highest of the row's rounds (the memory targets are
# ceilings). The per-run lines on stderr add what was resident at that
# moment, split into anonymous memory (the Go heap, stacks, runtime) and
# file pages (bolt's mmap'd database pages, counted as they are touched).
#
# Each row also shows the CPU time a message cost: the server's (user and
# system, from /proc/<pid>/stat, over its whole run) and, for the targets
# on Redis, Redis's (INFO cpu, before and after), divided by the messages
# it answered, warm-up included. Throughput moves with whatever else the
# machine does; the CPU a message costs moves much less, so it is the
# figure to compare two builds by.
#
# Everything shares the machine's CPUs, so anything else running skews the
# figures. ROUNDS>1 repeats the whole sequence and keeps, per row, the round
# with the best throughput (noise only ever slows a run down); errors are
# summed over all rounds.
#
# Usage, from anywhere in the repository:
#   cmd/huimin-load/bench.sh
#   C=64 OPENIDS=1000 N=20000 MODES=plain TARGETS=baseline cmd/huimin-load/bench.sh
#
# Environment (defaults in brackets):
#   C ["256 32"]       concurrent connections, one load per value
#   TEXTS ["conversation question"]  what citizens write, one load per value:
#                      the six-message conversation, or a free-text question
#                      the knowledge base answers
#   OPENIDS [100000]   distinct openids
#   N [200000]         measured requests per run
#   WARMUP [2s]        unmeasured warmup per run
#   ROUNDS [1]         repetitions of the whole sequence, best round kept
#   MODES ["plain safe"]
#   TARGETS ["baseline baseline+redis bolt redis"]   the baselines need no ./cmd/huimin
#   REDIS_ADDR [127.0.0.1:6379]
#   HUIMIN_BIN []      a service binary to use instead of building ./cmd/huimin
#   KEEP [0]           1 keeps the work directory (binaries, logs, JSON reports)
set -euo pipefail

C=${C:-256 32}
TEXTS=${TEXTS:-conversation question}
OPENIDS=${OPENIDS:-100000}
N=${N:-200000}
WARMUP=${WARMUP:-2s}
ROUNDS=${ROUNDS:-1}
MODES=${MODES:-plain safe}
TARGETS=${TARGETS:-baseline baseline+redis bolt redis}
REDIS_ADDR=${REDIS_ADDR:-127.0.0.1:6379}
KEEP=${KEEP:-0}

TOKEN=benchtoken
APP_ID=wxbench0000000000
AES_KEY=abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG # 43 characters, any valid EncodingAESKey will do

redis_host=${REDIS_ADDR%:*}
redis_port=${REDIS_ADDR##*:}
redis_prefix="huiminbench:$(date +%s)$RANDOM:"

cd "$(dirname "${BASH_SOURCE[0]}")/../.." # the module root
tmp=$(mktemp -d "${TMPDIR:-/tmp}/huimin-bench.XXXXXX")
pids=()

log() { printf '%s\n' "$*" >&2; }

# uses_redis reports whether a target of this run needs Redis.
uses_redis() {
	[[ " $TARGETS " == *" redis "* || " $TARGETS " == *" baseline+redis "* ]]
}

redis_cleanup() {
	if uses_redis && command -v redis-cli >/dev/null; then
		redis-cli -h "$redis_host" -p "$redis_port" --scan --pattern "${redis_prefix}*" |
			xargs -r -d '\n' -n 500 redis-cli -h "$redis_host" -p "$redis_port" del >/dev/null || true
	fi
}

cleanup() {
	local pid
	for pid in ${pids[@]+"${pids[@]}"}; do
		kill -TERM "$pid" 2>/dev/null || true
	done
	wait 2>/dev/null || true
	redis_cleanup
	if [[ $KEEP == 1 ]]; then
		log "kept $tmp"
	else
		rm -rf "$tmp"
	fi
}
trap cleanup EXIT
trap 'exit 130' INT TERM

# free_port prints a port nobody listens on, below the ephemeral range so the
# load's own connections cannot take it.
free_port() {
	local p
	for _ in $(seq 100); do
		p=$((20000 + RANDOM % 10000))
		if ! (exec 3<>"/dev/tcp/127.0.0.1/$p") 2>/dev/null; then
			echo "$p"
			return 0
		fi
	done
	log "no free port found"
	return 1
}

# wait_ready waits for url to answer 2xx while pid is alive.
wait_ready() {
	local url=$1 pid=$2 logfile=$3
	for _ in $(seq 300); do
		if curl -fsS -o /dev/null --max-time 1 "$url" 2>/dev/null; then
			return 0
		fi
		if ! kill -0 "$pid" 2>/dev/null; then
			log "server exited before $url answered; its log:"
			cat "$logfile" >&2
			return 1
		fi
		sleep 0.1
	done
	log "timed out waiting for $url; its log:"
	tail -n 20 "$logfile" >&2
	return 1
}

# stop sends SIGTERM, waits up to 10 s for a graceful exit, then kills.
stop() {
	local pid=$1
	kill -TERM "$pid" 2>/dev/null || true
	for _ in $(seq 100); do
		kill -0 "$pid" 2>/dev/null || break
		sleep 0.1
	done
	kill -KILL "$pid" 2>/dev/null || true
	wait "$pid" 2>/dev/null || true
	forget "$pid"
}

# forget drops a finished child from the ones cleanup kills.
forget() {
	local keep=() p
	for p in ${pids[@]+"${pids[@]}"}; do
		[[ $p == "$1" ]] || keep+=("$p")
	done
	pids=(${keep[@]+"${keep[@]}"})
}

# start launches the target of a run on port and waits until it is ready.
start() {
	local mode=$1 target=$2 port=$3 logfile=$4 conns=$5
	if [[ $target == baseline* ]]; then
		local args=(baseline -addr "127.0.0.1:$port" -token "$TOKEN")
		if [[ $mode == safe ]]; then
			args+=(-aes-key "$AES_KEY" -app-id "$APP_ID")
		fi
		if [[ $target == baseline+redis ]]; then
			args+=(-redis "$REDIS_ADDR" -redis-prefix "$redis_prefix" -redis-pool "$conns")
		fi
		"$tmp/huimin-load" "${args[@]}" >"$logfile" 2>&1 &
	else
		local envs=(
			HUIMIN_HTTP_ADDR="127.0.0.1:$port"
			HUIMIN_WECHAT_APP_ID="$APP_ID"
			HUIMIN_WECHAT_APP_SECRET=benchsecret
			HUIMIN_WECHAT_TOKEN="$TOKEN"
			HUIMIN_WECHAT_API_BASE_URL=http://127.0.0.1:1 # nothing on this path should call WeChat
			HUIMIN_LOG_LEVEL=warn
		)
		if [[ $mode == safe ]]; then
			envs+=(HUIMIN_WECHAT_AES_KEY="$AES_KEY")
		fi
		if [[ $target == bolt ]]; then
			envs+=(HUIMIN_STORE_DRIVER=bolt HUIMIN_STORE_PATH="$tmp/bench-$mode.db")
		else
			envs+=(HUIMIN_STORE_DRIVER=redis HUIMIN_REDIS_ADDR="$REDIS_ADDR" HUIMIN_REDIS_PREFIX="$redis_prefix")
		fi
		env -u HUIMIN_WECHAT_AES_KEY "${envs[@]}" "$tmp/huimin" serve >"$logfile" 2>&1 &
	fi
	local pid=$!
	pids+=("$pid")
	wait_ready "http://127.0.0.1:$port/readyz" "$pid" "$logfile"
	echo "$pid"
}

# measure runs one load against one target and leaves its JSON report in
# $tmp/<load>-<mode>-<target>-<round>.json, where load is <texts>-<connections>.
measure() {
	local texts=$1 conns=$2 mode=$3 target=$4 round=$5 port pid
	local run="$texts-$conns-$mode-$target-$round"
	port=$(free_port)
	local logfile="$tmp/$mode-$target.log"
	# start runs in this shell (not a subshell) so pids stays current; it
	# prints the pid on its last line.
	start "$mode" "$target" "$port" "$logfile" "$conns" >"$tmp/pid"
	pid=$(tail -n 1 "$tmp/pid")

	local args=(run -url "http://127.0.0.1:$port/wechat" -token "$TOKEN"
		-c "$conns" -texts "$texts" -openids "$OPENIDS" -n "$N" -warmup "$WARMUP" -label "$texts/$conns/$mode/$target" -json)
	if [[ $mode == safe ]]; then
		args+=(-aes-key "$AES_KEY" -app-id "$APP_ID")
	fi
	# In the background so that a signal to this script runs the trap at once
	# instead of after the load (bash defers traps while a foreground child runs).
	local redis_before=0
	if [[ $target == *redis ]]; then
		redis_before=$(redis_cpu)
	fi
	"$tmp/huimin-load" "${args[@]}" >"$tmp/$run.json" 2>>"$tmp/load.log" &
	local load_pid=$!
	pids+=("$load_pid")
	wait "$load_pid"
	forget "$load_pid"
	record_memory "$pid" "$tmp/$run.json"
	record_cpu "$pid" "$target" "$redis_before" "$tmp/$run.json"
	stop "$pid"
	if [[ $target == *redis ]]; then
		redis_cleanup
	fi
	rm -f "$tmp/bench-$mode.db"
	jq -r '"\(.label): \(.throughput_rps | floor) req/s, \(.cpu_us_per_message | round) µs CPU a message (server \(.server_cpu_s * 100 | round / 100) s, Redis \(.redis_cpu_s * 100 | round / 100) s), p50 \(.latency_ms.p50 * 100 | round / 100) ms, p99 \(.latency_ms.p99 * 100 | round / 100) ms, \(.errors) errors \(.error_kinds), peak RSS \((.server_memory_kib.VmHWM // 0) / 1024 | floor) MiB (at the end: anon \((.server_memory_kib.RssAnon // 0) / 1024 | floor) MiB, file \((.server_memory_kib.RssFile // 0) / 1024 | floor) MiB)"' \
		"$tmp/$run.json" >&2
}

# record_memory adds the server's memory figures (kiB, from
# /proc/<pid>/status) to a run's JSON report as server_memory_kib: VmHWM,
# the peak resident set since the server started, and VmRSS, RssAnon and
# RssFile, what is resident now.
record_memory() {
	local pid=$1 report=$2 mem
	mem=$(awk '$1 ~ /^(VmHWM|VmRSS|RssAnon|RssFile):$/ { printf "%s\"%s\": %d", sep, substr($1, 1, length($1) - 1), $2; sep = ", " }' \
		"/proc/$pid/status" 2>/dev/null || true)
	jq --argjson mem "{${mem}}" '. + {server_memory_kib: $mem}' "$report" >"$report.tmp" && mv "$report.tmp" "$report"
}

# redis_cpu prints the CPU seconds Redis has used since it started.
redis_cpu() {
	redis-cli -h "$redis_host" -p "$redis_port" info cpu | tr -d '\r' |
		awk -F: '$1 == "used_cpu_sys" || $1 == "used_cpu_user" { s += $2 } END { printf "%.3f", s }'
}

# record_cpu adds to a run's report the server's CPU seconds (its whole
# life: start, warm-up, load), Redis's over the run for a Redis target,
# and what that is per message answered (warm-up included).
record_cpu() {
	local pid=$1 target=$2 redis_before=$3 report=$4 ticks server redis=0
	ticks=$(getconf CLK_TCK)
	server=$(awk -v t="$ticks" '{ printf "%.3f", ($14 + $15) / t }' "/proc/$pid/stat")
	if [[ $target == *redis ]]; then
		redis=$(awk -v a="$(redis_cpu)" -v b="$redis_before" 'BEGIN { printf "%.3f", a - b }')
	fi
	jq --argjson server "$server" --argjson redis "$redis" \
		'. + {server_cpu_s: $server, redis_cpu_s: $redis, cpu_us_per_message: (($server + $redis) * 1e6 / (.requests + .warmup_requests))}' \
		"$report" >"$report.tmp" && mv "$report.tmp" "$report"
}

for tool in go jq curl; do
	command -v "$tool" >/dev/null || { log "bench.sh needs $tool"; exit 1; }
done
if uses_redis; then
	command -v redis-cli >/dev/null || { log "bench.sh needs redis-cli for the redis target"; exit 1; }
	redis-cli -h "$redis_host" -p "$redis_port" ping >/dev/null || { log "no Redis at $REDIS_ADDR"; exit 1; }
fi

log "building into $tmp"
go build -o "$tmp/huimin-load" ./cmd/huimin-load
if [[ -n ${HUIMIN_BIN:-} ]]; then
	cp "$HUIMIN_BIN" "$tmp/huimin"
elif [[ " $TARGETS " == *" bolt "* || " $TARGETS " == *" redis "* ]]; then
	go build -o "$tmp/huimin" ./cmd/huimin
fi

loads=()
for texts in $TEXTS; do
	for conns in $C; do
		loads+=("$texts-$conns")
	done
done
for round in $(seq "$ROUNDS"); do
	for load in "${loads[@]}"; do
		for mode in $MODES; do
			for target in $TARGETS; do
				measure "${load%-*}" "${load##*-}" "$mode" "$target" "$round"
			done
		done
	done
done

# best prints the report of the round with the best throughput.
best() {
	jq -r '"\(.throughput_rps) \(input_filename)"' "$tmp/$1-$2-$3"-*.json | sort -gr | head -n 1 | cut -d ' ' -f 2
}

# The table. Ratios compare with the baseline of the same load and mode.
failed=0
printf '\n%s openids, %s requests per run (warmup %s), best of %s; %s CPUs, %s\n\n' \
	"$OPENIDS" "$N" "$WARMUP" "$ROUNDS" "$(nproc)" "$(go env GOVERSION)"
echo '| texts | connections | mode | target | throughput (req/s) | p50 (ms) | p99 (ms) | errors | peak RSS (MiB) | CPU µs / message | throughput / baseline | p99 / baseline | result |'
echo '|---|---:|---|---|---:|---:|---:|---:|---:|---:|---:|---:|---|'
for load in "${loads[@]}"; do
	for mode in $MODES; do
		base=
		if [[ " $TARGETS " == *" baseline "* ]]; then
			base=$(best "$load" "$mode" baseline)
		fi
		for target in $TARGETS; do
			f=$(best "$load" "$mode" "$target")
			read -r thr p50 p99 cpu < <(jq -r '"\(.throughput_rps) \(.latency_ms.p50) \(.latency_ms.p99) \(.cpu_us_per_message)"' "$f")
			errs=$(jq -s 'map(.errors) | add' "$tmp/$load-$mode-$target"-*.json)
			rss=$(jq -rs 'map(.server_memory_kib.VmHWM // empty) | if length == 0 then "n/a" else max / 1024 | floor end' "$tmp/$load-$mode-$target"-*.json)
			thr_ratio=n/a p99_ratio=n/a
			verdict=PASS
			if [[ $errs != 0 ]]; then
				verdict=FAIL
			fi
			if [[ -n $base ]]; then
				read -r bthr bp99 < <(jq -r '"\(.throughput_rps) \(.latency_ms.p99)"' "$base")
				thr_ratio=$(awk -v a="$thr" -v b="$bthr" 'BEGIN { printf "%.2f", a / b }')
				p99_ratio=$(awk -v a="$p99" -v b="$bp99" 'BEGIN { printf "%.2f", a / b }')
				least=
				case $target in
				redis) least=0.6 ;;
				bolt) least=0.4 ;;
				esac
				if [[ $target == baseline+redis ]]; then
					[[ $verdict == FAIL ]] || verdict=reference
				elif awk -v r="$p99_ratio" 'BEGIN { exit !(r > 1.5) }'; then
					verdict=FAIL
				fi
				if [[ -n $least ]] && awk -v r="$thr_ratio" -v l="$least" 'BEGIN { exit !(r < l) }'; then
					verdict=FAIL
				fi
			fi
			if [[ $verdict == FAIL ]]; then
				failed=1
			fi
			printf '| %s | %s | %s | %s | %.0f | %.2f | %.2f | %s | %s | %.0f | %s | %s | %s |\n' \
				"${load%-*}" "${load##*-}" "$mode" "$target" "$thr" "$p50" "$p99" "$errs" "$rss" "$cpu" "$thr_ratio" "$p99_ratio" "$verdict"
		done
	done
done
exit "$failed"
