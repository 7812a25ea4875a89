package redisstore

import (
	"context"
	"encoding/json"
	"fmt"
	"slices"

	goredis "github.com/redis/go-redis/v9"

	"huimin/store"
)

// The derived indexes — the facts (facts.go) and the open indexes
// (openindex.go) — are written by the scripts that write a ticket, so a
// ticket written since an index exists is in it. The tickets written
// before, by earlier versions, are put in by one pass over every ticket,
// BuildIndexes, which builds each index that its marker does not say is
// built (for this version of it), in the same SCAN.

// backfillScript puts one ticket in the derived indexes if the ticket
// still holds the bytes it was read as; otherwise a write of the ticket
// came in between, and that write indexed it itself, from fresher bytes.
// KEYS[1] the ticket, KEYS[2] its facts hash, KEYS[3..] the open indexes
// to join (none for a finished ticket, or when they are built); ARGV[1]
// the ticket's JSON as read, ARGV[2] the id, ARGV[3] the facts' JSON, or
// "" to leave the facts, ARGV[4] the score. Returns 1 if indexed, else 0.
const backfillScript = `
if redis.call('GET', KEYS[1]) ~= ARGV[1] then
	return 0
end
if ARGV[3] ~= '' then
	redis.call('HSET', KEYS[2], ARGV[2], ARGV[3])
end
for i = 3, #KEYS do
	redis.call('ZADD', KEYS[i], ARGV[4], ARGV[2])
end
return 1
`

// scanCount and backfillBatch pace BuildIndexes. It finds the tickets
// with SCAN, which walks the whole keyspace, and the keyspace holds far
// more than tickets (every message leaves a delivery and a replay key for
// a day): scanCount keys a call keeps the round trips few (a keyspace of
// 3.1 million keys, none of them tickets, took 7 s on the test machine).
// It reads and indexes the tickets found backfillBatch at a time, with
// one MGET and one pipeline of scripts.
const (
	scanCount     = 10_000
	backfillBatch = 500
)

// indexBuild says which derived indexes a pass builds.
type indexBuild struct{ facts, open bool }

// BuildIndexes fills the derived indexes from every stored ticket: the
// facts index, unless its marker says it was built for this shape of
// store.Facts (store.FactsVersion), and the open indexes, unless theirs
// says they were built (openIndexVersion). It does both in one pass over
// the tickets when both need it, and returns how many tickets it indexed
// (0 when every index was built before). Tickets written since an index
// exists are in it already: this is for those written by earlier
// versions, which wrote no facts, facts of another shape, or no open
// indexes.
//
// It is safe to run from several instances at once and beside writes of
// tickets: each ticket is indexed by a script that first checks the
// ticket still holds the bytes its entries were made from (a write in
// between indexed it itself, from fresher bytes). Only once every ticket
// is indexed is a marker set, so an interrupted build starts again at the
// next call. To build an index again (say, after an older version wrote
// tickets beside this one in a rolling deploy), delete its marker key,
// {t}:facts_built or {t}:open_built — for the open indexes, their keys
// {t}:open:* too, since a build only adds — and restart.
//
// TicketFacts calls it first, once per Store. Reads of open tickets do
// not: they read the full indexes until the open ones are built, as they
// are on the message path, where a first SCAN of a large keyspace must
// not run. Call it at start-up to have the work done before either is
// needed.
func (s *Store) BuildIndexes(ctx context.Context) (int, error) {
	n, err := s.buildIndexes(ctx)
	if err != nil {
		return n, fmt.Errorf("build ticket indexes: %w", err)
	}
	return n, nil
}

func (s *Store) buildIndexes(ctx context.Context) (int, error) {
	if s.factsBuilt.Load() && s.openBuilt.Load() {
		return 0, nil
	}
	// One build per Store at a time: concurrent first calls wait for it.
	s.buildMu.Lock()
	defer s.buildMu.Unlock()
	if s.factsBuilt.Load() && s.openBuilt.Load() {
		return 0, nil
	}
	factsMarker, factsVersion := s.keys.factsBuilt(), store.FactsVersion()
	openMarker := s.keys.openBuilt()
	// One MGET: the markers share the {t} slot.
	built, err := s.rdb.MGet(ctx, factsMarker, openMarker).Result()
	if err != nil {
		return 0, err
	}
	// A missing marker is nil, unequal to every version.
	need := indexBuild{facts: built[0] != any(factsVersion), open: built[1] != any(openIndexVersion)}
	if !need.facts {
		s.factsBuilt.Store(true)
	}
	if !need.open {
		s.openBuilt.Store(true)
	}
	if !need.facts && !need.open {
		return 0, nil
	}
	// Every ticket lives in the {t} slot: on a cluster, SCAN must run on
	// the master that holds it, since SCAN sees one node's keys.
	var node goredis.Cmdable = s.rdb
	if cc, ok := s.rdb.(*goredis.ClusterClient); ok {
		if node, err = cc.MasterForKey(ctx, factsMarker); err != nil {
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
			n, err := s.backfill(ctx, batch, need)
			total += n
			if err != nil {
				return total, err
			}
		}
		if cursor == 0 {
			break
		}
	}
	if need.facts {
		if err := s.rdb.Set(ctx, factsMarker, factsVersion, 0).Err(); err != nil {
			return total, err
		}
		s.factsBuilt.Store(true)
	}
	if need.open {
		if err := s.rdb.Set(ctx, openMarker, openIndexVersion, 0).Err(); err != nil {
			return total, err
		}
		s.openBuilt.Store(true)
	}
	return total, nil
}

// backfill reads the tickets at keys (one MGET: they share the {t} slot)
// and indexes those still there as need says, and returns how many it
// indexed.
func (s *Store) backfill(ctx context.Context, keys []string, need indexBuild) (int, error) {
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
	return s.backfillTickets(ctx, keys, raws, need)
}

// backfillTickets indexes, for each ticket key with its JSON as read (nil
// for none), the ticket as need says — its facts, its open index entries
// if it is open — if the key still holds those bytes, in one pipeline,
// and returns how many it indexed. A ticket with nothing to index (a
// finished one, when only the open indexes are built) costs no script.
func (s *Store) backfillTickets(ctx context.Context, keys []string, raws [][]byte, need indexBuild) (int, error) {
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
			var open []string
			if need.open && t.State.Open() {
				open = s.indexKeys(t, s.keys.openIndex)
			}
			var facts []byte
			if need.facts {
				var err error
				if facts, err = json.Marshal(store.FactsOf(t)); err != nil {
					return err
				}
			}
			if facts == nil && len(open) == 0 {
				continue
			}
			sc, err := score(t.CreatedAt)
			if err != nil {
				return fmt.Errorf("ticket %s: created at: %w", keys[i], err)
			}
			// EVAL, not EVALSHA: a pipeline cannot fall back on NOSCRIPT,
			// and Redis caches the script's compiled form anyway.
			scriptKeys := append([]string{keys[i], s.keys.facts(t.CreatedAt)}, open...)
			cmds = append(cmds, s.scripts.backfill.Eval(ctx, p, scriptKeys, raw, t.ID, string(facts), sc))
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
