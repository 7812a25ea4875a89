package redisstore

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"huimin/store"
)

// The facts index (see keys.go): one hash per UTC month, ticket ID → JSON
// store.Facts, written by CreateTicket's and UpdateTicket's scripts with
// the ticket itself. Tickets written before the index existed get their
// facts from BuildFacts.

// backfillFactsScript writes one ticket's facts if the ticket still holds
// the bytes they were made from; otherwise a write of the ticket came in
// between, and that write stored fresher facts. KEYS[1] the ticket,
// KEYS[2] the facts hash; ARGV[1] the ticket's JSON as read, ARGV[2] the
// id, ARGV[3] the facts' JSON. Returns 1 if written, else 0.
const backfillFactsScript = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
	return 0
end
redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])
return 1
`

// scanCount and backfillBatch pace BuildFacts. It finds the tickets with
// SCAN, which walks the whole keyspace, and the keyspace holds far more
// than tickets (every message leaves a delivery and a replay key for a
// day): scanCount keys a call keeps the round trips few (a keyspace of
// 3.1 million keys, none of them tickets, took 7 s on the test machine).
// It reads and indexes the tickets found backfillBatch at a time, with
// one MGET and one pipeline of scripts.
const (
	scanCount     = 10_000
	backfillBatch = 500
)

// factsBounds clamps [from, to) to the times tickets can be received in,
// the years 1970 to 2199 (checkTicket), so that a wide range reads no
// month it need not.
func factsBounds(from, to time.Time) (time.Time, time.Time) {
	if floor := time.Date(minQueueYear, 1, 1, 0, 0, 0, 0, time.UTC); from.Before(floor) {
		from = floor
	}
	if end := time.Date(endQueueYear, 1, 1, 0, 0, 0, 0, time.UTC); to.After(end) {
		to = end
	}
	return from, to
}

// TicketFacts calls fn with the facts of every ticket received (CreatedAt)
// in [from, to), oldest first (by CreatedAt, then ID), and stops at fn's
// first error, which it returns as it is.
//
// It reads the month hashes overlapping the range: first how many facts
// each holds (HLEN, one pipeline), then each month that has any with one
// HGETALL, keeping those inside the range. HGETALL rather than HSCAN: a
// month is read in one consistent step, with no duplicates to drop, and
// in less of Redis's time. For a month of 8,500 facts (30 times a
// district's volume; BenchmarkTicketFacts, two runs on a busy two-CPU
// machine) HGETALL took Redis 3.9 to 6.8 ms in one call, HSCAN in pages
// of 1,000 5.8 to 12.5 ms in nine calls of 0.6 to 1.4 ms; at a
// district's few hundred a month, HGETALL takes well under a
// millisecond. Only a month of some 50,000 facts would block Redis long
// enough (25 to 40 ms) to make paging worth its cost. It talks to Redis
// directly, not through the batchers, so that a month's large reply holds
// up no message's pipeline. fn runs between reads, never while Redis
// works for this call.
//
// The first call on a Store builds the index if it was never built (see
// BuildFacts).
func (s *Store) TicketFacts(ctx context.Context, from, to time.Time, fn func(store.Facts) error) error {
	if _, err := s.buildFacts(ctx); err != nil {
		return fmt.Errorf("ticket facts: %w", err)
	}
	months, err := s.factsMonths(ctx, from, to)
	if err != nil {
		return fmt.Errorf("ticket facts: %w", err)
	}
	for _, month := range months {
		facts, err := s.monthFacts(ctx, month, from, to)
		if err != nil {
			return fmt.Errorf("ticket facts: %w", err)
		}
		for _, f := range facts {
			if err := fn(f); err != nil {
				return err
			}
		}
	}
	return nil
}

// factsMonths returns the keys of the month hashes that overlap [from, to)
// and hold facts, in time order.
func (s *Store) factsMonths(ctx context.Context, from, to time.Time) ([]string, error) {
	from, to = factsBounds(from, to)
	if !from.Before(to) {
		return nil, nil
	}
	first := from.UTC()
	var keys []string
	for m := time.Date(first.Year(), first.Month(), 1, 0, 0, 0, 0, time.UTC); m.Before(to); m = m.AddDate(0, 1, 0) {
		keys = append(keys, s.keys.facts(m))
	}
	lens := make([]*goredis.IntCmd, len(keys))
	_, err := s.rdb.Pipelined(ctx, func(p goredis.Pipeliner) error {
		for i, k := range keys {
			lens[i] = p.HLen(ctx, k)
		}
		return nil
	})
	if err != nil {
		return nil, err
	}
	out := keys[:0]
	for i, k := range keys {
		if lens[i].Val() > 0 {
			out = append(out, k)
		}
	}
	return out, nil
}

// monthFacts reads one month's hash and returns its facts received in
// [from, to), in order.
func (s *Store) monthFacts(ctx context.Context, key string, from, to time.Time) ([]store.Facts, error) {
	all, err := s.rdb.HGetAll(ctx, key).Result()
	if err != nil {
		return nil, err
	}
	out := make([]store.Facts, 0, len(all))
	for id, raw := range all {
		var f store.Facts
		if err := json.Unmarshal([]byte(raw), &f); err != nil {
			return nil, fmt.Errorf("decode facts of %s: %w", id, err)
		}
		if !f.CreatedAt.Before(from) && f.CreatedAt.Before(to) {
			out = append(out, f)
		}
	}
	slices.SortFunc(out, compareFacts)
	return out, nil
}

// compareFacts orders facts by CreatedAt, then ID.
func compareFacts(a, b store.Facts) int {
	return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), strings.Compare(a.ID, b.ID))
}

// BuildFacts fills the facts index from every stored ticket, unless a
// marker says it was built for this shape of store.Facts (factsVersion);
// it returns how many tickets' facts it wrote (0 when the index was built
// before). Tickets written since the index exists have their facts
// already: this is for those written by earlier versions, which wrote no
// facts or facts of another shape.
//
// It is safe to run from several instances at once and beside writes of
// tickets: each ticket's facts are written by a script that first checks
// the ticket still holds the bytes the facts were made from (a write in
// between wrote fresher facts itself). Only once every ticket is indexed
// is the marker set, so an interrupted build starts again at the next
// call. To build the index again (say, after an older version wrote
// tickets beside this one in a rolling deploy), delete the marker key
// {t}:facts_built and restart.
//
// TicketFacts calls it first, once per Store; call it at start-up to have
// the work done before results are first read.
func (s *Store) BuildFacts(ctx context.Context) (int, error) {
	n, err := s.buildFacts(ctx)
	if err != nil {
		return n, fmt.Errorf("build ticket facts: %w", err)
	}
	return n, nil
}

func (s *Store) buildFacts(ctx context.Context) (int, error) {
	if s.factsBuilt.Load() {
		return 0, nil
	}
	// One build per Store at a time: concurrent first calls wait for it.
	s.factsMu.Lock()
	defer s.factsMu.Unlock()
	if s.factsBuilt.Load() {
		return 0, nil
	}
	marker, version := s.keys.factsBuilt(), store.FactsVersion()
	built, err := s.rdb.Get(ctx, marker).Result()
	if err != nil && !errors.Is(err, goredis.Nil) {
		return 0, err
	}
	if built == version {
		s.factsBuilt.Store(true)
		return 0, nil
	}
	// Every ticket lives in the {t} slot: on a cluster, SCAN must run on
	// the master that holds it, since SCAN sees one node's keys.
	var node goredis.Cmdable = s.rdb
	if cc, ok := s.rdb.(*goredis.ClusterClient); ok {
		if node, err = cc.MasterForKey(ctx, marker); err != nil {
			return 0, err
		}
	}
	var (
		cursor uint64
		total  int
	)
	for {
		var page []string
		page, cursor, err = node.Scan(ctx, cursor, s.keys.tickets(), scanCount).Result()
		if err != nil {
			return total, err
		}
		for batch := range slices.Chunk(page, backfillBatch) {
			n, err := s.backfill(ctx, batch)
			total += n
			if err != nil {
				return total, err
			}
		}
		if cursor == 0 {
			break
		}
	}
	if err := s.rdb.Set(ctx, marker, version, 0).Err(); err != nil {
		return total, err
	}
	s.factsBuilt.Store(true)
	return total, nil
}

// backfill reads the tickets at keys (one MGET: they share the {t} slot)
// and writes the facts of those still there, and returns how many it
// wrote.
func (s *Store) backfill(ctx context.Context, keys []string) (int, error) {
	if len(keys) == 0 {
		return 0, nil
	}
	vals, err := s.rdb.MGet(ctx, keys...).Result()
	if err != nil {
		return 0, err
	}
	raws := make([][]byte, len(keys))
	for i, v := range vals {
		if raw, ok := v.(string); ok {
			raws[i] = []byte(raw)
		} // else gone since SCAN saw it
	}
	return s.backfillTickets(ctx, keys, raws)
}

// backfillTickets writes, for each ticket key with its JSON as read (nil
// for none), the ticket's facts if the key still holds those bytes, in one
// pipeline, and returns how many it wrote.
func (s *Store) backfillTickets(ctx context.Context, keys []string, raws [][]byte) (int, error) {
	var cmds []*goredis.Cmd
	_, err := s.rdb.Pipelined(ctx, func(p goredis.Pipeliner) error {
		for i, raw := range raws {
			if raw == nil {
				continue
			}
			var t store.Ticket
			if err := json.Unmarshal(raw, &t); err != nil {
				return fmt.Errorf("decode ticket %s: %w", keys[i], err)
			}
			facts, err := json.Marshal(store.FactsOf(t))
			if err != nil {
				return err
			}
			// EVAL, not EVALSHA: a pipeline cannot fall back on NOSCRIPT,
			// and Redis caches the script's compiled form anyway.
			cmds = append(cmds, s.scripts.backfillFacts.Eval(ctx, p, []string{keys[i], s.keys.facts(t.CreatedAt)}, raw, t.ID, facts))
		}
		return nil
	})
	if err != nil {
		return 0, err
	}
	var n int
	for _, c := range cmds {
		w, err := c.Int()
		if err != nil {
			return n, err // cannot happen: Pipelined returned the first error
		}
		n += w
	}
	return n, nil
}
