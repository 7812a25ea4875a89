package bot

import (
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"sync"
	"testing"
	"testing/synctest"
	"time"

	"huimin/store"
	"huimin/store/boltstore"
)

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

func runnerStore(t *testing.T) *boltstore.Store {
	t.Helper()
	st, err := boltstore.New(filepath.Join(t.TempDir(), "runner.db"), boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	return st
}

// TestRunnerDoesWorkWhenDue checks, on a fake clock, that an item is
// handled when it falls due and not before, once, by the handler of its
// kind; that a failing handler is retried with backoff; that a panicking
// one does not stop the runner; and that an item of an unknown kind is
// dropped.
func TestRunnerDoesWorkWhenDue(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := runnerStore(t)
		log := slog.New(slog.DiscardHandler)
		var got handled
		fails := 2
		panicked := false
		handlers := map[string]ItemHandler{
			"ok": func(_ context.Context, it store.DueItem) error { got.add(it.ID); return nil },
			"flaky": func(_ context.Context, it store.DueItem) error {
				got.add(it.ID)
				if fails > 0 {
					fails--
					return errors.New("wechat unreachable")
				}
				return nil
			},
			"panics": func(_ context.Context, it store.DueItem) error {
				got.add(it.ID)
				if !panicked {
					panicked = true
					panic("bug")
				}
				return nil
			},
		}
		r := NewRunner(st, time.Second, time.Now, log)
		r.Add(Job{Queue: "work", Lease: time.Minute, Handle: Kinds(st, "work", handlers, time.Now, log)})
		ctx, cancel := context.WithCancel(t.Context())
		done := make(chan struct{})
		go func() { r.Run(ctx); close(done) }()

		now := time.Now()
		for _, it := range []store.DueItem{
			{ID: "later", Kind: "ok", Due: now.Add(time.Hour)},
			{ID: "flaky", Kind: "flaky", Due: now.Add(time.Minute)},
			{ID: "panics", Kind: "panics", Due: now.Add(time.Minute)},
			{ID: "unknown", Kind: "nobody", Due: now.Add(time.Minute)},
		} {
			if _, err := st.Schedule(ctx, "work", it); err != nil {
				t.Fatal(err)
			}
		}
		time.Sleep(59 * time.Minute)
		synctest.Wait()
		if n := got.count("later"); n != 0 {
			t.Errorf("handled %d times before it was due", n)
		}
		if n := got.count("flaky"); n != 3 {
			t.Errorf("flaky item handled %d times, want 3 (two failures retried with backoff)", n)
		}
		if n := got.count("panics"); n != 2 {
			t.Errorf("panicking item handled %d times, want 2 (the panic retried)", n)
		}
		time.Sleep(2 * time.Minute)
		synctest.Wait()
		if n := got.count("later"); n != 1 {
			t.Errorf("handled %d times after it fell due, want once", n)
		}
		stats, err := st.QueueStats(ctx, "work", time.Now())
		if err != nil || stats.Total != 0 {
			t.Errorf("queue = %+v, %v; want every item done or dropped", stats, err)
		}
		cancel()
		<-done
	})
}

// TestRunnerLeaseGivesWorkToAnotherInstance checks that an item claimed by
// an instance that dies (never acknowledges) is handled by another instance
// once its lease ends, and only once.
func TestRunnerLeaseGivesWorkToAnotherInstance(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		st := runnerStore(t)
		log := slog.New(slog.DiscardHandler)
		var dead, alive handled
		r1 := NewRunner(st, time.Second, time.Now, log)
		r1.Add(Job{Queue: "work", Lease: 5 * time.Minute, Handle: func(_ context.Context, items []store.DueItem) {
			for _, it := range items {
				dead.add(it.ID) // claimed, then the process "dies": no ack
			}
		}})
		r2 := NewRunner(st, time.Second, time.Now, log)
		r2.Add(Job{Queue: "work", Lease: 5 * time.Minute, Handle: Kinds(st, "work", map[string]ItemHandler{
			"k": func(_ context.Context, it store.DueItem) error { alive.add(it.ID); return nil },
		}, time.Now, log)})
		ctx, cancel := context.WithCancel(t.Context())
		if _, err := st.Schedule(ctx, "work", store.DueItem{ID: "x", Kind: "k", Due: time.Now()}); err != nil {
			t.Fatal(err)
		}
		r1.drain(ctx) // the first instance claims it
		var wg sync.WaitGroup
		wg.Go(func() { r2.Run(ctx) })
		time.Sleep(4 * time.Minute)
		synctest.Wait()
		if dead.count("x") != 1 || alive.count("x") != 0 {
			t.Errorf("before the lease ended: dead %d, alive %d; want 1, 0", dead.count("x"), alive.count("x"))
		}
		time.Sleep(2 * time.Minute)
		synctest.Wait()
		if alive.count("x") != 1 {
			t.Errorf("after the lease: alive handled it %d times, want once", alive.count("x"))
		}
		time.Sleep(time.Hour)
		synctest.Wait()
		if alive.count("x") != 1 {
			t.Errorf("handled %d times in all, want once", alive.count("x"))
		}
		cancel()
		wg.Wait()
	})
}
