package bot

import (
	"context"
	"log/slog"
	"time"

	"huimin/store"
)

// DueQueue is the part of the store a queue worker needs.
type DueQueue interface {
	Schedule(ctx context.Context, queue string, it store.DueItem) (bool, error)
	Claim(ctx context.Context, queue string, now time.Time, limit int, lease time.Duration) ([]store.DueItem, error)
	Ack(ctx context.Context, queue, id string, attempt int) error
	Retry(ctx context.Context, queue, id string, attempt int, due time.Time) error
	Cancel(ctx context.Context, queue, id string) error
	QueueStats(ctx context.Context, queue string, now time.Time) (store.QueueStats, error)
}

// queueRunner claims due items from one queue and hands each batch to
// handle. It wakes on its poll interval (items made due by other instances
// or by time) and at once when this process adds work (Wake).
type queueRunner struct {
	q      DueQueue
	queue  string
	batch  int
	lease  time.Duration
	poll   time.Duration
	now    func() time.Time
	log    *slog.Logger
	handle func(ctx context.Context, items []store.DueItem)
	wake   chan struct{}
}

func newQueueRunner(q DueQueue, queue string, batch int, lease, poll time.Duration, now func() time.Time, log *slog.Logger,
	handle func(ctx context.Context, items []store.DueItem)) *queueRunner {
	return &queueRunner{
		q: q, queue: queue, batch: batch, lease: lease, poll: poll, now: now,
		log: log.With("queue", queue), handle: handle, wake: make(chan struct{}, 1),
	}
}

// Wake makes the runner look for due items now.
func (r *queueRunner) Wake() {
	select {
	case r.wake <- struct{}{}:
	default:
	}
}

// Run claims and handles due items until ctx ends. The batch in hand is
// finished before it returns, so a shutdown does not abandon claimed work.
func (r *queueRunner) Run(ctx context.Context) {
	t := time.NewTicker(r.poll)
	defer t.Stop()
	for {
		r.drain(ctx)
		select {
		case <-ctx.Done():
			return
		case <-r.wake:
		case <-t.C:
		}
	}
}

// drain handles full batches until fewer than a batch is due.
func (r *queueRunner) drain(ctx context.Context) {
	for ctx.Err() == nil {
		items, err := r.q.Claim(ctx, r.queue, r.now(), r.batch, r.lease)
		if err != nil {
			if ctx.Err() == nil {
				r.log.ErrorContext(ctx, "claim due items failed", "err", err)
			}
			return
		}
		if len(items) > 0 {
			// Claimed work is finished even during shutdown.
			r.handle(context.WithoutCancel(ctx), items)
		}
		if len(items) < r.batch {
			return
		}
	}
}
