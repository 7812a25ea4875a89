package boltstore_test

import (
	"encoding/json"
	"fmt"
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"huimin/store"
	"huimin/store/boltstore"
)

// allFacts returns the facts of every ticket.
func allFacts(t *testing.T, s *boltstore.Store) []store.Facts {
	t.Helper()
	var out []store.Facts
	err := s.TicketFacts(t.Context(), time.Time{}, time.Date(2100, 1, 1, 0, 0, 0, 0, time.UTC), func(f store.Facts) error {
		out = append(out, f)
		return nil
	})
	if err != nil {
		t.Fatalf("TicketFacts: %v", err)
	}
	return out
}

// TestOpenBuildsFacts opens a file whose tickets were written before the
// facts index existed: New builds the index, once for each version of
// store.Facts.
func TestOpenBuildsFacts(t *testing.T) {
	const tickets = 2500 // more than one TicketFacts chunk
	path := filepath.Join(t.TempDir(), "huimin.db")
	ctx := t.Context()
	t0 := time.Date(2026, 1, 20, 0, 0, 0, 0, time.UTC)
	s, err := boltstore.New(path, boltstore.Options{})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	ids := make([]string, tickets)
	for i := range tickets {
		ids[i] = fmt.Sprintf("MZ-%04d", i)
		tk := store.Ticket{ID: ids[i], Department: "relief", Window: "w1", State: store.StateReceived, CreatedAt: t0.Add(time.Duration(i) * time.Hour)}
		if err := s.CreateTicket(ctx, tk); err != nil {
			t.Fatalf("CreateTicket: %v", err)
		}
	}
	tk, err := s.GetTicket(ctx, ids[7])
	if err != nil {
		t.Fatalf("GetTicket: %v", err)
	}
	tk.Owner, tk.State = "o1", store.StateResolved
	if _, err := s.UpdateTicket(ctx, tk); err != nil {
		t.Fatalf("UpdateTicket: %v", err)
	}
	// Back to a file as an earlier version left it: no facts, no marker.
	s = reopen(t, s, path, func(tx *bolt.Tx) error {
		if err := tx.DeleteBucket([]byte("ticket_facts")); err != nil {
			return err
		}
		return tx.Bucket([]byte("meta")).Delete([]byte("ticket_facts"))
	})
	got := allFacts(t, s)
	if len(got) != tickets {
		t.Fatalf("TicketFacts after reopening gave %d facts, want %d", len(got), tickets)
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

	// The marker holds this version: opening again builds nothing, and a
	// facts entry deleted behind the store's back stays missing.
	s = reopen(t, s, path, func(tx *bolt.Tx) error {
		c := tx.Bucket([]byte("ticket_facts")).Cursor()
		k, _ := c.First()
		return c.Bucket().Delete(k)
	})
	if got := allFacts(t, s); len(got) != tickets-1 {
		t.Errorf("TicketFacts after reopening a built index gave %d facts, want %d (no second build)", len(got), tickets-1)
	}

	// A marker of another version (Facts changed shape since the index
	// was built) makes the next open build it afresh.
	s = reopen(t, s, path, func(tx *bolt.Tx) error {
		return tx.Bucket([]byte("meta")).Put([]byte("ticket_facts"), []byte("an-earlier-version"))
	})
	if got := allFacts(t, s); len(got) != tickets {
		t.Errorf("TicketFacts after reopening an index of another version gave %d facts, want %d", len(got), tickets)
	}
}

// reopen closes s, runs edit on its file at path with no store open on
// it, and opens the file again; the store is closed when the test ends.
func reopen(t *testing.T, s *boltstore.Store, path string, edit func(tx *bolt.Tx) error) *boltstore.Store {
	t.Helper()
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{Timeout: time.Second})
	if err != nil {
		t.Fatalf("open %s: %v", path, err)
	}
	if err := db.Update(edit); err != nil {
		t.Fatalf("edit %s: %v", path, err)
	}
	if err := db.Close(); err != nil {
		t.Fatalf("close %s: %v", path, err)
	}
	s, err = boltstore.New(path, boltstore.Options{})
	if err != nil {
		t.Fatalf("New again: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	return s
}
