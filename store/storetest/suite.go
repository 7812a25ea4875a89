package storetest

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"maps"
	"math/rand/v2"
	"slices"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"huimin/store"
)

// refTime is the suite's reference time, t0 in the tests. It is a whole
// second so that every backend, whatever its time resolution, round-trips it
// exactly.
func refTime() time.Time { return time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC) }

// Run runs the contract suite against fresh stores from h. Every subtest
// gets its own store.
func Run(t *testing.T, h Harness) {
	t.Run("Ping", func(t *testing.T) {
		s := h.New(t)
		if err := s.Ping(t.Context()); err != nil {
			t.Fatalf("Ping() = %v, want nil", err)
		}
	})
	t.Run("Session", func(t *testing.T) { testSession(t, h) })
	t.Run("SessionLock", func(t *testing.T) { testSessionLock(t, h) })
	t.Run("Delivery", func(t *testing.T) { testDelivery(t, h) })
	t.Run("Cache", func(t *testing.T) { testCache(t, h) })
	t.Run("Lock", func(t *testing.T) { testLock(t, h) })
	t.Run("Outcome", func(t *testing.T) { testOutcome(t, h) })
	t.Run("Expiry", func(t *testing.T) { testExpiry(t, h) })
	t.Run("NonPositiveTTL", func(t *testing.T) { testNonPositiveTTL(t, h) })
	t.Run("Queue", func(t *testing.T) { testQueue(t, h) })
	t.Run("Seq", func(t *testing.T) { testSeq(t, h) })
	t.Run("Ticket", func(t *testing.T) { testTicket(t, h) })
	t.Run("Binding", func(t *testing.T) { testBinding(t, h) })
	t.Run("BindCode", func(t *testing.T) { testBindCode(t, h) })
	t.Run("UserFacts", func(t *testing.T) { testUserFacts(t, h) })
	t.Run("Concurrency", func(t *testing.T) { testConcurrency(t, h) })
}

// check fails the test at once when err is not nil.
func check(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: unexpected error: %v", what, err)
	}
}

// wantErr fails the test unless errors.Is(err, want).
func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s: got error %v, want %v", what, err, want)
	}
}

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

func testDelivery(t *testing.T, h Harness) {
	t.Run("FirstThenDuplicate", func(t *testing.T) {
		s := h.New(t)
		ctx := t.Context()
		d1, first, err := s.BeginDelivery(ctx, "msg-1", time.Hour)
		check(t, "BeginDelivery first", err)
		if !first || d1.Key != "msg-1" || d1.Done || d1.CreatedAt.IsZero() {
			t.Fatalf("first BeginDelivery = (%+v, %v), want key msg-1, not done, CreatedAt set, first=true", d1, first)
		}
		d2, first, err := s.BeginDelivery(ctx, "msg-1", time.Hour)
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
				begun, _, err := s.BeginDelivery(ctx, "msg-2", time.Hour)
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
				again, first, err := s.BeginDelivery(ctx, "msg-2", time.Hour)
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
		d, _, err := s.BeginDelivery(ctx, "msg-3", time.Minute)
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
		if _, _, err := s.BeginDelivery(ctx, "msg-4", time.Hour); err != nil {
			t.Fatal(err)
		}
		check(t, "ForgetDelivery", s.ForgetDelivery(ctx, "msg-4"))
		_, err := s.GetDelivery(ctx, "msg-4")
		wantErr(t, "GetDelivery after ForgetDelivery", err, store.ErrNotFound)
		if _, first, err := s.BeginDelivery(ctx, "msg-4", time.Hour); err != nil || !first {
			t.Errorf("BeginDelivery after ForgetDelivery: first=%v, %v; want first=true", first, err)
		}
	})

	t.Run("BeginAfterExpiry", func(t *testing.T) {
		s := h.New(t)
		ctx := t.Context()
		_, _, err := s.BeginDelivery(ctx, "msg-4", time.Minute)
		check(t, "BeginDelivery", err)
		h.Advance(t, s, time.Minute)
		_, first, err := s.BeginDelivery(ctx, "msg-4", time.Minute)
		check(t, "BeginDelivery after expiry", err)
		if !first {
			t.Errorf("BeginDelivery after expiry first = false, want true")
		}
	})
}

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

// testExpiry checks every expiring record kind just before, at and well
// after its TTL.
func testExpiry(t *testing.T, h Harness) {
	const ttl = 10 * time.Minute
	kinds := []struct {
		name  string
		put   func(ctx context.Context, s Store) error
		alive func(ctx context.Context, s Store) (bool, error)
	}{
		{"session",
			func(ctx context.Context, s Store) error {
				return s.PutSession(ctx, store.Session{OpenID: "o1"}, ttl)
			},
			func(ctx context.Context, s Store) (bool, error) {
				_, err := s.GetSession(ctx, "o1")
				return found(err)
			}},
		{"delivery",
			func(ctx context.Context, s Store) error {
				_, _, err := s.BeginDelivery(ctx, "k1", ttl)
				return err
			},
			func(ctx context.Context, s Store) (bool, error) {
				_, err := s.GetDelivery(ctx, "k1")
				return found(err)
			}},
		{"finished delivery",
			func(ctx context.Context, s Store) error {
				d, _, err := s.BeginDelivery(ctx, "k1", time.Minute)
				if err != nil {
					return err
				}
				d.Reply = []byte("r")
				return s.FinishDelivery(ctx, d, ttl)
			},
			func(ctx context.Context, s Store) (bool, error) {
				_, err := s.GetDelivery(ctx, "k1")
				return found(err)
			}},
		{"cache",
			func(ctx context.Context, s Store) error {
				return s.SetCache(ctx, "c1", "v", ttl)
			},
			func(ctx context.Context, s Store) (bool, error) {
				_, err := s.GetCache(ctx, "c1")
				return found(err)
			}},
		{"lock",
			func(ctx context.Context, s Store) error {
				_, err := s.AcquireLock(ctx, "l1", "a", ttl)
				return err
			},
			func(ctx context.Context, s Store) (bool, error) {
				got, err := s.AcquireLock(ctx, "l1", "b", ttl)
				return !got, err // held means b is refused
			}},
		{"outcome",
			func(ctx context.Context, s Store) error {
				return s.PutOutcome(ctx, store.Outcome{MessageID: "m1", Status: store.OutcomeSent}, ttl)
			},
			func(ctx context.Context, s Store) (bool, error) {
				_, err := s.GetOutcome(ctx, "m1")
				return found(err)
			}},
		{"sequence counter",
			func(ctx context.Context, s Store) error {
				_, err := s.NextSeq(ctx, "s1", ttl)
				return err
			},
			func(ctx context.Context, s Store) (bool, error) {
				n, err := s.NextSeq(ctx, "s1", ttl)
				return n == 2, err // an expired counter starts again at 1
			}},
		{"bind code",
			func(ctx context.Context, s Store) error {
				return s.PutBindCode(ctx, "123456", "officer-1", ttl)
			},
			func(ctx context.Context, s Store) (bool, error) {
				_, err := s.TakeBindCode(ctx, "123456")
				return found(err)
			}},
	}
	moments := []struct {
		name    string
		advance time.Duration
		want    bool
	}{
		{"just before ttl", ttl - time.Second, true},
		{"at ttl", ttl, false},
		{"well after ttl", 3 * ttl, false},
	}
	for _, k := range kinds {
		for _, m := range moments {
			t.Run(k.name+"/"+m.name, func(t *testing.T) {
				s := h.New(t)
				ctx := t.Context()
				check(t, "put", k.put(ctx, s))
				h.Advance(t, s, m.advance)
				got, err := k.alive(ctx, s)
				check(t, "get", err)
				if got != m.want {
					t.Errorf("alive after %v with ttl %v = %v, want %v", m.advance, ttl, got, m.want)
				}
			})
		}
	}
}

// found turns a getter's error into whether the record was there.
func found(err error) (bool, error) {
	if errors.Is(err, store.ErrNotFound) {
		return false, nil
	}
	return err == nil, err
}

// testNonPositiveTTL checks that every TTL-taking method but NextSeq
// refuses a zero or negative TTL, which would otherwise mean "forever" on
// some backends and "already gone" on others.
func testNonPositiveTTL(t *testing.T, h Harness) {
	calls := []struct {
		name string
		call func(ctx context.Context, s Store, ttl time.Duration) error
	}{
		{"PutSession", func(ctx context.Context, s Store, ttl time.Duration) error {
			return s.PutSession(ctx, store.Session{OpenID: "o1"}, ttl)
		}},
		{"BeginDelivery", func(ctx context.Context, s Store, ttl time.Duration) error {
			_, _, err := s.BeginDelivery(ctx, "k1", ttl)
			return err
		}},
		{"FinishDelivery", func(ctx context.Context, s Store, ttl time.Duration) error {
			return s.FinishDelivery(ctx, store.Delivery{Key: "k1", CreatedAt: time.Now()}, ttl)
		}},
		{"SetCache", func(ctx context.Context, s Store, ttl time.Duration) error {
			return s.SetCache(ctx, "c1", "v", ttl)
		}},
		{"AcquireLock", func(ctx context.Context, s Store, ttl time.Duration) error {
			_, err := s.AcquireLock(ctx, "l1", "a", ttl)
			return err
		}},
		{"PutOutcome", func(ctx context.Context, s Store, ttl time.Duration) error {
			return s.PutOutcome(ctx, store.Outcome{MessageID: "m1"}, ttl)
		}},
		{"PutBindCode", func(ctx context.Context, s Store, ttl time.Duration) error {
			return s.PutBindCode(ctx, "123456", "officer-1", ttl)
		}},
		// NextSeq is the exception: there ttl <= 0 means "never expires".
	}
	s := h.New(t)
	for _, c := range calls {
		for _, ttl := range []time.Duration{0, -time.Second} {
			t.Run(fmt.Sprintf("%s/%v", c.name, ttl), func(t *testing.T) {
				if err := c.call(t.Context(), s, ttl); err == nil {
					t.Errorf("%s with ttl %v: got nil error, want an error", c.name, ttl)
				}
			})
		}
	}
}

func testQueue(t *testing.T, h Harness) {
	t0 := refTime()
	const q = "surveys"
	ctx := func(t *testing.T) context.Context { return t.Context() }
	schedule := func(t *testing.T, s Store, queue, id string, due time.Time, payload string) {
		t.Helper()
		added, err := s.Schedule(ctx(t), queue, store.DueItem{ID: id, Due: due, Payload: []byte(payload)})
		check(t, "Schedule "+id, err)
		if !added {
			t.Fatalf("Schedule(%s) added = false, want true", id)
		}
	}
	claim := func(t *testing.T, s Store, queue string, now time.Time, limit int, lease time.Duration) []store.DueItem {
		t.Helper()
		got, err := s.Claim(ctx(t), queue, now, limit, lease)
		check(t, "Claim", err)
		return got
	}
	stats := func(t *testing.T, s Store, queue string, now time.Time, want store.QueueStats) {
		t.Helper()
		got, err := s.QueueStats(ctx(t), queue, now)
		check(t, "QueueStats", err)
		if got != want {
			t.Errorf("QueueStats(%s, t0%+v) = %+v, want %+v", queue, now.Sub(t0), got, want)
		}
	}

	t.Run("ScheduleIsIdempotent", func(t *testing.T) {
		s := h.New(t)
		schedule(t, s, q, "a", t0, "first")
		added, err := s.Schedule(ctx(t), q, store.DueItem{ID: "a", Due: t0.Add(time.Hour), Payload: []byte("second")})
		check(t, "Schedule again", err)
		if added {
			t.Errorf("second Schedule added = true, want false")
		}
		stats(t, s, q, t0, store.QueueStats{Total: 1, Due: 1})
		got := claim(t, s, q, t0, 10, time.Minute)
		if len(got) != 1 || got[0].ID != "a" || string(got[0].Payload) != "first" || !got[0].Due.Equal(t0) {
			t.Fatalf("Claim = %v, want [a due t0 payload \"first\"] (the second Schedule must change nothing)", items(got))
		}
		// Scheduling a claimed ID changes nothing either, lease included.
		added, err = s.Schedule(ctx(t), q, store.DueItem{ID: "a", Due: t0, Payload: []byte("third")})
		check(t, "Schedule while claimed", err)
		if added {
			t.Errorf("Schedule while claimed added = true, want false")
		}
		if got := claim(t, s, q, t0, 10, time.Minute); len(got) != 0 {
			t.Errorf("Claim during lease after re-Schedule = %v, want none", items(got))
		}
	})

	t.Run("ClaimDueEarliestFirst", func(t *testing.T) {
		s := h.New(t)
		schedule(t, s, q, "c", t0.Add(3*time.Minute), "pc")
		schedule(t, s, q, "late", t0.Add(time.Hour), "pl")
		schedule(t, s, q, "a", t0.Add(1*time.Minute), "pa")
		schedule(t, s, q, "b2", t0.Add(2*time.Minute), "pb2")
		schedule(t, s, q, "b1", t0.Add(2*time.Minute), "pb1") // same due: order by ID
		got := claim(t, s, q, t0.Add(3*time.Minute), 10, time.Minute)
		want := []store.DueItem{
			{ID: "a", Due: t0.Add(time.Minute), Payload: []byte("pa"), Attempt: 1},
			{ID: "b1", Due: t0.Add(2 * time.Minute), Payload: []byte("pb1"), Attempt: 1},
			{ID: "b2", Due: t0.Add(2 * time.Minute), Payload: []byte("pb2"), Attempt: 1},
			{ID: "c", Due: t0.Add(3 * time.Minute), Payload: []byte("pc"), Attempt: 1},
		}
		assertItems(t, got, want)
	})

	t.Run("ClaimRespectsLimit", func(t *testing.T) {
		s := h.New(t)
		for i := range 5 {
			schedule(t, s, q, fmt.Sprintf("i%d", i), t0.Add(time.Duration(i)*time.Second), "")
		}
		now := t0.Add(time.Minute)
		for _, want := range [][]string{{"i0", "i1"}, {"i2", "i3"}, {"i4"}, {}} {
			got := claim(t, s, q, now, 2, time.Hour)
			if ids := itemIDs(got); !slices.Equal(ids, want) {
				t.Fatalf("Claim(limit 2) = %v, want %v", ids, want)
			}
		}
	})

	t.Run("ClaimEmpty", func(t *testing.T) {
		s := h.New(t)
		if got := claim(t, s, "never-used", t0, 10, time.Minute); len(got) != 0 {
			t.Errorf("Claim on an unknown queue = %v, want none", items(got))
		}
		schedule(t, s, q, "a", t0.Add(time.Second), "")
		if got := claim(t, s, q, t0, 10, time.Minute); len(got) != 0 {
			t.Errorf("Claim before due = %v, want none", items(got))
		}
	})

	t.Run("LeaseHidesThenReturns", func(t *testing.T) {
		s := h.New(t)
		schedule(t, s, q, "a", t0, "p")
		first := claim(t, s, q, t0, 10, time.Minute)
		assertItems(t, first, []store.DueItem{{ID: "a", Due: t0, Payload: []byte("p"), Attempt: 1}})
		if got := claim(t, s, q, t0.Add(59*time.Second), 10, time.Minute); len(got) != 0 {
			t.Fatalf("Claim during lease = %v, want none", items(got))
		}
		stats(t, s, q, t0.Add(59*time.Second), store.QueueStats{Total: 1, Due: 0})
		stats(t, s, q, t0.Add(time.Minute), store.QueueStats{Total: 1, Due: 1})
		again := claim(t, s, q, t0.Add(time.Minute), 10, time.Minute)
		assertItems(t, again, []store.DueItem{{ID: "a", Due: t0.Add(time.Minute), Payload: []byte("p"), Attempt: 2}})
	})

	t.Run("Ack", func(t *testing.T) {
		s := h.New(t)
		schedule(t, s, q, "a", t0, "p")
		schedule(t, s, q, "b", t0, "p")
		got := claim(t, s, q, t0, 1, time.Minute)
		check(t, "Ack", s.Ack(ctx(t), q, "a", got[0].Attempt))
		stats(t, s, q, t0.Add(time.Hour), store.QueueStats{Total: 1, Due: 1})
		wantErr(t, "Ack again", s.Ack(ctx(t), q, "a", got[0].Attempt), store.ErrLeaseLost)
		assertItems(t, claim(t, s, q, t0.Add(time.Hour), 10, time.Minute),
			[]store.DueItem{{ID: "b", Due: t0, Payload: []byte("p"), Attempt: 1}})
	})

	t.Run("AckFencing", func(t *testing.T) {
		tests := []struct {
			name    string
			id      string
			attempt int
		}{
			{"stale attempt", "a", 1},
			{"future attempt", "a", 3},
			{"unknown id", "nope", 2},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				s := h.New(t)
				schedule(t, s, q, "a", t0, "p")
				claim(t, s, q, t0, 10, time.Minute)                  // attempt 1, lease to t0+1m
				claim(t, s, q, t0.Add(time.Minute), 10, time.Minute) // attempt 2 after the lease ran out
				wantErr(t, "Ack", s.Ack(ctx(t), q, tt.id, tt.attempt), store.ErrLeaseLost)
				stats(t, s, q, t0.Add(time.Hour), store.QueueStats{Total: 1, Due: 1})
				check(t, "Ack with the current attempt", s.Ack(ctx(t), q, "a", 2))
				stats(t, s, q, t0.Add(time.Hour), store.QueueStats{})
			})
		}
	})

	t.Run("Retry", func(t *testing.T) {
		s := h.New(t)
		schedule(t, s, q, "a", t0, "p")
		got := claim(t, s, q, t0, 10, time.Hour)
		check(t, "Retry", s.Retry(ctx(t), q, "a", got[0].Attempt, t0.Add(10*time.Minute)))
		if got := claim(t, s, q, t0.Add(10*time.Minute-time.Second), 10, time.Hour); len(got) != 0 {
			t.Fatalf("Claim before the retry time = %v, want none", items(got))
		}
		stats(t, s, q, t0.Add(10*time.Minute), store.QueueStats{Total: 1, Due: 1})
		assertItems(t, claim(t, s, q, t0.Add(10*time.Minute), 10, time.Hour),
			[]store.DueItem{{ID: "a", Due: t0.Add(10 * time.Minute), Payload: []byte("p"), Attempt: 2}})
	})

	t.Run("RetryEndsLease", func(t *testing.T) {
		s := h.New(t)
		schedule(t, s, q, "a", t0, "p")
		claim(t, s, q, t0, 10, time.Hour)
		check(t, "Retry", s.Retry(ctx(t), q, "a", 1, t0))
		assertItems(t, claim(t, s, q, t0, 10, time.Hour),
			[]store.DueItem{{ID: "a", Due: t0, Payload: []byte("p"), Attempt: 2}})
	})

	t.Run("RetryFencing", func(t *testing.T) {
		s := h.New(t)
		schedule(t, s, q, "a", t0, "p")
		claim(t, s, q, t0, 10, time.Minute)
		claim(t, s, q, t0.Add(time.Minute), 10, time.Minute) // attempt 2, lease to t0+2m
		wantErr(t, "Retry stale", s.Retry(ctx(t), q, "a", 1, t0), store.ErrLeaseLost)
		wantErr(t, "Retry unknown", s.Retry(ctx(t), q, "nope", 1, t0), store.ErrLeaseLost)
		if got := claim(t, s, q, t0.Add(time.Minute), 10, time.Minute); len(got) != 0 {
			t.Errorf("Claim after a refused Retry = %v, want none (the current lease stands)", items(got))
		}
		stats(t, s, q, t0.Add(2*time.Minute), store.QueueStats{Total: 1, Due: 1})
	})

	t.Run("Cancel", func(t *testing.T) {
		s := h.New(t)
		schedule(t, s, q, "waiting", t0, "p")
		schedule(t, s, q, "claimed", t0, "p")
		schedule(t, s, q, "kept", t0, "p")
		claimed := claim(t, s, q, t0, 1, time.Minute)
		if ids := itemIDs(claimed); !slices.Equal(ids, []string{"claimed"}) {
			t.Fatalf("Claim = %v, want [claimed]", ids)
		}
		for _, id := range []string{"waiting", "claimed", "claimed", "unknown"} {
			check(t, "Cancel "+id, s.Cancel(ctx(t), q, id))
		}
		check(t, "Cancel on an unknown queue", s.Cancel(ctx(t), "never-used", "x"))
		wantErr(t, "Ack after Cancel", s.Ack(ctx(t), q, "claimed", 1), store.ErrLeaseLost)
		stats(t, s, q, t0.Add(time.Hour), store.QueueStats{Total: 1, Due: 1})
		if ids := itemIDs(claim(t, s, q, t0.Add(time.Hour), 10, time.Minute)); !slices.Equal(ids, []string{"kept"}) {
			t.Errorf("Claim after Cancel = %v, want [kept]", ids)
		}
		// A cancelled ID can be scheduled afresh.
		schedule(t, s, q, "waiting", t0, "again")
	})

	t.Run("Stats", func(t *testing.T) {
		s := h.New(t)
		stats(t, s, q, t0, store.QueueStats{})
		schedule(t, s, q, "a", t0, "")
		schedule(t, s, q, "b", t0.Add(time.Hour), "")
		schedule(t, s, q, "c", t0.Add(2*time.Hour), "")
		// At t0+1h, a (the earliest) is claimed with a 30m lease.
		if ids := itemIDs(claim(t, s, q, t0.Add(time.Hour), 1, 30*time.Minute)); !slices.Equal(ids, []string{"a"}) {
			t.Fatalf("Claim = %v, want [a]", ids)
		}
		tests := []struct {
			name string
			now  time.Time
			want store.QueueStats
		}{
			{"before anything is due", t0.Add(-time.Second), store.QueueStats{Total: 3, Due: 0}},
			{"a leased, b due", t0.Add(time.Hour), store.QueueStats{Total: 3, Due: 1}},
			{"a's lease over", t0.Add(90 * time.Minute), store.QueueStats{Total: 3, Due: 2}},
			{"everything due", t0.Add(3 * time.Hour), store.QueueStats{Total: 3, Due: 3}},
		}
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) { stats(t, s, q, tt.now, tt.want) })
		}
	})

	t.Run("PayloadPreserved", func(t *testing.T) {
		allBytes := make([]byte, 256)
		for i := range allBytes {
			allBytes[i] = byte(i)
		}
		large := make([]byte, 64<<10)
		rng := rand.New(rand.NewPCG(1, 2))
		for i := range large {
			large[i] = byte(rng.Uint32())
		}
		tests := []struct {
			name    string
			payload []byte
		}{
			{"every byte value", allBytes},
			{"empty", nil},
			{"json", []byte(`{"ticket_id":"T-1","kind":"return_visit"}`)},
			{"utf-8", []byte("回访：您对办理结果满意吗？")},
			{"invalid utf-8 and nul", []byte{0xff, 0xfe, 0x00, 0x00, 0xc3, 0x28, '\n', '\r'}},
			{"64 KiB random", large},
		}
		s := h.New(t)
		for i, tt := range tests {
			added, err := s.Schedule(ctx(t), q, store.DueItem{ID: tt.name, Due: t0.Add(time.Duration(i) * time.Second), Payload: tt.payload})
			check(t, "Schedule", err)
			if !added {
				t.Fatalf("Schedule(%s) added = false, want true", tt.name)
			}
		}
		got := claim(t, s, q, t0.Add(time.Hour), len(tests), time.Minute)
		if len(got) != len(tests) {
			t.Fatalf("Claim returned %d items, want %d", len(got), len(tests))
		}
		for i, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				if got[i].ID != tt.name {
					t.Fatalf("item %d ID = %q, want %q", i, got[i].ID, tt.name)
				}
				if !bytes.Equal(got[i].Payload, tt.payload) {
					t.Errorf("payload = %x (%d bytes), want %x (%d bytes)", head(got[i].Payload), len(got[i].Payload), head(tt.payload), len(tt.payload))
				}
			})
		}
	})

	t.Run("QueuesAreIndependent", func(t *testing.T) {
		s := h.New(t)
		schedule(t, s, "q1", "x", t0, "one")
		schedule(t, s, "q2", "x", t0, "two") // same ID, other queue: added
		schedule(t, s, "q2", "y", t0, "two-y")
		stats(t, s, "q1", t0, store.QueueStats{Total: 1, Due: 1})
		stats(t, s, "q2", t0, store.QueueStats{Total: 2, Due: 2})
		assertItems(t, claim(t, s, "q1", t0, 10, time.Minute),
			[]store.DueItem{{ID: "x", Due: t0, Payload: []byte("one"), Attempt: 1}})
		check(t, "Ack q1/x", s.Ack(ctx(t), "q1", "x", 1))
		check(t, "Cancel q1/y", s.Cancel(ctx(t), "q1", "y"))
		stats(t, s, "q2", t0, store.QueueStats{Total: 2, Due: 2})
		assertItems(t, claim(t, s, "q2", t0, 10, time.Minute), []store.DueItem{
			{ID: "x", Due: t0, Payload: []byte("two"), Attempt: 1},
			{ID: "y", Due: t0, Payload: []byte("two-y"), Attempt: 1},
		})
	})
}

// assertItems compares claimed items with want, in order.
func assertItems(t *testing.T, got, want []store.DueItem) {
	t.Helper()
	if len(got) != len(want) {
		t.Fatalf("Claim = %v, want %v", items(got), items(want))
	}
	for i := range want {
		g, w := got[i], want[i]
		if g.ID != w.ID || !g.Due.Equal(w.Due) || g.Attempt != w.Attempt || !bytes.Equal(g.Payload, w.Payload) {
			t.Errorf("Claim item %d = %s, want %s", i, item(g), item(w))
		}
	}
}

func itemIDs(its []store.DueItem) []string {
	ids := make([]string, len(its))
	for i, it := range its {
		ids[i] = it.ID
	}
	return ids
}

func item(it store.DueItem) string {
	return fmt.Sprintf("{ID:%s Due:%s Attempt:%d Payload:%q}", it.ID, it.Due.UTC().Format(time.RFC3339Nano), it.Attempt, head(it.Payload))
}

func items(its []store.DueItem) []string {
	out := make([]string, len(its))
	for i, it := range its {
		out[i] = item(it)
	}
	return out
}

// head shortens a payload for a failure message.
func head(b []byte) []byte {
	if len(b) > 32 {
		return b[:32]
	}
	return b
}

func testConcurrency(t *testing.T, h Harness) {
	t0 := refTime()
	t.Run("ClaimEachItemOnce", func(t *testing.T) {
		const (
			n       = 2000
			workers = 8
			batch   = 16
			q       = "bulk"
		)
		s := h.New(t)
		ctx := t.Context()
		for i := range n {
			// Spread due times so ordering matters, all due by now.
			it := store.DueItem{ID: fmt.Sprintf("item-%04d", i), Due: t0.Add(time.Duration(i%97) * time.Second), Payload: []byte{byte(i), byte(i >> 8)}}
			if _, err := s.Schedule(ctx, q, it); err != nil {
				t.Fatalf("Schedule(%s): %v", it.ID, err)
			}
		}
		now := t0.Add(time.Hour)
		var (
			mu     sync.Mutex
			claims = make(map[string]int, n)
			wg     sync.WaitGroup
			start  = make(chan struct{})
		)
		for range workers {
			wg.Go(func() {
				<-start
				for {
					got, err := s.Claim(ctx, q, now, batch, time.Hour)
					if err != nil {
						t.Errorf("Claim: %v", err)
						return
					}
					if len(got) == 0 {
						return
					}
					if len(got) > batch {
						t.Errorf("Claim returned %d items, want at most %d", len(got), batch)
					}
					mu.Lock()
					for _, it := range got {
						claims[it.ID]++
						if it.Attempt != 1 {
							t.Errorf("item %s Attempt = %d, want 1", it.ID, it.Attempt)
						}
					}
					mu.Unlock()
					for _, it := range got {
						if err := s.Ack(ctx, q, it.ID, it.Attempt); err != nil {
							t.Errorf("Ack(%s, %d): %v", it.ID, it.Attempt, err)
						}
					}
				}
			})
		}
		close(start)
		wg.Wait()
		if len(claims) != n {
			t.Errorf("claimed %d distinct items, want %d", len(claims), n)
		}
		for id, c := range claims {
			if c != 1 {
				t.Errorf("item %s claimed %d times, want 1", id, c)
			}
		}
		st, err := s.QueueStats(ctx, q, now)
		check(t, "QueueStats", err)
		if st != (store.QueueStats{}) {
			t.Errorf("QueueStats after acking everything = %+v, want {0 0}", st)
		}
	})

	t.Run("BeginDeliveryOneFirst", func(t *testing.T) {
		const callers = 32
		s := h.New(t)
		firsts := race(t, callers, func(ctx context.Context, i int) (bool, error) {
			_, first, err := s.BeginDelivery(ctx, "dup-msg", time.Hour)
			return first, err
		})
		if firsts != 1 {
			t.Errorf("%d concurrent BeginDelivery calls got first=true %d times, want 1", callers, firsts)
		}
	})

	t.Run("NextSeqEachValueOnce", func(t *testing.T) { testNextSeqEachValueOnce(t, h) })
	t.Run("UpdateTicketRetryOnConflict", func(t *testing.T) { testUpdateTicketRetry(t, h) })
	t.Run("TakeBindCodeOneWinner", func(t *testing.T) { testTakeBindCodeOneWinner(t, h) })

	t.Run("AcquireLockOneWinner", func(t *testing.T) {
		const callers = 32
		s := h.New(t)
		winners := race(t, callers, func(ctx context.Context, i int) (bool, error) {
			return s.AcquireLock(ctx, "cron", fmt.Sprintf("replica-%d", i), time.Minute)
		})
		if winners != 1 {
			t.Errorf("%d concurrent AcquireLock calls by different owners won %d times, want 1", callers, winners)
		}
	})
}

// race starts n goroutines together on fn and counts the true results.
func race(t *testing.T, n int, fn func(ctx context.Context, i int) (bool, error)) int {
	t.Helper()
	var (
		wg    sync.WaitGroup
		start = make(chan struct{})
		mu    sync.Mutex
		count int
	)
	for i := range n {
		wg.Go(func() {
			<-start
			ok, err := fn(t.Context(), i)
			if err != nil {
				t.Errorf("call %d: %v", i, err)
				return
			}
			if ok {
				mu.Lock()
				count++
				mu.Unlock()
			}
		})
	}
	close(start)
	wg.Wait()
	return count
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
