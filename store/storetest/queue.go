package storetest

import (
	"bytes"
	"context"
	"fmt"
	"math/rand/v2"
	"slices"
	"sync"
	"testing"
	"time"

	"huimin/store"
)

func testQueue(t *testing.T, h Harness) {
	t0 := refTime()
	const q = "surveys"
	ctx := func(t *testing.T) context.Context { return t.Context() }
	schedule := func(t *testing.T, s Store, queue, id string, due time.Time, payload string) {
		t.Helper()
		added, err := s.Schedule(ctx(t), queue, store.DueItem{ID: id, Due: due, Payload: []byte(payload)})
		check(t, "Schedule "+id, err)
		if !added {
			t.Fatalf("Schedule(%s) added = false, want true", id)
		}
	}
	claim := func(t *testing.T, s Store, queue string, now time.Time, limit int, lease time.Duration) []store.DueItem {
		t.Helper()
		got, err := s.Claim(ctx(t), queue, now, limit, lease)
		check(t, "Claim", err)
		return got
	}
	stats := func(t *testing.T, s Store, queue string, now time.Time, want store.QueueStats) {
		t.Helper()
		got, err := s.QueueStats(ctx(t), queue, now)
		check(t, "QueueStats", err)
		if got != want {
			t.Errorf("QueueStats(%s, t0%+v) = %+v, want %+v", queue, now.Sub(t0), got, want)
		}
	}

	t.Run("ScheduleIsIdempotent", func(t *testing.T) {
		s := h.New(t)
		schedule(t, s, q, "a", t0, "first")
		added, err := s.Schedule(ctx(t), q, store.DueItem{ID: "a", Due: t0.Add(time.Hour), Payload: []byte("second")})
		check(t, "Schedule again", err)
		if added {
			t.Errorf("second Schedule added = true, want false")
		}
		stats(t, s, q, t0, store.QueueStats{Total: 1, Due: 1})
		got := claim(t, s, q, t0, 10, time.Minute)
		if len(got) != 1 || got[0].ID != "a" || string(got[0].Payload) != "first" || !got[0].Due.Equal(t0) {
			t.Fatalf("Claim = %v, want [a due t0 payload \"first\"] (the second Schedule must change nothing)", items(got))
		}
		// Scheduling a claimed ID changes nothing either, lease included.
		added, err = s.Schedule(ctx(t), q, store.DueItem{ID: "a", Due: t0, Payload: []byte("third")})
		check(t, "Schedule while claimed", err)
		if added {
			t.Errorf("Schedule while claimed added = true, want false")
		}
		if got := claim(t, s, q, t0, 10, time.Minute); len(got) != 0 {
			t.Errorf("Claim during lease after re-Schedule = %v, want none", items(got))
		}
	})

	t.Run("ClaimDueEarliestFirst", func(t *testing.T) {
		s := h.New(t)
		schedule(t, s, q, "c", t0.Add(3*time.Minute), "pc")
		schedule(t, s, q, "late", t0.Add(time.Hour), "pl")
		schedule(t, s, q, "a", t0.Add(1*time.Minute), "pa")
		schedule(t, s, q, "b2", t0.Add(2*time.Minute), "pb2")
		schedule(t, s, q, "b1", t0.Add(2*time.Minute), "pb1") // same due: order by ID
		got := claim(t, s, q, t0.Add(3*time.Minute), 10, time.Minute)
		want := []store.DueItem{
			{ID: "a", Due: t0.Add(time.Minute), Payload: []byte("pa"), Attempt: 1},
			{ID: "b1", Due: t0.Add(2 * time.Minute), Payload: []byte("pb1"), Attempt: 1},
			{ID: "b2", Due: t0.Add(2 * time.Minute), Payload: []byte("pb2"), Attempt: 1},
			{ID: "c", Due: t0.Add(3 * time.Minute), Payload: []byte("pc"), Attempt: 1},
		}
		assertItems(t, got, want)
	})

	t.Run("ClaimRespectsLimit", func(t *testing.T) {
		s := h.New(t)
		for i := range 5 {
			schedule(t, s, q, fmt.Sprintf("i%d", i), t0.Add(time.Duration(i)*time.Second), "")
		}
		now := t0.Add(time.Minute)
		for _, want := range [][]string{{"i0", "i1"}, {"i2", "i3"}, {"i4"}, {}} {
			got := claim(t, s, q, now, 2, time.Hour)
			if ids := itemIDs(got); !slices.Equal(ids, want) {
				t.Fatalf("Claim(limit 2) = %v, want %v", ids, want)
			}
		}
	})

	t.Run("ClaimEmpty", func(t *testing.T) {
		s := h.New(t)
		if got := claim(t, s, "never-used", t0, 10, time.Minute); len(got) != 0 {
			t.Errorf("Claim on an unknown queue = %v, want none", items(got))
		}
		schedule(t, s, q, "a", t0.Add(time.Second), "")
		if got := claim(t, s, q, t0, 10, time.Minute); len(got) != 0 {
			t.Errorf("Claim before due = %v, want none", items(got))
		}
	})

	t.Run("LeaseHidesThenReturns", func(t *testing.T) {
		s := h.New(t)
		schedule(t, s, q, "a", t0, "p")
		first := claim(t, s, q, t0, 10, time.Minute)
		assertItems(t, first, []store.DueItem{{ID: "a", Due: t0, Payload: []byte("p"), Attempt: 1}})
		if got := claim(t, s, q, t0.Add(59*time.Second), 10, time.Minute); len(got) != 0 {
			t.Fatalf("Claim during lease = %v, want none", items(got))
		}
		stats(t, s, q, t0.Add(59*time.Second), store.QueueStats{Total: 1, Due: 0})
		stats(t, s, q, t0.Add(time.Minute), store.QueueStats{Total: 1, Due: 1})
		again := claim(t, s, q, t0.Add(time.Minute), 10, time.Minute)
		assertItems(t, again, []store.DueItem{{ID: "a", Due: t0.Add(time.Minute), Payload: []byte("p"), Attempt: 2}})
	})

	t.Run("Ack", func(t *testing.T) {
		s := h.New(t)
		schedule(t, s, q, "a", t0, "p")
		schedule(t, s, q, "b", t0, "p")
		got := claim(t, s, q, t0, 1, time.Minute)
		check(t, "Ack", s.Ack(ctx(t), q, "a", got[0].Attempt))
		stats(t, s, q, t0.Add(time.Hour), store.QueueStats{Total: 1, Due: 1})
		wantErr(t, "Ack again", s.Ack(ctx(t), q, "a", got[0].Attempt), store.ErrLeaseLost)
		assertItems(t, claim(t, s, q, t0.Add(time.Hour), 10, time.Minute),
			[]store.DueItem{{ID: "b", Due: t0, Payload: []byte("p"), Attempt: 1}})
	})

	t.Run("AckFencing", func(t *testing.T) {
		tests := []struct {
			name    string
			id      string
			attempt int
		}{
			{"stale attempt", "a", 1},
			{"future attempt", "a", 3},
			{"unknown id", "nope", 2},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				s := h.New(t)
				schedule(t, s, q, "a", t0, "p")
				claim(t, s, q, t0, 10, time.Minute)                  // attempt 1, lease to t0+1m
				claim(t, s, q, t0.Add(time.Minute), 10, time.Minute) // attempt 2 after the lease ran out
				wantErr(t, "Ack", s.Ack(ctx(t), q, tt.id, tt.attempt), store.ErrLeaseLost)
				stats(t, s, q, t0.Add(time.Hour), store.QueueStats{Total: 1, Due: 1})
				check(t, "Ack with the current attempt", s.Ack(ctx(t), q, "a", 2))
				stats(t, s, q, t0.Add(time.Hour), store.QueueStats{})
			})
		}
	})

	t.Run("NeverClaimedHasNoLease", func(t *testing.T) {
		// Attempt 0 is an item's before its first claim: it names no
		// lease, so Ack and Retry with it change nothing.
		s := h.New(t)
		schedule(t, s, q, "a", t0, "p")
		wantErr(t, "Ack before any claim", s.Ack(ctx(t), q, "a", 0), store.ErrLeaseLost)
		wantErr(t, "Retry before any claim", s.Retry(ctx(t), q, "a", 0, t0.Add(time.Hour)), store.ErrLeaseLost)
		wantErr(t, "Ack of attempt 1 before any claim", s.Ack(ctx(t), q, "a", 1), store.ErrLeaseLost)
		stats(t, s, q, t0, store.QueueStats{Total: 1, Due: 1})
		assertItems(t, claim(t, s, q, t0, 10, time.Minute),
			[]store.DueItem{{ID: "a", Due: t0, Payload: []byte("p"), Attempt: 1}})
	})

	t.Run("ScheduleConcurrently", func(t *testing.T) {
		// Callers scheduling at once share round trips and transactions:
		// each (queue, ID) is still added once, with the payload of the
		// one caller told it was added.
		const callers, ids = 16, 40
		s := h.New(t)
		queues := []string{"cq1", "cq2"}
		var (
			mu      sync.Mutex
			winners = make(map[string]string) // queue/id → payload
			wg      sync.WaitGroup
		)
		start := make(chan struct{})
		for g := range callers {
			wg.Go(func() {
				<-start
				for i := range ids {
					queue, id := queues[(g+i)%2], fmt.Sprintf("i%02d", i)
					payload := fmt.Sprintf("caller %d", g)
					added, err := s.Schedule(ctx(t), queue, store.DueItem{ID: id, Due: t0.Add(time.Duration(i) * time.Second), Payload: []byte(payload)})
					if err != nil {
						t.Errorf("Schedule(%s/%s): %v", queue, id, err)
						return
					}
					if added {
						mu.Lock()
						if w, ok := winners[queue+"/"+id]; ok {
							t.Errorf("Schedule(%s/%s) added for %q and for %q", queue, id, w, payload)
						}
						winners[queue+"/"+id] = payload
						mu.Unlock()
					}
				}
			})
		}
		close(start)
		wg.Wait()
		if len(winners) != 2*ids {
			t.Fatalf("%d (queue, ID) pairs added, want %d", len(winners), 2*ids)
		}
		for _, queue := range queues {
			stats(t, s, queue, t0.Add(time.Hour), store.QueueStats{Total: ids, Due: ids})
			got := claim(t, s, queue, t0.Add(time.Hour), 2*ids, time.Minute)
			if len(got) != ids {
				t.Fatalf("Claim(%s) = %d items, want %d", queue, len(got), ids)
			}
			for _, it := range got {
				if want := winners[queue+"/"+it.ID]; string(it.Payload) != want {
					t.Errorf("%s/%s payload = %q, want %q (the caller told it was added)", queue, it.ID, it.Payload, want)
				}
			}
		}
	})

	t.Run("Retry", func(t *testing.T) {
		s := h.New(t)
		schedule(t, s, q, "a", t0, "p")
		got := claim(t, s, q, t0, 10, time.Hour)
		check(t, "Retry", s.Retry(ctx(t), q, "a", got[0].Attempt, t0.Add(10*time.Minute)))
		if got := claim(t, s, q, t0.Add(10*time.Minute-time.Second), 10, time.Hour); len(got) != 0 {
			t.Fatalf("Claim before the retry time = %v, want none", items(got))
		}
		stats(t, s, q, t0.Add(10*time.Minute), store.QueueStats{Total: 1, Due: 1})
		assertItems(t, claim(t, s, q, t0.Add(10*time.Minute), 10, time.Hour),
			[]store.DueItem{{ID: "a", Due: t0.Add(10 * time.Minute), Payload: []byte("p"), Attempt: 2}})
	})

	t.Run("RetryEndsLease", func(t *testing.T) {
		s := h.New(t)
		schedule(t, s, q, "a", t0, "p")
		claim(t, s, q, t0, 10, time.Hour)
		check(t, "Retry", s.Retry(ctx(t), q, "a", 1, t0))
		assertItems(t, claim(t, s, q, t0, 10, time.Hour),
			[]store.DueItem{{ID: "a", Due: t0, Payload: []byte("p"), Attempt: 2}})
	})

	t.Run("RetryFencing", func(t *testing.T) {
		s := h.New(t)
		schedule(t, s, q, "a", t0, "p")
		claim(t, s, q, t0, 10, time.Minute)
		claim(t, s, q, t0.Add(time.Minute), 10, time.Minute) // attempt 2, lease to t0+2m
		wantErr(t, "Retry stale", s.Retry(ctx(t), q, "a", 1, t0), store.ErrLeaseLost)
		wantErr(t, "Retry unknown", s.Retry(ctx(t), q, "nope", 1, t0), store.ErrLeaseLost)
		if got := claim(t, s, q, t0.Add(time.Minute), 10, time.Minute); len(got) != 0 {
			t.Errorf("Claim after a refused Retry = %v, want none (the current lease stands)", items(got))
		}
		stats(t, s, q, t0.Add(2*time.Minute), store.QueueStats{Total: 1, Due: 1})
	})

	t.Run("Cancel", func(t *testing.T) {
		s := h.New(t)
		schedule(t, s, q, "waiting", t0, "p")
		schedule(t, s, q, "claimed", t0, "p")
		schedule(t, s, q, "kept", t0, "p")
		claimed := claim(t, s, q, t0, 1, time.Minute)
		if ids := itemIDs(claimed); !slices.Equal(ids, []string{"claimed"}) {
			t.Fatalf("Claim = %v, want [claimed]", ids)
		}
		for _, id := range []string{"waiting", "claimed", "claimed", "unknown"} {
			check(t, "Cancel "+id, s.Cancel(ctx(t), q, id))
		}
		check(t, "Cancel on an unknown queue", s.Cancel(ctx(t), "never-used", "x"))
		wantErr(t, "Ack after Cancel", s.Ack(ctx(t), q, "claimed", 1), store.ErrLeaseLost)
		stats(t, s, q, t0.Add(time.Hour), store.QueueStats{Total: 1, Due: 1})
		if ids := itemIDs(claim(t, s, q, t0.Add(time.Hour), 10, time.Minute)); !slices.Equal(ids, []string{"kept"}) {
			t.Errorf("Claim after Cancel = %v, want [kept]", ids)
		}
		// A cancelled ID can be scheduled afresh.
		schedule(t, s, q, "waiting", t0, "again")
	})

	t.Run("Stats", func(t *testing.T) {
		s := h.New(t)
		stats(t, s, q, t0, store.QueueStats{})
		schedule(t, s, q, "a", t0, "")
		schedule(t, s, q, "b", t0.Add(time.Hour), "")
		schedule(t, s, q, "c", t0.Add(2*time.Hour), "")
		// At t0+1h, a (the earliest) is claimed with a 30m lease.
		if ids := itemIDs(claim(t, s, q, t0.Add(time.Hour), 1, 30*time.Minute)); !slices.Equal(ids, []string{"a"}) {
			t.Fatalf("Claim = %v, want [a]", ids)
		}
		tests := []struct {
			name string
			now  time.Time
			want store.QueueStats
		}{
			{"before anything is due", t0.Add(-time.Second), store.QueueStats{Total: 3, Due: 0}},
			{"a leased, b due", t0.Add(time.Hour), store.QueueStats{Total: 3, Due: 1}},
			{"a's lease over", t0.Add(90 * time.Minute), store.QueueStats{Total: 3, Due: 2}},
			{"everything due", t0.Add(3 * time.Hour), store.QueueStats{Total: 3, Due: 3}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) { stats(t, s, q, tt.now, tt.want) })
		}
	})

	t.Run("NextDue", func(t *testing.T) {
		s := h.New(t)
		next := func(want time.Time, wantOK bool) {
			t.Helper()
			got, ok, err := s.NextDue(ctx(t), q)
			check(t, "NextDue", err)
			if ok != wantOK || !got.Equal(want) {
				t.Errorf("NextDue = %v, %v; want t0%+v, %v", got, ok, want.Sub(t0), wantOK)
			}
		}
		next(time.Time{}, false)
		schedule(t, s, q, "late", t0.Add(time.Hour), "")
		schedule(t, s, q, "early", t0.Add(time.Minute), "")
		next(t0.Add(time.Minute), true)
		// A claimed item comes back at its lease's end.
		claim(t, s, q, t0.Add(time.Minute), 1, 30*time.Minute)
		next(t0.Add(31*time.Minute), true)
		check(t, "Cancel", s.Cancel(ctx(t), q, "early"))
		next(t0.Add(time.Hour), true)
	})

	t.Run("PayloadPreserved", func(t *testing.T) {
		allBytes := make([]byte, 256)
		for i := range allBytes {
			allBytes[i] = byte(i)
		}
		large := make([]byte, 64<<10)
		rng := rand.New(rand.NewPCG(1, 2))
		for i := range large {
			large[i] = byte(rng.Uint32())
		}
		tests := []struct {
			name    string
			payload []byte
		}{
			{"every byte value", allBytes},
			{"empty", nil},
			{"json", []byte(`{"ticket_id":"T-1","kind":"return_visit"}`)},
			{"utf-8", []byte("回访：您对办理结果满意吗？")},
			{"invalid utf-8 and nul", []byte{0xff, 0xfe, 0x00, 0x00, 0xc3, 0x28, '\n', '\r'}},
			{"64 KiB random", large},
		}
		s := h.New(t)
		for i, tt := range tests {
			added, err := s.Schedule(ctx(t), q, store.DueItem{ID: tt.name, Due: t0.Add(time.Duration(i) * time.Second), Payload: tt.payload})
			check(t, "Schedule", err)
			if !added {
				t.Fatalf("Schedule(%s) added = false, want true", tt.name)
			}
		}
		got := claim(t, s, q, t0.Add(time.Hour), len(tests), time.Minute)
		if len(got) != len(tests) {
			t.Fatalf("Claim returned %d items, want %d", len(got), len(tests))
		}
		for i, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				if got[i].ID != tt.name {
					t.Fatalf("item %d ID = %q, want %q", i, got[i].ID, tt.name)
				}
				if !bytes.Equal(got[i].Payload, tt.payload) {
					t.Errorf("payload = %x (%d bytes), want %x (%d bytes)", head(got[i].Payload), len(got[i].Payload), head(tt.payload), len(tt.payload))
				}
			})
		}
	})

	t.Run("QueuesAreIndependent", func(t *testing.T) {
		s := h.New(t)
		schedule(t, s, "q1", "x", t0, "one")
		schedule(t, s, "q2", "x", t0, "two") // same ID, other queue: added
		schedule(t, s, "q2", "y", t0, "two-y")
		stats(t, s, "q1", t0, store.QueueStats{Total: 1, Due: 1})
		stats(t, s, "q2", t0, store.QueueStats{Total: 2, Due: 2})
		assertItems(t, claim(t, s, "q1", t0, 10, time.Minute),
			[]store.DueItem{{ID: "x", Due: t0, Payload: []byte("one"), Attempt: 1}})
		check(t, "Ack q1/x", s.Ack(ctx(t), "q1", "x", 1))
		check(t, "Cancel q1/y", s.Cancel(ctx(t), "q1", "y"))
		stats(t, s, "q2", t0, store.QueueStats{Total: 2, Due: 2})
		assertItems(t, claim(t, s, "q2", t0, 10, time.Minute), []store.DueItem{
			{ID: "x", Due: t0, Payload: []byte("two"), Attempt: 1},
			{ID: "y", Due: t0, Payload: []byte("two-y"), Attempt: 1},
		})
	})
}

// assertItems compares claimed items with want, in order.
func assertItems(t *testing.T, got, want []store.DueItem) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("Claim = %v, want %v", items(got), items(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.ID != w.ID || !g.Due.Equal(w.Due) || g.Attempt != w.Attempt || !bytes.Equal(g.Payload, w.Payload) {
			t.Errorf("Claim item %d = %s, want %s", i, item(g), item(w))
		}
	}
}

func itemIDs(its []store.DueItem) []string {
	ids := make([]string, len(its))
	for i, it := range its {
		ids[i] = it.ID
	}
	return ids
}

func item(it store.DueItem) string {
	return fmt.Sprintf("{ID:%s Due:%s Attempt:%d Payload:%q}", it.ID, it.Due.UTC().Format(time.RFC3339Nano), it.Attempt, head(it.Payload))
}

func items(its []store.DueItem) []string {
	out := make([]string, len(its))
	for i, it := range its {
		out[i] = item(it)
	}
	return out
}

// head shortens a payload for a failure message.
func head(b []byte) []byte {
	if len(b) > 32 {
		return b[:32]
	}
	return b
}
