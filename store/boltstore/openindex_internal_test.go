package boltstore

import (
	"path/filepath"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"huimin/store"
)

// TestOpenReadsNoFinishedTicket proves that counting and listing an
// officer's open tickets reads none of their finished ones: those are
// made unreadable, and only a read of every ticket trips on them.
// Before the open indexes, ListTickets with OpenOnly read (and decoded)
// every ticket of the owner and kept the open ones, so routing read an
// officer's whole history for each assignment.
func TestOpenReadsNoFinishedTicket(t *testing.T) {
	s, err := New(filepath.Join(t.TempDir(), "huimin.db"), Options{})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	ctx := t.Context()
	t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	finished := []string{"T-1", "T-2", "T-4"}
	for i, st := range []store.TicketState{store.StateClosed, store.StateResolved, store.StateInProgress, store.StateTransferredOut, store.StateReopened} {
		tk := store.Ticket{ID: "T-" + string(rune('1'+i)), Owner: "o1", Department: "relief", CitizenOpenID: "c1", State: st, CreatedAt: t0.Add(time.Duration(i) * time.Hour)}
		if err := s.CreateTicket(ctx, tk); err != nil {
			t.Fatalf("CreateTicket: %v", err)
		}
	}
	err = s.db.Update(func(tx *bolt.Tx) error {
		for _, id := range finished {
			if err := bucket(tx, bucketTickets).Put([]byte(id), []byte("{not a ticket")); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("spoil the finished tickets: %v", err)
	}
	if _, err := s.ListTickets(ctx, store.TicketFilter{Owner: "o1"}); err == nil {
		t.Fatal("ListTickets(o1) read the spoiled tickets without error: the test proves nothing")
	}
	for _, f := range []store.TicketFilter{
		{Owner: "o1", OpenOnly: true},
		{Department: "relief", OpenOnly: true},
		{Citizen: "c1", OpenOnly: true},
	} {
		n, err := s.CountTickets(ctx, f)
		if err != nil || n != 2 {
			t.Errorf("CountTickets(%+v) = %d, %v; want 2, nil", f, n, err)
		}
		ts, err := s.ListTickets(ctx, f)
		if err != nil || len(ts) != 2 || ts[0].ID != "T-3" || ts[1].ID != "T-5" {
			t.Errorf("ListTickets(%+v) = %+v, %v; want T-3 and T-5", f, ts, err)
		}
	}
	// A count of every ticket of an owner is an index's length too.
	if n, err := s.CountTickets(ctx, store.TicketFilter{Owner: "o1"}); err != nil || n != 5 {
		t.Errorf("CountTickets(o1) = %d, %v; want 5, nil", n, err)
	}
}
