package bot

import (
	"context"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"huimin/store"
)

// DueQueue is the part of the store the runner and its jobs need.
type DueQueue interface {
	Schedule(ctx context.Context, queue string, it store.DueItem) (bool, error)
	Claim(ctx context.Context, queue string, now time.Time, limit int, lease time.Duration) ([]store.DueItem, error)
	Ack(ctx context.Context, queue, id string, attempt int) error
	Retry(ctx context.Context, queue, id string, attempt int, due time.Time) error
	Cancel(ctx context.Context, queue, id string) error
	QueueStats(ctx context.Context, queue string, now time.Time) (store.QueueStats, error)
}

// Job is one kind of timed work on the runner: the items of a due-queue
// (the outbox's messages, the inbox's parked events, the desk's timers, and
// later return visits and campaigns), claimed a batch at a time with a
// lease and handed to Handle, which acknowledges or retries each item. An
// item is claimed by one instance at a time; one whose claimer dies comes
// back when its lease ends.
type Job struct {
	Queue string
	Batch int
	Lease time.Duration
	// Poll is how often other instances' work and work that fell due is
	// looked for (at least the runner's tick); Wake looks at once.
	Poll   time.Duration
	Handle func(ctx context.Context, items []store.DueItem)
}

// Runner is a process's one loop for timed work: it claims the due items of
// every job's queue and hands them to the job. robfig/cron only triggers
// periodic sweeps (a store's purge, monthly reports); everything that falls
// due at a time goes through here.
type Runner struct {
	q    DueQueue
	tick time.Duration
	now  func() time.Time
	log  *slog.Logger
	wake chan struct{}

	mu   sync.Mutex
	jobs []*job
}

type job struct {
	Job
	next time.Time // when its queue is next looked at without a Wake
}

// NewRunner returns a runner that ticks every tick (default 1s).
func NewRunner(q DueQueue, tick time.Duration, now func() time.Time, log *slog.Logger) *Runner {
	if tick <= 0 {
		tick = time.Second
	}
	if now == nil {
		now = time.Now
	}
	return &Runner{q: q, tick: tick, now: now, log: log.With("component", "runner"), wake: make(chan struct{}, 1)}
}

// Add registers a job; call it before Run.
func (r *Runner) Add(j Job) {
	if j.Batch <= 0 {
		j.Batch = 32
	}
	if j.Lease <= 0 {
		j.Lease = 2 * time.Minute
	}
	if j.Poll < r.tick {
		j.Poll = r.tick
	}
	r.mu.Lock()
	defer r.mu.Unlock()
	r.jobs = append(r.jobs, &job{Job: j})
}

// Wake makes the runner look at every queue now: this process just added
// work.
func (r *Runner) Wake() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Run does due work until ctx ends. The batch in hand is finished before it
// returns, so a shutdown abandons nothing it claimed.
func (r *Runner) Run(ctx context.Context) {
	t := time.NewTicker(r.tick)
	defer t.Stop()
	all := true
	for {
		r.round(ctx, all)
		select {
		case <-ctx.Done():
			return
		case <-r.wake:
			all = true
		case <-t.C:
			all = false
		}
	}
}

// drain does everything due in every queue now (tests, and a Wake).
func (r *Runner) drain(ctx context.Context) { r.round(ctx, true) }

// round drains the jobs whose poll is due, or all of them.
func (r *Runner) round(ctx context.Context, all bool) {
	r.mu.Lock()
	jobs := append([]*job(nil), r.jobs...)
	r.mu.Unlock()
	now := r.now()
	for _, j := range jobs {
		if !all && now.Before(j.next) {
			continue
		}
		j.next = now.Add(j.Poll)
		r.drainJob(ctx, j)
	}
}

// drainJob handles full batches until fewer than a batch is due.
func (r *Runner) drainJob(ctx context.Context, j *job) {
	for ctx.Err() == nil {
		items, err := r.q.Claim(ctx, j.Queue, r.now(), j.Batch, j.Lease)
		if err != nil {
			if ctx.Err() == nil {
				r.log.ErrorContext(ctx, "claim due items failed", "queue", j.Queue, "err", err)
			}
			return
		}
		if len(items) > 0 {
			// Claimed work is finished even during shutdown.
			r.handle(context.WithoutCancel(ctx), j, items)
		}
		if len(items) < j.Batch {
			return
		}
	}
}

// handle runs a job's batch; a panic is logged and the items come back
// when their lease ends, without stopping the runner.
func (r *Runner) handle(ctx context.Context, j *job, items []store.DueItem) {
	defer func() {
		if v := recover(); v != nil {
			r.log.ErrorContext(ctx, "job panicked; its items come back when their lease ends", "queue", j.Queue, "panic", fmt.Sprint(v))
		}
	}()
	j.Handle(ctx, items)
}

// ItemHandler does one due item; an error retries it with backoff.
type ItemHandler func(ctx context.Context, it store.DueItem) error

// Kinds is a job's Handle for items handled one at a time by kind: each
// item goes to the handler of its Kind (the "" entry takes items of no
// kind, scheduled before kinds were stored), is acknowledged when done,
// and retried with backoff (1 s doubling to 10 min, never given up) when
// its handler fails. An item of an unknown kind is logged and dropped.
func Kinds(q DueQueue, queue string, handlers map[string]ItemHandler, now func() time.Time, log *slog.Logger) func(ctx context.Context, items []store.DueItem) {
	log = log.With("queue", queue)
	return func(ctx context.Context, items []store.DueItem) {
		for _, it := range items {
			h, ok := handlers[it.Kind]
			if !ok {
				log.ErrorContext(ctx, "due item of unknown kind dropped", "item", it.ID, "kind", it.Kind)
				if err := q.Ack(ctx, queue, it.ID, it.Attempt); err != nil {
					log.WarnContext(ctx, "drop due item failed", "item", it.ID, "err", err)
				}
				continue
			}
			if err := runItem(ctx, h, it); err != nil {
				backoff := min(time.Second<<min(it.Attempt-1, 10), 10*time.Minute)
				log.WarnContext(ctx, "due item failed, will retry", "item", it.ID, "kind", it.Kind, "attempt", it.Attempt, "retry_in", backoff, "err", err)
				if err := q.Retry(ctx, queue, it.ID, it.Attempt, now().Add(backoff)); err != nil {
					log.WarnContext(ctx, "retry due item failed; its lease brings it back", "item", it.ID, "err", err)
				}
				continue
			}
			if err := q.Ack(ctx, queue, it.ID, it.Attempt); err != nil {
				log.WarnContext(ctx, "ack due item failed; it may run again, which its handler allows", "item", it.ID, "err", err)
			}
		}
	}
}

// runItem runs a handler, turning a panic into an error.
func runItem(ctx context.Context, h ItemHandler, it store.DueItem) (err error) {
	defer func() {
		if v := recover(); v != nil {
			err = fmt.Errorf("handler panicked: %v", v)
		}
	}()
	return h(ctx, it)
}
