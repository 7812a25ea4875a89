package redisstore_test

import (
	"context"
	"encoding/json"
	"fmt"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"huimin/store"
	"huimin/store/redisstore"
	"huimin/store/redisstore/redistest"
)

// markIndexesBuilt sets the markers of a built facts index and built open
// indexes under prefix: a fresh prefix holds no ticket written before
// them.
func markIndexesBuilt(ctx context.Context, rdb goredis.UniversalClient, prefix string) error {
	if err := rdb.Set(ctx, prefix+"{t}:facts_built", store.FactsVersion(), 0).Err(); err != nil {
		return err
	}
	return rdb.Set(ctx, prefix+"{t}:open_built", redisstore.OpenIndexVersion, 0).Err()
}

// forgetFacts takes the facts index under prefix back to before it
// existed: the month hashes of months and the marker are deleted, leaving
// the tickets as an earlier version wrote them.
func forgetFacts(t *testing.T, rdb goredis.UniversalClient, prefix string, months []time.Time) {
	t.Helper()
	ctx := context.Background()
	keys := []string{prefix + "{t}:facts_built"}
	for _, m := range months {
		keys = append(keys, prefix+"{t}:facts:"+m.Format("2006-01"))
	}
	for _, k := range keys {
		if err := rdb.Del(ctx, k).Err(); err != nil {
			t.Fatalf("DEL %s: %v", k, err)
		}
	}
}

// TestBuildFacts has tickets written without facts, as before the index
// existed, and several instances build the index at once while officers
// update tickets. It runs on a server and a cluster of the test's own:
// BuildIndexes SCANs the whole keyspace, which on the shared server holds
// every other test's keys, and on a cluster SCAN must go to the node of
// the {t} slot.
func TestBuildFacts(t *testing.T) {
	topologies := []struct {
		name   string
		client func(t *testing.T) goredis.UniversalClient
	}{
		{"standalone", func(t *testing.T) goredis.UniversalClient { return redistest.StartStandalone(t).Client(t) }},
		{"cluster", func(t *testing.T) goredis.UniversalClient { return redistest.StartCluster(t, 3).Client(t) }},
	}
	for _, top := range topologies {
		t.Run(top.name, func(t *testing.T) { testBuildFacts(t, top.client(t)) })
	}
}

func testBuildFacts(t *testing.T, rdb goredis.UniversalClient) {
	const (
		tickets   = 1200 // more than one MGET batch
		instances = 4
	)
	ctx := t.Context()
	prefix := "bf:"
	// Three months: a ticket every 2 hours from mid-January.
	t0 := time.Date(2026, 1, 15, 0, 0, 0, 0, time.UTC)
	months := []time.Time{
		time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2026, 2, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2026, 3, 1, 0, 0, 0, 0, time.UTC),
		time.Date(2026, 4, 1, 0, 0, 0, 0, time.UTC),
	}
	writer := redisstore.New(rdb, redisstore.Options{Prefix: prefix})
	t.Cleanup(func() { _ = writer.Close() })
	ids := make([]string, tickets)
	var wg sync.WaitGroup
	for w := range 16 {
		wg.Go(func() {
			for i := w; i < tickets; i += 16 {
				ids[i] = fmt.Sprintf("MZ-%04d", i)
				tk := store.Ticket{
					ID: ids[i], CitizenOpenID: "c", Department: "relief", Window: "w1", Owner: "o-start",
					State: store.StateAssigned, CreatedAt: t0.Add(time.Duration(i) * 2 * time.Hour),
				}
				if err := writer.CreateTicket(ctx, tk); err != nil {
					t.Errorf("CreateTicket: %v", err)
					return
				}
			}
		})
	}
	wg.Wait()
	if t.Failed() {
		t.FailNow()
	}
	from, to := t0, t0.Add(tickets*2*time.Hour)

	t.Run("one instance", func(t *testing.T) {
		forgetFacts(t, rdb, prefix, months)
		s := redisstore.New(rdb, redisstore.Options{Prefix: prefix})
		t.Cleanup(func() { _ = s.Close() })
		n, err := s.BuildIndexes(ctx)
		if err != nil || n != tickets {
			t.Fatalf("BuildIndexes = %d, %v; want %d, nil", n, err, tickets)
		}
		if built, err := rdb.Get(ctx, prefix+"{t}:facts_built").Result(); err != nil || built != store.FactsVersion() {
			t.Errorf("marker after BuildIndexes = %q, %v; want the version %q", built, err, store.FactsVersion())
		}
		assertAllFacts(t, s, from, to, ids)
		again := redisstore.New(rdb, redisstore.Options{Prefix: prefix})
		t.Cleanup(func() { _ = again.Close() })
		if n, err := again.BuildIndexes(ctx); err != nil || n != 0 {
			t.Errorf("BuildIndexes on a built index = %d, %v; want 0, nil", n, err)
		}
	})

	t.Run("built for another version of Facts", func(t *testing.T) {
		// An earlier version's facts: a shape without the window.
		for _, m := range months {
			key := prefix + "{t}:facts:" + m.Format("2006-01")
			fields, err := rdb.HGetAll(ctx, key).Result()
			if err != nil {
				t.Fatalf("HGETALL %s: %v", key, err)
			}
			for id, raw := range fields {
				var f store.Facts
				if err := json.Unmarshal([]byte(raw), &f); err != nil {
					t.Fatalf("facts of %s: %v", id, err)
				}
				f.Window = ""
				old, _ := json.Marshal(f)
				if err := rdb.HSet(ctx, key, id, old).Err(); err != nil {
					t.Fatalf("HSET: %v", err)
				}
			}
		}
		if err := rdb.Set(ctx, prefix+"{t}:facts_built", "an-earlier-version", 0).Err(); err != nil {
			t.Fatalf("SET marker: %v", err)
		}
		s := redisstore.New(rdb, redisstore.Options{Prefix: prefix})
		t.Cleanup(func() { _ = s.Close() })
		if n, err := s.BuildIndexes(ctx); err != nil || n != tickets {
			t.Fatalf("BuildIndexes = %d, %v; want %d, nil", n, err, tickets)
		}
		assertAllFacts(t, s, from, to, ids)
	})

	t.Run("first TicketFacts builds", func(t *testing.T) {
		forgetFacts(t, rdb, prefix, months)
		s := redisstore.New(rdb, redisstore.Options{Prefix: prefix})
		t.Cleanup(func() { _ = s.Close() })
		assertAllFacts(t, s, from, to, ids)
	})

	t.Run("instances at once, beside updates", func(t *testing.T) {
		forgetFacts(t, rdb, prefix, months)
		var (
			wg      sync.WaitGroup
			start   = make(chan struct{})
			written atomic.Int64
			updated atomic.Int64
		)
		for range instances {
			s := redisstore.New(rdb, redisstore.Options{Prefix: prefix})
			t.Cleanup(func() { _ = s.Close() })
			wg.Go(func() {
				<-start
				n, err := s.BuildIndexes(ctx)
				if err != nil {
					t.Errorf("BuildIndexes: %v", err)
				}
				written.Add(int64(n))
			})
		}
		// Officers take tickets over while the instances build: an update
		// writes its own facts, and a build that read the ticket before
		// must not overwrite them with the old ones.
		for w := range 8 {
			wg.Go(func() {
				<-start
				for i := w; i < tickets; i += 8 * 3 {
					tk, err := writer.GetTicket(ctx, ids[i])
					if err != nil {
						t.Errorf("GetTicket: %v", err)
						return
					}
					tk.Owner, tk.State = fmt.Sprintf("o-%d", w), store.StateInProgress
					if _, err := writer.UpdateTicket(ctx, tk); err != nil {
						t.Errorf("UpdateTicket: %v", err)
						return
					}
					updated.Add(1)
				}
			})
		}
		close(start)
		wg.Wait()
		t.Logf("%d facts written by %d instances, %d tickets updated meanwhile", written.Load(), instances, updated.Load())
		if written.Load() < tickets-updated.Load() {
			t.Errorf("%d facts written, want at least the %d tickets no update wrote", written.Load(), tickets-updated.Load())
		}
		s := redisstore.New(rdb, redisstore.Options{Prefix: prefix})
		t.Cleanup(func() { _ = s.Close() })
		assertAllFacts(t, s, from, to, ids)
	})
}

// assertAllFacts checks that TicketFacts over [from, to) gives exactly
// FactsOf each stored ticket of ids, in order (ids are in CreatedAt order).
func assertAllFacts(t *testing.T, s *redisstore.Store, from, to time.Time, ids []string) {
	t.Helper()
	ctx := t.Context()
	var got []store.Facts
	if err := s.TicketFacts(ctx, from, to, func(f store.Facts) error {
		got = append(got, f)
		return nil
	}); err != nil {
		t.Fatalf("TicketFacts: %v", err)
	}
	if len(got) != len(ids) {
		t.Fatalf("TicketFacts gave %d facts, want %d", len(got), len(ids))
	}
	for i, id := range ids {
		tk, err := s.GetTicket(ctx, id)
		if err != nil {
			t.Fatalf("GetTicket: %v", err)
		}
		g, _ := json.Marshal(got[i])
		w, _ := json.Marshal(store.FactsOf(tk))
		if string(g) != string(w) {
			t.Errorf("facts %d:\n got %s\nwant %s", i, g, w)
		}
	}
}
