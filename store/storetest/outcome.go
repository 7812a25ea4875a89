package storetest

import (
	"testing"
	"time"

	"huimin/store"
)

func testOutcome(t *testing.T, h Harness) {
	t0 := refTime()
	tests := []struct {
		name string
		o    store.Outcome
	}{
		{"sent", store.Outcome{MessageID: "m1", Status: store.OutcomeSent, Attempts: 1, At: t0}},
		{"out of window", store.Outcome{MessageID: "m2", Status: store.OutcomeOutOfWindow, ErrCode: 45015, Detail: "response out of time limit", Attempts: 1, At: t0}},
		{"failed", store.Outcome{MessageID: "m3", Status: store.OutcomeFailed, Detail: "wechat unreachable", Attempts: 5, At: t0.Add(time.Hour)}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := h.New(t)
			ctx := t.Context()
			check(t, "PutOutcome", s.PutOutcome(ctx, tt.o, time.Hour))
			got, err := s.GetOutcome(ctx, tt.o.MessageID)
			check(t, "GetOutcome", err)
			if !got.At.Equal(tt.o.At) {
				t.Errorf("GetOutcome At = %v, want %v", got.At, tt.o.At)
			}
			got.At = tt.o.At
			if got != tt.o {
				t.Errorf("GetOutcome = %+v, want %+v", got, tt.o)
			}
		})
	}
	t.Run("overwrite", func(t *testing.T) {
		s := h.New(t)
		ctx := t.Context()
		check(t, "PutOutcome", s.PutOutcome(ctx, store.Outcome{MessageID: "m", Status: store.OutcomeFailed, At: t0}, time.Hour))
		check(t, "PutOutcome", s.PutOutcome(ctx, store.Outcome{MessageID: "m", Status: store.OutcomeSent, Attempts: 2, At: t0}, time.Hour))
		got, err := s.GetOutcome(ctx, "m")
		check(t, "GetOutcome", err)
		if got.Status != store.OutcomeSent || got.Attempts != 2 {
			t.Errorf("GetOutcome = {Status:%s Attempts:%d}, want {Status:sent Attempts:2}", got.Status, got.Attempts)
		}
	})
	t.Run("not found", func(t *testing.T) {
		s := h.New(t)
		_, err := s.GetOutcome(t.Context(), "unknown")
		wantErr(t, "GetOutcome", err, store.ErrNotFound)
	})
}
