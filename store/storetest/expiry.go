package storetest

import (
	"context"
	"errors"
	"fmt"
	"testing"
	"time"

	"huimin/store"
)

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
				_, _, err := s.BeginDelivery(ctx, "k1", "", ttl)
				return err
			},
			func(ctx context.Context, s Store) (bool, error) {
				_, err := s.GetDelivery(ctx, "k1")
				return found(err)
			}},
		{"finished delivery",
			func(ctx context.Context, s Store) error {
				d, _, err := s.BeginDelivery(ctx, "k1", "", time.Minute)
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
			_, _, err := s.BeginDelivery(ctx, "k1", "", ttl)
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
