package main

import (
	"bufio"
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"testing"

	"github.com/silenceper/wechat/v2/util"

	"huimin/store/redisstore/redistest"
)

const (
	testToken  = "benchtoken"
	testAppID  = "wxbench0000000000"
	testAESKey = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
	testTS     = "1700000000"
	testNonce  = "1234567890"
)

var (
	plainAcct = account{token: testToken}
	safeAcct  = account{token: testToken, appID: testAppID, aesKey: testAESKey}
)

const testMessage = `<xml><ToUserName><![CDATA[gh_3f1a5b7c9d2e]]></ToUserName>
<FromUserName><![CDATA[o000000000000000000000000042]]></FromUserName>
<CreateTime>1700000000</CreateTime>
<MsgType><![CDATA[text]]></MsgType>
<Content><![CDATA[你好]]></Content>
<MsgId>23456789012345678</MsgId>
</xml>`

// plainQuery signs a plain-mode push the way WeChat does.
func plainQuery(token string) url.Values {
	return url.Values{
		"signature": {util.Signature(token, testTS, testNonce)},
		"timestamp": {testTS},
		"nonce":     {testNonce},
		"openid":    {"o000000000000000000000000042"},
	}
}

// sealed encrypts msg for appID and returns the safe-mode query (signed with
// token) and body.
func sealed(t *testing.T, token, appID, msg string) (url.Values, string) {
	t.Helper()
	enc, err := util.EncryptMsg([]byte("0123456789abcdef"), []byte(msg), appID, testAESKey)
	if err != nil {
		t.Fatalf("EncryptMsg() error = %v", err)
	}
	q := plainQuery(token)
	q.Set("encrypt_type", "aes")
	q.Set("msg_signature", util.Signature(token, testTS, testNonce, string(enc)))
	body := "<xml><ToUserName><![CDATA[gh_3f1a5b7c9d2e]]></ToUserName><Encrypt><![CDATA[" + string(enc) + "]]></Encrypt></xml>"
	return q, body
}

func post(t *testing.T, base string, q url.Values, body string) (int, string) {
	t.Helper()
	req, err := http.NewRequestWithContext(t.Context(), http.MethodPost, base+"/wechat?"+q.Encode(), strings.NewReader(body))
	if err != nil {
		t.Fatalf("NewRequest() error = %v", err)
	}
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		t.Fatalf("POST /wechat: %v", err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatalf("read body: %v", err)
	}
	return resp.StatusCode, string(b)
}

func TestBaseline(t *testing.T) {
	srv := httptest.NewServer(newBaseline(safeAcct, nil))
	t.Cleanup(srv.Close)

	safeQ, safeBody := sealed(t, testToken, testAppID, testMessage)
	badSigQ, badSigBody := sealed(t, "othertoken", testAppID, testMessage)
	otherAppQ, otherAppBody := sealed(t, testToken, "wxsomeoneelse0000", testMessage)
	badXMLQ, badXMLBody := sealed(t, testToken, testAppID, "<xml><MsgType>text")
	tamperedQ, tamperedBody := sealed(t, testToken, testAppID, testMessage)
	tamperedQ.Set("msg_signature", util.Signature(testToken, testTS, testNonce))

	tests := []struct {
		name     string
		q        url.Values
		body     string
		want     int
		wantBody string
	}{
		{"plain", plainQuery(testToken), testMessage, http.StatusOK, "success"},
		{"safe", safeQ, safeBody, http.StatusOK, "success"},
		{"plain bad signature", plainQuery("othertoken"), testMessage, http.StatusForbidden, ""},
		{"plain no signature", url.Values{"timestamp": {testTS}, "nonce": {testNonce}}, testMessage, http.StatusForbidden, ""},
		{"safe bad msg_signature", badSigQ, badSigBody, http.StatusForbidden, ""},
		{"safe plain signature as msg_signature", tamperedQ, tamperedBody, http.StatusForbidden, ""},
		{"plain bad xml", plainQuery(testToken), "<xml><MsgType>text", http.StatusBadRequest, ""},
		{"plain not xml", plainQuery(testToken), "hello", http.StatusBadRequest, ""},
		{"safe bad envelope", safeQ, "<xml><Encrypt>", http.StatusBadRequest, ""},
		{"safe bad inner xml", badXMLQ, badXMLBody, http.StatusBadRequest, ""},
		{"safe other app", otherAppQ, otherAppBody, http.StatusBadRequest, ""},
		{"too large", plainQuery(testToken), strings.Repeat("x", maxBody+1), http.StatusRequestEntityTooLarge, ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, body := post(t, srv.URL, tt.q, tt.body)
			if got != tt.want {
				t.Fatalf("status = %d (%q), want %d", got, body, tt.want)
			}
			if tt.wantBody != "" && body != tt.wantBody {
				t.Errorf("body = %q, want %q", body, tt.wantBody)
			}
		})
	}
}

func TestBaselineSafeModeNotConfigured(t *testing.T) {
	srv := httptest.NewServer(newBaseline(plainAcct, nil))
	t.Cleanup(srv.Close)
	q, body := sealed(t, testToken, testAppID, testMessage)
	if got, _ := post(t, srv.URL, q, body); got != http.StatusBadRequest {
		t.Errorf("status = %d, want %d", got, http.StatusBadRequest)
	}
}

// TestBaselineCommand runs the subcommand on a free port, checks it serves,
// and checks it returns nil once its context is cancelled.
func TestBaselineCommand(t *testing.T) {
	ctx, cancel := context.WithCancel(t.Context())
	defer cancel()
	pr, pw := io.Pipe()
	done := make(chan error, 1)
	go func() {
		done <- run(ctx, []string{"huimin-load", "baseline", "-addr", "127.0.0.1:0", "-token", testToken}, io.Discard, pw)
		pw.Close()
	}()

	sc := bufio.NewScanner(pr)
	var addr string
	for addr == "" && sc.Scan() {
		t.Log(sc.Text())
		if _, after, ok := strings.Cut(sc.Text(), "addr="); ok {
			addr, _, _ = strings.Cut(after, " ")
		}
	}
	if addr == "" {
		t.Fatalf("no listen address logged; run returned %v", <-done)
	}
	go func() { _, _ = io.Copy(io.Discard, pr) }()

	if got, body := post(t, "http://"+addr, plainQuery(testToken), testMessage); got != http.StatusOK {
		t.Errorf("POST status = %d (%q), want 200", got, body)
	}
	resp, err := http.Get("http://" + addr + "/readyz")
	if err != nil {
		t.Fatalf("GET /readyz: %v", err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK {
		t.Errorf("GET /readyz status = %d, want 200", resp.StatusCode)
	}

	cancel()
	if err := <-done; err != nil {
		t.Errorf("run() = %v, want nil after cancel", err)
	}
}

// TestBaselineRedisRoundTrip checks the bare+redis baseline does its store
// work: a message's de-duplication record and its sender's session are in
// Redis after the answer, and a Redis that does not answer is a 503, not a
// "success" that did nothing.
func TestBaselineRedisRoundTrip(t *testing.T) {
	srv := redistest.StartStandalone(t)
	rt := newRoundTrip(srv.Addr, "t:", 4)
	t.Cleanup(rt.close)
	web := httptest.NewServer(newBaseline(plainAcct, rt))
	t.Cleanup(web.Close)
	if got, body := post(t, web.URL, plainQuery(testToken), testMessage); got != http.StatusOK || body != "success" {
		t.Fatalf("POST = %d %q, want 200 success", got, body)
	}
	rdb := srv.Client(t)
	for _, key := range []string{"t:d:23456789012345678", "t:s:o000000000000000000000000042"} {
		if n, err := rdb.Exists(t.Context(), key).Result(); err != nil || n != 1 {
			t.Errorf("EXISTS %s = %d, %v; want 1", key, n, err)
		}
	}
	if ttl, err := rdb.PTTL(t.Context(), "t:s:o000000000000000000000000042").Result(); err != nil || ttl <= 0 {
		t.Errorf("session TTL = %v, %v; want one", ttl, err)
	}

	srv.Kill()
	if got, _ := post(t, web.URL, plainQuery(testToken), testMessage); got != http.StatusServiceUnavailable {
		t.Errorf("POST with Redis gone = %d, want %d", got, http.StatusServiceUnavailable)
	}
}
