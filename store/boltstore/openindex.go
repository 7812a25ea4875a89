package boltstore

import (
	"encoding/json"
	"fmt"

	bolt "go.etcd.io/bbolt"

	"huimin/store"
)

// The open indexes (see ticket.go) hold, by owner, department and
// citizen, the tickets still being worked, beside the full indexes that
// hold every ticket. The key "ticket_open_index" in the bucket "meta" is
// the marker that they are built, holding openIndexVersion. When New
// finds no marker or another version, it builds the open buckets afresh
// from every stored ticket, in the one transaction that also sets the
// marker, as it does the facts (facts.go): a file written by an earlier
// version gets its open tickets indexed the first time this version
// opens it, and no one ever sees a half-built index.

// openIndexVersion is the open indexes' version in the marker. Bump it
// when what an open index holds changes, so that New builds them again.
const openIndexVersion = "1"

// metaOpenIndexVersion is the marker's key in the meta bucket.
const metaOpenIndexVersion = "ticket_open_index"

// createOpenIndexes builds the open index buckets afresh from every
// stored ticket, unless the marker says they hold this version, and sets
// the marker.
func createOpenIndexes(tx *bolt.Tx) error {
	meta := bucket(tx, bucketMeta)
	built := string(meta.Get([]byte(metaOpenIndexVersion))) == openIndexVersion
	for _, ix := range ticketIndexes() {
		built = built && tx.Bucket([]byte(ix.open)) != nil
	}
	if built {
		return nil
	}
	open := make(map[string]*bolt.Bucket)
	for _, ix := range ticketIndexes() {
		if tx.Bucket([]byte(ix.open)) != nil {
			if err := tx.DeleteBucket([]byte(ix.open)); err != nil {
				return fmt.Errorf("drop %s: %w", ix.open, err)
			}
		}
		b, err := tx.CreateBucket([]byte(ix.open))
		if err != nil {
			return fmt.Errorf("bucket %s: %w", ix.open, err)
		}
		open[ix.open] = b
	}
	err := bucket(tx, bucketTickets).ForEach(func(k, v []byte) error {
		var t store.Ticket
		if err := json.Unmarshal(v, &t); err != nil {
			return fmt.Errorf("decode ticket %s: %w", k, err)
		}
		if !t.State.Open() {
			return nil
		}
		for _, ix := range ticketIndexes() {
			if v := ix.value(t); v != "" {
				if err := open[ix.open].Put(ticketIndexKey(v, t.CreatedAt.UnixNano(), t.ID), nil); err != nil {
					return fmt.Errorf("index %s: %w", ix.open, err)
				}
			}
		}
		return nil
	})
	if err != nil {
		return fmt.Errorf("build open indexes: %w", err)
	}
	if err := meta.Put([]byte(metaOpenIndexVersion), []byte(openIndexVersion)); err != nil {
		return fmt.Errorf("mark open indexes built: %w", err)
	}
	return nil
}
