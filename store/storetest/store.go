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
	// LockSession takes openID's conversation lock for owner (for ttl; free,
	// or already owner's) and reads the session in the same step. locked is
	// false when another owner holds the lock (s is then zero); found is
	// false when there is no session, and s then carries the account's
	// facts: HasTickets (the person has a ticket) and BoundOfficer (the
	// officer bound to the account, as UserFacts tells).
	LockSession(ctx context.Context, openID, owner string, ttl time.Duration) (s store.Session, found, locked bool, err error)
	// SaveSessionUnlock writes s (expiring after ttl) and frees the
	// conversation lock if owner still holds it, in one step.
	SaveSessionUnlock(ctx context.Context, s store.Session, ttl time.Duration, owner string) error
	// UnlockSession frees openID's conversation lock if owner holds it.
	UnlockSession(ctx context.Context, openID, owner string) error

	// BeginDelivery records key as being handled. first is true for the one
	// caller that created the record; every other caller gets the existing
	// record and first=false. The record expires after ttl. replay, when
	// not empty, identifies the request itself (its signed timestamp and
	// nonce) and is remembered for ttl as well: a request whose replay key
	// was seen before gets store.ErrReplayed, and nothing is recorded.
	BeginDelivery(ctx context.Context, key, replay string, ttl time.Duration) (d store.Delivery, first bool, err error)
	// BeginConversation is BeginDelivery and, for a first delivery,
	// LockSession, in one step (Begun holds both results). A delivery
	// seen before (First false, or store.ErrReplayed) leaves the
	// conversation lock as it was and reads no session.
	BeginConversation(ctx context.Context, key, replay string, dedupTTL time.Duration, openID, owner string, lockTTL time.Duration) (store.Begun, error)
	// EndConversation is SaveSessionUnlock and FinishDelivery (d, kept for
	// dedupTTL) in one step: the conversation a delivery began is saved
	// together with the answer WeChat's retries of it get.
	EndConversation(ctx context.Context, s store.Session, ttl time.Duration, owner string, d store.Delivery, dedupTTL time.Duration) error
	// FinishDelivery stores d, as BeginDelivery returned it and with its
	// passive reply (may be empty) set, as done, and keeps it for ttl.
	FinishDelivery(ctx context.Context, d store.Delivery, ttl time.Duration) error
	// ForgetDelivery removes key's record, so that the next BeginDelivery
	// is first again: for a delivery that was refused after it began.
	ForgetDelivery(ctx context.Context, key string) error
	// GetDelivery returns store.ErrNotFound when key is unknown or expired.
	GetDelivery(ctx context.Context, key string) (store.Delivery, error)

	// GetCache, SetCache and DeleteCache are a small shared string cache
	// (the WeChat access token lives here). GetCache returns store.ErrNotFound.
	GetCache(ctx context.Context, key string) (string, error)
	// TakeCache returns the value and deletes it in one step: of callers
	// racing for one key exactly one gets it (a one-time login link);
	// store.ErrNotFound for a missing or expired key.
	TakeCache(ctx context.Context, key string) (string, error)
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
	// NextDue returns when the earliest item becomes claimable (its due
	// time, or the end of its lease); ok is false for an empty queue.
	NextDue(ctx context.Context, queue string) (next time.Time, ok bool, err error)

	// PutOutcome records how an outbound message ended; it expires after ttl.
	PutOutcome(ctx context.Context, o store.Outcome, ttl time.Duration) error
	// GetOutcome returns store.ErrNotFound when none is recorded.
	GetOutcome(ctx context.Context, messageID string) (store.Outcome, error)

	// NextSeq atomically increments the named counter and returns the new
	// value (1 for a new counter). Counters never expire unless ttl > 0,
	// in which case the counter expires ttl after its creation.
	NextSeq(ctx context.Context, name string, ttl time.Duration) (int64, error)

	// CreateTicket stores a new ticket with Version 1 (the given Version is
	// ignored); store.ErrExists when the ID is taken.
	CreateTicket(ctx context.Context, t store.Ticket) error
	// GetTicket returns store.ErrNotFound for an unknown ID.
	GetTicket(ctx context.Context, id string) (store.Ticket, error)
	// UpdateTicket replaces the ticket if its stored Version equals
	// t.Version, storing it with Version+1 and keeping the indexes for
	// ListTickets right (owner, department and citizen may change);
	// store.ErrConflict otherwise, store.ErrNotFound for an unknown ID.
	// It returns the stored ticket.
	UpdateTicket(ctx context.Context, t store.Ticket) (store.Ticket, error)
	// ListTickets returns the tickets matching f, oldest first (by CreatedAt,
	// then ID), using an index of the given owner/department/citizen — not
	// a scan of every ticket — and with OpenOnly, once the backend has
	// built it, one of the open tickets alone, not every ticket of that
	// owner/department/citizen.
	ListTickets(ctx context.Context, f store.TicketFilter) ([]store.Ticket, error)
	// CountTickets returns len(ListTickets(f)). When f sets exactly one of
	// owner, department and citizen, with or without OpenOnly, it reads an
	// index kept in the same step as each write — with OpenOnly, once the
	// backend has built it, the open tickets' own — and no ticket: routing
	// counts an officer's open tickets beside a year of finished ones.
	CountTickets(ctx context.Context, f store.TicketFilter) (int, error)
	// TicketFacts calls fn with the facts (store.FactsOf, as of the
	// ticket's latest write) of every ticket received (CreatedAt) in
	// [from, to), oldest first (by CreatedAt, then ID), reading an index
	// by time kept in the same step as each write — not a scan of every
	// ticket. It stops at fn's first error and returns it unwrapped.
	TicketFacts(ctx context.Context, from, to time.Time, fn func(store.Facts) error) error

	// BindOfficer links a WeChat (or WeCom) user ID to an officer ID,
	// replacing an earlier binding of that user ID.
	BindOfficer(ctx context.Context, userID, officerID string) error
	// OfficerByUser returns the officer bound to userID, store.ErrNotFound if none.
	OfficerByUser(ctx context.Context, userID string) (string, error)
	// UserOfOfficer returns the user ID most recently bound to officerID,
	// store.ErrNotFound if none.
	UserOfOfficer(ctx context.Context, officerID string) (string, error)
	// UserFacts returns, in one step, the officer bound to userID ("" if
	// none) and whether userID is the citizen of any ticket.
	UserFacts(ctx context.Context, userID string) (officerID string, hasTickets bool, err error)
	// PutBindCode stores a one-time code for officerID, expiring after ttl;
	// store.ErrExists if the code is taken.
	PutBindCode(ctx context.Context, code, officerID string, ttl time.Duration) error
	// TakeBindCode returns the code's officer ID and deletes the code in
	// the same step (a code works once); store.ErrNotFound if unknown or expired.
	TakeBindCode(ctx context.Context, code string) (string, error)

	// RecordConsent records that openID agreed to the personal-information
	// notice at at, unless an agreement is on record already, and returns
	// the time on record (the first). The record never expires.
	RecordConsent(ctx context.Context, openID string, at time.Time) (time.Time, error)
	// ConsentOf returns when openID agreed, store.ErrNotFound if never.
	ConsentOf(ctx context.Context, openID string) (time.Time, error)
	// WithdrawConsent forgets openID's agreement (the citizen withdrew it)
	// and reports whether there was one; the next agreement is recorded
	// anew, with its own time.
	WithdrawConsent(ctx context.Context, openID string) (bool, error)
	// Subscribe opts openID in to campaigns at at, in one step: a campaign
	// already subscribed keeps its first time, name (when not empty)
	// replaces the recorded 称呼, and LastSeen becomes at if later. It
	// returns the stored record.
	Subscribe(ctx context.Context, openID, name string, campaigns []string, at time.Time) (store.Subscriber, error)
	// Unsubscribe removes openID from every campaign and forgets the
	// record, in one step, and returns the campaign IDs removed, sorted
	// (nil when there were none).
	Unsubscribe(ctx context.Context, openID string) ([]string, error)
	// Subscription returns openID's record, store.ErrNotFound if none.
	Subscription(ctx context.Context, openID string) (store.Subscriber, error)
	// Subscribers returns up to limit subscribers of campaign whose OpenID
	// sorts after after ("" for the first), in OpenID order: a cursor that
	// stays valid while people subscribe and unsubscribe.
	Subscribers(ctx context.Context, campaign, after string, limit int) ([]store.Subscriber, error)
	// Seen moves openID's LastSeen to at if later; nothing for someone
	// not subscribed.
	Seen(ctx context.Context, openID string, at time.Time) error
	// Tally adds n to field of the tally name, once per key, and returns
	// the tally's fields and whether key was new, in one step; the tally
	// expires ttl after its last change.
	Tally(ctx context.Context, name, key, field string, n int64, ttl time.Duration) (counts map[string]int64, first bool, err error)
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
