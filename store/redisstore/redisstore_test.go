package redisstore_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"os"
	"strings"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"huimin/store"
	"huimin/store/redisstore"
	"huimin/store/redisstore/redistest"
	"huimin/store/storetest"
)

var _ storetest.Store = (*redisstore.Store)(nil)

// redisAddr is where the tests find Redis: HUIMIN_TEST_REDIS_ADDR, or the
// local default that CI starts.
func redisAddr() string {
	if a := os.Getenv("HUIMIN_TEST_REDIS_ADDR"); a != "" {
		return a
	}
	return "127.0.0.1:6379"
}

// tbFatal is the part of testing.TB the helpers below need.
type tbFatal interface {
	Helper()
	Fatalf(format string, args ...any)
	Cleanup(func())
}

// newClient connects to the test Redis and fails (never skips) when it does
// not answer: CI always runs one.
func newClient(t tbFatal) *goredis.Client {
	t.Helper()
	addr := redisAddr()
	rdb := goredis.NewClient(&goredis.Options{Addr: addr})
	ctx, cancel := context.WithTimeout(context.Background(), 3*time.Second)
	defer cancel()
	if err := rdb.Ping(ctx).Err(); err != nil {
		_ = rdb.Close()
		t.Fatalf("redis at %s does not answer (%v): start redis-server there or set HUIMIN_TEST_REDIS_ADDR", addr, err)
	}
	t.Cleanup(func() { _ = rdb.Close() })
	return rdb
}

// newPrefix returns a key prefix no other test uses and deletes its keys
// when the test ends.
func newPrefix(t tbFatal, rdb goredis.UniversalClient) string {
	t.Helper()
	prefix := fmt.Sprintf("huimintest:%016x:", rand.Uint64())
	t.Cleanup(func() {
		// The test's context is gone by now.
		if err := deletePrefix(context.Background(), rdb, prefix); err != nil {
			t.Fatalf("delete test keys %s*: %v", prefix, err)
		}
	})
	return prefix
}

// scanPrefix returns every key under prefix. A cluster's keys are spread
// over its masters, and SCAN sees only the node it runs on, so on a
// cluster it runs on every master.
func scanPrefix(ctx context.Context, rdb goredis.UniversalClient, prefix string) ([]string, error) {
	cc, ok := rdb.(*goredis.ClusterClient)
	if !ok {
		return scanNode(ctx, rdb, prefix)
	}
	var (
		mu  sync.Mutex
		all []string
	)
	err := cc.ForEachMaster(ctx, func(ctx context.Context, node *goredis.Client) error {
		keys, err := scanNode(ctx, node, prefix)
		mu.Lock()
		defer mu.Unlock()
		all = append(all, keys...)
		return err
	})
	return all, err
}

// scanNode returns every key under prefix on one server.
func scanNode(ctx context.Context, rdb goredis.Cmdable, prefix string) ([]string, error) {
	var all []string
	iter := rdb.Scan(ctx, 0, prefix+"*", 500).Iterator()
	for iter.Next(ctx) {
		all = append(all, iter.Val())
	}
	return all, iter.Err()
}

// deletePrefix deletes every key under prefix, one DEL per key in a
// pipeline: a DEL of several keys would fail on a cluster (CROSSSLOT).
func deletePrefix(ctx context.Context, rdb goredis.UniversalClient, prefix string) error {
	keys, err := scanPrefix(ctx, rdb, prefix)
	if err != nil || len(keys) == 0 {
		return err
	}
	_, err = rdb.Pipelined(ctx, func(p goredis.Pipeliner) error {
		for _, k := range keys {
			p.Del(ctx, k)
		}
		return nil
	})
	return err
}

// advance makes d pass for the expiring keys under prefix: it shortens each
// TTL by d and deletes the keys whose TTL that uses up.
func advance(ctx context.Context, rdb goredis.UniversalClient, prefix string, d time.Duration) error {
	keys, err := scanPrefix(ctx, rdb, prefix)
	if err != nil {
		return err
	}
	ttls := make([]*goredis.DurationCmd, len(keys))
	if _, err := rdb.Pipelined(ctx, func(p goredis.Pipeliner) error {
		for i, k := range keys {
			ttls[i] = p.PTTL(ctx, k)
		}
		return nil
	}); err != nil {
		return err
	}
	_, err = rdb.Pipelined(ctx, func(p goredis.Pipeliner) error {
		for i, k := range keys {
			ttl := ttls[i].Val()
			if ttl <= 0 { // -1: no expiry (queues); -2: gone meanwhile
				continue
			}
			if left := ttl - d; left > 0 {
				p.PExpire(ctx, k, left)
			} else {
				p.Del(ctx, k)
			}
		}
		return nil
	})
	return err
}

// contractHarness runs the contract suite on rdb: each store gets a
// prefix of its own, and Advance shortens the TTLs under it.
func contractHarness(rdb goredis.UniversalClient) storetest.Harness {
	var (
		mu       sync.Mutex
		prefixes = make(map[storetest.Store]string)
	)
	return storetest.Harness{
		New: func(t storetest.TB) storetest.Store {
			prefix := newPrefix(t, rdb)
			// A fresh prefix holds no ticket written before the facts
			// index or the open indexes: marking them built spares each
			// store a SCAN of the shared server's whole keyspace, and has
			// OpenOnly read the open indexes (TestBuildFacts and
			// TestBuildOpenIndexes test the build).
			if err := markIndexesBuilt(context.Background(), rdb, prefix); err != nil {
				t.Fatalf("mark indexes built: %v", err)
			}
			s := redisstore.New(rdb, redisstore.Options{Prefix: prefix})
			mu.Lock()
			defer mu.Unlock()
			prefixes[s] = prefix
			return s
		},
		Advance: func(t storetest.TB, s storetest.Store, d time.Duration) {
			t.Helper()
			mu.Lock()
			prefix, ok := prefixes[s]
			mu.Unlock()
			if !ok {
				t.Fatalf("Advance: store not made by this harness")
			}
			if err := advance(context.Background(), rdb, prefix, d); err != nil {
				t.Fatalf("Advance(%v): %v", d, err)
			}
		},
	}
}

// TestContract runs the contract suite on the shared single Redis.
func TestContract(t *testing.T) {
	storetest.Run(t, contractHarness(newClient(t)))
}

// TestContractCluster runs the contract suite on a Redis Cluster of three
// masters of the test's own: every script must keep its keys in one slot
// (else CROSSSLOT), and pipelines are split by node.
func TestContractCluster(t *testing.T) {
	storetest.Run(t, contractHarness(redistest.StartCluster(t, 3).Client(t)))
}

// TestContractSentinel runs the contract suite on a Sentinel-managed
// primary with a replica, through go-redis's FailoverClient.
func TestContractSentinel(t *testing.T) {
	storetest.Run(t, contractHarness(redistest.StartSentinel(t).Client(t)))
}

// TestKeyLayout pins the key names that operators and dashboards rely on.
func TestKeyLayout(t *testing.T) {
	rdb := newClient(t)
	prefix := newPrefix(t, rdb)
	s := redisstore.New(rdb, redisstore.Options{Prefix: prefix})
	ctx := t.Context()
	due := time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
	steps := []struct {
		name string
		err  error
	}{
		{"PutSession", s.PutSession(ctx, store.Session{OpenID: "o1"}, time.Hour)},
		{"BeginDelivery", func() error { _, _, err := s.BeginDelivery(ctx, "d1", "", time.Hour); return err }()},
		{"SetCache", s.SetCache(ctx, "c1", "v", time.Hour)},
		{"AcquireLock", func() error { _, err := s.AcquireLock(ctx, "l1", "a", time.Hour); return err }()},
		{"PutOutcome", s.PutOutcome(ctx, store.Outcome{MessageID: "m1"}, time.Hour)},
		{"Schedule", func() error { _, err := s.Schedule(ctx, "q1", store.DueItem{ID: "i1", Due: due}); return err }()},
		// The attempts hash holds claimed items only: an earlier item, claimed.
		{"Schedule i0", func() error {
			_, err := s.Schedule(ctx, "q1", store.DueItem{ID: "i0", Due: due.Add(-time.Hour)})
			return err
		}()},
		{"Claim i0", func() error { _, err := s.Claim(ctx, "q1", due.Add(-time.Hour), 1, time.Minute); return err }()},
		{"NextSeq with ttl", func() error { _, err := s.NextSeq(ctx, "daily", time.Hour); return err }()},
		{"NextSeq without ttl", func() error { _, err := s.NextSeq(ctx, "total", 0); return err }()},
		{"CreateTicket", s.CreateTicket(ctx, store.Ticket{ID: "T1", Owner: "o1", Department: "d1", CitizenOpenID: "c1", CreatedAt: due})},
		{"CreateTicket open", s.CreateTicket(ctx, store.Ticket{ID: "T2", Owner: "o2", Department: "d2", CitizenOpenID: "c2", State: store.StateReceived, CreatedAt: due})},
		{"BindOfficer", s.BindOfficer(ctx, "u1", "o1")},
		{"PutBindCode", s.PutBindCode(ctx, "123456", "o1", time.Hour)},
	}
	for _, st := range steps {
		if st.err != nil {
			t.Fatalf("%s: %v", st.name, st.err)
		}
	}
	tests := []struct {
		key     string
		typ     string
		expires bool
	}{
		{"{s:o1}:sess", "string", true},
		{"dlv:d1", "string", true},
		{"cache:c1", "string", true},
		{"lock:l1", "string", true},
		{"out:m1", "string", true},
		{"{q:q1}:due", "zset", false},
		{"{q:q1}:items", "hash", false},
		{"{q:q1}:att", "hash", false},
		{"seq:daily", "string", true},
		{"seq:total", "string", false},
		{"{t}:ticket:T1", "string", false},
		{"{t}:idx:owner:o1", "zset", false},
		{"{t}:idx:dept:d1", "zset", false},
		{"{t}:idx:citizen:c1", "zset", false},
		{"{t}:open:owner:o2", "zset", false},
		{"{t}:open:dept:d2", "zset", false},
		{"{t}:open:citizen:c2", "zset", false},
		{"{t}:facts:2025-03", "hash", false},
		{"{bind}:officer_by_user", "hash", false},
		{"{bind}:user_by_officer", "hash", false},
		{"bindcode:123456", "string", true},
	}
	for _, tt := range tests {
		t.Run(tt.key, func(t *testing.T) {
			key := prefix + tt.key
			typ, err := rdb.Type(ctx, key).Result()
			if err != nil {
				t.Fatalf("TYPE %s: %v", key, err)
			}
			if typ != tt.typ {
				t.Errorf("TYPE %s = %s, want %s", key, typ, tt.typ)
			}
			ttl, err := rdb.PTTL(ctx, key).Result()
			if err != nil {
				t.Fatalf("PTTL %s: %v", key, err)
			}
			if got := ttl > 0; got != tt.expires {
				t.Errorf("PTTL %s = %v, want expiring %v", key, ttl, tt.expires)
			}
		})
	}
	if score, err := rdb.ZScore(ctx, prefix+"{q:q1}:due", "i1").Result(); err != nil || int64(score) != due.UnixMicro() {
		t.Errorf("ZSCORE due i1 = %v, %v; want %d (unix µs)", score, err, due.UnixMicro())
	}
	if score, err := rdb.ZScore(ctx, prefix+"{t}:idx:owner:o1", "T1").Result(); err != nil || int64(score) != due.UnixMicro() {
		t.Errorf("ZSCORE idx:owner:o1 T1 = %v, %v; want %d (CreatedAt in unix µs)", score, err, due.UnixMicro())
	}
}

// TestTicketIndexMembers checks the index zsets themselves: ListTickets
// re-checks each ticket's fields, so a stale member would not show there.
func TestTicketIndexMembers(t *testing.T) {
	rdb := newClient(t)
	prefix := newPrefix(t, rdb)
	s := redisstore.New(rdb, redisstore.Options{Prefix: prefix})
	ctx := t.Context()
	t0 := time.Date(2025, 3, 1, 9, 0, 0, 0, time.UTC)
	if err := s.CreateTicket(ctx, store.Ticket{ID: "T-1", CitizenOpenID: "c1", Department: "relief", CreatedAt: t0}); err != nil {
		t.Fatalf("CreateTicket: %v", err)
	}
	// Each step's want maps every index key the test has touched to its
	// members with their scores in seconds after t0.
	steps := []struct {
		name   string
		change func(tk *store.Ticket)
		want   map[string]string
	}{
		{"created unassigned", nil, map[string]string{
			"owner:o1": "", "owner:o2": "", "citizen:c1": "T-1@0", "dept:relief": "T-1@0", "dept:veterans": "",
		}},
		{"assigned", func(tk *store.Ticket) { tk.Owner = "o1" }, map[string]string{
			"owner:o1": "T-1@0", "owner:o2": "", "citizen:c1": "T-1@0", "dept:relief": "T-1@0", "dept:veterans": "",
		}},
		{"transferred and moved", func(tk *store.Ticket) { tk.Owner, tk.Department = "o2", "veterans" }, map[string]string{
			"owner:o1": "", "owner:o2": "T-1@0", "citizen:c1": "T-1@0", "dept:relief": "", "dept:veterans": "T-1@0",
		}},
		{"created at corrected", func(tk *store.Ticket) { tk.CreatedAt = t0.Add(-time.Hour) }, map[string]string{
			"owner:o1": "", "owner:o2": "T-1@-3600", "citizen:c1": "T-1@-3600", "dept:relief": "", "dept:veterans": "T-1@-3600",
		}},
		{"unassigned", func(tk *store.Ticket) { tk.Owner = "" }, map[string]string{
			"owner:o1": "", "owner:o2": "", "citizen:c1": "T-1@-3600", "dept:relief": "", "dept:veterans": "T-1@-3600",
		}},
	}
	for _, st := range steps {
		t.Run(st.name, func(t *testing.T) {
			if st.change != nil {
				cur, err := s.GetTicket(ctx, "T-1")
				if err != nil {
					t.Fatalf("GetTicket: %v", err)
				}
				st.change(&cur)
				if _, err := s.UpdateTicket(ctx, cur); err != nil {
					t.Fatalf("UpdateTicket: %v", err)
				}
			}
			for idx, want := range st.want {
				key := prefix + "{t}:idx:" + idx
				zs, err := rdb.ZRangeWithScores(ctx, key, 0, -1).Result()
				if err != nil {
					t.Fatalf("ZRANGE %s: %v", key, err)
				}
				var got []string
				for _, z := range zs {
					got = append(got, fmt.Sprintf("%s@%d", z.Member, (int64(z.Score)-t0.UnixMicro())/1e6))
				}
				if g := strings.Join(got, " "); g != want {
					t.Errorf("ZRANGE %s = %q, want %q", key, g, want)
				}
			}
		})
	}
}

// TestCloseLeavesClientOpen checks that the store does not close a client it
// was given.
func TestCloseLeavesClientOpen(t *testing.T) {
	rdb := newClient(t)
	s := redisstore.New(rdb, redisstore.Options{Prefix: newPrefix(t, rdb)})
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := rdb.Ping(t.Context()).Err(); err != nil {
		t.Errorf("client Ping after store Close: got %v, want nil", err)
	}
}

func TestDefaultPrefix(t *testing.T) {
	rdb := newClient(t)
	s := redisstore.New(rdb, redisstore.Options{})
	// A key no one else uses, removed at once.
	key := fmt.Sprintf("test-%016x", rand.Uint64())
	t.Cleanup(func() { _ = rdb.Del(context.Background(), redisstore.DefaultPrefix+"cache:"+key).Err() })
	if err := s.SetCache(t.Context(), key, "v", time.Minute); err != nil {
		t.Fatalf("SetCache: %v", err)
	}
	got, err := rdb.Get(t.Context(), "huimin:cache:"+key).Result()
	if err != nil || got != "v" {
		t.Errorf("GET huimin:cache:%s = %q, %v; want \"v\"", key, got, err)
	}
}

// TestBatchedScriptsSurviveScriptFlush checks that the batched scripts fall
// back to EVAL when Redis has forgotten them (a restart, a failover).
func TestBatchedScriptsSurviveScriptFlush(t *testing.T) {
	rdb := newClient(t)
	s := redisstore.New(rdb, redisstore.Options{Prefix: newPrefix(t, rdb)})
	t.Cleanup(func() { _ = s.Close() })
	ctx := t.Context()
	if err := rdb.ScriptFlush(ctx).Err(); err != nil {
		t.Fatalf("SCRIPT FLUSH: %v", err)
	}
	if _, _, locked, err := s.LockSession(ctx, "o1", "a", time.Minute); err != nil || !locked {
		t.Fatalf("LockSession after SCRIPT FLUSH: locked %v, %v", locked, err)
	}
	if err := s.SaveSessionUnlock(ctx, store.Session{OpenID: "o1", Step: "x"}, time.Minute, "a"); err != nil {
		t.Fatalf("SaveSessionUnlock: %v", err)
	}
	if got, found, _, err := s.LockSession(ctx, "o1", "b", time.Minute); err != nil || !found || got.Step != "x" {
		t.Fatalf("LockSession = %+v, %v, %v", got, found, err)
	}

	// EndConversation pipelines the script with the delivery's SET.
	if err := rdb.ScriptFlush(ctx).Err(); err != nil {
		t.Fatalf("SCRIPT FLUSH: %v", err)
	}
	d, _, err := s.BeginDelivery(ctx, "m1", "", time.Minute)
	if err != nil {
		t.Fatal(err)
	}
	d.Reply = []byte("answer")
	if err := s.EndConversation(ctx, store.Session{OpenID: "o1", Step: "y"}, time.Minute, "b", d, time.Minute); err != nil {
		t.Fatalf("EndConversation after SCRIPT FLUSH: %v", err)
	}
	if got, found, locked, err := s.LockSession(ctx, "o1", "c", time.Minute); err != nil || !found || !locked || got.Step != "y" {
		t.Errorf("LockSession after EndConversation = %+v, found %v, locked %v, %v; want step y, unlocked before", got, found, locked, err)
	}
	if rec, err := s.GetDelivery(ctx, "m1"); err != nil || !rec.Done || string(rec.Reply) != "answer" {
		t.Errorf("GetDelivery = %+v, %v; want done with the answer", rec, err)
	}
}

// TestCloseStopsBatching checks that calls after Close fail instead of hanging.
func TestCloseStopsBatching(t *testing.T) {
	rdb := newClient(t)
	s := redisstore.New(rdb, redisstore.Options{Prefix: newPrefix(t, rdb)})
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	if _, _, err := s.BeginDelivery(t.Context(), "k", "", time.Minute); err == nil {
		t.Fatal("BeginDelivery after Close: want an error")
	}
}

// TestCloseAnswersCallsInFlight checks that Close while many callers are
// queued leaves none of them waiting.
func TestCloseAnswersCallsInFlight(t *testing.T) {
	rdb := newClient(t)
	s := redisstore.New(rdb, redisstore.Options{Prefix: newPrefix(t, rdb)})
	ctx := t.Context()
	var wg sync.WaitGroup
	for i := range 200 {
		wg.Go(func() {
			for j := range 20 {
				_, _, _ = s.BeginDelivery(ctx, fmt.Sprintf("k%d-%d", i, j), "", time.Minute)
			}
		})
	}
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	waitAfterClose(t, &wg, "callers")
}

// waitAfterClose fails the test if who, the goroutines of wg, are still
// waiting for the store 10 s after it was closed.
func waitAfterClose(t *testing.T, wg *sync.WaitGroup, who string) {
	t.Helper()
	done := make(chan struct{})
	go func() { wg.Wait(); close(done) }()
	select {
	case <-done:
	case <-time.After(10 * time.Second): // a bound on a hang, not a wait for logic
		t.Fatalf("%s still waiting 10s after Close", who)
	}
}

// TestWritesWaitForReplicas: a primary that lacks the replicas
// min-replicas-to-write asks for (a new primary during a failover, before
// the sentinel has pointed the other replica at it) refuses every write
// with NOREPLICAS. The writes on the message path and the due-queue's
// writes wait for it to accept them instead of failing, within the
// caller's deadline — else a failover loses a citizen's queued replies.
func TestWritesWaitForReplicas(t *testing.T) {
	primary := redistest.StartStandalone(t)
	rdb := primary.Client(t)
	ctx := t.Context()
	for k, v := range map[string]string{"min-replicas-to-write": "1", "repl-diskless-sync-delay": "0"} {
		if err := rdb.ConfigSet(ctx, k, v).Err(); err != nil {
			t.Fatal(err)
		}
	}
	s := redisstore.New(rdb, redisstore.Options{Prefix: "wait:"})
	t.Cleanup(func() { _ = s.Close() })

	wctx, cancel := context.WithTimeout(ctx, 4*time.Second)
	defer cancel()
	now := time.Now()
	errs := make(chan error, 3)
	go func() {
		_, err := s.Schedule(wctx, "outbox", store.DueItem{ID: "m1", Due: now, Payload: []byte("x")})
		errs <- err
	}()
	go func() { errs <- s.Cancel(wctx, "outbox", "m0") }()
	go func() {
		_, _, err := s.BeginDelivery(wctx, "k1", "", time.Minute)
		errs <- err
	}()
	// Only once the writes have been refused does a replica follow.
	for refused(t, rdb) < 3 {
		select {
		case err := <-errs:
			t.Fatalf("a write returned before any replica followed: %v", err)
		case <-time.After(10 * time.Millisecond): // polling Redis's counters
		}
	}
	replica := redistest.StartStandalone(t)
	host, port, _ := strings.Cut(primary.Addr, ":")
	if err := replica.Client(t).ReplicaOf(ctx, host, port).Err(); err != nil {
		t.Fatal(err)
	}
	for range 3 {
		if err := <-errs; err != nil {
			t.Errorf("write after the replica followed: %v", err)
		}
	}
	items, err := s.Claim(ctx, "outbox", now, 10, time.Minute)
	if err != nil || len(items) != 1 || items[0].ID != "m1" {
		t.Errorf("Claim = %+v, %v; want the scheduled item", items, err)
	}
}

// refused counts the NOREPLICAS errors the server has answered.
func refused(t *testing.T, rdb *goredis.Client) int {
	t.Helper()
	info, err := rdb.Info(t.Context(), "errorstats").Result()
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(info) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), "errorstat_NOREPLICAS:count="); ok {
			var n int
			_, _ = fmt.Sscan(v, &n)
			return n
		}
	}
	return 0
}
