package desk

import (
	"errors"
	"reflect"
	"slices"
	"sync"
	"testing"
	"time"

	"huimin/store"
)

// threeYears is the default retention, desk.retention's 26280h.
const threeYears = 26280 * time.Hour

// personalTicket opens a ticket with every kind of personal data, from
// citizen, and brings it to in progress.
func (r *deskRig) personalTicket(t *testing.T, citizen string) store.Ticket {
	t.Helper()
	ctx := t.Context()
	tk, err := r.desk.Open(ctx, OpenRequest{Citizen: citizen, Line: "relief", Inquiry: "help", Summary: "事项：临时救助；情况：家里失火",
		Fields: map[string]string{"town": "城关街道", "detail": "家里失火，住在东门社区", "matter": "临时救助"},
		Labels: map[string]string{"town": "街道（镇）", "detail": "情况", "matter": "事项"},
		Name:   "王阿姨", Phone: "13812345678", IDNumber: "11010519491231002X",
		Attachments: []store.Attachment{{Kind: "image", MediaID: "media-1", URL: "http://img/1.jpg", At: r.clock.Now()}, {Kind: "location", Lat: 30.1, Lng: 120.2, Label: "东门社区", At: r.clock.Now()}},
		Transcript:  []store.Utterance{{At: r.clock.Now(), From: "citizen", Text: "家里失火，生活困难"}}})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	if _, err := r.desk.Accept(ctx, r.off["zhao"], tk.ID); err != nil {
		t.Fatalf("Accept: %v", err)
	}
	if _, err := r.desk.Reply(ctx, r.off["zhao"], tk.ID, "王阿姨您好，明天上门"); err != nil {
		t.Fatalf("Reply: %v", err)
	}
	return r.ticket(t, tk.ID)
}

// resolve resolves a ticket, with a rating and its comment as a survey
// would record them.
func (r *deskRig) resolveRated(t *testing.T, id string) store.Ticket {
	t.Helper()
	tk, err := r.desk.Resolve(t.Context(), r.off["zhao"], id, "已为王阿姨发放临时救助金")
	if err != nil {
		t.Fatalf("Resolve: %v", err)
	}
	tk.Surveys = []store.Survey{{Round: 1, Officer: "zhao", Due: r.clock.Now(), SentAt: r.clock.Now(), Channel: "chat",
		Level: 2, Comment: "王阿姨说谢谢", Via: "chat", AnsweredAt: r.clock.Now()}}
	tk, err = r.st.UpdateTicket(t.Context(), tk)
	if err != nil {
		t.Fatalf("record the rating: %v", err)
	}
	return tk
}

func allFacts(t *testing.T, r *deskRig) []store.Facts {
	t.Helper()
	var out []store.Facts
	err := r.st.TicketFacts(t.Context(), time.Unix(0, 0), at("2099-01-01 00:00"), func(f store.Facts) error {
		out = append(out, f)
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	return out
}

func TestEraseExpired(t *testing.T) {
	eachStore(t, func(t *testing.T, mk storeMaker) {
		r := newDesk(t, mk, at("2023-06-01 10:00")) // a Thursday
		ctx := t.Context()
		old := r.personalTicket(t, "oOld")         // closed 3 years + 1 day before the sweep
		recent := r.personalTicket(t, "oRecent")   // closed 3 years - 1 day before
		resolved := r.personalTicket(t, "oResolv") // resolved, never closed: counts from then
		open := r.personalTicket(t, "oOpen")       // still being worked
		for _, id := range []string{old.ID, recent.ID} {
			r.resolveRated(t, id)
		}
		r.resolveRated(t, resolved.ID)
		r.clock.Set(at("2023-06-02 10:00"))
		if _, err := r.desk.Close(ctx, r.off["zhao"], old.ID); err != nil {
			t.Fatal(err)
		}
		r.clock.Set(at("2023-06-04 10:00"))
		if _, err := r.desk.Close(ctx, r.off["zhao"], recent.ID); err != nil {
			t.Fatal(err)
		}
		r.clock.Set(at("2023-06-02 10:00").Add(threeYears + 24*time.Hour))

		before := map[string]store.Ticket{}
		for _, id := range []string{old.ID, recent.ID, resolved.ID, open.ID} {
			before[id] = r.ticket(t, id)
		}
		factsBefore := allFacts(t, r)

		for _, d := range []time.Duration{0, -threeYears} {
			if _, err := r.desk.EraseExpired(ctx, d); err == nil {
				t.Errorf("EraseExpired(%v) = nil error, want a refusal", d)
			}
		}
		n, err := r.desk.EraseExpired(ctx, threeYears)
		if err != nil {
			t.Fatalf("EraseExpired: %v", err)
		}
		if n != 2 {
			t.Errorf("erased %d tickets, want 2 (the one closed 3 years + 1 day ago, the one resolved then)", n)
		}
		for _, id := range []string{old.ID, resolved.ID} {
			got := r.ticket(t, id)
			assertErased(t, before[id], got)
		}
		for _, id := range []string{recent.ID, open.ID} {
			if got := r.ticket(t, id); !reflect.DeepEqual(got, before[id]) {
				t.Errorf("ticket %s (%s) changed:\n got %+v\nwant %+v", id, got.State, got, before[id])
			}
		}
		// The published results count the same.
		if got := allFacts(t, r); !reflect.DeepEqual(got, factsBefore) {
			t.Errorf("facts changed by the erasure:\n got %+v\nwant %+v", got, factsBefore)
		}
		// The citizen's index no longer finds the erased ticket.
		if ts, err := r.st.ListTickets(ctx, store.TicketFilter{Citizen: "oOld"}); err != nil || len(ts) != 0 {
			t.Errorf("tickets of oOld = %v, %v; want none", ts, err)
		}

		// A second sweep changes nothing.
		versions := map[string]int64{}
		for id := range before {
			versions[id] = r.ticket(t, id).Version
		}
		if n, err := r.desk.EraseExpired(ctx, threeYears); err != nil || n != 0 {
			t.Errorf("second sweep = %d, %v; want 0, nil", n, err)
		}
		for id, v := range versions {
			if got := r.ticket(t, id).Version; got != v {
				t.Errorf("second sweep wrote ticket %s (version %d, was %d)", id, got, v)
			}
		}
		// Two days on, the recent one is due; the open one never is.
		r.clock.Set(r.clock.Now().Add(2 * 24 * time.Hour))
		if n, err := r.desk.EraseExpired(ctx, threeYears); err != nil || n != 1 {
			t.Errorf("sweep two days later = %d, %v; want 1", n, err)
		}
		assertErased(t, before[recent.ID], r.ticket(t, recent.ID))
		if got := r.ticket(t, open.ID); !reflect.DeepEqual(got, before[open.ID]) {
			t.Errorf("open ticket changed: %+v", got)
		}
		if got := allFacts(t, r); !reflect.DeepEqual(got, factsBefore) {
			t.Errorf("facts changed by the later erasure")
		}
	})
}

// assertErased checks that got is before with its personal data erased,
// everything else kept, and one erased event.
func assertErased(t *testing.T, before, got store.Ticket) {
	t.Helper()
	if got.CitizenOpenID != "" || got.Name != "" || got.Phone != "" || got.IDNumber != "" || got.Summary != "" ||
		got.Resolution != "" || len(got.Fields) != 0 || len(got.Labels) != 0 || len(got.Attachments) != 0 {
		t.Errorf("ticket %s keeps personal data: %+v", got.ID, got)
	}
	for _, u := range got.Transcript {
		if u.Text != "" {
			t.Errorf("ticket %s transcript keeps %q", got.ID, u.Text)
		}
	}
	for _, s := range got.Surveys {
		if s.Comment != ErasedText {
			t.Errorf("ticket %s survey comment = %q, want %q", got.ID, s.Comment, ErasedText)
		}
	}
	for _, h := range got.History {
		if h.Detail != "" && eraseDetail[h.Kind] {
			t.Errorf("ticket %s history %s keeps %q", got.ID, h.Kind, h.Detail)
		}
	}
	if !reflect.DeepEqual(store.FactsOf(got), store.FactsOf(before)) {
		t.Errorf("ticket %s facts changed:\n got %+v\nwant %+v", got.ID, store.FactsOf(got), store.FactsOf(before))
	}
	if got.State != before.State || !got.ClosedAt.Equal(before.ClosedAt) || got.Line != before.Line || got.Department != before.Department ||
		got.Window != before.Window || len(got.Transcript) != len(before.Transcript) {
		t.Errorf("ticket %s lost what is kept: %+v", got.ID, got)
	}
	if n := len(got.History) - len(before.History); n != 1 {
		t.Fatalf("ticket %s got %d history events, want 1", got.ID, n)
	}
	if ev := got.History[len(got.History)-1]; ev.Kind != EventErased || ev.Actor != actorSystem {
		t.Errorf("ticket %s last event = %+v, want erased by the system", got.ID, ev)
	}
	if !slices.ContainsFunc(got.History, func(h store.TicketEvent) bool { return h.Kind == EventClosed || h.Kind == EventResolved }) {
		t.Errorf("ticket %s history lost its events", got.ID)
	}
}

func TestEraseOnlyFinished(t *testing.T) {
	eachStore(t, func(t *testing.T, mk storeMaker) {
		r := newDesk(t, mk, at("2026-11-30 10:00"))
		for _, s := range allStates {
			if s == store.StateReceived {
				continue // a new ticket is assigned at once in working hours
			}
			t.Run(string(s), func(t *testing.T) {
				tk := toState(t, r, s)
				got, erased, err := r.desk.Erase(t.Context(), tk.ID)
				if !allowed(OpErase, s) {
					if !errors.Is(err, ErrWrongState) || erased {
						t.Fatalf("Erase from %s = %v, %v; want ErrWrongState", s, erased, err)
					}
					if after := r.ticket(t, tk.ID); after.Version != tk.Version || after.Phone == "" {
						t.Errorf("refused Erase changed the ticket: %+v", after)
					}
					return
				}
				if err != nil || !erased || got.Phone != "" || got.CitizenOpenID != "" {
					t.Fatalf("Erase from %s = %v, %v (phone %q); want erased", s, erased, err, got.Phone)
				}
				again, erased, err := r.desk.Erase(t.Context(), tk.ID)
				if err != nil || erased || again.Version != got.Version {
					t.Errorf("second Erase = %v, %v, version %d; want nothing done (version %d)", erased, err, again.Version, got.Version)
				}
			})
		}
		if want := []store.TicketState{store.StateResolved, store.StateClosed, store.StateTransferredOut}; !slices.Equal(Transitions[OpErase].From, want) {
			t.Errorf("Erase allowed from %v, want the finished states %v", Transitions[OpErase].From, want)
		}
	})
}

// TestEraseExpiredConcurrently runs the sweep on two instances at once on
// one store: every due ticket is erased once, with one event.
func TestEraseExpiredConcurrently(t *testing.T) {
	eachStore(t, func(t *testing.T, mk storeMaker) {
		st := mk(t)
		same := func(*testing.T) testStore { return st }
		a, b := newDesk(t, same, at("2023-06-01 10:00")), newDesk(t, same, at("2023-06-01 10:00"))
		var ids []string
		for range 6 {
			tk := a.personalTicket(t, "oMany")
			a.resolveRated(t, tk.ID)
			if _, err := a.desk.Close(t.Context(), a.off["zhao"], tk.ID); err != nil {
				t.Fatal(err)
			}
			ids = append(ids, tk.ID)
		}
		later := at("2023-06-01 10:00").Add(threeYears + 24*time.Hour)
		a.clock.Set(later)
		b.clock.Set(later)
		var wg sync.WaitGroup
		counts := make([]int, 2)
		for i, r := range []*deskRig{a, b} {
			wg.Go(func() {
				n, err := r.desk.EraseExpired(t.Context(), threeYears)
				if err != nil {
					t.Errorf("EraseExpired: %v", err)
				}
				counts[i] = n
			})
		}
		wg.Wait()
		if counts[0]+counts[1] != len(ids) {
			t.Errorf("erased %d + %d, want %d in all", counts[0], counts[1], len(ids))
		}
		for _, id := range ids {
			tk := a.ticket(t, id)
			n := 0
			for _, h := range tk.History {
				if h.Kind == EventErased {
					n++
				}
			}
			if n != 1 || tk.Phone != "" {
				t.Errorf("ticket %s: %d erased events, phone %q; want one, erased", id, n, tk.Phone)
			}
		}
	})
}
