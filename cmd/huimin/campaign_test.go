package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"huimin/sim"
	"huimin/store/boltstore"
)

// campaignConfig is the demo's configuration with two test campaigns on
// schedule: 提醒甲 with the campaign template, 提醒乙 without one.
func campaignConfig(t *testing.T, schedule string) string {
	t.Helper()
	i := bytes.Index(demoYAML, []byte("\ncampaigns:"))
	if i < 0 {
		t.Fatal("demo.yaml has no campaigns section")
	}
	yaml := string(demoYAML[:i]) + fmt.Sprintf(`
campaigns:
  rate: 4
  list:
    - {id: jia, name: 提醒甲, text: "{name}您好！提醒甲。", lines: [elderly], schedule: %q, template: campaign}
    - {id: yi, name: 提醒乙, text: "您好！提醒乙。", lines: [relief], schedule: %q}
`, schedule, schedule)
	path := filepath.Join(t.TempDir(), "huimin.yaml")
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	return path
}

// campaignLogs reads the runs from services' JSON logs: the runs that
// scheduled their messages, and the end line of each finished run.
func campaignLogs(t *testing.T, svcs ...*service) (scheduled map[string]int, finished map[string]map[string]float64) {
	t.Helper()
	scheduled, finished = map[string]int{}, map[string]map[string]float64{}
	for _, s := range svcs {
		s.mu.Lock()
		logs := s.logs.String()
		s.mu.Unlock()
		for _, line := range strings.Split(logs, "\n") {
			var rec map[string]any
			if json.Unmarshal([]byte(line), &rec) != nil {
				continue
			}
			run, _ := rec["run"].(string)
			switch rec["msg"] {
			case "campaign run scheduled its messages":
				n, _ := rec["recipients"].(float64)
				scheduled[run] = int(n)
			case "campaign run finished":
				if finished[run] != nil {
					t.Errorf("run %s finished twice", run)
				}
				counts := map[string]float64{}
				for _, k := range []string{"recipients", "sent", "fallback", "skipped", "failed"} {
					counts[k], _ = rec[k].(float64)
				}
				finished[run] = counts
			}
		}
	}
	return scheduled, finished
}

// campaignMessages counts what a person received of each test campaign:
// chat messages by text, template messages.
func campaignMessages(s *sim.Simulator, openid string) (jia, yi, templates int) {
	for _, r := range s.Received(openid) {
		switch {
		case r.Kind == sim.KindCustom && strings.Contains(r.Text, "提醒甲"):
			jia++
		case r.Kind == sim.KindCustom && strings.Contains(r.Text, "提醒乙"):
			yi++
		case r.Kind == sim.KindTemplate && r.Template != nil && r.Template.TemplateID == "demo_tpl_campaign":
			templates++
		}
	}
	return jia, yi, templates
}

// TestCampaignThroughTheSimulator: citizens opt in through chat; a
// campaign on @every 5s then reaches each once per run by the right
// channel — a chat message inside WeChat's 48-hour window, the template
// outside it, nothing (counted as skipped) outside it without a template
// — never those who did not opt in nor, after 退订, those who left; and
// an instance SIGKILLed in the middle of a run and started again sends
// nobody a second copy. On the embedded store and on Redis.
func TestCampaignThroughTheSimulator(t *testing.T) {
	t.Run("bolt", func(t *testing.T) {
		testCampaign(t, map[string]string{"HUIMIN_STORE_DRIVER": "bolt", "HUIMIN_STORE_PATH": filepath.Join(t.TempDir(), "huimin.db")})
	})
	t.Run("redis", func(t *testing.T) {
		addr := testRedisAddr()
		prefix := fmt.Sprintf("huimintest:campaign:%d:", time.Now().UnixNano())
		t.Cleanup(func() { deleteRedisPrefix(addr, prefix) })
		testCampaign(t, map[string]string{"HUIMIN_STORE_DRIVER": "redis", "HUIMIN_REDIS_ADDR": addr, "HUIMIN_REDIS_PREFIX": prefix})
	})
}

func testCampaign(t *testing.T, storeEnv map[string]string) {
	addr := freeAddr(t)
	s, simURL := newSim(t, "http://"+addr+"/wechat")
	extra := map[string]string{"HUIMIN_DESK_SWEEP_INTERVAL": "1s", "HUIMIN_LOG_FORMAT": "json", "HUIMIN_OUTBOX_LEASE": "2s"}
	for k, v := range storeEnv {
		extra[k] = v
	}
	env := serviceEnv(addr, simURL, extra)
	ctx, cancel := context.WithTimeout(t.Context(), 2*time.Minute)
	defer cancel()
	say := simSayer(ctx, t, s)

	// Opting in, with no run due (a yearly schedule).
	quiet := startService(t, env, "--config", campaignConfig(t, "0 0 1 1 *"))
	inWindow := []string{"oChat", "oCrowd1", "oCrowd2", "oLeave"}
	for _, c := range append(inWindow, "oTpl") {
		if got := say(c, "订阅提醒"); !strings.Contains(got, "提醒甲、提醒乙") {
			t.Fatalf("%s: 订阅提醒 answered %q", c, got)
		}
	}
	say("oNone", "你好") // writes, never opts in
	if err := s.SetFault(sim.Fault{Kind: sim.FaultOutOfWindow, OpenID: "oTpl"}); err != nil {
		t.Fatal(err)
	}
	quiet.stop(t)

	// Runs every 5 s: 2 campaigns × 5 people at 4 a second take about 3 s.
	conf := campaignConfig(t, "@every 5s")
	first := startService(t, env, "--config", conf)
	waitFor := func(what string, svcs []*service, done func(scheduled map[string]int, finished map[string]map[string]float64) bool) {
		t.Helper()
		for {
			if done(campaignLogs(t, svcs...)) {
				return
			}
			if ctx.Err() != nil {
				t.Fatalf("timed out waiting for %s", what)
			}
			time.Sleep(100 * time.Millisecond) // polling the child's log
		}
	}
	// After each campaign's first run, oLeave leaves.
	waitFor("the first runs", []*service{first}, func(_ map[string]int, finished map[string]map[string]float64) bool {
		jia, yi := false, false
		for run := range finished {
			jia = jia || strings.HasPrefix(run, "jia:")
			yi = yi || strings.HasPrefix(run, "yi:")
		}
		return jia && yi
	})
	if got := say("oLeave", "退订"); !strings.Contains(got, "已为您取消全部提醒") {
		t.Fatalf("退订 answered %q", got)
	}
	leftAfter := s.Received("oLeave")

	// SIGKILL in the middle of the next run, then start again.
	next := time.Now().Truncate(5 * time.Second).Add(5 * time.Second)
	time.Sleep(time.Until(next.Add(1500 * time.Millisecond))) // waiting for real timers in the child process
	first.kill(t)
	_, before := campaignLogs(t, first)
	second := startService(t, env, "--config", conf)
	waitFor("two runs after the restart", []*service{second}, func(_ map[string]int, finished map[string]map[string]float64) bool {
		return len(finished) >= 4
	})
	// The instance counts what it counted on /metrics.
	res, err := http.Get("http://" + addr + "/metrics")
	if err != nil {
		t.Fatal(err)
	}
	metrics, err := io.ReadAll(res.Body)
	res.Body.Close()
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(string(metrics), `huimin_campaign_messages_total{campaign="jia",outcome="fallback"}`) ||
		!strings.Contains(string(metrics), `huimin_campaign_messages_total{campaign="yi",outcome="skipped"}`) {
		t.Errorf("/metrics has no campaign counts:\n%s", metrics)
	}
	second.stop(t)
	// No more runs: what was scheduled finishes.
	last := startService(t, env, "--config", campaignConfig(t, "0 0 1 1 *"))
	all := []*service{quiet, first, second, last}
	waitFor("every run to finish", all, func(scheduled map[string]int, finished map[string]map[string]float64) bool {
		for run := range scheduled {
			if finished[run] == nil {
				return false
			}
		}
		return true
	})
	last.stop(t)

	scheduled, finished := campaignLogs(t, all...)
	killedMidRun := false
	for run := range scheduled {
		if before[run] == nil && run >= runAt(next) {
			killedMidRun = true
		}
	}
	if !killedMidRun {
		t.Logf("no run was in flight at the kill (a loaded machine): the restart is still checked")
	}
	// Each run counts each of its recipients once. WeChat allows five
	// customer-service messages after a person's last action (45047 after
	// that, as 45015 outside the window): then 提醒甲 falls back on its
	// template and 提醒乙 is skipped.
	var runsJia, runsYi int
	var sentJia, fallbackJia, sentYi float64
	for run, c := range finished {
		if c["sent"]+c["fallback"]+c["skipped"]+c["failed"] != c["recipients"] || c["failed"] != 0 || c["recipients"] < 4 {
			t.Errorf("run %s: %v, want every recipient (4 or 5) counted once, none failed", run, c)
		}
		if strings.HasPrefix(run, "jia:") {
			runsJia++
			sentJia += c["sent"]
			fallbackJia += c["fallback"]
			if c["fallback"] < 1 {
				t.Errorf("run %s: %v, want oTpl reached by the template", run, c)
			}
		} else {
			runsYi++
			sentYi += c["sent"]
			if c["fallback"] != 0 || c["skipped"] < 1 {
				t.Errorf("run %s: %v, want oTpl skipped (提醒乙 has no template)", run, c)
			}
		}
	}
	if runsJia < 3 || runsYi < 3 {
		t.Fatalf("%d runs of 提醒甲 and %d of 提醒乙, want at least 3 each", runsJia, runsYi)
	}
	// What people received is what the runs counted: nobody got a copy
	// the runs did not count.
	var gotJia, gotTpl, gotYi int
	for _, c := range []string{"oChat", "oCrowd1", "oCrowd2", "oLeave", "oTpl", "oNone"} {
		jia, yi, tpl := campaignMessages(s, c)
		gotJia, gotYi, gotTpl = gotJia+jia, gotYi+yi, gotTpl+tpl
	}
	if gotJia != int(sentJia) || gotTpl != int(fallbackJia) || gotYi != int(sentYi) {
		t.Errorf("received 提醒甲 %d by chat and %d by template, 提醒乙 %d; the runs counted %v, %v and %v",
			gotJia, gotTpl, gotYi, sentJia, fallbackJia, sentYi)
	}
	// Those subscribed throughout got 提醒甲 exactly once per run, by
	// chat while WeChat allowed it, then by the template.
	for _, c := range []string{"oChat", "oCrowd1", "oCrowd2"} {
		if jia, yi, tpl := campaignMessages(s, c); jia+tpl != runsJia || yi > runsYi || jia+yi > 5 || yi == 0 {
			t.Errorf("%s received 提醒甲 %d, 提醒乙 %d, templates %d; want 提醒甲 once per run (%d), by chat at most 5 in all", c, jia, yi, tpl, runsJia)
		}
	}
	if jia, yi, tpl := campaignMessages(s, "oTpl"); jia != 0 || yi != 0 || tpl != runsJia {
		t.Errorf("oTpl (outside the window) received 提醒甲 %d, 提醒乙 %d, templates %d; want 0, 0, %d", jia, yi, tpl, runsJia)
	}
	if jia, yi, tpl := campaignMessages(s, "oNone"); jia+yi+tpl != 0 {
		t.Errorf("oNone, never subscribed, received %d campaign messages", jia+yi+tpl)
	}
	jia, yi, _ := campaignMessages(s, "oLeave")
	if got := s.Received("oLeave"); len(got) != len(leftAfter) || jia+yi == 0 {
		t.Errorf("oLeave: %d messages when leaving (提醒甲 %d, 提醒乙 %d), %d at the end; want some before and none after 退订", len(leftAfter), jia, yi, len(got))
	}
}

// runAt is the run ID's time part of a run scheduled at t, for comparing
// run IDs of one campaign with it.
func runAt(t time.Time) string { return t.UTC().Format("20060102T150405Z") }

// TestCampaignPreviewCommand: huimin campaign preview counts the
// subscribers by the channel a run would take now, and sends nothing;
// an unknown campaign is named with those configured.
func TestCampaignPreviewCommand(t *testing.T) {
	dbPath := filepath.Join(t.TempDir(), "huimin.db")
	st, err := boltstore.New(dbPath, boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	for id, seen := range map[string]time.Time{"oRecent": now.Add(-time.Hour), "oOld": now.Add(-72 * time.Hour)} {
		if _, err := st.Subscribe(t.Context(), id, "", []string{"jia", "yi"}, seen); err != nil {
			t.Fatal(err)
		}
	}
	if err := st.Close(); err != nil {
		t.Fatal(err)
	}
	env := map[string]string{"HUIMIN_WECHAT_APP_ID": "wx1", "HUIMIN_WECHAT_APP_SECRET": "s", "HUIMIN_WECHAT_TOKEN": "tok",
		"HUIMIN_STORE_PATH": dbPath, "HUIMIN_WECHAT_API_BASE_URL": "http://127.0.0.1:1"}
	conf := campaignConfig(t, "@daily")
	for _, tt := range []struct{ id, want string }{
		{"jia", "would reach 2 subscribers now (nothing was sent):\n  chat           1 "},
		{"yi", "  template       0  (outside the window: template message)\n  notice         0  (outside the window: subscribe notice)\n  skipped        1 "},
	} {
		var out, errOut bytes.Buffer
		if err := run(t.Context(), []string{"huimin", "campaign", "preview", "--id", tt.id, "--config", conf}, envFunc(env), &out, &errOut); err != nil {
			t.Fatalf("preview %s: %v\n%s", tt.id, err, errOut.String())
		}
		if !strings.Contains(out.String(), tt.want) {
			t.Errorf("preview %s:\n%s\nwant it to contain %q", tt.id, out.String(), tt.want)
		}
	}
	var out, errOut bytes.Buffer
	err = run(t.Context(), []string{"huimin", "campaign", "preview", "--id", "nope", "--config", conf}, envFunc(env), &out, &errOut)
	if err == nil || !strings.Contains(err.Error(), "[jia yi]") {
		t.Errorf("preview of an unknown campaign: %v, want the configured ones named", err)
	}
	if err := run(t.Context(), []string{"huimin", "campaign", "run", "--id", "jia", "--config", conf}, envFunc(env), &out, &errOut); err != nil ||
		!strings.Contains(out.String(), "Campaign jia: run jia:") {
		t.Errorf("run: %v\n%s", err, out.String())
	}
}
