package redisstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"huimin/store"
)

// RecordConsent records that openID agreed at at, unless an agreement is
// recorded already, and returns the time on record: one SET NX GET, so
// that of two instances recording at once the first time stays.
func (s *Store) RecordConsent(ctx context.Context, openID string, at time.Time) (time.Time, error) {
	if err := checkKey("openid", openID); err != nil {
		return time.Time{}, fmt.Errorf("record consent: %w", err)
	}
	v, err := at.MarshalText()
	if err != nil {
		return time.Time{}, fmt.Errorf("record consent: %w", err)
	}
	old, err := s.rdb.SetArgs(ctx, s.keys.consent(openID), v, goredis.SetArgs{Mode: "NX", Get: true}).Result()
	if errors.Is(err, goredis.Nil) {
		return at, nil
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("record consent: %w", err)
	}
	var kept time.Time
	if err := kept.UnmarshalText([]byte(old)); err != nil {
		return time.Time{}, fmt.Errorf("record consent: %w", err)
	}
	return kept, nil
}

// ConsentOf returns when openID agreed, or store.ErrNotFound.
func (s *Store) ConsentOf(ctx context.Context, openID string) (time.Time, error) {
	if openID == "" {
		return time.Time{}, store.ErrNotFound
	}
	v, err := s.rdb.Get(ctx, s.keys.consent(openID)).Result()
	if errors.Is(err, goredis.Nil) {
		return time.Time{}, store.ErrNotFound
	}
	if err != nil {
		return time.Time{}, fmt.Errorf("consent of %s: %w", openID, err)
	}
	var at time.Time
	if err := at.UnmarshalText([]byte(v)); err != nil {
		return time.Time{}, fmt.Errorf("consent of %s: %w", openID, err)
	}
	return at, nil
}

// WithdrawConsent forgets openID's agreement and reports whether there was
// one: one DEL.
func (s *Store) WithdrawConsent(ctx context.Context, openID string) (bool, error) {
	if openID == "" {
		return false, nil
	}
	n, err := s.rdb.Del(ctx, s.keys.consent(openID)).Result()
	if err != nil {
		return false, fmt.Errorf("withdraw consent: %w", err)
	}
	return n > 0, nil
}
