package wecom

import (
	"context"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/silenceper/wechat/v2/util"

	"huimin/bot/wechat"
	"huimin/sim"
	"huimin/store"
)

const testSecret = "wecomtestsecret0123456789abcdef0123456789ab"

// sdkTarget is the simulator the SDK talks to. The SDK's URI modifier and HTTP client are
// process-global, so TestMain sets them once, pointing at a fixed loopback server that
// forwards to whichever simulator the running test installed (tests here do not run in
// parallel).
var sdkTarget atomic.Pointer[http.Handler]

func TestMain(m *testing.M) {
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := sdkTarget.Load()
		if h == nil {
			http.Error(w, "no simulator installed for the SDK", http.StatusServiceUnavailable)
			return
		}
		(*h).ServeHTTP(w, r)
	}))
	util.SetURIModifier(func(uri string) string {
		return strings.Replace(uri, wechat.WeComAPIBase, front.URL, 1)
	})
	util.DefaultHTTPClient = &http.Client{Timeout: 10 * time.Second}
	code := m.Run()
	front.Close()
	os.Exit(code)
}

// clock is a controllable clock for the simulator.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// testLogger logs to the test's output.
func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelInfo}))
}

// startSim starts a simulator with WeCom on loopback, installs it for the SDK, and returns
// it with its clock. callback is the service's WeCom callback URL (may be empty).
func startSim(t *testing.T, callback string) (*sim.Simulator, *clock) {
	t.Helper()
	clk := &clock{t: time.Date(2026, 3, 2, 9, 30, 0, 0, time.FixedZone("CST", 8*3600))}
	s := sim.New(sim.Options{
		CorpID: testCorpID, CorpSecret: testSecret, AgentID: testAgentID,
		WeComToken: testToken, WeComAESKey: testAESKey, WeComWebhookURL: callback,
		Now: clk.Now, Log: testLogger(t),
	})
	h := s.Handler()
	sdkTarget.Store(&h)
	t.Cleanup(func() {
		sdkTarget.Store(nil)
		s.Close()
	})
	return s, clk
}

// memCache is an in-memory TokenCache with the store's semantics: store.ErrNotFound for a
// missing key, and locks held per owner until their ttl (on the wall clock: the token
// lifetime is not under test here).
type memCache struct {
	mu    sync.Mutex
	vals  map[string]string
	locks map[string]string
	sets  int
}

func newMemCache() *memCache {
	return &memCache{vals: map[string]string{}, locks: map[string]string{}}
}

func (c *memCache) GetCache(_ context.Context, key string) (string, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	v, ok := c.vals[key]
	if !ok {
		return "", store.ErrNotFound
	}
	return v, nil
}

func (c *memCache) SetCache(_ context.Context, key, value string, _ time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.vals[key] = value
	c.sets++
	return nil
}

func (c *memCache) AcquireLock(_ context.Context, name, owner string, _ time.Duration) (bool, error) {
	c.mu.Lock()
	defer c.mu.Unlock()
	if holder, ok := c.locks[name]; ok && holder != owner {
		return false, nil
	}
	c.locks[name] = owner
	return true, nil
}

func (c *memCache) ReleaseLock(_ context.Context, name, owner string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	if c.locks[name] == owner {
		delete(c.locks, name)
	}
	return nil
}

var _ TokenCache = (*memCache)(nil)

// newTestClient returns a Client on cache, counting its token fetches in fetches.
func newTestClient(t *testing.T, cache TokenCache, owner string, fetches *atomic.Int32) *Client {
	return NewClient(ClientOptions{
		CorpID: testCorpID, Secret: testSecret, AgentID: testAgentID, Owner: owner, Log: testLogger(t),
		OnTokenFetch: func() {
			if fetches != nil {
				fetches.Add(1)
			}
		},
	}, cache)
}
