package redisstore

import (
	"fmt"
	"time"
)

// Every key the store writes, with P for Options.Prefix:
//
//	key                  type    value                          expires
//	P sess:<openid>      string  JSON store.Session             PutSession's ttl
//	P dlv:<key>          string  JSON store.Delivery            BeginDelivery's, then FinishDelivery's ttl
//	P cache:<key>        string  the raw value                  SetCache's ttl
//	P lock:<name>        string  the owner                      AcquireLock's ttl, renewed by its holder
//	P out:<message id>   string  JSON store.Outcome             PutOutcome's ttl
//	P {q:<queue>}:due    zset    item IDs, score = due in µs    never (items leave by Ack or Cancel)
//	P {q:<queue>}:items  hash    item ID → payload bytes        never
//	P {q:<queue>}:att    hash    item ID → attempt count        never
//
// The three keys of a queue share the hash tag {q:<queue>}, so they live in
// one Redis Cluster slot and one Lua script may touch them all. The other
// keys are used one at a time and need no tag. A score is the due time (or,
// while an item is claimed, the end of its lease) in unix microseconds:
// an integer below 2^53 until the year 2255, so a float64 score holds it
// exactly.

// DefaultPrefix starts every key when Options.Prefix is empty.
const DefaultPrefix = "huimin:"

// Time-related constants.
const (
	// ttlUnit is Redis's expiry resolution (PX); shorter TTLs round up to it.
	ttlUnit = time.Millisecond
	// minQueueYear and endQueueYear bound the times a queue accepts, so that
	// a zero time.Time is refused rather than sorted first, and every score
	// stays exact (see above).
	minQueueYear = 1970
	endQueueYear = 2200
)

// keys builds key names under one prefix.
type keys struct{ prefix string }

func (k keys) session(openID string) string { return k.prefix + "sess:" + openID }
func (k keys) delivery(key string) string   { return k.prefix + "dlv:" + key }
func (k keys) cache(key string) string      { return k.prefix + "cache:" + key }
func (k keys) lock(name string) string      { return k.prefix + "lock:" + name }
func (k keys) outcome(id string) string     { return k.prefix + "out:" + id }

// queue returns a queue's keys in the order the scripts expect them:
// KEYS[1] due, KEYS[2] items, KEYS[3] att.
func (k keys) queue(name string) []string {
	tag := k.prefix + "{q:" + name + "}"
	return []string{tag + ":due", tag + ":items", tag + ":att"}
}

// pxTTL rounds ttl up to Redis's millisecond resolution, refusing a TTL that
// would make the record dead on arrival.
func pxTTL(ttl time.Duration) (time.Duration, error) {
	if ttl <= 0 {
		return 0, fmt.Errorf("ttl %v is not positive", ttl)
	}
	return (ttl + ttlUnit - 1).Truncate(ttlUnit), nil
}

// score converts a queue time to its sorted-set score.
func score(t time.Time) (int64, error) {
	if y := t.Year(); y < minQueueYear || y >= endQueueYear {
		return 0, fmt.Errorf("time %v is outside the years %d to %d", t, minQueueYear, endQueueYear-1)
	}
	return t.UnixMicro(), nil
}

// scoreTime converts a score back to a time.
func scoreTime(us int64) time.Time { return time.UnixMicro(us).UTC() }
