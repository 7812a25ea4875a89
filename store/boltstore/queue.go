package boltstore

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"time"

	bolt "go.etcd.io/bbolt"

	"huimin/store"
)

// A due-queue is the bucket queues/<name>, holding:
//
//	idx    big-endian uint64 due unix nanos + id → empty  (ordered by due, then id)
//	items  id → queueItem, encoded by encodeItem
//	n      big-endian uint64 count of items, so QueueStats need not walk them
//
// An item's index entry is at its due time while it waits and at the end of
// its lease while it is claimed, so Claim is a seek to the start of idx and
// a walk over exactly the entries it takes: O(log n) per item.
const (
	queueIndex = "idx"
	queueItems = "items"
	queueCount = "n"
)

// queueFill is the FillPercent of idx and items: how full bolt packs a
// page before it splits it. Their keys mostly arrive in order at a few
// points (IDs from tickets and message sequences, due times a fixed delay
// ahead, leases ending a lease from now), where a split leaves behind a
// page that no insert comes back to: at bolt's default of half full, a
// pending item took 589 bytes. Keys that arrive in no order (a campaign's
// sends, keyed by openid) fare the other way, fuller splits leaving more
// pages part empty. Bytes per pending item, keys in order (1,000,000
// items) / in no order (300,000): 0.5: 589 / 415, 0.8: 361 / 491, 0.9:
// 314 / 653, 1.0: 277 / 917. 0.8 keeps both under 500.
const queueFill = 0.8

// queueItem is an item as a queue keeps it: encodeItem gives the form it
// is stored in, and the JSON tags read the items earlier versions stored.
type queueItem struct {
	// Due is the unix nanos of the item's index entry.
	Due     int64  `json:"due"`
	Kind    string `json:"kind,omitempty"`
	Payload []byte `json:"payload"`
	Attempt int    `json:"attempt"`
}

// itemV1 starts an item stored in the binary form encodeItem writes:
//
//	0x01, due (big-endian uint64), attempt (uvarint), len(kind) (uvarint),
//	kind, payload (the rest)
//
// Items stored before are JSON objects, starting with '{': decodeItem
// reads both, and an item written again (claimed, retried) is written in
// the binary form. JSON took 310 bytes for a 200-byte payload (base64 and
// the field names), this 211.
const itemV1 = 0x01

// encodeItem returns the stored form of it.
func encodeItem(it queueItem) []byte {
	v := make([]byte, 0, 1+8+2*binary.MaxVarintLen64+len(it.Kind)+len(it.Payload))
	v = append(v, itemV1)
	v = binary.BigEndian.AppendUint64(v, uint64(it.Due))
	v = binary.AppendUvarint(v, uint64(it.Attempt))
	v = binary.AppendUvarint(v, uint64(len(it.Kind)))
	v = append(v, it.Kind...)
	return append(v, it.Payload...)
}

// decodeItem reads an item stored by encodeItem, or as JSON by earlier
// versions. The item's payload is a copy, safe after the transaction.
func decodeItem(v []byte) (queueItem, error) {
	var it queueItem
	if len(v) == 0 {
		return it, errors.New("empty item")
	}
	switch v[0] {
	case itemV1:
	case '{':
		err := json.Unmarshal(v, &it)
		return it, err
	default:
		return it, fmt.Errorf("unknown item format %#x", v[0])
	}
	rest := v[1:]
	if len(rest) < 8 {
		return it, errors.New("item too short")
	}
	it.Due = int64(binary.BigEndian.Uint64(rest))
	rest = rest[8:]
	attempt, n := binary.Uvarint(rest)
	if n <= 0 || attempt > math.MaxInt32 {
		return it, errors.New("bad item attempt")
	}
	it.Attempt = int(attempt)
	rest = rest[n:]
	kindLen, n := binary.Uvarint(rest)
	if n <= 0 || kindLen > uint64(len(rest)-n) {
		return it, errors.New("bad item kind")
	}
	rest = rest[n:]
	it.Kind = string(rest[:kindLen])
	if p := rest[kindLen:]; len(p) > 0 {
		it.Payload = bytes.Clone(p)
	}
	return it, nil
}

// queueTime converts t to unix nanos. Queues accept times from 1970 to 2199:
// a zero time.Time is a caller's bug and would otherwise sort first.
func queueTime(t time.Time) (int64, error) {
	if y := t.Year(); y < 1970 || y >= 2200 {
		return 0, fmt.Errorf("time %v is outside the years 1970 to 2199", t)
	}
	return t.UnixNano(), nil
}

// indexKey is an item's key in idx.
func indexKey(due int64, id []byte) []byte {
	k := make([]byte, 8+len(id))
	binary.BigEndian.PutUint64(k, uint64(due))
	copy(k[8:], id)
	return k
}

// queueBuckets holds one queue's buckets within a transaction.
type queueBuckets struct {
	root, idx, items *bolt.Bucket
}

// openQueue returns the queue's buckets, creating them when create is set
// (in a read-write transaction). ok is false when the queue does not exist.
func openQueue(tx *bolt.Tx, queue string, create bool) (q queueBuckets, ok bool, err error) {
	queues := bucket(tx, bucketQueues)
	if !create {
		root := queues.Bucket([]byte(queue))
		if root == nil {
			return queueBuckets{}, false, nil
		}
		q = queueBuckets{root: root, idx: root.Bucket([]byte(queueIndex)), items: root.Bucket([]byte(queueItems))}
		q.idx.FillPercent, q.items.FillPercent = queueFill, queueFill
		return q, true, nil
	}
	if q.root, err = queues.CreateBucketIfNotExists([]byte(queue)); err != nil {
		return q, false, err
	}
	if q.idx, err = q.root.CreateBucketIfNotExists([]byte(queueIndex)); err != nil {
		return q, false, err
	}
	if q.items, err = q.root.CreateBucketIfNotExists([]byte(queueItems)); err != nil {
		return q, false, err
	}
	q.idx.FillPercent, q.items.FillPercent = queueFill, queueFill
	return q, true, nil
}

// count returns the number of items in the queue.
func (q queueBuckets) count() uint64 {
	v := q.root.Get([]byte(queueCount))
	if len(v) != 8 {
		return 0
	}
	return binary.BigEndian.Uint64(v)
}

// addCount changes the item count by delta.
func (q queueBuckets) addCount(delta int) error {
	v := make([]byte, 8)
	binary.BigEndian.PutUint64(v, uint64(int64(q.count())+int64(delta)))
	return q.root.Put([]byte(queueCount), v)
}

// get returns the stored item, or ok=false.
func (q queueBuckets) get(id []byte) (it queueItem, ok bool, err error) {
	v := q.items.Get(id)
	if v == nil {
		return it, false, nil
	}
	it, err = decodeItem(v)
	if err != nil {
		return it, false, fmt.Errorf("decode item: %w", err)
	}
	return it, true, nil
}

// put stores it and moves its index entry from the one at oldDue (when
// moved is set) to it.Due.
func (q queueBuckets) put(id []byte, it queueItem, oldDue int64, moved bool) error {
	if moved {
		if err := q.idx.Delete(indexKey(oldDue, id)); err != nil {
			return err
		}
	}
	if err := q.idx.Put(indexKey(it.Due, id), nil); err != nil {
		return err
	}
	return q.items.Put(id, encodeItem(it))
}

// remove deletes the item and its index entry.
func (q queueBuckets) remove(id []byte, it queueItem) error {
	if err := q.idx.Delete(indexKey(it.Due, id)); err != nil {
		return err
	}
	if err := q.items.Delete(id); err != nil {
		return err
	}
	return q.addCount(-1)
}

// checkNames rejects an empty queue name or item ID, which bolt cannot key.
func checkNames(queue, id string) error {
	if queue == "" {
		return errors.New("empty queue name")
	}
	if id == "" {
		return errors.New("empty item id")
	}
	return nil
}

// Schedule adds it to queue unless an item with it.ID is already there, in
// which case it changes nothing and reports added=false. The item starts
// with Attempt 0 whatever it.Attempt says.
func (s *Store) Schedule(ctx context.Context, queue string, it store.DueItem) (bool, error) {
	if err := checkNames(queue, it.ID); err != nil {
		return false, fmt.Errorf("schedule %s/%s: %w", queue, it.ID, err)
	}
	due, err := queueTime(it.Due)
	if err != nil {
		return false, fmt.Errorf("schedule %s/%s: due: %w", queue, it.ID, err)
	}
	id := []byte(it.ID)
	var added bool
	// Batched: a sweep or the outbox under load schedules from many
	// goroutines at once, and the writes share commits. fn sets added
	// afresh when it runs again.
	err = s.update(ctx, true, func(tx *bolt.Tx) error {
		q, _, err := openQueue(tx, queue, true)
		if err != nil {
			return err
		}
		if q.items.Get(id) != nil {
			added = false
			return nil
		}
		added = true
		if err := q.put(id, queueItem{Due: due, Kind: it.Kind, Payload: it.Payload}, 0, false); err != nil {
			return err
		}
		return q.addCount(1)
	})
	if err != nil {
		return false, fmt.Errorf("schedule %s/%s: %w", queue, it.ID, err)
	}
	return added, nil
}

// Claim takes up to limit items due at or before now, earliest first (ties
// by ID), hides each until now+lease, increments its Attempt and returns
// them. A returned item's Due is when it became claimable: its scheduled
// time, the time given to Retry, or the end of its previous lease.
func (s *Store) Claim(ctx context.Context, queue string, now time.Time, limit int, lease time.Duration) ([]store.DueItem, error) {
	if limit <= 0 || lease <= 0 {
		return nil, fmt.Errorf("claim %s: limit %d and lease %v must be positive", queue, limit, lease)
	}
	nowN, err := queueTime(now)
	if err != nil {
		return nil, fmt.Errorf("claim %s: now: %w", queue, err)
	}
	until, err := queueTime(now.Add(lease))
	if err != nil {
		return nil, fmt.Errorf("claim %s: lease end: %w", queue, err)
	}
	// Most polls find nothing due. Answer those from a read transaction:
	// a write transaction commits, and so fsyncs, even when it changed nothing.
	var anyDue bool
	err = s.view(ctx, func(tx *bolt.Tx) error {
		q, ok, err := openQueue(tx, queue, false)
		if !ok || err != nil {
			return err
		}
		k, _ := q.idx.Cursor().First()
		anyDue = k != nil && int64(binary.BigEndian.Uint64(k)) <= nowN
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("claim %s: %w", queue, err)
	}
	if !anyDue {
		return nil, nil // an empty batch, not an error
	}
	var out []store.DueItem
	err = s.update(ctx, false, func(tx *bolt.Tx) error {
		q, ok, err := openQueue(tx, queue, false)
		if !ok || err != nil {
			return err
		}
		// Collect first: bolt cursors do not survive writes to their bucket.
		var keys [][]byte
		c := q.idx.Cursor()
		for k, _ := c.First(); k != nil && len(keys) < limit; k, _ = c.Next() {
			if int64(binary.BigEndian.Uint64(k)) > nowN {
				break
			}
			keys = append(keys, bytes.Clone(k))
		}
		out = make([]store.DueItem, 0, len(keys))
		for _, k := range keys {
			id := k[8:]
			it, ok, err := q.get(id)
			if err != nil {
				return fmt.Errorf("item %s: %w", id, err)
			}
			if !ok {
				return fmt.Errorf("item %s: index entry without item", id)
			}
			was := it.Due
			it.Attempt++
			it.Due = until
			if err := q.put(id, it, was, true); err != nil {
				return fmt.Errorf("item %s: %w", id, err)
			}
			out = append(out, store.DueItem{
				ID:      string(id),
				Due:     time.Unix(0, was).UTC(),
				Kind:    it.Kind,
				Payload: it.Payload, // a copy, safe after the transaction
				Attempt: it.Attempt,
			})
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("claim %s: %w", queue, err)
	}
	return out, nil
}

// fenced runs fn on the item if its Attempt is still attempt, and returns
// store.ErrLeaseLost otherwise or when the item is gone. An attempt below
// 1 names no claim (Claim numbers them from 1): that is a lost lease too,
// answered without a transaction.
func (s *Store) fenced(ctx context.Context, queue, id string, attempt int, fn func(q queueBuckets, it queueItem) error) error {
	if attempt < 1 {
		return store.ErrLeaseLost
	}
	// Batched, as Schedule: the runner's workers acknowledge side by side.
	return s.update(ctx, true, func(tx *bolt.Tx) error {
		q, ok, err := openQueue(tx, queue, false)
		if err != nil {
			return err
		}
		if !ok {
			return store.ErrLeaseLost
		}
		it, ok, err := q.get([]byte(id))
		if err != nil {
			return err
		}
		if !ok || it.Attempt != attempt {
			return store.ErrLeaseLost
		}
		return fn(q, it)
	})
}

// Ack removes a claimed item. It returns store.ErrLeaseLost when the item
// was claimed again since (its Attempt is no longer attempt) or is gone.
func (s *Store) Ack(ctx context.Context, queue, id string, attempt int) error {
	err := s.fenced(ctx, queue, id, attempt, func(q queueBuckets, it queueItem) error {
		return q.remove([]byte(id), it)
	})
	if errors.Is(err, store.ErrLeaseLost) {
		return store.ErrLeaseLost
	}
	if err != nil {
		return fmt.Errorf("ack %s/%s: %w", queue, id, err)
	}
	return nil
}

// Retry makes a claimed item due again at due, ending its lease, under the
// same fencing rule as Ack. Its Attempt is kept, so the next Claim
// increments it.
func (s *Store) Retry(ctx context.Context, queue, id string, attempt int, due time.Time) error {
	dueN, err := queueTime(due)
	if err != nil {
		return fmt.Errorf("retry %s/%s: due: %w", queue, id, err)
	}
	err = s.fenced(ctx, queue, id, attempt, func(q queueBuckets, it queueItem) error {
		was := it.Due
		it.Due = dueN
		return q.put([]byte(id), it, was, true)
	})
	if errors.Is(err, store.ErrLeaseLost) {
		return store.ErrLeaseLost
	}
	if err != nil {
		return fmt.Errorf("retry %s/%s: %w", queue, id, err)
	}
	return nil
}

// Cancel removes an item whatever its state; an unknown ID is no error.
func (s *Store) Cancel(ctx context.Context, queue, id string) error {
	err := s.update(ctx, true, func(tx *bolt.Tx) error {
		q, ok, err := openQueue(tx, queue, false)
		if !ok || err != nil {
			return err
		}
		it, ok, err := q.get([]byte(id))
		if !ok || err != nil {
			return err
		}
		return q.remove([]byte(id), it)
	})
	if err != nil {
		return fmt.Errorf("cancel %s/%s: %w", queue, id, err)
	}
	return nil
}

// QueueStats counts the queue's items and those claimable at now (due, or
// with a lease that has run out). Counting the due ones walks them.
func (s *Store) QueueStats(ctx context.Context, queue string, now time.Time) (store.QueueStats, error) {
	nowN, err := queueTime(now)
	if err != nil {
		return store.QueueStats{}, fmt.Errorf("queue stats %s: now: %w", queue, err)
	}
	var st store.QueueStats
	err = s.view(ctx, func(tx *bolt.Tx) error {
		q, ok, err := openQueue(tx, queue, false)
		if !ok || err != nil {
			return err
		}
		st.Total = int64(q.count())
		c := q.idx.Cursor()
		for k, _ := c.First(); k != nil && int64(binary.BigEndian.Uint64(k)) <= nowN; k, _ = c.Next() {
			st.Due++
		}
		return nil
	})
	if err != nil {
		return store.QueueStats{}, fmt.Errorf("queue stats %s: %w", queue, err)
	}
	return st, nil
}

// NextDue returns when the queue's earliest item becomes claimable: its due
// time, or the end of the lease it is under. ok is false for an empty queue.
func (s *Store) NextDue(ctx context.Context, queue string) (time.Time, bool, error) {
	var (
		next time.Time
		ok   bool
	)
	err := s.view(ctx, func(tx *bolt.Tx) error {
		q, found, err := openQueue(tx, queue, false)
		if !found || err != nil {
			return err
		}
		if k, _ := q.idx.Cursor().First(); k != nil {
			next, ok = time.Unix(0, int64(binary.BigEndian.Uint64(k))).UTC(), true
		}
		return nil
	})
	if err != nil {
		return time.Time{}, false, fmt.Errorf("next due %s: %w", queue, err)
	}
	return next, ok, nil
}
