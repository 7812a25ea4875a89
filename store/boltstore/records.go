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

// BeginDelivery records key as being handled. The one caller that creates
// the record gets first=true; every other caller gets the existing record.
func (s *Store) BeginDelivery(ctx context.Context, key string, ttl time.Duration) (store.Delivery, bool, error) {
	if err := checkTTL(ttl); err != nil {
		return store.Delivery{}, false, fmt.Errorf("begin delivery %s: %w", key, err)
	}
	var (
		d     store.Delivery
		first bool
	)
	err := s.update(ctx, true, func(tx *bolt.Tx) error {
		// Batch may run this more than once: set every result afresh.
		d, first = store.Delivery{}, false
		b := bucket(tx, bucketDeliveries)
		now := s.now()
		if body, ok := live(b.Get([]byte(key)), now); ok {
			return json.Unmarshal(body, &d)
		}
		d = store.Delivery{Key: key, CreatedAt: now}
		body, err := json.Marshal(d)
		if err != nil {
			return err
		}
		first = true
		return b.Put([]byte(key), envelope(now.Add(ttl), body))
	})
	if err != nil {
		return store.Delivery{}, false, fmt.Errorf("begin delivery %s: %w", key, err)
	}
	return d, first, nil
}

// FinishDelivery marks key done with reply and keeps it until ttl from now.
// It recreates a record that expired while the message was being handled.
func (s *Store) FinishDelivery(ctx context.Context, key string, reply []byte, ttl time.Duration) error {
	if err := checkTTL(ttl); err != nil {
		return fmt.Errorf("finish delivery %s: %w", key, err)
	}
	err := s.update(ctx, true, func(tx *bolt.Tx) error {
		b := bucket(tx, bucketDeliveries)
		now := s.now()
		d := store.Delivery{Key: key, CreatedAt: now}
		if body, ok := live(b.Get([]byte(key)), now); ok {
			if err := json.Unmarshal(body, &d); err != nil {
				return err
			}
		}
		d.Done, d.Reply = true, reply
		body, err := json.Marshal(d)
		if err != nil {
			return err
		}
		return b.Put([]byte(key), envelope(now.Add(ttl), body))
	})
	if err != nil {
		return fmt.Errorf("finish delivery %s: %w", key, err)
	}
	return nil
}

// GetDelivery returns key's record, or store.ErrNotFound when it is unknown
// or expired.
func (s *Store) GetDelivery(ctx context.Context, key string) (store.Delivery, error) {
	var d store.Delivery
	if err := s.getJSON(ctx, bucketDeliveries, key, &d); err != nil {
		if errors.Is(err, store.ErrNotFound) {
			return store.Delivery{}, err
		}
		return store.Delivery{}, fmt.Errorf("get delivery %s: %w", key, err)
	}
	return d, nil
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

// AcquireLock takes the named lock for owner until ttl from now. It reports
// false when another owner holds it; the holder taking it again extends it.
func (s *Store) AcquireLock(ctx context.Context, name, owner string, ttl time.Duration) (bool, error) {
	if err := checkTTL(ttl); err != nil {
		return false, fmt.Errorf("acquire lock %s: %w", name, err)
	}
	var got bool
	err := s.update(ctx, false, func(tx *bolt.Tx) error {
		b := bucket(tx, bucketLocks)
		now := s.now()
		if holder, ok := live(b.Get([]byte(name)), now); ok && string(holder) != owner {
			got = false
			return nil
		}
		got = true
		return b.Put([]byte(name), envelope(now.Add(ttl), []byte(owner)))
	})
	if err != nil {
		return false, fmt.Errorf("acquire lock %s: %w", name, err)
	}
	return got, nil
}

// ReleaseLock frees the named lock if owner holds it, and does nothing
// otherwise.
func (s *Store) ReleaseLock(ctx context.Context, name, owner string) error {
	err := s.update(ctx, false, func(tx *bolt.Tx) error {
		b := bucket(tx, bucketLocks)
		holder, ok := live(b.Get([]byte(name)), s.now())
		if !ok || string(holder) != owner {
			return nil
		}
		return b.Delete([]byte(name))
	})
	if err != nil {
		return fmt.Errorf("release lock %s: %w", name, err)
	}
	return nil
}
