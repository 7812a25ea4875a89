// Package store holds the records Huimin keeps and the errors its stores return.
// It does no I/O: the implementations live in store/redisstore (production) and
// store/boltstore (the embedded default), and store/storetest is the contract
// suite both must pass.
package store

import (
	"errors"
	"time"
)

// Sentinel errors that callers branch on with errors.Is.
var (
	// ErrNotFound is returned when a record does not exist or has expired.
	ErrNotFound = errors.New("not found")
	// ErrLeaseLost is returned by Ack and Retry when the item was claimed again
	// (its lease ran out and another worker took it) or no longer exists.
	ErrLeaseLost = errors.New("due item lease lost")
	// ErrReplayed is returned by BeginDelivery when the request's replay key
	// (its signed timestamp and nonce) was seen before: the request is a
	// copy, and nothing was recorded.
	ErrReplayed = errors.New("request replayed")
)

// Session is one citizen's (or officer's) conversation state. It expires when
// the person has been silent for longer than the configured resume window.
type Session struct {
	OpenID string `json:"openid"`
	// Flow names the running flow; empty when the person is at the main menu.
	Flow string `json:"flow,omitempty"`
	// Step names the current step inside Flow.
	Step string `json:"step,omitempty"`
	// Data holds the answers collected so far, by field name.
	Data map[string]string `json:"data,omitempty"`
	// Back is the stack of earlier steps, for the 返回 command.
	Back []string `json:"back,omitempty"`
	// HasTickets is set once the person has a ticket, so that the engine
	// looks for a ticket to relay their words to only then.
	HasTickets bool `json:"has_tickets,omitempty"`
	// Talking is the ticket whose officer the person is talking with: what
	// they send goes there until the ticket is finished or they turn to
	// the menu.
	Talking string `json:"talking,omitempty"`
	// NoBinding records that no officer binding existed for this account
	// when the session began, sparing a look-up per message; binding with
	// a code clears it.
	NoBinding bool `json:"no_binding,omitempty"`
	// BoundOfficer is, in a new session (LockSession found none), the ID of
	// the officer bound to the account, "" if none. It is not stored: a
	// new session also gets HasTickets from the person's tickets, so that
	// beginning a conversation needs no look-up of its own.
	BoundOfficer string `json:"-"`
	// OpenedBy is the source (chat.Event.Source) of the message that opened
	// the person's latest ticket: a redelivery of that message after its
	// answer was lost is answered with the ticket's number again, not
	// taken as a new choice from the menu.
	OpenedBy string `json:"opened_by,omitempty"`
	// SurveyComment is the ticket whose survey the person just rated in
	// chat: their next message is its comment.
	SurveyComment string `json:"survey_comment,omitempty"`
	// Window is the service window whose QR code the person scanned last:
	// the matters they open count under it.
	Window string `json:"window,omitempty"`
	// ConsentAt caches when the person agreed to the personal-information
	// notice (the store's durable record); ConsentChecked that the record
	// was looked for, so that a session reads it at most once.
	ConsentAt      time.Time `json:"consent_at,omitzero"`
	ConsentChecked bool      `json:"consent_checked,omitempty"`
	// RemindOffer is the service line whose reminder campaigns the person
	// was just offered (需要到期提醒吗？): their next message may answer it.
	// RemindName is the 称呼 they gave in that matter, recorded with the
	// subscription if they accept.
	RemindOffer string `json:"remind_offer,omitempty"`
	RemindName  string `json:"remind_name,omitempty"`
	// SeenSaved is when the person's LastSeen was last written for the
	// reminder campaigns: at most once an hour.
	SeenSaved time.Time `json:"seen_saved,omitzero"`
	// LastInbound is when the person last wrote to us; it bounds WeChat's
	// 48-hour customer-service window.
	LastInbound time.Time `json:"last_inbound"`
	UpdatedAt   time.Time `json:"updated_at"`
}

// Delivery records one inbound WeChat message or event by its de-duplication
// key, so that WeChat's retries of the same message get the same answer and
// cause no second action.
type Delivery struct {
	Key string `json:"key"`
	// Done is false while the first delivery is still being handled.
	Done bool `json:"done"`
	// Reply is the plaintext passive reply given to WeChat; empty means the
	// answer was "success" (nothing to say, or the reply goes out later
	// through the customer-service API).
	Reply     []byte    `json:"reply,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// Begun is what BeginConversation found: the delivery's record, and for
// a first delivery the sender's conversation as LockSession gives it.
type Begun struct {
	Delivery Delivery
	// First is true when this call recorded the delivery: the caller
	// handles it. Otherwise Delivery is the record found, and the
	// conversation was neither locked nor read.
	First bool
	// Session, Found and Locked are LockSession's results (for a first
	// delivery only): Locked is false when another owner held the lock.
	Session Session
	Found   bool
	Locked  bool
}

// DueItem is an entry in a due-queue: opaque Payload that becomes due at Due.
// Claim hands a due item to exactly one claimer and hides it for a lease;
// Attempt counts the claims and fences Ack and Retry against stale workers.
type DueItem struct {
	ID string `json:"id"`
	// Kind says what the item is (an outgoing message, a desk timer, …);
	// the runner hands it to the handler registered for its kind.
	Kind    string    `json:"kind,omitempty"`
	Due     time.Time `json:"due"`
	Payload []byte    `json:"payload"`
	// Attempt is 0 for an item never claimed; Claim returns it incremented.
	Attempt int `json:"attempt"`
}

// QueueStats describes a due-queue at a moment.
type QueueStats struct {
	// Total counts every item in the queue, leased or not.
	Total int64
	// Due counts items whose due time (or expired lease) is at or before now.
	Due int64
}

// OutcomeStatus is how an outbound message ended.
type OutcomeStatus string

// Outbound message outcomes.
const (
	OutcomeSent OutcomeStatus = "sent"
	// OutcomeOutOfWindow means WeChat refused with errcode 45015 (the person
	// has not written within 48 hours or has unfollowed) or 45047 (the
	// customer-service messages allowed since their last action are used
	// up). Callers choose another channel (template message, subscribe
	// notice, phone task).
	OutcomeOutOfWindow OutcomeStatus = "out_of_window"
	// OutcomeRejected means WeChat refused for good (an error code that no
	// retry will change, such as an invalid openid).
	OutcomeRejected OutcomeStatus = "rejected"
	// OutcomeFailed means every retry failed (WeChat unreachable or erroring).
	OutcomeFailed OutcomeStatus = "failed"
)

// Outcome is the recorded end of one outbound message, by message ID.
type Outcome struct {
	MessageID string        `json:"message_id"`
	Status    OutcomeStatus `json:"status"`
	// ErrCode is WeChat's errcode when it refused, else 0.
	ErrCode  int       `json:"errcode,omitempty"`
	Detail   string    `json:"detail,omitempty"`
	Attempts int       `json:"attempts"`
	At       time.Time `json:"at"`
}

// A consent is a citizen's agreement to the personal-information notice
// (个人信息保护法): the time they agreed, by openid. It never expires, unlike
// a session: agreeing once is enough for every later conversation, and the
// record is the proof that they agreed. The stores keep the first time
// recorded; recording again changes nothing.
