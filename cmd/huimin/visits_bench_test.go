package main

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	goredis "github.com/redis/go-redis/v9"

	"huimin/bot"
	"huimin/bot/wechat"
	"huimin/config"
	"huimin/desk"
	"huimin/desk/calendar"
	"huimin/store"
	"huimin/store/redisstore"
)

// benchClock is real time shifted to a chosen moment: the desk and the
// runners see the morning the visits fall due, while time passes as it
// does.
type benchClock struct{ offset atomic.Int64 }

func (c *benchClock) Now() time.Time  { return time.Now().Add(time.Duration(c.offset.Load())) }
func (c *benchClock) Set(t time.Time) { c.offset.Store(int64(time.Until(t))) }

// countingSender is the WeChat API at the network boundary: it answers
// every send at once and counts the surveys per citizen.
type countingSender struct {
	mu      sync.Mutex
	surveys map[string]int
	last    time.Time
	clock   *benchClock
}

func (s *countingSender) SendText(context.Context, string, string) error  { return nil }
func (s *countingSender) SendImage(context.Context, string, string) error { return nil }
func (s *countingSender) SendMenu(_ context.Context, to, _ string, _ []wechat.MenuItem, _ string) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.surveys[to]++
	s.last = s.clock.Now()
	return nil
}
func (s *countingSender) SendTemplate(context.Context, wechat.Template) (int64, error) { return 1, nil }
func (s *countingSender) SendNotice(context.Context, wechat.Notice) error              { return nil }

// claimTimes wraps an instance's due-queue and records when each visit
// was claimed, and by how many claims.
type claimTimes struct {
	bot.DueQueue
	clock *benchClock
	mu    *sync.Mutex
	at    map[string][]time.Time
}

func (c claimTimes) Claim(ctx context.Context, queue string, now time.Time, limit int, lease time.Duration) ([]store.DueItem, error) {
	items, err := c.DueQueue.Claim(ctx, queue, now, limit, lease)
	t := c.clock.Now()
	c.mu.Lock()
	for _, it := range items {
		if it.Kind == string(desk.TimerVisit) {
			c.at[it.ID] = append(c.at[it.ID], t)
		}
	}
	c.mu.Unlock()
	return items, err
}

// BenchmarkVisitSweep: 10,000 tickets resolved on a Monday afternoon have
// their return visits fall due together at 10:00 on Tuesday; four
// instances (each its own Redis client, store, runner, desk and outbox,
// as four processes) sweep them. It reports how long after 10:00 the last
// visit was claimed and the last survey sent, and fails on any visit
// claimed or sent twice, or never.
//
//	go test -run '^$' -bench VisitSweep -benchtime 1x ./cmd/huimin/
func BenchmarkVisitSweep(b *testing.B) {
	const (
		n         = 10000
		instances = 4
	)
	prefix := fmt.Sprintf("huiminbench:visits:%d:", time.Now().UnixNano())
	b.Cleanup(func() { deleteRedisPrefix(testRedisAddr(), prefix) })
	cal, err := calendar.New(calendar.Options{})
	if err != nil {
		b.Fatal(err)
	}
	loc := cal.Location()
	clk := &benchClock{}
	monday := time.Date(2026, 12, 7, 15, 0, 0, 0, loc)
	due := time.Date(2026, 12, 8, 10, 0, 0, 0, loc)
	clk.Set(monday)
	log := slog.New(slog.DiscardHandler)
	sender := &countingSender{surveys: map[string]int{}, clock: clk}
	// A hundred officers share the tickets.
	dir := desk.Directory{
		Departments: []desk.Department{{ID: "relief", Name: "社会救助科", Lines: []string{"relief"}, Supervisor: "zhao"}},
		Officers:    []desk.Officer{{ID: "zhao", Name: "赵敏", Department: "relief", OpenID: "oZhao", Supervisor: true}},
	}
	for i := range 100 {
		o := desk.Officer{ID: fmt.Sprintf("o%03d", i), Name: fmt.Sprintf("干部%03d", i), Department: "relief", OpenID: fmt.Sprintf("oOfficer%03d", i)}
		dir.Officers = append(dir.Officers, o)
	}
	rules := desk.Rules{Survey: desk.SurveyRules{QuietStart: 21 * time.Hour, QuietEnd: 8 * time.Hour, Secret: []byte("bench")}}
	var mu sync.Mutex
	claimed := map[string][]time.Time{}
	type instance struct {
		runner *bot.Runner
		desk   *desk.Desk
	}
	var all []instance
	var stores []*redisstore.Store
	for range instances {
		client := goredis.NewClient(&goredis.Options{Addr: testRedisAddr(), Protocol: 2, PoolSize: 64})
		b.Cleanup(func() { _ = client.Close() })
		st := redisstore.New(client, redisstore.Options{Prefix: prefix})
		b.Cleanup(func() { _ = st.Close() })
		stores = append(stores, st)
		q := claimTimes{DueQueue: st, clock: clk, mu: &mu, at: claimed}
		runner := bot.NewRunner(q, time.Second, clk.Now, log)
		outbox := bot.NewOutbox(runner, st, sender, bot.NewMetrics(prometheus.NewRegistry()), log, bot.OutboxOptions{Now: clk.Now})
		d, err := desk.New(deskStore{st, runner}, cal, bot.NewNotifier(outbox, nil), dir, rules, desk.Options{Now: clk.Now, Log: log, Location: loc})
		if err != nil {
			b.Fatal(err)
		}
		runner.Register(deskQueue(5*time.Second, benchWorkers()), deskTimers(d)...)
		runner.Register(visitQueue(5*time.Second, benchWorkers(), benchPerSecond()), visitTimers(d, benchPerSecond()))
		all = append(all, instance{runner, d})
	}

	// Monday afternoon: n matters in progress are resolved (the tickets
	// are written as accepted, sparing the set-up routing's reads).
	resolveMany(b, n, "oCitizen", dir.Officers[1:], monday, func(i int) (*redisstore.Store, *desk.Desk) {
		return stores[i%instances], all[i%instances].desk
	})
	if b.Failed() {
		return
	}

	// Tuesday, half a second before 10:00: the instances start.
	clk.Set(due.Add(-500 * time.Millisecond))
	runCtx, stop := context.WithCancel(context.Background())
	var running sync.WaitGroup
	for _, in := range all {
		running.Go(func() { in.runner.Run(runCtx) })
	}
	b.ResetTimer()
	deadline := time.Now().Add(2 * time.Minute)
	for {
		sender.mu.Lock()
		got := len(sender.surveys)
		sender.mu.Unlock()
		if got == n {
			break
		}
		if time.Now().After(deadline) {
			stop()
			running.Wait()
			b.Fatalf("%d of %d surveys sent within 2 minutes", got, n)
		}
		time.Sleep(10 * time.Millisecond) // polling the counting sender
	}
	time.Sleep(2 * time.Second) // anything sent twice would be by now
	stop()
	running.Wait()
	b.StopTimer()

	mu.Lock()
	defer mu.Unlock()
	var last time.Time
	for id, at := range claimed {
		if len(at) != 1 {
			b.Errorf("%s claimed %d times", id, len(at))
		}
		if at[0].After(last) {
			last = at[0]
		}
	}
	if len(claimed) != n {
		b.Errorf("%d visits claimed, want %d", len(claimed), n)
	}
	sender.mu.Lock()
	defer sender.mu.Unlock()
	var twice int
	for _, k := range sender.surveys {
		if k != 1 {
			twice++
		}
	}
	if twice > 0 {
		b.Errorf("%d citizens got more than one survey", twice)
	}
	b.ReportMetric(last.Sub(due).Seconds(), "s-to-last-claim")
	b.ReportMetric(sender.last.Sub(due).Seconds(), "s-to-last-send")
	b.ReportMetric(float64(n)/sender.last.Sub(due).Seconds(), "surveys/s")
}

// benchWorkers and benchPerSecond are desk.timer_workers and
// survey.per_second for the sweep benchmarks: HUIMIN_BENCH_TIMER_WORKERS
// and HUIMIN_BENCH_PER_SECOND ("0": not paced), else the defaults.
func benchWorkers() int {
	return benchSetting("HUIMIN_BENCH_TIMER_WORKERS", func(c config.Config) int { return c.Desk.TimerWorkers })
}
func benchPerSecond() int {
	return benchSetting("HUIMIN_BENCH_PER_SECOND", func(c config.Config) int { return c.Survey.PerSecond })
}

func benchSetting(env string, def func(config.Config) int) int {
	if n, err := strconv.Atoi(os.Getenv(env)); err == nil && n >= 0 {
		return n
	}
	cfg, err := config.Load("", envFunc(map[string]string{"HUIMIN_WECHAT_APP_ID": "wx", "HUIMIN_WECHAT_APP_SECRET": "s", "HUIMIN_WECHAT_TOKEN": "token"}))
	if err != nil {
		panic(err)
	}
	return def(cfg)
}

// resolveMany has n matters resolved at the moment at: ticket i, of
// citizen prefix+i, is written accepted by one of officers (sparing the
// set-up routing's reads) on the store of in(i), and resolved by its
// desk, which schedules the visit. 32 at a time.
func resolveMany(b *testing.B, n int, prefix string, officers []desk.Officer, at time.Time, in func(i int) (*redisstore.Store, *desk.Desk)) {
	b.Helper()
	ctx := b.Context()
	var wg sync.WaitGroup
	var next atomic.Int64
	for range 32 {
		wg.Go(func() {
			for i := int(next.Add(1)) - 1; i < n; i = int(next.Add(1)) - 1 {
				o := officers[i%len(officers)]
				t := store.Ticket{ID: fmt.Sprintf("MZ20261207-%05d", i), CitizenOpenID: fmt.Sprintf("%s%05d", prefix, i), Line: "relief",
					Inquiry: "help", Summary: "申请临时救助", State: store.StateInProgress, Department: "relief", Owner: o.ID,
					FirstResponsible: o.ID, CreatedAt: at.Add(-time.Hour), AcceptedAt: at, Deadline: at.Add(72 * time.Hour)}
				st, d := in(i)
				err := st.CreateTicket(ctx, t)
				if err == nil {
					_, err = d.Resolve(ctx, o, t.ID, "已办理")
				}
				if err != nil {
					b.Error(err)
					return
				}
			}
		})
	}
	wg.Wait()
}
