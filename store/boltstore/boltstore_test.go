package boltstore_test

import (
	"errors"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"huimin/store"
	"huimin/store/boltstore"
	"huimin/store/storetest"
)

var _ storetest.Store = (*boltstore.Store)(nil)

// fakeClock is a settable clock safe for concurrent use.
type fakeClock struct {
	mu  sync.Mutex
	now time.Time
}

func (c *fakeClock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.now
}

func (c *fakeClock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.now = c.now.Add(d)
}

// newStore opens a store in a fresh temporary file with its own fake clock.
func newStore(t storetest.TB) (*boltstore.Store, *fakeClock) {
	t.Helper()
	clock := &fakeClock{now: time.Date(2025, 3, 1, 8, 0, 0, 0, time.UTC)}
	s, err := boltstore.New(filepath.Join(t.TempDir(), "huimin.db"), boltstore.Options{Now: clock.Now})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() {
		if err := s.Close(); err != nil {
			t.Fatalf("Close: %v", err)
		}
	})
	return s, clock
}

func TestContract(t *testing.T) {
	var (
		mu     sync.Mutex
		clocks = make(map[storetest.Store]*fakeClock)
	)
	storetest.Run(t, storetest.Harness{
		New: func(t storetest.TB) storetest.Store {
			s, clock := newStore(t)
			mu.Lock()
			defer mu.Unlock()
			clocks[s] = clock
			return s
		},
		Advance: func(t storetest.TB, s storetest.Store, d time.Duration) {
			t.Helper()
			mu.Lock()
			clock, ok := clocks[s]
			mu.Unlock()
			if !ok {
				t.Fatalf("Advance: store not made by this harness")
			}
			clock.Advance(d)
		},
	})
}

func TestPurgeExpired(t *testing.T) {
	s, clock := newStore(t)
	ctx := t.Context()
	steps := []struct {
		name string
		err  error
	}{
		{"session short", s.PutSession(ctx, store.Session{OpenID: "short"}, time.Minute)},
		{"session long", s.PutSession(ctx, store.Session{OpenID: "long"}, time.Hour)},
		{"cache short", s.SetCache(ctx, "c", "v", time.Minute)},
		{"outcome long", s.PutOutcome(ctx, store.Outcome{MessageID: "m"}, time.Hour)},
		{"delivery short", func() error { _, _, err := s.BeginDelivery(ctx, "d", "", time.Minute); return err }()},
		{"seq short", func() error { _, err := s.NextSeq(ctx, "daily", time.Minute); return err }()},
		{"seq forever", func() error { _, err := s.NextSeq(ctx, "total", 0); return err }()},
		{"bind code long", s.PutBindCode(ctx, "123456", "officer-1", time.Hour)},
	}
	for _, st := range steps {
		if st.err != nil {
			t.Fatalf("%s: %v", st.name, st.err)
		}
	}
	tests := []struct {
		name    string
		advance time.Duration
		want    int
	}{
		{"nothing expired yet", 30 * time.Second, 0},
		{"short ones expired", time.Minute, 4}, // locks live in memory, not in the file
		{"already purged", 0, 0},
		{"long ones expired", time.Hour, 3},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			clock.Advance(tt.advance)
			got, err := s.PurgeExpired(ctx)
			if err != nil {
				t.Fatalf("PurgeExpired: %v", err)
			}
			if got != tt.want {
				t.Errorf("PurgeExpired = %d, want %d", got, tt.want)
			}
		})
	}
	if _, err := s.GetSession(ctx, "long"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("GetSession after purge: got %v, want %v", err, store.ErrNotFound)
	}
	if n, err := s.NextSeq(ctx, "total", 0); err != nil || n != 2 {
		t.Errorf("NextSeq(total) after purge = %d, %v; want 2 (a counter without ttl is never purged)", n, err)
	}
}

func TestSecondOpenFailsFast(t *testing.T) {
	path := filepath.Join(t.TempDir(), "huimin.db")
	s, err := boltstore.New(path, boltstore.Options{})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	start := time.Now()
	// bolt's flock is per open file description, so a second open in the
	// same process contends like a second process would.
	s2, err := boltstore.New(path, boltstore.Options{})
	if err == nil {
		_ = s2.Close()
		t.Fatalf("second New on a held file: got nil error, want one")
	}
	if !strings.Contains(err.Error(), "locked by another process") {
		t.Errorf("second New error = %q, want it to say the file is locked by another process", err)
	}
	if took := time.Since(start); took > 5*time.Second {
		t.Errorf("second New took %v, want about 1s", took)
	}
}

func TestQueueRejectsOutOfRangeTimes(t *testing.T) {
	s, _ := newStore(t)
	ctx := t.Context()
	tests := []struct {
		name string
		due  time.Time
	}{
		{"zero time", time.Time{}},
		{"before 1970", time.Date(1969, 12, 31, 0, 0, 0, 0, time.UTC)},
		{"year 2200", time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC)},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := s.Schedule(ctx, "q", store.DueItem{ID: "a", Due: tt.due}); err == nil {
				t.Errorf("Schedule with due %v: got nil error, want one", tt.due)
			}
		})
	}
}

func TestReopenKeepsData(t *testing.T) {
	path := filepath.Join(t.TempDir(), "huimin.db")
	ctx := t.Context()
	due := time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
	s, err := boltstore.New(path, boltstore.Options{})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	if _, err := s.Schedule(ctx, "q", store.DueItem{ID: "a", Due: due, Payload: []byte("p")}); err != nil {
		t.Fatalf("Schedule: %v", err)
	}
	tk := store.Ticket{ID: "T-1", Owner: "o1", State: store.StateAssigned, CreatedAt: due}
	if err := s.CreateTicket(ctx, tk); err != nil {
		t.Fatalf("CreateTicket: %v", err)
	}
	if _, err := s.NextSeq(ctx, "total", 0); err != nil {
		t.Fatalf("NextSeq: %v", err)
	}
	if err := s.BindOfficer(ctx, "u1", "o1"); err != nil {
		t.Fatalf("BindOfficer: %v", err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	s, err = boltstore.New(path, boltstore.Options{})
	if err != nil {
		t.Fatalf("New again: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	got, err := s.Claim(ctx, "q", due, 10, time.Minute)
	if err != nil {
		t.Fatalf("Claim: %v", err)
	}
	if len(got) != 1 || got[0].ID != "a" || string(got[0].Payload) != "p" {
		t.Errorf("Claim after reopen = %+v, want item a with payload p", got)
	}
	if list, err := s.ListTickets(ctx, store.TicketFilter{Owner: "o1"}); err != nil || len(list) != 1 || list[0].ID != "T-1" {
		t.Errorf("ListTickets(owner o1) after reopen = %+v, %v; want [T-1]", list, err)
	}
	if n, err := s.NextSeq(ctx, "total", 0); err != nil || n != 2 {
		t.Errorf("NextSeq(total) after reopen = %d, %v; want 2", n, err)
	}
	if officer, err := s.OfficerByUser(ctx, "u1"); err != nil || officer != "o1" {
		t.Errorf("OfficerByUser(u1) after reopen = %q, %v; want o1", officer, err)
	}
}
