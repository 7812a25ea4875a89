package storetest

import (
	"bytes"
	"errors"
	"testing"
	"time"

	"huimin/store"
)

func testDelivery(t *testing.T, h Harness) {
	t.Run("FirstThenDuplicate", func(t *testing.T) {
		s := h.New(t)
		ctx := t.Context()
		d1, first, err := s.BeginDelivery(ctx, "msg-1", "", time.Hour)
		check(t, "BeginDelivery first", err)
		if !first || d1.Key != "msg-1" || d1.Done || d1.CreatedAt.IsZero() {
			t.Fatalf("first BeginDelivery = (%+v, %v), want key msg-1, not done, CreatedAt set, first=true", d1, first)
		}
		d2, first, err := s.BeginDelivery(ctx, "msg-1", "", time.Hour)
		check(t, "BeginDelivery second", err)
		if first {
			t.Errorf("second BeginDelivery first = true, want false")
		}
		if d2.Key != "msg-1" || d2.Done || !d2.CreatedAt.Equal(d1.CreatedAt) {
			t.Errorf("second BeginDelivery = %+v, want the first record %+v", d2, d1)
		}
		got, err := s.GetDelivery(ctx, "msg-1")
		check(t, "GetDelivery", err)
		if got.Done {
			t.Errorf("GetDelivery Done = true before FinishDelivery, want false")
		}
	})

	t.Run("Finish", func(t *testing.T) {
		tests := []struct {
			name  string
			reply []byte
		}{
			{"xml reply", []byte("<xml><ToUserName><![CDATA[o1]]></ToUserName><Content><![CDATA[已收到]]></Content></xml>")},
			{"empty reply", nil},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				s := h.New(t)
				ctx := t.Context()
				begun, _, err := s.BeginDelivery(ctx, "msg-2", "", time.Hour)
				check(t, "BeginDelivery", err)
				begun.Reply = tt.reply
				check(t, "FinishDelivery", s.FinishDelivery(ctx, begun, time.Hour))
				got, err := s.GetDelivery(ctx, "msg-2")
				check(t, "GetDelivery", err)
				if !got.Done || !bytes.Equal(got.Reply, tt.reply) || got.Key != "msg-2" {
					t.Errorf("GetDelivery = {Key:%q Done:%v Reply:%q}, want {Key:msg-2 Done:true Reply:%q}", got.Key, got.Done, got.Reply, tt.reply)
				}
				if !got.CreatedAt.Equal(begun.CreatedAt) {
					t.Errorf("GetDelivery CreatedAt = %v, want %v (from BeginDelivery)", got.CreatedAt, begun.CreatedAt)
				}
				// WeChat's retry of the same message gets the same answer.
				again, first, err := s.BeginDelivery(ctx, "msg-2", "", time.Hour)
				check(t, "BeginDelivery retry", err)
				if first || !again.Done || !bytes.Equal(again.Reply, tt.reply) {
					t.Errorf("BeginDelivery after finish = ({Done:%v Reply:%q}, first=%v), want ({Done:true Reply:%q}, first=false)", again.Done, again.Reply, first, tt.reply)
				}
			})
		}
	})

	t.Run("FinishRenewsTTL", func(t *testing.T) {
		s := h.New(t)
		ctx := t.Context()
		d, _, err := s.BeginDelivery(ctx, "msg-3", "", time.Minute)
		check(t, "BeginDelivery", err)
		h.Advance(t, s, 50*time.Second)
		d.Reply = []byte("ok")
		check(t, "FinishDelivery", s.FinishDelivery(ctx, d, 10*time.Minute))
		h.Advance(t, s, 5*time.Minute)
		if _, err := s.GetDelivery(ctx, "msg-3"); err != nil {
			t.Fatalf("GetDelivery 5m after finishing with a 10m ttl: got %v, want the record", err)
		}
	})

	t.Run("NotFound", func(t *testing.T) {
		s := h.New(t)
		_, err := s.GetDelivery(t.Context(), "unknown")
		wantErr(t, "GetDelivery", err, store.ErrNotFound)
	})

	t.Run("Forget", func(t *testing.T) {
		s := h.New(t)
		ctx := t.Context()
		check(t, "ForgetDelivery of an unknown key", s.ForgetDelivery(ctx, "msg-4"))
		if _, _, err := s.BeginDelivery(ctx, "msg-4", "", time.Hour); err != nil {
			t.Fatal(err)
		}
		check(t, "ForgetDelivery", s.ForgetDelivery(ctx, "msg-4"))
		_, err := s.GetDelivery(ctx, "msg-4")
		wantErr(t, "GetDelivery after ForgetDelivery", err, store.ErrNotFound)
		if _, first, err := s.BeginDelivery(ctx, "msg-4", "", time.Hour); err != nil || !first {
			t.Errorf("BeginDelivery after ForgetDelivery: first=%v, %v; want first=true", first, err)
		}
	})

	t.Run("BeginAfterExpiry", func(t *testing.T) {
		s := h.New(t)
		ctx := t.Context()
		_, _, err := s.BeginDelivery(ctx, "msg-4", "", time.Minute)
		check(t, "BeginDelivery", err)
		h.Advance(t, s, time.Minute)
		_, first, err := s.BeginDelivery(ctx, "msg-4", "", time.Minute)
		check(t, "BeginDelivery after expiry", err)
		if !first {
			t.Errorf("BeginDelivery after expiry first = false, want true")
		}
	})

	t.Run("ReplayRefused", func(t *testing.T) {
		s := h.New(t)
		ctx := t.Context()
		if _, first, err := s.BeginDelivery(ctx, "msg-5", "1700000000:111", time.Minute); err != nil || !first {
			t.Fatalf("BeginDelivery = first %v, %v; want first", first, err)
		}
		// The same request again, and a copy of its signature on another
		// message: both refused, and the copy leaves no record behind.
		if _, _, err := s.BeginDelivery(ctx, "msg-5", "1700000000:111", time.Minute); !errors.Is(err, store.ErrReplayed) {
			t.Errorf("same request again: %v, want ErrReplayed", err)
		}
		if _, _, err := s.BeginDelivery(ctx, "msg-6", "1700000000:111", time.Minute); !errors.Is(err, store.ErrReplayed) {
			t.Errorf("replay key on another message: %v, want ErrReplayed", err)
		}
		if _, err := s.GetDelivery(ctx, "msg-6"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("GetDelivery of the refused copy: %v, want ErrNotFound", err)
		}
		if _, first, err := s.BeginDelivery(ctx, "msg-6", "1700000000:222", time.Minute); err != nil || !first {
			t.Errorf("msg-6 with its own request: first %v, %v; want first (the copy recorded nothing)", first, err)
		}
		// The platform's retry of a message is a new request: a duplicate.
		if _, first, err := s.BeginDelivery(ctx, "msg-5", "1700000003:333", time.Minute); err != nil || first {
			t.Errorf("retry with a new nonce: first %v, %v; want a duplicate", first, err)
		}
		// A replay key is remembered for the ttl, then forgotten.
		h.Advance(t, s, time.Minute)
		if _, _, err := s.BeginDelivery(ctx, "msg-7", "1700000000:111", time.Minute); err != nil {
			t.Errorf("replay key after its ttl: %v, want accepted", err)
		}
	})
}
