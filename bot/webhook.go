package bot

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/url"
	"strconv"
	"sync"
	"time"

	"huimin/chat"
	"huimin/chat/texts"

	"huimin/bot/wechat"
	"huimin/bot/wxapi"
	"huimin/store"
)

// Dispatcher turns an event into replies; the flows engine satisfies it.
type Dispatcher interface {
	Dispatch(ctx context.Context, ev chat.Event) ([]chat.Reply, error)
}

// Beginner is a Dispatcher that records an event's delivery itself,
// together with what answering it reads first, in one store round trip
// (the flows engine: the sender's conversation lock and session). For a
// first delivery, dispatch answers the event and must be called once. ok
// is false when it did nothing: the delivery is recorded through
// Deliveries and the event dispatched as usual.
//
// dispatch offers the replies to seal before it saves what it did: when
// seal renders them (the passive reply is all there is to send), the
// delivery is finished with that reply in the same store round trip, and
// the webhook does not finish it again.
type Beginner interface {
	Begin(ctx context.Context, ev chat.Event, key, replay string, dedupTTL time.Duration) (d store.Delivery, first bool, dispatch func(ctx context.Context, seal func([]chat.Reply) ([]byte, bool)) ([]chat.Reply, error), ok bool, err error)
}

// begun answers an event a Beginner began (see Beginner).
type begun = func(ctx context.Context, seal func([]chat.Reply) ([]byte, bool)) ([]chat.Reply, error)

// Deliveries de-duplicates WeChat's repeated deliveries of one message.
type Deliveries interface {
	BeginDelivery(ctx context.Context, key, replay string, ttl time.Duration) (store.Delivery, bool, error)
	FinishDelivery(ctx context.Context, d store.Delivery, ttl time.Duration) error
	GetDelivery(ctx context.Context, key string) (store.Delivery, error)
	ForgetDelivery(ctx context.Context, key string) error
}

// answerWithin is how long a webhook request may take, all told: WeChat
// waits 5 s for an answer, and the answer needs time to travel.
const answerWithin = 4700 * time.Millisecond

// followUpDelay holds back the replies after the passive one.
const followUpDelay = 500 * time.Millisecond

// InboxQueue holds events whose answer was not ready within the reply
// budget, until their replies are safely in the outbox.
const InboxQueue = "inbox"

// WebhookOptions tunes the webhook; the zero value works.
type WebhookOptions struct {
	MaxBody int64 // default 64 KiB
	// Budget is how long to wait for the flow before answering "success"
	// and sending the reply through the outbox instead (default 3s).
	Budget   time.Duration
	DedupTTL time.Duration // default 10m
	// ProcessTimeout bounds one dispatch that overran the budget (default 30s).
	ProcessTimeout time.Duration
	// InboxLease is how long an overrunning dispatch may take before the
	// inbox worker of any instance takes the event over (default 2m).
	InboxLease time.Duration
	// Sorry is what a person is told when a flow fails (default: the
	// citizen texts' "sorry").
	Sorry string
	// Unavailable is the passive reply when the store does not answer in
	// time and the message could not be taken in (default: the citizen
	// texts' "unavailable").
	Unavailable string
	Now         func() time.Time
}

// Webhook serves GET and POST /wechat.
type Webhook struct {
	codec    *wechat.Codec
	disp     Dispatcher
	seen     Deliveries
	outbox   *Outbox
	inbox    *Runner
	metrics  *Metrics
	log      *slog.Logger
	opts     WebhookOptions
	inflight sync.WaitGroup
	workers  *workers
}

// NewWebhook returns the webhook handler. Its parked events (InboxQueue)
// are replayed by the runner r; call Wait on shutdown for dispatches still
// running.
func NewWebhook(codec *wechat.Codec, disp Dispatcher, seen Deliveries, r *Runner, outbox *Outbox, m *Metrics, log *slog.Logger, opts WebhookOptions) *Webhook {
	if opts.MaxBody <= 0 {
		opts.MaxBody = 64 << 10
	}
	if opts.Budget <= 0 {
		opts.Budget = 3 * time.Second
	}
	if opts.DedupTTL <= 0 {
		opts.DedupTTL = 10 * time.Minute
	}
	if opts.ProcessTimeout <= 0 {
		opts.ProcessTimeout = 30 * time.Second
	}
	if opts.InboxLease <= 0 {
		opts.InboxLease = 2 * time.Minute
	}
	if opts.Sorry == "" {
		opts.Sorry = texts.MustLoad(texts.Citizen).Say("sorry", nil)
	}
	if opts.Unavailable == "" {
		opts.Unavailable = texts.MustLoad(texts.Citizen).Say("unavailable", nil)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	h := &Webhook{codec: codec, disp: disp, seen: seen, outbox: outbox, inbox: r, metrics: m, log: log.With("component", "webhook"), opts: opts,
		workers: newWorkers(dispatchWorkers)}
	// A sender's events are replayed in order; different senders' side by
	// side, as the webhook would dispatch them.
	r.Register(Queue{Name: InboxQueue, Batch: 8, Lease: opts.InboxLease, Poll: 5 * time.Second, Workers: 4, Serial: sender, Default: KindParked},
		Handler{Kind: KindParked, Do: h.replay})
	return h
}

// KindParked is the runner's kind for the inbox's parked events.
const KindParked Kind = "inbox.event"

// Register adds the webhook's routes to mux.
func (h *Webhook) Register(mux *http.ServeMux) {
	mux.HandleFunc("GET /wechat", h.verify)
	mux.HandleFunc("POST /wechat", h.receive)
}

// dispatchWorkers is how many dispatch goroutines wait for work: about the
// number of webhook requests in flight at peak.
const dispatchWorkers = 256

// Wait blocks until dispatches that overran the budget have finished, then
// stops the dispatch workers.
func (h *Webhook) Wait() {
	h.inflight.Wait()
	h.workers.stop()
}

// verify answers WeChat's URL check when the URL is saved in the console.
func (h *Webhook) verify(w http.ResponseWriter, r *http.Request) {
	answerURLCheck(w, r, h.codec.VerifyURL, h.reject)
}

// answerURLCheck answers a platform's URL check with the echostr that
// verify returns, or refuses it.
func answerURLCheck(w http.ResponseWriter, r *http.Request, verify func(url.Values) (string, error), reject func(http.ResponseWriter, *http.Request, error)) {
	echo, err := verify(r.URL.Query())
	if err != nil {
		reject(w, r, err)
		return
	}
	w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	_, _ = io.WriteString(w, echo)
}

func (h *Webhook) reject(w http.ResponseWriter, r *http.Request, err error) {
	refuse(w, r, err, h.metrics, h.log, "wechat")
}

// refuse answers a request refused before anything was accepted: 403 for
// a bad signature, 413 for a body over the limit, 400 for the rest.
func refuse(w http.ResponseWriter, r *http.Request, err error, m *Metrics, log *slog.Logger, channel string) {
	code := http.StatusBadRequest
	var tooBig *http.MaxBytesError
	switch {
	case errors.Is(err, wxapi.ErrSignature):
		code = http.StatusForbidden
	case errors.As(err, &tooBig):
		code = http.StatusRequestEntityTooLarge
	}
	m.messages.WithLabelValues(channel, "rejected").Inc()
	log.WarnContext(r.Context(), "webhook request rejected", "channel", channel, "status", code, "remote", r.RemoteAddr, "err", err)
	http.Error(w, http.StatusText(code), code)
}

// receive handles one delivery of a message or event.
func (h *Webhook) receive(w http.ResponseWriter, r *http.Request) {
	start := time.Now()
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.opts.MaxBody))
	if err != nil {
		h.reject(w, r, err)
		return
	}
	req, err := h.codec.Open(r.URL.Query(), body)
	if err != nil {
		h.reject(w, r, err)
		return
	}
	ev := req.Event()
	key := wechat.DedupKey(req.Message)
	log := withLazy(h.log, slog.String("openid", ident(ev.From)), slog.String("msg_type", ident(ev.RawType)), slog.String("key", ident(key)))
	log.DebugContext(r.Context(), "message received", "text", ev.Text)

	ctx := r.Context()
	d, first, run, err := h.beginEvent(ctx, start, ev, key, req.ReplayKey())
	if errors.Is(err, wxapi.ErrStale) {
		h.reject(w, r, err)
		return
	}
	var plain []byte
	var outcome string
	switch {
	case err != nil:
		// Nothing was taken in. WeChat would retry a 5xx three times in
		// 15 s and then show its "service unavailable" page; the person
		// is better told plainly to send the message again later.
		log.ErrorContext(ctx, "record delivery failed; asking the sender to send again", "err", err)
		plain, outcome = h.unavailable(ctx, log, req), "unavailable"
	case first:
		plain, outcome = h.handleFirst(ctx, log, req, ev, d, start, run)
	default:
		h.metrics.duplicates.Inc()
		var takeover bool
		plain, takeover = h.awaitFirst(ctx, d, start)
		outcome = "duplicate"
		if takeover {
			log.WarnContext(ctx, "first delivery was never answered; handling the retry")
			plain, outcome = h.handleFirst(ctx, log, req, ev, d, start, nil)
		}
	}
	out, err := h.codec.Seal(req, plain)
	if err != nil {
		log.ErrorContext(ctx, "seal reply failed", "err", err)
		out = []byte("success")
	}
	if len(plain) > 0 {
		w.Header().Set("Content-Type", "application/xml; charset=utf-8")
	} else {
		w.Header().Set("Content-Type", "text/plain; charset=utf-8")
	}
	_, _ = w.Write(out)
	h.metrics.messages.WithLabelValues(string(ev.Kind), outcome).Inc()
	h.metrics.replySeconds.Observe(time.Since(start).Seconds())
}

// begin records a delivery as being handled (see Deliveries), waiting for
// the store no longer than the reply budget: WeChat gives up after 5 s,
// and a person who gets nothing does not know to send again. A request
// seen before is wxapi.ErrStale.
func (h *Webhook) begin(ctx context.Context, start time.Time, key, replay string) (store.Delivery, bool, error) {
	bctx, cancel := context.WithDeadline(ctx, start.Add(h.opts.Budget))
	defer cancel()
	d, first, err := h.seen.BeginDelivery(bctx, key, replay, h.opts.DedupTTL)
	if errors.Is(err, store.ErrReplayed) {
		return d, false, fmt.Errorf("%w: timestamp and nonce seen before", wxapi.ErrStale)
	}
	return d, first, err
}

// beginEvent records the delivery of ev as begin does, through the
// dispatcher when it is a Beginner: then run, when not nil, answers ev
// with what the same round trip read.
func (h *Webhook) beginEvent(ctx context.Context, start time.Time, ev chat.Event, key, replay string) (d store.Delivery, first bool, run begun, err error) {
	if b, ok := h.disp.(Beginner); ok {
		bctx, cancel := context.WithDeadline(ctx, start.Add(h.opts.Budget))
		d, first, run, ok, err = b.Begin(bctx, ev, key, replay, h.opts.DedupTTL)
		cancel()
		if errors.Is(err, store.ErrReplayed) {
			return d, false, nil, fmt.Errorf("%w: timestamp and nonce seen before", wxapi.ErrStale)
		}
		if ok {
			return d, first, run, err
		}
	}
	d, first, err = h.begin(ctx, start, key, replay)
	return d, first, nil, err
}

// handleFirst dispatches the event (through run when not nil) and returns
// the passive reply. When the
// flow is not done within the budget it returns no reply ("success") and
// the replies go out through the outbox when they are ready; the event is
// parked in the inbox first, so that a crash meanwhile loses nothing.
func (h *Webhook) handleFirst(ctx context.Context, log *slog.Logger, req *wechat.Request, ev chat.Event, d store.Delivery, start time.Time, run begun) ([]byte, string) {
	key := d.Key
	done := make(chan dispatched, 1)
	h.inflight.Add(1)
	h.workers.run(func() {
		defer h.inflight.Done()
		// The dispatch outlives the request when it overruns the budget.
		dctx, cancel := context.WithTimeout(context.WithoutCancel(ctx), h.opts.ProcessTimeout)
		defer cancel()
		done <- h.dispatch(dctx, log, req, ev, run)
	})
	timer := time.NewTimer(h.opts.Budget)
	defer timer.Stop()
	select {
	case res := <-done:
		if res.sealed {
			// The store finished the delivery with this reply.
			return res.plain, outcomeOf(res.plain)
		}
		plain := h.answer(ctx, log, req, ev, key, res.replies)
		d.Reply = plain
		h.finishLater(ctx, log, d)
		return plain, outcomeOf(plain)
	case <-timer.C:
	}
	// Over budget: park the event, answer "success", send later. The
	// store gets what is left of WeChat's 5 s for it.
	pctx, cancel := context.WithDeadline(ctx, start.Add(answerWithin))
	defer cancel()
	parked := h.park(pctx, log, ev, key)
	var plain []byte
	outcome := "async"
	if !parked {
		// Not safely taken in: should this process stop now, nothing
		// would finish the message. Ask for it again; the dispatch goes
		// on, and its replies still go out if the store comes back.
		plain, outcome = h.unavailable(ctx, log, req), "unavailable"
		d.Reply = plain
	}
	if err := h.seen.FinishDelivery(pctx, d, h.opts.DedupTTL); err != nil {
		log.ErrorContext(ctx, "finish delivery failed", "err", err)
	}
	h.inflight.Add(1)
	go func() {
		defer h.inflight.Done()
		res := <-done
		bctx := context.WithoutCancel(ctx)
		if res.sealed {
			// The flow finished the delivery with a reply that was never
			// sent: WeChat's retries must get what was.
			if err := h.seen.FinishDelivery(bctx, d, h.opts.DedupTTL); err != nil {
				log.ErrorContext(bctx, "finish delivery failed", "err", err)
			}
		}
		if err := h.outbox.Enqueue(bctx, outgoing(ev, key, res.replies, 0)...); err != nil {
			if parked {
				log.ErrorContext(bctx, "enqueue late replies failed; the inbox will replay the event", "err", err)
			} else {
				log.ErrorContext(bctx, "enqueue late replies failed; the sender was asked to send again", "err", err)
			}
			return
		}
		if parked {
			if err := h.inbox.Cancel(bctx, InboxQueue, key); err != nil {
				log.WarnContext(bctx, "unpark event failed", "err", err)
			}
		}
	}()
	return plain, outcome
}

// outcomeOf names a passive reply's outcome in the metrics.
func outcomeOf(plain []byte) string {
	if len(plain) == 0 {
		return "empty"
	}
	return "replied"
}

// unavailable renders the passive reply that asks the sender to send the
// message again: the store did not take it in.
func (h *Webhook) unavailable(ctx context.Context, log *slog.Logger, req *wechat.Request) []byte {
	plain, err := h.codec.TextReply(req.Message, h.opts.Unavailable)
	if err != nil {
		log.ErrorContext(ctx, "render reply failed", "err", err)
		return nil
	}
	return plain
}

// finishLater records the answer for WeChat's retries while the answer is
// already on its way. WeChat retries only a delivery it got no answer to
// within 5 seconds, and by then the record is long written; if the process
// dies before writing it, the answer never left either, and the retry
// finds the delivery unfinished and handles it (see awaitFirst).
func (h *Webhook) finishLater(ctx context.Context, log *slog.Logger, d store.Delivery) {
	h.inflight.Add(1)
	h.workers.run(func() {
		defer h.inflight.Done()
		fctx := context.WithoutCancel(ctx)
		if err := h.seen.FinishDelivery(fctx, d, h.opts.DedupTTL); err != nil {
			log.ErrorContext(fctx, "finish delivery failed", "err", err)
		}
	})
}

// dispatched is what a dispatch made: its replies, and when the flow
// finished the delivery with them (see Beginner), the passive reply it
// finished it with.
type dispatched struct {
	replies []chat.Reply
	sealed  bool
	plain   []byte
}

// dispatch runs the flow, through run when not nil (see Beginner); a
// flow's error or panic becomes a polite apology (it runs on its own
// goroutine, where a panic would end the process).
func (h *Webhook) dispatch(ctx context.Context, log *slog.Logger, req *wechat.Request, ev chat.Event, run begun) (res dispatched) {
	defer func() {
		if v := recover(); v != nil {
			log.ErrorContext(ctx, "flow panicked", "panic", v)
			res = dispatched{replies: []chat.Reply{{Kind: chat.ReplyText, Text: h.opts.Sorry}}}
		}
	}()
	var err error
	if run != nil {
		res.replies, err = run(ctx, func(replies []chat.Reply) ([]byte, bool) {
			res.plain, res.sealed = h.seal(req, ev, replies)
			return res.plain, res.sealed
		})
	} else {
		res.replies, err = h.disp.Dispatch(ctx, ev)
	}
	if err != nil {
		log.ErrorContext(ctx, "flow failed", "err", err)
		return dispatched{replies: []chat.Reply{{Kind: chat.ReplyText, Text: h.opts.Sorry}}}
	}
	return res
}

// seal renders replies as the passive reply to req when that is all there
// is to send: none, or one to the sender.
func (h *Webhook) seal(req *wechat.Request, ev chat.Event, replies []chat.Reply) ([]byte, bool) {
	plain, rest, err := h.passive(req, ev, replies)
	if err != nil || len(rest) > 0 {
		return nil, false // answer renders it again, and logs why it cannot
	}
	return plain, true
}

// passive renders the first of replies as the passive reply to req when it
// is to the sender; rest is what goes out otherwise (all of replies when
// the first cannot be the passive reply).
func (h *Webhook) passive(req *wechat.Request, ev chat.Event, replies []chat.Reply) (plain []byte, rest []chat.Reply, err error) {
	if len(replies) == 0 || (replies[0].To != "" && replies[0].To != ev.From) {
		return nil, replies, nil
	}
	plain, err = h.codec.TextReply(req.Message, RenderWeChat(replies[0]))
	if err != nil {
		return nil, replies, err
	}
	return plain, replies[1:], nil
}

// answer renders the first reply to the sender as the passive reply and
// puts the others in the outbox.
func (h *Webhook) answer(ctx context.Context, log *slog.Logger, req *wechat.Request, ev chat.Event, key string, replies []chat.Reply) []byte {
	plain, rest, err := h.passive(req, ev, replies)
	if err != nil {
		log.ErrorContext(ctx, "render reply failed", "err", err)
	}
	if len(rest) > 0 {
		// The passive reply travels back through WeChat; the follow-ups
		// wait a moment so that the person reads them after it.
		if err := h.outbox.EnqueueAfter(ctx, followUpDelay, outgoing(ev, key, rest, len(replies)-len(rest))...); err != nil {
			log.ErrorContext(ctx, "enqueue replies failed", "err", err)
		}
	}
	return plain
}

// park stores the event in the inbox, due when an overrunning dispatch
// should long have finished; Cancel removes it once the replies are queued.
func (h *Webhook) park(ctx context.Context, log *slog.Logger, ev chat.Event, key string) bool {
	return h.parkAt(ctx, log, parkedEvent{Key: key, Event: ev}, h.opts.Now().Add(h.opts.InboxLease))
}

// queue puts an event in the inbox to be handled there at once.
func (h *Webhook) queue(ctx context.Context, log *slog.Logger, ev chat.Event, key string) bool {
	return h.parkAt(ctx, log, parkedEvent{Key: key, Event: ev, Queued: true}, h.opts.Now())
}

func (h *Webhook) parkAt(ctx context.Context, log *slog.Logger, p parkedEvent, due time.Time) bool {
	key := p.Key
	payload, err := json.Marshal(p)
	if err == nil {
		_, err = h.inbox.Schedule(ctx, InboxQueue, store.DueItem{ID: key, Kind: string(KindParked), Due: due, Payload: payload})
	}
	if err != nil {
		log.ErrorContext(ctx, "park event failed", "err", err)
		return false
	}
	return true
}

type parkedEvent struct {
	Key   string     `json:"key"`
	Event chat.Event `json:"event"`
	// Queued marks an event handled from the inbox by design (WeCom has no
	// passive reply to wait for), not one left behind by an overrun.
	Queued bool `json:"queued,omitempty"`
}

// sender is the inbox queue's Serial key.
func sender(it store.DueItem) string {
	var p parkedEvent
	if err := json.Unmarshal(it.Payload, &p); err != nil {
		return "\x00" + it.ID // undecodable: replay gives it up
	}
	return p.Event.From
}

// replay dispatches an event whose first dispatch never queued its replies
// (the process died), or one queued to be handled here, and queues the
// replies. An error has the runner replay it again later.
func (h *Webhook) replay(ctx context.Context, it store.DueItem) error {
	var p parkedEvent
	if err := json.Unmarshal(it.Payload, &p); err != nil {
		return Permanent(fmt.Errorf("decode parked event: %w", err))
	}
	log := h.log.With("openid", ident(p.Event.From), "key", ident(p.Key))
	if p.Queued && it.Attempt <= 1 {
		log.DebugContext(ctx, "handling queued event")
	} else {
		// An overrunning dispatch's process died, or a claimer did:
		// worth a look, though nothing is lost.
		log.WarnContext(ctx, "replaying event whose replies were never queued", "attempt", it.Attempt)
	}
	dctx, cancel := context.WithTimeout(ctx, h.opts.ProcessTimeout)
	res := h.dispatch(dctx, log, nil, p.Event, nil)
	cancel()
	if err := h.outbox.Enqueue(ctx, outgoing(p.Event, p.Key, res.replies, 0)...); err != nil {
		return fmt.Errorf("enqueue replayed replies: %w", err)
	}
	return nil
}

// awaitFirst answers a repeated delivery with what the first one answered,
// waiting for it while it is still being handled (another instance, or a
// retry that arrived early). takeover is true when the first delivery was
// never answered: its process died before it could answer or park the
// event (WeChat retries after 5 s, long after the reply budget), so this
// delivery must handle the message itself or it would be lost.
func (h *Webhook) awaitFirst(ctx context.Context, d store.Delivery, start time.Time) (plain []byte, takeover bool) {
	deadline := start.Add(h.opts.Budget + 500*time.Millisecond)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for !d.Done && time.Now().Before(deadline) {
		if h.opts.Now().Sub(d.CreatedAt) > h.opts.Budget+time.Second {
			return nil, true
		}
		select {
		case <-ctx.Done():
			return nil, false
		case <-tick.C:
		}
		next, err := h.seen.GetDelivery(ctx, d.Key)
		if err != nil {
			return nil, false
		}
		d = next
	}
	return d.Reply, false
}

// outgoing turns replies to ev into outbox messages with IDs derived from
// the delivery key, so queuing them twice sends them once.
func outgoing(ev chat.Event, key string, replies []chat.Reply, offset int) []Outgoing {
	out := make([]Outgoing, 0, len(replies))
	for i, r := range replies {
		to := r.To
		if to == "" {
			to = ev.From
		}
		m := Outgoing{ID: "r:" + key + ":" + strconv.Itoa(offset+i), To: to, Ref: key}
		if ev.Channel == chat.ChannelWeCom {
			m.Kind, m.Text = OutWeComText, RenderText(r)
		} else {
			m.Kind, m.Text = OutText, RenderWeChat(r)
		}
		out = append(out, m)
	}
	return out
}
