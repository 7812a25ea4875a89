package boltstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"huimin/store"
)

// getJSON decodes the live record under key into dst, or returns
// store.ErrNotFound.
func (s *Store) getJSON(ctx context.Context, name, key string, dst any) error {
	return s.view(ctx, func(tx *bolt.Tx) error {
		body, ok := live(bucket(tx, name).Get([]byte(key)), s.now())
		if !ok {
			return store.ErrNotFound
		}
		return json.Unmarshal(body, dst)
	})
}

// putJSON stores v under key until ttl from now.
func (s *Store) putJSON(ctx context.Context, batch bool, name, key string, v any, ttl time.Duration) error {
	if err := checkTTL(ttl); err != nil {
		return err
	}
	body, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return s.update(ctx, batch, func(tx *bolt.Tx) error {
		return bucket(tx, name).Put([]byte(key), envelope(s.now().Add(ttl), body))
	})
}

// remove deletes key; a missing key is no error.
func (s *Store) remove(ctx context.Context, batch bool, name, key string) error {
	return s.update(ctx, batch, func(tx *bolt.Tx) error {
		return bucket(tx, name).Delete([]byte(key))
	})
}

// GetSession returns openID's session, or store.ErrNotFound when there is
// none or it expired.
func (s *Store) GetSession(ctx context.Context, openID string) (store.Session, error) {
	var sess store.Session
	if err := s.getJSON(ctx, bucketSessions, openID, &sess); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return store.Session{}, err
		}
		return store.Session{}, fmt.Errorf("get session %s: %w", openID, err)
	}
	return sess, nil
}

// PutSession stores sess under sess.OpenID until ttl from now.
func (s *Store) PutSession(ctx context.Context, sess store.Session, ttl time.Duration) error {
	if err := s.putJSON(ctx, true, bucketSessions, sess.OpenID, sess, ttl); err != nil {
		return fmt.Errorf("put session %s: %w", sess.OpenID, err)
	}
	return nil
}

// DeleteSession removes openID's session; a missing one is no error.
func (s *Store) DeleteSession(ctx context.Context, openID string) error {
	if err := s.remove(ctx, true, bucketSessions, openID); err != nil {
		return fmt.Errorf("delete session %s: %w", openID, err)
	}
	return nil
}

// PutOutcome records o under o.MessageID until ttl from now.
func (s *Store) PutOutcome(ctx context.Context, o store.Outcome, ttl time.Duration) error {
	if err := s.putJSON(ctx, false, bucketOutcomes, o.MessageID, o, ttl); err != nil {
		return fmt.Errorf("put outcome %s: %w", o.MessageID, err)
	}
	return nil
}

// GetOutcome returns messageID's outcome, or store.ErrNotFound.
func (s *Store) GetOutcome(ctx context.Context, messageID string) (store.Outcome, error) {
	var o store.Outcome
	if err := s.getJSON(ctx, bucketOutcomes, messageID, &o); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return store.Outcome{}, err
		}
		return store.Outcome{}, fmt.Errorf("get outcome %s: %w", messageID, err)
	}
	return o, nil
}

// GetCache returns the cached value, or store.ErrNotFound.
func (s *Store) GetCache(ctx context.Context, key string) (string, error) {
	var v string
	err := s.view(ctx, func(tx *bolt.Tx) error {
		body, ok := live(bucket(tx, bucketCache).Get([]byte(key)), s.now())
		if !ok {
			return store.ErrNotFound
		}
		v = string(body) // copies out of bolt's memory
		return nil
	})
	if errors.Is(err, store.ErrNotFound) {
		return "", err
	}
	if err != nil {
		return "", fmt.Errorf("get cache %s: %w", key, err)
	}
	return v, nil
}

// TakeCache returns the value under key and deletes it in one
// transaction: one caller gets it.
func (s *Store) TakeCache(ctx context.Context, key string) (string, error) {
	var v string
	err := s.update(ctx, false, func(tx *bolt.Tx) error {
		b := bucket(tx, bucketCache)
		body, ok := live(b.Get([]byte(key)), s.now())
		if !ok {
			return store.ErrNotFound // rolls back: no write
		}
		v = string(body)
		return b.Delete([]byte(key))
	})
	if errors.Is(err, store.ErrNotFound) {
		return "", err
	}
	if err != nil {
		return "", fmt.Errorf("take cache %s: %w", key, err)
	}
	return v, nil
}

// SetCache stores value under key until ttl from now.
func (s *Store) SetCache(ctx context.Context, key, value string, ttl time.Duration) error {
	if err := checkTTL(ttl); err != nil {
		return fmt.Errorf("set cache %s: %w", key, err)
	}
	err := s.update(ctx, false, func(tx *bolt.Tx) error {
		return bucket(tx, bucketCache).Put([]byte(key), envelope(s.now().Add(ttl), []byte(value)))
	})
	if err != nil {
		return fmt.Errorf("set cache %s: %w", key, err)
	}
	return nil
}

// DeleteCache removes key; a missing key is no error.
func (s *Store) DeleteCache(ctx context.Context, key string) error {
	if err := s.remove(ctx, false, bucketCache, key); err != nil {
		return fmt.Errorf("delete cache %s: %w", key, err)
	}
	return nil
}

// AcquireLock takes the named lock for owner. Locks live in memory, not in
// the file: the file is locked to this one process, so no other process
// can contend, and a lock must not outlive a crash of its holder anyway.
// Keeping them out of the file spares two fsyncs per locked operation.
func (s *Store) AcquireLock(ctx context.Context, name, owner string, ttl time.Duration) (bool, error) {
	if err := checkTTL(ttl); err != nil {
		return false, fmt.Errorf("acquire lock %s: %w", name, err)
	}
	if err := ctx.Err(); err != nil {
		return false, fmt.Errorf("acquire lock %s: %w", name, err)
	}
	s.locksMu.Lock()
	defer s.locksMu.Unlock()
	now := s.now()
	if l, ok := s.locks[name]; ok && now.Before(l.expires) && l.owner != owner {
		return false, nil
	}
	sweepExpired(s.locks, &s.locksSweepAt, now, false)
	s.locks[name] = memLock{owner: owner, expires: now.Add(ttl)}
	return true, nil
}

// ReleaseLock frees the named lock if owner holds it, and does nothing
// otherwise.
func (s *Store) ReleaseLock(ctx context.Context, name, owner string) error {
	s.locksMu.Lock()
	defer s.locksMu.Unlock()
	if l, ok := s.locks[name]; ok && l.owner == owner {
		delete(s.locks, name)
	}
	return nil
}

// LockSession takes openID's conversation lock for owner and reads the
// session, or for a new one the account's facts (UserFacts). locked is
// false when another owner holds the lock; found is false when there is
// no session.
func (s *Store) LockSession(ctx context.Context, openID, owner string, ttl time.Duration) (sess store.Session, found, locked bool, err error) {
	locked, err = s.AcquireLock(ctx, sessionLock(openID), owner, ttl)
	if err != nil || !locked {
		return sess, false, locked, err
	}
	sess, err = s.GetSession(ctx, openID)
	if errors.Is(err, store.ErrNotFound) {
		sess = store.Session{}
		sess.BoundOfficer, sess.HasTickets, err = s.UserFacts(ctx, openID)
		if err == nil {
			return sess, false, true, nil
		}
	}
	if err != nil {
		_ = s.ReleaseLock(ctx, sessionLock(openID), owner)
		return store.Session{}, false, false, err
	}
	return sess, true, true, nil
}

// BeginConversation records a delivery as BeginDelivery does and, for a
// first delivery, takes openID's conversation lock and reads the session
// as LockSession does. (Redis does both in one round trip; here both are
// local.)
func (s *Store) BeginConversation(ctx context.Context, key, replay string, dedupTTL time.Duration, openID, owner string, lockTTL time.Duration) (store.Begun, error) {
	d, first, err := s.BeginDelivery(ctx, key, replay, dedupTTL)
	if err != nil || !first {
		return store.Begun{Delivery: d}, err
	}
	b := store.Begun{Delivery: d, First: true}
	b.Session, b.Found, b.Locked, err = s.LockSession(ctx, openID, owner, lockTTL)
	if err != nil {
		// The delivery stays recorded: the caller answers it as a failure
		// and WeChat's retry finds it unfinished (see awaitFirst).
		return store.Begun{}, fmt.Errorf("begin conversation %s: %w", key, err)
	}
	return b, nil
}

// SaveSessionUnlock writes sess for ttl and frees its conversation lock if
// owner holds it.
func (s *Store) SaveSessionUnlock(ctx context.Context, sess store.Session, ttl time.Duration, owner string) error {
	err := s.PutSession(ctx, sess, ttl)
	_ = s.ReleaseLock(ctx, sessionLock(sess.OpenID), owner)
	return err
}

// EndConversation saves sess and frees owner's lock as SaveSessionUnlock
// does and records d as done as FinishDelivery does, in one transaction:
// one write for the committer instead of two.
func (s *Store) EndConversation(ctx context.Context, sess store.Session, ttl time.Duration, owner string, d store.Delivery, dedupTTL time.Duration) error {
	err := checkTTL(ttl)
	var body, v []byte
	if err == nil {
		body, err = json.Marshal(sess)
	}
	if err == nil {
		v, err = s.finishedValue(d, dedupTTL)
	}
	if err == nil {
		err = s.update(ctx, true, func(tx *bolt.Tx) error {
			if err := bucket(tx, bucketSessions).Put([]byte(sess.OpenID), envelope(s.now().Add(ttl), body)); err != nil {
				return err
			}
			return putDelivery(tx, d.Key, v)
		})
	}
	_ = s.ReleaseLock(ctx, sessionLock(sess.OpenID), owner)
	if err != nil {
		return fmt.Errorf("end conversation %s: %w", d.Key, err)
	}
	s.finished(d.Key)
	return nil
}

// UnlockSession frees openID's conversation lock if owner holds it.
func (s *Store) UnlockSession(ctx context.Context, openID, owner string) error {
	return s.ReleaseLock(ctx, sessionLock(openID), owner)
}

func sessionLock(openID string) string { return "session\x00" + openID }

// memLock is a held lock.
type memLock struct {
	owner   string
	expires time.Time
}

func (l memLock) expiry() time.Time { return l.expires }

// minSweep is the size below which an in-memory map is never swept.
const minSweep = 4096

// sweepExpired drops m's expired entries once m has grown to *at entries
// (or at once with force), and sets *at to twice what is left, at least
// minSweep: the sweep's cost is spread over the insertions that made it
// needed, however many entries are live.
func sweepExpired[K comparable, V interface{ expiry() time.Time }](m map[K]V, at *int, now time.Time, force bool) int {
	if !force && len(m) < max(*at, minSweep) {
		return 0
	}
	n := 0
	for k, v := range m {
		if !now.Before(v.expiry()) {
			delete(m, k)
			n++
		}
	}
	*at = max(2*len(m), minSweep)
	return n
}
