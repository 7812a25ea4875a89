package storetest

import (
	"cmp"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
	"time"

	"huimin/store"
)

// testOpenIndex checks ListTickets with OpenOnly and CountTickets against
// a model of the stored tickets: the backends answer them from indexes of
// the open tickets, which every write must keep.
func testOpenIndex(t *testing.T, h Harness) {
	t.Run("Lifecycle", func(t *testing.T) { testOpenLifecycle(t, h) })
	t.Run("Random", func(t *testing.T) { testOpenRandom(t, h) })
}

// ticketModel is what a store should hold: the tickets by ID, as last
// written.
type ticketModel map[string]store.Ticket

// list returns the IDs of the model's tickets matching f, oldest first
// (by CreatedAt, then ID), as ListTickets orders them.
func (m ticketModel) list(f store.TicketFilter) []string {
	var match []store.Ticket
	for _, t := range m {
		if (f.Owner == "" || t.Owner == f.Owner) &&
			(f.Department == "" || t.Department == f.Department) &&
			(f.Citizen == "" || t.CitizenOpenID == f.Citizen) &&
			(!f.OpenOnly || t.State.Open()) {
			match = append(match, t)
		}
	}
	slices.SortFunc(match, func(a, b store.Ticket) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), strings.Compare(a.ID, b.ID))
	})
	ids := make([]string, len(match))
	for i, t := range match {
		ids[i] = t.ID
	}
	return ids
}

// filters returns every filter over the given values (each may be left
// empty, and a value no ticket has is added to each), with and without
// OpenOnly, except those that set none of owner, department and citizen.
func filters(owners, depts, citizens []string) []store.TicketFilter {
	with := func(vs []string, none string) []string { return append(append([]string{""}, vs...), none) }
	var out []store.TicketFilter
	for _, o := range with(owners, "o-nobody") {
		for _, d := range with(depts, "d-nowhere") {
			for _, c := range with(citizens, "c-nobody") {
				if o == "" && d == "" && c == "" {
					continue
				}
				for _, open := range []bool{false, true} {
					out = append(out, store.TicketFilter{Owner: o, Department: d, Citizen: c, OpenOnly: open})
				}
			}
		}
	}
	return out
}

// assertModel checks that ListTickets gives the model's tickets for every
// filter, and CountTickets their number.
func assertModel(t *testing.T, what string, s Store, m ticketModel, fs []store.TicketFilter) {
	t.Helper()
	for _, f := range fs {
		want := m.list(f)
		got := listIDs(t, s, f)
		if !slices.Equal(got, want) {
			t.Errorf("%s: ListTickets(%+v) = %v, want %v", what, f, got, want)
		}
		n, err := s.CountTickets(t.Context(), f)
		check(t, fmt.Sprintf("%s: CountTickets(%+v)", what, f), err)
		if n != len(want) {
			t.Errorf("%s: CountTickets(%+v) = %d, want %d (ListTickets gives %d)", what, f, n, len(want), len(got))
		}
	}
}

// testOpenLifecycle takes one ticket through its life beside another that
// stays open, and checks every list and count after each step: a ticket
// leaves the open lists when it is resolved or closed, comes back when it
// is reopened, and moves between owners' and departments' open lists
// with transfers, finished or not.
func testOpenLifecycle(t *testing.T, h Harness) {
	t0 := refTime()
	s := h.New(t)
	ctx := t.Context()
	m := ticketModel{}
	for _, tk := range []store.Ticket{
		{ID: "T-1", CitizenOpenID: "c1", Department: "relief", State: store.StateReceived, CreatedAt: t0.Add(time.Hour)},
		{ID: "T-2", CitizenOpenID: "c2", Department: "relief", Owner: "o1", State: store.StateInProgress, CreatedAt: t0},
	} {
		check(t, "CreateTicket "+tk.ID, s.CreateTicket(ctx, tk))
		tk.Version = 1
		m[tk.ID] = tk
	}
	fs := filters([]string{"o1", "o2", "o3"}, []string{"relief", "veterans"}, []string{"c1", "c2"})
	assertModel(t, "created", s, m, fs)
	steps := []struct {
		name   string
		change func(tk *store.Ticket)
	}{
		{"assigned", func(tk *store.Ticket) { tk.Owner, tk.State = "o1", store.StateAssigned }},
		{"accepted", func(tk *store.Ticket) { tk.State = store.StateInProgress }},
		{"waiting for the citizen", func(tk *store.Ticket) { tk.State = store.StateWaiting }},
		{"resolved", func(tk *store.Ticket) { tk.State = store.StateResolved }},
		{"reopened", func(tk *store.Ticket) { tk.State = store.StateReopened }},
		{"transferred to another owner", func(tk *store.Ticket) { tk.Owner, tk.State = "o2", store.StateAssigned }},
		{"transferred to another department", func(tk *store.Ticket) { tk.Department, tk.Owner, tk.State = "veterans", "", store.StateReceived }},
		{"assigned there", func(tk *store.Ticket) { tk.Owner, tk.State = "o2", store.StateInProgress }},
		{"created at corrected while open", func(tk *store.Ticket) { tk.CreatedAt = t0.Add(-time.Hour) }},
		{"closed", func(tk *store.Ticket) { tk.State = store.StateClosed }},
		{"owner changed while closed", func(tk *store.Ticket) { tk.Owner = "o3" }},
		{"department changed while closed", func(tk *store.Ticket) { tk.Department = "relief" }},
		{"reopened at the new owner", func(tk *store.Ticket) { tk.State = store.StateReopened }},
		{"citizen corrected while open", func(tk *store.Ticket) { tk.CitizenOpenID = "c2" }},
		{"transferred out", func(tk *store.Ticket) { tk.State = store.StateTransferredOut }},
		{"an edit while finished", func(tk *store.Ticket) { tk.Summary = "edited" }},
	}
	for _, st := range steps {
		tk, err := s.GetTicket(ctx, "T-1")
		check(t, st.name+": GetTicket", err)
		st.change(&tk)
		tk, err = s.UpdateTicket(ctx, tk)
		check(t, st.name+": UpdateTicket", err)
		m[tk.ID] = tk
		assertModel(t, st.name, s, m, fs)
	}
}

// testOpenRandom writes random tickets and random changes to them and
// compares every list and count with a model after each round: a
// brute-force check that the open indexes follow every kind of write.
func testOpenRandom(t *testing.T, h Harness) {
	const (
		tickets = 40
		rounds  = 3
		changes = 60
	)
	t0 := refTime()
	s := h.New(t)
	ctx := t.Context()
	rng := rand.New(rand.NewPCG(20251128, 1))
	owners := []string{"o1", "o2", "o3"}
	depts := []string{"relief", "veterans"}
	citizens := []string{"c1", "c2", "c3"}
	states := []store.TicketState{
		store.StateReceived, store.StateAssigned, store.StateInProgress, store.StateWaiting,
		store.StateResolved, store.StateClosed, store.StateReopened, store.StateTransferredOut,
	}
	pick := func(vs []string, empty bool) string {
		if empty && rng.IntN(len(vs)+1) == 0 {
			return ""
		}
		return vs[rng.IntN(len(vs))]
	}
	// Few distinct times, so that ties by ID come up.
	created := func() time.Time { return t0.Add(time.Duration(rng.IntN(8)) * time.Minute) }
	m := ticketModel{}
	for i := range tickets {
		tk := store.Ticket{
			ID: fmt.Sprintf("T-%02d", i), CitizenOpenID: pick(citizens, true), Department: pick(depts, false),
			Owner: pick(owners, true), State: states[rng.IntN(len(states))], CreatedAt: created(),
		}
		check(t, "CreateTicket "+tk.ID, s.CreateTicket(ctx, tk))
		tk.Version = 1
		m[tk.ID] = tk
	}
	fs := filters(owners, depts, citizens)
	assertModel(t, "created", s, m, fs)
	for round := range rounds {
		for range changes {
			tk, err := s.GetTicket(ctx, fmt.Sprintf("T-%02d", rng.IntN(tickets)))
			check(t, "GetTicket", err)
			switch rng.IntN(5) {
			case 0:
				tk.Owner = pick(owners, true)
			case 1:
				tk.Department = pick(depts, false)
			case 2:
				tk.CitizenOpenID = pick(citizens, true)
			case 3:
				tk.CreatedAt = created()
			}
			// Most changes move the state too, as the desk's do.
			if rng.IntN(3) > 0 {
				tk.State = states[rng.IntN(len(states))]
			}
			tk, err = s.UpdateTicket(ctx, tk)
			check(t, "UpdateTicket", err)
			m[tk.ID] = tk
		}
		assertModel(t, fmt.Sprintf("after round %d", round+1), s, m, fs)
	}
}
