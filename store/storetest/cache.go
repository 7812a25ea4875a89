package storetest

import (
	"context"
	"errors"
	"fmt"
	"sync"
	"testing"
	"time"

	"huimin/store"
)

func testCache(t *testing.T, h Harness) {
	tests := []struct {
		name string
		run  func(ctx context.Context, s Store) error
		want string // "" means store.ErrNotFound
	}{
		{"set then get", func(ctx context.Context, s Store) error {
			return s.SetCache(ctx, "k", "access-token-1", time.Hour)
		}, "access-token-1"},
		{"overwrite", func(ctx context.Context, s Store) error {
			if err := s.SetCache(ctx, "k", "old", time.Hour); err != nil {
				return err
			}
			return s.SetCache(ctx, "k", "新值", time.Hour)
		}, "新值"},
		{"delete", func(ctx context.Context, s Store) error {
			if err := s.SetCache(ctx, "k", "v", time.Hour); err != nil {
				return err
			}
			return s.DeleteCache(ctx, "k")
		}, ""},
		{"delete missing", func(ctx context.Context, s Store) error {
			return s.DeleteCache(ctx, "k")
		}, ""},
		{"never set", func(context.Context, Store) error { return nil }, ""},
		{"other key untouched", func(ctx context.Context, s Store) error {
			if err := s.SetCache(ctx, "k", "mine", time.Hour); err != nil {
				return err
			}
			if err := s.SetCache(ctx, "k2", "theirs", time.Hour); err != nil {
				return err
			}
			return s.DeleteCache(ctx, "k2")
		}, "mine"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := h.New(t)
			ctx := t.Context()
			check(t, "setup", tt.run(ctx, s))
			got, err := s.GetCache(ctx, "k")
			if tt.want == "" {
				wantErr(t, "GetCache", err, store.ErrNotFound)
				return
			}
			check(t, "GetCache", err)
			if got != tt.want {
				t.Errorf("GetCache = %q, want %q", got, tt.want)
			}
		})
	}
}

// testTakeCache: a value is taken once, by one of many racing callers,
// never after it expired.
func testTakeCache(t *testing.T, h Harness) {
	s := h.New(t)
	ctx := t.Context()
	check(t, "SetCache", s.SetCache(ctx, "login:a", "zhao", time.Hour))
	check(t, "SetCache", s.SetCache(ctx, "login:b", "qian", time.Hour))
	const racers = 16
	got := make(chan string, racers)
	var wg sync.WaitGroup
	for range racers {
		wg.Go(func() {
			v, err := s.TakeCache(ctx, "login:a")
			if err == nil {
				got <- v
			} else if !errors.Is(err, store.ErrNotFound) {
				t.Errorf("TakeCache: %v", err)
			}
		})
	}
	wg.Wait()
	close(got)
	var taken []string
	for v := range got {
		taken = append(taken, v)
	}
	if len(taken) != 1 || taken[0] != "zhao" {
		t.Errorf("racing takers got %q, want exactly one zhao", taken)
	}
	_, err := s.GetCache(ctx, "login:a")
	wantErr(t, "GetCache after take", err, store.ErrNotFound)
	if v, err := s.GetCache(ctx, "login:b"); err != nil || v != "qian" {
		t.Errorf("the other key: %q, %v", v, err)
	}
	_, err = s.TakeCache(ctx, "never")
	wantErr(t, "TakeCache of a missing key", err, store.ErrNotFound)

	check(t, "SetCache", s.SetCache(ctx, "login:c", "sun", time.Second))
	h.Advance(t, s, 2*time.Second)
	_, err = s.TakeCache(ctx, "login:c")
	wantErr(t, "TakeCache of an expired key", err, store.ErrNotFound)
}

func testLock(t *testing.T, h Harness) {
	const ttl = 10 * time.Second
	// A step acquires (or, with release set, releases) the lock "cron" as
	// owner after advancing the clock by wait.
	type step struct {
		wait    time.Duration
		owner   string
		release bool
		want    bool // AcquireLock's result; ignored for release
	}
	tests := []struct {
		name  string
		steps []step
	}{
		{"acquire then other refused", []step{
			{owner: "a", want: true},
			{owner: "b", want: false},
		}},
		{"same owner re-acquires", []step{
			{owner: "a", want: true},
			{owner: "a", want: true},
			{owner: "b", want: false},
		}},
		{"re-acquire extends", []step{
			{owner: "a", want: true},
			{wait: 6 * time.Second, owner: "a", want: true},
			{wait: 6 * time.Second, owner: "b", want: false}, // 12s after the first take, 6s after the second
			{wait: 4 * time.Second, owner: "b", want: true},  // the extension has run out
		}},
		{"release by non-owner has no effect", []step{
			{owner: "a", want: true},
			{owner: "b", release: true},
			{owner: "b", want: false},
			{owner: "a", want: true},
		}},
		{"release by owner frees", []step{
			{owner: "a", want: true},
			{owner: "a", release: true},
			{owner: "b", want: true},
			{owner: "a", want: false},
		}},
		{"release of a free lock", []step{
			{owner: "a", release: true},
			{owner: "a", want: true},
		}},
		{"expiry frees", []step{
			{owner: "a", want: true},
			{wait: ttl - time.Second, owner: "b", want: false},
			{wait: time.Second, owner: "b", want: true},
			{owner: "a", want: false},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := h.New(t)
			ctx := t.Context()
			for i, st := range tt.steps {
				if st.wait > 0 {
					h.Advance(t, s, st.wait)
				}
				if st.release {
					check(t, fmt.Sprintf("step %d: ReleaseLock(%s)", i, st.owner), s.ReleaseLock(ctx, "cron", st.owner))
					continue
				}
				got, err := s.AcquireLock(ctx, "cron", st.owner, ttl)
				check(t, fmt.Sprintf("step %d: AcquireLock(%s)", i, st.owner), err)
				if got != st.want {
					t.Fatalf("step %d: AcquireLock(%s) = %v, want %v", i, st.owner, got, st.want)
				}
			}
		})
	}

	t.Run("names are independent", func(t *testing.T) {
		s := h.New(t)
		ctx := t.Context()
		for _, name := range []string{"surveys", "deadlines"} {
			got, err := s.AcquireLock(ctx, name, "a", ttl)
			check(t, "AcquireLock", err)
			if !got {
				t.Errorf("AcquireLock(%s) = false, want true", name)
			}
		}
		check(t, "ReleaseLock", s.ReleaseLock(ctx, "surveys", "a"))
		got, err := s.AcquireLock(ctx, "deadlines", "b", ttl)
		check(t, "AcquireLock", err)
		if got {
			t.Errorf("AcquireLock(deadlines, b) after releasing surveys = true, want false")
		}
	})
}
