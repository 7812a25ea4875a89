package sim

import (
	"bytes"
	"context"
	"errors"
	"net/http"
	"testing"
	"time"
)

// TestLateAnswer checks FaultLateAnswer: the call takes effect, its answer
// is held back, and a caller that gives up first loses it — the message
// was sent all the same, and the simulator records the lost answer. A
// caller that waits gets the answer, late.
func TestLateAnswer(t *testing.T) {
	wh := startWebhook(t, ModePlain)
	s, base, _ := startSim(t, Options{WebhookURL: wh.url})
	tok := getToken(t, base)
	if _, err := s.Send(t.Context(), Message{OpenID: testOpenID, Type: TypeText, Content: "在吗"}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetFault(Fault{Kind: FaultLateAnswer, Path: "/cgi-bin/message/custom/send", DelayMS: 60_000, Times: 1}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 200*time.Millisecond)
	defer cancel()
	body := []byte(`{"touser":"` + testOpenID + `","msgtype":"text","text":{"content":"已受理"}}`)
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+"/cgi-bin/message/custom/send?access_token="+tok, bytes.NewReader(body))
	if resp, err := http.DefaultClient.Do(req); !errors.Is(err, context.DeadlineExceeded) {
		if err == nil {
			resp.Body.Close()
		}
		t.Fatalf("err = %v, want the caller's deadline", err)
	}
	if got := s.Received(testOpenID); len(got) != 2 || got[1].Kind != KindCustom || got[1].Text != "已受理" {
		t.Fatalf("received %+v, want the message whose answer was lost", got)
	}
	waitLost := func(n int) []LostAnswer {
		t.Helper()
		// The simulator notices the caller left a moment after it did.
		deadline := time.Now().Add(5 * time.Second)
		for time.Now().Before(deadline) {
			if got := s.LostAnswers(); len(got) >= n {
				return got
			}
			time.Sleep(5 * time.Millisecond)
		}
		t.Fatalf("LostAnswers() = %+v, want %d", s.LostAnswers(), n)
		return nil
	}
	if got := waitLost(1); got[0].Path != "/cgi-bin/message/custom/send" || got[0].ErrCode != 0 {
		t.Errorf("LostAnswers() = %+v, want the custom send's success", got)
	}
	// Times: 1 — the next call is answered at once.
	if got := customText(t, base, tok, testOpenID, "再次"); got != 0 {
		t.Errorf("after the late answer: errcode = %d, want 0", got)
	}
	if f := s.Faults(); len(f) != 0 {
		t.Errorf("Faults() = %+v, want none after Times ran out", f)
	}

	// A caller that waits long enough gets the answer, and nothing is lost.
	if err := s.SetFault(Fault{Kind: FaultLateAnswer, DelayMS: 100}); err != nil {
		t.Fatal(err)
	}
	start := time.Now()
	if got := customText(t, base, tok, testOpenID, "慢"); got != 0 {
		t.Errorf("late answer: errcode = %d, want 0", got)
	}
	if d := time.Since(start); d < 100*time.Millisecond {
		t.Errorf("answer came after %v, want at least 100ms", d)
	}
	if f := s.Faults(); len(f) != 1 || f[0].Kind != FaultLateAnswer || f[0].DelayMS != 100 {
		t.Errorf("Faults() = %+v", f)
	}
	s.ClearFaults()
	if got := s.LostAnswers(); len(got) != 1 {
		t.Errorf("LostAnswers() = %+v, want only the first", got)
	}
	if err := s.SetFault(Fault{Kind: FaultLateAnswer}); err == nil {
		t.Error("a late answer without delay_ms was accepted")
	}
}

// TestRevokeTokens checks FaultRevokeTokens: calls with a token issued
// before get 40001, and the stable-token API issues a new one at once.
func TestRevokeTokens(t *testing.T) {
	wh := startWebhook(t, ModePlain)
	s, base, _ := startSim(t, Options{WebhookURL: wh.url})
	stable := func() string {
		m := apiCall(t, http.MethodPost, base+"/cgi-bin/stable_token", map[string]any{
			"grant_type": "client_credential", "appid": testAppID, "secret": testSecret,
		})
		tok, _ := m["access_token"].(string)
		return tok
	}
	tok := stable()
	if _, err := s.Send(t.Context(), Message{OpenID: testOpenID, Type: TypeText, Content: "在吗"}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetFault(Fault{Kind: FaultRevokeTokens}); err != nil {
		t.Fatal(err)
	}
	if got := customText(t, base, tok, testOpenID, "hi"); got != CodeInvalidCredential {
		t.Errorf("revoked token: errcode = %d, want %d", got, CodeInvalidCredential)
	}
	fresh := stable()
	if fresh == "" || fresh == tok {
		t.Fatalf("stable_token after revocation = %q, want a new token", fresh)
	}
	if got := customText(t, base, fresh, testOpenID, "hi"); got != 0 {
		t.Errorf("new token: errcode = %d, want 0", got)
	}
}

// TestDelayedPostIsNotDone: a POST whose caller gives up during a delay is
// never done — the message is not sent — however long the delay.
func TestDelayedPostIsNotDone(t *testing.T) {
	wh := startWebhook(t, ModePlain)
	s, base, _ := startSim(t, Options{WebhookURL: wh.url})
	tok := getToken(t, base)
	if _, err := s.Send(t.Context(), Message{OpenID: testOpenID, Type: TypeText, Content: "在吗"}); err != nil {
		t.Fatal(err)
	}
	if err := s.SetFault(Fault{Kind: FaultDelay, Path: "/cgi-bin/message/custom/send", DelayMS: 300}); err != nil {
		t.Fatal(err)
	}
	ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
	defer cancel()
	body := []byte(`{"touser":"` + testOpenID + `","msgtype":"text","text":{"content":"已受理"}}`)
	req, _ := http.NewRequestWithContext(ctx, http.MethodPost, base+"/cgi-bin/message/custom/send?access_token="+tok, bytes.NewReader(body))
	if resp, err := http.DefaultClient.Do(req); err == nil {
		resp.Body.Close()
		t.Fatal("the delayed call answered before the caller's deadline")
	}
	time.Sleep(500 * time.Millisecond) // past the delay
	if got := s.Received(testOpenID); len(got) != 1 {
		t.Errorf("received %+v, want only the reply: the delayed send was done after its caller gave up", got)
	}
}
