package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"math/rand/v2"
	"net"
	"net/http"
	"net/url"
	"runtime"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// loadOptions are the run subcommand's settings.
type loadOptions struct {
	url         string
	acct        account
	to          string
	concurrency int
	openids     int
	requests    int
	duration    time.Duration // 0: until all requests are sent
	warmup      time.Duration
	timeout     time.Duration
	spread      string // "rr" or "random"
	texts       string // a key of textSets
	label       string
	json        bool
}

func parseLoadFlags(args []string, stderr io.Writer) (loadOptions, error) {
	fs := flag.NewFlagSet("huimin-load run", flag.ContinueOnError)
	fs.SetOutput(stderr)
	var o loadOptions
	fs.StringVar(&o.url, "url", "http://127.0.0.1:8080/wechat", "webhook URL")
	fs.StringVar(&o.acct.token, "token", "", "WeChat server token (required)")
	fs.StringVar(&o.acct.aesKey, "aes-key", "", "EncodingAESKey, 43 characters; sends safe-mode messages")
	fs.StringVar(&o.acct.appID, "app-id", "", "AppID sealed into safe-mode messages")
	fs.StringVar(&o.to, "to", "gh_3f1a5b7c9d2e", "the Official Account's original ID (ToUserName)")
	fs.IntVar(&o.concurrency, "c", 256, "concurrent connections")
	fs.IntVar(&o.openids, "openids", 100000, "distinct openids the messages come from")
	fs.IntVar(&o.requests, "n", 200000, "requests to send (each with its own MsgId)")
	fs.DurationVar(&o.duration, "duration", 0, "stop sending after this long (0: send all -n)")
	fs.DurationVar(&o.warmup, "warmup", 2*time.Second, "send unmeasured requests for this long first")
	fs.DurationVar(&o.timeout, "timeout", 5*time.Second, "per-request timeout (WeChat waits 5 s)")
	fs.StringVar(&o.spread, "spread", "rr", "how requests pick an openid: rr (round robin) or random")
	fs.StringVar(&o.texts, "texts", "conversation", "what citizens write: conversation (你好, 1, 2, 查询进度, 3, 谢谢 in turn) or question (a free-text question the knowledge base answers)")
	fs.StringVar(&o.label, "label", "", "name of this run in the report")
	fs.BoolVar(&o.json, "json", false, "print the report as one JSON object")
	if err := fs.Parse(args); err != nil {
		return o, err
	}
	if fs.NArg() > 0 {
		return o, fmt.Errorf("unexpected arguments %q", fs.Args())
	}
	if err := o.validate(); err != nil {
		return o, err
	}
	return o, nil
}

func (o loadOptions) validate() error {
	u, err := url.Parse(o.url)
	if err != nil {
		return fmt.Errorf("parse -url: %w", err)
	}
	if (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" || u.RawQuery != "" {
		return fmt.Errorf("-url %q: want http(s)://host/path without a query", o.url)
	}
	switch {
	case o.concurrency < 1:
		return errors.New("-c must be at least 1")
	case o.requests < 1:
		return errors.New("-n must be at least 1")
	case o.openids < 1:
		return errors.New("-openids must be at least 1")
	case o.spread != "rr" && o.spread != "random":
		return fmt.Errorf("-spread %q: want rr or random", o.spread)
	case textSets[o.texts].texts == nil:
		return fmt.Errorf("-texts %q: want conversation or question", o.texts)
	case o.timeout <= 0:
		return errors.New("-timeout must be positive")
	case o.duration < 0 || o.warmup < 0:
		return errors.New("-duration and -warmup cannot be negative")
	}
	return o.acct.validate()
}

// runLoad is the run subcommand.
func runLoad(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	o, err := parseLoadFlags(args, stderr)
	if errors.Is(err, flag.ErrHelp) {
		return nil
	}
	if err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	rep, err := load(ctx, o, log)
	if err != nil {
		return err
	}
	if o.json {
		return rep.writeJSON(stdout)
	}
	return rep.writeText(stdout)
}

// load prepares every request, warms up, then sends the prepared requests from
// o.concurrency workers over one keep-alive transport and measures each one.
func load(ctx context.Context, o loadOptions, log *slog.Logger) (*report, error) {
	gen := &generator{
		acct:      o.acct,
		to:        o.to,
		openids:   o.openids,
		random:    o.spread == "random",
		seed:      rand.Uint64(),
		msgIDBase: 1<<54 + rand.Int64N(1<<61), // > 2^53 like real MsgIds; fresh per run so stores do not dedupe
		nonceBase: 1_000_000_000 + rand.Uint64N(1_000_000_000),
		timestamp: time.Now().Unix(),
		texts:     textSets[o.texts],
	}

	// Sign and seal everything up front so the generator's crypto does not
	// compete with the server for the CPU while it is measured.
	t0 := time.Now()
	reqs, err := prepare(ctx, gen, o.requests)
	if err != nil {
		return nil, err
	}
	prepTime := time.Since(t0)
	log.Info("requests prepared", "requests", len(reqs), "mode", o.acct.mode(), "took", prepTime.Round(time.Millisecond))

	tr := &http.Transport{
		Proxy:               nil, // loopback measurements must not go through a proxy from the environment
		DialContext:         (&net.Dialer{Timeout: o.timeout, KeepAlive: 30 * time.Second}).DialContext,
		MaxIdleConns:        o.concurrency,
		MaxIdleConnsPerHost: o.concurrency,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}
	defer tr.CloseIdleConnections()
	cl := &client{
		http:  &http.Client{Transport: tr, Timeout: o.timeout},
		url:   o.url,
		check: replyChecker{acct: o.acct, to: o.to},
	}

	rep := &report{
		Label:       o.label,
		URL:         o.url,
		Mode:        o.acct.mode(),
		Concurrency: o.concurrency,
		OpenIDs:     o.openids,
		Spread:      o.spread,
		PrepareS:    prepTime.Seconds(),
	}
	if o.warmup > 0 {
		w := warmup(ctx, cl, gen, o.concurrency, o.requests, o.warmup)
		rep.Warmup, rep.WarmupErrors = w.requests, w.errors
		if w.errors > 0 {
			log.Warn("warmup had errors", "requests", w.requests, "errors", w.errors, "first", w.first)
		}
	}
	if err := ctx.Err(); err != nil {
		return nil, fmt.Errorf("warm up: %w", err)
	}

	m := measure(ctx, cl, reqs, o.concurrency, o.duration)
	rep.fill(m)
	return rep, nil
}

// prepare builds requests 0..n-1 on every CPU.
func prepare(ctx context.Context, gen *generator, n int) ([]prepared, error) {
	reqs := make([]prepared, n)
	workers := runtime.GOMAXPROCS(0)
	errs := make([]error, workers)
	var wg sync.WaitGroup
	for w := range workers {
		wg.Go(func() {
			for k, i := 0, w; i < n; k, i = k+1, i+workers {
				if k%1024 == 0 && ctx.Err() != nil {
					errs[w] = fmt.Errorf("prepare requests: %w", ctx.Err())
					return
				}
				p, err := gen.request(i)
				if err != nil {
					errs[w] = err
					return
				}
				reqs[i] = p
			}
		})
	}
	wg.Wait()
	return reqs, errors.Join(errs...)
}

// client sends one request and judges the answer.
type client struct {
	http  *http.Client
	url   string
	check replyChecker
}

// send posts p and returns the reply class, or a *failure.
func (c *client) send(ctx context.Context, p prepared) (string, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, strings.NewReader(p.body))
	if err != nil {
		return "", &failure{kind: "request", err: err}
	}
	req.URL.RawQuery = p.query
	req.Header["Content-Type"] = []string{"text/xml"}
	req.Header["User-Agent"] = []string{"Mozilla/4.0"} // what WeChat's pushes carry
	resp, err := c.http.Do(req)
	if err != nil {
		return "", &failure{kind: transportKind(ctx, err), err: err}
	}
	defer func() { _ = resp.Body.Close() }() // read in full below: nothing is lost if closing fails
	body, err := io.ReadAll(io.LimitReader(resp.Body, maxBody))
	if err != nil {
		return "", &failure{kind: transportKind(ctx, err), err: fmt.Errorf("read reply: %w", err)}
	}
	if resp.StatusCode < 200 || resp.StatusCode > 299 {
		return "", fail(fmt.Sprintf("status_%d", resp.StatusCode), "%s: %.64q", resp.Status, body)
	}
	return c.check.check(body, int(p.from))
}

func transportKind(ctx context.Context, err error) string {
	if ctx.Err() != nil {
		return "canceled"
	}
	if ne, ok := errors.AsType[net.Error](err); ok && ne.Timeout() {
		return "timeout"
	}
	return "transport"
}

// tally counts one worker's outcomes, so workers share nothing while they run.
type tally struct {
	replies map[string]int
	errors  map[string]int
	first   map[string]string // the first error of each kind, to show what went wrong
}

func newTally() *tally {
	return &tally{replies: map[string]int{}, errors: map[string]int{}, first: map[string]string{}}
}

func (t *tally) add(reply string, err error) {
	if err == nil {
		t.replies[reply]++
		return
	}
	kind, msg := "other", err.Error()
	if f, ok := errors.AsType[*failure](err); ok {
		kind, msg = f.kind, f.err.Error()
	}
	if t.errors[kind] == 0 {
		t.first[kind] = msg
	}
	t.errors[kind]++
}

func (t *tally) merge(o *tally) {
	for k, v := range o.replies {
		t.replies[k] += v
	}
	for k, v := range o.errors {
		if t.errors[k] == 0 {
			t.first[k] = o.first[k]
		}
		t.errors[k] += v
	}
}

// measurement is what the measured phase produced.
type measurement struct {
	latency []time.Duration // one per request sent, in request order
	elapsed time.Duration
	tally   *tally
}

// measure sends reqs from c workers. Each worker takes the next request index
// from a shared counter and writes its latency into that index's slot, so
// recording is free of locks and allocation. If duration is positive, no new
// request starts after it has passed.
func measure(ctx context.Context, cl *client, reqs []prepared, c int, duration time.Duration) measurement {
	lat := make([]time.Duration, len(reqs))
	tallies := make([]*tally, c)
	var next atomic.Int64
	var stop atomic.Bool
	var wg sync.WaitGroup

	start := time.Now()
	if duration > 0 {
		t := time.AfterFunc(duration, func() { stop.Store(true) })
		defer t.Stop()
	}
	for w := range c {
		t := newTally()
		tallies[w] = t
		wg.Go(func() {
			for !stop.Load() && ctx.Err() == nil {
				i := int(next.Add(1) - 1)
				if i >= len(reqs) {
					return
				}
				t0 := time.Now()
				reply, err := cl.send(ctx, reqs[i])
				lat[i] = time.Since(t0)
				t.add(reply, err)
			}
		})
	}
	wg.Wait()
	elapsed := time.Since(start)

	// Every index below next was taken by a worker that then finished it.
	sent := min(int(next.Load()), len(reqs))
	total := newTally()
	for _, t := range tallies {
		total.merge(t)
	}
	return measurement{latency: lat[:sent], elapsed: elapsed, tally: total}
}

// warmupResult counts the unmeasured requests.
type warmupResult struct {
	requests, errors int
	first            string
}

// warmup opens the connections and wakes the server up for d, with requests
// built on the fly from index n on, so they reuse none of the measured
// requests' MsgIds or nonces. Their crypto runs in the generator, which is
// fine: nothing is measured yet.
func warmup(ctx context.Context, cl *client, gen *generator, c, n int, d time.Duration) warmupResult {
	deadline := time.Now().Add(d)
	var next, errs atomic.Int64
	var once sync.Once
	var first string
	var wg sync.WaitGroup
	for range c {
		wg.Go(func() {
			for ctx.Err() == nil && time.Now().Before(deadline) {
				p, err := gen.request(n + int(next.Add(1)-1))
				if err == nil {
					_, err = cl.send(ctx, p)
				}
				if err != nil {
					errs.Add(1)
					once.Do(func() { first = err.Error() })
				}
			}
		})
	}
	wg.Wait()
	return warmupResult{requests: int(next.Load()), errors: int(errs.Load()), first: first}
}
