package bot

import (
	"errors"
	"testing"
	"time"

	"huimin/bot/wechat"
	"huimin/sim"
	"huimin/store"
)

// TestTokenRefusedAfterRefreshIsRetried: WeChat answers 40001 to a call
// and again to its retry with a fresh token (another instance forced a
// refresh in between, or WeChat's token service lags). That is no verdict
// on the message: the outbox retries it later instead of recording it
// refused and handing it to the chief.
func TestTokenRefusedAfterRefreshIsRetried(t *testing.T) {
	r := newRig(t, rigOptions{manualOutbox: true})
	ctx := waitCtx(t)
	if _, err := r.sim.Send(ctx, sim.Message{OpenID: "oToken", Type: "text", Content: "你好"}); err != nil {
		t.Fatal(err)
	}
	r.runner.drain(ctx)
	if err := r.sim.SetFault(sim.Fault{Kind: sim.FaultErrCode, Path: customSend, ErrCode: wechat.CodeInvalidToken}); err != nil {
		t.Fatal(err)
	}
	if err := r.outbox.Enqueue(ctx, Outgoing{ID: "tok1", Kind: OutText, To: "oToken", Text: "工单已受理"}); err != nil {
		t.Fatal(err)
	}
	fetches := r.sim.Calls("/cgi-bin/stable_token")
	r.runner.drain(ctx)
	if r.sim.Calls("/cgi-bin/stable_token") == fetches {
		t.Error("the client did not refresh its token after 40001")
	}
	if o, err := r.store.GetOutcome(ctx, "tok1"); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("after 40001 twice the outcome is %+v, %v; want the message retried", o, err)
	}
	r.sim.ClearFaults()
	r.clock.Advance(Retry{Max: r.outbox.opts.MaxBackoff}.Backoff(1) + time.Millisecond)
	r.runner.drain(ctx)
	if o, err := r.store.GetOutcome(ctx, "tok1"); err != nil || o.Status != store.OutcomeSent {
		t.Fatalf("outcome = %+v, %v; want sent on the retry", o, err)
	}
}

// TestCustomerServiceLimitFallsBackToTemplate: WeChat allows only a few
// customer-service messages after a person's last action (45047). An
// officer who gets more assignments than that before writing again is
// as unreachable by customer-service message as one outside the 48-hour
// window: the template fallback is sent.
func TestCustomerServiceLimitFallsBackToTemplate(t *testing.T) {
	r := newRig(t, rigOptions{manualOutbox: true})
	ctx := waitCtx(t)
	if _, err := r.sim.Send(ctx, sim.Message{OpenID: "oBusy", Type: "text", Content: "你好"}); err != nil {
		t.Fatal(err)
	}
	r.runner.drain(ctx) // the reply uses no customer-service message
	before := len(r.sim.Received("oBusy"))
	var msgs []Outgoing
	for i := range sim.DefaultCustomerServiceLimit + 1 {
		id := string(rune('a' + i))
		msgs = append(msgs, Outgoing{ID: "cs" + id, Kind: OutText, To: "oBusy", Text: "新工单 " + id,
			Fallback: &wechat.Template{TemplateID: "TPL_ASSIGN", Data: map[string]string{"keyword1": id}}})
	}
	if err := r.outbox.Enqueue(ctx, msgs...); err != nil {
		t.Fatal(err)
	}
	r.runner.drain(ctx)
	r.runner.drain(ctx) // the fallback
	last := msgs[len(msgs)-1].ID
	if o, err := r.store.GetOutcome(ctx, last); err != nil || o.Status != store.OutcomeOutOfWindow || o.ErrCode != wechat.CodeTooManyCS {
		t.Fatalf("outcome of %s = %+v, %v; want out_of_window with errcode 45047", last, o, err)
	}
	if o, err := r.store.GetOutcome(ctx, last+":template"); err != nil || o.Status != store.OutcomeSent {
		t.Fatalf("outcome of the fallback = %+v, %v; want sent", o, err)
	}
	got := r.sim.Received("oBusy")[before:]
	if len(got) != len(msgs) || got[len(got)-1].Kind != sim.KindTemplate {
		t.Errorf("oBusy received %+v, want %d customer-service messages and one template", got, len(msgs)-1)
	}
}
