package desk

import (
	"context"
	"errors"
	"strings"
	"testing"

	"huimin/store"
)

// crashingStore is a real store whose CreateTicket stands for a process
// that dies around the write: before it (nothing written) or after it
// (written, but the caller never goes on).
type crashingStore struct {
	testStore
	crash string // "", "before" or "after" the next CreateTicket
}

var errCrash = errors.New("process killed")

func (s *crashingStore) CreateTicket(ctx context.Context, t store.Ticket) error {
	switch s.crash {
	case "before":
		s.crash = ""
		return errCrash
	case "after":
		s.crash = ""
		if err := s.testStore.CreateTicket(ctx, t); err != nil {
			return err
		}
		return errCrash
	}
	return s.testStore.CreateTicket(ctx, t)
}

// TestCrashWhileOpening checks issue 12 item 1: a process killed while it
// opens a ticket leaves a ticket that is assigned all the same (by its
// timer, on the next sweep), never one nobody is told of; and WeChat's
// retry of the confirming message (the same Source) finishes that one
// ticket under its number rather than opening a second.
func TestCrashWhileOpening(t *testing.T) {
	for _, crash := range []string{"after", "before"} {
		t.Run(crash, func(t *testing.T) {
			eachStore(t, func(t *testing.T, mk storeMaker) {
				var cs *crashingStore
				r := newDesk(t, func(t *testing.T) testStore { cs = &crashingStore{testStore: mk(t)}; return cs }, at("2026-11-30 10:00"))
				ctx := t.Context()
				req := OpenRequest{Citizen: "oCrash", Line: "relief", Inquiry: "help", Summary: "家里老人生病，想申请临时救助",
					Phone: "13812345678", Source: "wechat:m:24938173591234567"}
				cs.crash = crash
				if _, err := r.desk.Open(ctx, req); !errors.Is(err, errCrash) {
					t.Fatalf("Open during the crash: %v, want the crash", err)
				}
				// The service restarts; its runner does what fell due.
				r.clock.Set(at("2026-11-30 10:02"))
				if err := r.sweep(ctx); err != nil {
					t.Fatalf("sweep after the restart: %v", err)
				}
				const id = "MZ20261130-0001"
				told := 0 // assignments told, whichever path made them
				if crash == "after" {
					tk := r.ticket(t, id)
					if tk.State != store.StateAssigned {
						t.Fatalf("ticket written before the crash is %s after the sweep, want assigned", tk.State)
					}
					msgs := r.note.take(r.off[tk.Owner].OpenID)
					if len(msgs) != 1 || !strings.Contains(msgs[0], id) {
						t.Errorf("the owner was told %q, want the assignment of %s", msgs, id)
					}
					told += len(msgs)
				}
				// WeChat's retry of the message that confirmed the matter.
				tk, err := r.desk.Open(ctx, req)
				if err != nil {
					t.Fatalf("Open on the retry: %v", err)
				}
				if tk.ID != id || tk.State != store.StateAssigned {
					t.Errorf("the retry got %s (%s), want %s assigned", tk.ID, tk.State, id)
				}
				all, err := r.st.ListTickets(ctx, store.TicketFilter{Citizen: "oCrash"})
				if err != nil {
					t.Fatal(err)
				}
				if len(all) != 1 {
					t.Errorf("the citizen has %d tickets, want 1", len(all))
				}
				// One assignment told in all.
				r.clock.Set(at("2026-11-30 10:05"))
				if err := r.sweep(ctx); err != nil {
					t.Fatal(err)
				}
				told += len(r.note.take(r.off[tk.Owner].OpenID))
				if told != 1 {
					t.Errorf("the owner was told of the assignment %d times, want once", told)
				}
				// A new message is a new matter.
				req.Source = "wechat:m:24938173591234999"
				if tk, err := r.desk.Open(ctx, req); err != nil || tk.ID == id {
					t.Errorf("another message opened %s, %v; want a new ticket", tk.ID, err)
				}
			})
		})
	}
}
