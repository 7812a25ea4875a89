package boltstore

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"fmt"
	"time"

	bolt "go.etcd.io/bbolt"

	"huimin/store"
)

// The results index is the bucket "ticket_facts":
//
//	ticket_facts  created id → JSON store.Facts
//
// created is the big-endian uint64 unix nanoseconds of Ticket.CreatedAt,
// as in the ticket index buckets, so a cursor walks the tickets received
// in [from, to) oldest first, ties by ID. CreateTicket and UpdateTicket
// write a ticket's entry in the ticket's own transaction; an update that
// corrects CreatedAt moves it.
//
// The key "ticket_facts" in the bucket "meta" is the marker that the
// index is built, holding the version of store.Facts it was built for
// (factsVersion). When New finds no marker or another version, it builds
// the bucket afresh from every stored ticket, in the one transaction that
// also sets the marker: a file written by an earlier version gets its
// tickets' facts the first time this version opens it, and no one ever
// sees a half-built index.

// factsChunk is how many facts TicketFacts reads per read transaction. fn
// runs between the transactions, never inside one, so that it may use the
// store: a read transaction open in the goroutine of a writer can
// deadlock bolt when the writer must grow the file.
const factsChunk = 1024

// factsKey is a ticket's key in the facts bucket.
func factsKey(created int64, id string) []byte {
	k := make([]byte, 0, 8+len(id))
	k = binary.BigEndian.AppendUint64(k, uint64(created))
	return append(k, id...)
}

// putFacts stores facts, the JSON of t's facts, under t's key.
func putFacts(tx *bolt.Tx, t store.Ticket, facts []byte) error {
	if err := bucket(tx, bucketTicketFacts).Put(factsKey(t.CreatedAt.UnixNano(), t.ID), facts); err != nil {
		return fmt.Errorf("facts: %w", err)
	}
	return nil
}

// deleteFacts removes t's facts, found by t's CreatedAt and ID.
func deleteFacts(tx *bolt.Tx, t store.Ticket) error {
	if err := bucket(tx, bucketTicketFacts).Delete(factsKey(t.CreatedAt.UnixNano(), t.ID)); err != nil {
		return fmt.Errorf("facts: %w", err)
	}
	return nil
}

// metaFactsVersion is the marker's key in the meta bucket.
const metaFactsVersion = "ticket_facts"

// createFacts builds the facts bucket afresh from every stored ticket,
// unless the marker says it holds this version of the facts, and sets the
// marker.
func createFacts(tx *bolt.Tx) error {
	meta, version := bucket(tx, bucketMeta), store.FactsVersion()
	built := tx.Bucket([]byte(bucketTicketFacts)) != nil
	if built && string(meta.Get([]byte(metaFactsVersion))) == version {
		return nil
	}
	if built {
		if err := tx.DeleteBucket([]byte(bucketTicketFacts)); err != nil {
			return fmt.Errorf("drop %s: %w", bucketTicketFacts, err)
		}
	}
	fb, err := tx.CreateBucket([]byte(bucketTicketFacts))
	if err != nil {
		return fmt.Errorf("bucket %s: %w", bucketTicketFacts, err)
	}
	err = bucket(tx, bucketTickets).ForEach(func(k, v []byte) error {
		var t store.Ticket
		if err := json.Unmarshal(v, &t); err != nil {
			return fmt.Errorf("decode ticket %s: %w", k, err)
		}
		facts, err := json.Marshal(store.FactsOf(t))
		if err != nil {
			return err
		}
		return fb.Put(factsKey(t.CreatedAt.UnixNano(), t.ID), facts)
	})
	if err != nil {
		return fmt.Errorf("build %s: %w", bucketTicketFacts, err)
	}
	if err := meta.Put([]byte(metaFactsVersion), []byte(version)); err != nil {
		return fmt.Errorf("mark %s built: %w", bucketTicketFacts, err)
	}
	return nil
}

// factsRange returns [from, to) in unix nanoseconds, clamped to the years
// 1970 to 2199 that tickets are received in (checkTicket), where a
// nanosecond count does not overflow.
func factsRange(from, to time.Time) (lo, hi int64) {
	if floor := time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC); from.Before(floor) {
		from = floor
	}
	if end := time.Date(2200, 1, 1, 0, 0, 0, 0, time.UTC); to.After(end) {
		to = end
	}
	return from.UnixNano(), to.UnixNano()
}

// TicketFacts calls fn with the facts of every ticket received (CreatedAt)
// in [from, to), oldest first (by CreatedAt, then ID), and stops at fn's
// first error, which it returns as it is. It walks the facts bucket from
// from, factsChunk entries per read transaction, calling fn outside them:
// a ticket whose CreatedAt an update moves while the walk is under way may
// be seen twice or not at all.
func (s *Store) TicketFacts(ctx context.Context, from, to time.Time, fn func(store.Facts) error) error {
	lo, hi := factsRange(from, to)
	if lo >= hi {
		return nil
	}
	seek := factsKey(lo, "")
	chunk := make([]store.Facts, 0, factsChunk)
	for seek != nil {
		var next []byte
		err := s.view(ctx, func(tx *bolt.Tx) error {
			chunk, next = chunk[:0], nil
			c := bucket(tx, bucketTicketFacts).Cursor()
			for k, v := c.Seek(seek); k != nil; k, v = c.Next() {
				if len(k) < 8 {
					return fmt.Errorf("malformed key %q", k)
				}
				if int64(binary.BigEndian.Uint64(k)) >= hi {
					return nil
				}
				if len(chunk) == factsChunk {
					next = bytes.Clone(k)
					return nil
				}
				var f store.Facts
				if err := json.Unmarshal(v, &f); err != nil {
					return fmt.Errorf("decode facts of %s: %w", k[8:], err)
				}
				chunk = append(chunk, f)
			}
			return nil
		})
		if err != nil {
			return fmt.Errorf("ticket facts: %w", err)
		}
		for _, f := range chunk {
			if err := fn(f); err != nil {
				return err
			}
		}
		seek = next
	}
	return nil
}
