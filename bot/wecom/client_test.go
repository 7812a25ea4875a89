package wecom

import (
	"context"
	"errors"
	"io"
	"net/http"
	"net/http/httptest"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"huimin/chat"

	"huimin/sim"
)

func TestClientSends(t *testing.T) {
	s, _ := startSim(t, "")
	c := newTestClient(t, newMemCache(), "host:1", nil)
	ctx := t.Context()

	if err := c.SendText(ctx, "wang.ming", "新工单 HM20260302001：临时救助咨询，限3个工作日内办结"); err != nil {
		t.Fatalf("SendText: %v", err)
	}
	if err := c.SendTextCard(ctx, "wang.ming", "新工单待接收", `<div class="gray">2026年3月2日</div><div class="highlight">临时救助 · 限3个工作日</div>`,
		"https://mz.example/t/HM20260302001", ""); err != nil {
		t.Fatalf("SendTextCard: %v", err)
	}
	if err := c.SendMarkdown(ctx, "wang.ming", "**今日待办** 3 件\n> 超期 <font color=\"warning\">1</font> 件"); err != nil {
		t.Fatalf("SendMarkdown: %v", err)
	}

	got := s.Received("wang.ming")
	if len(got) != 3 {
		t.Fatalf("Received = %d entries, want 3: %+v", len(got), got)
	}
	for i, want := range []string{"text", "textcard", "markdown"} {
		if got[i].Kind != sim.KindWeCom || got[i].MsgType != want || got[i].Channel != sim.ChannelWeCom {
			t.Errorf("entry %d = %s %s (channel %q), want wecom %s", i, got[i].Kind, got[i].MsgType, got[i].Channel, want)
		}
	}
	if got[0].Text != "新工单 HM20260302001：临时救助咨询，限3个工作日内办结" {
		t.Errorf("text = %q", got[0].Text)
	}
	card := got[1].Card
	if card == nil || card.Title != "新工单待接收" || card.URL != "https://mz.example/t/HM20260302001" || card.BtnText != "详情" ||
		!strings.Contains(card.Description, "临时救助 · 限3个工作日") {
		t.Errorf("textcard = %+v, want the card with the default button 详情", card)
	}
	if !strings.HasPrefix(got[2].Text, "**今日待办**") {
		t.Errorf("markdown = %q", got[2].Text)
	}
}

func TestClientInvalidUser(t *testing.T) {
	s, _ := startSim(t, "")
	c := newTestClient(t, newMemCache(), "host:1", nil)
	err := c.SendText(t.Context(), "no.such.officer", "你好")
	apiErr, ok := errors.AsType[*APIError](err)
	if !ok || apiErr.Code != CodeInvalidUser || !strings.Contains(apiErr.Msg, "no.such.officer") {
		t.Fatalf("SendText to a non-member: err = %v, want APIError %d naming the user", err, CodeInvalidUser)
	}
	if apiErr.Temporary() {
		t.Errorf("invalid user is Temporary; a retry cannot help")
	}
	if n := len(s.Received("no.such.officer")); n != 0 {
		t.Errorf("non-member received %d messages", n)
	}
}

func TestClientTokenRefresh(t *testing.T) {
	s, clk := startSim(t, "")
	cache := newMemCache()
	var fetches atomic.Int32
	c := newTestClient(t, cache, "host:1", &fetches)
	ctx := t.Context()

	if err := c.SendText(ctx, "wang.ming", "一"); err != nil {
		t.Fatalf("first send: %v", err)
	}
	if err := c.SendText(ctx, "wang.ming", "二"); err != nil {
		t.Fatalf("second send: %v", err)
	}
	if n := fetches.Load(); n != 1 {
		t.Fatalf("token fetches = %d after two sends, want 1 (cached)", n)
	}

	// The simulator expires every token: the cached one now gets 42001.
	clk.Advance(time.Minute)
	s.ExpireTokens()
	if err := c.SendText(ctx, "wang.ming", "三"); err != nil {
		t.Fatalf("send after the token expired: %v", err)
	}
	if n := fetches.Load(); n != 2 {
		t.Errorf("token fetches = %d, want 2 (one refresh)", n)
	}
	if n := s.Calls("/cgi-bin/gettoken"); n != 2 {
		t.Errorf("gettoken calls = %d, want 2", n)
	}
	if n := s.Calls("/cgi-bin/message/send"); n != 4 {
		t.Errorf("message/send calls = %d, want 4 (two, one refused, its retry)", n)
	}

	// A token WeCom does not know (40014), e.g. left in the cache by an old deployment.
	cache.mu.Lock()
	for k := range cache.vals {
		cache.vals[k] = "stale-token"
	}
	cache.mu.Unlock()
	if err := c.SendText(ctx, "wang.ming", "四"); err != nil {
		t.Fatalf("send with an unknown cached token: %v", err)
	}
	if got := len(s.Received("wang.ming")); got != 4 {
		t.Errorf("wang.ming received %d messages, want 4", got)
	}
}

// TestClientSharedToken checks that instances sharing the cache fetch the token once, even
// when they all start with an empty cache at the same moment.
func TestClientSharedToken(t *testing.T) {
	s, _ := startSim(t, "")
	cache := newMemCache()
	var fetches atomic.Int32
	clients := []*Client{
		newTestClient(t, cache, "host-a:1", &fetches),
		newTestClient(t, cache, "host-b:1", &fetches),
		newTestClient(t, cache, "host-c:1", &fetches),
	}
	var wg sync.WaitGroup
	errs := make(chan error, 12)
	for i := range 12 {
		wg.Go(func() {
			errs <- clients[i%len(clients)].SendText(t.Context(), []string{"wang.ming", "li.na", "zhang.wei"}[i%3], "并发")
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		if err != nil {
			t.Errorf("send: %v", err)
		}
	}
	if n := s.Calls("/cgi-bin/gettoken"); n != 1 {
		t.Errorf("gettoken calls = %d, want 1 for three instances", n)
	}
	if n := fetches.Load(); n != 1 {
		t.Errorf("token fetches = %d, want 1", n)
	}
}

func TestClientRateLimit(t *testing.T) {
	_, clk := startSim(t, "")
	c := newTestClient(t, newMemCache(), "host:1", nil)
	ctx := t.Context()
	for i := range 30 {
		if err := c.SendText(ctx, "li.na", "提醒"); err != nil {
			t.Fatalf("send %d of 30: %v", i+1, err)
		}
	}
	err := c.SendText(ctx, "li.na", "第31条")
	apiErr, ok := errors.AsType[*APIError](err)
	if !ok || apiErr.Code != CodeMemberLimited || !apiErr.Temporary() {
		t.Fatalf("31st send in a minute: err = %v, want a temporary APIError %d", err, CodeMemberLimited)
	}
	if err := c.SendText(ctx, "wang.ming", "别人不受影响"); err != nil {
		t.Errorf("another member: %v", err)
	}
	clk.Advance(time.Minute)
	if err := c.SendText(ctx, "li.na", "一分钟后"); err != nil {
		t.Errorf("send a minute later: %v", err)
	}
}

func TestClientErrors(t *testing.T) {
	t.Run("bad secret", func(t *testing.T) {
		s, _ := startSim(t, "")
		c := NewClient(ClientOptions{CorpID: testCorpID, Secret: "wrong-secret-value", AgentID: testAgentID, Owner: "h:1"}, newMemCache())
		err := c.SendText(t.Context(), "wang.ming", "x")
		apiErr, ok := errors.AsType[*APIError](err)
		if !ok || apiErr.Code != CodeInvalidCredential || apiErr.API != "gettoken" {
			t.Fatalf("err = %v, want gettoken APIError %d", err, CodeInvalidCredential)
		}
		if strings.Contains(err.Error(), "wrong-secret-value") {
			t.Errorf("error shows the secret: %v", err)
		}
		if n := s.Calls("/cgi-bin/gettoken"); n != 1 {
			t.Errorf("gettoken calls = %d, want 1 (no retry loop)", n)
		}
	})
	t.Run("wrong agent", func(t *testing.T) {
		startSim(t, "")
		c := NewClient(ClientOptions{CorpID: testCorpID, Secret: testSecret, AgentID: 42, Owner: "h:1"}, newMemCache())
		err := c.SendText(t.Context(), "wang.ming", "x")
		if apiErr, ok := errors.AsType[*APIError](err); !ok || apiErr.Code != 40056 {
			t.Fatalf("err = %v, want APIError 40056 (invalid agentid)", err)
		}
	})
	t.Run("gettoken HTTP 500 hides the secret", func(t *testing.T) {
		s, _ := startSim(t, "")
		if err := s.SetFault(sim.Fault{Kind: sim.FaultHTTP500, Path: "/cgi-bin/gettoken"}); err != nil {
			t.Fatal(err)
		}
		c := newTestClient(t, newMemCache(), "h:1", nil)
		err := c.SendText(t.Context(), "wang.ming", "x")
		if err == nil || strings.Contains(err.Error(), testSecret) {
			t.Fatalf("err = %v, want an error without the secret", err)
		}
		if _, ok := errors.AsType[*APIError](err); ok {
			t.Errorf("HTTP 500 classified as an APIError: %v", err)
		}
	})
	t.Run("busy is temporary", func(t *testing.T) {
		s, _ := startSim(t, "")
		c := newTestClient(t, newMemCache(), "h:1", nil)
		if err := s.SetFault(sim.Fault{Kind: sim.FaultErrCode, Path: "/cgi-bin/message/send", ErrCode: -1}); err != nil {
			t.Fatal(err)
		}
		err := c.SendText(t.Context(), "wang.ming", "x")
		if apiErr, ok := errors.AsType[*APIError](err); !ok || apiErr.Code != CodeBusy || !apiErr.Temporary() {
			t.Fatalf("err = %v, want a temporary APIError -1", err)
		}
	})
	t.Run("cancelled context", func(t *testing.T) {
		startSim(t, "")
		c := newTestClient(t, newMemCache(), "h:1", nil)
		ctx, cancel := context.WithCancel(t.Context())
		cancel()
		if err := c.SendText(ctx, "wang.ming", "x"); !errors.Is(err, context.Canceled) {
			t.Fatalf("err = %v, want context.Canceled", err)
		}
	})
}

// callback plays the service's WeCom endpoint with Codec: the URL check, and messages
// answered with a passive reply (text) or through the API (everything else).
type callback struct {
	t      *testing.T
	codec  *Codec
	client *Client
	mu     sync.Mutex
	events []chat.Event
}

func (cb *callback) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method == http.MethodGet {
		echo, err := cb.codec.VerifyURL(r.URL.Query())
		if err != nil {
			http.Error(w, err.Error(), http.StatusForbidden)
			return
		}
		_, _ = io.WriteString(w, echo)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<20))
	if err != nil {
		http.Error(w, "read body", http.StatusBadRequest)
		return
	}
	req, err := cb.codec.Open(r.URL.Query(), body)
	switch {
	case errors.Is(err, ErrSignature):
		http.Error(w, "bad signature", http.StatusForbidden)
		return
	case err != nil:
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	ev := req.Event()
	cb.mu.Lock()
	cb.events = append(cb.events, ev)
	cb.mu.Unlock()
	if ev.Kind == chat.KindText {
		out, err := cb.codec.TextReply(req, "收到："+ev.Text)
		if err != nil {
			cb.t.Errorf("TextReply: %v", err)
		}
		_, _ = w.Write(out)
		return
	}
	if err := cb.client.SendText(r.Context(), ev.From, "事件 "+ev.RawType); err != nil {
		cb.t.Errorf("SendText from the callback: %v", err)
	}
	// An empty 200: nothing to reply passively.
}

// TestCallbackWithSimulator runs the simulator's WeCom callback against Codec: the URL check,
// a text answered passively, and an event answered through the API.
func TestCallbackWithSimulator(t *testing.T) {
	cb := &callback{t: t}
	srv := httptest.NewServer(cb)
	t.Cleanup(srv.Close)
	s, clk := startSim(t, srv.URL+"/wecom")
	cb.codec = NewCodec(testToken, testCorpID, testAESKey, clk.Now) // the simulator's time
	cb.client = newTestClient(t, newMemCache(), "h:1", nil)
	ctx := t.Context()

	if err := s.VerifyWeComURL(ctx); err != nil {
		t.Fatalf("VerifyWeComURL: %v", err)
	}
	res, err := s.SendWeCom(ctx, sim.WeComMessage{UserID: "wang.ming", Type: sim.TypeText, Content: "接单 HM20260302001"})
	if err != nil {
		t.Fatalf("SendWeCom text: %v", err)
	}
	if res.Reply == nil || res.Reply.Content != "收到：接单 HM20260302001" {
		t.Errorf("passive reply = %+v, want 收到：接单 HM20260302001", res.Reply)
	}
	if _, err := s.SendWeCom(ctx, sim.WeComMessage{UserID: "wang.ming", Type: sim.TypeEvent, Event: "click", EventKey: "MY_TICKETS"}); err != nil {
		t.Fatalf("SendWeCom click: %v", err)
	}
	got, err := s.WaitReceived(ctx, "wang.ming", 2)
	if err != nil {
		t.Fatalf("WaitReceived: %v", err)
	}
	if got[0].Kind != sim.KindReply || got[1].Kind != sim.KindWeCom || got[1].Text != "事件 event/click" {
		t.Errorf("received %+v, want the passive reply then the API text", got)
	}

	cb.mu.Lock()
	defer cb.mu.Unlock()
	if len(cb.events) != 2 {
		t.Fatalf("callback saw %d events, want 2", len(cb.events))
	}
	text, click := cb.events[0], cb.events[1]
	if text.Channel != chat.ChannelWeCom || text.From != "wang.ming" || text.To != testCorpID || text.Kind != chat.KindText || text.MsgID != strconv.FormatInt(res.MsgID, 10) {
		t.Errorf("text event = %+v, want wecom text from wang.ming with MsgID %s", text, strconv.FormatInt(res.MsgID, 10))
	}
	if click.Kind != chat.KindClick || click.Key != "MY_TICKETS" || click.MsgID != "" {
		t.Errorf("click event = %+v, want click MY_TICKETS without MsgID", click)
	}
}
