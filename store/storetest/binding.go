package storetest

import (
	"context"
	"errors"
	"fmt"
	"maps"
	"slices"
	"testing"
	"time"

	"huimin/store"
)

func testBinding(t *testing.T, h Harness) {
	// A user or officer mapped to "" must be store.ErrNotFound.
	tests := []struct {
		name      string
		binds     [][2]string // user ID, officer ID, in order
		officerOf map[string]string
		userOf    map[string]string
	}{
		{"nothing bound", nil,
			map[string]string{"u1": ""},
			map[string]string{"A": ""}},
		{"one binding", [][2]string{{"u1", "A"}},
			map[string]string{"u1": "A", "u2": ""},
			map[string]string{"A": "u1", "B": ""}},
		{"same binding twice", [][2]string{{"u1", "A"}, {"u1", "A"}},
			map[string]string{"u1": "A"},
			map[string]string{"A": "u1"}},
		{"independent bindings", [][2]string{{"u1", "A"}, {"u2", "B"}},
			map[string]string{"u1": "A", "u2": "B"},
			map[string]string{"A": "u1", "B": "u2"}},
		{"officer binds a second user", [][2]string{{"u1", "A"}, {"u2", "A"}},
			map[string]string{"u1": "A", "u2": "A"},
			map[string]string{"A": "u2"}}, // the most recent one
		// A user bound again to another officer no longer reaches the first:
		// UserOfOfficer must never name a user bound to someone else.
		{"user moves to another officer", [][2]string{{"u1", "A"}, {"u1", "B"}},
			map[string]string{"u1": "B"},
			map[string]string{"A": "", "B": "u1"}},
		{"older user moves, newer stays", [][2]string{{"u1", "A"}, {"u2", "A"}, {"u1", "B"}},
			map[string]string{"u1": "B", "u2": "A"},
			map[string]string{"A": "u2", "B": "u1"}},
		{"user moves back", [][2]string{{"u1", "A"}, {"u1", "B"}, {"u1", "A"}},
			map[string]string{"u1": "A"},
			map[string]string{"A": "u1", "B": ""}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := h.New(t)
			ctx := t.Context()
			for _, b := range tt.binds {
				check(t, fmt.Sprintf("BindOfficer(%s, %s)", b[0], b[1]), s.BindOfficer(ctx, b[0], b[1]))
			}
			for _, user := range slices.Sorted(maps.Keys(tt.officerOf)) {
				assertLookup(t, "OfficerByUser", user, tt.officerOf[user], s.OfficerByUser)
			}
			for _, officer := range slices.Sorted(maps.Keys(tt.userOf)) {
				assertLookup(t, "UserOfOfficer", officer, tt.userOf[officer], s.UserOfOfficer)
			}
		})
	}

	t.Run("Invalid", func(t *testing.T) {
		s := h.New(t)
		for _, b := range [][2]string{{"", "A"}, {"u1", ""}} {
			if err := s.BindOfficer(t.Context(), b[0], b[1]); err == nil {
				t.Errorf("BindOfficer(%q, %q): got nil error, want one", b[0], b[1])
			}
		}
	})
}

// assertLookup checks a binding lookup; want "" means store.ErrNotFound.
func assertLookup(t *testing.T, what, key, want string, lookup func(context.Context, string) (string, error)) {
	t.Helper()
	got, err := lookup(t.Context(), key)
	if want == "" {
		if !errors.Is(err, store.ErrNotFound) {
			t.Errorf("%s(%s) = %q, %v; want error %v", what, key, got, err, store.ErrNotFound)
		}
		return
	}
	if err != nil || got != want {
		t.Errorf("%s(%s) = %q, %v; want %q", what, key, got, err, want)
	}
}

func testBindCode(t *testing.T, h Harness) {
	const ttl = 10 * time.Minute
	type op struct {
		wait    time.Duration
		put     bool // PutBindCode(code, officer) if set, else TakeBindCode(code)
		code    string
		officer string // for put: the officer; for take: the one expected, "" for store.ErrNotFound
		err     error  // for put: the error expected
	}
	tests := []struct {
		name string
		ops  []op
	}{
		{"put then take once", []op{
			{put: true, code: "123456", officer: "A"},
			{code: "123456", officer: "A"},
			{code: "123456"}, // used
		}},
		{"take unknown", []op{
			{code: "123456"},
		}},
		{"put a taken code", []op{
			{put: true, code: "123456", officer: "A"},
			{put: true, code: "123456", officer: "B", err: store.ErrExists},
			{code: "123456", officer: "A"},
		}},
		{"codes are independent", []op{
			{put: true, code: "111111", officer: "A"},
			{put: true, code: "222222", officer: "B"},
			{code: "222222", officer: "B"},
			{code: "111111", officer: "A"},
		}},
		{"reuse after take", []op{
			{put: true, code: "123456", officer: "A"},
			{code: "123456", officer: "A"},
			{put: true, code: "123456", officer: "B"},
			{code: "123456", officer: "B"},
		}},
		{"expired code is gone and free", []op{
			{put: true, code: "123456", officer: "A"},
			{wait: ttl, code: "123456"},
			{put: true, code: "123456", officer: "B"},
			{code: "123456", officer: "B"},
		}},
		{"expired code can be put again", []op{
			{put: true, code: "123456", officer: "A"},
			{wait: ttl, put: true, code: "123456", officer: "B"},
			{code: "123456", officer: "B"},
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := h.New(t)
			ctx := t.Context()
			for i, o := range tt.ops {
				if o.wait > 0 {
					h.Advance(t, s, o.wait)
				}
				if o.put {
					err := s.PutBindCode(ctx, o.code, o.officer, ttl)
					if o.err != nil {
						wantErr(t, fmt.Sprintf("step %d: PutBindCode(%s, %s)", i, o.code, o.officer), err, o.err)
					} else {
						check(t, fmt.Sprintf("step %d: PutBindCode(%s, %s)", i, o.code, o.officer), err)
					}
					continue
				}
				assertLookup(t, fmt.Sprintf("step %d: TakeBindCode", i), o.code, o.officer, s.TakeBindCode)
			}
		})
	}

	t.Run("Invalid", func(t *testing.T) {
		s := h.New(t)
		for _, c := range [][2]string{{"", "A"}, {"123456", ""}} {
			if err := s.PutBindCode(t.Context(), c[0], c[1], ttl); err == nil {
				t.Errorf("PutBindCode(%q, %q): got nil error, want one", c[0], c[1])
			}
		}
	})
}

// testTakeBindCodeOneWinner has concurrent callers take one code.
func testTakeBindCodeOneWinner(t *testing.T, h Harness) {
	const callers = 32
	s := h.New(t)
	check(t, "PutBindCode", s.PutBindCode(t.Context(), "654321", "A", time.Hour))
	winners := race(t, callers, func(ctx context.Context, i int) (bool, error) {
		officer, err := s.TakeBindCode(ctx, "654321")
		if errors.Is(err, store.ErrNotFound) {
			return false, nil
		}
		if err == nil && officer != "A" {
			return false, fmt.Errorf("TakeBindCode = %q, want A", officer)
		}
		return err == nil, err
	})
	if winners != 1 {
		t.Errorf("%d concurrent TakeBindCode calls succeeded %d times, want 1", callers, winners)
	}
}
