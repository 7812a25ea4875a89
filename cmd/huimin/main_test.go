package main

import (
	"bufio"
	"bytes"
	"context"
	"fmt"
	"io"
	"maps"
	"net"
	"net/http"
	"net/http/httptest"
	"net/http/httputil"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"huimin/sim"
	"huimin/store/redisstore/redistest"
)

// TestMain lets the test binary stand in for the huimin binary: with
// HUIMIN_TEST_CHILD set it runs the command in its arguments, so tests can
// start, kill and restart a real service process.
func TestMain(m *testing.M) {
	if os.Getenv("HUIMIN_TEST_CHILD") == "1" {
		main()
		os.Exit(0)
	}
	os.Exit(m.Run())
}

func envFunc(m map[string]string) func(string) string { return func(k string) string { return m[k] } }

func TestCheckConfig(t *testing.T) {
	var out, errOut bytes.Buffer
	env := map[string]string{"HUIMIN_WECHAT_APP_ID": "wx1", "HUIMIN_WECHAT_APP_SECRET": "topsecret", "HUIMIN_WECHAT_TOKEN": "tokentoken"}
	if err := run(t.Context(), []string{"huimin", "check-config"}, envFunc(env), &out, &errOut); err != nil {
		t.Fatalf("check-config: %v", err)
	}
	if !strings.Contains(out.String(), "app_id: wx1") || strings.Contains(out.String(), "topsecret") || strings.Contains(out.String(), "tokentoken") {
		t.Errorf("check-config output shows a secret or misses app_id:\n%s", out.String())
	}
	env["HUIMIN_WECHAT_AES_KEY"] = "short"
	err := run(t.Context(), []string{"huimin", "check-config"}, envFunc(env), &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "wechat.aes_key: must be 43 characters") {
		t.Errorf("check-config with a bad key: err = %v, want the key and problem named", err)
	}
}

func TestUnknownCommand(t *testing.T) {
	var out, errOut bytes.Buffer
	if err := run(t.Context(), []string{"huimin", "fly"}, envFunc(nil), &out, &errOut); err == nil {
		t.Fatal("unknown command: want an error")
	}
	if !strings.Contains(errOut.String(), "usage: huimin") {
		t.Errorf("unknown command prints no usage:\n%s", errOut.String())
	}
}

// service is one huimin process started by a test.
type service struct {
	cmd    *exec.Cmd
	served chan struct{}
	logs   *bytes.Buffer
	mu     *sync.Mutex
	lines  chan string
}

func freeAddr(t testing.TB) string {
	t.Helper()
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	defer ln.Close()
	return ln.Addr().String()
}

// startService runs `huimin serve` in a child process with env, and
// returns once it serves.
func startService(t testing.TB, env map[string]string, args ...string) *service {
	t.Helper()
	cmd := exec.Command(os.Args[0], append([]string{"serve"}, args...)...)
	cmd.Env = append(os.Environ(), "HUIMIN_TEST_CHILD=1")
	for k, v := range env {
		cmd.Env = append(cmd.Env, k+"="+v)
	}
	stderr, err := cmd.StderrPipe()
	if err != nil {
		t.Fatal(err)
	}
	if err := cmd.Start(); err != nil {
		t.Fatal(err)
	}
	s := &service{cmd: cmd, served: make(chan struct{}), logs: &bytes.Buffer{}, mu: &sync.Mutex{}, lines: make(chan string, 1024)}
	go func() {
		sc := bufio.NewScanner(stderr)
		for sc.Scan() {
			line := sc.Text()
			s.mu.Lock()
			s.logs.WriteString(line + "\n")
			s.mu.Unlock()
			select {
			case s.lines <- line:
			default:
			}
		}
		close(s.lines)
	}()
	t.Cleanup(func() {
		if cmd.ProcessState == nil {
			_ = cmd.Process.Kill()
			_ = cmd.Wait()
		}
		if t.Failed() {
			s.mu.Lock()
			t.Logf("service log:\n%s", s.logs.String())
			s.mu.Unlock()
		}
	})
	s.waitLog(t, "huimin serving")
	return s
}

// waitLog waits for a log line containing want.
func (s *service) waitLog(t testing.TB, want string) {
	t.Helper()
	timeout := time.After(30 * time.Second)
	for {
		select {
		case line, ok := <-s.lines:
			if !ok {
				t.Fatalf("service exited before logging %q", want)
			}
			if strings.Contains(line, want) {
				return
			}
		case <-timeout:
			t.Fatalf("service did not log %q within 30s", want)
		}
	}
}

func (s *service) kill(t *testing.T) {
	t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGKILL); err != nil {
		t.Fatal(err)
	}
	_ = s.cmd.Wait()
}

// stop sends SIGTERM and expects a clean exit.
func (s *service) stop(t testing.TB) {
	t.Helper()
	if err := s.cmd.Process.Signal(syscall.SIGTERM); err != nil {
		t.Fatal(err)
	}
	if err := s.cmd.Wait(); err != nil {
		t.Fatalf("service did not stop cleanly on SIGTERM: %v", err)
	}
}

// newSim starts a simulator that posts to webhook, and returns it with its URL.
func newSim(t *testing.T, webhook string) (*sim.Simulator, string) {
	s := sim.New(sim.Options{
		AppID: demoAppID, AppSecret: demoAppSecret, Token: demoToken, AESKey: demoAESKey, Mode: sim.ModeSafe,
		WebhookURL: webhook,
	})
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(func() { srv.Close(); s.Close() })
	return s, srv.URL
}

// simSayer returns a function that sends a citizen's text through the
// simulator and returns the service's passive reply ("" for none).
func simSayer(ctx context.Context, t *testing.T, s *sim.Simulator) func(openid, text string) string {
	return func(openid, text string) string {
		t.Helper()
		res, err := s.Send(ctx, sim.Message{OpenID: openid, Type: "text", Content: text})
		if err != nil {
			t.Fatalf("%s says %q: %v", openid, text, err)
		}
		if res.Reply == nil {
			return ""
		}
		return res.Reply.Content
	}
}

func serviceEnv(addr, simURL string, extra map[string]string) map[string]string {
	env := map[string]string{
		"HUIMIN_HTTP_ADDR":            addr,
		"HUIMIN_WECHAT_APP_ID":        demoAppID,
		"HUIMIN_WECHAT_APP_SECRET":    demoAppSecret,
		"HUIMIN_WECHAT_TOKEN":         demoToken,
		"HUIMIN_WECHAT_AES_KEY":       demoAESKey,
		"HUIMIN_WECHAT_API_BASE_URL":  simURL,
		"HUIMIN_LOG_LEVEL":            "info",
		"HUIMIN_OUTBOX_POLL_INTERVAL": "100ms",
	}
	for k, v := range extra {
		env[k] = v
	}
	return env
}

// TestKillBeforeReplyIsDelivered kills the service with SIGKILL while a
// customer-service reply it accepted cannot reach WeChat; after a restart
// the reply goes out, once.
func TestKillBeforeReplyIsDelivered(t *testing.T) {
	addr := freeAddr(t)
	s, simURL := newSim(t, "http://"+addr+"/wechat")
	env := serviceEnv(addr, simURL, map[string]string{
		"HUIMIN_STORE_DRIVER": "bolt",
		"HUIMIN_STORE_PATH":   filepath.Join(t.TempDir(), "huimin.db"),
	})
	svc := startService(t, env)
	ctx, cancel := context.WithTimeout(t.Context(), 60*time.Second)
	defer cancel()

	if err := s.SetFault(sim.Fault{Kind: sim.FaultHTTP500, Path: "/cgi-bin/message/custom/send"}); err != nil {
		t.Fatal(err)
	}
	// A follow is answered with a greeting at once and the menu by
	// customer-service message, which now fails.
	res, err := s.Send(ctx, sim.Message{OpenID: "oKill", Type: "event", Event: "subscribe"})
	if err != nil || res.Reply == nil {
		t.Fatalf("subscribe: %+v, %v", res, err)
	}
	svc.waitLog(t, `"msg":"due item failed, will retry","component":"runner","queue":"outbox"`)
	svc.kill(t)
	s.ClearFaults()

	svc = startService(t, env)
	got, err := s.WaitReceived(ctx, "oKill", 2)
	if err != nil {
		t.Fatalf("the menu never arrived after the restart: %v", err)
	}
	if got[1].Kind != sim.KindCustom || !strings.Contains(got[1].Text, "weixin://bizmsgmenu") {
		t.Fatalf("second message = %+v, want the menu", got[1])
	}
	svc.stop(t)
	if n := len(s.Received("oKill")); n != 2 {
		t.Errorf("oKill received %d messages, want 2 (greeting, menu once)", n)
	}
	if n := s.Calls("/cgi-bin/message/custom/send"); n != 2 {
		t.Errorf("custom/send called %d times, want 2 (one failure, one success)", n)
	}
}

// TestTwoInstancesOnOneRedis runs two service processes on one prefix of
// the shared single Redis: every reply queued by either is sent exactly
// once.
func TestTwoInstancesOnOneRedis(t *testing.T) {
	redisAddr := testRedisAddr()
	prefix := fmt.Sprintf("huimintest:%d:", time.Now().UnixNano())
	t.Cleanup(func() { deleteRedisPrefix(redisAddr, prefix) })
	runTwoInstances(t, map[string]string{"HUIMIN_REDIS_ADDR": redisAddr, "HUIMIN_REDIS_PREFIX": prefix}, nil)
}

// TestTwoInstancesOnCluster runs the same on a Redis Cluster of three
// masters: the services' ClusterClient routes every command and script by
// its keys' slot.
func TestTwoInstancesOnCluster(t *testing.T) {
	c := redistest.StartCluster(t, 3)
	runTwoInstances(t, map[string]string{"HUIMIN_REDIS_ADDRS": strings.Join(c.Addrs(), ",")}, nil)
}

// TestTwoInstancesOnSentinel runs the same on a Sentinel-managed primary
// with two replicas, and kills the primary in the middle of the run: the
// sentinel promotes a replica, the services follow it, and every citizen
// still gets both messages exactly once (those answered "send it again"
// while there was no primary send again).
func TestTwoInstancesOnSentinel(t *testing.T) {
	rs := redistest.StartSentinel(t)
	env := map[string]string{"HUIMIN_REDIS_ADDRS": rs.Sentinel.Addr, "HUIMIN_REDIS_MASTER_NAME": redistest.MasterName}
	runTwoInstances(t, env, func(ctx context.Context) { rs.KillPrimary(ctx, t) })
}

// runTwoInstances starts two service processes on the Redis that redisEnv
// names, behind a round-robin balancer, and has citizens follow the
// account, each answered with a greeting and then sent the menu by
// customer-service message. Ten follow at once; then midRun (if any) runs
// while a citizen follows every followEvery until it returns, and ten
// more after. Every citizen must get the greeting and the menu exactly
// once. A citizen answered "please send it again" (the store was
// unreachable) sends again, as the answer asks.
func runTwoInstances(t *testing.T, redisEnv map[string]string, midRun func(ctx context.Context)) {
	addrA, addrB := freeAddr(t), freeAddr(t)
	// A round-robin balancer in front of the two, as in production.
	var next atomic.Int64
	lb := httptest.NewServer(&httputil.ReverseProxy{Rewrite: func(r *httputil.ProxyRequest) {
		target := addrA
		if next.Add(1)%2 == 0 {
			target = addrB
		}
		r.SetURL(&url.URL{Scheme: "http", Host: target})
	}})
	t.Cleanup(lb.Close)
	s, simURL := newSim(t, lb.URL+"/wechat")
	extra := map[string]string{"HUIMIN_STORE_DRIVER": "redis"}
	maps.Copy(extra, redisEnv)
	a := startService(t, serviceEnv(addrA, simURL, extra))
	b := startService(t, serviceEnv(addrB, simURL, extra))
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()

	var (
		wg     sync.WaitGroup
		n      int
		resent atomic.Int64
	)
	follow := func() {
		openID := citizen(n)
		n++
		wg.Go(func() {
			for {
				res, err := s.Send(ctx, sim.Message{OpenID: openID, Type: "event", Event: "subscribe"})
				if err != nil {
					t.Errorf("subscribe %s: %v", openID, err)
					return
				}
				if res.Reply == nil || !askedAgain(res.Reply.Content) {
					return
				}
				resent.Add(1)
				time.Sleep(resendAfter) // a citizen's pause before sending again, not a wait for logic
			}
		})
	}
	for range 10 {
		follow()
	}
	wg.Wait()
	if midRun != nil {
		done := make(chan struct{})
		start := time.Now()
		go func() { defer close(done); midRun(ctx); t.Logf("midRun took %v", time.Since(start)) }()
		for tick := time.Tick(followEvery); ; <-tick {
			select {
			case <-done:
			default:
				follow()
				continue
			}
			break
		}
	}
	for range 10 {
		follow()
	}
	wg.Wait()
	t.Logf("every follow answered")
	for i := range n {
		if _, err := s.WaitReceived(ctx, citizen(i), 2+countUnavailable(s, i)); err != nil {
			t.Fatalf("%s: %v", citizen(i), err)
		}
	}
	var answered int
	for _, addr := range []string{addrA, addrB} {
		got := scrape(t, addr, `huimin_messages_total{outcome="replied",type="subscribe"}`)
		if resent.Load() == 0 && n%2 == 0 && got != n/2 {
			t.Errorf("instance %s answered %d follows, want %d", addr, got, n/2)
		}
		answered += got
	}
	if answered != n {
		t.Errorf("the instances answered %d follows, want %d", answered, n)
	}
	a.stop(t)
	b.stop(t)
	for i := range n {
		checkGreetedOnce(t, s, i)
	}
	if got := s.Calls("/cgi-bin/message/custom/send"); got != n {
		t.Errorf("custom/send called %d times, want %d", got, n)
	}
	if got := s.Calls("/cgi-bin/stable_token"); got > 2 {
		t.Errorf("stable_token called %d times by two instances, want at most one each", got)
	}
	t.Logf("%d citizens followed, %d follows sent again after an \"unavailable\" answer", n, resent.Load())
}

// resendAfter is how long a citizen asked to send again waits first.
const resendAfter = 200 * time.Millisecond

// followEvery paces the follows while midRun runs, so that they span it.
const followEvery = 20 * time.Millisecond

// citizen is the OpenID of the i-th citizen of runTwoInstances.
func citizen(i int) string { return fmt.Sprintf("oTwin%03d", i) }

// askedAgain reports whether an answer asks the citizen to send again:
// the store did not take the message in ("系统正在维护…请稍后再发一次"), or
// it failed while the message was handled ("系统暂时忙，请稍后再试": during
// a failover the new primary may refuse a write with NOREPLICAS until a
// replica has followed it).
func askedAgain(text string) bool {
	return strings.Contains(text, "系统正在维护") || strings.Contains(text, "系统暂时忙")
}

// countUnavailable counts the "please send it again" answers citizen i got.
func countUnavailable(s *sim.Simulator, i int) int {
	var k int
	for _, r := range s.Received(citizen(i)) {
		if askedAgain(r.Text) {
			k++
		}
	}
	return k
}

// checkGreetedOnce checks that citizen i got one greeting (a passive
// reply) and one menu (a customer-service message), besides any "please
// send it again".
func checkGreetedOnce(t *testing.T, s *sim.Simulator, i int) {
	t.Helper()
	var replies, menus int
	for _, r := range s.Received(citizen(i)) {
		switch {
		case askedAgain(r.Text):
		case r.Kind == sim.KindReply:
			replies++
		case r.Kind == sim.KindCustom && strings.Contains(r.Text, "weixin://bizmsgmenu"):
			menus++
		default:
			t.Errorf("%s received %+v, want only the greeting and the menu", citizen(i), r)
		}
	}
	if replies != 1 || menus != 1 {
		t.Errorf("%s received %d greetings and %d menus, want 1 and 1", citizen(i), replies, menus)
	}
}

// scrape reads one counter from an instance's /metrics.
func scrape(t *testing.T, addr, series string) int {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatalf("scrape %s: %v", addr, err)
	}
	defer resp.Body.Close()
	sc := bufio.NewScanner(resp.Body)
	for sc.Scan() {
		if v, ok := strings.CutPrefix(sc.Text(), series+" "); ok {
			var n int
			if _, err := fmt.Sscan(v, &n); err != nil {
				t.Fatalf("scrape %s: %s = %q: %v", addr, series, v, err)
			}
			return n
		}
	}
	return 0
}

const adminTestConfig = `
desk:
  departments:
    - {id: relief, name: 社会救助科, lines: [relief], supervisor: zhao}
  officers:
    - {id: zhao, name: 赵敏, department: relief, supervisor: true}
    - {id: wang, name: 王明, department: relief}
`

// TestOfficerAddAndMenuPublish issues a binding code with the command,
// binds the officer through the running service, and publishes the menu.
func TestOfficerAddAndMenuPublish(t *testing.T) {
	addr := freeAddr(t)
	s, simURL := newSim(t, "http://"+addr+"/wechat")
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "huimin.yaml")
	if err := os.WriteFile(cfgPath, []byte(adminTestConfig), 0o600); err != nil {
		t.Fatal(err)
	}
	env := serviceEnv(addr, simURL, map[string]string{"HUIMIN_STORE_DRIVER": "bolt", "HUIMIN_STORE_PATH": filepath.Join(dir, "huimin.db")})
	var out, errOut bytes.Buffer
	if err := run(t.Context(), []string{"huimin", "officer", "add", "--id", "wang", "--config", cfgPath}, envFunc(env), &out, &errOut); err != nil {
		t.Fatalf("officer add: %v\n%s", err, errOut.String())
	}
	text := out.String()
	i := strings.Index(text, "绑定 ")
	if i < 0 || !strings.Contains(text, "showqrcode?ticket=") {
		t.Fatalf("officer add printed %q, want the code and a QR code URL", text)
	}
	code := strings.TrimRight(text[i+len("绑定 "):i+len("绑定 ")+6], "”")
	if err := run(t.Context(), []string{"huimin", "officer", "add", "--id", "nobody", "--config", cfgPath}, envFunc(env), &out, &errOut); err == nil {
		t.Errorf("officer add for an unknown officer: want an error")
	}
	if err := run(t.Context(), []string{"huimin", "menu", "publish", "--config", cfgPath}, envFunc(env), &out, &errOut); err != nil {
		t.Fatalf("menu publish: %v", err)
	}
	if m := s.Menu(); len(m) == 0 {
		t.Errorf("the simulator has no menu after menu publish")
	}

	svc := startService(t, env, "--config", cfgPath)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	res, err := s.Send(ctx, sim.Message{OpenID: "oWangPhone", Type: "text", Content: "绑定 " + code})
	if err != nil || res.Reply == nil || !strings.Contains(res.Reply.Content, "绑定成功") {
		t.Fatalf("binding with the code: %+v, %v", res, err)
	}
	res, err = s.Send(ctx, sim.Message{OpenID: "oWangPhone", Type: "text", Content: "我的工单"})
	if err != nil || res.Reply == nil || !strings.Contains(res.Reply.Content, "在办工单") {
		t.Fatalf("bound officer's 我的工单: %+v, %v", res, err)
	}
	svc.stop(t)
}

// TestWindowQRCodeAndResults makes a street window's QR code with the
// command, scans it with the simulator against the running service, and
// finds the window on the public results page.
func TestWindowQRCodeAndResults(t *testing.T) {
	addr := freeAddr(t)
	s, simURL := newSim(t, "http://"+addr+"/wechat")
	dir := t.TempDir()
	cfgPath := filepath.Join(dir, "huimin.yaml")
	cfg := adminTestConfig + `  windows:
    - {id: w-east, name: 东湖街道民政办, departments: [relief], towns: [东湖街道], address: 东湖路1号（测试）}
`
	if err := os.WriteFile(cfgPath, []byte(cfg), 0o600); err != nil {
		t.Fatal(err)
	}
	env := serviceEnv(addr, simURL, map[string]string{"HUIMIN_STORE_DRIVER": "bolt", "HUIMIN_STORE_PATH": filepath.Join(dir, "huimin.db")})
	var out, errOut bytes.Buffer
	if err := run(t.Context(), []string{"huimin", "window", "qr", "--id", "w-east", "--config", cfgPath}, envFunc(env), &out, &errOut); err != nil {
		t.Fatalf("window qr: %v\n%s", err, errOut.String())
	}
	if !strings.Contains(out.String(), "showqrcode?ticket=") || !strings.Contains(out.String(), "东湖街道民政办") {
		t.Fatalf("window qr printed %q, want the window and its QR code's URL", out.String())
	}
	var ticket string
	for _, q := range s.QRCodes() {
		if q.Scene == "window_w-east" && q.Permanent {
			ticket = q.Ticket
		}
	}
	if ticket == "" {
		t.Fatalf("no permanent QR code with scene window_w-east in %+v", s.QRCodes())
	}
	errOut.Reset()
	err := run(t.Context(), []string{"huimin", "window", "qr", "--id", "w-nowhere", "--config", cfgPath}, envFunc(env), &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "w-east") {
		t.Errorf("window qr for an unknown window: %v, want an error listing the windows", err)
	}

	svc := startService(t, env, "--config", cfgPath)
	ctx, cancel := context.WithTimeout(t.Context(), 30*time.Second)
	defer cancel()
	res, err := s.Send(ctx, sim.Message{OpenID: "oNewCitizen", Type: sim.TypeScan, Ticket: ticket})
	if err != nil || res.Reply == nil || !strings.Contains(res.Reply.Content, "东湖街道民政办") || !strings.Contains(res.Reply.Content, "东湖路1号") {
		t.Fatalf("scanning the window's code: %+v, %v", res, err)
	}
	resp, err := http.Get("http://" + addr + "/results")
	if err != nil {
		t.Fatal(err)
	}
	body, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || !strings.Contains(string(body), "东湖街道民政办") || !strings.Contains(string(body), "社会救助科") {
		t.Errorf("/results = %d, want both windows:\n%s", resp.StatusCode, body)
	}
	svc.stop(t)
}

// deleteRedisPrefix deletes the keys a test or benchmark wrote under prefix.
func deleteRedisPrefix(addr, prefix string) {
	rdb := goredis.NewClient(&goredis.Options{Addr: addr})
	defer rdb.Close()
	ctx := context.Background()
	iter := rdb.Scan(ctx, 0, prefix+"*", 1000).Iterator()
	var keys []string
	for iter.Next(ctx) {
		if keys = append(keys, iter.Val()); len(keys) == 1000 {
			rdb.Del(ctx, keys...)
			keys = keys[:0]
		}
	}
	if len(keys) > 0 {
		rdb.Del(ctx, keys...)
	}
}

// testRedisAddr is the Redis the tests use: HUIMIN_TEST_REDIS_ADDR, or the
// local default.
func testRedisAddr() string {
	if a := os.Getenv("HUIMIN_TEST_REDIS_ADDR"); a != "" {
		return a
	}
	return "127.0.0.1:6379"
}
