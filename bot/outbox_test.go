package bot

import (
	"context"
	"errors"
	"log/slog"
	"os"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	goredis "github.com/redis/go-redis/v9"

	"huimin/bot/wechat"
	"huimin/desk"
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

// TestUndeliverableNoticeGoesToTheChief checks issue 12 item 8: an
// assignment WeChat will not deliver to the officer (45015, outside the
// 48-hour window, and no template to fall back on) is not dropped: the
// chief gets it, and the ticket's history says so.
func TestUndeliverableNoticeGoesToTheChief(t *testing.T) {
	r := newRig(t, rigOptions{manualOutbox: true})
	ctx := waitCtx(t)
	// The chief wrote recently; 王明 is made to fail with 45015.
	if _, err := r.sim.Send(ctx, sim.Message{OpenID: "oOfficerBoss", Type: "text", Content: "你好"}); err != nil {
		t.Fatal(err)
	}
	if err := r.sim.SetFault(sim.Fault{Kind: sim.FaultOutOfWindow, OpenID: "oOfficerWang"}); err != nil {
		t.Fatal(err)
	}
	r.runner.drain(ctx)
	before := len(r.sim.Received("oOfficerBoss"))
	tk, err := r.desk.Open(ctx, desk.OpenRequest{Citizen: "oCitizenU", Line: "relief", Inquiry: "help", Summary: "想申请临时救助", Phone: "13812345678"})
	if err != nil {
		t.Fatal(err)
	}
	if tk.Owner != "wang" {
		t.Fatalf("ticket went to %q, want wang", tk.Owner)
	}
	r.runner.drain(ctx) // the assignment fails for good
	r.runner.drain(ctx) // the chief's notice
	got := r.sim.Received("oOfficerBoss")[before:]
	if len(got) != 1 || !strings.Contains(got[0].Text, "通知未送达") || !strings.Contains(got[0].Text, "王明") || !strings.Contains(got[0].Text, tk.ID) {
		t.Fatalf("the chief received %+v, want the undelivered assignment of %s", got, tk.ID)
	}
	if n := len(r.sim.Received("oOfficerWang")); n != 0 {
		t.Errorf("王明 received %d messages, want none (45015)", n)
	}
	saved, err := r.store.GetTicket(ctx, tk.ID)
	if err != nil {
		t.Fatal(err)
	}
	last := saved.History[len(saved.History)-1]
	if last.Kind != desk.EventNotDelivered || last.Officer != "wang" {
		t.Errorf("last history event = %+v, want not_delivered for wang", last)
	}
}

// TestUndelivered is the table of outcomes that end a notice undelivered.
func TestUndelivered(t *testing.T) {
	notice := Outgoing{ID: "n:assign:1", Ref: "assign:1", Kind: OutText, To: "oW", Text: "【新工单】", Officer: "wang", Ticket: "MZ1"}
	withFallback := notice
	withFallback.Fallback = &wechat.Template{TemplateID: "T"}
	citizen := Outgoing{ID: "r:1", Kind: OutText, To: "oC", Text: "已受理"}
	for _, tt := range []struct {
		name   string
		m      Outgoing
		status store.OutcomeStatus
		want   bool
	}{
		{"sent", notice, store.OutcomeSent, false},
		{"refused for good", notice, store.OutcomeRejected, true},
		{"failed after every retry", notice, store.OutcomeFailed, true},
		{"out of window, no template", notice, store.OutcomeOutOfWindow, true},
		{"out of window, template on its way", withFallback, store.OutcomeOutOfWindow, false},
		{"a citizen's message", citizen, store.OutcomeFailed, false},
	} {
		t.Run(tt.name, func(t *testing.T) {
			dm, ok := Undelivered(tt.m, store.Outcome{MessageID: tt.m.ID, Status: tt.status})
			if ok != tt.want {
				t.Fatalf("Undelivered = %v, want %v", ok, tt.want)
			}
			if ok && (dm.ID != "assign:1" || dm.Officer != "wang" || dm.Ticket != "MZ1" || dm.Text != "【新工单】") {
				t.Errorf("Undelivered = %+v, want the desk's notice back", dm)
			}
		})
	}
}

// failingAck is the store, whose next acknowledgements fail: Redis gone
// between WeChat's answer and the outbox's acknowledgement.
type failingAck struct {
	rigStore
	fail atomic.Int32
}

func (f *failingAck) Ack(ctx context.Context, queue, id string, attempt int) error {
	if f.fail.Add(-1) >= 0 {
		return errors.New("store unavailable")
	}
	return f.rigStore.Ack(ctx, queue, id, attempt)
}

func (f *failingAck) PutOutcome(ctx context.Context, o store.Outcome, ttl time.Duration) error {
	if f.fail.Load() > 0 {
		return errors.New("store unavailable")
	}
	return f.rigStore.PutOutcome(ctx, o, ttl)
}

// TestAckFailureDoesNotResend checks issue 12 item 7: when the store fails
// after WeChat accepted a customer-service message (neither the outcome
// nor the acknowledgement is written), the message comes back after its
// lease and is not sent a second time.
func TestAckFailureDoesNotResend(t *testing.T) {
	r := newRig(t, rigOptions{manualOutbox: true})
	ctx := waitCtx(t)
	if _, err := r.sim.Send(ctx, sim.Message{OpenID: "oAck", Type: "text", Content: "你好"}); err != nil {
		t.Fatal(err)
	}
	r.runner.drain(ctx)
	before := len(r.sim.Received("oAck"))
	st := &failingAck{rigStore: r.store}
	st.fail.Store(1)
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	runner := NewRunner(st, 20*time.Millisecond, r.clock.Now, log)
	outbox := NewOutbox(runner, st, r.client, NewMetrics(prometheus.NewRegistry()), log, OutboxOptions{Now: r.clock.Now, Lease: 30 * time.Second})
	if err := outbox.Enqueue(ctx, Outgoing{ID: "ack1", Kind: OutText, To: "oAck", Text: "工单已受理"}); err != nil {
		t.Fatal(err)
	}
	runner.drain(ctx) // sent; the outcome and the acknowledgement fail
	r.clock.Advance(31 * time.Second)
	runner.drain(ctx) // the lease ran out: the item is claimed again
	if got := r.sim.Received("oAck")[before:]; len(got) != 1 {
		t.Fatalf("oAck received %d messages, want 1: %+v", len(got), got)
	}
	if o, err := r.store.GetOutcome(ctx, "ack1"); err != nil || o.Status != store.OutcomeSent {
		t.Errorf("outcome = %+v, %v; want sent, recorded on the second claim", o, err)
	}
	if stats, err := r.store.QueueStats(ctx, OutboxQueue, r.clock.Now()); err != nil || stats.Total != 0 {
		t.Errorf("outbox stats = %+v, %v; want empty", stats, err)
	}
}
