package boltstore_test

import (
	"fmt"
	"path/filepath"
	"slices"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"huimin/store"
	"huimin/store/boltstore"
)

// openBuckets are the open index buckets, by the field they index.
var openBuckets = []string{"tickets_open_by_owner", "tickets_open_by_department", "tickets_open_by_citizen"}

// assertOpenIndexes checks, for every single-field filter over the
// values, that ListTickets with OpenOnly gives the open tickets of the
// full list (which the open indexes do not serve), and CountTickets
// their number; it returns how many open tickets the owners hold.
func assertOpenIndexes(t *testing.T, what string, s *boltstore.Store, owners, depts, citizens []string) int {
	t.Helper()
	var fs []store.TicketFilter
	for _, o := range owners {
		fs = append(fs, store.TicketFilter{Owner: o})
	}
	for _, d := range depts {
		fs = append(fs, store.TicketFilter{Department: d})
	}
	for _, c := range citizens {
		fs = append(fs, store.TicketFilter{Citizen: c})
	}
	ownersOpen := 0
	for _, f := range fs {
		all, err := s.ListTickets(t.Context(), f)
		if err != nil {
			t.Fatalf("%s: ListTickets(%+v): %v", what, f, err)
		}
		var want []string
		for _, tk := range all {
			if tk.State.Open() {
				want = append(want, tk.ID)
			}
		}
		f.OpenOnly = true
		open, err := s.ListTickets(t.Context(), f)
		if err != nil {
			t.Fatalf("%s: ListTickets(%+v): %v", what, f, err)
		}
		got := make([]string, len(open))
		for i, tk := range open {
			got[i] = tk.ID
		}
		if !slices.Equal(got, want) {
			t.Errorf("%s: ListTickets(%+v) = %v, want %v", what, f, got, want)
		}
		n, err := s.CountTickets(t.Context(), f)
		if err != nil || n != len(want) {
			t.Errorf("%s: CountTickets(%+v) = %d, %v; want %d", what, f, n, err, len(want))
		}
		if f.Owner != "" {
			ownersOpen += n
		}
	}
	return ownersOpen
}

// TestOpenBuildsOpenIndexes opens a file whose tickets were written
// before the open indexes existed: New builds them, once for each
// version, from the tickets as they are.
func TestOpenBuildsOpenIndexes(t *testing.T) {
	const tickets = 300
	path := filepath.Join(t.TempDir(), "huimin.db")
	ctx := t.Context()
	t0 := time.Date(2026, 1, 20, 0, 0, 0, 0, time.UTC)
	s, err := boltstore.New(path, boltstore.Options{})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	owners := []string{"o0", "o1", "o2", "o3"}
	depts := []string{"d0", "d1", "d2"}
	citizens := []string{"c0", "c1", "c2", "c3", "c4"}
	states := []store.TicketState{
		store.StateReceived, store.StateAssigned, store.StateInProgress, store.StateWaiting,
		store.StateResolved, store.StateClosed, store.StateReopened, store.StateTransferredOut,
	}
	open := 0
	for i := range tickets {
		tk := store.Ticket{
			ID: fmt.Sprintf("MZ-%04d", i), Owner: owners[i%len(owners)], Department: depts[i%len(depts)],
			CitizenOpenID: citizens[i%len(citizens)], State: states[i%len(states)], CreatedAt: t0.Add(time.Duration(i) * time.Hour),
		}
		if err := s.CreateTicket(ctx, tk); err != nil {
			t.Fatalf("CreateTicket: %v", err)
		}
		if tk.State.Open() {
			open++
		}
	}
	if got := assertOpenIndexes(t, "as written", s, owners, depts, citizens); got != open {
		t.Fatalf("owners hold %d open tickets, want %d", got, open)
	}

	// Back to a file as an earlier version left it: no open indexes, no
	// marker.
	s = reopen(t, s, path, func(tx *bolt.Tx) error {
		for _, b := range openBuckets {
			if err := tx.DeleteBucket([]byte(b)); err != nil {
				return err
			}
		}
		return tx.Bucket([]byte("meta")).Delete([]byte("ticket_open_index"))
	})
	if got := assertOpenIndexes(t, "rebuilt", s, owners, depts, citizens); got != open {
		t.Errorf("after the build owners hold %d open tickets, want %d", got, open)
	}

	// The marker holds this version: opening again builds nothing, and an
	// entry deleted behind the store's back (o0's first) stays missing.
	o0 := store.TicketFilter{Owner: "o0", OpenOnly: true}
	before, err := s.CountTickets(ctx, o0)
	if err != nil {
		t.Fatalf("CountTickets: %v", err)
	}
	s = reopen(t, s, path, func(tx *bolt.Tx) error {
		c := tx.Bucket([]byte("tickets_open_by_owner")).Cursor()
		k, _ := c.First()
		return c.Bucket().Delete(k)
	})
	if n, err := s.CountTickets(ctx, o0); err != nil || n != before-1 {
		t.Errorf("CountTickets(%+v) after reopening a built index = %d, %v; want %d (no second build)", o0, n, err, before-1)
	}

	// A marker of another version makes the next open build them
	// afresh: the missing entry is back, and one that should not be
	// there (a finished ticket) is gone.
	s = reopen(t, s, path, func(tx *bolt.Tx) error {
		stale := append([]byte("o1\x00"), make([]byte, 8)...)
		if err := tx.Bucket([]byte("tickets_open_by_owner")).Put(append(stale, "MZ-0005"...), nil); err != nil {
			return err
		}
		return tx.Bucket([]byte("meta")).Put([]byte("ticket_open_index"), []byte("an-earlier-version"))
	})
	if got := assertOpenIndexes(t, "built for another version", s, owners, depts, citizens); got != open {
		t.Errorf("after the build owners hold %d open tickets, want %d", got, open)
	}
}
