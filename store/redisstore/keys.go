package redisstore

import (
	"fmt"
	"strings"
	"time"
)

// Every key the store writes, with P for Options.Prefix:
//
//	key                            type    value                                expires
//	P {s:<openid>}:sess            string  JSON store.Session                   PutSession's ttl
//	P {s:<openid>}:lock            string  the conversation lock's owner        LockSession's ttl
//	P dlv:<key>                    string  store.Delivery, MarshalBinary        BeginDelivery's, then FinishDelivery's ttl
//	P rpl:<timestamp>:<nonce>      string  "1", a request seen                  BeginDelivery's ttl
//	P cache:<key>                  string  the raw value                        SetCache's ttl
//	P lock:<name>                  string  the owner                            AcquireLock's ttl, renewed by its holder
//	P out:<message id>             string  JSON store.Outcome                   PutOutcome's ttl
//	P {q:<queue>}:due              zset    item IDs, score = due in µs          never (items leave by Ack or Cancel)
//	P {q:<queue>}:items            hash    item ID → payload bytes              never
//	P {q:<queue>}:att              hash    item ID → attempt count              never
//	P seq:<name>                   string  the counter (INCR)                   the first positive NextSeq ttl, from then; else never
//	P {t}:ticket:<id>              string  JSON store.Ticket                    never
//	P {t}:idx:owner:<officer id>   zset    ticket IDs, score = CreatedAt in µs  never (UpdateTicket moves members)
//	P {t}:idx:dept:<department>    zset    ticket IDs, score = CreatedAt in µs  never (UpdateTicket moves members)
//	P {t}:idx:citizen:<openid>     zset    ticket IDs, score = CreatedAt in µs  never (UpdateTicket moves members)
//	P {t}:open:owner:<officer id>  zset    open ticket IDs, scored as idx       never (UpdateTicket moves members)
//	P {t}:open:dept:<department>   zset    open ticket IDs, scored as idx       never (UpdateTicket moves members)
//	P {t}:open:citizen:<openid>    zset    open ticket IDs, scored as idx       never (UpdateTicket moves members)
//	P {t}:facts:<yyyy-mm>          hash    ticket ID → JSON store.Facts         never (the UTC month of CreatedAt)
//	P {t}:facts_built              string  the Facts version the index holds    never
//	P {t}:open_built               string  the open indexes' version (built)    never
//	P {bind}:officer_by_user       hash    user ID → officer ID                 never
//	P {bind}:user_by_officer       hash    officer ID → user ID last bound      never
//	P bindcode:<code>              string  the officer ID                       PutBindCode's ttl (TakeBindCode GETDELs it)
//	P consent:<openid>             string  the time of the agreement, RFC 3339  never (the proof of a citizen's consent)
//	P {sub}:rec:<openid>           hash    name, seen, c:<campaign> → µs        never (Unsubscribe deletes it)
//	P {sub}:camp:<campaign>        zset    openids, score 0 (paged BYLEX)       never (Unsubscribe removes members)
//	P {tally:<name>}:seen          set     the keys counted                     Tally's ttl, from its last change
//	P {tally:<name>}:n             hash    field → count                        Tally's ttl, from its last change
//
// The three keys of a queue share the hash tag {q:<queue>}, so they live in
// one Redis Cluster slot and one Lua script may touch them all. A score is
// the due time (or, while an item is claimed, the end of its lease) in unix
// microseconds: an integer below 2^53 until the year 2255, so a float64
// score holds it exactly.
//
// Every ticket and every ticket index share the one hash tag {t}: a ticket
// and its index entries must change together (UpdateTicket is one script
// that replaces the ticket and moves it from its old owner, department and
// citizen indexes to its new ones, which can be any index keys), and a
// script may only touch keys of one Cluster slot. One slot for all tickets is acceptable at
// a district bureau's volume, thousands of tickets a year. An index is
// scored like a queue, by CreatedAt in µs, so ZRANGE gives oldest first.
//
// The open indexes hold the same IDs as idx, but only of the tickets whose
// State is open (store.TicketState.Open): the scripts that write a ticket
// add it to them or take it out as it opens and finishes, so that an
// officer's open tickets are read, and counted with ZCARD, without reading
// the year of finished ones beside them in idx. open_built marks that they
// hold the tickets written before they existed too (see openindex.go).
//
// The facts of a ticket (store.FactsOf: what the published results count)
// sit in the hash of the UTC month the ticket was received in, written by
// the scripts that write the ticket, so they share its tag. A month is the
// unit results read (a month, a quarter, a year): TicketFacts reads whole
// months with HGETALL and keeps the facts inside its range. A hash per
// month rather than a zset by time and a hash by ID costs one key per
// month and no second look-up. facts_built marks that the index holds
// every ticket, and for which shape of store.Facts: BuildIndexes fills it
// from the tickets written before it existed, or before Facts changed
// (see build.go).
//
// The two binding hashes share the tag {bind} because BindOfficer changes
// both in one script. They are hashes, not a key per user and per officer,
// because BindOfficer must also clear the entry of the officer a user
// leaves, which it learns only by reading: in a hash, that entry is a field
// of a key the script declares. Counters and bind codes are used one at a
// time and need no tag.
//
// Subscribers (subscription.go) share the tag {sub}, as tickets share {t}:
// Subscribe and Unsubscribe change a person's record and the set of any
// of their campaigns in one script. A tally's two keys share a tag of
// their own.
//
// NextSeq's PEXPIRE NX needs Redis 7.0, as BeginDelivery's SET NX GET does.

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

func (k keys) session(openID string) string { return k.prefix + "{s:" + openID + "}:sess" }

// sessionLock shares the session's hash tag: LockSession and
// SaveSessionUnlock take the lock and the session in one script.
func (k keys) sessionLock(openID string) string { return k.prefix + "{s:" + openID + "}:lock" }
func (k keys) delivery(key string) string       { return k.prefix + "dlv:" + key }
func (k keys) replay(key string) string         { return k.prefix + "rpl:" + key }
func (k keys) cache(key string) string          { return k.prefix + "cache:" + key }
func (k keys) lock(name string) string          { return k.prefix + "lock:" + name }
func (k keys) outcome(id string) string         { return k.prefix + "out:" + id }
func (k keys) seq(name string) string           { return k.prefix + "seq:" + name }
func (k keys) bindCode(code string) string      { return k.prefix + "bindcode:" + code }
func (k keys) ticket(id string) string          { return k.prefix + "{t}:ticket:" + id }
func (k keys) consent(openID string) string     { return k.prefix + "consent:" + openID }

// subscriber is a reminder subscriber's record.
func (k keys) subscriber(openID string) string { return k.prefix + "{sub}:rec:" + openID }

// campaignSubscribers is the set of a campaign's subscribers; with "" the
// prefix the scripts add a campaign ID to.
func (k keys) campaignSubscribers(campaign string) string { return k.prefix + "{sub}:camp:" + campaign }

// tally returns a tally's keys in the order tallyScript expects them:
// KEYS[1] the keys counted, KEYS[2] the counts.
func (k keys) tally(name string) []string {
	tag := k.prefix + "{tally:" + name + "}"
	return []string{tag + ":seen", tag + ":n"}
}

// factsMonth formats the month in the key of a facts hash.
const factsMonth = "2006-01"

// facts is the hash of the facts of the tickets received in the UTC month
// of created.
func (k keys) facts(created time.Time) string {
	return k.prefix + "{t}:facts:" + created.UTC().Format(factsMonth)
}

// factsBuilt marks the facts index as holding every ticket.
func (k keys) factsBuilt() string { return k.prefix + "{t}:facts_built" }

// openBuilt marks the open indexes as holding every open ticket.
func (k keys) openBuilt() string { return k.prefix + "{t}:open_built" }

// tickets is the SCAN pattern of every ticket key: the prefix with its
// glob characters escaped.
func (k keys) tickets() string {
	var b strings.Builder
	for _, r := range k.prefix {
		if strings.ContainsRune(`*?[]\`, r) {
			b.WriteByte('\\')
		}
		b.WriteRune(r)
	}
	return b.String() + "{t}:ticket:*"
}

// Ticket index kinds, the <kind> in P {t}:idx:<kind>:<value>.
const (
	indexOwner      = "owner"
	indexDepartment = "dept"
	indexCitizen    = "citizen"
)

// ticketIndex is the index of the tickets whose kind field is value.
func (k keys) ticketIndex(kind, value string) string {
	return k.prefix + "{t}:idx:" + kind + ":" + value
}

// openIndex is the index of the open tickets whose kind field is value.
func (k keys) openIndex(kind, value string) string {
	return k.prefix + "{t}:open:" + kind + ":" + value
}

// bindings returns the binding hashes in the order bindOfficerScript
// expects them: KEYS[1] officer_by_user, KEYS[2] user_by_officer.
func (k keys) bindings() []string {
	tag := k.prefix + "{bind}"
	return []string{tag + ":officer_by_user", tag + ":user_by_officer"}
}

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
