package storetest

import (
	"errors"
	"testing"
	"time"

	"huimin/store"
)

func testBeginConversation(t *testing.T, h Harness) {
	t.Run("FirstTakesTheConversation", func(t *testing.T) {
		s := h.New(t)
		ctx := t.Context()
		check(t, "PutSession", s.PutSession(ctx, store.Session{OpenID: "oBegin", Flow: "relief", Step: "phone"}, time.Hour))
		b, err := s.BeginConversation(ctx, "msg-b1", "1700000000:1", time.Hour, "oBegin", "owner-1", 10*time.Second)
		check(t, "BeginConversation", err)
		if !b.First || b.Delivery.Key != "msg-b1" || b.Delivery.Done || !b.Locked || !b.Found || b.Session.Step != "phone" {
			t.Fatalf("BeginConversation = %+v, want first, delivery msg-b1 not done, locked, the session at step phone", b)
		}
		if _, _, locked, err := s.LockSession(ctx, "oBegin", "owner-2", 10*time.Second); err != nil || locked {
			t.Errorf("LockSession by another owner = (locked %v, %v), want the lock held by owner-1", locked, err)
		}
		check(t, "SaveSessionUnlock", s.SaveSessionUnlock(ctx, b.Session, time.Hour, "owner-1"))
		if _, _, locked, err := s.LockSession(ctx, "oBegin", "owner-2", 10*time.Second); err != nil || !locked {
			t.Errorf("LockSession after owner-1 saved = (locked %v, %v), want the lock free", locked, err)
		}
	})

	t.Run("EndSavesUnlocksAndFinishes", func(t *testing.T) {
		s := h.New(t)
		ctx := t.Context()
		b, err := s.BeginConversation(ctx, "msg-e1", "1700000000:2", time.Hour, "oEnd", "owner-1", 10*time.Second)
		check(t, "BeginConversation", err)
		if !b.First || !b.Locked {
			t.Fatalf("BeginConversation = %+v, want first and locked", b)
		}
		b.Session.OpenID, b.Session.Step = "oEnd", "name"
		d := b.Delivery
		d.Reply = []byte("<xml>请告诉我们您的姓名</xml>")
		check(t, "EndConversation", s.EndConversation(ctx, b.Session, time.Hour, "owner-1", d, time.Hour))
		got, err := s.GetSession(ctx, "oEnd")
		if err != nil || got.Step != "name" {
			t.Errorf("GetSession after EndConversation = %+v, %v; want step name", got, err)
		}
		rec, err := s.GetDelivery(ctx, "msg-e1")
		if err != nil || !rec.Done || string(rec.Reply) != string(d.Reply) || !rec.CreatedAt.Equal(b.Delivery.CreatedAt) {
			t.Errorf("GetDelivery after EndConversation = %+v, %v; want done with the reply", rec, err)
		}
		if _, _, locked, err := s.LockSession(ctx, "oEnd", "owner-2", 10*time.Second); err != nil || !locked {
			t.Errorf("LockSession after EndConversation = (locked %v, %v), want the lock free", locked, err)
		}
		// A retry of the delivery finds it done, with its answer.
		dup, err := s.BeginConversation(ctx, "msg-e1", "1700000001:2", time.Hour, "oEnd", "owner-3", 10*time.Second)
		check(t, "BeginConversation again", err)
		if dup.First || !dup.Delivery.Done || string(dup.Delivery.Reply) != string(d.Reply) {
			t.Errorf("retry's BeginConversation = %+v, want the finished record", dup)
		}
	})

	t.Run("EndByAnotherOwnerLeavesTheirLock", func(t *testing.T) {
		s := h.New(t)
		ctx := t.Context()
		if _, _, locked, err := s.LockSession(ctx, "oLate", "other", 10*time.Second); err != nil || !locked {
			t.Fatalf("LockSession = (locked %v, %v)", locked, err)
		}
		d, first, err := s.BeginDelivery(ctx, "msg-e2", "", time.Hour)
		if err != nil || !first {
			t.Fatalf("BeginDelivery = first %v, %v", first, err)
		}
		check(t, "EndConversation", s.EndConversation(ctx, store.Session{OpenID: "oLate", Step: "x"}, time.Hour, "owner-1", d, time.Hour))
		if _, _, locked, err := s.LockSession(ctx, "oLate", "owner-2", 10*time.Second); err != nil || locked {
			t.Errorf("LockSession = (locked %v, %v), want other's lock kept", locked, err)
		}
		if rec, err := s.GetDelivery(ctx, "msg-e2"); err != nil || !rec.Done {
			t.Errorf("GetDelivery = %+v, %v; want done", rec, err)
		}
	})

	t.Run("NewConversationReadsTheFacts", func(t *testing.T) {
		s := h.New(t)
		ctx := t.Context()
		check(t, "BindOfficer", s.BindOfficer(ctx, "oOfficer", "officer-7"))
		b, err := s.BeginConversation(ctx, "msg-b2", "", time.Hour, "oOfficer", "owner-1", 10*time.Second)
		check(t, "BeginConversation", err)
		if !b.First || !b.Locked || b.Found || b.Session.BoundOfficer != "officer-7" {
			t.Errorf("BeginConversation = %+v, want first, locked, no session, BoundOfficer officer-7", b)
		}
	})

	t.Run("LockHeldElsewhere", func(t *testing.T) {
		s := h.New(t)
		ctx := t.Context()
		if _, _, locked, err := s.LockSession(ctx, "oBusy", "other", 10*time.Second); err != nil || !locked {
			t.Fatalf("LockSession = (locked %v, %v)", locked, err)
		}
		b, err := s.BeginConversation(ctx, "msg-b3", "", time.Hour, "oBusy", "owner-1", 10*time.Second)
		check(t, "BeginConversation", err)
		if !b.First || b.Locked {
			t.Errorf("BeginConversation = %+v, want the delivery first and the conversation not locked", b)
		}
	})

	t.Run("DuplicateLeavesTheLock", func(t *testing.T) {
		s := h.New(t)
		ctx := t.Context()
		first, err := s.BeginConversation(ctx, "msg-b4", "", time.Hour, "oDup", "owner-1", 10*time.Second)
		check(t, "BeginConversation", err)
		dup, err := s.BeginConversation(ctx, "msg-b4", "", time.Hour, "oDup", "owner-2", 10*time.Second)
		check(t, "BeginConversation again", err)
		if dup.First || dup.Locked || dup.Delivery.Key != "msg-b4" || !dup.Delivery.CreatedAt.Equal(first.Delivery.CreatedAt) {
			t.Fatalf("duplicate BeginConversation = %+v, want the first's record, not first, not locked", dup)
		}
		// The first delivery still holds the conversation.
		if _, _, locked, err := s.LockSession(ctx, "oDup", "owner-3", 10*time.Second); err != nil || locked {
			t.Errorf("LockSession after the duplicate = (locked %v, %v), want owner-1's lock kept", locked, err)
		}
		check(t, "UnlockSession", s.UnlockSession(ctx, "oDup", "owner-1"))
		// A duplicate arriving once the first is done takes no lock.
		if _, err := s.BeginConversation(ctx, "msg-b4", "", time.Hour, "oDup", "owner-4", 10*time.Second); err != nil {
			t.Fatal(err)
		}
		if _, _, locked, err := s.LockSession(ctx, "oDup", "owner-5", 10*time.Second); err != nil || !locked {
			t.Errorf("LockSession after a late duplicate = (locked %v, %v), want the lock free", locked, err)
		}
	})

	t.Run("ReplayRefusedKeepsNothing", func(t *testing.T) {
		s := h.New(t)
		ctx := t.Context()
		if _, err := s.BeginConversation(ctx, "msg-b5", "1700000000:9", time.Hour, "oReplay", "owner-1", 10*time.Second); err != nil {
			t.Fatal(err)
		}
		check(t, "UnlockSession", s.UnlockSession(ctx, "oReplay", "owner-1"))
		_, err := s.BeginConversation(ctx, "msg-b6", "1700000000:9", time.Hour, "oReplay", "owner-2", 10*time.Second)
		if !errors.Is(err, store.ErrReplayed) {
			t.Fatalf("replayed request: %v, want ErrReplayed", err)
		}
		if _, err := s.GetDelivery(ctx, "msg-b6"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("GetDelivery of the replay's key: %v, want ErrNotFound", err)
		}
		if _, _, locked, err := s.LockSession(ctx, "oReplay", "owner-3", 10*time.Second); err != nil || !locked {
			t.Errorf("LockSession after a replay = (locked %v, %v), want the lock free", locked, err)
		}
	})
}
