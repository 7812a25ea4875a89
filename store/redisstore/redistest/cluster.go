package redistest

import (
	"context"
	"fmt"
	"os/exec"
	"path/filepath"
	"strconv"
	"testing"

	goredis "github.com/redis/go-redis/v9"
)

// Cluster is a Redis Cluster of masters without replicas.
type Cluster struct {
	Nodes []*Server
}

// StartCluster starts a Redis Cluster of masters (at least 3, as
// redis-cli requires) and returns once every node reports
// cluster_state:ok and knows all 16384 slots.
func StartCluster(t testing.TB, masters int) *Cluster {
	t.Helper()
	requireRedis(t)
	dir := t.TempDir()
	c := &Cluster{}
	for i := range masters {
		// The bus port is set explicitly: the default, port+10000, might
		// be taken or past 65535.
		conf := fmt.Sprintf("cluster-enabled yes\ncluster-port %d\ncluster-config-file nodes.conf\ncluster-node-timeout 2000\n", freePort(t))
		c.Nodes = append(c.Nodes, startServer(t, filepath.Join(dir, "node"+strconv.Itoa(i)), freePort(t), conf))
	}
	args := []string{"--cluster", "create"}
	args = append(args, c.Addrs()...)
	args = append(args, "--cluster-replicas", "0", "--cluster-yes")
	if out, err := exec.Command("redis-cli", args...).CombinedOutput(); err != nil {
		t.Fatalf("redis-cli --cluster create: %v\n%s", err, out)
	}
	for _, n := range c.Nodes {
		rdb := n.Client(t)
		waitFor(t, "cluster_state:ok on "+n.Addr, func(ctx context.Context) bool {
			info, err := rdb.ClusterInfo(ctx).Result()
			return err == nil && infoField(info, "cluster_state") == "ok" &&
				infoField(info, "cluster_slots_ok") == "16384" &&
				infoField(info, "cluster_known_nodes") == strconv.Itoa(masters)
		})
	}
	return c
}

// Addrs returns the nodes' addresses, the seeds a ClusterClient needs.
func (c *Cluster) Addrs() []string {
	out := make([]string, len(c.Nodes))
	for i, n := range c.Nodes {
		out[i] = n.Addr
	}
	return out
}

// Client returns a client of the cluster, closed when the test ends.
func (c *Cluster) Client(t testing.TB) *goredis.ClusterClient {
	rdb := goredis.NewClusterClient(&goredis.ClusterOptions{Addrs: c.Addrs()})
	t.Cleanup(func() { _ = rdb.Close() })
	return rdb
}
