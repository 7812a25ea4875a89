package bot

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"testing/synctest"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"huimin/store"
	"huimin/store/boltstore"
	"huimin/store/redisstore"
)

// drain does, synchronously, everything due now in every queue: the
// tests' way to run the runner one step at a time.
func (r *Runner) drain(ctx context.Context) {
	r.mu.Lock()
	queues := append([]*queue(nil), r.queues...)
	r.mu.Unlock()
	for _, q := range queues {
		for {
			items, err := r.q.Claim(ctx, q.Name, r.now(), q.Batch, q.Lease)
			if err != nil {
				r.log.ErrorContext(ctx, "claim due items failed", "queue", q.Name, "err", err)
				break
			}
			r.do(ctx, q, items)
			if len(items) < q.Batch {
				break
			}
		}
	}
}

// handled records which items a handler saw, in order.
type handled struct {
	mu  sync.Mutex
	ids []string
}

func (h *handled) add(id string) {
	h.mu.Lock()
	defer h.mu.Unlock()
	h.ids = append(h.ids, id)
}

func (h *handled) count(id string) int {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := 0
	for _, v := range h.ids {
		if v == id {
			n++
		}
	}
	return n
}

func (h *handled) all() []string {
	h.mu.Lock()
	defer h.mu.Unlock()
	return append([]string(nil), h.ids...)
}

// forEachStore runs f, inside a synctest bubble, on a fresh embedded store
// and on a fresh prefix of the Redis at HUIMIN_TEST_REDIS_ADDR (default
// 127.0.0.1:6379). The Redis client is made inside the bubble, so that its
// pool belongs to it; the network calls take real time, which the fake
// clock waits for.
func forEachStore(t *testing.T, f func(t *testing.T, st DueQueue)) {
	t.Run("bolt", func(t *testing.T) {
		synctest.Test(t, func(t *testing.T) {
			st, err := boltstore.New(filepath.Join(t.TempDir(), "runner.db"), boltstore.Options{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = st.Close() })
			f(t, st)
		})
	})
	t.Run("redis", func(t *testing.T) {
		addr := os.Getenv("HUIMIN_TEST_REDIS_ADDR")
		if addr == "" {
			addr = "127.0.0.1:6379"
		}
		prefix := fmt.Sprintf("huimintest:runner:%016x:", rand.Uint64())
		t.Cleanup(func() {
			c := goredis.NewClient(&goredis.Options{Addr: addr})
			defer func() { _ = c.Close() }()
			ctx := context.Background()
			if keys, _ := c.Keys(ctx, prefix+"*").Result(); len(keys) > 0 {
				c.Del(ctx, keys...)
			}
		})
		synctest.Test(t, func(t *testing.T) {
			c := goredis.NewClient(&goredis.Options{Addr: addr})
			t.Cleanup(func() { _ = c.Close() })
			if err := c.Ping(t.Context()).Err(); err != nil {
				t.Fatalf("redis at %s: %v (start redis-server)", addr, err)
			}
			st := redisstore.New(c, redisstore.Options{Prefix: prefix})
			t.Cleanup(func() { _ = st.Close() })
			f(t, st)
		})
	})
}

// runUntilCleanup runs r until the test ends or stop is called, which
// returns once Run has.
func runUntilCleanup(t *testing.T, r *Runner) (stop func()) {
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan struct{})
	go func() { r.Run(ctx); close(done) }()
	stop = func() { cancel(); <-done }
	t.Cleanup(stop)
	return stop
}

func testLog(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelError}))
}

// TestRunnerDoesWorkWhenDue checks, on a fake clock, that an item is done
// when it falls due and not before, once, by the handler of its kind; that
// a failing handler is retried with its kind's backoff; that a panicking
// one neither stops the runner nor loses the item; and that an item of a
// kind nobody registered is put back, not dropped.
func TestRunnerDoesWorkWhenDue(t *testing.T) {
	forEachStore(t, func(t *testing.T, st DueQueue) {
		var got handled
		fails, panicked := 2, false
		r := NewRunner(st, time.Second, nil, testLog(t))
		r.Register(Queue{Name: "work", Lease: time.Minute},
			Handler{Kind: "ok", Do: func(_ context.Context, it store.DueItem) error { got.add(it.ID); return nil }},
			Handler{Kind: "flaky", Retry: Retry{First: 10 * time.Second}, Do: func(_ context.Context, it store.DueItem) error {
				got.add(it.ID)
				if fails > 0 {
					fails--
					return errors.New("wechat unreachable")
				}
				return nil
			}},
			Handler{Kind: "panics", Do: func(_ context.Context, it store.DueItem) error {
				got.add(it.ID)
				if !panicked {
					panicked = true
					panic("bug")
				}
				return nil
			}},
		)
		stop := runUntilCleanup(t, r)
		ctx := t.Context()
		now := time.Now()
		for _, it := range []store.DueItem{
			{ID: "later", Kind: "ok", Due: now.Add(time.Hour)},
			{ID: "flaky", Kind: "flaky", Due: now.Add(time.Minute)},
			{ID: "panics", Kind: "panics", Due: now.Add(time.Minute)},
			{ID: "unknown", Kind: "survey.visit", Due: now.Add(time.Minute)},
		} {
			if _, err := st.Schedule(ctx, "work", it); err != nil {
				t.Fatal(err)
			}
		}
		time.Sleep(time.Minute + 5*time.Second) // due, claimed at the next poll; the first retry 10 s later
		synctest.Wait()
		if n := got.count("flaky"); n != 1 {
			t.Errorf("flaky item tried %d times 5 s after it fell due, want 1 (the retry waits 10 s)", n)
		}
		time.Sleep(10 * time.Second) // first retry (after 10 s), the second waits 20 s
		synctest.Wait()
		if n := got.count("flaky"); n != 2 {
			t.Errorf("flaky item tried %d times after 10 s more, want 2", n)
		}
		time.Sleep(20 * time.Second)
		synctest.Wait()
		if n := got.count("flaky"); n != 3 {
			t.Errorf("flaky item tried %d times, want 3 (two failures retried with backoff)", n)
		}
		if n := got.count("panics"); n != 2 {
			t.Errorf("panicking item tried %d times, want 2 (the panic retried)", n)
		}
		if n := got.count("later"); n != 0 {
			t.Errorf("done %d times before it was due", n)
		}
		time.Sleep(time.Hour)
		synctest.Wait()
		if n := got.count("later"); n != 1 {
			t.Errorf("done %d times after it fell due, want once", n)
		}
		stats, err := st.QueueStats(ctx, "work", time.Now())
		if err != nil || stats.Total != 1 {
			t.Errorf("queue = %+v, %v; want only the item of an unknown kind left", stats, err)
		}
		// A newer instance that knows the kind takes it once it is back.
		stop()
		var visits handled
		newer := NewRunner(st, time.Second, nil, testLog(t))
		newer.Register(Queue{Name: "work"}, Handler{Kind: "survey.visit", Do: func(_ context.Context, it store.DueItem) error { visits.add(it.ID); return nil }})
		runUntilCleanup(t, newer)
		time.Sleep(unknownKindDelay)
		synctest.Wait()
		if n := visits.count("unknown"); n != 1 {
			t.Errorf("an instance knowing the kind did it %d times, want once", n)
		}
	})
}

// TestRunnerLeaseGivesWorkToAnotherInstance checks that an item claimed by
// an instance that dies (never acknowledges) is done by another instance
// once its lease ends, and only once.
func TestRunnerLeaseGivesWorkToAnotherInstance(t *testing.T) {
	forEachStore(t, func(t *testing.T, st DueQueue) {
		var dead, alive handled
		// The first instance claims the item and "dies": its handler
		// never returns.
		stuck := make(chan struct{})
		r1 := NewRunner(st, time.Second, nil, testLog(t))
		r1.Register(Queue{Name: "work", Lease: 5 * time.Minute},
			Handler{Kind: "k", Do: func(_ context.Context, it store.DueItem) error { dead.add(it.ID); <-stuck; return nil }})
		r2 := NewRunner(st, time.Second, nil, testLog(t))
		r2.Register(Queue{Name: "work", Lease: 5 * time.Minute},
			Handler{Kind: "k", Do: func(_ context.Context, it store.DueItem) error { alive.add(it.ID); return nil }})
		ctx := t.Context()
		if _, err := st.Schedule(ctx, "work", store.DueItem{ID: "x", Kind: "k", Due: time.Now()}); err != nil {
			t.Fatal(err)
		}
		runUntilCleanup(t, r1)
		t.Cleanup(func() { close(stuck) }) // before r1 is stopped: Run waits for its batch
		synctest.Wait()
		if dead.count("x") != 1 {
			t.Fatalf("first instance claimed it %d times, want 1", dead.count("x"))
		}
		runUntilCleanup(t, r2)
		time.Sleep(4 * time.Minute)
		synctest.Wait()
		if alive.count("x") != 0 {
			t.Errorf("before the lease ended the second instance did it %d times, want 0", alive.count("x"))
		}
		time.Sleep(2 * time.Minute)
		synctest.Wait()
		if alive.count("x") != 1 {
			t.Errorf("after the lease the second instance did it %d times, want once", alive.count("x"))
		}
		time.Sleep(time.Hour)
		synctest.Wait()
		if alive.count("x") != 1 || dead.count("x") != 1 {
			t.Errorf("done %d + %d times in all, want 1 + 1", dead.count("x"), alive.count("x"))
		}
	})
}

// TestRunnerClaimsOnceAcrossInstances checks that items due at once are
// each done exactly once by three instances polling the same store.
func TestRunnerClaimsOnceAcrossInstances(t *testing.T) {
	forEachStore(t, func(t *testing.T, st DueQueue) {
		var got handled
		for range 3 {
			r := NewRunner(st, time.Second, nil, testLog(t))
			r.Register(Queue{Name: "work", Batch: 3, Workers: 2},
				Handler{Kind: "k", Do: func(_ context.Context, it store.DueItem) error { got.add(it.ID); return nil }})
			runUntilCleanup(t, r)
		}
		ctx := t.Context()
		for i := range 40 {
			if _, err := st.Schedule(ctx, "work", store.DueItem{ID: fmt.Sprint(i), Kind: "k", Due: time.Now().Add(time.Minute)}); err != nil {
				t.Fatal(err)
			}
		}
		time.Sleep(2 * time.Minute)
		synctest.Wait()
		ids := got.all()
		if len(ids) != 40 {
			t.Errorf("done %d times, want 40", len(ids))
		}
		for i := range 40 {
			if n := got.count(fmt.Sprint(i)); n != 1 {
				t.Errorf("item %d done %d times, want once", i, n)
			}
		}
	})
}

// TestRunnerGivesUp checks the final-failure hook: after MaxAttempts, or
// at once for a Permanent error, the kind's GiveUp is told and the item
// leaves the queue.
func TestRunnerGivesUp(t *testing.T) {
	forEachStore(t, func(t *testing.T, st DueQueue) {
		var tries, gaveUp handled
		r := NewRunner(st, time.Second, nil, testLog(t))
		r.Register(Queue{Name: "work"}, Handler{
			Kind:  "k",
			Retry: Retry{MaxAttempts: 3},
			Do: func(_ context.Context, it store.DueItem) error {
				tries.add(it.ID)
				if string(it.Payload) == "malformed" {
					return Permanent(errors.New("cannot decode"))
				}
				return errors.New("down")
			},
			GiveUp: func(_ context.Context, it store.DueItem, err error) { gaveUp.add(it.ID + ": " + err.Error()) },
		})
		runUntilCleanup(t, r)
		ctx := t.Context()
		for _, it := range []store.DueItem{{ID: "down", Kind: "k"}, {ID: "bad", Kind: "k", Payload: []byte("malformed")}} {
			it.Due = time.Now()
			if _, err := r.Schedule(ctx, "work", it); err != nil {
				t.Fatal(err)
			}
		}
		time.Sleep(time.Hour)
		synctest.Wait()
		if tries.count("down") != 3 || tries.count("bad") != 1 {
			t.Errorf("tried down %d, bad %d times; want 3, 1", tries.count("down"), tries.count("bad"))
		}
		if got, want := strings.Join(gaveUp.all(), "|"), "bad: cannot decode|down: down"; got != want {
			t.Errorf("given up: %q, want %q", got, want)
		}
		if stats, err := st.QueueStats(ctx, "work", time.Now()); err != nil || stats.Total != 0 {
			t.Errorf("queue = %+v, %v; want empty", stats, err)
		}
	})
}

// TestRunnerWakesForItsOwnWork checks that work this process schedules is
// done when it falls due, not at the next poll, while work another process
// schedules waits for the poll.
func TestRunnerWakesForItsOwnWork(t *testing.T) {
	forEachStore(t, func(t *testing.T, st DueQueue) {
		done := map[string]time.Time{}
		var mu sync.Mutex
		r := NewRunner(st, time.Second, nil, testLog(t))
		r.Register(Queue{Name: "work", Poll: time.Hour}, Handler{Kind: "k", Do: func(_ context.Context, it store.DueItem) error {
			mu.Lock()
			defer mu.Unlock()
			done[it.ID] = time.Now()
			return nil
		}})
		runUntilCleanup(t, r)
		synctest.Wait() // the first look, at start
		ctx := t.Context()
		start := time.Now()
		if _, err := r.Schedule(ctx, "work", store.DueItem{ID: "now", Kind: "k", Due: start}); err != nil {
			t.Fatal(err)
		}
		if _, err := r.Schedule(ctx, "work", store.DueItem{ID: "soon", Kind: "k", Due: start.Add(10 * time.Minute)}); err != nil {
			t.Fatal(err)
		}
		synctest.Wait() // "now" is done
		if _, err := st.Schedule(ctx, "work", store.DueItem{ID: "other", Kind: "k", Due: start}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(2 * time.Hour)
		synctest.Wait()
		mu.Lock()
		defer mu.Unlock()
		if got := done["now"].Sub(start); got != 0 {
			t.Errorf("item due now done after %s, want at once", got)
		}
		if got := done["soon"].Sub(start); got != 10*time.Minute {
			t.Errorf("item due in 10m done after %s, want 10m", got)
		}
		if got := done["other"].Sub(start); got != 10*time.Minute {
			t.Errorf("another process's item done after %s, want 10m (found by the look for 'soon')", got)
		}
	})
}

// TestRunnerSerialKeepsOrder checks that items of one Serial key are done
// in due order, one at a time, while other keys run beside them.
func TestRunnerSerialKeepsOrder(t *testing.T) {
	forEachStore(t, func(t *testing.T, st DueQueue) {
		var mu sync.Mutex
		byKey := map[string][]string{}
		running, most := 0, 0
		r := NewRunner(st, time.Second, nil, testLog(t))
		r.Register(Queue{Name: "work", Workers: 3, Serial: func(it store.DueItem) string { return string(it.Payload) }},
			Handler{Kind: "k", Do: func(_ context.Context, it store.DueItem) error {
				mu.Lock()
				running++
				most = max(most, running)
				byKey[string(it.Payload)] = append(byKey[string(it.Payload)], it.ID)
				mu.Unlock()
				time.Sleep(time.Second)
				mu.Lock()
				running--
				mu.Unlock()
				return nil
			}})
		ctx := t.Context()
		start := time.Now()
		for i := range 12 {
			key := fmt.Sprint("to", i%4)
			if _, err := st.Schedule(ctx, "work", store.DueItem{ID: fmt.Sprintf("m%02d", i), Kind: "k", Due: start.Add(time.Duration(i) * time.Microsecond), Payload: []byte(key)}); err != nil {
				t.Fatal(err)
			}
		}
		runUntilCleanup(t, r)
		time.Sleep(time.Minute)
		synctest.Wait()
		mu.Lock()
		defer mu.Unlock()
		if most != 3 {
			t.Errorf("at most %d items at once, want 3 (Workers)", most)
		}
		for k, ids := range byKey {
			for i := 1; i < len(ids); i++ {
				if ids[i] < ids[i-1] {
					t.Errorf("key %s done in order %v, want due order", k, ids)
				}
			}
		}
	})
}

// TestRunnerFinishesBatchOnShutdown checks that a batch in hand when the
// runner is stopped is finished and acknowledged, and nothing more is
// claimed.
func TestRunnerFinishesBatchOnShutdown(t *testing.T) {
	forEachStore(t, func(t *testing.T, st DueQueue) {
		var got handled
		release := make(chan struct{})
		r := NewRunner(st, time.Second, nil, testLog(t))
		r.Register(Queue{Name: "work", Batch: 2}, Handler{Kind: "k", Do: func(ctx context.Context, it store.DueItem) error {
			<-release
			if ctx.Err() != nil {
				return ctx.Err() // the batch must not see the shutdown
			}
			got.add(it.ID)
			return nil
		}})
		ctx := t.Context()
		for _, id := range []string{"a", "b", "c"} {
			if _, err := st.Schedule(ctx, "work", store.DueItem{ID: id, Kind: "k", Due: time.Now()}); err != nil {
				t.Fatal(err)
			}
		}
		rctx, cancel := context.WithCancel(ctx)
		stopped := make(chan struct{})
		go func() { r.Run(rctx); close(stopped) }()
		synctest.Wait() // a and b claimed, their handler waiting
		cancel()
		synctest.Wait()
		select {
		case <-stopped:
			t.Fatal("Run returned with a batch in hand")
		default:
		}
		close(release)
		<-stopped
		if got, want := strings.Join(got.all(), ","), "a,b"; got != want {
			t.Errorf("done %s, want %s", got, want)
		}
		stats, err := st.QueueStats(ctx, "work", time.Now().Add(time.Hour))
		if err != nil || stats.Total != 1 || stats.Due != 1 {
			t.Errorf("queue = %+v, %v; want c alone, never claimed", stats, err)
		}
	})
}

// TestRetryBackoff checks the retry policy's doubling and its cap.
func TestRetryBackoff(t *testing.T) {
	tests := []struct {
		name    string
		p       Retry
		attempt int
		want    time.Duration
	}{
		{"first", Retry{}, 1, time.Second},
		{"second", Retry{}, 2, 2 * time.Second},
		{"fifth", Retry{}, 5, 16 * time.Second},
		{"tenth", Retry{}, 10, 512 * time.Second},
		{"capped", Retry{}, 11, 10 * time.Minute},
		{"far", Retry{}, 40, 10 * time.Minute},
		{"own start", Retry{First: 10 * time.Second}, 3, 40 * time.Second},
		{"own cap", Retry{Max: time.Minute}, 8, time.Minute},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.p.Backoff(tt.attempt); got != tt.want {
				t.Errorf("Backoff(%d) = %s, want %s", tt.attempt, got, tt.want)
			}
		})
	}
}

// notYetErr is a handler's "its time has not come" (desk timers return one
// while a message is still on its way).
type notYetErr struct{}

func (notYetErr) Error() string { return "not yet" }
func (notYetErr) NotYet() bool  { return true }

// TestRunnerWaitingIsNoFailure: an item whose handler says it waits is
// looked at again with the backoff until it is done, and logged as
// waiting (debug), not as a failure (warn).
func TestRunnerWaitingIsNoFailure(t *testing.T) {
	forEachStore(t, func(t *testing.T, st DueQueue) {
		var tries handled
		var logs bytes.Buffer
		var mu sync.Mutex
		log := slog.New(slog.NewTextHandler(lockedWriter{&mu, &logs}, &slog.HandlerOptions{Level: slog.LevelDebug}))
		r := NewRunner(st, time.Second, nil, log)
		r.Register(Queue{Name: "work"}, Handler{
			Kind: "k",
			Do: func(_ context.Context, it store.DueItem) error {
				tries.add(it.ID)
				if tries.count(it.ID) < 4 {
					return fmt.Errorf("check: %w", notYetErr{})
				}
				return nil
			},
		})
		runUntilCleanup(t, r)
		if _, err := r.Schedule(t.Context(), "work", store.DueItem{ID: "w", Kind: "k", Due: time.Now()}); err != nil {
			t.Fatal(err)
		}
		time.Sleep(time.Hour)
		synctest.Wait()
		if n := tries.count("w"); n != 4 {
			t.Errorf("tried %d times, want 4 (three waits, then done)", n)
		}
		mu.Lock()
		defer mu.Unlock()
		if out := logs.String(); strings.Contains(out, "level=WARN") || !strings.Contains(out, "waits, will look again") {
			t.Errorf("logs:\n%s\nwant the waits at debug and no warning", out)
		}
	})
}

type lockedWriter struct {
	mu *sync.Mutex
	w  *bytes.Buffer
}

func (l lockedWriter) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.w.Write(p)
}

// TestRunnerLooksWhenTheEarliestItemFallsDue: an item another instance
// scheduled is done when it falls due, not a poll later: each look learns
// when the queue's earliest item is due (return visits all fall due at
// 10:00, and every instance should be there).
func TestRunnerLooksWhenTheEarliestItemFallsDue(t *testing.T) {
	forEachStore(t, func(t *testing.T, st DueQueue) {
		var done handled
		r := NewRunner(st, time.Hour, nil, testLog(t))
		r.Register(Queue{Name: "work"}, Handler{Kind: "k", Do: func(_ context.Context, it store.DueItem) error {
			done.add(it.ID)
			return nil
		}})
		// Scheduled in the store directly, as by another instance.
		if _, err := st.Schedule(t.Context(), "work", store.DueItem{ID: "visit", Kind: "k", Due: time.Now().Add(10 * time.Minute)}); err != nil {
			t.Fatal(err)
		}
		runUntilCleanup(t, r)
		time.Sleep(10*time.Minute - time.Second)
		synctest.Wait()
		if done.count("visit") != 0 {
			t.Fatal("done before it fell due")
		}
		time.Sleep(2 * time.Second)
		synctest.Wait()
		if done.count("visit") != 1 {
			t.Errorf("not done within a second of falling due (the poll is an hour)")
		}
	})
}

// TestRunnerClaimsTheNextBatchWhileWorking: with Batches 2, a full batch
// has the next one claimed while it is worked, so that items falling due
// together are claimed at once rather than a batch at a time.
func TestRunnerClaimsTheNextBatchWhileWorking(t *testing.T) {
	forEachStore(t, func(t *testing.T, st DueQueue) {
		release := make(chan struct{})
		var started atomic.Int64
		r := NewRunner(st, time.Hour, nil, testLog(t))
		r.Register(Queue{Name: "work", Batch: 2, Batches: 2, Workers: 1}, Handler{Kind: "k", Do: func(context.Context, store.DueItem) error {
			started.Add(1)
			<-release
			return nil
		}})
		for i := range 4 {
			if _, err := st.Schedule(t.Context(), "work", store.DueItem{ID: fmt.Sprint("i", i), Kind: "k", Due: time.Now()}); err != nil {
				t.Fatal(err)
			}
		}
		runUntilCleanup(t, r)
		synctest.Wait()
		if n := started.Load(); n != 2 {
			t.Errorf("%d items in hand, want 2 (one of each of two batches)", n)
		}
		stats, err := st.QueueStats(t.Context(), "work", time.Now())
		if err != nil || stats.Due != 0 {
			t.Errorf("due and unclaimed: %+v, %v; want all four claimed", stats, err)
		}
		close(release)
		synctest.Wait()
		if n := started.Load(); n != 4 {
			t.Errorf("%d items done, want 4", n)
		}
	})
}

// TestRunnerPacesAKind: a kind with Every starts one item per Every in
// this process; items still waiting when the runner stops are put back
// for at once, not left to their lease.
func TestRunnerPacesAKind(t *testing.T) {
	forEachStore(t, func(t *testing.T, st DueQueue) {
		var done handled
		r := NewRunner(st, time.Hour, nil, testLog(t))
		r.Register(Queue{Name: "work", Batch: 10, Workers: 4}, Handler{Kind: "k", Every: time.Second, Do: func(_ context.Context, it store.DueItem) error {
			done.add(it.ID)
			return nil
		}})
		for i := range 4 {
			if _, err := st.Schedule(t.Context(), "work", store.DueItem{ID: fmt.Sprint("v", i), Kind: "k", Due: time.Now()}); err != nil {
				t.Fatal(err)
			}
		}
		stop := runUntilCleanup(t, r)
		time.Sleep(1500 * time.Millisecond)
		synctest.Wait()
		if n := len(done.all()); n != 2 {
			t.Errorf("%d done after 1.5 s, want 2 (one a second)", n)
		}
		stop()
		synctest.Wait()
		stats, err := st.QueueStats(t.Context(), "work", time.Now())
		if err != nil || stats.Total != 2 || stats.Due != 2 {
			t.Errorf("after the stop: %+v, %v; want the two waiting items due again at once", stats, err)
		}
	})
}

// claimCounter counts the claims a runner makes.
type claimCounter struct {
	DueQueue
	claims atomic.Int64
}

func (c *claimCounter) Claim(ctx context.Context, queue string, now time.Time, limit int, lease time.Duration) ([]store.DueItem, error) {
	c.claims.Add(1)
	return c.DueQueue.Claim(ctx, queue, now, limit, lease)
}

// TestRunnerCoalescesLooks: items due one every 20 ms, scheduled by this
// process and by another, are claimed a second's worth at a time with
// Coalesce 1s — each done within a second of falling due — not one claim
// per item.
func TestRunnerCoalescesLooks(t *testing.T) {
	forEachStore(t, func(t *testing.T, st DueQueue) {
		cc := &claimCounter{DueQueue: st}
		var mu sync.Mutex
		late := time.Duration(0)
		due := map[string]time.Time{}
		r := NewRunner(cc, time.Hour, nil, testLog(t))
		r.Register(Queue{Name: "visits", Batch: 200, Coalesce: time.Second}, Handler{Kind: "k", Do: func(_ context.Context, it store.DueItem) error {
			mu.Lock()
			defer mu.Unlock()
			late = max(late, time.Since(due[it.ID]))
			return nil
		}})
		runUntilCleanup(t, r)
		synctest.Wait()
		start, before := time.Now(), cc.claims.Load()
		for i := range 150 {
			id := fmt.Sprint("v", i)
			at := start.Add(time.Duration(i) * 20 * time.Millisecond)
			mu.Lock()
			due[id] = at
			mu.Unlock()
			schedule := r.Schedule // this process's: the runner wakes for them
			if i%2 == 1 {
				schedule = st.Schedule // another instance's: found by the earliest-due look
			}
			if _, err := schedule(t.Context(), "visits", store.DueItem{ID: id, Kind: "k", Due: at}); err != nil {
				t.Fatal(err)
			}
		}
		time.Sleep(5 * time.Second)
		synctest.Wait()
		claims := cc.claims.Load() - before
		mu.Lock()
		defer mu.Unlock()
		if claims > 6 {
			t.Errorf("%d claims for 150 items over 3 s, want about one a second", claims)
		}
		if late > time.Second {
			t.Errorf("an item was done %s after falling due, want within the coalescing second", late)
		}
		if stats, err := st.QueueStats(t.Context(), "visits", time.Now()); err != nil || stats.Total != 0 {
			t.Errorf("queue = %+v, %v; want every item done", stats, err)
		}
	})
}
