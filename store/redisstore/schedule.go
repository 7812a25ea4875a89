package redisstore

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// scheduleBatcher gathers the Schedules that concurrent callers make at
// about the same moment (a sweep scheduling return visits, the outbox
// under load) and sends each queue's together, as one call of
// scheduleScript, through the queues' batcher. Redis spends more on
// starting a script (looking it up, setting up its arguments and its
// reply) than on the writes that schedule an item: with 64 callers a
// call for each item took 11–14 µs of Redis's CPU per item, one call for
// the items at hand 6–8 µs. As in the batcher, nothing waits for a timer:
// a batch goes out as soon as the previous one is answered, holding
// whatever has queued meanwhile, so a lone Schedule goes out at once and
// batches grow with the load.
type scheduleBatcher struct {
	keys   keys
	queues *batcher
	script *goredis.Script
	calls  chan *scheduleCall
	stop   chan struct{}
	done   chan struct{}

	// mu guards closed, as in batcher: do enqueues under the read lock,
	// so that once close has set it nothing more enters calls.
	mu     sync.RWMutex
	closed bool
	once   sync.Once
}

// scheduleCall is one Schedule waiting for its batch.
type scheduleCall struct {
	queue string
	id    string
	score int64
	value string
	// deadline is the caller's (zero for none): the pipeline that carries
	// the call gives up by then.
	deadline time.Time

	added bool
	err   error
	done  chan struct{}
}

const (
	// scheduleMax bounds the Schedules one batch takes.
	scheduleMax = 1024
	// scheduleChunk bounds the items one script call carries: Redis runs
	// nothing else while a script runs, and Lua's unpack takes at most
	// about 8,000 values.
	scheduleChunk = 256
)

func newScheduleBatcher(k keys, queues *batcher, script *goredis.Script) *scheduleBatcher {
	sb := &scheduleBatcher{keys: k, queues: queues, script: script, calls: make(chan *scheduleCall, scheduleMax),
		stop: make(chan struct{}), done: make(chan struct{})}
	go sb.run()
	return sb
}

// close stops the worker once the batch in hand is answered, and fails
// the calls still queued with goredis.ErrClosed.
func (sb *scheduleBatcher) close() {
	sb.once.Do(func() {
		sb.mu.Lock()
		sb.closed = true
		sb.mu.Unlock()
		close(sb.stop)
		<-sb.done
		for {
			select {
			case c := <-sb.calls:
				c.err = goredis.ErrClosed
				close(c.done)
			default:
				return
			}
		}
	})
}

// do schedules one item of queue in the next batch and reports whether
// it was added. Once queued, a call is always answered; ctx bounds the
// wait for room in the queue, and its deadline the pipeline that carries
// the call.
func (sb *scheduleBatcher) do(ctx context.Context, queue, id string, score int64, value string) (bool, error) {
	if err := ctx.Err(); err != nil {
		return false, err
	}
	c := &scheduleCall{queue: queue, id: id, score: score, value: value, done: make(chan struct{})}
	c.deadline, _ = ctx.Deadline()
	sb.mu.RLock()
	if sb.closed {
		sb.mu.RUnlock()
		return false, goredis.ErrClosed
	}
	select {
	case sb.calls <- c:
	default: // full: wait for room, or give up
		select {
		case sb.calls <- c:
		case <-ctx.Done():
			sb.mu.RUnlock()
			return false, ctx.Err()
		}
	}
	sb.mu.RUnlock()
	<-c.done
	return c.added, c.err
}

func (sb *scheduleBatcher) run() {
	defer close(sb.done)
	batch := make([]*scheduleCall, 0, scheduleMax)
	for {
		select {
		case <-sb.stop:
			return
		case first := <-sb.calls:
			batch = append(batch[:0], first)
		}
	fill:
		for len(batch) < scheduleMax {
			select {
			case c := <-sb.calls:
				batch = append(batch, c)
			default:
				break fill
			}
		}
		sb.send(batch)
	}
}

// schedulePart is one script call: calls of one queue.
type schedulePart struct {
	calls []*scheduleCall
	cmd   *goredis.Cmd
}

// send runs a batch, one script call per queue (and per scheduleChunk
// items), all in one pipeline, and answers every call in it.
func (sb *scheduleBatcher) send(batch []*scheduleCall) {
	// A call whose deadline has passed while it waited is answered at
	// once, unsent; the others' earliest deadline bounds the pipeline.
	now := time.Now()
	var end time.Time
	live := make([]*scheduleCall, 0, len(batch))
	for _, c := range batch {
		if !c.deadline.IsZero() {
			if !c.deadline.After(now) {
				c.err = context.DeadlineExceeded
				close(c.done)
				continue
			}
			if end.IsZero() || c.deadline.Before(end) {
				end = c.deadline
			}
		}
		live = append(live, c)
	}
	if len(live) == 0 {
		return
	}
	// Most batches hold one queue's items; a stable sort keeps each
	// queue's in the callers' order.
	slices.SortStableFunc(live, func(a, b *scheduleCall) int { return strings.Compare(a.queue, b.queue) })
	var parts []*schedulePart
	for i := 0; i < len(live); {
		j := i + 1
		for j < len(live) && j-i < scheduleChunk && live[j].queue == live[i].queue {
			j++
		}
		parts = append(parts, &schedulePart{calls: live[i:j]})
		i = j
	}
	ctx := context.Background()
	if !end.IsZero() {
		var cancel context.CancelFunc
		ctx, cancel = context.WithDeadline(ctx, end)
		defer cancel()
	}
	sb.exec(ctx, parts, "evalsha", sb.script.Hash())
	// A server that does not know the script yet (after a restart or a
	// failover) refused those calls, unrun: send them again with the source.
	var unknown []*schedulePart
	for _, p := range parts {
		if err := p.cmd.Err(); err != nil && strings.HasPrefix(err.Error(), "NOSCRIPT") {
			unknown = append(unknown, p)
		}
	}
	if len(unknown) > 0 {
		sb.exec(ctx, unknown, "eval", scheduleScript)
	}
	for _, p := range parts {
		p.answer()
	}
}

// exec sends the parts' script calls in one pipeline, setting each part's
// cmd; the results and errors are on the commands.
func (sb *scheduleBatcher) exec(ctx context.Context, parts []*schedulePart, verb, script string) {
	cmds := make([]goredis.Cmder, len(parts))
	for i, p := range parts {
		calls := p.calls
		args := make([]any, 0, 3+2+3*len(calls))
		keys := sb.keys.queue(calls[0].queue)
		args = append(args, verb, script, 2, keys[0], keys[1])
		for _, c := range calls {
			args = append(args, c.id, c.score, c.value)
		}
		p.cmd = goredis.NewCmd(ctx, args...)
		cmds[i] = p.cmd
	}
	_ = sb.queues.do(ctx, cmds...) // each command carries its own error
}

// answer gives each call of p its result: scheduleScript returns one
// character per item, 1 for added and 0 for present already.
func (p *schedulePart) answer() {
	res, err := p.cmd.Text()
	if err == nil && len(res) != len(p.calls) {
		err = fmt.Errorf("schedule script returned %q for %d items", res, len(p.calls))
	}
	for i, c := range p.calls {
		if err != nil {
			c.err = err
		} else {
			c.added = res[i] == '1'
		}
		close(c.done)
	}
}
