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

func testSeq(t *testing.T, h Harness) {
	t.Run("CountsFromOne", func(t *testing.T) {
		s := h.New(t)
		calls := []struct {
			name string
			want int64
		}{
			{"MZ20250301", 1},
			{"MZ20250301", 2},
			{"MZ20250302", 1}, // names are independent
			{"MZ20250301", 3},
			{"MZ20250302", 2},
		}
		for i, c := range calls {
			got, err := s.NextSeq(t.Context(), c.name, 48*time.Hour)
			check(t, fmt.Sprintf("call %d: NextSeq(%s)", i, c.name), err)
			if got != c.want {
				t.Errorf("call %d: NextSeq(%s) = %d, want %d", i, c.name, got, c.want)
			}
		}
	})

	t.Run("NoTTLNeverExpires", func(t *testing.T) {
		for _, ttl := range []time.Duration{0, -time.Second} {
			t.Run(ttl.String(), func(t *testing.T) {
				s := h.New(t)
				ctx := t.Context()
				for want := int64(1); want <= 3; want++ {
					if want == 3 {
						h.Advance(t, s, 400*24*time.Hour)
					}
					got, err := s.NextSeq(ctx, "forever", ttl)
					check(t, "NextSeq", err)
					if got != want {
						t.Fatalf("NextSeq(forever, %v) = %d, want %d", ttl, got, want)
					}
				}
			})
		}
	})

	t.Run("TTLRunsFromCreation", func(t *testing.T) {
		const ttl = 10 * time.Minute
		s := h.New(t)
		steps := []struct {
			wait time.Duration
			want int64
		}{
			{0, 1},
			{9 * time.Minute, 2}, // later calls do not extend the ttl...
			{time.Minute, 1},     // ...so it runs out 10m after the first call
			{5 * time.Minute, 2},
			{5 * time.Minute, 1},
		}
		for i, st := range steps {
			h.Advance(t, s, st.wait)
			got, err := s.NextSeq(t.Context(), "daily", ttl)
			check(t, fmt.Sprintf("step %d: NextSeq", i), err)
			if got != st.want {
				t.Fatalf("step %d: NextSeq(daily) after %v = %d, want %d", i, st.wait, got, st.want)
			}
		}
	})

	t.Run("EmptyName", func(t *testing.T) {
		s := h.New(t)
		if _, err := s.NextSeq(t.Context(), "", time.Hour); err == nil {
			t.Errorf("NextSeq with an empty name: got nil error, want one")
		}
	})
}

// fullTicket is a ticket with every field set.
func fullTicket(t0 time.Time) store.Ticket {
	return store.Ticket{
		ID:            "MZ20250301-0001",
		CitizenOpenID: "o-citizen-1",
		Line:          "relief",
		Inquiry:       "consult",
		Summary:       "咨询低保年审需要哪些材料？\n家里有\"两位\"老人",
		Fields:        map[string]string{"address": "幸福街 3 号", "household": "2"},
		Phone:         "13800000000",
		IDNumber:      "11010519491231002X",
		Name:          "张三",
		Attachments: []store.Attachment{
			{Kind: "image", MediaID: "media-1", URL: "https://mmbiz.example/1.jpg", At: t0},
			{Kind: "location", Lat: 39.915, Lng: 116.404, Label: "幸福街", At: t0.Add(time.Minute)},
		},
		Transcript: []store.Utterance{
			{At: t0, From: "citizen", Text: "你好"},
			{At: t0.Add(time.Second), From: "bot", Text: "请描述您的问题"},
		},
		State:            store.StateInProgress,
		Department:       "relief-section",
		Owner:            "officer-7",
		FirstResponsible: "officer-3",
		CreatedAt:        t0,
		AssignedAt:       t0.Add(10 * time.Minute),
		AcceptedAt:       t0.Add(20 * time.Minute),
		Deadline:         t0.Add(72 * time.Hour),
		Escalation:       1,
		Extension: &store.Extension{
			Days: 3, Reason: "需要入户核查", RequestedBy: "officer-7", RequestedAt: t0.Add(time.Hour),
			Status: "approved", DecidedBy: "chief-1", DecidedAt: t0.Add(2 * time.Hour), OldDeadline: t0.Add(72 * time.Hour),
		},
		Resolution: "已告知所需材料",
		History: []store.TicketEvent{
			{At: t0, Actor: "citizen", Kind: "created"},
			{At: t0.Add(10 * time.Minute), Actor: "system", Kind: "assigned", Detail: "officer-3"},
			{At: t0.Add(30 * time.Minute), Actor: "officer-3", Kind: "transferred", Detail: "to officer-7: 分管"},
		},
		Version: 7, // ignored by CreateTicket
	}
}

// assertTicket compares tickets by their JSON encoding, which is how both
// backends keep them: times then compare by instant and offset, whatever
// their *time.Location.
func assertTicket(t *testing.T, what string, got, want store.Ticket) {
	t.Helper()
	g, err := json.Marshal(got)
	check(t, "marshal got", err)
	w, err := json.Marshal(want)
	check(t, "marshal want", err)
	if string(g) != string(w) {
		t.Errorf("%s:\n got %s\nwant %s", what, g, w)
	}
}

func testTicket(t *testing.T, h Harness) {
	t0 := refTime()

	t.Run("RoundTrip", func(t *testing.T) {
		minimal := store.Ticket{ID: "T-min", State: store.StateReceived, CreatedAt: t0}
		subSecond := fullTicket(t0.Add(123456789 * time.Nanosecond))
		subSecond.ID = "T-nanos"
		subSecond.CreatedAt = t0.Add(123456789 * time.Nanosecond)
		zoned := fullTicket(t0.In(time.FixedZone("CST", 8*3600)))
		zoned.ID = "T-zoned"
		tests := []struct {
			name string
			tk   store.Ticket
		}{
			{"every field", fullTicket(t0)},
			{"minimal", minimal},
			{"sub-second times", subSecond},
			{"times with an offset", zoned},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				s := h.New(t)
				ctx := t.Context()
				check(t, "CreateTicket", s.CreateTicket(ctx, tt.tk))
				got, err := s.GetTicket(ctx, tt.tk.ID)
				check(t, "GetTicket", err)
				want := tt.tk
				want.Version = 1
				assertTicket(t, "GetTicket", got, want)
			})
		}
	})

	t.Run("CreateTaken", func(t *testing.T) {
		s := h.New(t)
		ctx := t.Context()
		first := fullTicket(t0)
		check(t, "CreateTicket", s.CreateTicket(ctx, first))
		second := first
		second.Summary, second.Owner = "another matter", "officer-9"
		wantErr(t, "CreateTicket with a taken ID", s.CreateTicket(ctx, second), store.ErrExists)
		got, err := s.GetTicket(ctx, first.ID)
		check(t, "GetTicket", err)
		first.Version = 1
		assertTicket(t, "GetTicket after the refused create", got, first)
		if list := listIDs(t, s, store.TicketFilter{Owner: "officer-9"}); len(list) != 0 {
			t.Errorf("ListTickets(owner officer-9) after the refused create = %v, want none", list)
		}
	})

	t.Run("GetUnknown", func(t *testing.T) {
		s := h.New(t)
		_, err := s.GetTicket(t.Context(), "MZ-nope")
		wantErr(t, "GetTicket", err, store.ErrNotFound)
	})

	t.Run("Update", func(t *testing.T) {
		// Each case starts from a ticket created (Version 1) and updated
		// once (Version 2).
		tests := []struct {
			name    string
			id      string
			version int64
			want    error
		}{
			{"current version", "T-1", 2, nil},
			{"stale version", "T-1", 1, store.ErrConflict},
			{"version ahead", "T-1", 3, store.ErrConflict},
			{"zero version", "T-1", 0, store.ErrConflict},
			{"unknown id", "T-nope", 2, store.ErrNotFound},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				s := h.New(t)
				ctx := t.Context()
				tk := fullTicket(t0)
				tk.ID = "T-1"
				check(t, "CreateTicket", s.CreateTicket(ctx, tk))
				v1, err := s.GetTicket(ctx, "T-1")
				check(t, "GetTicket", err)
				v1.State = store.StateResolved
				v2, err := s.UpdateTicket(ctx, v1)
				check(t, "first UpdateTicket", err)
				if v2.Version != 2 {
					t.Fatalf("first UpdateTicket Version = %d, want 2", v2.Version)
				}

				change := v2
				change.ID, change.Version = tt.id, tt.version
				change.Resolution = "changed"
				change.History = append(slices.Clone(v2.History), store.TicketEvent{At: t0.Add(time.Hour), Actor: "officer-7", Kind: "resolved"})
				got, err := s.UpdateTicket(ctx, change)
				stored, gerr := s.GetTicket(ctx, "T-1")
				check(t, "GetTicket after", gerr)
				if tt.want != nil {
					wantErr(t, "UpdateTicket", err, tt.want)
					assertTicket(t, "GetTicket after the refused update", stored, v2)
					return
				}
				check(t, "UpdateTicket", err)
				want := change
				want.Version = 3
				assertTicket(t, "UpdateTicket result", got, want)
				assertTicket(t, "GetTicket after the update", stored, want)
			})
		}
	})

	t.Run("Invalid", func(t *testing.T) {
		valid := store.Ticket{ID: "T-1", Department: "relief", State: store.StateReceived, CreatedAt: t0}
		tests := []struct {
			name string
			call func(ctx context.Context, s Store) error
		}{
			{"create with an empty id", func(ctx context.Context, s Store) error {
				tk := valid
				tk.ID = ""
				return s.CreateTicket(ctx, tk)
			}},
			{"create with a zero CreatedAt", func(ctx context.Context, s Store) error {
				tk := valid
				tk.CreatedAt = time.Time{}
				return s.CreateTicket(ctx, tk)
			}},
			{"create with NUL in the owner", func(ctx context.Context, s Store) error {
				tk := valid
				tk.Owner = "a\x00b"
				return s.CreateTicket(ctx, tk)
			}},
			{"update to a zero CreatedAt", func(ctx context.Context, s Store) error {
				if err := s.CreateTicket(ctx, valid); err != nil {
					return fmt.Errorf("setup: %w", err) // not one of the sentinels below
				}
				tk := valid
				tk.Version, tk.CreatedAt = 1, time.Time{}
				_, err := s.UpdateTicket(ctx, tk)
				return err
			}},
			{"list with no owner, department or citizen", func(ctx context.Context, s Store) error {
				_, err := s.ListTickets(ctx, store.TicketFilter{OpenOnly: true})
				return err
			}},
			{"count with no owner, department or citizen", func(ctx context.Context, s Store) error {
				_, err := s.CountTickets(ctx, store.TicketFilter{OpenOnly: true})
				return err
			}},
			{"count with NUL in the department", func(ctx context.Context, s Store) error {
				_, err := s.CountTickets(ctx, store.TicketFilter{Department: "a\x00b", OpenOnly: true})
				return err
			}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				s := h.New(t)
				err := tt.call(t.Context(), s)
				if err == nil {
					t.Fatalf("got nil error, want one")
				}
				for _, sentinel := range []error{store.ErrExists, store.ErrConflict, store.ErrNotFound} {
					if errors.Is(err, sentinel) {
						t.Errorf("got error %v, want an invalid-argument error, not %v", err, sentinel)
					}
				}
			})
		}
	})

	t.Run("List", func(t *testing.T) { testListTickets(t, h) })

	// CreatedAt keeps nanoseconds, and the order must follow them even
	// where a backend's index is coarser: T-Z is 500ns older than T-A.
	t.Run("ListOrderBelowMicroseconds", func(t *testing.T) {
		s := h.New(t)
		for _, tk := range []store.Ticket{
			{ID: "T-A", Owner: "o1", State: store.StateReceived, CreatedAt: t0.Add(600 * time.Nanosecond)},
			{ID: "T-Z", Owner: "o1", State: store.StateReceived, CreatedAt: t0.Add(100 * time.Nanosecond)},
			{ID: "T-M", Owner: "o1", State: store.StateReceived, CreatedAt: t0.Add(100 * time.Nanosecond)},
		} {
			check(t, "CreateTicket "+tk.ID, s.CreateTicket(t.Context(), tk))
		}
		if got, want := listIDs(t, s, store.TicketFilter{Owner: "o1"}), []string{"T-M", "T-Z", "T-A"}; !slices.Equal(got, want) {
			t.Errorf("ListTickets(owner o1) = %v, want %v", got, want)
		}
	})
	t.Run("ListAfterUpdate", func(t *testing.T) { testListAfterUpdate(t, h) })
}

// listFixture returns tickets spread over owners, departments, citizens,
// states and creation times. T-B and T-D share their CreatedAt.
func listFixture(t0 time.Time) []store.Ticket {
	mk := func(id, citizen, dept, owner string, state store.TicketState, created time.Duration) store.Ticket {
		return store.Ticket{
			ID: id, CitizenOpenID: citizen, Department: dept, Owner: owner, State: state,
			Line: "relief", Inquiry: "help", Summary: "matter " + id, CreatedAt: t0.Add(created),
			History: []store.TicketEvent{{At: t0.Add(created), Actor: "citizen", Kind: "created"}},
		}
	}
	return []store.Ticket{
		mk("T-A", "c1", "relief", "o1", store.StateInProgress, 3*time.Hour),
		mk("T-B", "c2", "relief", "o2", store.StateResolved, time.Hour),
		mk("T-C", "c1", "veterans", "o1", store.StateClosed, 2*time.Hour),
		mk("T-D", "c1", "relief", "", store.StateReceived, time.Hour),
		mk("T-E", "c3", "relief", "o1", store.StateReopened, 0),
		mk("T-F", "c2", "veterans", "", store.StateWaiting, 4*time.Hour),
	}
}

// createFixture creates the fixture newest first, so that insertion order
// cannot pass for creation order.
func createFixture(t *testing.T, s Store, fixture []store.Ticket) map[string]store.Ticket {
	t.Helper()
	byID := make(map[string]store.Ticket, len(fixture))
	order := slices.Clone(fixture)
	slices.SortFunc(order, func(a, b store.Ticket) int { return b.CreatedAt.Compare(a.CreatedAt) })
	for _, tk := range order {
		check(t, "CreateTicket "+tk.ID, s.CreateTicket(t.Context(), tk))
		tk.Version = 1
		byID[tk.ID] = tk
	}
	return byID
}

// listIDs lists the tickets matching f and returns their IDs.
func listIDs(t *testing.T, s Store, f store.TicketFilter) []string {
	t.Helper()
	got, err := s.ListTickets(t.Context(), f)
	check(t, fmt.Sprintf("ListTickets(%+v)", f), err)
	ids := make([]string, len(got))
	for i, tk := range got {
		ids[i] = tk.ID
	}
	return ids
}

func testListTickets(t *testing.T, h Harness) {
	t0 := refTime()
	s := h.New(t)
	byID := createFixture(t, s, listFixture(t0))
	tests := []struct {
		name string
		f    store.TicketFilter
		want []string
	}{
		{"owner", store.TicketFilter{Owner: "o1"}, []string{"T-E", "T-C", "T-A"}},
		{"owner open only", store.TicketFilter{Owner: "o1", OpenOnly: true}, []string{"T-E", "T-A"}},
		{"owner with none open", store.TicketFilter{Owner: "o2", OpenOnly: true}, nil},
		{"department, ties by id", store.TicketFilter{Department: "relief"}, []string{"T-E", "T-B", "T-D", "T-A"}},
		{"department open only", store.TicketFilter{Department: "relief", OpenOnly: true}, []string{"T-E", "T-D", "T-A"}},
		{"citizen", store.TicketFilter{Citizen: "c1"}, []string{"T-D", "T-C", "T-A"}},
		{"citizen open only", store.TicketFilter{Citizen: "c1", OpenOnly: true}, []string{"T-D", "T-A"}},
		{"owner and department", store.TicketFilter{Owner: "o1", Department: "relief"}, []string{"T-E", "T-A"}},
		{"owner and citizen", store.TicketFilter{Owner: "o1", Citizen: "c1"}, []string{"T-C", "T-A"}},
		{"department and citizen", store.TicketFilter{Department: "veterans", Citizen: "c2"}, []string{"T-F"}},
		{"all three", store.TicketFilter{Owner: "o1", Department: "relief", Citizen: "c1", OpenOnly: true}, []string{"T-A"}},
		{"no match across fields", store.TicketFilter{Owner: "o2", Department: "veterans"}, nil},
		{"unknown owner", store.TicketFilter{Owner: "o-nobody"}, nil},
		{"unknown department", store.TicketFilter{Department: "housing"}, nil},
		{"unknown citizen", store.TicketFilter{Citizen: "c-nobody"}, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := s.ListTickets(t.Context(), tt.f)
			check(t, "ListTickets", err)
			ids := make([]string, len(got))
			for i, tk := range got {
				ids[i] = tk.ID
				assertTicket(t, "listed ticket "+tk.ID, tk, byID[tk.ID])
			}
			if !slices.Equal(ids, tt.want) {
				t.Errorf("ListTickets(%+v) = %v, want %v", tt.f, ids, tt.want)
			}
		})
	}
}

func testListAfterUpdate(t *testing.T, h Harness) {
	t0 := refTime()
	type list struct {
		f    store.TicketFilter
		want []string
	}
	tests := []struct {
		name   string
		id     string
		change func(tk *store.Ticket)
		lists  []list
	}{
		{"transfer to another owner", "T-B", func(tk *store.Ticket) { tk.Owner = "o1" }, []list{
			{store.TicketFilter{Owner: "o2"}, nil},
			{store.TicketFilter{Owner: "o1"}, []string{"T-E", "T-B", "T-C", "T-A"}},
		}},
		{"unassign", "T-A", func(tk *store.Ticket) { tk.Owner = "" }, []list{
			{store.TicketFilter{Owner: "o1"}, []string{"T-E", "T-C"}},
			{store.TicketFilter{Department: "relief"}, []string{"T-E", "T-B", "T-D", "T-A"}},
		}},
		{"assign an unassigned ticket", "T-D", func(tk *store.Ticket) { tk.Owner = "o3" }, []list{
			{store.TicketFilter{Owner: "o3"}, []string{"T-D"}},
		}},
		{"move department", "T-A", func(tk *store.Ticket) { tk.Department = "veterans" }, []list{
			{store.TicketFilter{Department: "relief"}, []string{"T-E", "T-B", "T-D"}},
			{store.TicketFilter{Department: "veterans"}, []string{"T-C", "T-A", "T-F"}},
			{store.TicketFilter{Owner: "o1", Department: "relief"}, []string{"T-E"}},
		}},
		{"change citizen", "T-A", func(tk *store.Ticket) { tk.CitizenOpenID = "c3" }, []list{
			{store.TicketFilter{Citizen: "c1"}, []string{"T-D", "T-C"}},
			{store.TicketFilter{Citizen: "c3"}, []string{"T-E", "T-A"}},
		}},
		{"close", "T-A", func(tk *store.Ticket) { tk.State = store.StateClosed }, []list{
			{store.TicketFilter{Owner: "o1", OpenOnly: true}, []string{"T-E"}},
			{store.TicketFilter{Owner: "o1"}, []string{"T-E", "T-C", "T-A"}},
		}},
		{"reopen", "T-C", func(tk *store.Ticket) { tk.State = store.StateReopened }, []list{
			{store.TicketFilter{Owner: "o1", OpenOnly: true}, []string{"T-E", "T-C", "T-A"}},
		}},
		{"same owner again", "T-A", func(tk *store.Ticket) { tk.Summary = "edited" }, []list{
			{store.TicketFilter{Owner: "o1"}, []string{"T-E", "T-C", "T-A"}},
			{store.TicketFilter{Department: "relief"}, []string{"T-E", "T-B", "T-D", "T-A"}},
		}},
		{"every indexed field at once", "T-A", func(tk *store.Ticket) {
			tk.Owner, tk.Department, tk.CitizenOpenID = "o9", "housing", "c9"
		}, []list{
			{store.TicketFilter{Owner: "o1"}, []string{"T-E", "T-C"}},
			{store.TicketFilter{Department: "relief"}, []string{"T-E", "T-B", "T-D"}},
			{store.TicketFilter{Citizen: "c1"}, []string{"T-D", "T-C"}},
			{store.TicketFilter{Owner: "o9"}, []string{"T-A"}},
			{store.TicketFilter{Department: "housing"}, []string{"T-A"}},
			{store.TicketFilter{Citizen: "c9"}, []string{"T-A"}},
		}},
		{"CreatedAt corrected", "T-A", func(tk *store.Ticket) { tk.CreatedAt = t0.Add(-time.Hour) }, []list{
			{store.TicketFilter{Owner: "o1"}, []string{"T-A", "T-E", "T-C"}},
			{store.TicketFilter{Citizen: "c1"}, []string{"T-A", "T-D", "T-C"}},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := h.New(t)
			ctx := t.Context()
			createFixture(t, s, listFixture(t0))
			tk, err := s.GetTicket(ctx, tt.id)
			check(t, "GetTicket", err)
			tt.change(&tk)
			_, err = s.UpdateTicket(ctx, tk)
			check(t, "UpdateTicket", err)
			// A second update must not leave a second index entry.
			tk.Version++
			_, err = s.UpdateTicket(ctx, tk)
			check(t, "second UpdateTicket", err)
			for _, l := range tt.lists {
				if got := listIDs(t, s, l.f); !slices.Equal(got, l.want) {
					t.Errorf("ListTickets(%+v) = %v, want %v", l.f, got, l.want)
				}
			}
		})
	}
}

// testNextSeqEachValueOnce has concurrent callers share one counter.
func testNextSeqEachValueOnce(t *testing.T, h Harness) {
	const callers = 16
	s := h.New(t)
	var (
		wg    sync.WaitGroup
		start = make(chan struct{})
		mu    sync.Mutex
		got   []int64
	)
	for i := range callers {
		wg.Go(func() {
			<-start
			n, err := s.NextSeq(t.Context(), "MZ20250301", 48*time.Hour)
			if err != nil {
				t.Errorf("call %d: NextSeq: %v", i, err)
				return
			}
			mu.Lock()
			got = append(got, n)
			mu.Unlock()
		})
	}
	close(start)
	wg.Wait()
	slices.Sort(got)
	want := make([]int64, callers)
	for i := range want {
		want[i] = int64(i + 1)
	}
	if !slices.Equal(got, want) {
		t.Errorf("%d concurrent NextSeq calls returned %v, want each of %v once", callers, got, want)
	}
}

// testUpdateTicketRetry has concurrent officers each read, change and
// update one ticket, re-reading on store.ErrConflict, as a flow does. Every
// change must land, and the indexes must follow the last one.
func testUpdateTicketRetry(t *testing.T, h Harness) {
	const officers = 8
	t0 := refTime()
	s := h.New(t)
	ctx := t.Context()
	tk := store.Ticket{
		ID: "T-busy", CitizenOpenID: "c1", Department: "relief", Owner: "o-start", State: store.StateAssigned, CreatedAt: t0,
		History: []store.TicketEvent{{At: t0, Actor: "citizen", Kind: "created"}},
	}
	check(t, "CreateTicket", s.CreateTicket(ctx, tk))
	var (
		wg        sync.WaitGroup
		start     = make(chan struct{})
		mu        sync.Mutex
		conflicts int
		lastOwner string
		lastVer   int64
	)
	for i := range officers {
		officer := fmt.Sprintf("officer-%d", i)
		wg.Go(func() {
			<-start
			for attempt := 0; ; attempt++ {
				if attempt == 100 {
					t.Errorf("%s: still conflicting after 100 attempts", officer)
					return
				}
				cur, err := s.GetTicket(ctx, tk.ID)
				if err != nil {
					t.Errorf("%s: GetTicket: %v", officer, err)
					return
				}
				cur.Owner = officer
				cur.History = append(cur.History, store.TicketEvent{At: t0.Add(time.Minute), Actor: officer, Kind: "replied"})
				got, err := s.UpdateTicket(ctx, cur)
				if errors.Is(err, store.ErrConflict) {
					mu.Lock()
					conflicts++
					mu.Unlock()
					continue
				}
				if err != nil {
					t.Errorf("%s: UpdateTicket: %v", officer, err)
					return
				}
				mu.Lock()
				if got.Version > lastVer {
					lastVer, lastOwner = got.Version, officer
				}
				mu.Unlock()
				return
			}
		})
	}
	close(start)
	wg.Wait()
	t.Logf("%d conflicts retried", conflicts)

	final, err := s.GetTicket(ctx, tk.ID)
	check(t, "GetTicket", err)
	if final.Version != 1+officers {
		t.Errorf("final Version = %d, want %d", final.Version, 1+officers)
	}
	if len(final.History) != 1+officers {
		t.Errorf("final History has %d entries, want %d: %+v", len(final.History), 1+officers, final.History)
	}
	seen := make(map[string]int)
	for _, ev := range final.History[1:] {
		seen[ev.Actor]++
	}
	for i := range officers {
		officer := fmt.Sprintf("officer-%d", i)
		if seen[officer] != 1 {
			t.Errorf("History entries by %s = %d, want 1", officer, seen[officer])
		}
	}
	if final.Owner != lastOwner {
		t.Errorf("final Owner = %s, want %s (the update that stored the last version)", final.Owner, lastOwner)
	}
	for i := range officers {
		officer := fmt.Sprintf("officer-%d", i)
		want := []string(nil)
		if officer == final.Owner {
			want = []string{tk.ID}
		}
		if got := listIDs(t, s, store.TicketFilter{Owner: officer}); !slices.Equal(got, want) {
			t.Errorf("ListTickets(owner %s) = %v, want %v", officer, got, want)
		}
	}
	if got := listIDs(t, s, store.TicketFilter{Owner: "o-start"}); len(got) != 0 {
		t.Errorf("ListTickets(owner o-start) = %v, want none", got)
	}
	if got := listIDs(t, s, store.TicketFilter{Department: "relief"}); !slices.Equal(got, []string{tk.ID}) {
		t.Errorf("ListTickets(department relief) = %v, want [%s] once", got, tk.ID)
	}
}
