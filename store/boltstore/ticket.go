package boltstore

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"strings"

	bolt "go.etcd.io/bbolt"

	"huimin/store"
)

// Tickets live in the bucket "tickets" (id → JSON store.Ticket, never
// expiring), with one index bucket per field ListTickets selects by, and
// one more per field for the open tickets (store.TicketState.Open) alone:
//
//	tickets_by_owner            owner      \x00 created id → empty
//	tickets_by_department       department \x00 created id → empty
//	tickets_by_citizen          openid     \x00 created id → empty
//	tickets_open_by_owner       owner      \x00 created id → empty, open tickets only
//	tickets_open_by_department  department \x00 created id → empty, open tickets only
//	tickets_open_by_citizen     openid     \x00 created id → empty, open tickets only
//
// created is the big-endian uint64 unix nanoseconds of Ticket.CreatedAt, so
// a scan of the prefix "value\x00" walks one value's tickets oldest first,
// ties by ID. An empty value is not indexed; a value may not contain NUL,
// which would make one value's prefix match another's keys. CreateTicket
// and UpdateTicket change a ticket, its index entries and its facts (see
// facts.go) in one transaction. The open indexes let routing count an
// officer's open tickets, and 我的工单 list them, without reading the
// year of finished ones beside them; New builds them for a file written
// before they existed (see openindex.go).

// ticketIndex is one index: its bucket, the bucket of its open tickets
// and the field they hold.
type ticketIndex struct {
	bucket, open string
	value        func(t store.Ticket) string
}

// ticketIndexes lists the indexes in the order ListTickets prefers them:
// an officer's or a citizen's tickets are far fewer than a department's.
func ticketIndexes() []ticketIndex {
	return []ticketIndex{
		{bucketByOwner, bucketOpenByOwner, func(t store.Ticket) string { return t.Owner }},
		{bucketByCitizen, bucketOpenByCitizen, func(t store.Ticket) string { return t.CitizenOpenID }},
		{bucketByDepartment, bucketOpenByDepartment, func(t store.Ticket) string { return t.Department }},
	}
}

// ticketIndexKey is the key of a ticket's entry in an index holding value.
func ticketIndexKey(value string, created int64, id string) []byte {
	k := make([]byte, 0, len(value)+1+8+len(id))
	k = append(k, value...)
	k = append(k, 0)
	k = binary.BigEndian.AppendUint64(k, uint64(created))
	return append(k, id...)
}

// checkTicket refuses a ticket the indexes cannot hold: an empty ID, a
// CreatedAt outside the years 1970 to 2199 (a zero time is a caller's bug
// and would sort first), or an indexed field containing NUL.
func checkTicket(t store.Ticket) error {
	if t.ID == "" {
		return errors.New("empty ticket id")
	}
	if _, err := queueTime(t.CreatedAt); err != nil {
		return fmt.Errorf("created at: %w", err)
	}
	return checkIndexValues(t.Owner, t.Department, t.CitizenOpenID)
}

// checkIndexValues refuses index values containing NUL.
func checkIndexValues(values ...string) error {
	for _, v := range values {
		if strings.IndexByte(v, 0) >= 0 {
			return fmt.Errorf("indexed value %q contains NUL", v)
		}
	}
	return nil
}

// putTicketIndexes adds t's index entries (in the open indexes too while
// t is open), or with del set removes them.
func putTicketIndexes(tx *bolt.Tx, t store.Ticket, del bool) error {
	created := t.CreatedAt.UnixNano()
	for _, ix := range ticketIndexes() {
		v := ix.value(t)
		if v == "" {
			continue
		}
		k := ticketIndexKey(v, created, t.ID)
		buckets := []string{ix.bucket}
		if t.State.Open() {
			buckets = append(buckets, ix.open)
		}
		for _, name := range buckets {
			var err error
			if del {
				err = bucket(tx, name).Delete(k)
			} else {
				err = bucket(tx, name).Put(k, nil)
			}
			if err != nil {
				return fmt.Errorf("index %s: %w", name, err)
			}
		}
	}
	return nil
}

// CreateTicket stores t with Version 1 (t.Version is ignored), its facts
// and its index entries; store.ErrExists when the ID is taken.
func (s *Store) CreateTicket(ctx context.Context, t store.Ticket) error {
	if err := checkTicket(t); err != nil {
		return fmt.Errorf("create ticket %s: %w", t.ID, err)
	}
	t.Version = 1
	body, err := json.Marshal(t)
	if err != nil {
		return fmt.Errorf("create ticket %s: %w", t.ID, err)
	}
	facts, err := json.Marshal(store.FactsOf(t))
	if err != nil {
		return fmt.Errorf("create ticket %s: %w", t.ID, err)
	}
	err = s.update(ctx, false, func(tx *bolt.Tx) error {
		b := bucket(tx, bucketTickets)
		if b.Get([]byte(t.ID)) != nil {
			return store.ErrExists
		}
		if err := b.Put([]byte(t.ID), body); err != nil {
			return err
		}
		if err := putFacts(tx, t, facts); err != nil {
			return err
		}
		return putTicketIndexes(tx, t, false)
	})
	if err != nil {
		return fmt.Errorf("create ticket %s: %w", t.ID, err)
	}
	return nil
}

// GetTicket returns the ticket, or store.ErrNotFound for an unknown ID.
func (s *Store) GetTicket(ctx context.Context, id string) (store.Ticket, error) {
	var t store.Ticket
	err := s.view(ctx, func(tx *bolt.Tx) error {
		v := bucket(tx, bucketTickets).Get([]byte(id))
		if v == nil {
			return store.ErrNotFound
		}
		return json.Unmarshal(v, &t)
	})
	if errors.Is(err, store.ErrNotFound) {
		return store.Ticket{}, store.ErrNotFound
	}
	if err != nil {
		return store.Ticket{}, fmt.Errorf("get ticket %s: %w", id, err)
	}
	return t, nil
}

// UpdateTicket replaces the stored ticket with t if the stored Version is
// t.Version, storing and returning it with Version+1, and replaces its
// facts and moves its index entries (into or out of the open indexes as
// it opens or finishes) in the same transaction. It returns
// store.ErrConflict when the ticket changed since t was read,
// store.ErrNotFound for an unknown ID.
func (s *Store) UpdateTicket(ctx context.Context, t store.Ticket) (store.Ticket, error) {
	if err := checkTicket(t); err != nil {
		return store.Ticket{}, fmt.Errorf("update ticket %s: %w", t.ID, err)
	}
	next := t
	next.Version = t.Version + 1
	body, err := json.Marshal(next)
	if err != nil {
		return store.Ticket{}, fmt.Errorf("update ticket %s: %w", t.ID, err)
	}
	facts, err := json.Marshal(store.FactsOf(next))
	if err != nil {
		return store.Ticket{}, fmt.Errorf("update ticket %s: %w", t.ID, err)
	}
	err = s.update(ctx, false, func(tx *bolt.Tx) error {
		b := bucket(tx, bucketTickets)
		v := b.Get([]byte(t.ID))
		if v == nil {
			return store.ErrNotFound
		}
		var cur store.Ticket
		if err := json.Unmarshal(v, &cur); err != nil {
			return fmt.Errorf("decode stored ticket: %w", err)
		}
		if cur.Version != t.Version {
			return fmt.Errorf("stored version %d, given %d: %w", cur.Version, t.Version, store.ErrConflict)
		}
		if err := putTicketIndexes(tx, cur, true); err != nil {
			return err
		}
		if err := putTicketIndexes(tx, next, false); err != nil {
			return err
		}
		if err := deleteFacts(tx, cur); err != nil {
			return err
		}
		if err := putFacts(tx, next, facts); err != nil {
			return err
		}
		return b.Put([]byte(t.ID), body)
	})
	if errors.Is(err, store.ErrNotFound) {
		return store.Ticket{}, store.ErrNotFound
	}
	if err != nil {
		return store.Ticket{}, fmt.Errorf("update ticket %s: %w", t.ID, err)
	}
	return next, nil
}

// ListTickets returns the tickets matching f, oldest first (by CreatedAt,
// then ID). It walks the index of f's owner, else citizen, else department
// — with OpenOnly the open one —, and checks the other fields on each
// ticket it finds there.
func (s *Store) ListTickets(ctx context.Context, f store.TicketFilter) ([]store.Ticket, error) {
	out, err := s.listTickets(ctx, f)
	if err != nil {
		return nil, fmt.Errorf("list tickets: %w", err)
	}
	return out, nil
}

func (s *Store) listTickets(ctx context.Context, f store.TicketFilter) ([]store.Ticket, error) {
	name, value, err := chooseIndex(f)
	if err != nil {
		return nil, err
	}
	var out []store.Ticket
	err = s.view(ctx, func(tx *bolt.Tx) error {
		out = nil
		tickets := bucket(tx, bucketTickets)
		return walkIndex(tx, name, value, func(id []byte) error {
			v := tickets.Get(id)
			if v == nil {
				return nil // cannot happen: ticket and entries change together
			}
			var t store.Ticket
			if err := json.Unmarshal(v, &t); err != nil {
				return fmt.Errorf("decode ticket %s: %w", id, err)
			}
			if matchTicket(t, f) {
				out = append(out, t)
			}
			return nil
		})
	})
	return out, err
}

// CountTickets returns how many tickets match f: len(ListTickets(f)). When
// one index answers f alone — f sets exactly one of owner, department and
// citizen — it counts that index's keys (the open index's with OpenOnly)
// and reads no ticket; any other filter is counted by listing.
func (s *Store) CountTickets(ctx context.Context, f store.TicketFilter) (int, error) {
	n, err := s.countTickets(ctx, f)
	if err != nil {
		return 0, fmt.Errorf("count tickets: %w", err)
	}
	return n, nil
}

func (s *Store) countTickets(ctx context.Context, f store.TicketFilter) (int, error) {
	name, value, err := chooseIndex(f)
	if err != nil {
		return 0, err
	}
	if !indexAlone(f) {
		ts, err := s.listTickets(ctx, f)
		return len(ts), err
	}
	var n int
	err = s.view(ctx, func(tx *bolt.Tx) error {
		n = 0
		return walkIndex(tx, name, value, func([]byte) error {
			n++
			return nil
		})
	})
	return n, err
}

// walkIndex calls fn with the ID of each entry of value in the index
// bucket name, oldest first; the ID points into bolt's memory.
func walkIndex(tx *bolt.Tx, name, value string, fn func(id []byte) error) error {
	prefix := append([]byte(value), 0)
	c := bucket(tx, name).Cursor()
	for k, _ := c.Seek(prefix); k != nil && bytes.HasPrefix(k, prefix); k, _ = c.Next() {
		if len(k) < len(prefix)+8 {
			return fmt.Errorf("index %s: malformed key %q", name, k)
		}
		if err := fn(k[len(prefix)+8:]); err != nil {
			return err
		}
	}
	return nil
}

// chooseIndex picks the index bucket ListTickets walks for f, the open
// one with OpenOnly, and the value to walk it for.
func chooseIndex(f store.TicketFilter) (string, string, error) {
	if err := checkIndexValues(f.Owner, f.Department, f.Citizen); err != nil {
		return "", "", err
	}
	probe := store.Ticket{Owner: f.Owner, Department: f.Department, CitizenOpenID: f.Citizen}
	for _, ix := range ticketIndexes() {
		if v := ix.value(probe); v != "" {
			if f.OpenOnly {
				return ix.open, v, nil
			}
			return ix.bucket, v, nil
		}
	}
	return "", "", errors.New("filter sets none of owner, department and citizen")
}

// indexAlone reports whether f sets exactly one of owner, department and
// citizen, so that the entries of one index are exactly its matches.
func indexAlone(f store.TicketFilter) bool {
	n := 0
	for _, v := range []string{f.Owner, f.Department, f.Citizen} {
		if v != "" {
			n++
		}
	}
	return n == 1
}

// matchTicket reports whether t satisfies every field f sets.
func matchTicket(t store.Ticket, f store.TicketFilter) bool {
	return (f.Owner == "" || t.Owner == f.Owner) &&
		(f.Department == "" || t.Department == f.Department) &&
		(f.Citizen == "" || t.CitizenOpenID == f.Citizen) &&
		(!f.OpenOnly || t.State.Open())
}
