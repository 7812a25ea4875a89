// Package redistest starts real Redis topologies for tests: a Redis
// Cluster of several masters, a Sentinel-managed primary with replicas,
// and a lone server a test can freeze, kill and restart with its data,
// each from redis-server processes on free ports in the test's temporary
// directory, all killed when the test ends. No Docker: redis-server and
// redis-cli (Redis 7) must be on PATH; a test skips when they are not.
package redistest

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"
)

// startTimeout bounds each wait for a process or a topology to be ready.
const startTimeout = 30 * time.Second

// pollInterval is how often the helpers look again while waiting for a
// process to listen or a topology to settle; no wait is for logic.
const pollInterval = 50 * time.Millisecond

// Server is one redis-server process started by a test.
type Server struct {
	Addr string
	cmd  *exec.Cmd
	log  string
	// dir, port, conf and args start it again (Restart).
	dir, conf string
	port      int
	args      []string
}

// StartStandalone starts one redis-server whose data is kept in an
// append-only file written on every change, so that Restart after Kill
// finds it again: for tests that take the store away and bring it back.
func StartStandalone(t testing.TB) *Server {
	t.Helper()
	requireRedis(t)
	return startServer(t, t.TempDir(), freePort(t), "appendonly yes\nappendfsync always\n")
}

// Signal sends sig to the server (SIGSTOP freezes it: every command hangs;
// SIGCONT thaws it).
func (s *Server) Signal(t testing.TB, sig syscall.Signal) {
	t.Helper()
	if err := s.cmd.Process.Signal(sig); err != nil {
		t.Fatalf("signal redis-server %s: %v", s.Addr, err)
	}
}

// Restart starts the server again on its address, with its data, after
// Kill, and waits until it answers.
func (s *Server) Restart(t testing.TB) {
	t.Helper()
	*s = *startServer(t, s.dir, s.port, s.conf, s.args...)
}

// requireRedis skips t when redis-server or redis-cli is missing.
func requireRedis(t testing.TB) {
	t.Helper()
	for _, bin := range []string{"redis-server", "redis-cli"} {
		if _, err := exec.LookPath(bin); err != nil {
			t.Skipf("%s not installed", bin)
		}
	}
}

// freePort returns a TCP port nothing listens on at the moment.
func freePort(t testing.TB) int {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatalf("free port: %v", err)
	}
	port := ln.Addr().(*net.TCPAddr).Port
	if err := ln.Close(); err != nil {
		t.Fatalf("free port: %v", err)
	}
	return port
}

// startServer runs redis-server with conf (a config file's text, written
// to dir) plus args, and waits until it answers PING. The process is
// killed when the test ends; its log goes to dir/redis.log and is shown
// when the test fails.
func startServer(t testing.TB, dir string, port int, conf string, args ...string) *Server {
	t.Helper()
	if err := os.MkdirAll(dir, 0o700); err != nil {
		t.Fatalf("redis dir: %v", err)
	}
	confPath := filepath.Join(dir, "redis.conf")
	s := &Server{Addr: net.JoinHostPort("127.0.0.1", strconv.Itoa(port)), log: filepath.Join(dir, "redis.log"),
		dir: dir, conf: conf, port: port, args: args}
	base := fmt.Sprintf("bind 127.0.0.1\nport %d\ndir %s\nlogfile %s\nsave \"\"\nappendonly no\n", port, dir, s.log)
	if err := os.WriteFile(confPath, []byte(base+conf), 0o600); err != nil {
		t.Fatalf("redis config: %v", err)
	}
	s.cmd = exec.Command("redis-server", append([]string{confPath}, args...)...)
	if err := s.cmd.Start(); err != nil {
		t.Fatalf("start redis-server: %v", err)
	}
	t.Cleanup(func() {
		s.Kill()
		if t.Failed() {
			if b, err := os.ReadFile(s.log); err == nil {
				t.Logf("redis-server %s log:\n%s", s.Addr, tail(b, 40))
			}
		}
	})
	c := goredis.NewClient(&goredis.Options{Addr: s.Addr, MaxRetries: -1})
	defer func() { _ = c.Close() }() // a probe's client: nothing to report
	waitFor(t, "redis-server on "+s.Addr+" to answer", func(ctx context.Context) bool {
		return c.Ping(ctx).Err() == nil
	})
	return s
}

// Kill stops the server with SIGKILL, as a crash would (a frozen one
// too); killing it twice is harmless.
func (s *Server) Kill() {
	if s.cmd == nil || s.cmd.ProcessState != nil {
		return
	}
	_ = s.cmd.Process.Signal(syscall.SIGKILL)
	_ = s.cmd.Wait()
}

// Client returns a client of this one server, closed when the test ends.
func (s *Server) Client(t testing.TB) *goredis.Client {
	c := goredis.NewClient(&goredis.Options{Addr: s.Addr})
	t.Cleanup(func() { _ = c.Close() })
	return c
}

// tail returns the last n lines of b.
func tail(b []byte, n int) []byte {
	lines := bytes.Split(bytes.TrimRight(b, "\n"), []byte("\n"))
	if len(lines) > n {
		lines = lines[len(lines)-n:]
	}
	return bytes.Join(lines, []byte("\n"))
}

// waitFor polls ready until it reports true, failing t after startTimeout.
func waitFor(t testing.TB, what string, ready func(ctx context.Context) bool) {
	t.Helper()
	deadline := time.Now().Add(startTimeout)
	for {
		ctx, cancel := context.WithTimeout(context.Background(), time.Second)
		ok := ready(ctx)
		cancel()
		if ok {
			return
		}
		if time.Now().After(deadline) {
			t.Fatalf("waited %v for %s", startTimeout, what)
		}
		time.Sleep(pollInterval) // polling processes, not timing logic
	}
}

// infoField returns one field of an INFO section's text, "" if absent.
func infoField(info, field string) string {
	for line := range strings.Lines(info) {
		if v, ok := strings.CutPrefix(strings.TrimSpace(line), field+":"); ok {
			return v
		}
	}
	return ""
}
