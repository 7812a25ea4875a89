package redisstore

import (
	"encoding/json"
	"testing"
	"time"

	"huimin/store"
	"huimin/store/redisstore/redistest"
)

// TestBackfillWritesOnlyUnchangedTickets checks the build's guard: the
// facts of a ticket read before an update are not written over the
// update's own, nor does it join the open index of the owner the update
// took it from, and a ticket gone since it was read gets neither.
func TestBackfillWritesOnlyUnchangedTickets(t *testing.T) {
	rdb := redistest.StartStandalone(t).Client(t)
	s := New(rdb, Options{Prefix: "bf:"})
	t.Cleanup(func() { _ = s.Close() })
	ctx := t.Context()
	t0 := time.Date(2026, 11, 3, 9, 0, 0, 0, time.UTC)
	tk := store.Ticket{ID: "T-1", Department: "relief", Owner: "o1", State: store.StateAssigned, CreatedAt: t0}
	if err := s.CreateTicket(ctx, tk); err != nil {
		t.Fatalf("CreateTicket: %v", err)
	}
	key, facts := s.keys.ticket("T-1"), s.keys.facts(t0)
	if facts != "bf:{t}:facts:2026-11" {
		t.Fatalf("facts key = %q, want bf:{t}:facts:2026-11", facts)
	}
	stale, err := rdb.Get(ctx, key).Bytes()
	if err != nil {
		t.Fatalf("GET: %v", err)
	}
	cur, err := s.GetTicket(ctx, "T-1")
	if err != nil {
		t.Fatalf("GetTicket: %v", err)
	}
	cur.Owner, cur.State = "o2", store.StateInProgress
	updated, err := s.UpdateTicket(ctx, cur)
	if err != nil {
		t.Fatalf("UpdateTicket: %v", err)
	}
	fresh, err := rdb.Get(ctx, key).Bytes()
	if err != nil {
		t.Fatalf("GET: %v", err)
	}
	all := indexBuild{facts: true, open: true}
	openOf := func(owner string) string { return s.keys.openIndex(indexOwner, owner) }
	wantOpen := func(what string, o1, o2 bool) {
		t.Helper()
		for _, w := range []struct {
			owner string
			want  bool
		}{{"o1", o1}, {"o2", o2}} {
			_, err := rdb.ZScore(ctx, openOf(w.owner), "T-1").Result()
			if got := err == nil; got != w.want {
				t.Errorf("%s: T-1 in the open index of %s = %v (%v), want %v", what, w.owner, got, err, w.want)
			}
		}
	}
	wantFacts := func(what string, want store.Ticket) {
		t.Helper()
		got, err := rdb.HGet(ctx, facts, "T-1").Result()
		if err != nil {
			t.Fatalf("%s: HGET %s T-1: %v", what, facts, err)
		}
		w, _ := json.Marshal(store.FactsOf(want))
		if got != string(w) {
			t.Errorf("%s: facts\n got %s\nwant %s", what, got, w)
		}
	}

	tests := []struct {
		name    string
		raw     []byte
		written int
	}{
		{"bytes read before an update", stale, 0},
		{"bytes the ticket holds", fresh, 1},
		{"nothing read", nil, 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if err := rdb.ZRem(ctx, openOf("o2"), "T-1").Err(); err != nil {
				t.Fatalf("ZREM: %v", err)
			}
			n, err := s.backfillTickets(ctx, []string{key}, [][]byte{tt.raw}, all)
			if err != nil || n != tt.written {
				t.Errorf("backfillTickets = %d, %v; want %d, nil", n, err, tt.written)
			}
			wantFacts("after backfillTickets", updated)
			wantOpen("after backfillTickets", false, tt.written == 1)
		})
	}

	t.Run("ticket gone since read", func(t *testing.T) {
		if err := rdb.Del(ctx, key).Err(); err != nil {
			t.Fatalf("DEL: %v", err)
		}
		if err := rdb.HDel(ctx, facts, "T-1").Err(); err != nil {
			t.Fatalf("HDEL: %v", err)
		}
		if err := rdb.ZRem(ctx, openOf("o2"), "T-1").Err(); err != nil {
			t.Fatalf("ZREM: %v", err)
		}
		n, err := s.backfillTickets(ctx, []string{key}, [][]byte{fresh}, all)
		if err != nil || n != 0 {
			t.Errorf("backfillTickets = %d, %v; want 0, nil", n, err)
		}
		wantOpen("after backfillTickets", false, false)
		if ok, err := rdb.HExists(ctx, facts, "T-1").Result(); err != nil || ok {
			t.Errorf("HEXISTS %s T-1 = %v, %v; want false", facts, ok, err)
		}
	})
}

// TestFactsKeysShareTheTicketsSlot checks that the facts hashes, the open
// indexes and the markers hash like the tickets: the ticket scripts write
// them together.
func TestFactsKeysShareTheTicketsSlot(t *testing.T) {
	k := keys{prefix: DefaultPrefix}
	want := hashTag(k.ticket("T-1"))
	for _, key := range []string{
		k.facts(time.Date(2026, 11, 30, 23, 0, 0, 0, time.FixedZone("CST", 8*3600))),
		k.facts(time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)),
		k.factsBuilt(),
		k.openBuilt(),
		k.openIndex(indexOwner, "o1"),
		k.openIndex(indexDepartment, "relief"),
		k.openIndex(indexCitizen, "c1"),
	} {
		if got := hashTag(key); got != want {
			t.Errorf("hash tag of %q = %q, want %q", key, got, want)
		}
	}
	if got, want := k.facts(time.Date(2026, 12, 1, 7, 0, 0, 0, time.FixedZone("CST", 8*3600))), "huimin:{t}:facts:2026-11"; got != want {
		t.Errorf("facts key of 2026-12-01 07:00 +08:00 = %q, want %q (the UTC month)", got, want)
	}
}

func TestTicketsPattern(t *testing.T) {
	tests := []struct{ prefix, want string }{
		{"huimin:", "huimin:{t}:ticket:*"},
		{"a*b?[c]\\:", `a\*b\?\[c\]\\:{t}:ticket:*`},
	}
	for _, tt := range tests {
		if got := (keys{prefix: tt.prefix}).tickets(); got != tt.want {
			t.Errorf("tickets pattern of prefix %q = %q, want %q", tt.prefix, got, tt.want)
		}
	}
}
