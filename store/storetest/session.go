package storetest

import (
	"fmt"
	"maps"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"huimin/store"
)

func testSession(t *testing.T, h Harness) {
	t0 := refTime()
	full := store.Session{
		OpenID:      "o-full",
		Flow:        "intake",
		Step:        "details",
		Data:        map[string]string{"category": "低保", "phone": "13800000000", "note": "line1\nline2 \"quoted\""},
		Back:        []string{"category", "address"},
		LastInbound: t0,
		UpdatedAt:   t0.Add(90 * time.Second),
	}

	t.Run("RoundTrip", func(t *testing.T) {
		tests := []struct {
			name string
			sess store.Session
		}{
			{"full", full},
			{"main menu", store.Session{OpenID: "o-menu", LastInbound: t0, UpdatedAt: t0}},
			{"zero times", store.Session{OpenID: "o-zero", Flow: "survey", Step: "score"}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				s := h.New(t)
				ctx := t.Context()
				check(t, "PutSession", s.PutSession(ctx, tt.sess, time.Hour))
				got, err := s.GetSession(ctx, tt.sess.OpenID)
				check(t, "GetSession", err)
				assertSession(t, got, tt.sess)
			})
		}
	})

	t.Run("Overwrite", func(t *testing.T) {
		s := h.New(t)
		ctx := t.Context()
		check(t, "PutSession first", s.PutSession(ctx, full, time.Hour))
		next := store.Session{OpenID: full.OpenID, Flow: "survey", Step: "score", Data: map[string]string{"score": "5"}, UpdatedAt: t0.Add(time.Hour)}
		check(t, "PutSession second", s.PutSession(ctx, next, time.Hour))
		got, err := s.GetSession(ctx, full.OpenID)
		check(t, "GetSession", err)
		assertSession(t, got, next) // replaced whole, not merged
	})

	t.Run("Delete", func(t *testing.T) {
		s := h.New(t)
		ctx := t.Context()
		check(t, "PutSession", s.PutSession(ctx, full, time.Hour))
		check(t, "DeleteSession", s.DeleteSession(ctx, full.OpenID))
		_, err := s.GetSession(ctx, full.OpenID)
		wantErr(t, "GetSession after delete", err, store.ErrNotFound)
		check(t, "DeleteSession again", s.DeleteSession(ctx, full.OpenID))
	})

	t.Run("NotFound", func(t *testing.T) {
		s := h.New(t)
		_, err := s.GetSession(t.Context(), "nobody")
		wantErr(t, "GetSession", err, store.ErrNotFound)
	})

	t.Run("PutRenewsTTL", func(t *testing.T) {
		s := h.New(t)
		ctx := t.Context()
		check(t, "PutSession", s.PutSession(ctx, full, 30*time.Minute))
		h.Advance(t, s, 20*time.Minute)
		check(t, "PutSession again", s.PutSession(ctx, full, 30*time.Minute))
		h.Advance(t, s, 20*time.Minute)
		if _, err := s.GetSession(ctx, full.OpenID); err != nil {
			t.Fatalf("GetSession 40m after first put, 20m after second: got %v, want the session", err)
		}
	})
}

// assertSession compares sessions field by field (times with Equal, since
// a round trip may change their location).
func assertSession(t *testing.T, got, want store.Session) {
	t.Helper()
	if got.OpenID != want.OpenID || got.Flow != want.Flow || got.Step != want.Step {
		t.Errorf("session = {%q %q %q}, want {%q %q %q}", got.OpenID, got.Flow, got.Step, want.OpenID, want.Flow, want.Step)
	}
	if !maps.Equal(got.Data, want.Data) {
		t.Errorf("session Data = %v, want %v", got.Data, want.Data)
	}
	if !slices.Equal(got.Back, want.Back) {
		t.Errorf("session Back = %v, want %v", got.Back, want.Back)
	}
	if !got.LastInbound.Equal(want.LastInbound) {
		t.Errorf("session LastInbound = %v, want %v", got.LastInbound, want.LastInbound)
	}
	if !got.UpdatedAt.Equal(want.UpdatedAt) {
		t.Errorf("session UpdatedAt = %v, want %v", got.UpdatedAt, want.UpdatedAt)
	}
}

func testSessionLock(t *testing.T, h Harness) {
	ctx := t.Context()
	t.Run("LockReadSaveUnlock", func(t *testing.T) {
		s := h.New(t)
		got, found, locked, err := s.LockSession(ctx, "o1", "a", time.Minute)
		if err != nil || !locked || found || got.OpenID != "" {
			t.Fatalf("LockSession on nothing = %+v, found %v, locked %v, %v; want locked, not found", got, found, locked, err)
		}
		if _, _, locked, err := s.LockSession(ctx, "o1", "b", time.Minute); err != nil || locked {
			t.Fatalf("second owner: locked %v, %v; want refused", locked, err)
		}
		if _, _, locked, err := s.LockSession(ctx, "o2", "b", time.Minute); err != nil || !locked {
			t.Fatalf("another person's lock: locked %v, %v; want taken", locked, err)
		}
		want := store.Session{OpenID: "o1", Flow: "relief", Step: "phone", Data: map[string]string{"town": "城关街道"}, HasTickets: true}
		if err := s.SaveSessionUnlock(ctx, want, time.Hour, "a"); err != nil {
			t.Fatalf("SaveSessionUnlock: %v", err)
		}
		got, found, locked, err = s.LockSession(ctx, "o1", "b", time.Minute)
		if err != nil || !locked || !found {
			t.Fatalf("after save and unlock: found %v, locked %v, %v; want both", found, locked, err)
		}
		if got.Flow != want.Flow || got.Step != want.Step || got.Data["town"] != "城关街道" || !got.HasTickets {
			t.Errorf("session = %+v, want %+v", got, want)
		}
		// A stale owner's save still stores the session but frees nothing.
		if err := s.SaveSessionUnlock(ctx, want, time.Hour, "a"); err != nil {
			t.Fatalf("stale SaveSessionUnlock: %v", err)
		}
		if _, _, locked, _ := s.LockSession(ctx, "o1", "c", time.Minute); locked {
			t.Errorf("a stale owner's save freed b's lock")
		}
		if err := s.UnlockSession(ctx, "o1", "c"); err != nil {
			t.Fatal(err)
		}
		if _, _, locked, _ := s.LockSession(ctx, "o1", "c", time.Minute); locked {
			t.Errorf("UnlockSession by a non-owner freed the lock")
		}
		if err := s.UnlockSession(ctx, "o1", "b"); err != nil {
			t.Fatal(err)
		}
		if _, _, locked, _ := s.LockSession(ctx, "o1", "c", time.Minute); !locked {
			t.Errorf("UnlockSession by the owner did not free the lock")
		}
	})
	t.Run("LockExpires", func(t *testing.T) {
		s := h.New(t)
		if _, _, locked, err := s.LockSession(ctx, "o1", "a", time.Minute); err != nil || !locked {
			t.Fatalf("LockSession: %v %v", locked, err)
		}
		h.Advance(t, s, 30*time.Second)
		if _, _, locked, _ := s.LockSession(ctx, "o1", "b", time.Minute); locked {
			t.Errorf("lock taken before it expired")
		}
		h.Advance(t, s, 31*time.Second)
		if _, _, locked, _ := s.LockSession(ctx, "o1", "b", time.Minute); !locked {
			t.Errorf("lock of a dead holder never expired")
		}
	})
	t.Run("OneHolderAtATime", func(t *testing.T) {
		s := h.New(t)
		var holders, overlap atomic.Int64
		var wg sync.WaitGroup
		for i := range 16 {
			wg.Go(func() {
				owner := fmt.Sprint("w", i)
				for range 20 {
					_, _, locked, err := s.LockSession(ctx, "burst", owner, time.Minute)
					if err != nil {
						t.Errorf("LockSession: %v", err)
						return
					}
					if !locked {
						continue
					}
					if holders.Add(1) > 1 {
						overlap.Add(1)
					}
					holders.Add(-1)
					if err := s.SaveSessionUnlock(ctx, store.Session{OpenID: "burst", Step: owner}, time.Hour, owner); err != nil {
						t.Errorf("SaveSessionUnlock: %v", err)
						return
					}
				}
			})
		}
		wg.Wait()
		if overlap.Load() != 0 {
			t.Errorf("%d times two owners held one session lock", overlap.Load())
		}
	})
}

func testUserFacts(t *testing.T, h Harness) {
	ctx := t.Context()
	s := h.New(t)
	check := func(user, wantOfficer string, wantTickets bool) {
		t.Helper()
		officer, tickets, err := s.UserFacts(ctx, user)
		if err != nil || officer != wantOfficer || tickets != wantTickets {
			t.Errorf("UserFacts(%s) = %q, %v, %v; want %q, %v", user, officer, tickets, err, wantOfficer, wantTickets)
		}
		// A new conversation gets the same facts with its lock.
		sess, found, locked, err := s.LockSession(ctx, user, "facts-owner", time.Minute)
		if err != nil || found || !locked || sess.BoundOfficer != wantOfficer || sess.HasTickets != wantTickets {
			t.Errorf("LockSession(%s) = {BoundOfficer:%q HasTickets:%v}, found=%v, locked=%v, %v; want %q, %v, a new session, locked",
				user, sess.BoundOfficer, sess.HasTickets, found, locked, err, wantOfficer, wantTickets)
		}
		if err := s.UnlockSession(ctx, user, "facts-owner"); err != nil {
			t.Errorf("UnlockSession(%s): %v", user, err)
		}
	}
	check("oNobody", "", false)
	if err := s.BindOfficer(ctx, "oWang", "wang"); err != nil {
		t.Fatal(err)
	}
	check("oWang", "wang", false)
	// A user ID that is a prefix of another must not see the other's tickets.
	tk := store.Ticket{ID: "MZ1", CitizenOpenID: "oCitizen1", Department: "relief", State: store.StateReceived, CreatedAt: time.Unix(1764300000, 0)}
	if err := s.CreateTicket(ctx, tk); err != nil {
		t.Fatal(err)
	}
	check("oCitizen1", "", true)
	check("oCitizen", "", false)
	check("oWang", "wang", false)
}
