package boltstore

import (
	"bytes"
	"encoding/binary"
	"errors"
	"path/filepath"
	"slices"
	"strconv"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"huimin/store"
)

// TestQueueJSONItems puts items in the queue as earlier versions stored
// them, JSON, and works them through the queue: they claim with their
// kind, payload and attempt, fence, retry and acknowledge, and are
// written back in the binary form once claimed.
func TestQueueJSONItems(t *testing.T) {
	s, err := New(filepath.Join(t.TempDir(), "huimin.db"), Options{})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	t.Cleanup(func() { _ = s.Close() })
	ctx := t.Context()
	t0 := time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
	const queue = "old"
	// As json.Marshal wrote the earlier queueItem: the payload base64'd
	// ("visit" and "\x00\xff回"), the kind left out when empty.
	old := []struct {
		id   string
		due  time.Time
		json string
	}{
		{"a", t0, `{"due":` + strconv.FormatInt(t0.UnixNano(), 10) + `,"kind":"desk.visit","payload":"dmlzaXQ=","attempt":0}`},
		{"b", t0.Add(time.Second), `{"due":` + strconv.FormatInt(t0.Add(time.Second).UnixNano(), 10) + `,"payload":"AP/lm54=","attempt":2}`},
		{"c", t0.Add(2 * time.Second), `{"due":` + strconv.FormatInt(t0.Add(2*time.Second).UnixNano(), 10) + `,"payload":null,"attempt":0}`},
	}
	err = s.db.Update(func(tx *bolt.Tx) error {
		q, _, err := openQueue(tx, queue, true)
		if err != nil {
			return err
		}
		for _, it := range old {
			if err := q.idx.Put(indexKey(it.due.UnixNano(), []byte(it.id)), nil); err != nil {
				return err
			}
			if err := q.items.Put([]byte(it.id), []byte(it.json)); err != nil {
				return err
			}
			if err := q.addCount(1); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatalf("store JSON items: %v", err)
	}

	got, err := s.Claim(ctx, queue, t0.Add(time.Minute), 10, time.Minute)
	if err != nil {
		t.Fatalf("Claim: %v", err)
	}
	want := []store.DueItem{
		{ID: "a", Kind: "desk.visit", Due: t0, Payload: []byte("visit"), Attempt: 1},
		{ID: "b", Due: t0.Add(time.Second), Payload: []byte("\x00\xff回"), Attempt: 3},
		{ID: "c", Due: t0.Add(2 * time.Second), Attempt: 1},
	}
	if len(got) != len(want) {
		t.Fatalf("Claim = %+v, want %+v", got, want)
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.ID != w.ID || g.Kind != w.Kind || !g.Due.Equal(w.Due) || !bytes.Equal(g.Payload, w.Payload) || g.Attempt != w.Attempt {
			t.Errorf("claimed item %d = %+v, want %+v", i, g, w)
		}
	}
	// Claimed, each is stored again, in the binary form.
	err = s.db.View(func(tx *bolt.Tx) error {
		q, _, err := openQueue(tx, queue, false)
		if err != nil {
			return err
		}
		for _, it := range old {
			if v := q.items.Get([]byte(it.id)); len(v) == 0 || v[0] != itemV1 {
				t.Errorf("item %s stored as %q after its claim, want the binary form", it.id, v)
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}

	if err := s.Ack(ctx, queue, "b", 2); !errors.Is(err, store.ErrLeaseLost) {
		t.Errorf("Ack(b, stale attempt 2) = %v, want ErrLeaseLost", err)
	}
	if err := s.Ack(ctx, queue, "a", 1); err != nil {
		t.Errorf("Ack(a, 1) = %v", err)
	}
	if err := s.Retry(ctx, queue, "b", 3, t0.Add(time.Hour)); err != nil {
		t.Errorf("Retry(b, 3) = %v", err)
	}
	if err := s.Cancel(ctx, queue, "c"); err != nil {
		t.Errorf("Cancel(c) = %v", err)
	}
	again, err := s.Claim(ctx, queue, t0.Add(time.Hour), 10, time.Minute)
	if err != nil || len(again) != 1 || again[0].ID != "b" || again[0].Attempt != 4 || string(again[0].Payload) != "\x00\xff回" {
		t.Fatalf("Claim after the retry = %+v, %v; want b at attempt 4 with its payload", again, err)
	}
	if err := s.Ack(ctx, queue, "b", 4); err != nil {
		t.Errorf("Ack(b, 4) = %v", err)
	}
	st, err := s.QueueStats(ctx, queue, t0.Add(24*time.Hour))
	if err != nil || st != (store.QueueStats{}) {
		t.Errorf("QueueStats at the end = %+v, %v; want an empty queue", st, err)
	}
}

// TestDecodeItem reads items back from their binary form and refuses
// stored values that are not an item.
func TestDecodeItem(t *testing.T) {
	for _, it := range []queueItem{
		{Due: 1, Attempt: 0},
		{Due: time.Date(2199, 12, 31, 0, 0, 0, 0, time.UTC).UnixNano(), Kind: "desk.visit", Payload: []byte("{}"), Attempt: 1},
		{Due: 42, Kind: "k", Payload: bytes.Repeat([]byte{0, 0xff, 0x01, '{'}, 100), Attempt: 300},
	} {
		v := encodeItem(it)
		got, err := decodeItem(v)
		if err != nil || got.Due != it.Due || got.Kind != it.Kind || !bytes.Equal(got.Payload, it.Payload) || got.Attempt != it.Attempt {
			t.Errorf("decodeItem(encodeItem(%+v)) = %+v, %v", it, got, err)
		}
	}
	valid := encodeItem(queueItem{Due: 7, Kind: "kind", Payload: []byte("p"), Attempt: 2})
	bad := []struct {
		name string
		v    []byte
	}{
		{"empty", nil},
		{"unknown version", append([]byte{0x02}, valid[1:]...)},
		{"due cut short", valid[:5]},
		{"no attempt", valid[:9]},
		{"kind cut short", valid[:12]},
		{"kind longer than the value", binary.AppendUvarint(append([]byte{itemV1}, make([]byte, 9)...), 1<<40)},
		{"not JSON after all", []byte("{nope")},
	}
	for _, tt := range bad {
		t.Run(tt.name, func(t *testing.T) {
			if got, err := decodeItem(slices.Clone(tt.v)); err == nil {
				t.Errorf("decodeItem(%q) = %+v, want an error", tt.v, got)
			}
		})
	}
}
