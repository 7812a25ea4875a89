package boltstore

import (
	"context"
	"errors"
	"fmt"
	"hash/maphash"
	"time"

	bolt "go.etcd.io/bbolt"

	"huimin/store"
)

// A delivery being handled lives in memory only; the file gets the record
// once it is finished. Only one process can open the file, so memory is
// where every caller of this store looks, and it spares each inbound
// message a write (and an fsync) on its reply path. A crash loses the
// in-flight records, which is what a retry needs: WeChat retries only a
// delivery it got no answer to, and the retry finds no record and handles
// the message, as it would take over a stale record.
//
// Replay keys live in memory too, for the same reason: a restart forgets
// them, and a copy of a request from before it is then refused only by its
// timestamp's window (and, for the same message, by its delivery record).
// Every request's key is kept for the dedup ttl (10 minutes by default), so
// at full load they are most of this store's heap: each is kept as a 64-bit
// keyed hash with its expiry, 16 bytes an entry in the map instead of a
// string and a time.Time (40 bytes, and the string's own 24). Two keys with
// the same hash would refuse the second request as a replay: with a million
// keys remembered, one request in 2^44, and not one that anybody can aim
// for, since the hash's seed is random and never leaves the process.

// replayHash is a replay key as the store remembers it.
type replayHash uint64

// seenRequest is when a replay key may be forgotten, in unix nanoseconds.
type seenRequest int64

func (r seenRequest) expiry() time.Time { return time.Unix(0, int64(r)) }

// replayHashOf hashes a replay key with the store's seed.
func (s *Store) replayHashOf(replay string) replayHash {
	return replayHash(maphash.String(s.replaySeed, replay))
}

// pendingDelivery is a delivery begun and not yet finished.
type pendingDelivery struct {
	d       store.Delivery
	expires time.Time
}

func (p pendingDelivery) expiry() time.Time { return p.expires }

// BeginDelivery records key as being handled. The one caller that creates
// the record gets first=true; every other caller gets the existing record.
func (s *Store) BeginDelivery(ctx context.Context, key, replay string, ttl time.Duration) (store.Delivery, bool, error) {
	if err := checkTTL(ttl); err != nil {
		return store.Delivery{}, false, fmt.Errorf("begin delivery %s: %w", key, err)
	}
	if key == "" {
		return store.Delivery{}, false, fmt.Errorf("begin delivery: empty key")
	}
	s.pendingMu.Lock()
	defer s.pendingMu.Unlock()
	now := s.now()
	if replay != "" {
		h := s.replayHashOf(replay)
		if r, ok := s.replays[h]; ok && now.Before(r.expiry()) {
			return store.Delivery{}, false, fmt.Errorf("begin delivery %s: %w", key, store.ErrReplayed)
		}
		sweepExpired(s.replays, &s.replaysSweepAt, now, false)
		s.replays[h] = seenRequest(now.Add(ttl).UnixNano())
	}
	if p, ok := s.pending[key]; ok && now.Before(p.expires) {
		return p.d, false, nil
	}
	// Under the mutex: FinishDelivery drops a pending record only after
	// the finished one is committed, so a key is always in one or the other.
	d, err := s.finishedDelivery(ctx, key)
	if err == nil {
		return d, false, nil
	}
	if !errors.Is(err, store.ErrNotFound) {
		return store.Delivery{}, false, fmt.Errorf("begin delivery %s: %w", key, err)
	}
	// Records whose handler never finished them expire.
	sweepExpired(s.pending, &s.pendingSweepAt, now, false)
	d = store.Delivery{Key: key, CreatedAt: now}
	s.pending[key] = pendingDelivery{d: d, expires: now.Add(ttl)}
	return d, true, nil
}

// deliveriesFill is how full bolt fills the deliveries' pages when it
// splits them. A message's key is its MsgId, which grows with time, so
// deliveries are appended: at bolt's default (0.5, for keys that land
// anywhere) every page is left half empty for keys that never come. Under
// the load generator (100,000 deliveries of about 1.2 KiB) the file was
// 270 MB with the default, 202 MB at 0.95.
const deliveriesFill = 0.95

// FinishDelivery stores d as done, with its reply, until ttl from now.
func (s *Store) FinishDelivery(ctx context.Context, d store.Delivery, ttl time.Duration) error {
	v, err := s.finishedValue(d, ttl)
	if err == nil {
		err = s.update(ctx, true, func(tx *bolt.Tx) error { return putDelivery(tx, d.Key, v) })
	}
	if err != nil {
		return fmt.Errorf("finish delivery %s: %w", d.Key, err)
	}
	s.finished(d.Key)
	return nil
}

// finishedValue is d's record, done, kept for ttl.
func (s *Store) finishedValue(d store.Delivery, ttl time.Duration) ([]byte, error) {
	if err := checkTTL(ttl); err != nil {
		return nil, err
	}
	d.Done = true
	// The record goes behind its expiry in one buffer: the reply is most
	// of it, and one copy of it per message is enough.
	return d.AppendBinary(envelopeNanos(s.now().Add(ttl).UnixNano(), nil))
}

// putDelivery writes a delivery's record (see finishedValue).
func putDelivery(tx *bolt.Tx, key string, v []byte) error {
	b := bucket(tx, bucketDeliveries)
	b.FillPercent = deliveriesFill
	return b.Put([]byte(key), v)
}

// finished drops key's record from memory once it is in the file.
func (s *Store) finished(key string) {
	s.pendingMu.Lock()
	delete(s.pending, key)
	s.pendingMu.Unlock()
}

// ForgetDelivery removes key's record, begun or finished; a missing one is
// no error.
func (s *Store) ForgetDelivery(ctx context.Context, key string) error {
	s.pendingMu.Lock()
	delete(s.pending, key)
	s.pendingMu.Unlock()
	if err := s.remove(ctx, false, bucketDeliveries, key); err != nil {
		return fmt.Errorf("forget delivery %s: %w", key, err)
	}
	return nil
}

// GetDelivery returns key's record, or store.ErrNotFound when it is unknown
// or expired.
func (s *Store) GetDelivery(ctx context.Context, key string) (store.Delivery, error) {
	// Pending first: a record leaves memory only after it is in the file.
	s.pendingMu.Lock()
	p, pending := s.pending[key]
	s.pendingMu.Unlock()
	d, err := s.finishedDelivery(ctx, key)
	switch {
	case err == nil:
		return d, nil
	case !errors.Is(err, store.ErrNotFound):
		return store.Delivery{}, fmt.Errorf("get delivery %s: %w", key, err)
	case pending && s.now().Before(p.expires):
		return p.d, nil
	}
	return store.Delivery{}, store.ErrNotFound
}

// finishedDelivery reads key's finished record from the file.
func (s *Store) finishedDelivery(ctx context.Context, key string) (store.Delivery, error) {
	var d store.Delivery
	err := s.view(ctx, func(tx *bolt.Tx) error {
		body, ok := live(bucket(tx, bucketDeliveries).Get([]byte(key)), s.now())
		if !ok {
			return store.ErrNotFound
		}
		return d.UnmarshalBinary(body) // copies: safe after the transaction
	})
	return d, err
}
