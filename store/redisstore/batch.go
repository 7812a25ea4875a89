package redisstore

import (
	"context"
	"errors"
	"strings"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// batcher sends the commands that concurrent callers issue at about the
// same moment to Redis together, in one pipeline: one write and one read
// for many commands instead of one of each per command. Under the
// webhook's load (hundreds of messages in flight, a few commands each)
// this takes most of the system calls and much of Redis's own work off
// every message. No command waits for a timer: a batch goes out as soon as
// a worker is free, holding whatever has queued meanwhile. A caller's
// commands travel together, in order, in one pipeline.
//
// It is used for the commands on every message's path (deliveries, the
// conversation lock and session, a user's facts); the rest of the store
// talks to Redis directly.
type batcher struct {
	rdb   goredis.UniversalClient
	queue chan *batchCall
	stop  chan struct{}
	wg    sync.WaitGroup
	max   int

	// mu guards closed: do enqueues under the read lock, so that once
	// close has set closed, nothing more enters the queue, and close can
	// answer whatever the workers left in it.
	mu     sync.RWMutex
	closed bool

	// calls keeps answered calls for the next ones: a message makes about
	// four, and each was two allocations (the call and its channel).
	calls sync.Pool
}

type batchCall struct {
	cmds []goredis.Cmder
	// done gets one value when the call is answered: whoever answers it
	// sends, and touches the call no more, so that its caller can reuse it.
	done chan struct{}
	// deadline is the caller's (zero for none): the pipeline that carries
	// the call gives up by then.
	deadline time.Time
}

// answer tells the call's caller that its commands have their results.
func (c *batchCall) answer() { c.done <- struct{}{} }

// batchTimeout bounds one pipeline, and so a caller's wait for it.
const batchTimeout = 5 * time.Second

func newBatcher(rdb goredis.UniversalClient, workers, max int) *batcher {
	b := &batcher{rdb: rdb, queue: make(chan *batchCall, workers*max), stop: make(chan struct{}), max: max}
	b.calls.New = func() any { return &batchCall{done: make(chan struct{}, 1)} }
	for range workers {
		b.wg.Go(b.run)
	}
	return b
}

// close stops the workers once they finish the batch in hand, and fails
// the calls still queued with goredis.ErrClosed.
func (b *batcher) close() {
	b.mu.Lock()
	b.closed = true
	b.mu.Unlock()
	close(b.stop)
	b.wg.Wait()
	for {
		select {
		case c := <-b.queue:
			for _, cmd := range c.cmds {
				cmd.SetErr(goredis.ErrClosed)
			}
			c.answer()
		default:
			return
		}
	}
}

// do runs cmds in the next batch, in order and in the same pipeline, and
// waits for their results, which are on the commands themselves. Once
// queued, a call is always answered, by its pipeline or by close; ctx
// bounds the wait for room in the queue, and its deadline bounds the
// pipeline that carries the call (the service's client applies context
// deadlines to its connections), so a caller with a deadline (the
// webhook's reply budget) is not held much past it by a Redis that hangs.
// The wait is a plain receive on the call's own channel: a select (over
// the stop channel, or the context's) locks each of its channels, and
// with hundreds of messages in flight that showed as 3–6% of the
// service's CPU.
//
// A command Redis refused for a passing state (see notNow: a new primary
// whose replicas have not followed it yet, during a failover) had no
// effect; it is sent again after a pause, until it is taken, the caller's
// deadline would pass, or notNowFor has gone by.
func (b *batcher) do(ctx context.Context, cmds ...goredis.Cmder) error {
	err := b.send(ctx, cmds)
	if err != nil && notNow(err) {
		err = b.again(ctx, cmds)
	}
	return err
}

// notNowFor bounds how long do sends a refused command again when the
// caller has no deadline; a failover's refusals last a second or two.
const notNowFor = 5 * time.Second

// again sends the commands of cmds that Redis refused as notNow again,
// pausing 20 ms and doubling to 320 ms in between, and returns the first
// error left on cmds.
func (b *batcher) again(ctx context.Context, cmds []goredis.Cmder) error {
	end := time.Now().Add(notNowFor)
	if d, ok := ctx.Deadline(); ok && d.Before(end) {
		end = d
	}
	pause := 20 * time.Millisecond
	for {
		var refused []goredis.Cmder
		for _, cmd := range cmds {
			if notNow(cmd.Err()) {
				refused = append(refused, cmd)
			}
		}
		if len(refused) == 0 || time.Now().Add(pause).After(end) {
			break
		}
		t := time.NewTimer(pause)
		select {
		case <-ctx.Done():
			t.Stop()
			return ctx.Err()
		case <-t.C:
		}
		if err := b.send(ctx, refused); err != nil && !notNow(err) {
			return err
		}
		pause = min(2*pause, 320*time.Millisecond)
	}
	return firstErr(cmds)
}

// notNow reports whether Redis refused a command for a state that passes
// by itself, before running it: a primary without the replicas
// min-replicas-to-write asks for (NOREPLICAS), a replica that is still
// loading or has not been promoted yet (LOADING, READONLY), a cluster
// moving slots or electing (TRYAGAIN, CLUSTERDOWN, MASTERDOWN). A script
// meets the refusal at its first write, so it has changed nothing either.
func notNow(err error) bool {
	// redis.Nil (a key not there: a new person's session, a message not
	// seen before) is the common answer, and go-redis's checks below
	// allocate for every error they look at.
	return err != nil && !errors.Is(err, goredis.Nil) && (goredis.IsNoReplicasError(err) || goredis.IsLoadingError(err) ||
		goredis.IsReadOnlyError(err) || goredis.IsTryAgainError(err) ||
		goredis.IsClusterDownError(err) || goredis.IsMasterDownError(err))
}

func firstErr(cmds []goredis.Cmder) error {
	for _, cmd := range cmds {
		if err := cmd.Err(); err != nil {
			return err
		}
	}
	return nil
}

// send queues cmds as one call and waits for its answer.
func (b *batcher) send(ctx context.Context, cmds []goredis.Cmder) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	c := b.calls.Get().(*batchCall)
	c.cmds = cmds
	c.deadline, _ = ctx.Deadline()
	b.mu.RLock()
	if b.closed {
		b.mu.RUnlock()
		b.calls.Put(c)
		return goredis.ErrClosed
	}
	select {
	case b.queue <- c:
	default: // the queue is full: wait for room, or give up
		select {
		case b.queue <- c:
		case <-ctx.Done():
			b.mu.RUnlock()
			b.calls.Put(c)
			return ctx.Err()
		}
	}
	b.mu.RUnlock()
	<-c.done
	c.cmds = nil
	b.calls.Put(c)
	return firstErr(cmds)
}

func (b *batcher) run() {
	batch := make([]*batchCall, 0, b.max)
	for {
		select {
		case <-b.stop:
			return
		case first := <-b.queue:
			batch = append(batch[:0], first)
		}
	fill:
		for len(batch) < b.max {
			select {
			case c := <-b.queue:
				batch = append(batch, c)
			default:
				break fill
			}
		}
		// The pipeline ends by batchTimeout, or by the earliest deadline
		// of the calls it carries; a call whose deadline has passed while
		// it waited for a worker is answered at once, unsent.
		now := time.Now()
		end := now.Add(batchTimeout)
		live := batch[:0]
		for _, c := range batch {
			switch {
			case c.deadline.IsZero():
			case !c.deadline.After(now):
				for _, cmd := range c.cmds {
					cmd.SetErr(context.DeadlineExceeded)
				}
				c.answer()
				continue
			case c.deadline.Before(end):
				end = c.deadline
			}
			live = append(live, c)
		}
		if len(live) == 0 {
			continue
		}
		ctx, cancel := context.WithDeadline(context.Background(), end)
		pipe := b.rdb.Pipeline()
		for _, c := range live {
			for _, cmd := range c.cmds {
				_ = pipe.Process(ctx, cmd) // queued; the result lands on cmd
			}
		}
		_, _ = pipe.Exec(ctx) // each command carries its own error
		cancel()
		for _, c := range live {
			c.answer()
		}
	}
}

// script runs a Lua script through the batcher: EVALSHA, and EVAL when
// the server does not know the script yet (after a restart or a failover).
func (b *batcher) script(ctx context.Context, s *goredis.Script, src string, keys []string, args ...any) *goredis.Cmd {
	return b.scriptWith(ctx, nil, s, src, keys, args...)
}

// scriptWith runs a script as script does, with the commands of with in
// the same pipeline after it; when the script has to go again as EVAL,
// it goes alone (with's commands have run).
func (b *batcher) scriptWith(ctx context.Context, with []goredis.Cmder, s *goredis.Script, src string, keys []string, args ...any) *goredis.Cmd {
	cmd := goredis.NewCmd(ctx, evalArgs("evalsha", s.Hash(), keys, args)...)
	if err := b.do(ctx, append([]goredis.Cmder{cmd}, with...)...); err == nil || !noScript(cmd.Err()) {
		return cmd
	}
	cmd = goredis.NewCmd(ctx, evalArgs("eval", src, keys, args)...)
	_ = b.do(ctx, cmd)
	return cmd
}

// noScript reports whether err is Redis's refusal of an EVALSHA whose
// script it does not know.
func noScript(err error) bool {
	return err != nil && strings.HasPrefix(err.Error(), "NOSCRIPT")
}

func evalArgs(verb, script string, keys []string, args []any) []any {
	out := make([]any, 0, 3+len(keys)+len(args))
	out = append(out, verb, script, len(keys))
	for _, k := range keys {
		out = append(out, k)
	}
	return append(out, args...)
}
