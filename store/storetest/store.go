// Package storetest is the contract suite that every store implementation
// must pass. Each backend's own test file calls Run with a Harness.
package storetest

import (
	"context"
	"time"

	"huimin/store"
)

// Store is the whole surface a backend provides. Consumers never use this
// interface: they declare the few methods they call, next to their code.
type Store interface {
	// Ping reports whether the backend is reachable.
	Ping(ctx context.Context) error
	Close() error

	// GetSession returns store.ErrNotFound when there is none or it expired.
	GetSession(ctx context.Context, openID string) (store.Session, error)
	// PutSession stores s under s.OpenID; it expires ttl after this call.
	PutSession(ctx context.Context, s store.Session, ttl time.Duration) error
	DeleteSession(ctx context.Context, openID string) error

	// BeginDelivery records key as being handled. first is true for the one
	// caller that created the record; every other caller gets the existing
	// record and first=false. The record expires after ttl.
	BeginDelivery(ctx context.Context, key string, ttl time.Duration) (d store.Delivery, first bool, err error)
	// FinishDelivery marks key done with the given passive reply (may be empty).
	FinishDelivery(ctx context.Context, key string, reply []byte, ttl time.Duration) error
	// GetDelivery returns store.ErrNotFound when key is unknown or expired.
	GetDelivery(ctx context.Context, key string) (store.Delivery, error)

	// GetCache, SetCache and DeleteCache are a small shared string cache
	// (the WeChat access token lives here). GetCache returns store.ErrNotFound.
	GetCache(ctx context.Context, key string) (string, error)
	SetCache(ctx context.Context, key, value string, ttl time.Duration) error
	DeleteCache(ctx context.Context, key string) error

	// AcquireLock takes the named lock for owner for ttl; false when someone
	// else holds it. Taking a lock one already holds extends it.
	AcquireLock(ctx context.Context, name, owner string, ttl time.Duration) (bool, error)
	// ReleaseLock frees the lock only if owner holds it.
	ReleaseLock(ctx context.Context, name, owner string) error

	// Schedule adds it to queue unless an item with it.ID is already there;
	// added reports which. O(log n).
	Schedule(ctx context.Context, queue string, it store.DueItem) (added bool, err error)
	// Claim atomically takes up to limit items whose due time is <= now,
	// earliest first, hides each until now+lease, increments its Attempt and
	// returns them. Concurrent claimers never get the same item for the
	// same lease. One round trip to the backend.
	Claim(ctx context.Context, queue string, now time.Time, limit int, lease time.Duration) ([]store.DueItem, error)
	// Ack removes a claimed item. It returns store.ErrLeaseLost when the
	// item's Attempt is no longer attempt (claimed again) or it is gone.
	Ack(ctx context.Context, queue, id string, attempt int) error
	// Retry makes a claimed item due again at due (ending its lease), under
	// the same fencing rule as Ack.
	Retry(ctx context.Context, queue, id string, attempt int, due time.Time) error
	// Cancel removes an item whatever its state; unknown IDs are no error.
	Cancel(ctx context.Context, queue, id string) error
	// QueueStats counts the queue's items and those due at now.
	QueueStats(ctx context.Context, queue string, now time.Time) (store.QueueStats, error)

	// PutOutcome records how an outbound message ended; it expires after ttl.
	PutOutcome(ctx context.Context, o store.Outcome, ttl time.Duration) error
	// GetOutcome returns store.ErrNotFound when none is recorded.
	GetOutcome(ctx context.Context, messageID string) (store.Outcome, error)
}

// Harness gives the suite a fresh, empty store and a way to let time pass
// for the store's expiries (sessions, deliveries, cache, locks, outcomes).
type Harness struct {
	// New returns a fresh empty store, isolated from every other call's.
	New func(t TB) Store
	// Advance makes d pass for the expiries of s's records. Due-queue times
	// are explicit arguments and need no Advance.
	Advance func(t TB, s Store, d time.Duration)
}

// TB is the part of testing.TB the harness needs.
type TB interface {
	Helper()
	Fatalf(format string, args ...any)
	Cleanup(func())
	Name() string
	TempDir() string
}
