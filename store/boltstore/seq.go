package boltstore

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"
)

// A sequence counter is the bucket "seqs": name → an expiring value (see
// envelope) whose body is the big-endian uint64 count. A counter without
// a ttl expires at neverExpires.

// NextSeq increments the named counter and returns its new value, 1 for a
// new (or expired) counter. With ttl > 0 the counter expires ttl after the
// call that created it; later calls do not move the expiry. A counter
// created without a ttl gets one from the first call that gives it, as
// Redis's PEXPIRE NX does. With ttl <= 0 it never expires.
func (s *Store) NextSeq(ctx context.Context, name string, ttl time.Duration) (int64, error) {
	if name == "" {
		return 0, errors.New("next seq: empty counter name")
	}
	var n uint64
	err := s.update(ctx, false, func(tx *bolt.Tx) error {
		b := bucket(tx, bucketSeqs)
		now := s.now()
		n = 0
		expires := int64(neverExpires)
		v := b.Get([]byte(name))
		if body, ok := live(v, now); ok {
			if len(body) != 8 {
				return fmt.Errorf("stored counter is %d bytes, want 8", len(body))
			}
			n = binary.BigEndian.Uint64(body)
			expires = int64(binary.BigEndian.Uint64(v))
		}
		n++
		if expires == neverExpires && ttl > 0 {
			expires = now.Add(ttl).UnixNano()
		}
		body := make([]byte, 8)
		binary.BigEndian.PutUint64(body, n)
		return b.Put([]byte(name), envelopeNanos(expires, body))
	})
	if err != nil {
		return 0, fmt.Errorf("next seq %s: %w", name, err)
	}
	return int64(n), nil
}
