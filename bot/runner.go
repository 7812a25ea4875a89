package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"sync"
	"time"

	"huimin/store"
)

// DueQueue is the part of the store the runner needs.
type DueQueue interface {
	Schedule(ctx context.Context, queue string, it store.DueItem) (bool, error)
	Claim(ctx context.Context, queue string, now time.Time, limit int, lease time.Duration) ([]store.DueItem, error)
	Ack(ctx context.Context, queue, id string, attempt int) error
	Retry(ctx context.Context, queue, id string, attempt int, due time.Time) error
	Cancel(ctx context.Context, queue, id string) error
	QueueStats(ctx context.Context, queue string, now time.Time) (store.QueueStats, error)
	NextDue(ctx context.Context, queue string) (time.Time, bool, error)
}

// Kind says what a due item is, and so which handler does it: an outgoing
// message, a parked event, one of the desk's timers, and later return
// visits and reminder campaigns. Kinds are unique across queues; by
// convention they are prefixed with their owner ("outbox.message",
// "desk.remind").
type Kind string

// Queue is a due-queue the runner claims from, with what its kinds share.
//
// The store claims, leases and counts by queue, so the batch, the lease, the
// poll and the parallelism belong to a queue and every kind in it shares
// them. That is why the outbox, the inbox and the desk keep queues of their
// own ("outbox", "inbox", "desk") instead of sharing one: a send gets a 30 s
// lease and a replayed dispatch 2 min; a batch of slow desk timers never
// holds outgoing messages back, as each queue has at most one batch in hand
// and the queues are worked on side by side; huimin_queue_items{queue}
// keeps its meaning; and items stored before kinds were still sit where
// their handlers look. A kind that needs other settings gets a queue of its
// own.
type Queue struct {
	Name string
	// Batch is how many items are claimed at a time (default 32).
	Batch int
	// Lease hides claimed items from other claimers (default 2m): an
	// instance that dies holding them loses nothing, they come back when
	// the lease ends. It must exceed the time a batch takes.
	Lease time.Duration
	// Poll is how often the queue is looked at for items that fell due or
	// that other instances scheduled (default the runner's poll). Items
	// this process schedules through Runner.Schedule are looked for when
	// they fall due.
	Poll time.Duration
	// Workers handles up to this many items of a batch at once (default 1).
	Workers int
	// Coalesce, when set, spaces the looks that items falling due ask for
	// (this process's own, or the queue's earliest): the queue is looked
	// at no sooner than Coalesce after its last look, unless a full batch
	// says more is due. Items spread over time (a morning's return visits,
	// one every 20 ms) are then claimed a second's worth at a time rather
	// than one by one by every instance.
	Coalesce time.Duration
	// Batches is how many batches may be in hand at once (default 1): a
	// full batch has the next claimed while it is worked, so that a crowd
	// of items falling due together (a morning's return visits) is claimed
	// at once and worked through within the leases.
	Batches int
	// Serial, when set, keys items that must be handled one after another
	// in due order (the outbox keys by recipient); items of different keys
	// run in parallel up to Workers. Without it every item is on its own.
	Serial func(store.DueItem) string
	// Default is the kind of items stored without one (scheduled before
	// kinds were stored).
	Default Kind
}

// Retry is a kind's retry policy: the delay after a failed attempt starts
// at First (default 1s) and doubles per attempt up to Max (default 10m).
type Retry struct {
	// MaxAttempts gives an item up after that many failed attempts; 0
	// retries it until it succeeds.
	MaxAttempts int
	First, Max  time.Duration
}

// Backoff is the delay after the attempt-th failed attempt (counting from 1).
func (p Retry) Backoff(attempt int) time.Duration {
	first, limit := p.First, p.Max
	if first <= 0 {
		first = time.Second
	}
	if limit <= 0 {
		limit = 10 * time.Minute
	}
	d := first
	for i := 1; i < attempt && d < limit; i++ {
		d *= 2
	}
	return min(d, limit)
}

// Handler does the items of one kind.
type Handler struct {
	Kind Kind
	// Do does one item. Nil means done and the item is acknowledged; an
	// error retries it after the Retry backoff, unless it is Permanent or
	// the attempts are used up, when the item is given up. A panic counts
	// as an error. Do may run twice for one item (a claimer that died after
	// doing it, an acknowledgement lost), so it must be idempotent.
	Do    func(ctx context.Context, it store.DueItem) error
	Retry Retry
	// GiveUp, when set, is told of an item given up, with the last error,
	// before it is acknowledged (the outbox records the message failed).
	GiveUp func(ctx context.Context, it store.DueItem, err error)
	// Every paces the kind: in this process at most one of its items
	// starts per Every (0: no pacing), so that a crowd falling due
	// together (a morning's return visits) is worked through beside the
	// webhook, not over it. Items waiting for their turn when the runner
	// stops are put back for at once, for this or another instance.
	Every time.Duration
}

// pacer hands out the start times of a paced kind's items.
type pacer struct {
	mu    sync.Mutex
	next  time.Time
	every time.Duration
}

// slot reserves the next start time at or after now.
func (p *pacer) slot(now time.Time) time.Time {
	p.mu.Lock()
	defer p.mu.Unlock()
	at := now
	if p.next.After(at) {
		at = p.next
	}
	p.next = at.Add(p.every)
	return at
}

// waiting is an error a handler returns for an item whose time has not
// come after all (its NotYet reports true): it is retried with the
// backoff like a failure, but logged as waiting, not failing.
type waiting interface {
	error
	NotYet() bool
}

// Permanent marks err as one no retry can help (a malformed item): the item
// is given up at once.
func Permanent(err error) error { return permanentError{err} }

type permanentError struct{ err error }

func (p permanentError) Error() string { return p.err.Error() }
func (p permanentError) Unwrap() error { return p.err }

// unknownKindDelay is how long an item of a kind this process has no
// handler for is put back for. It is not dropped: during a rolling update
// a newer instance may know the kind.
const unknownKindDelay = 10 * time.Minute

// Runner is a process's one loop for timed work. Subsystems register their
// queues and kinds; the runner claims due items (each by one instance at a
// time, across instances, under a lease), hands each to the handler of its
// kind, acknowledges it when done, retries it with backoff when it fails,
// and gives it up, telling the kind's GiveUp, when its policy says so.
// robfig/cron only triggers periodic sweeps (a store's purge, monthly
// reports); everything that falls due at a time goes through here.
type Runner struct {
	q    DueQueue
	poll time.Duration
	now  func() time.Time
	log  *slog.Logger
	kick chan struct{}

	mu     sync.Mutex
	queues []*queue
	byName map[string]*queue
	kinds  map[Kind]string // kind → queue, to refuse a kind registered twice
	pacers map[Kind]*pacer
	// stopping is Run's context's Done: paced items still waiting for
	// their turn are put back when it closes.
	stopping <-chan struct{}
}

type queue struct {
	Queue
	handlers map[Kind]Handler
	next     time.Time // the next poll
	// wakes are the due times, before the poll they were scheduled ahead
	// of, of items this process scheduled: the queue is also looked at
	// then. Sorted; at most the items of one poll interval.
	wakes  []time.Time
	inHand int // batches claimed and not yet done
	// last is when the queue was last looked at (for Coalesce).
	last time.Time
}

// due is when the queue is next looked at.
func (q *queue) due() time.Time {
	if q.next.IsZero() {
		return q.next // a full batch: more is due now
	}
	at := q.next
	if len(q.wakes) > 0 && q.wakes[0].Before(at) {
		at = q.wakes[0]
	}
	if soonest := q.last.Add(q.Coalesce); q.Coalesce > 0 && at.Before(soonest) {
		at = soonest
	}
	return at
}

// looked records a look at now: the next poll is a Poll away and the
// wakes until now are spent.
func (q *queue) looked(now time.Time) {
	q.next, q.last = now.Add(q.Poll), now
	i := 0
	for i < len(q.wakes) && !q.wakes[i].After(now) {
		i++
	}
	q.wakes = q.wakes[i:]
}

// NewRunner returns a runner on q that looks at each queue every poll
// (default 1s) unless the queue says otherwise. now is the clock (default
// time.Now).
func NewRunner(q DueQueue, poll time.Duration, now func() time.Time, log *slog.Logger) *Runner {
	if poll <= 0 {
		poll = time.Second
	}
	if now == nil {
		now = time.Now
	}
	return &Runner{q: q, poll: poll, now: now, log: log.With("component", "runner"), kick: make(chan struct{}, 1),
		byName: map[string]*queue{}, kinds: map[Kind]string{}, pacers: map[Kind]*pacer{}}
}

// Register adds a queue and the handlers of its kinds. Call it before Run.
// It panics when the queue or a kind is registered twice, or a handler has
// no Do: wiring mistakes, found at start-up.
func (r *Runner) Register(q Queue, handlers ...Handler) {
	if q.Batch <= 0 {
		q.Batch = 32
	}
	if q.Lease <= 0 {
		q.Lease = 2 * time.Minute
	}
	if q.Poll <= 0 {
		q.Poll = r.poll
	}
	if q.Workers <= 0 {
		q.Workers = 1
	}
	if q.Batches <= 0 {
		q.Batches = 1
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	if q.Name == "" || r.byName[q.Name] != nil {
		panic(fmt.Sprintf("bot: queue %q registered twice or without a name", q.Name))
	}
	qq := &queue{Queue: q, handlers: map[Kind]Handler{}}
	for _, h := range handlers {
		if other, dup := r.kinds[h.Kind]; dup || h.Kind == "" || h.Do == nil {
			panic(fmt.Sprintf("bot: kind %q of queue %s without a name or Do, or already in queue %q", h.Kind, q.Name, other))
		}
		r.kinds[h.Kind] = q.Name
		qq.handlers[h.Kind] = h
		if h.Every > 0 {
			r.pacers[h.Kind] = &pacer{every: h.Every}
		}
	}
	r.queues = append(r.queues, qq)
	r.byName[q.Name] = qq
}

// Queues names the registered queues (for the depth metrics).
func (r *Runner) Queues() []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	names := make([]string, len(r.queues))
	for i, q := range r.queues {
		names[i] = q.Name
	}
	return names
}

// Schedule stores an item in a queue (see store's Schedule: an ID already
// there is kept as it is) and has this process's runner look for it when it
// falls due, rather than at the next poll.
func (r *Runner) Schedule(ctx context.Context, queue string, it store.DueItem) (bool, error) {
	added, err := r.q.Schedule(ctx, queue, it)
	if err != nil {
		return false, err
	}
	r.mu.Lock()
	q := r.byName[queue]
	soon := q != nil && it.Due.Before(q.next)
	if soon {
		i, found := slices.BinarySearchFunc(q.wakes, it.Due, time.Time.Compare)
		if !found {
			q.wakes = slices.Insert(q.wakes, i, it.Due)
		}
	}
	r.mu.Unlock()
	if soon {
		r.nudge()
	}
	return added, nil
}

// Cancel removes an item from a queue, whoever holds it.
func (r *Runner) Cancel(ctx context.Context, queue, id string) error {
	return r.q.Cancel(ctx, queue, id)
}

// nudge makes Run look at its queues now.
func (r *Runner) nudge() {
	select {
	case r.kick <- struct{}{}:
	default:
	}
}

// Run does due work until ctx ends. Every batch claimed is finished before
// it returns, so a shutdown abandons nothing it claimed.
func (r *Runner) Run(ctx context.Context) {
	r.mu.Lock()
	r.stopping = ctx.Done()
	r.mu.Unlock()
	var batches sync.WaitGroup
	defer batches.Wait()
	timer := time.NewTimer(0)
	defer timer.Stop()
	for {
		wait := r.poll
		now := r.now()
		r.mu.Lock()
		for _, q := range r.queues {
			if q.inHand >= q.Batches {
				continue // a batch's end nudges
			}
			if d := q.due().Sub(now); d > 0 {
				wait = min(wait, d)
				continue
			}
			q.inHand++
			q.looked(now)
			batches.Go(func() { r.batch(ctx, q) })
		}
		r.mu.Unlock()
		timer.Reset(wait)
		select {
		case <-ctx.Done():
			return
		case <-r.kick:
		case <-timer.C:
		}
	}
}

// batch claims one batch of q and does it. A full batch means more may be
// due: the queue is looked at again at once.
func (r *Runner) batch(ctx context.Context, q *queue) {
	full := false
	var next time.Time // when the queue's earliest item falls due, if sooner than the poll
	defer func() {
		r.mu.Lock()
		q.inHand--
		if full {
			q.next = time.Time{}
		} else if !next.IsZero() && next.Before(q.next) {
			q.next = next
		}
		r.mu.Unlock()
		r.nudge()
	}()
	if ctx.Err() != nil {
		return
	}
	// What is claimed is done even if ctx ends meanwhile: a claim cut off
	// after the store made it would leave items to their lease.
	wctx := context.WithoutCancel(ctx)
	items, err := r.q.Claim(wctx, q.Name, r.now(), q.Batch, q.Lease)
	if err != nil {
		r.log.ErrorContext(ctx, "claim due items failed", "queue", q.Name, "err", err)
		return
	}
	full = len(items) == q.Batch
	if full && q.Batches > 1 {
		// More may be due: the next batch is claimed while this one is
		// worked.
		r.mu.Lock()
		q.next = time.Time{}
		r.mu.Unlock()
		r.nudge()
	}
	r.do(wctx, q, items)
	if !full {
		// The queue's earliest item, whoever scheduled it: every instance
		// looks when it falls due (a morning's return visits, all due at
		// 10:00), not up to a poll later.
		if t, ok, err := r.q.NextDue(wctx, q.Name); err == nil && ok {
			next = t
		}
	}
}

// do handles a claimed batch: items of one Serial key in order, up to
// Workers keys at a time.
func (r *Runner) do(ctx context.Context, q *queue, items []store.DueItem) {
	var order []string
	byKey := map[string][]store.DueItem{}
	for _, it := range items {
		key := "\x00" + it.ID
		if q.Serial != nil {
			key = r.serialKey(ctx, q, it)
		}
		if _, ok := byKey[key]; !ok {
			order = append(order, key)
		}
		byKey[key] = append(byKey[key], it)
	}
	sem := make(chan struct{}, q.Workers)
	var wg sync.WaitGroup
	for _, key := range order {
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			for _, it := range byKey[key] {
				r.item(ctx, q, it)
			}
		})
	}
	wg.Wait()
}

// serialKey is q.Serial(it); a panic puts the item on its own.
func (r *Runner) serialKey(ctx context.Context, q *queue, it store.DueItem) (key string) {
	defer func() {
		if v := recover(); v != nil {
			r.log.ErrorContext(ctx, "serial key panicked", "queue", q.Name, "item", it.ID, "panic", fmt.Sprint(v))
			key = "\x00" + it.ID
		}
	}()
	return q.Serial(it)
}

// item does one item and settles it: acknowledged, retried, given up, or
// put back for an instance that knows its kind.
func (r *Runner) item(ctx context.Context, q *queue, it store.DueItem) {
	kind := Kind(it.Kind)
	if kind == "" {
		kind = q.Default
	}
	log := r.log.With("queue", q.Name, "item", it.ID, "kind", string(kind), "attempt", it.Attempt)
	h, ok := q.handlers[kind]
	if !ok {
		at := r.now().Add(unknownKindDelay)
		log.WarnContext(ctx, "due item of a kind without handler put back; cancel it if no version of the service knows the kind", "retry_at", at)
		if err := r.q.Retry(ctx, q.Name, it.ID, it.Attempt, at); err != nil {
			log.WarnContext(ctx, "put back due item failed; its lease brings it back", "err", err)
		}
		return
	}
	if !r.turn(ctx, log, q, kind, it) {
		return
	}
	err := call(ctx, h.Do, it)
	if err == nil {
		if err := r.q.Ack(ctx, q.Name, it.ID, it.Attempt); err != nil {
			log.WarnContext(ctx, "ack due item failed; it may be done again, which its handler allows", "err", err)
		}
		return
	}
	_, permanent := errors.AsType[permanentError](err)
	if permanent || (h.Retry.MaxAttempts > 0 && it.Attempt >= h.Retry.MaxAttempts) {
		log.ErrorContext(ctx, "due item given up", "err", err)
		if h.GiveUp != nil {
			r.giveUp(ctx, log, h, it, err)
		}
		if err := r.q.Ack(ctx, q.Name, it.ID, it.Attempt); err != nil {
			log.WarnContext(ctx, "ack given-up item failed; it may be tried again", "err", err)
		}
		return
	}
	at := r.now().Add(h.Retry.Backoff(it.Attempt))
	if w, ok := errors.AsType[waiting](err); ok && w.NotYet() {
		// Not a failure: what the item waits for has not happened yet
		// (a message still on its way). Looked at again with the backoff.
		log.DebugContext(ctx, "due item waits, will look again", "retry_at", at, "reason", err)
	} else {
		log.WarnContext(ctx, "due item failed, will retry", "retry_at", at, "err", err)
	}
	if err := r.q.Retry(ctx, q.Name, it.ID, it.Attempt, at); err != nil {
		log.WarnContext(ctx, "reschedule due item failed; its lease brings it back", "err", err)
	}
}

// turn waits for a paced kind's item's start time; false when the runner
// stops first, and the item is put back for at once.
func (r *Runner) turn(ctx context.Context, log *slog.Logger, q *queue, kind Kind, it store.DueItem) bool {
	r.mu.Lock()
	p, stopping := r.pacers[kind], r.stopping
	r.mu.Unlock()
	if p == nil {
		return true
	}
	wait := p.slot(r.now()).Sub(r.now())
	if wait <= 0 {
		return true
	}
	t := time.NewTimer(wait)
	defer t.Stop()
	select {
	case <-t.C:
		return true
	case <-stopping:
		if err := r.q.Retry(ctx, q.Name, it.ID, it.Attempt, r.now()); err != nil {
			log.WarnContext(ctx, "put back paced item failed; its lease brings it back", "err", err)
		}
		return false
	}
}

// giveUp calls h.GiveUp; a panic there is logged, and the item still
// acknowledged.
func (r *Runner) giveUp(ctx context.Context, log *slog.Logger, h Handler, it store.DueItem, cause error) {
	defer func() {
		if v := recover(); v != nil {
			log.ErrorContext(ctx, "give-up hook panicked", "panic", fmt.Sprint(v))
		}
	}()
	h.GiveUp(ctx, it, cause)
}

// call runs a handler, turning a panic into an error.
func call(ctx context.Context, do func(context.Context, store.DueItem) error, it store.DueItem) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("handler panicked: %v", v)
		}
	}()
	return do(ctx, it)
}
