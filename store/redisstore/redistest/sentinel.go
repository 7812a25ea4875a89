package redistest

import (
	"context"
	"fmt"
	"path/filepath"
	"testing"

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

// Sentinel is a primary, a replica of it, and one sentinel (quorum 1)
// that monitors the primary as MasterName.
type Sentinel struct {
	Primary, Replica, Sentinel *Server
}

// StartSentinel starts the three processes and returns once the replica
// is in sync and the sentinel knows it, so that a failover can pick it.
func StartSentinel(t testing.TB) *Sentinel {
	t.Helper()
	requireRedis(t)
	dir := t.TempDir()
	s := &Sentinel{}
	s.Primary = startServer(t, filepath.Join(dir, "primary"), freePort(t), "")
	s.Replica = startServer(t, filepath.Join(dir, "replica"), freePort(t), "replicaof "+hostPort(s.Primary.Addr)+"\n")
	replica := s.Replica.Client(t)
	waitFor(t, "replica of "+s.Primary.Addr+" in sync", func(ctx context.Context) bool {
		info, err := replica.Info(ctx, "replication").Result()
		return err == nil && infoField(info, "master_link_status") == "up"
	})
	conf := fmt.Sprintf("sentinel monitor %[1]s %[2]s 1\nsentinel down-after-milliseconds %[1]s %[3]d\nsentinel failover-timeout %[1]s %[4]d\n",
		MasterName, hostPort(s.Primary.Addr), downAfterMs, failoverTimeoutMs)
	s.Sentinel = startServer(t, filepath.Join(dir, "sentinel"), freePort(t), conf, "--sentinel")
	sc := s.sentinelClient(t)
	waitFor(t, "the sentinel to know the replica", func(ctx context.Context) bool {
		replicas, err := sc.Replicas(ctx, MasterName).Result()
		return err == nil && len(replicas) == 1 && replicas[0]["flags"] == "slave" && replicas[0]["master-link-status"] == "ok"
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

// PrimaryAddr asks the sentinel where the primary is now.
func (s *Sentinel) PrimaryAddr(ctx context.Context, t testing.TB) string {
	t.Helper()
	hp, err := s.sentinelClient(t).GetMasterAddrByName(ctx, MasterName).Result()
	if err != nil || len(hp) != 2 {
		t.Fatalf("SENTINEL GET-MASTER-ADDR-BY-NAME: %v, %v", hp, err)
	}
	return hp[0] + ":" + hp[1]
}

// Failover has the sentinel promote the replica (SENTINEL FAILOVER) and
// returns once the sentinel names the new primary and that server
// answers as a master. The old primary becomes its replica.
func (s *Sentinel) Failover(ctx context.Context, t testing.TB) {
	t.Helper()
	old := s.PrimaryAddr(ctx, t)
	sc := s.sentinelClient(t)
	if err := sc.Failover(ctx, MasterName).Err(); err != nil {
		t.Fatalf("SENTINEL FAILOVER: %v", err)
	}
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
	defer rdb.Close()
	waitFor(t, now+" to be a master", func(ctx context.Context) bool {
		info, err := rdb.Info(ctx, "replication").Result()
		return err == nil && infoField(info, "role") == "master"
	})
}
