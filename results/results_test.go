package results_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"path/filepath"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"huimin/results"
	"huimin/store"
	"huimin/store/boltstore"
	"huimin/store/redisstore"
)

// ticketStore is what the test writes tickets through.
type ticketStore interface {
	results.Source
	CreateTicket(ctx context.Context, t store.Ticket) error
	GetTicket(ctx context.Context, id string) (store.Ticket, error)
	UpdateTicket(ctx context.Context, t store.Ticket) (store.Ticket, error)
}

func stores(t *testing.T) map[string]func(t *testing.T) ticketStore {
	return map[string]func(t *testing.T) ticketStore{
		"bolt": func(t *testing.T) ticketStore {
			st, err := boltstore.New(filepath.Join(t.TempDir(), "h.db"), boltstore.Options{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = st.Close() })
			return st
		},
		"redis": func(t *testing.T) ticketStore {
			addr := os.Getenv("HUIMIN_TEST_REDIS_ADDR")
			if addr == "" {
				addr = "127.0.0.1:6379"
			}
			client := goredis.NewClient(&goredis.Options{Addr: addr})
			if err := client.Ping(t.Context()).Err(); err != nil {
				t.Fatalf("redis at %s: %v (start redis-server)", addr, err)
			}
			prefix := fmt.Sprintf("huimintest:results:%d:", time.Now().UnixNano())
			t.Cleanup(func() {
				ctx := context.Background()
				iter := client.Scan(ctx, 0, prefix+"*", 1000).Iterator()
				for iter.Next(ctx) {
					client.Del(ctx, iter.Val())
				}
				_ = client.Close()
			})
			return redisstore.New(client, redisstore.Options{Prefix: prefix})
		},
	}
}

var (
	shanghai = time.FixedZone("CST", 8*3600)
	officers = []string{"", "o1", "o2", "o3"}
	windows  = []string{"", "w-chengguan", "w-east"}
	depts    = []string{"relief", "elderly"}
	lines    = []string{"dibao", "tekun", "yanglao"}
	states   = []store.TicketState{store.StateReceived, store.StateAssigned, store.StateInProgress, store.StateWaiting,
		store.StateResolved, store.StateClosed, store.StateReopened, store.StateTransferredOut}
)

// randomTicket is a ticket in any state, received within three months
// around now (so that months and deadlines fall on both sides of now), with
// surveys and rectifications of every kind.
func randomTicket(r *rand.Rand, i int, now time.Time) store.Ticket {
	at := func(base time.Time, spread time.Duration) time.Time {
		return base.Add(time.Duration(r.Int64N(int64(spread)))).Truncate(time.Second)
	}
	created := at(now.Add(-80*24*time.Hour), 90*24*time.Hour)
	t := store.Ticket{
		ID: fmt.Sprintf("MZ-%05d", i), CitizenOpenID: "oCitizen", Summary: "x",
		Line: lines[r.IntN(len(lines))], Department: depts[r.IntN(len(depts))], Window: windows[r.IntN(len(windows))],
		Owner: officers[r.IntN(len(officers))], State: states[r.IntN(len(states))], CreatedAt: created,
	}
	if r.IntN(10) > 0 {
		t.Deadline = at(created, 20*24*time.Hour)
	}
	if r.IntN(3) > 0 {
		t.AcceptedAt = at(created, 3*24*time.Hour)
	}
	if t.State == store.StateResolved || t.State == store.StateClosed || r.IntN(4) == 0 {
		t.ResolvedAt = at(created, 25*24*time.Hour)
	}
	for round := 1; round <= r.IntN(3); round++ {
		s := store.Survey{Round: round, Officer: officers[r.IntN(len(officers))]}
		switch r.IntN(5) {
		case 0: // still open
		case 1:
			s.Via = "expired" // 未评价
		case 2:
			s.Via, s.Level = "expired", 3 // counted as 基本满意 by the bureau's rule
		default:
			s.Via, s.Level = "chat", 1+r.IntN(5)
		}
		if s.Level > 0 && r.IntN(6) == 0 {
			s.Excluded = true
		}
		t.Surveys = append(t.Surveys, s)
		if s.Level >= 4 && r.IntN(5) > 0 {
			rc := store.Rectification{Round: round, Assignee: "o3", Due: at(created, 40*24*time.Hour)}
			if r.IntN(2) == 0 {
				rc.Outcome, rc.RecordedAt = "immediate", at(created, 30*24*time.Hour)
			}
			t.Rectifications = append(t.Rectifications, rc)
		}
	}
	return t
}

// bruteForce counts the tickets the long way: for every row and month,
// each figure by its definition, straight from the tickets.
func bruteForce(ts []store.Ticket, by results.Dimension, now time.Time, respondBy func(time.Time) time.Time) map[results.Cell]results.Figures {
	month := func(t store.Ticket) string { return t.CreatedAt.In(shanghai).Format("2006-01") }
	rowOf := func(t store.Ticket, officer string) string {
		switch by {
		case results.ByDepartment:
			return t.Department
		case results.ByOfficer:
			return officer
		case results.ByLine:
			return t.Line
		}
		if t.Window == "" {
			return t.Department
		}
		return t.Window
	}
	cells := map[results.Cell]bool{}
	for _, t := range ts {
		cells[results.Cell{Row: rowOf(t, t.Owner), Month: month(t)}] = true
		for _, s := range t.Surveys {
			cells[results.Cell{Row: rowOf(t, s.Officer), Month: month(t)}] = true
		}
	}
	out := map[results.Cell]results.Figures{}
	for c := range cells {
		var f results.Figures
		for _, t := range ts {
			if month(t) != c.Month {
				continue
			}
			if rowOf(t, t.Owner) == c.Row {
				f.Received++
				out := t.State == store.StateTransferredOut
				done := t.State == store.StateResolved || t.State == store.StateClosed
				if !out {
					f.ResolveBase++
				}
				if !out && done {
					f.Resolved++
				}
				if !out && !t.AcceptedAt.IsZero() {
					f.RespondBase++
					if !t.AcceptedAt.After(respondBy(t.CreatedAt)) {
						f.RespondedInTime++
					}
				}
				if !out && t.AcceptedAt.IsZero() && now.After(respondBy(t.CreatedAt)) {
					f.RespondBase++
				}
				if !out && !t.Deadline.IsZero() && done {
					f.DueBase++
					if !t.ResolvedAt.After(t.Deadline) {
						f.OnTime++
					}
				}
				if !out && !t.Deadline.IsZero() && t.State.Open() && now.After(t.Deadline) {
					f.DueBase++
					f.Overdue++
				}
			}
			for _, s := range t.Surveys {
				if rowOf(t, s.Officer) != c.Row {
					continue
				}
				if s.Excluded {
					f.Excluded++
					continue
				}
				if s.Level == 0 && s.Via != "" {
					f.NoAnswer++
				}
				if s.Level > 0 {
					f.Rated++
					f.Levels[s.Level]++
				}
				if s.Level < 4 {
					continue
				}
				f.Bad++
				state := "rectifying"
				for _, r := range t.Rectifications {
					if r.Round == s.Round {
						if r.Outcome != "" {
							state = "done"
						} else if now.After(r.Due) {
							state = "overdue"
						}
					}
				}
				switch state {
				case "done":
					f.Rectified++
				case "overdue":
					f.RectifyOverdue++
				default:
					f.Rectifying++
				}
			}
		}
		out[c] = f
	}
	return out
}

// TestCountMatchesBruteForce writes random tickets to each store (half of
// them changed after they were created, as the desk does), counts them from
// the store's facts and compares every figure with a brute-force count
// over the tickets themselves.
func TestCountMatchesBruteForce(t *testing.T) {
	now := time.Date(2026, 11, 20, 15, 0, 0, 0, shanghai)
	respondBy := func(created time.Time) time.Time { return created.Add(26 * time.Hour) }
	for name, open := range stores(t) {
		t.Run(name, func(t *testing.T) {
			st := open(t)
			ctx := t.Context()
			r := rand.New(rand.NewPCG(7, 11))
			var ts []store.Ticket
			for i := range 400 {
				tk := randomTicket(r, i, now)
				first := tk
				if i%2 == 0 {
					// Created as received, then brought to its state.
					first.State, first.Owner, first.Surveys, first.Rectifications = store.StateReceived, "", nil, nil
					first.AcceptedAt, first.ResolvedAt = time.Time{}, time.Time{}
				}
				if err := st.CreateTicket(ctx, first); err != nil {
					t.Fatal(err)
				}
				if i%2 == 0 {
					tk.Version = 1
					if _, err := st.UpdateTicket(ctx, tk); err != nil {
						t.Fatal(err)
					}
				}
				ts = append(ts, tk)
			}
			_, from, to := results.Months(now, shanghai, 4)
			for _, by := range []results.Dimension{results.ByWindow, results.ByDepartment, results.ByOfficer, results.ByLine} {
				c := results.Counter{By: by, Location: shanghai, Now: now, RespondBy: respondBy}
				tabs, err := results.Count(ctx, st, from, to, c)
				if err != nil {
					t.Fatal(err)
				}
				got := tabs[0]
				want := bruteForce(ts, by, now, respondBy)
				if len(got) != len(want) {
					t.Errorf("by %d: %d cells, want %d", by, len(got), len(want))
				}
				for cell, w := range want {
					g := got[cell]
					if g == nil {
						t.Errorf("by %d: cell %+v missing", by, cell)
						continue
					}
					if *g != w {
						t.Errorf("by %d: cell %+v\n got %+v\nwant %+v", by, cell, *g, w)
					}
				}
				if tot := got.Total(); tot.Received != len(ts) {
					t.Errorf("by %d: received %d in all, want %d", by, tot.Received, len(ts))
				}
			}
		})
	}
}

// TestCountKeepsToPeriodAndFilter: tickets outside the period are not
// counted, nor those Keep drops.
func TestCountKeepsToPeriodAndFilter(t *testing.T) {
	now := time.Date(2026, 11, 20, 15, 0, 0, 0, shanghai)
	st := stores(t)["bolt"](t)
	ctx := t.Context()
	for i, created := range []time.Time{
		time.Date(2026, 10, 31, 23, 59, 59, 0, shanghai), // October in Shanghai, not November
		time.Date(2026, 11, 1, 0, 0, 0, 0, shanghai),
		time.Date(2026, 11, 30, 23, 0, 0, 0, shanghai),
		time.Date(2026, 12, 1, 0, 0, 0, 0, shanghai),
	} {
		dept := "relief"
		if i == 2 {
			dept = "elderly"
		}
		if err := st.CreateTicket(ctx, store.Ticket{ID: fmt.Sprint("T", i), Department: dept, State: store.StateReceived, CreatedAt: created}); err != nil {
			t.Fatal(err)
		}
	}
	months, from, to := results.Months(now, shanghai, 1)
	if months[0] != "2026-11" {
		t.Fatalf("months = %v", months)
	}
	all := results.Counter{By: results.ByDepartment, Location: shanghai, Now: now}
	keep := results.Counter{By: results.ByDepartment, Location: shanghai, Now: now, Keep: func(f store.Facts) bool { return f.Department == "relief" }}
	tabs, err := results.Count(ctx, st, from, to, all, keep)
	if err != nil {
		t.Fatal(err)
	}
	if got := tabs[0].Total().Received; got != 2 {
		t.Errorf("November received %d, want 2", got)
	}
	if rows := tabs[1].Rows(); len(rows) != 1 || rows["relief"].Received != 1 {
		t.Errorf("relief only: %+v", rows)
	}
}

func TestMonths(t *testing.T) {
	months, from, to := results.Months(time.Date(2026, 2, 10, 8, 0, 0, 0, shanghai), shanghai, 12)
	if months[0] != "2025-03" || months[11] != "2026-02" || len(months) != 12 {
		t.Errorf("months = %v", months)
	}
	if !from.Equal(time.Date(2025, 3, 1, 0, 0, 0, 0, shanghai)) || !to.Equal(time.Date(2026, 3, 1, 0, 0, 0, 0, shanghai)) {
		t.Errorf("from %v to %v", from, to)
	}
}

func TestRates(t *testing.T) {
	var f results.Figures
	if _, ok := f.Satisfaction(); ok {
		t.Error("a rate without ratings")
	}
	f.Levels = [6]int{0, 2, 1, 1, 0, 1}
	f.Rated = 5
	if r, ok := f.Satisfaction(); !ok || r != 0.8 {
		t.Errorf("satisfaction %v %v, want 0.8", r, ok)
	}
}
