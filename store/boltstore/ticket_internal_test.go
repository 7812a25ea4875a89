package boltstore

import (
	"path/filepath"
	"slices"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"huimin/store"
)

// indexEntries returns every entry of the ticket index buckets as
// "bucket value id", in key order.
func indexEntries(t *testing.T, s *Store) []string {
	t.Helper()
	var out []string
	err := s.db.View(func(tx *bolt.Tx) error {
		for _, ix := range ticketIndexes() {
			err := bucket(tx, ix.bucket).ForEach(func(k, _ []byte) error {
				nul := slices.Index(k, 0)
				out = append(out, ix.bucket+" "+string(k[:nul])+" "+string(k[nul+1+8:]))
				return nil
			})
			if err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("read indexes: %v", err)
	}
	return out
}

// TestTicketIndexEntries checks the index buckets themselves: ListTickets
// re-checks each ticket's fields, so a stale entry would not show there.
func TestTicketIndexEntries(t *testing.T) {
	s, err := New(filepath.Join(t.TempDir(), "huimin.db"), Options{})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	ctx := t.Context()
	t0 := time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
	tk := store.Ticket{ID: "T-1", CitizenOpenID: "c1", Department: "relief", State: store.StateReceived, CreatedAt: t0}
	if err := s.CreateTicket(ctx, tk); err != nil {
		t.Fatalf("CreateTicket: %v", err)
	}
	steps := []struct {
		name   string
		change func(tk *store.Ticket)
		want   []string
	}{
		{"created unassigned", nil, []string{
			"tickets_by_citizen c1 T-1", "tickets_by_department relief T-1",
		}},
		{"assigned", func(tk *store.Ticket) { tk.Owner = "o1" }, []string{
			"tickets_by_owner o1 T-1", "tickets_by_citizen c1 T-1", "tickets_by_department relief T-1",
		}},
		{"transferred and moved", func(tk *store.Ticket) { tk.Owner, tk.Department = "o2", "veterans" }, []string{
			"tickets_by_owner o2 T-1", "tickets_by_citizen c1 T-1", "tickets_by_department veterans T-1",
		}},
		{"created at corrected", func(tk *store.Ticket) { tk.CreatedAt = t0.Add(-time.Hour) }, []string{
			"tickets_by_owner o2 T-1", "tickets_by_citizen c1 T-1", "tickets_by_department veterans T-1",
		}},
		{"unassigned", func(tk *store.Ticket) { tk.Owner = "" }, []string{
			"tickets_by_citizen c1 T-1", "tickets_by_department veterans T-1",
		}},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			if st.change != nil {
				cur, err := s.GetTicket(ctx, "T-1")
				if err != nil {
					t.Fatalf("GetTicket: %v", err)
				}
				st.change(&cur)
				if _, err := s.UpdateTicket(ctx, cur); err != nil {
					t.Fatalf("UpdateTicket: %v", err)
				}
			}
			if got := indexEntries(t, s); !slices.Equal(got, st.want) {
				t.Errorf("index entries = %q, want %q", got, st.want)
			}
		})
	}
}
