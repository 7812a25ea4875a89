package storetest

import (
	"sync"
	"testing"
	"time"

	"huimin/store"
)

func testConsent(t *testing.T, h Harness) {
	t0 := refTime()
	t.Run("NeverAgreed", func(t *testing.T) {
		s := h.New(t)
		_, err := s.ConsentOf(t.Context(), "oCitizen")
		wantErr(t, "ConsentOf(unknown)", err, store.ErrNotFound)
		_, err = s.ConsentOf(t.Context(), "")
		wantErr(t, "ConsentOf(empty)", err, store.ErrNotFound)
		if _, err := s.RecordConsent(t.Context(), "", t0); err == nil {
			t.Fatal("RecordConsent(empty openid) = nil error, want an error")
		}
	})
	t.Run("RecordedWithTime", func(t *testing.T) {
		s := h.New(t)
		at := t0.Add(1500 * time.Millisecond)
		got, err := s.RecordConsent(t.Context(), "oCitizen", at)
		check(t, "RecordConsent", err)
		if !got.Equal(at) {
			t.Errorf("RecordConsent() = %v, want %v", got, at)
		}
		got, err = s.ConsentOf(t.Context(), "oCitizen")
		check(t, "ConsentOf", err)
		if !got.Equal(at) {
			t.Errorf("ConsentOf() = %v, want %v", got, at)
		}
		_, err = s.ConsentOf(t.Context(), "oOther")
		wantErr(t, "ConsentOf(another citizen)", err, store.ErrNotFound)
	})
	t.Run("FirstTimeKept", func(t *testing.T) {
		s := h.New(t)
		_, err := s.RecordConsent(t.Context(), "oCitizen", t0)
		check(t, "RecordConsent", err)
		got, err := s.RecordConsent(t.Context(), "oCitizen", t0.Add(time.Hour))
		check(t, "RecordConsent again", err)
		if !got.Equal(t0) {
			t.Errorf("RecordConsent() again = %v, want the first %v", got, t0)
		}
		if got, err := s.ConsentOf(t.Context(), "oCitizen"); err != nil || !got.Equal(t0) {
			t.Errorf("ConsentOf() = %v, %v; want %v, nil", got, err, t0)
		}
	})
	t.Run("Withdrawn", func(t *testing.T) {
		s := h.New(t)
		had, err := s.WithdrawConsent(t.Context(), "oCitizen")
		check(t, "WithdrawConsent(never agreed)", err)
		if had {
			t.Error("WithdrawConsent(never agreed) = true, want false")
		}
		_, err = s.RecordConsent(t.Context(), "oCitizen", t0)
		check(t, "RecordConsent", err)
		_, err = s.RecordConsent(t.Context(), "oOther", t0)
		check(t, "RecordConsent(another)", err)
		had, err = s.WithdrawConsent(t.Context(), "oCitizen")
		check(t, "WithdrawConsent", err)
		if !had {
			t.Error("WithdrawConsent() = false, want true")
		}
		_, err = s.ConsentOf(t.Context(), "oCitizen")
		wantErr(t, "ConsentOf(withdrawn)", err, store.ErrNotFound)
		if _, err := s.ConsentOf(t.Context(), "oOther"); err != nil {
			t.Errorf("another citizen's consent went with it: %v", err)
		}
		// Agreeing again records the new time, not the first.
		later := t0.Add(time.Hour)
		got, err := s.RecordConsent(t.Context(), "oCitizen", later)
		check(t, "RecordConsent again", err)
		if !got.Equal(later) {
			t.Errorf("RecordConsent() after withdrawing = %v, want %v", got, later)
		}
	})
	t.Run("Durable", func(t *testing.T) {
		// A consent is not a session: it outlives every expiry.
		s := h.New(t)
		_, err := s.RecordConsent(t.Context(), "oCitizen", t0)
		check(t, "RecordConsent", err)
		h.Advance(t, s, 5*365*24*time.Hour)
		if got, err := s.ConsentOf(t.Context(), "oCitizen"); err != nil || !got.Equal(t0) {
			t.Errorf("ConsentOf() after five years = %v, %v; want %v, nil", got, err, t0)
		}
	})
	t.Run("Concurrent", func(t *testing.T) {
		s := h.New(t)
		var wg sync.WaitGroup
		got := make([]time.Time, 8)
		for i := range got {
			wg.Go(func() {
				at, err := s.RecordConsent(t.Context(), "oCitizen", t0.Add(time.Duration(i)*time.Second))
				if err != nil {
					t.Errorf("RecordConsent: %v", err)
				}
				got[i] = at
			})
		}
		wg.Wait()
		kept, err := s.ConsentOf(t.Context(), "oCitizen")
		check(t, "ConsentOf", err)
		for i, at := range got {
			if !at.Equal(kept) {
				t.Errorf("RecordConsent #%d = %v, want the time kept %v", i, at, kept)
			}
		}
	})
}
