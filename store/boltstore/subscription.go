package boltstore

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"time"

	bolt "go.etcd.io/bbolt"

	"huimin/store"
)

// Reminder subscribers are JSON records in bucketSubscribers by openid;
// each campaign's subscribers are the keys (openids, empty values) of a
// nested bucket of bucketCampaignSubscribers named by the campaign, so
// that Subscribers pages through them in openid order with a cursor. A
// tally is a nested bucket of bucketTallies named by the tally: "k\x00"+key
// for each key counted, "n\x00"+field for each count (8 bytes, big
// endian) and tallyExpiry (its expiry in unix ns); PurgeExpired drops the
// tallies past it.
const (
	bucketSubscribers         = "subscribers"
	bucketCampaignSubscribers = "campaign_subscribers"
	bucketTallies             = "tallies"
	tallyExpiry               = "exp"
)

// subscriptionBuckets are the buckets New creates for subscriptions.
func subscriptionBuckets() []string {
	return []string{bucketSubscribers, bucketCampaignSubscribers, bucketTallies}
}

func getSubscriber(tx *bolt.Tx, openID string) (store.Subscriber, bool, error) {
	v := bucket(tx, bucketSubscribers).Get([]byte(openID))
	if v == nil {
		return store.Subscriber{}, false, nil
	}
	var sub store.Subscriber
	if err := json.Unmarshal(v, &sub); err != nil {
		return sub, false, fmt.Errorf("decode subscriber %s: %w", openID, err)
	}
	return sub, true, nil
}

func putSubscriber(tx *bolt.Tx, sub store.Subscriber) error {
	v, err := json.Marshal(sub)
	if err != nil {
		return err
	}
	return bucket(tx, bucketSubscribers).Put([]byte(sub.OpenID), v)
}

// Subscribe opts openID in to campaigns, keeping earlier opt-in times, in
// one transaction.
func (s *Store) Subscribe(ctx context.Context, openID, name string, campaigns []string, at time.Time) (store.Subscriber, error) {
	if openID == "" || slices.Contains(campaigns, "") {
		return store.Subscriber{}, errors.New("subscribe: empty openid or campaign id")
	}
	var out store.Subscriber
	err := s.update(ctx, false, func(tx *bolt.Tx) error {
		sub, _, err := getSubscriber(tx, openID)
		if err != nil {
			return err
		}
		sub.OpenID = openID
		if sub.Campaigns == nil {
			sub.Campaigns = map[string]time.Time{}
		}
		for _, c := range campaigns {
			if _, ok := sub.Campaigns[c]; !ok {
				sub.Campaigns[c] = at.UTC()
			}
			b, err := bucket(tx, bucketCampaignSubscribers).CreateBucketIfNotExists([]byte(c))
			if err != nil {
				return err
			}
			if err := b.Put([]byte(openID), nil); err != nil {
				return err
			}
		}
		if name != "" {
			sub.Name = name
		}
		if at.After(sub.LastSeen) {
			sub.LastSeen = at.UTC()
		}
		out = sub
		return putSubscriber(tx, sub)
	})
	if err != nil {
		return store.Subscriber{}, fmt.Errorf("subscribe %s: %w", openID, err)
	}
	return out, nil
}

// Unsubscribe removes openID from every campaign, in one transaction.
func (s *Store) Unsubscribe(ctx context.Context, openID string) ([]string, error) {
	if openID == "" {
		return nil, errors.New("unsubscribe: empty openid")
	}
	var removed []string
	err := s.update(ctx, false, func(tx *bolt.Tx) error {
		sub, ok, err := getSubscriber(tx, openID)
		if err != nil || !ok {
			return err
		}
		removed = slices.Sorted(maps.Keys(sub.Campaigns))
		for _, c := range removed {
			if b := bucket(tx, bucketCampaignSubscribers).Bucket([]byte(c)); b != nil {
				if err := b.Delete([]byte(openID)); err != nil {
					return err
				}
			}
		}
		return bucket(tx, bucketSubscribers).Delete([]byte(openID))
	})
	if err != nil {
		return nil, fmt.Errorf("unsubscribe %s: %w", openID, err)
	}
	if len(removed) == 0 {
		return nil, nil
	}
	return removed, nil
}

// Subscription reads openID's record.
func (s *Store) Subscription(ctx context.Context, openID string) (store.Subscriber, error) {
	var sub store.Subscriber
	var ok bool
	err := s.view(ctx, func(tx *bolt.Tx) error {
		var err error
		sub, ok, err = getSubscriber(tx, openID)
		return err
	})
	if err != nil {
		return store.Subscriber{}, fmt.Errorf("subscription %s: %w", openID, err)
	}
	if !ok {
		return store.Subscriber{}, store.ErrNotFound
	}
	return sub, nil
}

// Subscribers pages through a campaign's bucket from the cursor.
func (s *Store) Subscribers(ctx context.Context, campaign, after string, limit int) ([]store.Subscriber, error) {
	var out []store.Subscriber
	err := s.view(ctx, func(tx *bolt.Tx) error {
		b := bucket(tx, bucketCampaignSubscribers).Bucket([]byte(campaign))
		if b == nil || limit <= 0 {
			return nil
		}
		c := b.Cursor()
		k, _ := c.Seek([]byte(after))
		if k != nil && after != "" && bytes.Equal(k, []byte(after)) {
			k, _ = c.Next()
		}
		for ; k != nil && len(out) < limit; k, _ = c.Next() {
			sub, ok, err := getSubscriber(tx, string(k))
			if err != nil {
				return err
			}
			if ok {
				out = append(out, sub)
			}
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("subscribers of %s: %w", campaign, err)
	}
	return out, nil
}

// Seen moves a subscriber's LastSeen forward. It looks first, so that
// someone not subscribed costs no write.
func (s *Store) Seen(ctx context.Context, openID string, at time.Time) error {
	sub, err := s.Subscription(ctx, openID)
	if errors.Is(err, store.ErrNotFound) || (err == nil && !at.After(sub.LastSeen)) {
		return nil
	}
	if err != nil {
		return err
	}
	err = s.update(ctx, false, func(tx *bolt.Tx) error {
		sub, ok, err := getSubscriber(tx, openID)
		if err != nil || !ok || !at.After(sub.LastSeen) {
			return err
		}
		sub.LastSeen = at.UTC()
		return putSubscriber(tx, sub)
	})
	if err != nil {
		return fmt.Errorf("seen %s: %w", openID, err)
	}
	return nil
}

// Tally counts key once under name, in one transaction.
func (s *Store) Tally(ctx context.Context, name, key, field string, n int64, ttl time.Duration) (map[string]int64, bool, error) {
	err := checkTTL(ttl)
	if err == nil && (name == "" || key == "") {
		err = errors.New("empty tally name or key")
	}
	if err != nil {
		return nil, false, fmt.Errorf("tally %s: %w", name, err)
	}
	var (
		counts map[string]int64
		first  bool
	)
	err = s.update(ctx, false, func(tx *bolt.Tx) error {
		now := s.now()
		all := bucket(tx, bucketTallies)
		b := all.Bucket([]byte(name))
		if b != nil && tallyDead(b, now) {
			if err := all.DeleteBucket([]byte(name)); err != nil {
				return err
			}
			b = nil
		}
		if b == nil {
			var err error
			if b, err = all.CreateBucket([]byte(name)); err != nil {
				return err
			}
		}
		k := append([]byte("k\x00"), key...)
		first = b.Get(k) == nil
		if first {
			if err := b.Put(k, nil); err != nil {
				return err
			}
			f := append([]byte("n\x00"), field...)
			var v [8]byte
			binary.BigEndian.PutUint64(v[:], uint64(tallyCount(b.Get(f))+n))
			if err := b.Put(f, v[:]); err != nil {
				return err
			}
		}
		var exp [8]byte
		binary.BigEndian.PutUint64(exp[:], uint64(now.Add(ttl).UnixNano()))
		if err := b.Put([]byte(tallyExpiry), exp[:]); err != nil {
			return err
		}
		counts = map[string]int64{}
		c := b.Cursor()
		prefix := []byte("n\x00")
		for k, v := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, v = c.Next() {
			counts[string(k[len(prefix):])] = tallyCount(v)
		}
		return nil
	})
	if err != nil {
		return nil, false, fmt.Errorf("tally %s: %w", name, err)
	}
	return counts, first, nil
}

func tallyCount(v []byte) int64 {
	if len(v) != 8 {
		return 0
	}
	return int64(binary.BigEndian.Uint64(v))
}

// tallyDead reports whether a tally's bucket has expired at now.
func tallyDead(b *bolt.Bucket, now time.Time) bool {
	v := b.Get([]byte(tallyExpiry))
	return len(v) == 8 && now.UnixNano() >= int64(binary.BigEndian.Uint64(v))
}

// purgeTallies deletes the expired tallies and returns how many.
func purgeTallies(tx *bolt.Tx, now time.Time) (int, error) {
	all := bucket(tx, bucketTallies)
	var dead [][]byte
	err := all.ForEachBucket(func(k []byte) error {
		if tallyDead(all.Bucket(k), now) {
			dead = append(dead, bytes.Clone(k))
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	for _, k := range dead {
		if err := all.DeleteBucket(k); err != nil {
			return 0, err
		}
	}
	return len(dead), nil
}
