package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"runtime/debug"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	goredis "github.com/redis/go-redis/v9"
	"github.com/robfig/cron/v3"

	"huimin/bot"
	"huimin/bot/wechat"
	"huimin/campaigns"
	"huimin/config"
	"huimin/desk"
	"huimin/flows"
	"huimin/results"
	"huimin/store/boltstore"
	"huimin/store/redisstore"
)

func serveCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("serve", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "", "YAML configuration file (optional; HUIMIN_* variables override it)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := config.Load(*path, getenv)
	if err != nil {
		return err
	}
	log := newLogger(cfg.Log, stderr)
	if getenv("GOGC") == "" {
		// The live heap is small (about 10 MiB at full load), so the
		// default GOGC=100 collects very often. At 400 the service spent
		// about 10% less CPU per message under the load generator.
		debug.SetGCPercent(serveGCPercent)
	}
	if getenv("GOMEMLIMIT") == "" {
		// GOGC=400 alone lets the heap grow to five times what is live,
		// 50 MiB on Redis; below the limit GOGC still decides.
		debug.SetMemoryLimit(serveMemoryLimit(cfg.Store.Driver))
	}
	return serve(ctx, cfg, log, nil)
}

// serveGCPercent is the service's GOGC unless the environment sets one.
const serveGCPercent = 400

// serveMemoryLimit is the service's soft memory limit (GOMEMLIMIT) unless
// the environment sets one. The limit bounds what the Go runtime maps
// (heap, stacks, its own structures), not the pages of files the process
// maps: the binary's own (about 20 MiB of the resident set) and, on bolt,
// the database's (those touched within the last second: see boltstore's
// trim.go; 10–30 MiB at full load). Each is the memory target of issue 11
// (peak RSS 64 MiB on Redis, 96 MiB on bolt) less those pages and a
// margin: under the load generator at 256 connections the peak RSS was
// 51–59 MiB on Redis and 88–92 MiB on bolt (2026-12-07).
//
// The tighter the limit, the more often the collector runs once the heap
// reaches it: at 256 connections 106 collections per 100,000 messages on
// Redis, against 47 with GOGC=400 alone. bolt's limit is higher because
// it keeps more on the heap (the replay keys of the last ten minutes, the
// deliveries in hand, bolt's transactions), and a limit near the live
// heap would have the collector run all the time. It was 72 MiB until
// the machine answered twice as fast (17,000 messages a second on bolt):
// more database pages touched per second took the peak to 105–109 MiB;
// at 60 MiB it was 93–94 MiB, at 56 MiB 88–92 MiB for 5–8% of the
// throughput.
func serveMemoryLimit(driver string) int64 {
	if driver == "redis" {
		return 44 << 20
	}
	return 56 << 20
}

func checkConfigCommand(args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("check-config", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "", "YAML configuration file")
	if err := fs.Parse(args); err != nil {
		return err
	}
	cfg, err := config.Load(*path, getenv)
	if err != nil {
		return fmt.Errorf("configuration is invalid:\n%w", err)
	}
	fmt.Fprint(stdout, cfg.Masked())
	fmt.Fprintln(stdout, "# configuration is valid")
	return nil
}

func newLogger(c config.Log, w io.Writer) *slog.Logger {
	var level slog.Level
	_ = level.UnmarshalText([]byte(c.Level)) // validated by config
	opts := &slog.HandlerOptions{Level: level}
	if c.Format == "text" {
		return slog.New(slog.NewTextHandler(w, opts))
	}
	return slog.New(slog.NewJSONHandler(w, opts))
}

// backend is everything the service needs from a store.
type backend interface {
	bot.Pinger
	bot.Deliveries
	bot.DueQueue
	bot.OutcomeStore
	wechat.TokenCache
	desk.Store
	campaigns.Store
	flows.Sessions
	flows.Consents
	results.Source
	Close() error
}

// openStore opens the configured backend. jobs gets the backend's
// maintenance jobs for cron.
func openStore(ctx context.Context, cfg config.Config) (backend, map[string]func(context.Context) error, error) {
	switch cfg.Store.Driver {
	case "redis":
		client := goredis.NewUniversalClient(&goredis.UniversalOptions{
			Addrs:      cfg.Redis.RedisAddrs(),
			MasterName: cfg.Redis.MasterName,
			Password:   cfg.Redis.Password,
			DB:         cfg.Redis.DB,
			PoolSize:   cfg.Redis.PoolSize,
			// A command's context deadline (the webhook's reply budget,
			// /readyz's second) bounds its wait on the connection too, so
			// a Redis that hangs cannot hold an answer past WeChat's 5 s.
			ContextTimeoutEnabled: true,
			// RESP2: the store uses nothing of RESP3, whose push
			// notification check on every reply cost 3.7% of the
			// webhook's CPU (go-redis v9.23).
			Protocol: 2,
			// A command Redis refuses for a passing state (NOREPLICAS
			// from a new primary during a failover, LOADING, READONLY)
			// is sent again for about two seconds, within its context's
			// deadline; the store's batched commands do the same.
			MaxRetries:      10,
			MinRetryBackoff: 20 * time.Millisecond,
			MaxRetryBackoff: 320 * time.Millisecond,
		})
		s := redisstore.New(client, redisstore.Options{Prefix: cfg.Redis.Prefix})
		pctx, cancel := context.WithTimeout(ctx, 5*time.Second)
		defer cancel()
		if err := s.Ping(pctx); err != nil {
			_ = client.Close()
			return nil, nil, fmt.Errorf("connect to redis %s: %w", strings.Join(cfg.Redis.RedisAddrs(), ","), err)
		}
		return redisBackend{s, client}, map[string]func(context.Context) error{}, nil
	default:
		s, err := boltstore.New(cfg.Store.Path, boltstore.Options{})
		if err != nil {
			return nil, nil, fmt.Errorf("open store %s: %w", cfg.Store.Path, err)
		}
		jobs := map[string]func(context.Context) error{
			"purge_expired": func(ctx context.Context) error { _, err := s.PurgeExpired(ctx); return err },
		}
		return s, jobs, nil
	}
}

// indexBuilder is a store that builds its indexes for data written before
// them (Redis; the embedded store does it when it opens).
type indexBuilder interface {
	BuildIndexes(ctx context.Context) (int, error)
}

// redisBackend closes the client the service created along with the store.
type redisBackend struct {
	*redisstore.Store
	client goredis.UniversalClient
}

func (r redisBackend) Close() error { return r.client.Close() }

// serve runs the service until ctx ends. ready, when set, receives the
// listener's address once it accepts connections (tests and demo use it).
func serve(ctx context.Context, cfg config.Config, log *slog.Logger, ready chan<- string) error {
	st, jobs, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer func() {
		if err := st.Close(); err != nil {
			log.Error("close store failed", "err", err)
		}
	}()

	wechat.ConfigureSDK(cfg.WeChat.APIBaseURL, cfg.WeChat.APITimeout)
	reg := prometheus.NewRegistry()
	reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	metrics := bot.NewMetrics(reg)
	a, err := newApp(cfg, st, metrics, log)
	if err != nil {
		return err
	}
	// huimin_queue_items{queue} and huimin_queue_due_items{queue} for every
	// queue on the runner (outbox, inbox, desk, and those to come).
	reg.MustRegister(bot.NewQueueDepthCollector(st, time.Now, log, a.runner.Queues()...))
	reg.MustRegister(a.campaignMessages)
	routes := []bot.Routes{a.webhook, a.pages}
	if a.wecom != nil {
		routes = append(routes, a.wecom)
	}

	ln, err := net.Listen("tcp", cfg.HTTP.Addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", cfg.HTTP.Addr, err)
	}
	srv := &http.Server{
		Handler:           bot.NewHandler(st, reg, log, routes...),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      15 * time.Second,
		IdleTimeout:       2 * time.Minute,
		ErrorLog:          slog.NewLogLogger(log.Handler(), slog.LevelWarn),
	}

	workCtx, stopWork := context.WithCancel(context.WithoutCancel(ctx))
	defer stopWork()
	var workers sync.WaitGroup
	workers.Go(func() { a.run(workCtx) })

	// cron triggers periodic sweeps only; work due at a time runs on the
	// app's runner.
	sched := cron.New(cron.WithLocation(time.Local))
	for name, job := range jobs {
		spec := "@every 10m"
		if _, err := sched.AddFunc(spec, func() {
			if err := job(workCtx); err != nil {
				log.Error("scheduled job failed", "job", name, "err", err)
			}
		}); err != nil {
			return fmt.Errorf("schedule %s: %w", name, err)
		}
	}
	// The public results are computed at start and again on schedule;
	// their page reads the last computation.
	refresh := func() {
		if _, err := a.results.Refresh(workCtx); err != nil {
			log.Error("refresh published results failed", "err", err)
		}
	}
	if _, err := sched.AddFunc(cfg.Results.Refresh, refresh); err != nil {
		return fmt.Errorf("results.refresh %q: %w", cfg.Results.Refresh, err)
	}
	// Personal data past desk.retention is erased on every instance's
	// schedule: each ticket once, whichever instance gets there first.
	erase := func() {
		n, err := a.desk.EraseExpired(workCtx, cfg.Desk.Retention)
		if err != nil {
			log.Error("erase expired personal data failed; the next sweep carries on", "erased", n, "err", err)
			return
		}
		log.Info("expired personal data erased", "tickets", n, "retention", cfg.Desk.Retention)
	}
	if _, err := sched.AddFunc(cfg.Desk.RetentionSweep, erase); err != nil {
		return fmt.Errorf("desk.retention_sweep %q: %w", cfg.Desk.RetentionSweep, err)
	}
	// Each campaign's schedule starts its runs; every instance fires it,
	// and the run, named by the campaign and the scheduled time, is
	// scheduled once.
	for _, c := range a.campaigns.Campaigns() {
		sched.Schedule(a.campaigns.Schedule(c.ID), cron.FuncJob(func() {
			if _, err := a.campaigns.Start(workCtx, c.ID, a.campaigns.Fired(c.ID, time.Now())); err != nil {
				log.Error("start campaign run failed", "campaign", c.ID, "err", err)
			}
		}))
	}
	if b, ok := st.(indexBuilder); ok {
		// Tickets written before the results and open-ticket indexes
		// existed get their entries once, beside the service starting
		// (the message path reads the old way until then).
		workers.Go(func() {
			n, err := b.BuildIndexes(workCtx)
			if err != nil {
				log.Error("build store indexes failed; they are built at the next start", "err", err)
				return
			}
			if n > 0 {
				log.Info("store indexes built for tickets written before them", "tickets", n)
			}
		})
	}
	workers.Go(refresh)
	sched.Start()

	serveErr := make(chan error, 1)
	go func() { serveErr <- srv.Serve(ln) }()
	log.Info("huimin serving", "addr", ln.Addr().String(), "store", cfg.Store.Driver, "safe_mode", cfg.WeChat.AESKey != "")
	if ready != nil {
		ready <- ln.Addr().String()
	}

	select {
	case err := <-serveErr:
		stopWork()
		workers.Wait()
		return fmt.Errorf("http server: %w", err)
	case <-ctx.Done():
	}
	log.Info("shutting down")
	sctx, cancel := context.WithTimeout(context.Background(), cfg.HTTP.ShutdownTimeout)
	defer cancel()
	if err := srv.Shutdown(sctx); err != nil {
		log.Warn("http shutdown incomplete", "err", err)
	}
	a.webhook.Wait() // dispatches that overran the reply budget queue their replies
	stopWork()       // then the workers finish the batch in hand and stop
	workers.Wait()   //
	<-sched.Stop().Done()
	if err := <-serveErr; err != nil && !errors.Is(err, http.ErrServerClosed) {
		return fmt.Errorf("http server: %w", err)
	}
	log.Info("stopped")
	return nil
}

var _ backend = (*boltstore.Store)(nil)
var _ backend = redisBackend{}
