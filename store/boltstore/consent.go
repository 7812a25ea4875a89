package boltstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"huimin/store"
)

// Consents live in the lasting bucket consents: openid → the time of the
// agreement, RFC 3339 with nanoseconds. They never expire.

// RecordConsent records that openID agreed at at, unless an agreement is
// recorded already, and returns the time on record.
func (s *Store) RecordConsent(ctx context.Context, openID string, at time.Time) (time.Time, error) {
	if openID == "" {
		return time.Time{}, errors.New("record consent: empty openid")
	}
	var kept time.Time
	err := s.update(ctx, false, func(tx *bolt.Tx) error {
		b := bucket(tx, bucketConsents)
		if old := b.Get([]byte(openID)); old != nil {
			return kept.UnmarshalText(old)
		}
		kept = at
		v, err := at.MarshalText()
		if err != nil {
			return err
		}
		return b.Put([]byte(openID), v)
	})
	if err != nil {
		return time.Time{}, fmt.Errorf("record consent: %w", err)
	}
	return kept, nil
}

// ConsentOf returns when openID agreed, or store.ErrNotFound.
func (s *Store) ConsentOf(ctx context.Context, openID string) (time.Time, error) {
	if openID == "" {
		return time.Time{}, store.ErrNotFound
	}
	v, err := s.getString(ctx, bucketConsents, openID)
	if errors.Is(err, store.ErrNotFound) {
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
// one.
func (s *Store) WithdrawConsent(ctx context.Context, openID string) (bool, error) {
	if openID == "" {
		return false, nil
	}
	had := false
	err := s.update(ctx, false, func(tx *bolt.Tx) error {
		b := bucket(tx, bucketConsents)
		had = b.Get([]byte(openID)) != nil
		if !had {
			return nil
		}
		return b.Delete([]byte(openID))
	})
	if err != nil {
		return false, fmt.Errorf("withdraw consent: %w", err)
	}
	return had, nil
}
