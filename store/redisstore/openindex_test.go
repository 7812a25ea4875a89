package redisstore_test

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"huimin/store"
	"huimin/store/redisstore"
	"huimin/store/redisstore/redistest"
)

// forgetOpenIndexes takes the open indexes under prefix back to before
// they existed: every {t}:open:* key and the marker are deleted, leaving
// the tickets as an earlier version wrote them.
func forgetOpenIndexes(t *testing.T, rdb goredis.UniversalClient, prefix string) {
	t.Helper()
	ctx := context.Background()
	keys, err := scanPrefix(ctx, rdb, prefix+"{t}:open")
	if err != nil {
		t.Fatalf("SCAN: %v", err)
	}
	for _, k := range keys {
		if err := rdb.Del(ctx, k).Err(); err != nil {
			t.Fatalf("DEL %s: %v", k, err)
		}
	}
}

// openFixture is what TestBuildOpenIndexes writes: owners, departments
// and citizens, and a ticket's fields by its number.
type openFixture struct {
	owners, depts, citizens []string
}

func newOpenFixture() openFixture {
	return openFixture{
		owners:   []string{"o0", "o1", "o2", "o3", "o4"},
		depts:    []string{"d0", "d1", "d2"},
		citizens: []string{"c0", "c1", "c2", "c3"},
	}
}

// indexes lists the open index keys under prefix, by their filter.
func (fx openFixture) indexes(prefix string) map[string]store.TicketFilter {
	out := make(map[string]store.TicketFilter)
	for _, o := range fx.owners {
		out[prefix+"{t}:open:owner:"+o] = store.TicketFilter{Owner: o}
	}
	for _, d := range fx.depts {
		out[prefix+"{t}:open:dept:"+d] = store.TicketFilter{Department: d}
	}
	for _, c := range fx.citizens {
		out[prefix+"{t}:open:citizen:"+c] = store.TicketFilter{Citizen: c}
	}
	return out
}

// assertOpenKeys checks that each open index holds exactly the open
// tickets of its field, as the full index lists them now, and that
// ListTickets with OpenOnly and CountTickets (through s, which reads the
// open indexes once they are built) agree.
func assertOpenKeys(t *testing.T, rdb goredis.UniversalClient, s *redisstore.Store, prefix string, fx openFixture) {
	t.Helper()
	ctx := t.Context()
	for key, f := range fx.indexes(prefix) {
		all, err := s.ListTickets(ctx, f)
		if err != nil {
			t.Fatalf("ListTickets(%+v): %v", f, err)
		}
		var want []string
		for _, tk := range all {
			if tk.State.Open() {
				want = append(want, tk.ID)
			}
		}
		got, err := rdb.ZRange(ctx, key, 0, -1).Result()
		if err != nil {
			t.Fatalf("ZRANGE %s: %v", key, err)
		}
		slices.Sort(got)
		slices.Sort(want)
		if !slices.Equal(got, want) {
			t.Errorf("ZRANGE %s = %v, want %v", key, got, want)
		}
		f.OpenOnly = true
		if n, err := s.CountTickets(ctx, f); err != nil || n != len(want) {
			t.Errorf("CountTickets(%+v) = %d, %v; want %d", f, n, err, len(want))
		}
		if ts, err := s.ListTickets(ctx, f); err != nil || len(ts) != len(want) {
			t.Errorf("ListTickets(%+v) = %d tickets, %v; want %d", f, len(ts), err, len(want))
		}
	}
}

// TestBuildOpenIndexes has tickets written without open indexes, as
// before they existed: reads of open tickets stay right meanwhile, and
// BuildIndexes builds them, alone or with the facts, from one instance or
// several at once while officers update tickets. It runs on a server and
// a cluster of the test's own, as TestBuildFacts does.
func TestBuildOpenIndexes(t *testing.T) {
	topologies := []struct {
		name   string
		client func(t *testing.T) goredis.UniversalClient
	}{
		{"standalone", func(t *testing.T) goredis.UniversalClient { return redistest.StartStandalone(t).Client(t) }},
		{"cluster", func(t *testing.T) goredis.UniversalClient { return redistest.StartCluster(t, 3).Client(t) }},
	}
	for _, top := range topologies {
		t.Run(top.name, func(t *testing.T) { testBuildOpenIndexes(t, top.client(t)) })
	}
}

func testBuildOpenIndexes(t *testing.T, rdb goredis.UniversalClient) {
	const (
		tickets   = 1200 // more than one MGET batch
		instances = 4
	)
	ctx := t.Context()
	prefix := "oi:"
	fx := newOpenFixture()
	states := []store.TicketState{
		store.StateReceived, store.StateAssigned, store.StateInProgress, store.StateWaiting,
		store.StateResolved, store.StateClosed, store.StateReopened, store.StateTransferredOut, store.StateClosed,
	}
	t0 := time.Date(2026, 1, 15, 0, 0, 0, 0, time.UTC)
	if err := markIndexesBuilt(ctx, rdb, prefix); err != nil {
		t.Fatal(err)
	}
	writer := redisstore.New(rdb, redisstore.Options{Prefix: prefix})
	t.Cleanup(func() { _ = writer.Close() })
	ids := make([]string, tickets)
	open := 0
	for i := range tickets {
		ids[i] = fmt.Sprintf("MZ-%04d", i)
		if states[i%len(states)].Open() {
			open++
		}
	}
	var wg sync.WaitGroup
	for w := range 16 {
		wg.Go(func() {
			for i := w; i < tickets; i += 16 {
				tk := store.Ticket{
					ID: ids[i], Owner: fx.owners[i%len(fx.owners)], Department: fx.depts[i%len(fx.depts)],
					CitizenOpenID: fx.citizens[i%len(fx.citizens)], State: states[i%len(states)], CreatedAt: t0.Add(time.Duration(i) * time.Hour),
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
	assertOpenKeys(t, rdb, writer, prefix, fx)
	newStore := func(t *testing.T) *redisstore.Store {
		s := redisstore.New(rdb, redisstore.Options{Prefix: prefix})
		t.Cleanup(func() { _ = s.Close() })
		return s
	}
	marker := func(t *testing.T) string {
		t.Helper()
		v, err := rdb.Get(ctx, prefix+"{t}:open_built").Result()
		if err != nil {
			t.Fatalf("GET marker: %v", err)
		}
		return v
	}

	t.Run("reads before the build", func(t *testing.T) {
		forgetOpenIndexes(t, rdb, prefix)
		s := newStore(t)
		// The full indexes answer, and no open index appears.
		for _, f := range fx.indexes(prefix) {
			all, err := s.ListTickets(ctx, f)
			if err != nil {
				t.Fatalf("ListTickets: %v", err)
			}
			want := 0
			for _, tk := range all {
				if tk.State.Open() {
					want++
				}
			}
			f.OpenOnly = true
			if n, err := s.CountTickets(ctx, f); err != nil || n != want {
				t.Errorf("CountTickets(%+v) before the build = %d, %v; want %d", f, n, err, want)
			}
			if ts, err := s.ListTickets(ctx, f); err != nil || len(ts) != want {
				t.Errorf("ListTickets(%+v) before the build = %d tickets, %v; want %d", f, len(ts), err, want)
			}
		}
		if keys, err := scanPrefix(ctx, rdb, prefix+"{t}:open"); err != nil || len(keys) != 0 {
			t.Errorf("open keys before the build: %v, %v; want none", keys, err)
		}
	})

	t.Run("one instance", func(t *testing.T) {
		forgetOpenIndexes(t, rdb, prefix)
		s := newStore(t)
		n, err := s.BuildIndexes(ctx)
		if err != nil || n != open {
			t.Fatalf("BuildIndexes = %d, %v; want %d (the open tickets), nil", n, err, open)
		}
		if got := marker(t); got != redisstore.OpenIndexVersion {
			t.Errorf("marker after BuildIndexes = %q, want %q", got, redisstore.OpenIndexVersion)
		}
		assertOpenKeys(t, rdb, s, prefix, fx)
		if n, err := newStore(t).BuildIndexes(ctx); err != nil || n != 0 {
			t.Errorf("BuildIndexes on built indexes = %d, %v; want 0, nil", n, err)
		}
	})

	t.Run("with the facts, in one pass", func(t *testing.T) {
		forgetOpenIndexes(t, rdb, prefix)
		if err := rdb.Del(ctx, prefix+"{t}:facts_built").Err(); err != nil {
			t.Fatal(err)
		}
		s := newStore(t)
		// TicketFacts builds what is missing.
		var facts int
		if err := s.TicketFacts(ctx, t0, t0.Add(tickets*time.Hour), func(store.Facts) error { facts++; return nil }); err != nil || facts != tickets {
			t.Fatalf("TicketFacts = %d facts, %v; want %d", facts, err, tickets)
		}
		if got := marker(t); got != redisstore.OpenIndexVersion {
			t.Errorf("marker after TicketFacts = %q, want %q", got, redisstore.OpenIndexVersion)
		}
		if got, err := rdb.Get(ctx, prefix+"{t}:facts_built").Result(); err != nil || got != store.FactsVersion() {
			t.Errorf("facts marker after TicketFacts = %q, %v; want %q", got, err, store.FactsVersion())
		}
		assertOpenKeys(t, rdb, s, prefix, fx)
	})

	t.Run("instances at once, beside updates", func(t *testing.T) {
		forgetOpenIndexes(t, rdb, prefix)
		var (
			wg      sync.WaitGroup
			start   = make(chan struct{})
			indexed atomic.Int64
			updated atomic.Int64
		)
		for range instances {
			s := newStore(t)
			wg.Go(func() {
				<-start
				n, err := s.BuildIndexes(ctx)
				if err != nil {
					t.Errorf("BuildIndexes: %v", err)
				}
				indexed.Add(int64(n))
			})
		}
		// Officers finish, reopen and take over tickets while the
		// instances build: an update keeps the open indexes itself, and a
		// build that read the ticket before must not put it back where
		// it was.
		for w := range 8 {
			wg.Go(func() {
				<-start
				for i := w; i < tickets; i += 8 * 3 {
					tk, err := writer.GetTicket(ctx, ids[i])
					if err != nil {
						t.Errorf("GetTicket: %v", err)
						return
					}
					tk.Owner = fx.owners[(i+w+1)%len(fx.owners)]
					if tk.State.Open() {
						tk.State = store.StateResolved
					} else {
						tk.State = store.StateReopened
					}
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
		t.Logf("%d tickets indexed by %d instances, %d tickets updated meanwhile", indexed.Load(), instances, updated.Load())
		if got := marker(t); got != redisstore.OpenIndexVersion {
			t.Errorf("marker after the builds = %q, want %q", got, redisstore.OpenIndexVersion)
		}
		assertOpenKeys(t, rdb, newStore(t), prefix, fx)
	})
}
