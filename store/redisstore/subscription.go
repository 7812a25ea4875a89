package redisstore

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"huimin/store"
)

// A subscriber is the hash {sub}:rec:<openid> with the fields name, seen
// (LastSeen in unix µs) and c:<campaign> (the opt-in time in unix µs); each
// campaign's subscribers are the zset {sub}:camp:<campaign>, every member
// scored 0 so that ZRANGE BYLEX pages through them by openid with a cursor
// that stays valid as people come and go. One hash tag for all of them:
// Subscribe and Unsubscribe change a record and any campaign's set in one
// script.

// subscribeScript: KEYS[1] the record; ARGV[1] openid, ARGV[2] name ("":
// keep), ARGV[3] the time in µs, ARGV[4] the campaign sets' key prefix,
// ARGV[5…] campaign IDs. Returns the record's HGETALL.
const subscribeScript = `
for i = 5, #ARGV do
	redis.call('HSETNX', KEYS[1], 'c:' .. ARGV[i], ARGV[3])
	redis.call('ZADD', ARGV[4] .. ARGV[i], 0, ARGV[1])
end
if ARGV[2] ~= '' then
	redis.call('HSET', KEYS[1], 'name', ARGV[2])
end
local seen = redis.call('HGET', KEYS[1], 'seen')
if not seen or tonumber(seen) < tonumber(ARGV[3]) then
	redis.call('HSET', KEYS[1], 'seen', ARGV[3])
end
return redis.call('HGETALL', KEYS[1])
`

// unsubscribeScript: KEYS[1] the record; ARGV[1] openid, ARGV[2] the
// campaign sets' key prefix. Returns the campaign IDs removed.
const unsubscribeScript = `
local fields = redis.call('HKEYS', KEYS[1])
local out = {}
for _, f in ipairs(fields) do
	if string.sub(f, 1, 2) == 'c:' then
		local id = string.sub(f, 3)
		redis.call('ZREM', ARGV[2] .. id, ARGV[1])
		table.insert(out, id)
	end
end
redis.call('DEL', KEYS[1])
return out
`

// seenScript: KEYS[1] the record; ARGV[1] the time in µs. Only an
// existing record, only forward.
const seenScript = `
if redis.call('EXISTS', KEYS[1]) == 0 then return 0 end
local seen = redis.call('HGET', KEYS[1], 'seen')
if not seen or tonumber(seen) < tonumber(ARGV[1]) then
	redis.call('HSET', KEYS[1], 'seen', ARGV[1])
end
return 1
`

// tallyScript: KEYS[1] the keys counted, KEYS[2] the counts; ARGV[1] key,
// ARGV[2] field, ARGV[3] n, ARGV[4] ttl in ms. Returns {added, HGETALL}.
const tallyScript = `
local added = redis.call('SADD', KEYS[1], ARGV[1])
if added == 1 then
	redis.call('HINCRBY', KEYS[2], ARGV[2], ARGV[3])
end
redis.call('PEXPIRE', KEYS[1], ARGV[4])
redis.call('PEXPIRE', KEYS[2], ARGV[4])
return {added, redis.call('HGETALL', KEYS[2])}
`

// Subscribe opts openID in to campaigns, keeping earlier opt-in times, in
// one script.
func (s *Store) Subscribe(ctx context.Context, openID, name string, campaigns []string, at time.Time) (store.Subscriber, error) {
	if err := checkKey("openid", openID); err != nil {
		return store.Subscriber{}, fmt.Errorf("subscribe: %w", err)
	}
	args := []any{openID, name, at.UnixMicro(), s.keys.campaignSubscribers("")}
	for _, c := range campaigns {
		if err := checkKey("campaign id", c); err != nil {
			return store.Subscriber{}, fmt.Errorf("subscribe %s: %w", openID, err)
		}
		args = append(args, c)
	}
	res, err := s.scripts.subscribe.Run(ctx, s.rdb, []string{s.keys.subscriber(openID)}, args...).StringSlice()
	if err != nil {
		return store.Subscriber{}, fmt.Errorf("subscribe %s: %w", openID, err)
	}
	return subscriberOf(openID, pairs(res))
}

// pairs turns HGETALL's flat reply into a map.
func pairs(flat []string) map[string]string {
	m := make(map[string]string, len(flat)/2)
	for i := 0; i+1 < len(flat); i += 2 {
		m[flat[i]] = flat[i+1]
	}
	return m
}

// subscriberOf decodes a subscriber's hash.
func subscriberOf(openID string, h map[string]string) (store.Subscriber, error) {
	sub := store.Subscriber{OpenID: openID, Name: h["name"], Campaigns: map[string]time.Time{}}
	for f, v := range h {
		us, err := strconv.ParseInt(v, 10, 64)
		switch {
		case f == "seen" && err == nil:
			sub.LastSeen = time.UnixMicro(us).UTC()
		case strings.HasPrefix(f, "c:") && err == nil:
			sub.Campaigns[f[2:]] = time.UnixMicro(us).UTC()
		case f != "name":
			return sub, fmt.Errorf("subscriber %s: bad field %s=%q", openID, f, v)
		}
	}
	return sub, nil
}

// Unsubscribe removes openID from every campaign, in one script.
func (s *Store) Unsubscribe(ctx context.Context, openID string) ([]string, error) {
	if err := checkKey("openid", openID); err != nil {
		return nil, fmt.Errorf("unsubscribe: %w", err)
	}
	ids, err := s.scripts.unsubscribe.Run(ctx, s.rdb, []string{s.keys.subscriber(openID)}, openID, s.keys.campaignSubscribers("")).StringSlice()
	if errors.Is(err, goredis.Nil) {
		return nil, nil
	}
	if err != nil {
		return nil, fmt.Errorf("unsubscribe %s: %w", openID, err)
	}
	if len(ids) == 0 {
		return nil, nil
	}
	slices.Sort(ids)
	return ids, nil
}

// Subscription reads openID's record.
func (s *Store) Subscription(ctx context.Context, openID string) (store.Subscriber, error) {
	h, err := s.rdb.HGetAll(ctx, s.keys.subscriber(openID)).Result()
	if err != nil {
		return store.Subscriber{}, fmt.Errorf("subscription %s: %w", openID, err)
	}
	if len(h) == 0 {
		return store.Subscriber{}, store.ErrNotFound
	}
	return subscriberOf(openID, h)
}

// Subscribers pages through a campaign's set with ZRANGE BYLEX and reads
// the page's records in one pipeline.
func (s *Store) Subscribers(ctx context.Context, campaign, after string, limit int) ([]store.Subscriber, error) {
	if limit <= 0 {
		return nil, nil
	}
	start := "-"
	if after != "" {
		start = "(" + after
	}
	ids, err := s.rdb.ZRangeArgs(ctx, goredis.ZRangeArgs{Key: s.keys.campaignSubscribers(campaign), Start: start, Stop: "+",
		ByLex: true, Count: int64(limit)}).Result()
	if err != nil {
		return nil, fmt.Errorf("subscribers of %s: %w", campaign, err)
	}
	if len(ids) == 0 {
		return nil, nil
	}
	cmds := make([]*goredis.MapStringStringCmd, len(ids))
	_, err = s.rdb.Pipelined(ctx, func(p goredis.Pipeliner) error {
		for i, id := range ids {
			cmds[i] = p.HGetAll(ctx, s.keys.subscriber(id))
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("subscribers of %s: %w", campaign, err)
	}
	out := make([]store.Subscriber, 0, len(ids))
	for i, id := range ids {
		h := cmds[i].Val()
		if len(h) == 0 {
			continue // left between the two reads
		}
		sub, err := subscriberOf(id, h)
		if err != nil {
			return nil, err
		}
		if _, ok := sub.Campaigns[campaign]; ok {
			out = append(out, sub)
		}
	}
	return out, nil
}

// Seen moves a subscriber's LastSeen forward, in one script.
func (s *Store) Seen(ctx context.Context, openID string, at time.Time) error {
	// On the message path (a new conversation): batched with the others.
	if err := s.batch.script(ctx, s.scripts.seen, seenScript, []string{s.keys.subscriber(openID)}, at.UnixMicro()).Err(); err != nil {
		return fmt.Errorf("seen %s: %w", openID, err)
	}
	return nil
}

// Tally counts key once under name, in one script.
func (s *Store) Tally(ctx context.Context, name, key, field string, n int64, ttl time.Duration) (map[string]int64, bool, error) {
	px, err := pxTTL(ttl)
	if err == nil {
		err = checkKey("tally name", name)
	}
	if err == nil {
		err = checkKey("tally key", key)
	}
	if err != nil {
		return nil, false, fmt.Errorf("tally %s: %w", name, err)
	}
	res, err := s.scripts.tally.Run(ctx, s.rdb, s.keys.tally(name), key, field, n, px.Milliseconds()).Slice()
	if err != nil {
		return nil, false, fmt.Errorf("tally %s: %w", name, err)
	}
	if len(res) != 2 {
		return nil, false, fmt.Errorf("tally %s: unexpected reply %v", name, res)
	}
	added, _ := res[0].(int64)
	flat, _ := res[1].([]any)
	counts := make(map[string]int64, len(flat)/2)
	for i := 0; i+1 < len(flat); i += 2 {
		f, _ := flat[i].(string)
		v, _ := flat[i+1].(string)
		c, err := strconv.ParseInt(v, 10, 64)
		if err != nil {
			return nil, false, fmt.Errorf("tally %s: field %s: %w", name, f, err)
		}
		counts[f] = c
	}
	return counts, added == 1, nil
}
