package redistest

import (
	"context"
	"fmt"
	"path/filepath"
	"strconv"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// MasterName is the name the sentinel monitors the primary under.
const MasterName = "huimin"

// Sentinel timings: a primary that does not answer for downAfter is down,
// and a failover is retried after failoverTimeout, so a failover takes
// about a second or two instead of the default's half a minute.
const (
	downAfterMs       = 1000
	failoverTimeoutMs = 5000
)

// minReplicas makes a primary refuse writes (NOREPLICAS) while none of
// its replicas is connected. A primary cut off from its replicas (by a
// partition, or while the sentinel already promotes one of them) would
// otherwise go on acknowledging writes that the promoted replica never
// sees and that are discarded when the old primary rejoins as a replica.
// Every server carries it, since any may become the primary; and there
// are two replicas, so that a new primary has one to accept writes as
// soon as the sentinel points the other at it, and losing one replica
// does not stop writes.
//
// It does not close every window: a manual SENTINEL FAILOVER promotes a
// replica while the old primary is alive and still has the other
// replica connected, so it accepts writes until clients follow the
// switch; those are lost. Failover tests therefore kill the primary, as
// a crash does.
//
// repl-diskless-sync-delay 0: a replica that needs a full copy gets it at
// once, not after the default 5 s wait for other replicas to share it.
const minReplicas = "min-replicas-to-write 1\nmin-replicas-max-lag 10\nrepl-diskless-sync-delay 0\n"

// Sentinel is a primary, two replicas of it, and one sentinel (quorum 1)
// that monitors the primary as MasterName.
type Sentinel struct {
	Primary, Sentinel *Server
	Replicas          []*Server
}

// replicas is the number of replicas StartSentinel starts.
const replicas = 2

// StartSentinel starts the processes and returns once the replicas are in
// sync and the sentinel knows them, so that a failover can pick one.
func StartSentinel(t testing.TB) *Sentinel {
	t.Helper()
	requireRedis(t)
	dir := t.TempDir()
	s := &Sentinel{}
	s.Primary = startServer(t, filepath.Join(dir, "primary"), freePort(t), minReplicas)
	for i := range replicas {
		r := startServer(t, filepath.Join(dir, fmt.Sprintf("replica%d", i)), freePort(t), minReplicas+"replicaof "+hostPort(s.Primary.Addr)+"\n")
		s.Replicas = append(s.Replicas, r)
		rdb := r.Client(t)
		waitFor(t, "replica "+r.Addr+" in sync", func(ctx context.Context) bool {
			info, err := rdb.Info(ctx, "replication").Result()
			return err == nil && infoField(info, "master_link_status") == "up"
		})
	}
	conf := fmt.Sprintf("sentinel monitor %[1]s %[2]s 1\nsentinel down-after-milliseconds %[1]s %[3]d\nsentinel failover-timeout %[1]s %[4]d\n",
		MasterName, hostPort(s.Primary.Addr), downAfterMs, failoverTimeoutMs)
	s.Sentinel = startServer(t, filepath.Join(dir, "sentinel"), freePort(t), conf, "--sentinel")
	sc := s.sentinelClient(t)
	waitFor(t, "the sentinel to know the replicas", func(ctx context.Context) bool {
		known, err := sc.Replicas(ctx, MasterName).Result()
		if err != nil || len(known) != replicas {
			return false
		}
		for _, r := range known {
			if r["flags"] != "slave" || r["master-link-status"] != "ok" {
				return false
			}
		}
		return true
	})
	return s
}

// hostPort turns "host:port" into the "host port" of redis.conf.
func hostPort(addr string) string {
	for i := len(addr) - 1; i >= 0; i-- {
		if addr[i] == ':' {
			return addr[:i] + " " + addr[i+1:]
		}
	}
	return addr
}

func (s *Sentinel) sentinelClient(t testing.TB) *goredis.SentinelClient {
	sc := goredis.NewSentinelClient(&goredis.Options{Addr: s.Sentinel.Addr})
	t.Cleanup(func() { _ = sc.Close() })
	return sc
}

// Client returns a FailoverClient that finds the primary through the
// sentinel, closed when the test ends.
func (s *Sentinel) Client(t testing.TB) *goredis.Client {
	rdb := goredis.NewFailoverClient(&goredis.FailoverOptions{MasterName: MasterName, SentinelAddrs: []string{s.Sentinel.Addr}})
	t.Cleanup(func() { _ = rdb.Close() })
	return rdb
}

// waitReplicated waits until every replica of the primary at addr has
// acknowledged all it has taken (WAIT).
func (s *Sentinel) waitReplicated(ctx context.Context, t testing.TB, addr string) {
	t.Helper()
	// WAIT blocks until the replicas' next acknowledgements (each sends
	// one a second), longer than a client's default read timeout.
	rdb := goredis.NewClient(&goredis.Options{Addr: addr, ReadTimeout: startTimeout + time.Second})
	defer func() { _ = rdb.Close() }() // a probe's client: nothing to report
	info, err := rdb.Info(ctx, "replication").Result()
	if err != nil {
		t.Fatalf("INFO replication on %s: %v", addr, err)
	}
	want, err := strconv.Atoi(infoField(info, "connected_slaves"))
	if err != nil {
		t.Fatalf("connected_slaves on %s: %v", addr, err)
	}
	got, err := rdb.Do(ctx, "WAIT", want, startTimeout.Milliseconds()).Int()
	if err != nil || got < want {
		t.Fatalf("WAIT %d on %s: %d replicas acknowledged, %v", want, addr, got, err)
	}
}

// PrimaryAddr asks the sentinel where the primary is now.
func (s *Sentinel) PrimaryAddr(ctx context.Context, t testing.TB) string {
	t.Helper()
	hp, err := s.sentinelClient(t).GetMasterAddrByName(ctx, MasterName).Result()
	if err != nil || len(hp) != 2 {
		t.Fatalf("SENTINEL GET-MASTER-ADDR-BY-NAME: %v, %v", hp, err)
	}
	return hp[0] + ":" + hp[1]
}

// KillPrimary kills the current primary with SIGKILL, as a crash would,
// and returns once the sentinel has promoted a replica and that server
// answers as a master with a replica in sync, so that it takes writes.
//
// It kills once every replica has acknowledged what the primary has
// taken so far. Replication is asynchronous: writes the primary answered
// but had not yet sent die with it (README, "What a failover can lose"),
// and a replica that has just synchronised is sent nothing until its
// first acknowledgement, up to a second later — a test that kills the
// primary then loses its first writes to that window instead of
// checking what it means to (TestTwoInstancesOnSentinel lost a reply so).
func (s *Sentinel) KillPrimary(ctx context.Context, t testing.TB) {
	t.Helper()
	old := s.PrimaryAddr(ctx, t)
	s.waitReplicated(ctx, t, old)
	for _, srv := range append([]*Server{s.Primary}, s.Replicas...) {
		if srv.Addr == old {
			srv.Kill()
		}
	}
	sc := s.sentinelClient(t)
	var now string
	waitFor(t, "the sentinel to name a new primary", func(ctx context.Context) bool {
		hp, err := sc.GetMasterAddrByName(ctx, MasterName).Result()
		if err != nil || len(hp) != 2 || hp[0]+":"+hp[1] == old {
			return false
		}
		now = hp[0] + ":" + hp[1]
		return true
	})
	rdb := goredis.NewClient(&goredis.Options{Addr: now})
	defer func() { _ = rdb.Close() }() // a probe's client: nothing to report
	waitFor(t, now+" to be a master with a replica", func(ctx context.Context) bool {
		info, err := rdb.Info(ctx, "replication").Result()
		return err == nil && infoField(info, "role") == "master" && infoField(info, "connected_slaves") != "0"
	})
}
