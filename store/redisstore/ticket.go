package redisstore

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"

	goredis "github.com/redis/go-redis/v9"

	"huimin/store"
)

// The ticket scripts take KEYS[1] the ticket, then facts hashes and index
// zsets, all under the hash tag {t} (see keys.go).

// createTicketScript stores a new ticket, its facts and its index entries.
// KEYS[2] the facts hash, KEYS[3..] the indexes; ARGV[1] JSON, ARGV[2]
// score, ARGV[3] id, ARGV[4] the facts' JSON. Returns 1 if created, 0 if
// the ID is taken.
const createTicketScript = `
if not redis.call('SET', KEYS[1], ARGV[1], 'NX') then
	return 0
end
redis.call('HSET', KEYS[2], ARGV[3], ARGV[4])
for i = 3, #KEYS do
	redis.call('ZADD', KEYS[i], ARGV[2], ARGV[3])
end
return 1
`

// updateTicketScript replaces a ticket if it still holds exactly ARGV[1]
// (the JSON the caller read), replaces its facts, removes it from its old
// indexes and adds it to its new ones. KEYS[2] is the facts hash of the
// stored CreatedAt, KEYS[3] that of the new one (the same key unless
// CreatedAt was corrected across a month), KEYS[4..ARGV[5]+3] the old
// indexes, the rest the new; ARGV[2] the new JSON, ARGV[3] its score,
// ARGV[4] the id, ARGV[6] the new facts' JSON. Returns 1 if replaced, 0 if
// the ticket changed since it was read, -1 if it is gone.
const updateTicketScript = `
local cur = redis.call('GET', KEYS[1])
if not cur then
	return -1
end
if cur ~= ARGV[1] then
	return 0
end
redis.call('SET', KEYS[1], ARGV[2])
if KEYS[2] ~= KEYS[3] then
	redis.call('HDEL', KEYS[2], ARGV[4])
end
redis.call('HSET', KEYS[3], ARGV[4], ARGV[6])
local old = tonumber(ARGV[5])
for i = 4, old + 3 do
	redis.call('ZREM', KEYS[i], ARGV[4])
end
for i = old + 4, #KEYS do
	redis.call('ZADD', KEYS[i], ARGV[3], ARGV[4])
end
return 1
`

// mgetBatch bounds the keys of one MGET in ListTickets.
const mgetBatch = 500

// checkTicket refuses a ticket the embedded store could not hold either:
// an empty ID, a CreatedAt outside the years 1970 to 2199 (a zero
// time.Time is a caller's bug and would sort first), or an indexed field
// containing NUL. It returns the CreatedAt score.
func checkTicket(t store.Ticket) (int64, error) {
	if err := checkKey("ticket id", t.ID); err != nil {
		return 0, err
	}
	sc, err := score(t.CreatedAt)
	if err != nil {
		return 0, fmt.Errorf("created at: %w", err)
	}
	return sc, checkIndexValues(t.Owner, t.Department, t.CitizenOpenID)
}

// checkIndexValues refuses index values containing NUL.
func checkIndexValues(values ...string) error {
	for _, v := range values {
		if strings.IndexByte(v, 0) >= 0 {
			return fmt.Errorf("indexed value %q contains NUL", v)
		}
	}
	return nil
}

// ticketIndexKeys returns the indexes t belongs to: those of its owner,
// department and citizen, and while it is open their open indexes too; an
// empty field is not indexed.
func (s *Store) ticketIndexKeys(t store.Ticket) []string {
	out := s.indexKeys(t, s.keys.ticketIndex)
	if t.State.Open() {
		out = append(out, s.indexKeys(t, s.keys.openIndex)...)
	}
	return out
}

// indexKeys returns the key that index gives each of t's indexed fields
// that is set.
func (s *Store) indexKeys(t store.Ticket, index func(kind, value string) string) []string {
	var out []string
	for _, ix := range []struct{ kind, value string }{
		{indexOwner, t.Owner},
		{indexDepartment, t.Department},
		{indexCitizen, t.CitizenOpenID},
	} {
		if ix.value != "" {
			out = append(out, index(ix.kind, ix.value))
		}
	}
	return out
}

// CreateTicket stores t with Version 1 (t.Version is ignored), its facts
// and its index entries, in one script; store.ErrExists when the ID is
// taken.
func (s *Store) CreateTicket(ctx context.Context, t store.Ticket) error {
	if err := s.createTicket(ctx, t); err != nil {
		return fmt.Errorf("create ticket %s: %w", t.ID, err)
	}
	return nil
}

func (s *Store) createTicket(ctx context.Context, t store.Ticket) error {
	sc, err := checkTicket(t)
	if err != nil {
		return err
	}
	t.Version = 1
	body, err := json.Marshal(t)
	if err != nil {
		return err
	}
	facts, err := json.Marshal(store.FactsOf(t))
	if err != nil {
		return err
	}
	keys := append([]string{s.keys.ticket(t.ID), s.keys.facts(t.CreatedAt)}, s.ticketIndexKeys(t)...)
	created, err := s.queues.script(ctx, s.scripts.createTicket, createTicketScript, keys, body, sc, t.ID, facts).Int()
	if err != nil {
		return err
	}
	if created == 0 {
		return store.ErrExists
	}
	return nil
}

// GetTicket returns the ticket, or store.ErrNotFound for an unknown ID.
func (s *Store) GetTicket(ctx context.Context, id string) (store.Ticket, error) {
	var t store.Ticket
	err := s.getJSON(ctx, s.keys.ticket(id), &t)
	if errors.Is(err, store.ErrNotFound) {
		return store.Ticket{}, store.ErrNotFound
	}
	if err != nil {
		return store.Ticket{}, fmt.Errorf("get ticket %s: %w", id, err)
	}
	return t, nil
}

// UpdateTicket replaces the stored ticket with t if the stored Version is
// t.Version, storing and returning it with Version+1, and replaces its
// facts and moves it between indexes (the open ones as it opens or
// finishes) in the same script. It returns store.ErrConflict when the
// ticket changed since t was read, store.ErrNotFound for an unknown ID.
//
// It reads the stored ticket first, to learn the indexes to leave (a
// script must name its keys up front), and the script replaces the ticket
// only if it still holds the bytes read: two round trips, and no window.
func (s *Store) UpdateTicket(ctx context.Context, t store.Ticket) (store.Ticket, error) {
	next, err := s.updateTicket(ctx, t)
	if errors.Is(err, store.ErrNotFound) {
		return store.Ticket{}, store.ErrNotFound
	}
	if err != nil {
		return store.Ticket{}, fmt.Errorf("update ticket %s: %w", t.ID, err)
	}
	return next, nil
}

func (s *Store) updateTicket(ctx context.Context, t store.Ticket) (store.Ticket, error) {
	sc, err := checkTicket(t)
	if err != nil {
		return store.Ticket{}, err
	}
	key := s.keys.ticket(t.ID)
	// Reads and writes of tickets go through the queues' batcher: the
	// desk's timers work many tickets at once (a morning's visits).
	get := goredis.NewStringCmd(ctx, "get", key)
	err = s.queues.do(ctx, get)
	raw, _ := get.Bytes()
	if errors.Is(err, goredis.Nil) {
		return store.Ticket{}, store.ErrNotFound
	}
	if err != nil {
		return store.Ticket{}, err
	}
	var cur store.Ticket
	if err := json.Unmarshal(raw, &cur); err != nil {
		return store.Ticket{}, fmt.Errorf("decode stored ticket: %w", err)
	}
	if cur.Version != t.Version {
		return store.Ticket{}, fmt.Errorf("stored version %d, given %d: %w", cur.Version, t.Version, store.ErrConflict)
	}
	next := t
	next.Version = t.Version + 1
	body, err := json.Marshal(next)
	if err != nil {
		return store.Ticket{}, err
	}
	facts, err := json.Marshal(store.FactsOf(next))
	if err != nil {
		return store.Ticket{}, err
	}
	old := s.ticketIndexKeys(cur)
	keys := append([]string{key, s.keys.facts(cur.CreatedAt), s.keys.facts(next.CreatedAt)}, old...)
	keys = append(keys, s.ticketIndexKeys(next)...)
	res, err := s.queues.script(ctx, s.scripts.updateTicket, updateTicketScript, keys, raw, body, sc, t.ID, len(old), facts).Int()
	if err != nil {
		return store.Ticket{}, err
	}
	switch res {
	case 1:
		return next, nil
	case 0:
		return store.Ticket{}, fmt.Errorf("version %d changed while updating: %w", t.Version, store.ErrConflict)
	default:
		return store.Ticket{}, store.ErrNotFound
	}
}

// ListTickets returns the tickets matching f, oldest first (by CreatedAt,
// then ID). It reads the index of f's owner, else citizen, else department
// (ZRANGE) — with OpenOnly its open index, once built (see openindex.go) —,
// fetches those tickets (pipelined MGETs) and checks the other fields and
// OpenOnly on each.
func (s *Store) ListTickets(ctx context.Context, f store.TicketFilter) ([]store.Ticket, error) {
	out, err := s.listTickets(ctx, f)
	if err != nil {
		return nil, fmt.Errorf("list tickets: %w", err)
	}
	return out, nil
}

func (s *Store) listTickets(ctx context.Context, f store.TicketFilter) ([]store.Ticket, error) {
	if err := checkFilter(f); err != nil {
		return nil, err
	}
	open, err := s.openIndexFor(ctx, f)
	if err != nil {
		return nil, err
	}
	return s.readIndex(ctx, f, open)
}

// readIndex returns the tickets matching f, a checked filter, reading the
// index chooseIndex(f, open) picks.
func (s *Store) readIndex(ctx context.Context, f store.TicketFilter, open bool) ([]store.Ticket, error) {
	// Through the batcher: a citizen's 进度 is on the message path.
	zr := goredis.NewStringSliceCmd(ctx, "zrange", s.chooseIndex(f, open), 0, -1)
	if err := s.batch.do(ctx, zr); err != nil {
		return nil, err
	}
	ids := zr.Val()
	if len(ids) == 0 {
		return nil, nil
	}
	var batches []*goredis.SliceCmd
	var cmds []goredis.Cmder
	for chunk := range slices.Chunk(ids, mgetBatch) {
		args := make([]any, 0, len(chunk)+1)
		args = append(args, "mget")
		for _, id := range chunk {
			args = append(args, s.keys.ticket(id))
		}
		cmd := goredis.NewSliceCmd(ctx, args...)
		batches, cmds = append(batches, cmd), append(cmds, cmd)
	}
	if err := s.batch.do(ctx, cmds...); err != nil {
		return nil, err
	}
	var out []store.Ticket
	for _, b := range batches {
		for _, v := range b.Val() {
			raw, ok := v.(string)
			if !ok {
				continue // cannot happen: ticket and entries change together
			}
			var t store.Ticket
			if err := json.Unmarshal([]byte(raw), &t); err != nil {
				return nil, fmt.Errorf("decode ticket: %w", err)
			}
			if matchTicket(t, f) {
				out = append(out, t)
			}
		}
	}
	// A score holds microseconds; the stored CreatedAt may be finer.
	slices.SortStableFunc(out, func(a, b store.Ticket) int {
		return cmp.Or(a.CreatedAt.Compare(b.CreatedAt), strings.Compare(a.ID, b.ID))
	})
	return out, nil
}

// CountTickets returns how many tickets match f: len(ListTickets(f))
// without reading them when one index answers f alone — f sets exactly
// one of owner, department and citizen — with ZCARD of that index, or of
// its open index with OpenOnly (once built, see openindex.go). Any other
// filter is counted by listing.
func (s *Store) CountTickets(ctx context.Context, f store.TicketFilter) (int, error) {
	n, err := s.countTickets(ctx, f)
	if err != nil {
		return 0, fmt.Errorf("count tickets: %w", err)
	}
	return n, nil
}

func (s *Store) countTickets(ctx context.Context, f store.TicketFilter) (int, error) {
	if err := checkFilter(f); err != nil {
		return 0, err
	}
	open, err := s.openIndexFor(ctx, f)
	if err != nil {
		return 0, err
	}
	if !indexAlone(f) || f.OpenOnly && !open {
		ts, err := s.readIndex(ctx, f, open)
		return len(ts), err
	}
	// Through the batcher: routing counts on the message path.
	zc := goredis.NewIntCmd(ctx, "zcard", s.chooseIndex(f, open))
	if err := s.batch.do(ctx, zc); err != nil {
		return 0, err
	}
	return int(zc.Val()), nil
}

// indexAlone reports whether f sets exactly one of owner, department and
// citizen, so that the members of one index are exactly its matches.
func indexAlone(f store.TicketFilter) bool {
	n := 0
	for _, v := range []string{f.Owner, f.Department, f.Citizen} {
		if v != "" {
			n++
		}
	}
	return n == 1
}

// checkFilter refuses a filter no index answers: one that sets none of
// owner, department and citizen, or a value containing NUL.
func checkFilter(f store.TicketFilter) error {
	if err := checkIndexValues(f.Owner, f.Department, f.Citizen); err != nil {
		return err
	}
	if f.Owner == "" && f.Department == "" && f.Citizen == "" {
		return errors.New("filter sets none of owner, department and citizen")
	}
	return nil
}

// chooseIndex picks the index that ListTickets reads for f, a checked
// filter: an officer's or a citizen's tickets are far fewer than a
// department's. With open set it picks the open index of the same field.
func (s *Store) chooseIndex(f store.TicketFilter, open bool) string {
	index := s.keys.ticketIndex
	if open {
		index = s.keys.openIndex
	}
	switch {
	case f.Owner != "":
		return index(indexOwner, f.Owner)
	case f.Citizen != "":
		return index(indexCitizen, f.Citizen)
	default:
		return index(indexDepartment, f.Department)
	}
}

// matchTicket reports whether t satisfies every field f sets.
func matchTicket(t store.Ticket, f store.TicketFilter) bool {
	return (f.Owner == "" || t.Owner == f.Owner) &&
		(f.Department == "" || t.Department == f.Department) &&
		(f.Citizen == "" || t.CitizenOpenID == f.Citizen) &&
		(!f.OpenOnly || t.State.Open())
}
