package storetest

import (
	"testing"
	"time"

	"huimin/store"
)

// testQueueKind checks that a due item's kind is kept: the runner hands an
// item to the handler of its kind, and an item stored without one (before
// kinds were stored) still claims, with its payload intact.
func testQueueKind(t *testing.T, h Harness) {
	s := h.New(t)
	ctx := t.Context()
	t0 := refTime()
	items := []store.DueItem{
		{ID: "a", Kind: "desk.assign", Due: t0, Payload: []byte(`{"ticket":"MZ1"}`)},
		{ID: "b", Due: t0.Add(time.Second), Payload: []byte(`{"old":true}`)},
		{ID: "c", Kind: "survey.visit", Due: t0.Add(2 * time.Second), Payload: nil},
		{ID: "d", Due: t0.Add(3 * time.Second), Payload: []byte("\x01looks like a mark\x00but is a payload")},
	}
	for _, it := range items {
		if _, err := s.Schedule(ctx, "kinds", it); err != nil {
			t.Fatalf("Schedule(%s): %v", it.ID, err)
		}
	}
	got, err := s.Claim(ctx, "kinds", t0.Add(time.Minute), 10, time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	if len(got) != len(items) {
		t.Fatalf("claimed %d items, want %d", len(got), len(items))
	}
	for i, it := range got {
		want := items[i]
		if it.ID != want.ID || it.Kind != want.Kind || string(it.Payload) != string(want.Payload) {
			t.Errorf("item %d = %s kind %q payload %q, want %s kind %q payload %q", i, it.ID, it.Kind, it.Payload, want.ID, want.Kind, want.Payload)
		}
	}
	// A retried item keeps its kind.
	if err := s.Retry(ctx, "kinds", "a", got[0].Attempt, t0.Add(2*time.Minute)); err != nil {
		t.Fatal(err)
	}
	again, err := s.Claim(ctx, "kinds", t0.Add(3*time.Minute), 10, time.Minute)
	if err != nil || len(again) == 0 || again[0].ID != "a" || again[0].Kind != "desk.assign" {
		t.Errorf("retried item = %+v, %v; want a with its kind", again, err)
	}
}
