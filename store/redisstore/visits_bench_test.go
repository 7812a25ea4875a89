package redisstore_test

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"huimin/store"
	"huimin/store/redisstore"
)

// The return-visit targets of issue 8, measured on Redis: with 1,000,000
// pending return visits, scheduling one more stays O(log n); a sweep that
// finds 10,000 due visits has them claimed exactly once by 4 instances
// within 1 s of falling due; a pending visit costs ≤ 500 bytes in Redis.
//
// Run them with
//
//	go test -run '^$' -bench 'ScheduleVisit|SweepTenThousandDue' -benchtime 1x ./store/redisstore/
//
// -benchtime 1x makes one sweep; it also leaves BenchmarkScheduleVisit's
// b.Loop a single Schedule, so that benchmark first times a fixed sample
// of 10,000 serial Schedules (sample-ns/visit, p99-ns/visit) whatever the
// benchtime. Each benchmark fills a queue of its own under a key prefix of
// its own, and UNLINKs it at the end.

// The desk's timer queue and its return-visit items, shaped as
// desk/deadline.go shapes them.
const (
	visitQueue = "visit"      // desk.VisitQueue
	visitKind  = "desk.visit" // desk.TimerVisit
)

// The runner's settings for the desk queue (cmd/huimin/app.go): batch 32,
// lease 2 min, one worker per instance.
const (
	visitBatch = 32
	visitLease = 2 * time.Minute
)

const (
	// pendingVisits is issue 8's backlog of pending return visits.
	pendingVisits = 1_000_000
	// dueVisits is the sweep's due visits and sweepInstances its claimers.
	dueVisits      = 10_000
	sweepInstances = 4
	// fillWorkers schedule a fill side by side; the store's queue batcher
	// pipelines their concurrent Schedules.
	fillWorkers = 128
	// visitsPerDay spreads the tickets over days: ticket numbers are
	// MZ<yyyymmdd>-<seq>, seq counting within the day.
	visitsPerDay = 2000
)

// visitDay0 is the first day of the tickets; visitFar is where pending
// visits fall due (they never do during a benchmark).
var (
	visitDay0 = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)
	visitFar  = time.Date(2099, 1, 1, 0, 0, 0, 0, time.UTC)
)

// visitTimer is the JSON the desk stores for a return visit (desk.timer,
// with the fields a visit leaves empty omitted).
type visitTimer struct {
	Kind   string `json:"kind"`
	Ticket string `json:"ticket"`
	Round  int    `json:"round,omitempty"`
}

// visitItem is return visit number i, due at due: ticket numbers vary by
// day and sequence, and one visit in ten is a second round.
func visitItem(i int, due time.Time) store.DueItem {
	day := visitDay0.AddDate(0, 0, i/visitsPerDay)
	ticket := fmt.Sprintf("MZ%s-%04d", day.Format("20060102"), i%visitsPerDay+1)
	round := 1
	if i%10 == 9 {
		round = 2
	}
	p, err := json.Marshal(visitTimer{Kind: visitKind, Ticket: ticket, Round: round})
	if err != nil {
		panic(err) // cannot happen: plain strings and an int
	}
	return store.DueItem{
		ID:      visitKind + ":" + ticket + ":" + strconv.Itoa(round),
		Kind:    visitKind,
		Due:     due,
		Payload: p,
	}
}

// farDue is a pending visit's due time: a scrambled second within about
// 190 days from visitFar, so inserts land all over the sorted set.
func farDue(i int) time.Time {
	s := (uint64(i) * 0x9E3779B97F4A7C15) >> 40 // 24 bits of seconds
	return visitFar.Add(time.Duration(s) * time.Second)
}

// fillVisits schedules visits number from to from+n-1 on s, fillWorkers at
// a time, each due at due(i), and fails unless every one was added.
func fillVisits(b *testing.B, s *redisstore.Store, from, n int, due func(i int) time.Time) time.Duration {
	b.Helper()
	ctx := context.Background()
	start := time.Now()
	var (
		next    atomic.Int64
		added   atomic.Int64
		errOnce sync.Once
		firstEr error
		wg      sync.WaitGroup
	)
	next.Store(int64(from))
	end := int64(from + n)
	for range fillWorkers {
		wg.Go(func() {
			for {
				i := next.Add(1) - 1
				if i >= end {
					return
				}
				ok, err := s.Schedule(ctx, visitQueue, visitItem(int(i), due(int(i))))
				if err != nil {
					errOnce.Do(func() { firstEr = err })
					next.Store(end) // stop the others
					return
				}
				if ok {
					added.Add(1)
				}
			}
		})
	}
	wg.Wait()
	if firstEr != nil {
		b.Fatalf("fill visits %d..%d: %v", from, from+n-1, firstEr)
	}
	if got := added.Load(); got != int64(n) {
		b.Fatalf("fill visits %d..%d: %d added, want %d", from, from+n-1, got, n)
	}
	return time.Since(start)
}

// newVisitPrefix returns a key prefix of the benchmark's own and UNLINKs
// its keys when the benchmark ends: a queue of a million items is three
// big keys, which DEL would free in Redis's main thread.
func newVisitPrefix(b *testing.B, rdb goredis.UniversalClient) string {
	b.Helper()
	prefix := fmt.Sprintf("huimintest:visits:%016x:", rand.Uint64())
	b.Cleanup(func() {
		if err := unlinkPrefix(context.Background(), rdb, prefix); err != nil {
			b.Errorf("unlink %s*: %v", prefix, err)
		}
	})
	return prefix
}

// unlinkPrefix UNLINKs every key under prefix, one SCAN page at a time;
// on a cluster, on every master.
func unlinkPrefix(ctx context.Context, rdb goredis.UniversalClient, prefix string) error {
	if cc, ok := rdb.(*goredis.ClusterClient); ok {
		return cc.ForEachMaster(ctx, func(ctx context.Context, node *goredis.Client) error {
			return unlinkNode(ctx, node, prefix)
		})
	}
	return unlinkNode(ctx, rdb, prefix)
}

// unlinkNode UNLINKs the keys under prefix on one server, in batches of a
// SCAN page, one UNLINK per key in a pipeline (several keys in one UNLINK
// would fail on a cluster with CROSSSLOT).
func unlinkNode(ctx context.Context, rdb goredis.Cmdable, prefix string) error {
	var cursor uint64
	for {
		keys, next, err := rdb.Scan(ctx, cursor, prefix+"*", 1000).Result()
		if err != nil {
			return err
		}
		if len(keys) > 0 {
			if _, err := rdb.Pipelined(ctx, func(p goredis.Pipeliner) error {
				for _, k := range keys {
					p.Unlink(ctx, k)
				}
				return nil
			}); err != nil {
				return err
			}
		}
		if next == 0 {
			return nil
		}
		cursor = next
	}
}

// infoField returns field of an INFO section as an integer.
func infoField(ctx context.Context, rdb goredis.UniversalClient, section, field string) (int64, error) {
	info, err := rdb.Info(ctx, section).Result()
	if err != nil {
		return 0, err
	}
	for line := range strings.SplitSeq(info, "\n") {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), field+":"); ok {
			return strconv.ParseInt(v, 10, 64)
		}
	}
	return 0, fmt.Errorf("INFO %s has no %s", section, field)
}

// waitLazyFree waits, up to a minute, until Redis has no UNLINKed objects
// left to free in the background.
func waitLazyFree(b *testing.B, rdb goredis.UniversalClient) {
	b.Helper()
	ctx := context.Background()
	for end := time.Now().Add(time.Minute); ; time.Sleep(50 * time.Millisecond) {
		n, err := infoField(ctx, rdb, "memory", "lazyfree_pending_objects")
		if err != nil {
			b.Fatalf("INFO memory: %v", err)
		}
		if n == 0 {
			return
		}
		if time.Now().After(end) {
			b.Fatalf("Redis still has %d objects to free after a minute", n)
		}
	}
}

// evalshaStats returns the server's EVALSHA calls and the µs spent in
// them, from INFO commandstats.
func evalshaStats(ctx context.Context, rdb goredis.UniversalClient) (calls, usec int64, err error) {
	info, err := rdb.Info(ctx, "commandstats").Result()
	if err != nil {
		return 0, 0, err
	}
	for line := range strings.SplitSeq(info, "\n") {
		rest, ok := strings.CutPrefix(strings.TrimSpace(line), "cmdstat_evalsha:")
		if !ok {
			continue
		}
		for f := range strings.SplitSeq(rest, ",") {
			k, v, _ := strings.Cut(f, "=")
			switch k {
			case "calls":
				calls, err = strconv.ParseInt(v, 10, 64)
			case "usec":
				usec, err = strconv.ParseInt(v, 10, 64)
			}
			if err != nil {
				return 0, 0, err
			}
		}
		return calls, usec, nil
	}
	return 0, 0, nil
}

// queueKeys are the keys of the visit queue under prefix (see keys.go).
func queueKeys(prefix string) []string {
	tag := prefix + "{q:" + visitQueue + "}"
	return []string{tag + ":due", tag + ":items", tag + ":att"}
}

// scheduleSample is how many Schedules BenchmarkScheduleVisit times one by
// one, whatever b.N is.
const scheduleSample = 10_000

// scheduleNsEmpty is BenchmarkScheduleVisit/pending=0's mean ns per
// Schedule of its sample, and scheduleServerEmpty Redis's ns per EVALSHA
// meanwhile, for the ratios pending=1000000 reports.
var scheduleNsEmpty, scheduleServerEmpty float64

// BenchmarkScheduleVisit schedules one more return visit, serially, on a
// queue that already holds 0 or 1,000,000 pending ones: ns/op is b.Loop's,
// sample-ns/visit the mean of a fixed sample (see above), server-ns/visit
// Redis's own time per EVALSHA meanwhile; at 1M, x-vs-empty and
// server-x-vs-empty are the ratios to pending=0, which O(log n) keeps
// near 1. The 1M case also measures the memory a pending visit takes:
// B/visit from used_memory before and after the fill (other keys' changes
// meanwhile count too), keyB/visit from MEMORY USAGE of the queue's keys.
func BenchmarkScheduleVisit(b *testing.B) {
	for _, pending := range []int{0, pendingVisits} {
		b.Run("pending="+strconv.Itoa(pending), func(b *testing.B) {
			if pending > 0 && testing.Short() {
				b.Skip("fills a million items; skipped in -short")
			}
			benchScheduleVisit(b, pending)
		})
	}
}

func benchScheduleVisit(b *testing.B, pending int) {
	rdb := newClient(b)
	prefix := newVisitPrefix(b, rdb)
	s := redisstore.New(rdb, redisstore.Options{Prefix: prefix})
	b.Cleanup(func() { _ = s.Close() })
	ctx := context.Background()

	if pending > 0 {
		// A queue UNLINKed just before (an earlier -count run's) is freed
		// in the background: wait for that, or it shrinks the difference.
		waitLazyFree(b, rdb)
		before, err := infoField(ctx, rdb, "memory", "used_memory")
		if err != nil {
			b.Fatalf("INFO memory: %v", err)
		}
		took := fillVisits(b, s, 0, pending, farDue)
		after, err := infoField(ctx, rdb, "memory", "used_memory")
		if err != nil {
			b.Fatalf("INFO memory: %v", err)
		}
		var keyBytes int64
		for _, k := range queueKeys(prefix) {
			n, err := rdb.MemoryUsage(ctx, k, 0).Result() // SAMPLES 0: every element
			if errors.Is(err, goredis.Nil) {
				continue // att, before anything is claimed
			}
			if err != nil {
				b.Fatalf("MEMORY USAGE %s: %v", k, err)
			}
			keyBytes += n
		}
		b.Logf("filled %d pending visits in %v (%.0f/s); used_memory %d → %d (+%d B); MEMORY USAGE of the queue keys %d B",
			pending, took.Round(time.Millisecond), float64(pending)/took.Seconds(), before, after, after-before, keyBytes)
		b.ReportMetric(float64(after-before)/float64(pending), "B/visit")
		b.ReportMetric(float64(keyBytes)/float64(pending), "keyB/visit")
		b.ReportMetric(took.Seconds(), "fill-s")
	}

	// Visits scheduled from here on: numbered after the fill, due like it.
	next := pending + 1_000_000_000
	schedule := func() {
		if _, err := s.Schedule(ctx, visitQueue, visitItem(next, farDue(next))); err != nil {
			b.Fatalf("Schedule: %v", err)
		}
		next++
	}
	// Warm up: the script loaded, the connection open.
	for range 200 {
		schedule()
	}
	// A fixed sample first, so the figures mean something under
	// -benchtime 1x too, which gives b.Loop a single iteration.
	calls0, usec0, err := evalshaStats(ctx, rdb)
	if err != nil {
		b.Fatalf("INFO commandstats: %v", err)
	}
	lat := make([]time.Duration, scheduleSample)
	sampleStart := time.Now()
	for i := range lat {
		t0 := time.Now()
		schedule()
		lat[i] = time.Since(t0)
	}
	sample := float64(time.Since(sampleStart).Nanoseconds()) / scheduleSample
	calls1, usec1, err := evalshaStats(ctx, rdb)
	if err != nil {
		b.Fatalf("INFO commandstats: %v", err)
	}
	slices.Sort(lat)
	p50, p99 := lat[len(lat)/2], lat[len(lat)*99/100]
	// Redis's own time per EVALSHA (every client's, so only meaningful
	// while nothing else runs scripts there).
	var server float64
	if calls1 > calls0 {
		server = float64(usec1-usec0) * 1000 / float64(calls1-calls0)
	}
	b.Logf("%d serial Schedules on %d pending: mean %.0f ns, p50 %v, p99 %v; Redis %.0f ns per EVALSHA",
		scheduleSample, pending, sample, p50, p99, server)

	for b.Loop() {
		schedule()
	}

	b.ReportMetric(sample, "sample-ns/visit")
	b.ReportMetric(float64(p99.Nanoseconds()), "p99-ns/visit")
	if server > 0 {
		b.ReportMetric(server, "server-ns/visit")
	}
	if pending == 0 {
		scheduleNsEmpty, scheduleServerEmpty = sample, server
	} else {
		if scheduleNsEmpty > 0 {
			b.ReportMetric(sample/scheduleNsEmpty, "x-vs-empty")
		}
		if scheduleServerEmpty > 0 && server > 0 {
			b.ReportMetric(server/scheduleServerEmpty, "server-x-vs-empty")
		}
	}
}

// sweepClaim is one claim an instance made.
type sweepClaim struct {
	id      string
	attempt int
}

// BenchmarkSweepTenThousandDue: 1,000,000 pending visits and 10,000 that
// fall due at one instant; 4 instances (a store and a go-redis client
// each, as 4 processes would have) claim 32 at a time with a 2-minute
// lease and Ack each claimed item, one after another as the desk queue's
// single worker does, until nothing is due. The timed part is from the
// instant the visits fall due (the instances start claiming) to the last
// Ack; every due visit must be claimed exactly once, at attempt 1.
//
// The instances' clock starts at the due instant and runs with the wall
// clock, so the leases they take are real 2-minute ones. A runner only
// looks at the queue every poll interval, which comes on top of this.
func BenchmarkSweepTenThousandDue(b *testing.B) {
	if testing.Short() {
		b.Skip("fills a million items; skipped in -short")
	}
	rdb := newClient(b)
	prefix := newVisitPrefix(b, rdb)
	filler := redisstore.New(rdb, redisstore.Options{Prefix: prefix})
	b.Cleanup(func() { _ = filler.Close() })
	ctx := context.Background()

	took := fillVisits(b, filler, 0, pendingVisits, farDue)
	b.Logf("filled %d pending visits in %v", pendingVisits, took.Round(time.Millisecond))

	instances := make([]*redisstore.Store, sweepInstances)
	for i := range instances {
		c := goredis.NewClient(&goredis.Options{Addr: redisAddr()})
		s := redisstore.New(c, redisstore.Options{Prefix: prefix})
		b.Cleanup(func() {
			_ = s.Close()
			_ = c.Close()
		})
		if err := s.Ping(ctx); err != nil {
			b.Fatalf("instance %d: %v", i, err)
		}
		instances[i] = s
	}

	var (
		sweeps     int
		total      time.Duration
		worst      time.Duration
		perInst    = make([]int, sweepInstances)
		claimsInst = make([]int, sweepInstances)
		from       = pendingVisits
	)
	for b.Loop() {
		b.StopTimer()
		// The due visits of this sweep, all at one instant an hour ahead:
		// nothing is due before the instances' clock says so.
		at := time.Now().Add(time.Hour).Truncate(time.Microsecond)
		fillVisits(b, filler, from, dueVisits, func(int) time.Time { return at })
		want := make(map[string]bool, dueVisits)
		for i := from; i < from+dueVisits; i++ {
			want[visitItem(i, at).ID] = true
		}
		from += dueVisits
		st, err := filler.QueueStats(ctx, visitQueue, at)
		if err != nil {
			b.Fatalf("QueueStats: %v", err)
		}
		if st.Due != dueVisits || st.Total != pendingVisits+dueVisits {
			b.Fatalf("before the sweep: %+v, want %d due of %d", st, dueVisits, pendingVisits+dueVisits)
		}

		got := make([][]sweepClaim, sweepInstances)
		claims := make([]int, sweepInstances)
		errs := make([]error, sweepInstances)
		var wg sync.WaitGroup
		b.StartTimer()
		start := time.Now()
		for n, s := range instances {
			wg.Go(func() {
				for {
					now := at.Add(time.Since(start))
					items, err := s.Claim(ctx, visitQueue, now, visitBatch, visitLease)
					claims[n]++
					if err != nil {
						errs[n] = fmt.Errorf("instance %d: claim: %w", n, err)
						return
					}
					if len(items) == 0 {
						return
					}
					for _, it := range items {
						got[n] = append(got[n], sweepClaim{it.ID, it.Attempt})
						if err := s.Ack(ctx, visitQueue, it.ID, it.Attempt); err != nil {
							errs[n] = fmt.Errorf("instance %d: ack %s attempt %d: %w", n, it.ID, it.Attempt, err)
							return
						}
					}
				}
			})
		}
		wg.Wait()
		elapsed := time.Since(start)
		b.StopTimer()
		for _, err := range errs {
			if err != nil {
				b.Fatal(err)
			}
		}

		// Exactly once: every due visit claimed by one instance, once, at
		// attempt 1, and nothing else claimed.
		seen := make(map[string]int, dueVisits)
		var dups, strays, reclaims int
		for n, cs := range got {
			perInst[n] += len(cs)
			claimsInst[n] += claims[n]
			for _, c := range cs {
				seen[c.id]++
				if seen[c.id] > 1 {
					dups++
				}
				if !want[c.id] {
					strays++
				}
				if c.attempt != 1 {
					reclaims++
				}
			}
		}
		missing := 0
		for id := range want {
			if seen[id] == 0 {
				missing++
			}
		}
		if dups > 0 || strays > 0 || reclaims > 0 || missing > 0 {
			b.Fatalf("sweep %d: %d duplicate claims, %d claims of items not due, %d claims past attempt 1, %d due visits never claimed",
				sweeps+1, dups, strays, reclaims, missing)
		}
		st, err = filler.QueueStats(ctx, visitQueue, at.Add(elapsed))
		if err != nil {
			b.Fatalf("QueueStats: %v", err)
		}
		if st.Due != 0 || st.Total != pendingVisits {
			b.Fatalf("after the sweep: %+v, want 0 due of %d", st, pendingVisits)
		}
		counts := make([]int, sweepInstances)
		for n := range got {
			counts[n] = len(got[n])
		}
		b.Logf("sweep %d: %d due visits claimed and acked once each by %d instances in %v; per instance %v; 0 duplicates",
			sweeps+1, dueVisits, sweepInstances, elapsed.Round(time.Microsecond), counts)
		sweeps++
		total += elapsed
		worst = max(worst, elapsed)
		b.StartTimer() // b.Loop wants it running
	}
	b.ReportMetric(total.Seconds()/float64(sweeps), "s/sweep")
	b.ReportMetric(worst.Seconds(), "worst-s/sweep")
	b.ReportMetric(float64(dueVisits*sweeps)/total.Seconds(), "visits/s")
	b.ReportMetric(0, "dups")
	for n := range perInst {
		b.ReportMetric(float64(perInst[n])/float64(sweeps), fmt.Sprintf("inst%d-claimed/sweep", n+1))
	}
	var c int
	for _, n := range claimsInst {
		c += n
	}
	b.ReportMetric(float64(c)/float64(sweeps), "claims/sweep")
}
