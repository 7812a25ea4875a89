package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"huimin/bot/wechat"
	"huimin/bot/wxapi"
	"huimin/store"
)

// OutboxQueue is the due-queue that holds outbound messages.
const OutboxQueue = "outbox"

// Outgoing kinds.
const (
	OutText     = "text"
	OutMenu     = "menu"
	OutTemplate = "template"
	OutNotice   = "notice"
	// OutImage is a customer-service image message (MediaID).
	OutImage = "image"
	// OutWeComText is a WeCom application text message to a staff member.
	OutWeComText = "wecom_text"
	// OutWeComCard is a WeCom text card: Text as its title and
	// description, a button opening URL (a picture a citizen sent).
	OutWeComCard = "wecom_card"
)

// Outgoing is one message waiting in the outbox.
type Outgoing struct {
	// ID identifies the message; enqueueing the same ID twice sends it once.
	ID    string            `json:"id"`
	Kind  string            `json:"kind"`
	To    string            `json:"to"`
	Text  string            `json:"text,omitempty"`
	Items []wechat.MenuItem `json:"items,omitempty"`
	Tail  string            `json:"tail,omitempty"`
	// MediaID is an image message's picture; URL a card's link.
	MediaID string `json:"media_id,omitempty"`
	URL     string `json:"url,omitempty"`
	// Template and Notice carry template messages and subscribe notices.
	Template *wechat.Template `json:"template,omitempty"`
	Notice   *wechat.Notice   `json:"notice,omitempty"`
	// Fallback is sent as a template message instead when WeChat refuses a
	// customer-service message because the person is outside the 48-hour
	// window (45015).
	Fallback *wechat.Template `json:"fallback,omitempty"`
	// Ref links the message to what caused it (an inbound message, a ticket).
	Ref string `json:"ref,omitempty"`
	// Officer and Ticket say whom a desk notice was for and what it was
	// about, for when no channel delivers it (see Undelivered).
	Officer   string    `json:"officer,omitempty"`
	Ticket    string    `json:"ticket,omitempty"`
	CreatedAt time.Time `json:"created_at"`
}

// Sender delivers messages to WeChat; *wechat.Client satisfies it.
type Sender interface {
	SendText(ctx context.Context, to, text string) error
	SendImage(ctx context.Context, to, mediaID string) error
	SendMenu(ctx context.Context, to, head string, items []wechat.MenuItem, tail string) error
	SendTemplate(ctx context.Context, t wechat.Template) (int64, error)
	SendNotice(ctx context.Context, n wechat.Notice) error
}

// final reports whether a send error is one no retry can change: the API's
// own errcode refusal that is not temporary (WeChat's or WeCom's), or a
// message that can never be sent. Everything else — a dropped, refused,
// reset or timed-out connection, an HTTP 5xx — is temporary and retried.
// A refused access token is retried too: the client has already refreshed
// it once, and a second refusal (another instance forced a refresh in
// between) says nothing about the message. (Transport errors must not be
// read as refusals through a Temporary method: *url.Error has one, false
// for a plain EOF.)
func final(err error) bool {
	if e, ok := errors.AsType[*wxapi.Error](err); ok {
		return !e.Temporary() && !e.TokenRejected()
	}
	_, ok := errors.AsType[unsendable](err)
	return ok
}

// unsendable is a message the outbox can never send (a malformed message,
// a channel that is not configured): final, like a refusal.
type unsendable string

func (u unsendable) Error() string { return "cannot send: " + string(u) }

// WeComSender delivers application messages to staff on WeCom.
type WeComSender interface {
	SendText(ctx context.Context, userID, text string) error
	SendTextCard(ctx context.Context, userID, title, description, url, btnText string) error
}

// OutcomeStore records how each outbound message ended.
type OutcomeStore interface {
	PutOutcome(ctx context.Context, o store.Outcome, ttl time.Duration) error
	GetOutcome(ctx context.Context, messageID string) (store.Outcome, error)
}

// OutboxOptions tunes the outbox; the zero value works.
type OutboxOptions struct {
	// Workers sends to this many recipients in parallel (default 4).
	Workers     int
	MaxAttempts int           // default 12
	Lease       time.Duration // default 30s
	Poll        time.Duration // default 1s
	MaxBackoff  time.Duration // default 10m
	// OutcomeTTL is how long outcomes are kept (default 7 days).
	OutcomeTTL time.Duration
	Now        func() time.Time
	// OnOutcome, when set, is told how every message ended, so that a
	// caller can pick another channel after OutcomeOutOfWindow.
	OnOutcome func(ctx context.Context, m Outgoing, o store.Outcome)
	// WeCom sends OutWeComText messages; without it they are refused.
	WeCom WeComSender
}

// KindOutgoing is the runner's kind for the outbox's messages.
const KindOutgoing Kind = "outbox.message"

// Outbox stores outbound messages durably and sends them with retries.
// A message is enqueued once (by ID) and acknowledged only after WeChat
// accepted or finally refused it, so a crash or a WeChat outage loses
// nothing; a crash in the instant between WeChat's answer and the
// acknowledgement is the one case that can send a message twice.
type Outbox struct {
	runner  *Runner
	out     OutcomeStore
	send    Sender
	log     *slog.Logger
	opts    OutboxOptions
	metrics *Metrics
	sent    recentlySent
}

// recentlySent remembers, in memory, the messages this process has had
// accepted by WeChat: written the instant WeChat answers, before anything
// that can fail (the outcome and the acknowledgement both go to the
// store). When the store fails in between, the item comes back to this
// process after its lease and is not sent again; only a crash in that
// same moment can still double a customer-service message, which WeChat
// offers no way to de-duplicate (template messages carry client_msg_id).
type recentlySent struct {
	mu  sync.Mutex
	ids map[string]time.Time // message ID → when it may be forgotten
	// sweepAt is the size at which add next drops the forgotten: twice
	// what was left after the last sweep, so that a busy hour (more than
	// minSentSweep messages) does not rescan the map on every send.
	sweepAt int
}

// minSentSweep is the fewest remembered messages worth a sweep.
const minSentSweep = 4096

// sentMemory is how long a sent message is remembered: far longer than a
// lease, and an outbox retry's backoff, take.
const sentMemory = time.Hour

func (r *recentlySent) add(id string, now time.Time) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ids == nil {
		r.ids = map[string]time.Time{}
	}
	if len(r.ids) >= max(r.sweepAt, minSentSweep) {
		for k, until := range r.ids {
			if now.After(until) {
				delete(r.ids, k)
			}
		}
		r.sweepAt = 2 * len(r.ids)
	}
	r.ids[id] = now.Add(sentMemory)
}

func (r *recentlySent) has(id string, now time.Time) bool {
	r.mu.Lock()
	defer r.mu.Unlock()
	until, ok := r.ids[id]
	return ok && now.Before(until)
}

// NewOutbox returns an outbox whose messages are sent by the runner r:
// its queue, OutboxQueue, is claimed a few recipients' worth at a time and
// sent to Workers recipients in parallel, each recipient's messages in
// order.
func NewOutbox(r *Runner, out OutcomeStore, send Sender, m *Metrics, log *slog.Logger, opts OutboxOptions) *Outbox {
	if opts.Workers <= 0 {
		opts.Workers = 4
	}
	if opts.MaxAttempts <= 0 {
		opts.MaxAttempts = 12
	}
	if opts.Lease <= 0 {
		opts.Lease = 30 * time.Second
	}
	if opts.Poll <= 0 {
		opts.Poll = time.Second
	}
	if opts.MaxBackoff <= 0 {
		opts.MaxBackoff = 10 * time.Minute
	}
	if opts.OutcomeTTL <= 0 {
		opts.OutcomeTTL = 7 * 24 * time.Hour
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	o := &Outbox{runner: r, out: out, send: send, log: log.With("component", "outbox"), opts: opts, metrics: m}
	r.Register(Queue{
		Name: OutboxQueue, Batch: 4 * opts.Workers, Lease: opts.Lease, Poll: opts.Poll,
		Workers: opts.Workers, Serial: recipient, Default: KindOutgoing,
	}, Handler{
		Kind: KindOutgoing, Do: o.deliver, GiveUp: o.failed,
		Retry: Retry{MaxAttempts: opts.MaxAttempts, Max: opts.MaxBackoff},
	})
	return o
}

// Enqueue stores messages for sending now. A message whose ID is already
// in the outbox, or was already sent or refused, is not added again.
func (o *Outbox) Enqueue(ctx context.Context, msgs ...Outgoing) error {
	return o.EnqueueAfter(ctx, 0, msgs...)
}

// EnqueueAfter is Enqueue for messages that must not go out before delay
// has passed.
func (o *Outbox) EnqueueAfter(ctx context.Context, delay time.Duration, msgs ...Outgoing) error {
	now := o.opts.Now().Add(delay)
	for i, m := range msgs {
		if _, err := o.out.GetOutcome(ctx, m.ID); err == nil {
			continue
		} else if !errors.Is(err, store.ErrNotFound) {
			return fmt.Errorf("check outcome of %s: %w", m.ID, err)
		}
		if m.CreatedAt.IsZero() {
			m.CreatedAt = now
		}
		payload, err := json.Marshal(m)
		if err != nil {
			return fmt.Errorf("encode outgoing %s: %w", m.ID, err)
		}
		// Messages of one call are due a microsecond apart, all by now, so
		// that a recipient receives them in order.
		due := now.Add(time.Duration(i-len(msgs)+1) * time.Microsecond)
		it := store.DueItem{ID: m.ID, Kind: string(KindOutgoing), Due: due, Payload: payload}
		if _, err := o.runner.Schedule(ctx, OutboxQueue, it); err != nil {
			return fmt.Errorf("enqueue outgoing %s: %w", m.ID, err)
		}
	}
	return nil
}

// recipient is the outbox queue's Serial key: one recipient's messages go
// out one after another, in order.
func recipient(it store.DueItem) string {
	var m struct {
		To string `json:"to"`
	}
	if err := json.Unmarshal(it.Payload, &m); err != nil {
		return "\x00" + it.ID // undecodable: deliver gives it up
	}
	return m.To
}

// deliver sends one message. A refusal is final and recorded here; a
// temporary failure is retried by the runner, and recorded as failed by
// failed when the attempts are used up.
func (o *Outbox) deliver(ctx context.Context, it store.DueItem) error {
	var m Outgoing
	if err := json.Unmarshal(it.Payload, &m); err != nil {
		o.finish(ctx, it, Outgoing{ID: it.ID}, store.OutcomeRejected, 0, err)
		return Permanent(fmt.Errorf("decode outgoing: %w", err))
	}
	if it.Attempt > 1 && o.alreadySent(ctx, it, m) {
		return nil
	}
	err := o.sendOne(ctx, m)
	if err == nil {
		o.sent.add(m.ID, o.opts.Now())
		o.finish(ctx, it, m, store.OutcomeSent, 0, nil)
		return nil
	}
	if final(err) {
		status, code := store.OutcomeRejected, 0
		if apiErr, ok := errors.AsType[*wechat.APIError](err); ok {
			code = apiErr.Code
			// 45047: the customer-service messages allowed after the
			// person's last action are used up; like 45015, only a template
			// message reaches them until they write again.
			if code == wechat.CodeOutOfWindow || code == wechat.CodeTooManyCS {
				status = store.OutcomeOutOfWindow
			}
		}
		log := withLazy(o.log, slog.String("id", m.ID), slog.String("kind", string(m.Kind)), slog.Int("attempt", it.Attempt))
		log.InfoContext(ctx, "outgoing refused", "errcode", code, "err", err)
		o.finish(ctx, it, m, status, code, err)
		return nil
	}
	if it.Attempt < o.opts.MaxAttempts {
		o.metrics.outboxRetries.Inc()
	}
	return fmt.Errorf("send %s to %s: %w", m.Kind, m.To, err)
}

// alreadySent reports whether a message that comes back (a retry, or a
// claim after a lease ran out) went out before: this process remembers
// sending it, or its outcome is recorded. Then it is not sent again; the
// outcome is recorded, should that be what failed.
func (o *Outbox) alreadySent(ctx context.Context, it store.DueItem, m Outgoing) bool {
	if o.sent.has(m.ID, o.opts.Now()) {
		o.log.WarnContext(ctx, "outgoing sent before its acknowledgement failed; not sent again", "id", ident(m.ID), "attempt", it.Attempt)
		o.finish(ctx, it, m, store.OutcomeSent, 0, nil)
		return true
	}
	oc, err := o.out.GetOutcome(ctx, m.ID)
	return err == nil && oc.Status == store.OutcomeSent
}

// failed records a message whose attempts are used up.
func (o *Outbox) failed(ctx context.Context, it store.DueItem, cause error) {
	var m Outgoing
	if err := json.Unmarshal(it.Payload, &m); err != nil {
		return // recorded as rejected by deliver
	}
	o.finish(ctx, it, m, store.OutcomeFailed, 0, cause)
}

func (o *Outbox) sendOne(ctx context.Context, m Outgoing) error {
	switch m.Kind {
	case OutText:
		return o.send.SendText(ctx, m.To, m.Text)
	case OutMenu:
		return o.send.SendMenu(ctx, m.To, m.Text, m.Items, m.Tail)
	case OutImage:
		if m.MediaID == "" {
			return unsendable("image message without media")
		}
		return o.send.SendImage(ctx, m.To, m.MediaID)
	case OutTemplate:
		if m.Template == nil {
			return unsendable("template message without template")
		}
		t := *m.Template
		t.To = m.To
		if t.ClientMsgID == "" {
			t.ClientMsgID = m.ID // WeChat drops a resend with the same client_msg_id
		}
		_, err := o.send.SendTemplate(ctx, t)
		return err
	case OutWeComText:
		if o.opts.WeCom == nil {
			return unsendable("WeCom is not configured")
		}
		return o.opts.WeCom.SendText(ctx, m.To, m.Text)
	case OutWeComCard:
		if o.opts.WeCom == nil {
			return unsendable("WeCom is not configured")
		}
		return o.opts.WeCom.SendTextCard(ctx, m.To, m.Text, m.Text, m.URL, "")
	case OutNotice:
		if m.Notice == nil {
			return unsendable("notice without notice")
		}
		n := *m.Notice
		n.To = m.To
		return o.send.SendNotice(ctx, n)
	default:
		return unsendable("unknown kind " + m.Kind)
	}
}

// finish records how a message ended, and queues its template fallback
// when WeChat refused it for the 48-hour window; the runner acknowledges
// the item.
func (o *Outbox) finish(ctx context.Context, it store.DueItem, m Outgoing, status store.OutcomeStatus, code int, cause error) {
	oc := store.Outcome{MessageID: m.ID, Status: status, ErrCode: code, Attempts: it.Attempt, At: o.opts.Now()}
	if cause != nil {
		oc.Detail = cause.Error()
	}
	if err := o.out.PutOutcome(ctx, oc, o.opts.OutcomeTTL); err != nil {
		o.log.ErrorContext(ctx, "record outcome failed", "id", m.ID, "err", err)
	}
	o.metrics.outboxDone.WithLabelValues(string(status)).Inc()
	if status == store.OutcomeOutOfWindow && m.Fallback != nil {
		// The text travels along, unsent, for when the template fails too.
		fb := Outgoing{ID: m.ID + ":template", Kind: OutTemplate, To: m.To, Template: m.Fallback, Ref: m.Ref,
			Text: m.Text, Officer: m.Officer, Ticket: m.Ticket}
		if err := o.Enqueue(ctx, fb); err != nil {
			o.log.ErrorContext(ctx, "enqueue template fallback failed", "id", m.ID, "err", err)
		}
	}
	if o.opts.OnOutcome != nil {
		o.opts.OnOutcome(ctx, m, oc)
	}
}
