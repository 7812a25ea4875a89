package bot

import (
	"regexp"
	"strings"
	"sync"
	"testing"

	"huimin/sim"
	"huimin/store"
)

// lockedBuffer is a log sink safe for the runner's goroutines.
type lockedBuffer struct {
	mu sync.Mutex
	b  strings.Builder
}

func (l *lockedBuffer) Write(p []byte) (int, error) {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.Write(p)
}

func (l *lockedBuffer) String() string {
	l.mu.Lock()
	defer l.mu.Unlock()
	return l.b.String()
}

// TestDroppedConnectionIsRetried checks issue 12 item 2: a connection the
// API closes or resets without an answer is a transport error, retried
// with the outbox's backoff until the message goes out, never recorded as
// refused.
func TestDroppedConnectionIsRetried(t *testing.T) {
	for _, kind := range []sim.FaultKind{sim.FaultDrop, sim.FaultReset} {
		t.Run(string(kind), func(t *testing.T) {
			var logs lockedBuffer
			r := newRig(t, rigOptions{manualOutbox: true, logs: &logs})
			ctx := waitCtx(t)
			if _, err := r.sim.Send(ctx, sim.Message{OpenID: "oDrop", Type: "text", Content: "你好"}); err != nil {
				t.Fatal(err)
			}
			if err := r.sim.SetFault(sim.Fault{Kind: kind, Path: customSend, Times: 1}); err != nil {
				t.Fatal(err)
			}
			if err := r.outbox.Enqueue(ctx, Outgoing{ID: "d1", Kind: OutText, To: "oDrop", Text: "工单已受理"}); err != nil {
				t.Fatal(err)
			}
			r.runner.drain(ctx)
			if o, err := r.store.GetOutcome(ctx, "d1"); err == nil {
				t.Fatalf("after a cut connection the message is recorded as %s (%s), want it retried", o.Status, o.Detail)
			}
			r.clock.Advance(Retry{Max: r.outbox.opts.MaxBackoff}.Backoff(1) + 1)
			r.runner.drain(ctx)
			if o, err := r.store.GetOutcome(ctx, "d1"); err != nil || o.Status != store.OutcomeSent {
				t.Fatalf("outcome = %+v, %v; want sent on the retry", o, err)
			}
			got := r.sim.Received("oDrop")
			if len(got) != 2 || got[1].Text != "工单已受理" {
				t.Errorf("received %+v, want the message once", got)
			}
			// Issue 12 item 3: no access token in any log line.
			toks := r.sim.IssuedTokens()
			if len(toks) == 0 {
				t.Fatal("no token was issued")
			}
			for _, tok := range toks {
				if strings.Contains(logs.String(), tok) {
					t.Errorf("a log line carries an access token:\n%s", logs.String())
				}
			}
			for name, secret := range map[string]string{"AppSecret": rigSecret, "Token": rigToken, "EncodingAESKey": rigAESKey} {
				if strings.Contains(logs.String(), secret) {
					t.Errorf("a log line carries the %s:\n%s", name, logs.String())
				}
			}
			if regexp.MustCompile(`access_token=[^*]`).MatchString(logs.String()) {
				t.Errorf("a log line carries an access_token parameter:\n%s", logs.String())
			}
			if !strings.Contains(logs.String(), "access_token=***") {
				t.Errorf("the retry's log line does not show the hidden token; the test saw nothing:\n%s", logs.String())
			}
		})
	}
}

// TestLongIdentifiersAreCapped checks issue 12 item 10: an identifier taken
// from a request (a forged 5,000-character FromUserName) is cut in the
// log lines, so that a sender cannot flood them.
func TestLongIdentifiersAreCapped(t *testing.T) {
	var logs lockedBuffer
	r := newRig(t, rigOptions{logs: &logs})
	ctx := waitCtx(t)
	long := strings.Repeat("o", 5000)
	if _, err := r.sim.Send(ctx, sim.Message{OpenID: long, Type: "text", Content: "你好"}); err != nil {
		t.Fatal(err)
	}
	r.webhook.Wait()
	var service []string // the service's lines, not the simulator's
	for _, line := range strings.Split(logs.String(), "\n") {
		if !strings.Contains(line, "component=sim") {
			service = append(service, line)
		}
	}
	got := strings.Join(service, "\n")
	if !strings.Contains(got, strings.Repeat("o", maxIdent-1)) {
		t.Fatalf("the message was not logged at all; the test saw nothing:\n%.2000s", got)
	}
	if strings.Contains(got, strings.Repeat("o", maxIdent+1)) {
		t.Errorf("a log line carries more than %d characters of the sender's ID", maxIdent)
	}
}
