package storetest

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"huimin/store"
)

// factsTicket is a ticket received at created whose facts have every
// field set, and whose other fields are there to be left out of them.
func factsTicket(id string, created time.Time) store.Ticket {
	tk := fullTicket(created)
	tk.ID = id
	tk.Window = "window-street-3"
	tk.Urgent = true
	tk.ResolvedAt = created.Add(48 * time.Hour)
	tk.Surveys = []store.Survey{{
		Round: 1, Officer: "officer-7", Due: created.Add(72 * time.Hour), SentAt: created.Add(72 * time.Hour),
		Channel: "chat", Level: 4, Comment: "太慢了", Via: "chat", AnsweredAt: created.Add(73 * time.Hour),
	}}
	tk.Rectifications = []store.Rectification{{
		Round: 1, Assignee: "chief-1", VerifyBy: created.Add(96 * time.Hour), Due: created.Add(120 * time.Hour),
	}}
	return tk
}

// plainTicket is a ticket with little more than its ID and CreatedAt.
func plainTicket(id string, created time.Time) store.Ticket {
	return store.Ticket{ID: id, Department: "relief", State: store.StateReceived, CreatedAt: created}
}

// collectFacts returns the facts TicketFacts gives for [from, to).
func collectFacts(t *testing.T, s Store, from, to time.Time) []store.Facts {
	t.Helper()
	var out []store.Facts
	err := s.TicketFacts(t.Context(), from, to, func(f store.Facts) error {
		out = append(out, f)
		return nil
	})
	check(t, fmt.Sprintf("TicketFacts(%v, %v)", from, to), err)
	return out
}

// factIDs returns the facts' ticket IDs, in order.
func factIDs(facts []store.Facts) []string {
	ids := make([]string, len(facts))
	for i, f := range facts {
		ids[i] = f.ID
	}
	return ids
}

// assertFacts compares facts by their JSON encoding, which is how both
// backends keep them: times then compare by instant and offset, whatever
// their *time.Location.
func assertFacts(t *testing.T, what string, got, want []store.Facts) {
	t.Helper()
	g, err := json.Marshal(got)
	check(t, "marshal got", err)
	w, err := json.Marshal(want)
	check(t, "marshal want", err)
	if string(g) != string(w) {
		t.Errorf("%s:\n got %s\nwant %s", what, g, w)
	}
}

// storedFacts returns store.FactsOf the stored tickets with the given IDs,
// in the order given.
func storedFacts(t *testing.T, s Store, ids ...string) []store.Facts {
	t.Helper()
	out := make([]store.Facts, 0, len(ids))
	for _, id := range ids {
		tk, err := s.GetTicket(t.Context(), id)
		check(t, "GetTicket "+id, err)
		out = append(out, store.FactsOf(tk))
	}
	return out
}

func testFacts(t *testing.T, h Harness) {
	t0 := refTime()
	day := 24 * time.Hour

	t.Run("Create", func(t *testing.T) {
		s := h.New(t)
		tk := factsTicket("T-1", t0)
		check(t, "CreateTicket", s.CreateTicket(t.Context(), tk))
		got := collectFacts(t, s, t0.Add(-day), t0.Add(day))
		assertFacts(t, "TicketFacts after CreateTicket", got, storedFacts(t, s, "T-1"))
		// The facts are the counted part of the ticket and nothing else.
		assertFacts(t, "TicketFacts against FactsOf the ticket given", got, []store.Facts{store.FactsOf(tk)})
	})

	t.Run("CreateTaken", func(t *testing.T) {
		s := h.New(t)
		ctx := t.Context()
		check(t, "CreateTicket", s.CreateTicket(ctx, factsTicket("T-1", t0)))
		second := factsTicket("T-1", t0.Add(time.Hour))
		second.Owner, second.Window = "officer-9", "window-other"
		wantErr(t, "CreateTicket with a taken ID", s.CreateTicket(ctx, second), store.ErrExists)
		assertFacts(t, "TicketFacts after the refused create", collectFacts(t, s, t0.Add(-day), t0.Add(day)), storedFacts(t, s, "T-1"))
	})

	t.Run("Update", func(t *testing.T) {
		tests := []struct {
			name   string
			change func(tk *store.Ticket)
		}{
			{"owner", func(tk *store.Ticket) { tk.Owner = "officer-9" }},
			{"state", func(tk *store.Ticket) { tk.State = store.StateClosed }},
			{"window and department", func(tk *store.Ticket) { tk.Window, tk.Department = "window-town-1", "veterans" }},
			{"survey answered", func(tk *store.Ticket) {
				tk.Surveys[0].Level, tk.Surveys[0].Via, tk.Surveys[0].Excluded = 1, "page", true
			}},
			{"second round", func(tk *store.Ticket) {
				tk.Surveys = append(tk.Surveys, store.Survey{Round: 2, Officer: "officer-9", Due: t0.Add(200 * time.Hour)})
				tk.Rectifications[0].Outcome, tk.Rectifications[0].RecordedAt = "immediate", t0.Add(100*time.Hour)
			}},
			{"surveys cleared", func(tk *store.Ticket) { tk.Surveys, tk.Rectifications = nil, nil }},
			{"deadline extended", func(tk *store.Ticket) { tk.Deadline = tk.Deadline.Add(3 * day) }},
			{"personal fields only", func(tk *store.Ticket) { tk.Phone, tk.Summary = "13900000000", "edited" }},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				s := h.New(t)
				ctx := t.Context()
				check(t, "CreateTicket", s.CreateTicket(ctx, factsTicket("T-1", t0)))
				check(t, "CreateTicket", s.CreateTicket(ctx, factsTicket("T-2", t0.Add(time.Minute))))
				tk, err := s.GetTicket(ctx, "T-1")
				check(t, "GetTicket", err)
				before := store.FactsOf(tk)
				tt.change(&tk)
				got, err := s.UpdateTicket(ctx, tk)
				check(t, "UpdateTicket", err)
				want := []store.Facts{store.FactsOf(got), store.FactsOf(factsTicket("T-2", t0.Add(time.Minute)))}
				facts := collectFacts(t, s, t0.Add(-day), t0.Add(day))
				assertFacts(t, "TicketFacts after UpdateTicket", facts, want)
				assertFacts(t, "TicketFacts against the stored tickets", facts, storedFacts(t, s, "T-1", "T-2"))
				if tt.name != "personal fields only" && len(facts) > 0 {
					g, _ := json.Marshal(facts[0])
					b, _ := json.Marshal(before)
					if string(g) == string(b) {
						t.Errorf("facts of T-1 did not change with its %s", tt.name)
					}
				}
			})
		}
	})

	t.Run("UpdateConflict", func(t *testing.T) {
		s := h.New(t)
		ctx := t.Context()
		check(t, "CreateTicket", s.CreateTicket(ctx, factsTicket("T-1", t0)))
		v1, err := s.GetTicket(ctx, "T-1")
		check(t, "GetTicket", err)
		v1.State = store.StateResolved
		_, err = s.UpdateTicket(ctx, v1)
		check(t, "UpdateTicket", err)
		stale := v1 // still Version 1
		stale.Owner, stale.State, stale.Window = "officer-9", store.StateClosed, "window-other"
		_, err = s.UpdateTicket(ctx, stale)
		wantErr(t, "UpdateTicket with a stale version", err, store.ErrConflict)
		facts := collectFacts(t, s, t0.Add(-day), t0.Add(day))
		assertFacts(t, "TicketFacts after the refused update", facts, storedFacts(t, s, "T-1"))
		if len(facts) == 1 && facts[0].State != store.StateResolved {
			t.Errorf("facts State = %s, want %s (the update before the conflict)", facts[0].State, store.StateResolved)
		}
	})

	t.Run("UpdateUnknown", func(t *testing.T) {
		s := h.New(t)
		_, err := s.UpdateTicket(t.Context(), factsTicket("T-nope", t0))
		wantErr(t, "UpdateTicket of an unknown ticket", err, store.ErrNotFound)
		if got := collectFacts(t, s, t0.Add(-day), t0.Add(day)); len(got) != 0 {
			t.Errorf("TicketFacts after a refused update of an unknown ticket = %v, want none", factIDs(got))
		}
	})

	t.Run("CreatedAtCorrected", func(t *testing.T) {
		// A correction that moves a ticket into another month moves its
		// facts there and leaves nothing behind.
		s := h.New(t)
		ctx := t.Context()
		check(t, "CreateTicket", s.CreateTicket(ctx, factsTicket("T-1", t0)))
		tk, err := s.GetTicket(ctx, "T-1")
		check(t, "GetTicket", err)
		tk.CreatedAt = t0.AddDate(0, -2, 0)
		_, err = s.UpdateTicket(ctx, tk)
		check(t, "UpdateTicket", err)
		if got := collectFacts(t, s, t0.Add(-day), t0.Add(day)); len(got) != 0 {
			t.Errorf("TicketFacts at the old CreatedAt = %v, want none", factIDs(got))
		}
		assertFacts(t, "TicketFacts at the new CreatedAt", collectFacts(t, s, t0.AddDate(0, -2, -1), t0.AddDate(0, -2, 1)), storedFacts(t, s, "T-1"))
		assertFacts(t, "TicketFacts over both", collectFacts(t, s, t0.AddDate(-1, 0, 0), t0.AddDate(1, 0, 0)), storedFacts(t, s, "T-1"))
	})

	t.Run("Bounds", func(t *testing.T) {
		s := h.New(t)
		from, to := t0, t0.Add(day)
		for _, tk := range []store.Ticket{
			plainTicket("T-before", from.Add(-time.Nanosecond)),
			plainTicket("T-from", from),
			plainTicket("T-mid", from.Add(time.Hour)),
			plainTicket("T-last", to.Add(-time.Nanosecond)),
			plainTicket("T-to", to),
		} {
			check(t, "CreateTicket "+tk.ID, s.CreateTicket(t.Context(), tk))
		}
		tests := []struct {
			name     string
			from, to time.Time
			want     []string
		}{
			{"from included, to excluded", from, to, []string{"T-from", "T-mid", "T-last"}},
			{"a nanosecond wider", from.Add(-time.Nanosecond), to.Add(time.Nanosecond), []string{"T-before", "T-from", "T-mid", "T-last", "T-to"}},
			{"a nanosecond narrower", from.Add(time.Nanosecond), to.Add(-time.Nanosecond), []string{"T-mid"}},
			{"one instant", from, from.Add(time.Nanosecond), []string{"T-from"}},
			{"empty range", from, from, nil},
			{"reversed range", to, from, nil},
			{"bounds in another zone", from.In(time.FixedZone("CST", 8*3600)), to.In(time.FixedZone("EST", -5*3600)), []string{"T-from", "T-mid", "T-last"}},
			{"zero from", time.Time{}, from, []string{"T-before"}},
			{"far future to", to, time.Date(9999, 1, 1, 0, 0, 0, 0, time.UTC), []string{"T-to"}},
			{"nothing there", from.AddDate(1, 0, 0), to.AddDate(1, 0, 0), nil},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				if got := factIDs(collectFacts(t, s, tt.from, tt.to)); !slices.Equal(got, tt.want) {
					t.Errorf("TicketFacts(%v, %v) = %v, want %v", tt.from, tt.to, got, tt.want)
				}
			})
		}
	})

	t.Run("MonthBoundary", func(t *testing.T) {
		s := h.New(t)
		feb := time.Date(2025, 2, 1, 0, 0, 0, 0, time.UTC)
		cst := time.FixedZone("CST", 8*3600)
		for _, tk := range []store.Ticket{
			plainTicket("T-jan-first", time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC)),
			plainTicket("T-jan-last", feb.Add(-100*time.Millisecond)),
			// February in Beijing, January in UTC: months are UTC's.
			plainTicket("T-jan-cst", time.Date(2025, 2, 1, 7, 0, 0, 0, cst)),
			plainTicket("T-feb-first", feb),
			plainTicket("T-feb-last", time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC).Add(-time.Nanosecond)),
			plainTicket("T-mar-first", time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC)),
			plainTicket("T-dec", time.Date(2024, 12, 31, 23, 59, 59, 0, time.UTC)),
		} {
			check(t, "CreateTicket "+tk.ID, s.CreateTicket(t.Context(), tk))
		}
		tests := []struct {
			name     string
			from, to time.Time
			want     []string
		}{
			{"January", time.Date(2025, 1, 1, 0, 0, 0, 0, time.UTC), feb, []string{"T-jan-first", "T-jan-cst", "T-jan-last"}},
			{"February", feb, time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC), []string{"T-feb-first", "T-feb-last"}},
			{"around midnight", feb.Add(-2 * time.Hour), feb.Add(time.Hour), []string{"T-jan-cst", "T-jan-last", "T-feb-first"}},
			{"year end", time.Date(2024, 12, 31, 0, 0, 0, 0, time.UTC), time.Date(2025, 1, 1, 0, 0, 1, 0, time.UTC), []string{"T-dec", "T-jan-first"}},
			{"February in Beijing", time.Date(2025, 2, 1, 0, 0, 0, 0, cst), time.Date(2025, 3, 1, 0, 0, 0, 0, cst),
				[]string{"T-jan-cst", "T-jan-last", "T-feb-first"}},
			{"a quarter", time.Date(2024, 12, 1, 0, 0, 0, 0, time.UTC), time.Date(2025, 3, 1, 0, 0, 0, 0, time.UTC),
				[]string{"T-dec", "T-jan-first", "T-jan-cst", "T-jan-last", "T-feb-first", "T-feb-last"}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				if got := factIDs(collectFacts(t, s, tt.from, tt.to)); !slices.Equal(got, tt.want) {
					t.Errorf("TicketFacts(%v, %v) = %v, want %v", tt.from, tt.to, got, tt.want)
				}
			})
		}
	})

	t.Run("Order", func(t *testing.T) {
		// Created newest first, so that insertion order cannot pass for
		// time order; ties by ID, and differences below a microsecond.
		s := h.New(t)
		tickets := []store.Ticket{
			plainTicket("T-5", t0.AddDate(0, 1, 0)),
			plainTicket("T-4b", t0.Add(time.Hour)),
			plainTicket("T-4a", t0.Add(time.Hour)),
			plainTicket("T-3", t0.Add(600*time.Nanosecond)),
			plainTicket("T-2", t0.Add(100*time.Nanosecond)),
			plainTicket("T-10", t0),
			plainTicket("T-1", t0),
		}
		for _, tk := range tickets {
			check(t, "CreateTicket "+tk.ID, s.CreateTicket(t.Context(), tk))
		}
		want := []string{"T-1", "T-10", "T-2", "T-3", "T-4a", "T-4b", "T-5"}
		got := collectFacts(t, s, t0.AddDate(0, -1, 0), t0.AddDate(0, 2, 0))
		if !slices.Equal(factIDs(got), want) {
			t.Errorf("TicketFacts order = %v, want %v", factIDs(got), want)
		}
		assertFacts(t, "TicketFacts", got, storedFacts(t, s, want...))
	})

	t.Run("StopsAtError", func(t *testing.T) {
		s := h.New(t)
		for i := range 5 {
			// Over two months, so that the stop comes inside the second.
			tk := plainTicket(fmt.Sprintf("T-%d", i), t0.AddDate(0, 0, 15*i))
			check(t, "CreateTicket "+tk.ID, s.CreateTicket(t.Context(), tk))
		}
		stop := errors.New("enough")
		var seen []string
		err := s.TicketFacts(t.Context(), t0, t0.AddDate(1, 0, 0), func(f store.Facts) error {
			seen = append(seen, f.ID)
			if len(seen) == 4 {
				return stop
			}
			return nil
		})
		if !errors.Is(err, stop) {
			t.Errorf("TicketFacts error = %v, want fn's %v", err, stop)
		}
		if want := []string{"T-0", "T-1", "T-2", "T-3"}; !slices.Equal(seen, want) {
			t.Errorf("fn saw %v, want %v and no more", seen, want)
		}
	})

	t.Run("Canceled", func(t *testing.T) {
		s := h.New(t)
		check(t, "CreateTicket", s.CreateTicket(t.Context(), plainTicket("T-1", t0)))
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		err := s.TicketFacts(ctx, t0, t0.Add(day), func(store.Facts) error { return nil })
		if !errors.Is(err, context.Canceled) {
			t.Errorf("TicketFacts with a canceled context = %v, want context.Canceled", err)
		}
	})

	t.Run("ConcurrentUpdates", func(t *testing.T) { testFactsConcurrent(t, h) })
}

// testFactsConcurrent has officers update tickets at once, re-reading on
// store.ErrConflict: the facts must follow the last write of each.
func testFactsConcurrent(t *testing.T, h Harness) {
	const (
		tickets  = 4
		officers = 6
	)
	t0 := refTime()
	s := h.New(t)
	ctx := t.Context()
	ids := make([]string, tickets)
	for i := range tickets {
		ids[i] = fmt.Sprintf("T-%d", i)
		check(t, "CreateTicket", s.CreateTicket(ctx, factsTicket(ids[i], t0.Add(time.Duration(i)*time.Hour))))
	}
	var wg sync.WaitGroup
	start := make(chan struct{})
	for o := range officers {
		for _, id := range ids {
			wg.Go(func() {
				<-start
				for attempt := range 100 {
					cur, err := s.GetTicket(ctx, id)
					if err != nil {
						t.Errorf("GetTicket: %v", err)
						return
					}
					cur.Owner = fmt.Sprintf("officer-%d", o)
					cur.Surveys = append(cur.Surveys, store.Survey{Round: len(cur.Surveys) + 1, Officer: cur.Owner, Level: 1 + attempt%5, Via: "chat"})
					_, err = s.UpdateTicket(ctx, cur)
					if errors.Is(err, store.ErrConflict) {
						continue
					}
					if err != nil {
						t.Errorf("UpdateTicket: %v", err)
					}
					return
				}
				t.Errorf("%s: still conflicting after 100 attempts", id)
			})
		}
	}
	close(start)
	wg.Wait()
	got := collectFacts(t, s, t0, t0.Add(24*time.Hour))
	assertFacts(t, "TicketFacts after concurrent updates", got, storedFacts(t, s, ids...))
	for _, f := range got {
		if len(f.Surveys) != 1+officers {
			t.Errorf("facts of %s have %d surveys, want %d (one per officer, and the first)", f.ID, len(f.Surveys), 1+officers)
		}
	}
}
