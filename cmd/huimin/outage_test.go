package main

import (
	"context"
	"fmt"
	"net/http"
	"strconv"
	"strings"
	"syscall"
	"testing"
	"time"

	"huimin/sim"
	"huimin/store/redisstore/redistest"
)

// readyz returns /readyz's status.
func readyz(t *testing.T, addr string) int {
	t.Helper()
	resp, err := http.Get("http://" + addr + "/readyz")
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	return resp.StatusCode
}

// TestRedisOutage takes the service's Redis away, first frozen (every
// command hangs), then killed (every connection refused), and brings it
// back (issue 12 item 6). Meanwhile a citizen's message is answered within
// the reply budget with a polite request to send it again, in one
// delivery, /readyz says 503, and a reply accepted before the outage is
// delivered after it, once.
func TestRedisOutage(t *testing.T) {
	rds := redistest.StartStandalone(t)
	addr := freeAddr(t)
	s, simURL := newSim(t, "http://"+addr+"/wechat")
	svc := startService(t, serviceEnv(addr, simURL, map[string]string{
		"HUIMIN_STORE_DRIVER":        "redis",
		"HUIMIN_REDIS_ADDR":          rds.Addr,
		"HUIMIN_WECHAT_REPLY_BUDGET": "1s",
	}))
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()

	// Accepted before the outage: the menu after a follow waits in the
	// outbox while customer-service messages fail.
	if err := s.SetFault(sim.Fault{Kind: sim.FaultHTTP500, Path: "/cgi-bin/message/custom/send"}); err != nil {
		t.Fatal(err)
	}
	if res, err := s.Send(ctx, sim.Message{OpenID: "oBefore", Type: "event", Event: "subscribe"}); err != nil || res.Reply == nil {
		t.Fatalf("subscribe: %+v, %v", res, err)
	}
	svc.waitLog(t, `"msg":"due item failed, will retry","component":"runner","queue":"outbox"`)

	const sorry = "系统正在维护，您的消息暂未收到，请稍后再发一次"
	ask := func(phase string, i int) {
		t.Helper()
		start := time.Now()
		res, err := s.Send(ctx, sim.Message{OpenID: "oDuring" + strconv.Itoa(i), Type: "text", Content: "你好"})
		took := time.Since(start)
		if err != nil {
			t.Fatalf("%s: %v", phase, err)
		}
		if res.Deliveries != 1 || res.Status != http.StatusOK || res.Reply == nil || !strings.Contains(res.Reply.Content, sorry) {
			t.Fatalf("%s: %+v after %s, want one delivery answered 200 with %q", phase, res, took, sorry)
		}
		t.Logf("%s: answered in %s", phase, took.Round(time.Millisecond))
	}

	rds.Signal(t, syscall.SIGSTOP)
	for i := range 3 {
		ask("frozen", i)
	}
	if code := readyz(t, addr); code != http.StatusServiceUnavailable {
		t.Errorf("/readyz while Redis is frozen = %d, want 503", code)
	}
	rds.Kill()
	for i := 3; i < 6; i++ {
		ask("killed", i)
	}
	if code := readyz(t, addr); code != http.StatusServiceUnavailable {
		t.Errorf("/readyz while Redis is down = %d, want 503", code)
	}

	s.ClearFaults()
	rds.Restart(t)
	for readyz(t, addr) != http.StatusOK {
		select {
		case <-ctx.Done():
			t.Fatal("/readyz never became 200 after Redis came back")
		case <-time.After(50 * time.Millisecond): // polling a process, not timing logic
		}
	}
	res, err := s.Send(ctx, sim.Message{OpenID: "oAfter", Type: "text", Content: "你好"})
	if err != nil || res.Reply == nil || !strings.Contains(res.Reply.Content, "请回复数字") {
		t.Fatalf("message after the outage: %+v, %v; want the menu", res, err)
	}
	got, err := s.WaitReceived(ctx, "oBefore", 2)
	if err != nil {
		t.Fatalf("the menu accepted before the outage never arrived: %v", err)
	}
	if !strings.Contains(got[1].Text, "weixin://bizmsgmenu") {
		t.Errorf("oBefore's second message = %+v, want the menu", got[1])
	}
	svc.stop(t)
	if n := len(s.Received("oBefore")); n != 2 {
		t.Errorf("oBefore received %d messages, want 2 (greeting, menu once)", n)
	}
	for i := range 6 {
		if n := len(s.Received(fmt.Sprintf("oDuring%d", i))); n != 1 {
			t.Errorf("oDuring%d received %d messages, want only the passive answer", i, n)
		}
	}
}
