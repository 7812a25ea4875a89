package storetest

import (
	"errors"
	"testing"
	"time"
)

// refTime is the suite's reference time, t0 in the tests. It is a whole
// second so that every backend, whatever its time resolution, round-trips it
// exactly.
func refTime() time.Time { return time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC) }

// Run runs the contract suite against fresh stores from h. Every subtest
// gets its own store.
func Run(t *testing.T, h Harness) {
	t.Run("Ping", func(t *testing.T) {
		s := h.New(t)
		if err := s.Ping(t.Context()); err != nil {
			t.Fatalf("Ping() = %v, want nil", err)
		}
	})
	t.Run("Session", func(t *testing.T) { testSession(t, h) })
	t.Run("SessionLock", func(t *testing.T) { testSessionLock(t, h) })
	t.Run("Delivery", func(t *testing.T) { testDelivery(t, h) })
	t.Run("BeginConversation", func(t *testing.T) { testBeginConversation(t, h) })
	t.Run("Cache", func(t *testing.T) { testCache(t, h) })
	t.Run("TakeCache", func(t *testing.T) { testTakeCache(t, h) })
	t.Run("Lock", func(t *testing.T) { testLock(t, h) })
	t.Run("Outcome", func(t *testing.T) { testOutcome(t, h) })
	t.Run("Expiry", func(t *testing.T) { testExpiry(t, h) })
	t.Run("NonPositiveTTL", func(t *testing.T) { testNonPositiveTTL(t, h) })
	t.Run("Queue", func(t *testing.T) { testQueue(t, h) })
	t.Run("QueueKind", func(t *testing.T) { testQueueKind(t, h) })
	t.Run("Seq", func(t *testing.T) { testSeq(t, h) })
	t.Run("Ticket", func(t *testing.T) { testTicket(t, h) })
	t.Run("OpenIndex", func(t *testing.T) { testOpenIndex(t, h) })
	t.Run("Facts", func(t *testing.T) { testFacts(t, h) })
	t.Run("Binding", func(t *testing.T) { testBinding(t, h) })
	t.Run("BindCode", func(t *testing.T) { testBindCode(t, h) })
	t.Run("UserFacts", func(t *testing.T) { testUserFacts(t, h) })
	t.Run("Consent", func(t *testing.T) { testConsent(t, h) })
	t.Run("Subscription", func(t *testing.T) { testSubscription(t, h) })
	t.Run("Tally", func(t *testing.T) { testTally(t, h) })
	t.Run("Concurrency", func(t *testing.T) { testConcurrency(t, h) })
}

// check fails the test at once when err is not nil.
func check(t *testing.T, what string, err error) {
	t.Helper()
	if err != nil {
		t.Fatalf("%s: unexpected error: %v", what, err)
	}
}

// wantErr fails the test unless errors.Is(err, want).
func wantErr(t *testing.T, what string, err, want error) {
	t.Helper()
	if !errors.Is(err, want) {
		t.Fatalf("%s: got error %v, want %v", what, err, want)
	}
}
