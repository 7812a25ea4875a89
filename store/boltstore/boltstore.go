// Package boltstore is the embedded store: one go.etcd.io/bbolt file, no
// server to run. It is the default when no Redis is configured.
//
// Every record that expires carries its expiry time in front of its value
// and is treated as missing once the injected clock reaches it; PurgeExpired
// reclaims the space. Each kind of record has its own bucket; the due-queues
// live in nested buckets under "queues" (see queue.go), and tickets keep
// index buckets beside their own (see ticket.go).
//
// Writes are fsynced before they return (bolt's default), because an
// accepted message or follow-up must survive a crash. What lives only
// while this process does is in memory: locks, and deliveries still being
// handled (see delivery.go).
package boltstore

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"hash/maphash"
	"math"
	"sync"
	"sync/atomic"
	"time"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

const (
	// openTimeout bounds the wait for bolt's exclusive file lock, so a second
	// process pointed at the same file fails at start-up instead of hanging.
	openTimeout = time.Second
	// crowd is how many batched writes in flight make a crowd: past it, a
	// write joins bolt's own timed batch (DB.Batch, waiting up to
	// crowdDelay for company), whose larger transactions cost less CPU per
	// write when hundreds of messages are in flight; below it the group
	// committer commits at once. Load generator, plain mode: 256
	// connections 7,993–9,769 req/s with bolt's batch against 6,370–8,304
	// with the committer alone; 32 connections 2,369–2,500 against
	// 5,799–6,771.
	crowd = 64
	// crowdDelay is bolt's batch delay for a crowd: every commit costs two
	// fdatasyncs, so fewer and larger batches win (1ms gave 2,250 req/s,
	// 3ms 5,700, 6ms 7,100 and 10ms 7,400 at 256 connections).
	crowdDelay = 10 * time.Millisecond
)

// Top-level bucket names, one per kind of record.
const (
	bucketSessions   = "sessions"
	bucketDeliveries = "deliveries"
	bucketCache      = "cache"
	bucketOutcomes   = "outcomes"
	bucketQueues     = "queues"
	bucketSeqs       = "seqs"
	bucketBindCodes  = "bind_codes"
	// bucketOfficerByUser maps a user ID to its officer ID, and
	// bucketUserByOfficer an officer ID to the user ID last bound to it.
	bucketOfficerByUser = "officer_by_user"
	bucketUserByOfficer = "user_by_officer"
	bucketTickets       = "tickets"
	bucketByOwner       = "tickets_by_owner"
	bucketByDepartment  = "tickets_by_department"
	bucketByCitizen     = "tickets_by_citizen"
	// bucketTicketFacts is the results index (see facts.go), and the
	// open buckets the open tickets' indexes (see openindex.go); New
	// creates them apart from the others, since it fills them as it
	// creates them.
	bucketTicketFacts      = "ticket_facts"
	bucketOpenByOwner      = "tickets_open_by_owner"
	bucketOpenByDepartment = "tickets_open_by_department"
	bucketOpenByCitizen    = "tickets_open_by_citizen"
	// bucketMeta holds facts about the file itself, such as the versions
	// of the facts index and of the open indexes.
	bucketMeta = "meta"
	// bucketConsents holds the citizens' agreements to the personal
	// information notice (see consent.go).
	bucketConsents = "consents"
)

// expiringBuckets lists the buckets whose values start with an expiry time.
func expiringBuckets() []string {
	return []string{bucketSessions, bucketDeliveries, bucketCache, bucketOutcomes, bucketSeqs, bucketBindCodes}
}

// lastingBuckets lists the other top-level buckets, whose records stay
// until they are deleted.
func lastingBuckets() []string {
	return append([]string{bucketQueues, bucketOfficerByUser, bucketUserByOfficer, bucketTickets, bucketByOwner, bucketByDepartment, bucketByCitizen, bucketMeta, bucketConsents},
		subscriptionBuckets()...)
}

// bucket returns a top-level bucket, which New created.
func bucket(tx *bolt.Tx, name string) *bolt.Bucket {
	return tx.Bucket([]byte(name))
}

// Options are the optional knobs of New. The zero value works.
type Options struct {
	// Now is the clock used for expiries and delivery times; nil means
	// time.Now. Due-queue methods take their time as an argument instead.
	Now func() time.Time
}

// Store is a bolt-backed store. It is safe for concurrent use; bolt itself
// serialises writers.
type Store struct {
	db  *bolt.DB
	now func() time.Time

	locksMu      sync.Mutex
	locks        map[string]memLock
	locksSweepAt int

	// pending holds deliveries being handled (see delivery.go).
	pendingMu      sync.Mutex
	pending        map[string]pendingDelivery
	pendingSweepAt int
	// replays holds the replay keys of recent requests, hashed with
	// replaySeed, under pendingMu.
	replays        map[replayHash]seenRequest
	replaysSweepAt int
	replaySeed     maphash.Seed

	// commits runs the batched writes (see update); writers counts those
	// in flight.
	commits *groupCommit
	writers atomic.Int64

	// stopTrim ends the trimmer (see trim.go), which trimmed waits for.
	stopTrim  chan struct{}
	trimmed   sync.WaitGroup
	closeOnce sync.Once
}

// New opens (creating if needed) the bolt file at path. It fails after about
// a second when another process holds the file.
func New(path string, opts Options) (*Store, error) {
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	db, err := bolt.Open(path, 0o600, &bolt.Options{
		Timeout: openTimeout,
		// The freelist is rebuilt from the pages when the file is opened
		// instead of being written on every commit: fewer pages per fsync,
		// a slightly slower open, and no loss of durability.
		NoFreelistSync: true,
		// The map freelist allocates in O(1) where the array one scans;
		// it matters once churn from expiring records fragments the file.
		FreelistType: bolt.FreelistMapType,
	})
	if errors.Is(err, bolterrors.ErrTimeout) {
		return nil, fmt.Errorf("open bolt store %s: file is locked by another process (waited %v): %w", path, openTimeout, err)
	}
	if err != nil {
		return nil, fmt.Errorf("open bolt store %s: %w", path, err)
	}
	err = db.Update(func(tx *bolt.Tx) error {
		for _, name := range append(expiringBuckets(), lastingBuckets()...) {
			if _, err := tx.CreateBucketIfNotExists([]byte(name)); err != nil {
				return fmt.Errorf("bucket %s: %w", name, err)
			}
		}
		if err := createFacts(tx); err != nil {
			return err
		}
		return createOpenIndexes(tx)
	})
	if err != nil {
		_ = db.Close() // the create error is the one worth reporting
		return nil, fmt.Errorf("open bolt store %s: create buckets: %w", path, err)
	}
	db.MaxBatchDelay = crowdDelay
	s := &Store{db: db, now: now, locks: map[string]memLock{}, pending: map[string]pendingDelivery{}, replays: map[replayHash]seenRequest{},
		replaySeed: maphash.MakeSeed(), commits: newGroupCommit(db), stopTrim: make(chan struct{})}
	s.trimmed.Go(func() { s.trimmer(s.stopTrim) })
	return s, nil
}

// Close closes the bolt file. Calling it again is a no-op.
//
// It writes the freelist first, which the store otherwise leaves out of
// its commits (NoFreelistSync): without it, the next New rebuilds the
// freelist by reading every page of the file, which maps the whole file
// into the resident set (a 253 MB file: 0.5–0.8 s and 249 MiB resident;
// with the freelist, 7 ms and under 3 MiB). A crash skips this, and the
// next start rebuilds the freelist as before.
func (s *Store) Close() error {
	var err error
	s.closeOnce.Do(func() {
		close(s.stopTrim)
		s.trimmed.Wait()
		s.commits.close()
		err = s.db.Update(func(*bolt.Tx) error {
			// Under the writer's lock: no other commit reads the flag.
			s.db.NoFreelistSync = false
			return nil
		})
		if errors.Is(err, bolterrors.ErrDatabaseNotOpen) {
			err = nil
		}
		err = errors.Join(err, s.db.Close())
	})
	if err != nil {
		return fmt.Errorf("close bolt store: %w", err)
	}
	return nil
}

// Ping reports whether the file is open.
func (s *Store) Ping(ctx context.Context) error {
	if err := ctx.Err(); err != nil {
		return fmt.Errorf("ping bolt store: %w", err)
	}
	if err := s.db.View(func(*bolt.Tx) error { return nil }); err != nil {
		return fmt.Errorf("ping bolt store: %w", err)
	}
	return nil
}

// PurgeExpired deletes every expired session, delivery, cache entry, lock,
// outcome, sequence counter and bind code, and returns how many it deleted. Reads already ignore expired
// records; this only gives the space back. Call it from cron.
func (s *Store) PurgeExpired(ctx context.Context) (int, error) {
	if err := ctx.Err(); err != nil {
		return 0, fmt.Errorf("purge expired: %w", err)
	}
	var n int
	err := s.db.Update(func(tx *bolt.Tx) error {
		n = 0
		now := s.now()
		for _, name := range expiringBuckets() {
			b := bucket(tx, name)
			// Collect first: deleting while a cursor walks can skip keys.
			var dead [][]byte
			err := b.ForEach(func(k, v []byte) error {
				if _, ok := live(v, now); !ok {
					dead = append(dead, k)
				}
				return nil
			})
			if err != nil {
				return err
			}
			for _, k := range dead {
				if err := b.Delete(k); err != nil {
					return fmt.Errorf("delete %s/%q: %w", name, k, err)
				}
			}
			n += len(dead)
		}
		tallies, err := purgeTallies(tx, now)
		n += tallies
		return err
	})
	if err != nil {
		return 0, fmt.Errorf("purge expired: %w", err)
	}
	s.pendingMu.Lock()
	n += sweepExpired(s.pending, &s.pendingSweepAt, s.now(), true)
	n += sweepExpired(s.replays, &s.replaysSweepAt, s.now(), true)
	s.pendingMu.Unlock()
	return n, nil
}

// update runs fn in one read-write transaction. With batch set, the
// transaction is shared with the batched writes queued at the same time
// (groupCommit: one commit, one fsync pair, for all of them; in a crowd,
// bolt's timed batch), and fn must be safe to run more than once, setting
// afresh whatever it reports.
// Batching is for the writes every inbound message makes (deliveries and
// sessions), which arrive in concurrent bursts; queue, lock, cache and
// outcome writes are rarer and use a plain Update.
func (s *Store) update(ctx context.Context, batch bool, fn func(tx *bolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if !batch {
		return s.db.Update(fn)
	}
	n := s.writers.Add(1)
	defer s.writers.Add(-1)
	if n > crowd {
		return s.db.Batch(fn)
	}
	return s.commits.do(fn)
}

// view runs fn in a read-only transaction.
func (s *Store) view(ctx context.Context, fn func(tx *bolt.Tx) error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	return s.db.View(fn)
}

// An expiring value is the big-endian unix nanoseconds of its expiry
// followed by the record's bytes.
const expiryLen = 8

// neverExpires is the expiry of a record in an expiring bucket that does
// not expire (a sequence counter without a ttl): no clock reaches it.
const neverExpires = math.MaxInt64

// envelope prefixes body with its expiry time.
func envelope(expires time.Time, body []byte) []byte {
	return envelopeNanos(expires.UnixNano(), body)
}

// envelopeNanos prefixes body with an expiry in unix nanoseconds.
func envelopeNanos(expires int64, body []byte) []byte {
	v := make([]byte, expiryLen+len(body))
	binary.BigEndian.PutUint64(v, uint64(expires))
	copy(v[expiryLen:], body)
	return v
}

// live returns the record inside v and whether it is still alive at now.
// A record expires at its expiry time, as a Redis key with the same TTL does.
// The returned slice points into bolt's memory: use it inside the transaction.
func live(v []byte, now time.Time) ([]byte, bool) {
	if len(v) < expiryLen {
		return nil, false
	}
	expires := int64(binary.BigEndian.Uint64(v))
	if now.UnixNano() >= expires {
		return nil, false
	}
	return v[expiryLen:], true
}

// checkTTL rejects a TTL that would make a record dead on arrival.
func checkTTL(ttl time.Duration) error {
	if ttl <= 0 {
		return fmt.Errorf("ttl %v is not positive", ttl)
	}
	return nil
}
