package sim

import (
	"bytes"
	"context"
	"encoding/json"
	"encoding/xml"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/silenceper/wechat/v2/officialaccount/message"
	"github.com/silenceper/wechat/v2/util"
)

// Test credentials.
const (
	testAppID     = "wx1234567890abcdef"
	testSecret    = "0123456789abcdef0123456789abcdef"
	testToken     = "huimintesttoken"
	testAESKey    = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG" // 43 characters
	testOpenID    = "citizen-001"
	testOriginal  = "gh_huimin_test"
	wechatAPIBase = "https://api.weixin.qq.com"
	weComAPIBase  = "https://qyapi.weixin.qq.com"
)

// sdkTarget is the simulator the SDK talks to. The SDK's URI modifier and HTTP client are
// process-global, so TestMain sets them once, pointing at a fixed loopback server that
// forwards to whichever simulator the running SDK test installed (SDK tests do not run in
// parallel).
var sdkTarget atomic.Pointer[http.Handler]

func TestMain(m *testing.M) {
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := sdkTarget.Load()
		if h == nil {
			http.Error(w, "no simulator installed for the SDK", http.StatusServiceUnavailable)
			return
		}
		(*h).ServeHTTP(w, r)
	}))
	util.SetURIModifier(func(uri string) string {
		uri = strings.Replace(uri, wechatAPIBase, front.URL, 1)
		return strings.Replace(uri, weComAPIBase, front.URL, 1)
	})
	util.DefaultHTTPClient = &http.Client{Timeout: 10 * time.Second}
	code := m.Run()
	front.Close()
	os.Exit(code)
}

// useForSDK points the SDK at h for the rest of the test.
func useForSDK(t *testing.T, h http.Handler) {
	t.Helper()
	sdkTarget.Store(&h)
	t.Cleanup(func() { sdkTarget.Store(nil) })
}

// clock is a controllable Options.Now.
type clock struct {
	mu sync.Mutex
	t  time.Time
}

// newClock starts a clock at a fixed instant.
func newClock() *clock {
	return &clock{t: time.Date(2026, 3, 2, 9, 30, 0, 0, time.FixedZone("CST", 8*3600))}
}

// Now returns the clock's time.
func (c *clock) Now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return c.t
}

// Advance moves the clock forward.
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

// testLogger logs to the test's output.
func testLogger(t *testing.T) *slog.Logger {
	return slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelInfo}))
}

// startSim starts a simulator with the test credentials on loopback. Options left empty get
// the test credentials and a fake clock.
func startSim(t *testing.T, opts Options) (*Simulator, string, *clock) {
	t.Helper()
	clk := newClock()
	opts.AppID = orDefault(opts.AppID, testAppID)
	opts.AppSecret = orDefault(opts.AppSecret, testSecret)
	opts.Token = orDefault(opts.Token, testToken)
	opts.OriginalID = orDefault(opts.OriginalID, testOriginal)
	if opts.Now == nil {
		opts.Now = clk.Now
	}
	if opts.Log == nil {
		opts.Log = testLogger(t)
	}
	s := New(opts)
	srv := httptest.NewServer(s.Handler())
	t.Cleanup(func() {
		s.Close()
		srv.Close()
	})
	return s, srv.URL, clk
}

// apiCall sends a request to the simulator's WeChat API and decodes the JSON answer with
// numbers kept exact (msgid exceeds 2^53).
func apiCall(t *testing.T, method, target string, body any) map[string]any {
	t.Helper()
	var rd io.Reader
	if body != nil {
		b, err := json.Marshal(body)
		if err != nil {
			t.Fatalf("marshal request: %v", err)
		}
		rd = bytes.NewReader(b)
	}
	req, err := http.NewRequestWithContext(t.Context(), method, target, rd)
	if err != nil {
		t.Fatalf("build request: %v", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("%s %s: %v", method, target, err)
	}
	defer resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Fatalf("%s %s: HTTP %d", method, target, resp.StatusCode)
	}
	dec := json.NewDecoder(resp.Body)
	dec.UseNumber()
	var out map[string]any
	if err := dec.Decode(&out); err != nil {
		t.Fatalf("decode answer of %s: %v", target, err)
	}
	return out
}

// errcode returns the errcode of an answer, 0 when absent.
func errcode(t *testing.T, m map[string]any) int {
	t.Helper()
	n, ok := m["errcode"].(json.Number)
	if !ok {
		return 0
	}
	v, err := n.Int64()
	if err != nil {
		t.Fatalf("errcode %v: %v", n, err)
	}
	return int(v)
}

// int64Field returns a JSON number field as int64.
func int64Field(t *testing.T, m map[string]any, key string) int64 {
	t.Helper()
	n, ok := m[key].(json.Number)
	if !ok {
		t.Fatalf("field %s = %v, want a number", key, m[key])
	}
	v, err := n.Int64()
	if err != nil {
		t.Fatalf("field %s = %v: %v", key, n, err)
	}
	return v
}

// getToken fetches an access token from /cgi-bin/token.
func getToken(t *testing.T, base string) string {
	t.Helper()
	m := apiCall(t, http.MethodGet, base+"/cgi-bin/token?grant_type=client_credential&appid="+testAppID+"&secret="+testSecret, nil)
	tok, _ := m["access_token"].(string)
	if tok == "" {
		t.Fatalf("token answer = %v, want an access_token", m)
	}
	return tok
}

// customText sends a customer-service text message and returns the errcode.
func customText(t *testing.T, base, tok, openid, text string) int {
	t.Helper()
	return errcode(t, apiCall(t, http.MethodPost, base+"/cgi-bin/message/custom/send?access_token="+tok, map[string]any{
		"touser": openid, "msgtype": "text", "text": map[string]string{"content": text},
	}))
}

// delivery is one POST the test webhook received.
type delivery struct {
	query url.Values
	body  string
	msg   *message.MixMessage // decrypted and parsed
}

// testWebhook plays the service: it checks WeChat's signature, decrypts safe-mode messages
// with util.DecryptMsg, parses them with the SDK's message.MixMessage and replies.
type testWebhook struct {
	t      *testing.T
	mode   string
	appID  string
	aesKey string
	url    string

	// reply returns the text to answer with; "" answers "success". Nil echoes text messages.
	reply func(m *message.MixMessage) string
	// slow delays deliveries whose 1-based number (per MsgId/event) makes it return true.
	slow func(n int) bool
	// tamper breaks the reply: "signature", "appid", "plaintext", "empty", "swap", "garbage".
	tamper string

	mu       sync.Mutex
	got      []delivery
	attempts map[string]int
	arrived  chan struct{} // closed and replaced on each delivery
}

// startWebhook starts a test webhook for a simulator posting in mode.
func startWebhook(t *testing.T, mode string) *testWebhook {
	t.Helper()
	wh := &testWebhook{t: t, mode: mode, appID: testAppID, aesKey: testAESKey, attempts: map[string]int{}, arrived: make(chan struct{})}
	srv := httptest.NewServer(wh)
	t.Cleanup(srv.Close)
	wh.url = srv.URL + "/wechat"
	return wh
}

// deliveries returns what the webhook received so far.
func (wh *testWebhook) deliveries() []delivery {
	wh.mu.Lock()
	defer wh.mu.Unlock()
	return append([]delivery(nil), wh.got...)
}

// waitFor blocks until a delivery satisfies ok, or fails the test after 5 s.
func (wh *testWebhook) waitFor(ok func(d delivery) bool) delivery {
	wh.t.Helper()
	ctx, cancel := context.WithTimeout(wh.t.Context(), 5*time.Second)
	defer cancel()
	for {
		wh.mu.Lock()
		for _, d := range wh.got {
			if ok(d) {
				wh.mu.Unlock()
				return d
			}
		}
		ch := wh.arrived
		wh.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			wh.t.Fatalf("webhook: no matching delivery within 5 s; got %d deliveries", len(wh.deliveries()))
			return delivery{}
		}
	}
}

// ServeHTTP implements the service's /wechat endpoint.
func (wh *testWebhook) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	ts, nonce := q.Get("timestamp"), q.Get("nonce")
	if q.Get("signature") != util.Signature(testToken, ts, nonce) {
		http.Error(w, "bad signature", http.StatusForbidden)
		return
	}
	if r.Method == http.MethodGet {
		_, _ = io.WriteString(w, q.Get("echostr"))
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, "read body", http.StatusBadRequest)
		return
	}
	raw, err := wh.decode(q, body)
	if err != nil {
		wh.t.Errorf("webhook: %v", err)
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	var msg message.MixMessage
	if err := xml.Unmarshal(raw, &msg); err != nil {
		wh.t.Errorf("webhook: parse message: %v", err)
		http.Error(w, "bad xml", http.StatusBadRequest)
		return
	}
	key := strconv.FormatInt(msg.MsgID, 10) + "/" + string(msg.FromUserName) + "/" + strconv.FormatInt(msg.CreateTime, 10) + "/" + string(msg.Event)
	wh.mu.Lock()
	wh.attempts[key]++
	n := wh.attempts[key]
	wh.got = append(wh.got, delivery{query: q, body: string(body), msg: &msg})
	close(wh.arrived)
	wh.arrived = make(chan struct{})
	wh.mu.Unlock()

	if wh.slow != nil && wh.slow(n) {
		select {
		case <-r.Context().Done(): // WeChat hung up
			return
		case <-time.After(5 * time.Second):
		}
	}
	text := ""
	switch {
	case wh.reply != nil:
		text = wh.reply(&msg)
	case msg.MsgType == message.MsgTypeText:
		text = "收到：" + msg.Content
	}
	if text == "" && wh.tamper != "empty" {
		_, _ = io.WriteString(w, "success")
		return
	}
	_, _ = w.Write(wh.encode(q, &msg, text))
}

// decode checks and decrypts a delivery's body according to the mode.
func (wh *testWebhook) decode(q url.Values, body []byte) ([]byte, error) {
	if wh.mode == ModePlain {
		if q.Get("encrypt_type") != "" || q.Get("msg_signature") != "" {
			return nil, fmt.Errorf("plain mode delivery has encrypt_type/msg_signature")
		}
		return body, nil
	}
	if q.Get("encrypt_type") != "aes" {
		return nil, fmt.Errorf("encrypt_type = %q, want aes", q.Get("encrypt_type"))
	}
	var env struct {
		ToUserName string `xml:"ToUserName"`
		MsgType    string `xml:"MsgType"`
		Encrypt    string `xml:"Encrypt"`
	}
	if err := xml.Unmarshal(body, &env); err != nil {
		return nil, fmt.Errorf("parse envelope: %w", err)
	}
	if env.ToUserName != testOriginal {
		return nil, fmt.Errorf("envelope ToUserName = %q, want %q", env.ToUserName, testOriginal)
	}
	if wh.mode == ModeSafe && env.MsgType != "" {
		return nil, fmt.Errorf("safe mode envelope carries plaintext MsgType %q", env.MsgType)
	}
	if wh.mode == ModeCompatible && env.MsgType == "" {
		return nil, fmt.Errorf("compatible mode envelope has no plaintext fields")
	}
	if want := util.Signature(testToken, q.Get("timestamp"), q.Get("nonce"), env.Encrypt); q.Get("msg_signature") != want {
		return nil, fmt.Errorf("msg_signature mismatch")
	}
	_, raw, err := util.DecryptMsg(wh.appID, env.Encrypt, wh.aesKey)
	if err != nil {
		return nil, fmt.Errorf("decrypt: %w", err)
	}
	return raw, nil
}

// encode builds the passive text reply, encrypted when the delivery was, and broken as told.
func (wh *testWebhook) encode(q url.Values, msg *message.MixMessage, text string) []byte {
	reply := message.NewText(text)
	reply.SetToUserName(msg.FromUserName)
	reply.SetFromUserName(msg.ToUserName)
	if wh.tamper == "swap" {
		reply.SetToUserName(msg.ToUserName)
		reply.SetFromUserName(msg.FromUserName)
	}
	reply.SetCreateTime(time.Now().Unix())
	reply.SetMsgType(message.MsgTypeText)
	raw, err := xml.Marshal(reply)
	if err != nil {
		wh.t.Errorf("marshal reply: %v", err)
	}
	if wh.tamper == "empty" {
		raw = nil
	}
	if wh.tamper == "garbage" {
		return []byte("<html>oops</html")
	}
	if q.Get("encrypt_type") != "aes" || wh.tamper == "plaintext" {
		return raw
	}
	appID := wh.appID
	if wh.tamper == "appid" {
		appID = "wx_someone_else0000"
	}
	enc, err := util.EncryptMsg([]byte("0123456789abcdef"), raw, appID, wh.aesKey)
	if err != nil {
		wh.t.Errorf("encrypt reply: %v", err)
	}
	ts, nonce := q.Get("timestamp"), q.Get("nonce")
	sig := util.Signature(testToken, ts, nonce, string(enc))
	if wh.tamper == "signature" {
		sig = strings.Repeat("0", 40)
	}
	tsn, _ := strconv.ParseInt(ts, 10, 64)
	out, err := xml.Marshal(message.ResponseEncryptedXMLMsg{EncryptedMsg: string(enc), MsgSignature: sig, Timestamp: tsn, Nonce: nonce})
	if err != nil {
		wh.t.Errorf("marshal encrypted reply: %v", err)
	}
	return out
}
