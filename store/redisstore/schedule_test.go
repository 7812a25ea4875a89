package redisstore_test

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"huimin/store"
	"huimin/store/redisstore"
)

// TestScheduleSurvivesScriptFlush checks that the shared schedule script
// falls back to EVAL when Redis has forgotten it (a restart, a failover).
func TestScheduleSurvivesScriptFlush(t *testing.T) {
	rdb := newClient(t)
	s := redisstore.New(rdb, redisstore.Options{Prefix: newPrefix(t, rdb)})
	t.Cleanup(func() { _ = s.Close() })
	ctx := t.Context()
	t0 := time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
	if err := rdb.ScriptFlush(ctx).Err(); err != nil {
		t.Fatalf("SCRIPT FLUSH: %v", err)
	}
	added, err := s.Schedule(ctx, "q", store.DueItem{ID: "a", Due: t0, Payload: []byte("p")})
	if err != nil || !added {
		t.Fatalf("Schedule after SCRIPT FLUSH = %v, %v; want added", added, err)
	}
	got, err := s.Claim(ctx, "q", t0, 10, time.Minute)
	if err != nil || len(got) != 1 || got[0].ID != "a" || string(got[0].Payload) != "p" {
		t.Fatalf("Claim = %+v, %v; want a with its payload", got, err)
	}
}

// TestScheduleAfterDeadline checks that a Schedule whose context has ended
// fails and adds nothing.
func TestScheduleAfterDeadline(t *testing.T) {
	rdb := newClient(t)
	s := redisstore.New(rdb, redisstore.Options{Prefix: newPrefix(t, rdb)})
	t.Cleanup(func() { _ = s.Close() })
	t0 := time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
	ctx, cancel := context.WithDeadline(t.Context(), time.Now().Add(-time.Second))
	defer cancel()
	if _, err := s.Schedule(ctx, "q", store.DueItem{ID: "a", Due: t0}); !errors.Is(err, context.DeadlineExceeded) {
		t.Fatalf("Schedule past its deadline: got %v, want context.DeadlineExceeded", err)
	}
	st, err := s.QueueStats(t.Context(), "q", t0)
	if err != nil || st.Total != 0 {
		t.Fatalf("QueueStats = %+v, %v; want an empty queue", st, err)
	}
}

// TestCloseAnswersSchedules checks that Close while many Schedules are
// queued leaves none of them waiting, and that a Schedule after Close
// fails.
func TestCloseAnswersSchedules(t *testing.T) {
	rdb := newClient(t)
	s := redisstore.New(rdb, redisstore.Options{Prefix: newPrefix(t, rdb)})
	ctx := t.Context()
	t0 := time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
	var wg sync.WaitGroup
	for i := range 200 {
		wg.Go(func() {
			for j := range 20 {
				_, _ = s.Schedule(ctx, "q", store.DueItem{ID: fmt.Sprintf("%d-%d", i, j), Due: t0})
			}
		})
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	waitAfterClose(t, &wg, "Schedules")
	if _, err := s.Schedule(ctx, "q", store.DueItem{ID: "late", Due: t0}); err == nil {
		t.Fatal("Schedule after Close: want an error")
	}
}
