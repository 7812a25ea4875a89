package redisstore

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"huimin/store"
)

// The queue scripts take KEYS[1] due (zset), KEYS[2] items (hash) and,
// but for scheduleScript, KEYS[3] att (hash); see keys.go. An item has an
// entry in att once it has been claimed: Claim's HINCRBY makes it, so an
// item that waits costs no more than its due and items entries (an entry
// holding 0 took 56 of the 455 bytes of a pending item). Items scheduled
// before keep their 0 there, which claims and fences as before.

// scheduleScript adds each item unless its ID is present, and changes
// nothing for one that is: ARGV holds id, score, value for each item in
// turn. It returns one character per item, 1 if added and 0 if not (an ID
// twice in one call is added once, the first time). The scheduleBatcher
// (schedule.go) sends concurrent callers' items in one call. An item is
// present when due holds its ID (items holds it exactly then), so one
// ZMSCORE looks them all up and one HSET and one ZADD write the new ones:
// Redis spends more on starting a script, and on each command a script
// calls, than on the writes themselves (measured per item in Redis: 9.7
// µs as a script each, 5.7 µs as one HSETNX each in a shared script, 5.2
// µs this way).
const scheduleScript = `
local n = #ARGV / 3
local ids = {}
for i = 1, n do
	ids[i] = ARGV[3 * i - 2]
end
local scores = redis.call('ZMSCORE', KEYS[1], unpack(ids))
local h, z, added, seen = {}, {}, {}, {}
for i = 1, n do
	local id = ids[i]
	if scores[i] or seen[id] then
		added[i] = '0'
	else
		seen[id] = true
		h[#h + 1] = id
		h[#h + 1] = ARGV[3 * i]
		z[#z + 1] = ARGV[3 * i - 1]
		z[#z + 1] = id
		added[i] = '1'
	end
end
if #h > 0 then
	redis.call('HSET', KEYS[2], unpack(h))
	redis.call('ZADD', KEYS[1], unpack(z))
end
return table.concat(added)
`

// claimScript takes up to ARGV[2] items scored at or below ARGV[1] (now),
// earliest first, rescores each to ARGV[3] (the lease end) and increments
// its attempt. Returns a flat array of id, attempt, payload, score.
const claimScript = `
local hits = redis.call('ZRANGEBYSCORE', KEYS[1], '-inf', ARGV[1], 'WITHSCORES', 'LIMIT', 0, ARGV[2])
local out = {}
for i = 1, #hits, 2 do
	local id = hits[i]
	redis.call('ZADD', KEYS[1], ARGV[3], id)
	out[#out + 1] = id
	out[#out + 1] = redis.call('HINCRBY', KEYS[3], id, 1)
	out[#out + 1] = redis.call('HGET', KEYS[2], id)
	out[#out + 1] = tonumber(hits[i + 1])
end
return out
`

// cancelScript removes item ARGV[1] whatever its state.
const cancelScript = `
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[3], ARGV[1])
return 1
`

// ackScript removes an item if its attempt is still ARGV[2].
// ARGV[1] id. Returns 1 if removed, 0 if the lease was lost.
const ackScript = `
if redis.call('HGET', KEYS[3], ARGV[1]) ~= ARGV[2] then
	return 0
end
redis.call('ZREM', KEYS[1], ARGV[1])
redis.call('HDEL', KEYS[2], ARGV[1])
redis.call('HDEL', KEYS[3], ARGV[1])
return 1
`

// retryScript rescores an item to ARGV[3] if its attempt is still ARGV[2].
// ARGV[1] id. Returns 1 if rescheduled, 0 if the lease was lost.
const retryScript = `
if redis.call('HGET', KEYS[3], ARGV[1]) ~= ARGV[2] then
	return 0
end
redis.call('ZADD', KEYS[1], 'XX', ARGV[3], ARGV[1])
return 1
`

// kindMark starts a stored item value that carries a kind: mark, kind, NUL,
// payload. A value without the mark is a payload alone (an item stored
// before kinds were), so old items still claim.
const kindMark = "\x01"

// itemValue is what the items hash keeps for an item.
func itemValue(kind string, payload []byte) string {
	if kind == "" && (len(payload) == 0 || payload[0] != kindMark[0]) {
		return string(payload)
	}
	return kindMark + kind + "\x00" + string(payload)
}

// splitItemValue reads a stored item value back into kind and payload.
func splitItemValue(v string) (kind, payload string) {
	rest, ok := strings.CutPrefix(v, kindMark)
	if !ok {
		return "", v
	}
	kind, payload, _ = strings.Cut(rest, "\x00")
	return kind, payload
}

// checkNames refuses an empty queue name or item ID.
func checkNames(queue, id string) error {
	if err := checkKey("queue name", queue); err != nil {
		return err
	}
	return checkKey("item id", id)
}

// Schedule adds it to queue unless an item with it.ID is already there, in
// which case it changes nothing and reports added=false. The item starts
// with Attempt 0 whatever it.Attempt says. Due is kept to the microsecond.
func (s *Store) Schedule(ctx context.Context, queue string, it store.DueItem) (bool, error) {
	if err := checkNames(queue, it.ID); err != nil {
		return false, fmt.Errorf("schedule %s/%s: %w", queue, it.ID, err)
	}
	due, err := score(it.Due)
	if err != nil {
		return false, fmt.Errorf("schedule %s/%s: due: %w", queue, it.ID, err)
	}
	// Concurrent enqueues (a sweep scheduling return visits, the outbox
	// under load) share a script call and a round trip.
	added, err := s.schedules.do(ctx, queue, it.ID, due, itemValue(it.Kind, it.Payload))
	if err != nil {
		return false, fmt.Errorf("schedule %s/%s: %w", queue, it.ID, err)
	}
	return added, nil
}

// Claim takes up to limit items due at or before now, earliest first (ties
// by ID), hides each until now+lease, increments its Attempt and returns
// them, in one script. A returned item's Due is when it became claimable:
// its scheduled time, the time given to Retry, or the end of its previous
// lease.
func (s *Store) Claim(ctx context.Context, queue string, now time.Time, limit int, lease time.Duration) ([]store.DueItem, error) {
	items, err := s.claim(ctx, queue, now, limit, lease)
	if err != nil {
		return nil, fmt.Errorf("claim %s: %w", queue, err)
	}
	return items, nil
}

func (s *Store) claim(ctx context.Context, queue string, now time.Time, limit int, lease time.Duration) ([]store.DueItem, error) {
	if limit <= 0 || lease <= 0 {
		return nil, fmt.Errorf("limit %d and lease %v must be positive", limit, lease)
	}
	if err := checkKey("queue name", queue); err != nil {
		return nil, err
	}
	nowS, err := score(now)
	if err != nil {
		return nil, fmt.Errorf("now: %w", err)
	}
	until, err := score(now.Add(lease))
	if err != nil {
		return nil, fmt.Errorf("lease end: %w", err)
	}
	res, err := s.scripts.claim.Run(ctx, s.rdb, s.keys.queue(queue), nowS, limit, until).Slice()
	if err != nil {
		return nil, err
	}
	if len(res)%4 != 0 {
		return nil, fmt.Errorf("claim script returned %d values, want groups of 4", len(res))
	}
	out := make([]store.DueItem, 0, len(res)/4)
	for i := 0; i < len(res); i += 4 {
		id, ok1 := res[i].(string)
		attempt, ok2 := res[i+1].(int64)
		payload, ok3 := res[i+2].(string)
		due, ok4 := res[i+3].(int64)
		if !ok1 || !ok2 || !ok3 || !ok4 {
			return nil, fmt.Errorf("claim script returned %T %T %T %T, want string int string int", res[i], res[i+1], res[i+2], res[i+3])
		}
		kind, body := splitItemValue(payload)
		out = append(out, store.DueItem{ID: id, Kind: kind, Due: scoreTime(due), Payload: []byte(body), Attempt: int(attempt)})
	}
	return out, nil
}

// fenced runs a fencing script and turns its 0 into store.ErrLeaseLost.
// An attempt below 1 names no claim (Claim numbers them from 1): that is
// a lost lease too, answered without a round trip.
func (s *Store) fenced(ctx context.Context, script *goredis.Script, src, queue, id string, attempt int, extra ...any) error {
	if attempt < 1 {
		return store.ErrLeaseLost
	}
	args := append([]any{id, strconv.Itoa(attempt)}, extra...)
	ok, err := s.queues.script(ctx, script, src, s.keys.queue(queue), args...).Int()
	if err != nil {
		return err
	}
	if ok == 0 {
		return store.ErrLeaseLost
	}
	return nil
}

// Ack removes a claimed item. It returns store.ErrLeaseLost when the item
// was claimed again since (its Attempt is no longer attempt) or is gone.
func (s *Store) Ack(ctx context.Context, queue, id string, attempt int) error {
	err := s.fenced(ctx, s.scripts.ack, ackScript, queue, id, attempt)
	if errors.Is(err, store.ErrLeaseLost) {
		return err
	}
	if err != nil {
		return fmt.Errorf("ack %s/%s: %w", queue, id, err)
	}
	return nil
}

// Retry makes a claimed item due again at due, ending its lease, under the
// same fencing rule as Ack. Its Attempt is kept, so the next Claim
// increments it.
func (s *Store) Retry(ctx context.Context, queue, id string, attempt int, due time.Time) error {
	dueS, err := score(due)
	if err != nil {
		return fmt.Errorf("retry %s/%s: due: %w", queue, id, err)
	}
	err = s.fenced(ctx, s.scripts.retry, retryScript, queue, id, attempt, dueS)
	if errors.Is(err, store.ErrLeaseLost) {
		return err
	}
	if err != nil {
		return fmt.Errorf("retry %s/%s: %w", queue, id, err)
	}
	return nil
}

// Cancel removes an item whatever its state, in one script through the
// queues' batcher; an unknown ID is no error.
func (s *Store) Cancel(ctx context.Context, queue, id string) error {
	if err := s.queues.script(ctx, s.scripts.cancel, cancelScript, s.keys.queue(queue), id).Err(); err != nil {
		return fmt.Errorf("cancel %s/%s: %w", queue, id, err)
	}
	return nil
}

// QueueStats counts the queue's items and those claimable at now (due, or
// with a lease that has run out), in one pipelined round trip.
func (s *Store) QueueStats(ctx context.Context, queue string, now time.Time) (store.QueueStats, error) {
	nowS, err := score(now)
	if err != nil {
		return store.QueueStats{}, fmt.Errorf("queue stats %s: now: %w", queue, err)
	}
	k := s.keys.queue(queue)
	var total, due *goredis.IntCmd
	_, err = s.rdb.Pipelined(ctx, func(p goredis.Pipeliner) error {
		total = p.ZCard(ctx, k[0])
		due = p.ZCount(ctx, k[0], "-inf", strconv.FormatInt(nowS, 10))
		return nil
	})
	if err != nil {
		return store.QueueStats{}, fmt.Errorf("queue stats %s: %w", queue, err)
	}
	return store.QueueStats{Total: total.Val(), Due: due.Val()}, nil
}

// NextDue returns when the queue's earliest item becomes claimable: its due
// time, or the end of the lease it is under. ok is false for an empty queue.
func (s *Store) NextDue(ctx context.Context, queue string) (time.Time, bool, error) {
	zs, err := s.rdb.ZRangeWithScores(ctx, s.keys.queue(queue)[0], 0, 0).Result()
	if err != nil {
		return time.Time{}, false, fmt.Errorf("next due %s: %w", queue, err)
	}
	if len(zs) == 0 {
		return time.Time{}, false, nil
	}
	return scoreTime(int64(zs[0].Score)), true, nil
}
