package main

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"runtime"
	"runtime/debug"
	"runtime/metrics"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/silenceper/wechat/v2/util"

	"huimin/bot"
	"huimin/config"
)

// benchToken is the WeChat token of the in-process benchmarks' account.
const benchToken = "benchtoken"

// benchService returns the whole service's HTTP handler on driver's store,
// as serve builds it, for benchmarks that post to it in process.
func benchService(b *testing.B, driver string) http.Handler {
	b.Helper()
	env := map[string]string{
		"HUIMIN_WECHAT_APP_ID":       "wxbench0000000000",
		"HUIMIN_WECHAT_APP_SECRET":   "s",
		"HUIMIN_WECHAT_TOKEN":        benchToken,
		"HUIMIN_WECHAT_API_BASE_URL": "http://127.0.0.1:1",
		"HUIMIN_STORE_DRIVER":        driver,
		"HUIMIN_STORE_PATH":          filepath.Join(b.TempDir(), "bench.db"),
		"HUIMIN_REDIS_ADDR":          testRedisAddr(),
		"HUIMIN_REDIS_PREFIX":        fmt.Sprintf("huiminbench:%d:", time.Now().UnixNano()),
	}
	cfg, err := config.Load("", func(k string) string { return env[k] })
	if err != nil {
		b.Fatal(err)
	}
	st, _, err := openStore(b.Context(), cfg)
	if err != nil {
		b.Skipf("store: %v", err)
	}
	if driver == "redis" {
		b.Cleanup(func() { deleteRedisPrefix(cfg.Redis.Addr, cfg.Redis.Prefix) })
	}
	b.Cleanup(func() { _ = st.Close() })
	log := slog.New(slog.DiscardHandler)
	reg := prometheus.NewRegistry()
	a, err := newApp(cfg, st, bot.NewMetrics(reg), log)
	if err != nil {
		b.Fatal(err)
	}
	b.Cleanup(a.webhook.Wait)
	return bot.NewHandler(st, reg, log, a.webhook)
}

// benchPost posts text from the citizen from, as WeChat would, with a MsgId
// and nonce made from seq, and checks that the answer is a passive reply.
func benchPost(h http.Handler, ts, from, text string, seq int64) error {
	nonce := strconv.FormatInt(seq, 10)
	body := "<xml><ToUserName><![CDATA[gh_bench]]></ToUserName><FromUserName><![CDATA[" + from +
		"]]></FromUserName><CreateTime>" + ts + "</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[" + text + "]]></Content><MsgId>" +
		strconv.FormatInt(1<<60+seq, 10) + "</MsgId></xml>"
	target := "/wechat?signature=" + util.Signature(benchToken, ts, nonce) + "&timestamp=" + ts + "&nonce=" + nonce + "&openid=" + from
	req, err := http.NewRequest(http.MethodPost, target, strings.NewReader(body))
	if err != nil {
		return err
	}
	w := httptest.NewRecorder()
	h.ServeHTTP(w, req)
	if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "<xml>") {
		return fmt.Errorf("answer %d %q", w.Code, w.Body.String())
	}
	return nil
}

// BenchmarkWebhook measures the whole service in process: a signed text
// message through the handler, the engine and the store, from many
// citizens at once (most of them new, as under the load generator).
// It shows the CPU and allocations per message without HTTP's network
// work; cmd/huimin-load measures the rest. gc-cpu-ns/op is the part of
// cpu-ns/op the garbage collector took (runtime/metrics' estimate).
func BenchmarkWebhook(b *testing.B) {
	for _, driver := range []string{"bolt", "redis"} {
		b.Run(driver, func(b *testing.B) {
			h := benchService(b, driver)
			defer debug.SetGCPercent(debug.SetGCPercent(serveGCPercent))
			ts := strconv.FormatInt(time.Now().Unix(), 10)
			var seq atomic.Int64
			b.ReportAllocs()
			cpu0, gc0 := processCPU(b), gcCPU()
			b.SetParallelism(64) // 128 goroutines on two CPUs
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := seq.Add(1)
					if err := benchPost(h, ts, fmt.Sprintf("o%027d", i%100000), "你好", i); err != nil {
						b.Error(err)
						return
					}
				}
			})
			b.ReportMetric(float64(processCPU(b)-cpu0)/float64(b.N), "cpu-ns/op")
			b.ReportMetric((gcCPU()-gc0)*1e9/float64(b.N), "gc-cpu-ns/op")
		})
	}
}

// BenchmarkLiveHeap measures what the service keeps on its heap for the
// conversations it has open: each op is one citizen who greets and picks
// a service line, and so has a conversation waiting at its first step.
// live-B/1k-conversations is the live heap after a full collection, less
// the live heap before the first of them, per 1,000 conversations. Use a
// fixed count: -benchtime 10000x.
func BenchmarkLiveHeap(b *testing.B) {
	for _, driver := range []string{"bolt", "redis"} {
		b.Run(driver, func(b *testing.B) {
			h := benchService(b, driver)
			ts := strconv.FormatInt(time.Now().Unix(), 10)
			var seq int64
			converse := func(from string) {
				for _, text := range []string{"你好", "1"} {
					seq++
					if err := benchPost(h, ts, from, text, seq); err != nil {
						b.Fatal(err)
					}
				}
			}
			// Pools, caches and lazily built tables are the service's
			// and not a conversation's: the first citizens build them.
			for i := range 100 {
				converse(fmt.Sprintf("w%027d", i))
			}
			before := liveHeap()
			b.ResetTimer()
			for i := range b.N {
				converse(fmt.Sprintf("o%027d", i))
			}
			b.StopTimer()
			after := liveHeap()
			b.ReportMetric(float64(after)/(1<<20), "live-MiB")
			b.ReportMetric((float64(after)-float64(before))*1000/float64(b.N), "live-B/1k-conversations")
		})
	}
}

// liveHeap is the heap a full collection finds live, in bytes.
func liveHeap() uint64 {
	runtime.GC()
	runtime.GC() // the first one's finalizers and sweep leave nothing behind
	s := []metrics.Sample{{Name: "/gc/heap/live:bytes"}}
	metrics.Read(s)
	return s[0].Value.Uint64()
}

// gcCPU is the CPU time the garbage collector has used, in seconds, as
// runtime/metrics estimates it.
func gcCPU() float64 {
	s := []metrics.Sample{{Name: "/cpu/classes/gc/total:cpu-seconds"}}
	metrics.Read(s)
	return s[0].Value.Float64()
}

// processCPU is the CPU time this process has used, user and system, in ns.
func processCPU(tb testing.TB) int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
