package bot

import (
	"context"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	goredis "github.com/redis/go-redis/v9"

	"huimin/bot/wechat"
	"huimin/chat"
	"huimin/desk"
	"huimin/desk/calendar"
	"huimin/flows"
	"huimin/flows/intake"
	"huimin/sim"
	"huimin/store"
	"huimin/store/boltstore"
	"huimin/store/redisstore"
)

const (
	rigAppID  = sim.DefaultAppID
	rigSecret = sim.DefaultAppSecret
	rigToken  = sim.DefaultToken
	rigAESKey = "aHVpbWluVGVzdEFFU0tleUZvclNpbXVsYXRvck9ubHk"
)

// sdkTimeout is the SDK's HTTP timeout in the tests, unless a rig sets
// another (rigOptions.apiTimeout).
const sdkTimeout = 5 * time.Second

// sdkBase is the URL of TestMain's router, for a rig that sets another
// timeout and must leave the SDK pointing there.
var sdkBase string

// wechatAPI routes the SDK's requests to the running test's simulator. The
// SDK's URL rewrite is process-wide, so it is set once in TestMain and the
// tests of this package do not run in parallel.
var wechatAPI atomic.Pointer[http.Handler]

func TestMain(m *testing.M) {
	router := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := wechatAPI.Load()
		if h == nil {
			http.Error(w, "no simulator", http.StatusBadGateway)
			return
		}
		(*h).ServeHTTP(w, r)
	}))
	sdkBase = router.URL
	wechat.ConfigureSDK(router.URL, sdkTimeout)
	code := m.Run()
	router.Close()
	os.Exit(code)
}

// newEngine builds the real conversation engine on st: the default flows,
// a desk with one department for every line, open round the clock.
func newEngine(t *testing.T, st rigStore, outbox *Outbox, o rigOptions, log *slog.Logger) (*flows.Engine, *desk.Desk) {
	t.Helper()
	set, err := intake.NewWatcher(intake.Defaults(), "", log)
	if err != nil {
		t.Fatal(err)
	}
	cal, err := calendar.New(calendar.Options{EveryDay: true, Hours: calendar.Hours{Start: "00:00", End: "23:59"}})
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, f := range set.Current().Lines() {
		lines = append(lines, f.Line)
	}
	dir := desk.Directory{
		Departments: []desk.Department{{ID: "all", Name: "综合受理窗口", Lines: lines, Supervisor: "boss"}},
		Officers: append([]desk.Officer{{ID: "boss", Name: "赵科长", Department: "all", Supervisor: true, OpenID: "oOfficerBoss"},
			{ID: "wang", Name: "王明", Department: "all", OpenID: "oOfficerWang"}}, o.officers...),
	}
	d, err := desk.New(st, cal, NewNotifier(outbox, o.templates), dir, desk.Rules{}, desk.Options{Log: log})
	if err != nil {
		t.Fatal(err)
	}
	return flows.NewEngine(st, set, d, flows.EngineOptions{Log: log}), d
}

// countingDispatcher wraps the engine, counts dispatches, and
// can hold them until released or make them panic.
type countingDispatcher struct {
	next  Dispatcher
	calls atomic.Int64
	gate  chan struct{} // when non-nil, Dispatch waits for it to close
	panic bool
}

func (d *countingDispatcher) Dispatch(ctx context.Context, ev chat.Event) ([]chat.Reply, error) {
	return d.dispatch(ctx, func(ctx context.Context) ([]chat.Reply, error) { return d.next.Dispatch(ctx, ev) })
}

func (d *countingDispatcher) dispatch(ctx context.Context, next func(context.Context) ([]chat.Reply, error)) ([]chat.Reply, error) {
	d.calls.Add(1)
	if d.gate != nil {
		select {
		case <-d.gate:
		case <-ctx.Done():
			return nil, ctx.Err()
		}
	}
	if d.panic {
		panic("flow bug")
	}
	return next(ctx)
}

// Begin forwards to the engine's Begin (see Beginner), the dispatch it
// returns counted, held and made to panic as Dispatch is.
func (d *countingDispatcher) Begin(ctx context.Context, ev chat.Event, key, replay string, ttl time.Duration) (store.Delivery, bool, begun, bool, error) {
	b, ok := d.next.(Beginner)
	if !ok {
		return store.Delivery{}, false, nil, false, nil
	}
	dl, first, run, ok, err := b.Begin(ctx, ev, key, replay, ttl)
	if run == nil {
		return dl, first, nil, ok, err
	}
	return dl, first, func(ctx context.Context, seal func([]chat.Reply) ([]byte, bool)) ([]chat.Reply, error) {
		return d.dispatch(ctx, func(ctx context.Context) ([]chat.Reply, error) { return run(ctx, seal) })
	}, ok, err
}

// clock is real time plus an offset that tests move forward, shared by
// the simulator (its 48-hour window) and a manually drained outbox.
type clock struct {
	mu     sync.Mutex
	offset time.Duration
}

func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.offset)
}

func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.offset += d
}

// rigStore is what the rig needs of a store; the bolt and the Redis store
// both are one.
type rigStore interface {
	desk.Store
	flows.Sessions
	DueQueue
	OutcomeStore
	Deliveries
	Pinger
	wechat.TokenCache
}

// Stores a rig can run on.
const (
	storeBolt  = "bolt"
	storeRedis = "redis"
)

type rig struct {
	sim     *sim.Simulator
	store   rigStore
	disp    *countingDispatcher
	webhook *Webhook
	outbox  *Outbox
	runner  *Runner
	client  *wechat.Client
	url     string // the webhook URL
	aesKey  string
	clock   *clock
	desk    *desk.Desk
}

type rigOptions struct {
	mode   string // plain, compatible, safe
	budget time.Duration
	// manualOutbox leaves the runner stopped; the test drains it.
	manualOutbox bool
	maxAttempts  int // the outbox's
	onOutcome    func(context.Context, Outgoing, store.Outcome)
	// logs, when set, also receives every log line from Debug up; the
	// simulator's carry component=sim.
	logs io.Writer
	// store is storeBolt (the default) or storeRedis: the shared test
	// Redis, under a prefix of the rig's own, deleted afterwards.
	store string
	// apiTimeout, when set, is the SDK's HTTP timeout while the rig runs.
	apiTimeout time.Duration
	// officers join the directory's chief (boss) and 王明 (wang).
	officers []desk.Officer
	// templates are the notifier's template fallbacks.
	templates map[string]TemplateSpec
	// redisHook, when set, sees every command of the Redis store.
	redisHook goredis.Hook
}

func newRig(t *testing.T, o rigOptions) *rig {
	t.Helper()
	if o.mode == "" {
		o.mode = sim.ModePlain
	}
	aesKey := rigAESKey
	if o.mode == sim.ModePlain {
		aesKey = ""
	}
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	if o.logs != nil {
		log = slog.New(slog.NewTextHandler(io.MultiWriter(t.Output(), o.logs), &slog.HandlerOptions{Level: slog.LevelDebug}))
	}
	st := openRigStore(t, o.store, o.redisHook)
	if o.apiTimeout > 0 {
		wechat.ConfigureSDK(sdkBase, o.apiTimeout)
		t.Cleanup(func() { wechat.ConfigureSDK(sdkBase, sdkTimeout) })
	}

	var handler atomic.Pointer[http.Handler]
	svc := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) { (*handler.Load()).ServeHTTP(w, r) }))
	t.Cleanup(svc.Close)

	clk := &clock{}
	s := sim.New(sim.Options{
		AppID: rigAppID, AppSecret: rigSecret, Token: rigToken, AESKey: aesKey, Mode: o.mode,
		WebhookURL: svc.URL + "/wechat", Log: log.With("component", "sim"), Now: clk.Now,
	})
	t.Cleanup(s.Close)
	api := s.Handler()
	wechatAPI.Store(&api)
	t.Cleanup(func() { wechatAPI.Store(nil) })

	metrics := NewMetrics(prometheus.NewRegistry())
	client := wechat.NewClient(wechat.ClientOptions{AppID: rigAppID, AppSecret: rigSecret, Owner: t.Name(), Log: log}, st)
	outNow := time.Now
	if o.manualOutbox {
		outNow = clk.Now
	}
	runner := NewRunner(st, 20*time.Millisecond, outNow, log)
	// As the service wires it: a notice no channel delivers goes to the
	// desk, which hands it on to the chief.
	var d *desk.Desk
	onOutcome := func(ctx context.Context, m Outgoing, oc store.Outcome) {
		if dm, ok := Undelivered(m, oc); ok {
			if err := d.NotDelivered(ctx, dm); err != nil {
				t.Errorf("NotDelivered: %v", err)
			}
		}
		if o.onOutcome != nil {
			o.onOutcome(ctx, m, oc)
		}
	}
	outbox := NewOutbox(runner, st, client, metrics, log, OutboxOptions{Poll: 20 * time.Millisecond, Now: outNow, OnOutcome: onOutcome, MaxAttempts: o.maxAttempts})
	engine, d := newEngine(t, st, outbox, o, log)
	disp := &countingDispatcher{next: engine}
	// The codec reads the simulator's clock: the timestamps it checks are
	// the simulator's.
	codec := wechat.NewCodec(rigToken, rigAppID, aesKey, clk.Now)
	wh := NewWebhook(codec, disp, st, runner, outbox, metrics, log, WebhookOptions{Budget: o.budget})
	h := NewHandler(st, prometheus.NewRegistry(), log, wh)
	handler.Store(&h)

	ctx, cancel := context.WithCancel(context.Background())
	var wg sync.WaitGroup
	if !o.manualOutbox {
		wg.Go(func() { runner.Run(ctx) })
	}
	t.Cleanup(func() {
		// The simulator's pushes (a template's TEMPLATESENDJOBFINISH) and
		// the requests they started end first: a push arriving during
		// wh.Wait would start a dispatch it does not wait for.
		s.Close()
		svc.Close()
		wh.Wait()
		cancel()
		wg.Wait()
	})
	return &rig{sim: s, store: st, disp: disp, webhook: wh, outbox: outbox, runner: runner, client: client, url: svc.URL + "/wechat", aesKey: aesKey, clock: clk, desk: d}
}

// openRigStore opens a fresh store of the kind named (storeBolt when
// empty) and closes it, and deletes what it wrote to Redis, at the end.
func openRigStore(t *testing.T, kind string, hook goredis.Hook) rigStore {
	t.Helper()
	switch kind {
	case "", storeBolt:
		st, err := boltstore.New(filepath.Join(t.TempDir(), "huimin.db"), boltstore.Options{})
		if err != nil {
			t.Fatalf("open store: %v", err)
		}
		t.Cleanup(func() { _ = st.Close() })
		return st
	case storeRedis:
		addr := os.Getenv("HUIMIN_TEST_REDIS_ADDR")
		if addr == "" {
			addr = "127.0.0.1:6379"
		}
		c := goredis.NewUniversalClient(&goredis.UniversalOptions{Addrs: []string{addr}})
		if err := c.Ping(t.Context()).Err(); err != nil {
			_ = c.Close()
			t.Fatalf("redis at %s: %v (start redis-server)", addr, err)
		}
		if hook != nil {
			c.AddHook(hook)
		}
		prefix := fmt.Sprintf("huimintest:%s:%d:", t.Name(), time.Now().UnixNano())
		t.Cleanup(func() {
			deletePrefix(c, prefix)
			_ = c.Close()
		})
		return redisstore.New(c, redisstore.Options{Prefix: prefix})
	default:
		t.Fatalf("unknown store %q", kind)
		return nil
	}
}

// deletePrefix deletes the Redis keys under prefix.
func deletePrefix(c goredis.UniversalClient, prefix string) {
	ctx := context.Background()
	iter := c.Scan(ctx, 0, prefix+"*", 1000).Iterator()
	var keys []string
	for iter.Next(ctx) {
		if keys = append(keys, iter.Val()); len(keys) == 1000 {
			c.Del(ctx, keys...)
			keys = keys[:0]
		}
	}
	if len(keys) > 0 {
		c.Del(ctx, keys...)
	}
}

// waitCtx bounds a wait for something asynchronous; it fails the test
// rather than hanging it.
func waitCtx(t *testing.T) context.Context {
	ctx, cancel := context.WithTimeout(t.Context(), 10*time.Second)
	t.Cleanup(cancel)
	return ctx
}
