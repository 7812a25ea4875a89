package desk

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"huimin/store"
)

// filterSpy is a store that records the filters of the ticket lists and
// counts asked of it.
type filterSpy struct {
	testStore
	mu      sync.Mutex
	listed  []store.TicketFilter
	counted []store.TicketFilter
}

func (s *filterSpy) ListTickets(ctx context.Context, f store.TicketFilter) ([]store.Ticket, error) {
	s.mu.Lock()
	s.listed = append(s.listed, f)
	s.mu.Unlock()
	return s.testStore.ListTickets(ctx, f)
}

func (s *filterSpy) CountTickets(ctx context.Context, f store.TicketFilter) (int, error) {
	s.mu.Lock()
	s.counted = append(s.counted, f)
	s.mu.Unlock()
	return s.testStore.CountTickets(ctx, f)
}

// take returns and forgets the filters recorded.
func (s *filterSpy) take() (listed, counted []store.TicketFilter) {
	s.mu.Lock()
	defer s.mu.Unlock()
	listed, counted = s.listed, s.counted
	s.listed, s.counted = nil, nil
	return listed, counted
}

// TestRoutingCountsOpenTickets checks that routing weighs officers by a
// count of their open tickets, asked of the store as a count: it lists no
// officer's tickets, which read (before the stores kept open indexes)
// every ticket the officer ever had, a year of finished ones, for each
// candidate on each assignment. The store answers the count from its
// open index without reading a ticket (the stores' tests prove that).
func TestRoutingCountsOpenTickets(t *testing.T) {
	eachStore(t, func(t *testing.T, mk storeMaker) {
		var spy *filterSpy
		r := newDesk(t, func(t *testing.T) testStore {
			spy = &filterSpy{testStore: mk(t)}
			return spy
		}, at("2026-11-30 10:00"))
		ctx := t.Context()
		// wang has a history of finished tickets and nothing open; li has
		// one ticket open.
		t0 := at("2025-11-03 09:00")
		for i, st := range []store.TicketState{store.StateClosed, store.StateResolved, store.StateClosed, store.StateTransferredOut, store.StateClosed} {
			tk := store.Ticket{ID: fmt.Sprintf("OLD-%d", i), CitizenOpenID: "oOld", Line: "relief", Inquiry: "help", Department: "relief",
				Owner: "wang", State: st, CreatedAt: t0.Add(time.Duration(i) * 24 * time.Hour)}
			if err := r.st.CreateTicket(ctx, tk); err != nil {
				t.Fatal(err)
			}
		}
		busy := store.Ticket{ID: "OLD-LI", CitizenOpenID: "oOld", Line: "relief", Inquiry: "help", Department: "relief",
			Owner: "li", State: store.StateInProgress, CreatedAt: t0}
		if err := r.st.CreateTicket(ctx, busy); err != nil {
			t.Fatal(err)
		}
		spy.take()

		tk := r.open(t, "oCitizen", "relief", "help")
		if tk.Owner != "wang" {
			t.Errorf("ticket went to %q, want wang: no open ticket (his finished ones do not count) against li's one", tk.Owner)
		}
		listed, counted := spy.take()
		for _, f := range listed {
			if f.Owner != "" {
				t.Errorf("routing listed the tickets of %+v, want a count", f)
			}
		}
		want := []store.TicketFilter{{Owner: "wang", OpenOnly: true}, {Owner: "li", OpenOnly: true}}
		for _, f := range want {
			if !slices.Contains(counted, f) {
				t.Errorf("routing counted %+v, want among them %+v", counted, f)
			}
		}

		// Now both have one open ticket: either may get the next, and li's
		// cap of two is not yet reached.
		if tk := r.open(t, "oCitizen2", "relief", "help"); tk.Owner != "wang" && tk.Owner != "li" {
			t.Errorf("second ticket went to %q, want wang or li", tk.Owner)
		}
	})
}
