package boltstore

import (
	"bytes"
	"context"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"huimin/store"
)

// Officer bindings are two buckets kept in step: officer_by_user (user ID →
// officer ID) and user_by_officer (officer ID → the user ID last bound to
// it). One-time bind codes are the expiring bucket bind_codes (code →
// officer ID).

// checkIDs refuses empty IDs, which bolt cannot key.
func checkIDs(userID, officerID string) error {
	if userID == "" {
		return errors.New("empty user id")
	}
	if officerID == "" {
		return errors.New("empty officer id")
	}
	return nil
}

// BindOfficer links userID to officerID, replacing userID's earlier
// binding, and makes userID the one UserOfOfficer returns for officerID.
// When userID was the user last bound to another officer, that officer is
// left with none: a user moved to another officer must stop receiving the
// first officer's work.
func (s *Store) BindOfficer(ctx context.Context, userID, officerID string) error {
	if err := checkIDs(userID, officerID); err != nil {
		return fmt.Errorf("bind officer %s to %s: %w", officerID, userID, err)
	}
	err := s.update(ctx, false, func(tx *bolt.Tx) error {
		byUser, byOfficer := bucket(tx, bucketOfficerByUser), bucket(tx, bucketUserByOfficer)
		// Copied: the slice is bolt's memory, which the writes below may move.
		if old := string(byUser.Get([]byte(userID))); old != "" && old != officerID {
			if string(byOfficer.Get([]byte(old))) == userID {
				if err := byOfficer.Delete([]byte(old)); err != nil {
					return err
				}
			}
		}
		if err := byUser.Put([]byte(userID), []byte(officerID)); err != nil {
			return err
		}
		return byOfficer.Put([]byte(officerID), []byte(userID))
	})
	if err != nil {
		return fmt.Errorf("bind officer %s to %s: %w", officerID, userID, err)
	}
	return nil
}

// getString returns the value under key in a bucket without expiry, or
// store.ErrNotFound.
func (s *Store) getString(ctx context.Context, name, key string) (string, error) {
	var v string
	err := s.view(ctx, func(tx *bolt.Tx) error {
		b := bucket(tx, name).Get([]byte(key))
		if b == nil {
			return store.ErrNotFound
		}
		v = string(b)
		return nil
	})
	return v, err
}

// OfficerByUser returns the officer bound to userID, or store.ErrNotFound.
func (s *Store) OfficerByUser(ctx context.Context, userID string) (string, error) {
	v, err := s.getString(ctx, bucketOfficerByUser, userID)
	if errors.Is(err, store.ErrNotFound) {
		return "", store.ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("officer by user %s: %w", userID, err)
	}
	return v, nil
}

// UserOfOfficer returns the user ID last bound to officerID, or
// store.ErrNotFound.
func (s *Store) UserOfOfficer(ctx context.Context, officerID string) (string, error) {
	v, err := s.getString(ctx, bucketUserByOfficer, officerID)
	if errors.Is(err, store.ErrNotFound) {
		return "", store.ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("user of officer %s: %w", officerID, err)
	}
	return v, nil
}

// PutBindCode stores code for officerID until ttl from now;
// store.ErrExists while the code is taken (an expired code is free).
func (s *Store) PutBindCode(ctx context.Context, code, officerID string, ttl time.Duration) error {
	err := checkTTL(ttl)
	if err == nil && code == "" {
		err = errors.New("empty bind code")
	}
	if err == nil && officerID == "" {
		err = errors.New("empty officer id")
	}
	if err == nil {
		err = s.update(ctx, false, func(tx *bolt.Tx) error {
			b := bucket(tx, bucketBindCodes)
			now := s.now()
			if _, ok := live(b.Get([]byte(code)), now); ok {
				return store.ErrExists
			}
			return b.Put([]byte(code), envelope(now.Add(ttl), []byte(officerID)))
		})
	}
	if err != nil {
		return fmt.Errorf("put bind code: %w", err)
	}
	return nil
}

// TakeBindCode returns the code's officer ID and deletes the code in the
// same transaction, so a code works once; store.ErrNotFound when it is
// unknown, used or expired.
func (s *Store) TakeBindCode(ctx context.Context, code string) (string, error) {
	var officerID string
	err := s.update(ctx, false, func(tx *bolt.Tx) error {
		b := bucket(tx, bucketBindCodes)
		body, ok := live(b.Get([]byte(code)), s.now())
		if !ok {
			// Returning an error rolls back: no write, no fsync.
			return store.ErrNotFound
		}
		officerID = string(body)
		return b.Delete([]byte(code))
	})
	if errors.Is(err, store.ErrNotFound) {
		return "", store.ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("take bind code: %w", err)
	}
	return officerID, nil
}

// UserFacts answers what a conversation needs to know about a user when it
// begins: the officer bound to them ("" if none) and whether they have any
// ticket.
func (s *Store) UserFacts(ctx context.Context, userID string) (string, bool, error) {
	var officer string
	var tickets bool
	err := s.db.View(func(tx *bolt.Tx) error {
		if err := ctx.Err(); err != nil {
			return err
		}
		if b := tx.Bucket([]byte(bucketOfficerByUser)); b != nil {
			officer = string(b.Get([]byte(userID)))
		}
		if b := tx.Bucket([]byte(bucketByCitizen)); b != nil {
			prefix := append([]byte(userID), 0)
			k, _ := b.Cursor().Seek(prefix)
			tickets = k != nil && bytes.HasPrefix(k, prefix)
		}
		return nil
	})
	if err != nil {
		return "", false, fmt.Errorf("user facts %s: %w", userID, err)
	}
	return officer, tickets, nil
}
