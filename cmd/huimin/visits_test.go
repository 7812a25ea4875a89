package main

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"testing"
	"time"

	"huimin/sim"
)

// surveysOf counts the return visits (msgmenu messages with the levels)
// a citizen received.
func surveysOf(s *sim.Simulator, openid string) int {
	n := 0
	for _, r := range s.Received(openid) {
		if r.MsgType == "msgmenu" && r.Menu != nil && strings.Contains(r.Menu.HeadContent, "回访") {
			n++
		}
	}
	return n
}

// TestVisitsExactlyOnceAcrossInstancesAndKill: two instances on one Redis
// sweep the same return visits. B takes the webhook's traffic, so it is B
// that resolves the tickets and schedules their visits (and would do each
// when due); B is SIGKILLed just before they fall due, so A's sweep finds
// them, and B, started again, sweeps beside A. Every citizen gets their
// survey exactly once.
func TestVisitsExactlyOnceAcrossInstancesAndKill(t *testing.T) {
	redisAddr := testRedisAddr()
	prefix := fmt.Sprintf("huimintest:visits:%d:", time.Now().UnixNano())
	t.Cleanup(func() { deleteRedisPrefix(redisAddr, prefix) })
	conf := filepath.Join(t.TempDir(), "huimin.yaml")
	if err := os.WriteFile(conf, demoYAML, 0o600); err != nil {
		t.Fatal(err)
	}
	addrA, addrB := freeAddr(t), freeAddr(t)
	s, simURL := newSim(t, "http://"+addrB+"/wechat")
	extra := map[string]string{
		"HUIMIN_STORE_DRIVER": "redis", "HUIMIN_REDIS_ADDR": redisAddr, "HUIMIN_REDIS_PREFIX": prefix,
		"HUIMIN_SURVEY_DELAY": "4s", "HUIMIN_DESK_SWEEP_INTERVAL": "1s", "HUIMIN_LOG_FORMAT": "json",
	}
	envA, envB := serviceEnv(addrA, simURL, extra), serviceEnv(addrB, simURL, extra)
	a := startService(t, envA, "--config", conf)
	b := startService(t, envB, "--config", conf)
	ctx, cancel := context.WithTimeout(t.Context(), 90*time.Second)
	defer cancel()
	say := simSayer(ctx, t, s)
	number := regexp.MustCompile(`MZ\d{8}-\d{4}`)
	const n = 24
	var ids []string
	for i := range n {
		c := fmt.Sprintf("oVisit%02d", i)
		var last string
		for _, text := range []string{"1", "直接办理", "2", "2", "城关街道", "家里老人生病住院，生活困难", "1", "王阿姨", "同意", "13812345678", "1"} {
			last = say(c, text)
		}
		id := number.FindString(last)
		if id == "" {
			t.Fatalf("%s: no ticket number in %q", c, last)
		}
		ids = append(ids, id)
	}
	for _, id := range ids {
		if got := say("officer-001", "接单 "+id); !strings.Contains(got, "已接单") {
			t.Fatalf("接单 %s: %q", id, got)
		}
	}
	start := time.Now()
	for _, id := range ids {
		if got := say("officer-001", "办结 "+id+" 已按政策办理"); !strings.Contains(got, "已办结") {
			t.Fatalf("办结 %s: %q", id, got)
		}
	}
	// The visits fall due 4 s after each 办结; B dies just before.
	if time.Since(start) > 3*time.Second {
		t.Fatalf("resolving took %v, past the visits' delay", time.Since(start))
	}
	time.Sleep(time.Until(start.Add(3500 * time.Millisecond))) // waiting for real timers in child processes
	b.kill(t)
	b = startService(t, envB, "--config", conf)
	for i := range n {
		c := fmt.Sprintf("oVisit%02d", i)
		for surveysOf(s, c) == 0 { // A sends them while B is down
			if ctx.Err() != nil {
				t.Fatalf("%s never got the survey", c)
			}
			time.Sleep(100 * time.Millisecond) // polling the simulator
		}
	}
	// Sweeps go on for a while: nothing more may arrive.
	time.Sleep(3 * time.Second) // both instances sweep every second
	a.stop(t)
	b.stop(t)
	for i := range n {
		c := fmt.Sprintf("oVisit%02d", i)
		if got := surveysOf(s, c); got != 1 {
			t.Errorf("%s received %d surveys, want exactly 1", c, got)
		}
	}
}
