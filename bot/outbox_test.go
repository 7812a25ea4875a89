package bot

import (
	"context"
	"errors"
	"os"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"huimin/bot/wechat"
	"huimin/sim"
	"huimin/store"
	"huimin/store/redisstore"
)

const customSend = "/cgi-bin/message/custom/send"

func TestOutboxOutcomes(t *testing.T) {
	var mu sync.Mutex
	outcomes := map[string]store.OutcomeStatus{}
	r := newRig(t, rigOptions{manualOutbox: true, onOutcome: func(_ context.Context, m Outgoing, o store.Outcome) {
		mu.Lock()
		defer mu.Unlock()
		outcomes[m.ID] = o.Status
	}})
	ctx := waitCtx(t)
	// oActive wrote recently; oSilent never did (outside the 48-hour window);
	// oBlocked is made to fail with 45015 by the simulator.
	if _, err := r.sim.Send(ctx, sim.Message{OpenID: "oSilent", Type: "text", Content: "你好"}); err != nil {
		t.Fatal(err)
	}
	r.clock.Advance(49 * time.Hour)
	for _, id := range []string{"oActive", "oBlocked"} {
		if _, err := r.sim.Send(ctx, sim.Message{OpenID: id, Type: "text", Content: "你好"}); err != nil {
			t.Fatal(err)
		}
	}
	if err := r.sim.SetFault(sim.Fault{Kind: sim.FaultOutOfWindow, OpenID: "oBlocked"}); err != nil {
		t.Fatal(err)
	}
	msgs := []Outgoing{
		{ID: "t1", Kind: OutText, To: "oActive", Text: "您的事项已受理"},
		{ID: "t2", Kind: OutText, To: "oSilent", Text: "回访"},
		{ID: "t3", Kind: OutText, To: "oBlocked", Text: "回访"},
		{ID: "t4", Kind: OutTemplate, To: "oSilent", Template: &wechat.Template{TemplateID: "TPL1", Data: map[string]string{"first": "回访"}}},
		{ID: "t5", Kind: OutText, To: "oSilent", Text: "工单已办结", Fallback: &wechat.Template{TemplateID: "TPL2", Data: map[string]string{"keyword1": "已办结"}}},
	}
	if err := r.outbox.Enqueue(ctx, msgs...); err != nil {
		t.Fatal(err)
	}
	r.runner.drain(ctx)
	r.runner.drain(ctx) // the template fallback queued by t5's refusal
	want := map[string]store.OutcomeStatus{
		"t1": store.OutcomeSent, "t2": store.OutcomeOutOfWindow, "t3": store.OutcomeOutOfWindow, "t4": store.OutcomeSent,
		"t5": store.OutcomeOutOfWindow, "t5:template": store.OutcomeSent,
	}
	for id, w := range want {
		o, err := r.store.GetOutcome(ctx, id)
		if err != nil || o.Status != w {
			t.Errorf("outcome %s = %+v, %v; want %s", id, o, err, w)
		}
		mu.Lock()
		if outcomes[id] != w {
			t.Errorf("OnOutcome(%s) = %q, want %s", id, outcomes[id], w)
		}
		mu.Unlock()
	}
	if o, _ := r.store.GetOutcome(ctx, "t2"); o.ErrCode != wechat.CodeOutOfWindow {
		t.Errorf("t2 errcode = %d, want 45015", o.ErrCode)
	}
	if st, _ := r.store.QueueStats(ctx, OutboxQueue, time.Now().Add(time.Hour)); st.Total != 0 {
		t.Errorf("outbox holds %d after every message ended, want 0", st.Total)
	}
	var templates int
	for _, m := range r.sim.Received("oSilent") {
		if m.Kind == sim.KindTemplate {
			templates++
		}
	}
	if templates != 2 {
		t.Errorf("oSilent received %d template messages, want 2 (t4 and t5's fallback)", templates)
	}
}

func TestOutboxRetriesUntilWeChatRecovers(t *testing.T) {
	r := newRig(t, rigOptions{manualOutbox: true})
	ctx := waitCtx(t)
	if _, err := r.sim.Send(ctx, sim.Message{OpenID: "oRetry", Type: "text", Content: "你好"}); err != nil {
		t.Fatal(err)
	}
	if err := r.sim.SetFault(sim.Fault{Kind: sim.FaultHTTP500, Path: customSend}); err != nil {
		t.Fatal(err)
	}
	if err := r.outbox.Enqueue(ctx, Outgoing{ID: "r1", Kind: OutText, To: "oRetry", Text: "稍后送达"}); err != nil {
		t.Fatal(err)
	}
	for attempt := 1; attempt <= 3; attempt++ {
		r.runner.drain(ctx)
		if n := r.sim.Calls(customSend); n != attempt {
			t.Fatalf("after attempt %d: %d calls to custom/send", attempt, n)
		}
		if _, err := r.store.GetOutcome(ctx, "r1"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("outcome recorded while WeChat fails: %v", err)
		}
		// Not due again before its backoff has passed.
		r.runner.drain(ctx)
		if n := r.sim.Calls(customSend); n != attempt {
			t.Fatalf("retried before the backoff: %d calls", n)
		}
		r.clock.Advance(Retry{Max: r.outbox.opts.MaxBackoff}.Backoff(attempt) + time.Millisecond)
	}
	r.sim.ClearFaults()
	r.runner.drain(ctx)
	got := r.sim.Received("oRetry")
	if len(got) != 2 || got[1].Text != "稍后送达" {
		t.Fatalf("received %+v, want the reply and the retried message once", got)
	}
	if o, err := r.store.GetOutcome(ctx, "r1"); err != nil || o.Status != store.OutcomeSent || o.Attempts != 4 {
		t.Errorf("outcome = %+v, %v; want sent on attempt 4", o, err)
	}
}

func TestOutboxGivesUpAfterMaxAttempts(t *testing.T) {
	r := newRig(t, rigOptions{manualOutbox: true, maxAttempts: 2})
	ctx := waitCtx(t)
	if err := r.sim.SetFault(sim.Fault{Kind: sim.FaultHTTP500}); err != nil {
		t.Fatal(err)
	}
	if err := r.outbox.Enqueue(ctx, Outgoing{ID: "f1", Kind: OutText, To: "oX", Text: "x"}); err != nil {
		t.Fatal(err)
	}
	r.runner.drain(ctx)
	r.clock.Advance(time.Hour)
	r.runner.drain(ctx)
	if o, err := r.store.GetOutcome(ctx, "f1"); err != nil || o.Status != store.OutcomeFailed {
		t.Errorf("outcome = %+v, %v; want failed", o, err)
	}
}

func TestTokenRefreshedOnceWhenExpired(t *testing.T) {
	r := newRig(t, rigOptions{manualOutbox: true})
	ctx := waitCtx(t)
	if _, err := r.sim.Send(ctx, sim.Message{OpenID: "oTok", Type: "text", Content: "你好"}); err != nil {
		t.Fatal(err)
	}
	if err := r.client.SendText(ctx, "oTok", "一"); err != nil {
		t.Fatalf("first send: %v", err)
	}
	r.sim.ExpireTokens()
	if err := r.client.SendText(ctx, "oTok", "二"); err != nil {
		t.Fatalf("send after the token expired: %v", err)
	}
	if n := r.sim.Calls("/cgi-bin/stable_token"); n != 2 {
		t.Errorf("stable_token called %d times, want 2 (first fetch, one refresh)", n)
	}
	if n := len(r.sim.Received("oTok")); n != 3 {
		t.Errorf("received %d messages, want 3", n)
	}
}

// TestTwoInstancesShareOneToken runs two clients, as two service
// instances would, on one Redis: the access token is fetched once.
func TestTwoInstancesShareOneToken(t *testing.T) {
	addr := os.Getenv("HUIMIN_TEST_REDIS_ADDR")
	if addr == "" {
		addr = "127.0.0.1:6379"
	}
	r := newRig(t, rigOptions{manualOutbox: true})
	ctx := waitCtx(t)
	prefix := "huimintest:" + t.Name() + ":" + time.Now().Format("150405.000000") + ":"
	newInstance := func(name string) *wechat.Client {
		c := goredis.NewUniversalClient(&goredis.UniversalOptions{Addrs: []string{addr}})
		t.Cleanup(func() {
			keys, _ := c.Keys(context.Background(), prefix+"*").Result()
			if len(keys) > 0 {
				c.Del(context.Background(), keys...)
			}
			_ = c.Close()
		})
		if err := c.Ping(ctx).Err(); err != nil {
			t.Fatalf("redis at %s: %v (start redis-server)", addr, err)
		}
		st := redisstore.New(c, redisstore.Options{Prefix: prefix})
		return wechat.NewClient(wechat.ClientOptions{AppID: rigAppID, AppSecret: rigSecret, Owner: name}, st)
	}
	a, b := newInstance("a"), newInstance("b")
	if _, err := r.sim.Send(ctx, sim.Message{OpenID: "oShared", Type: "text", Content: "你好"}); err != nil {
		t.Fatal(err)
	}
	// The window allows 5 customer-service messages per inbound message.
	if err := a.SendText(ctx, "oShared", "a1"); err != nil {
		t.Fatal(err)
	}
	var wg sync.WaitGroup
	for i, c := range []*wechat.Client{a, b, b, a} {
		wg.Go(func() {
			if err := c.SendText(ctx, "oShared", "x"); err != nil {
				t.Errorf("send %d: %v", i, err)
			}
		})
	}
	wg.Wait()
	if n := r.sim.Calls("/cgi-bin/stable_token") + r.sim.Calls("/cgi-bin/token"); n != 1 {
		t.Errorf("token fetched %d times by two instances, want 1", n)
	}
}
