package sim

import (
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"sync"
	"testing"
	"time"

	"github.com/silenceper/wechat/v2/util"
)

// WeCom test credentials.
const (
	testCorpID      = "ww1234567890abcdef"
	testCorpSecret  = "corpsecret0123456789abcdef0123456789abcdefg"
	testAgentID     = 1000002
	testWeComToken  = "huiminwecomtoken"
	testWeComAESKey = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopq" // 43 characters
)

// weComOptions returns Options with WeCom on and the test credentials, posting to callback.
func weComOptions(callback string) Options {
	return Options{
		CorpID: testCorpID, CorpSecret: testCorpSecret, AgentID: testAgentID,
		WeComToken: testWeComToken, WeComAESKey: testWeComAESKey, WeComWebhookURL: callback,
	}
}

// weComXML is a decrypted WeCom callback message.
type weComXML struct {
	ToUserName   string  `xml:"ToUserName"`
	FromUserName string  `xml:"FromUserName"`
	CreateTime   int64   `xml:"CreateTime"`
	MsgType      string  `xml:"MsgType"`
	Content      string  `xml:"Content"`
	MsgID        int64   `xml:"MsgId"`
	AgentID      int     `xml:"AgentID"`
	PicURL       string  `xml:"PicUrl"`
	MediaID      string  `xml:"MediaId"`
	LocationX    float64 `xml:"Location_X"`
	LocationY    float64 `xml:"Location_Y"`
	Scale        int     `xml:"Scale"`
	Label        string  `xml:"Label"`
	Event        string  `xml:"Event"`
	EventKey     string  `xml:"EventKey"`
	Latitude     float64 `xml:"Latitude"`
}

// weComDelivery is one POST the test callback received.
type weComDelivery struct {
	query url.Values
	body  string
	plain string
	msg   weComXML
}

// testWeComCallback plays the service's WeCom callback with the SDK's util functions: it
// checks msg_signature, decrypts with the CorpID as receiveid, and answers the URL check.
type testWeComCallback struct {
	t   *testing.T
	url string

	// reply returns the passive reply's text; "" answers an empty 200. Nil answers nothing.
	reply func(m weComXML) string
	// tamper breaks the reply: "plaintext", "signature", "corpid", "garbage", "status".
	tamper string
	// slow makes the first n deliveries time out.
	slow int

	mu      sync.Mutex
	got     []weComDelivery
	arrived chan struct{}
}

// startWeComCallback starts a test WeCom callback on loopback.
func startWeComCallback(t *testing.T) *testWeComCallback {
	t.Helper()
	cb := &testWeComCallback{t: t, arrived: make(chan struct{})}
	srv := httptest.NewServer(cb)
	t.Cleanup(srv.Close)
	cb.url = srv.URL + "/wecom"
	return cb
}

// deliveries returns what the callback received so far.
func (cb *testWeComCallback) deliveries() []weComDelivery {
	cb.mu.Lock()
	defer cb.mu.Unlock()
	return append([]weComDelivery(nil), cb.got...)
}

// waitFor blocks until a delivery satisfies ok, or fails the test after 5 s.
func (cb *testWeComCallback) waitFor(ok func(d weComDelivery) bool) weComDelivery {
	cb.t.Helper()
	ctx, cancel := context.WithTimeout(cb.t.Context(), 5*time.Second)
	defer cancel()
	for {
		cb.mu.Lock()
		for _, d := range cb.got {
			if ok(d) {
				cb.mu.Unlock()
				return d
			}
		}
		ch := cb.arrived
		cb.mu.Unlock()
		select {
		case <-ch:
		case <-ctx.Done():
			cb.t.Fatalf("wecom callback: no matching delivery within 5 s; got %d", len(cb.deliveries()))
			return weComDelivery{}
		}
	}
}

// ServeHTTP implements the service's WeCom callback endpoint.
func (cb *testWeComCallback) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	ts, nonce, sig := q.Get("timestamp"), q.Get("nonce"), q.Get("msg_signature")
	if r.Method == http.MethodGet {
		echo := q.Get("echostr")
		if sig != util.Signature(testWeComToken, ts, nonce, echo) {
			http.Error(w, "bad signature", http.StatusForbidden)
			return
		}
		_, plain, err := util.DecryptMsg(testCorpID, echo, testWeComAESKey)
		if err != nil {
			http.Error(w, "decrypt echostr", http.StatusBadRequest)
			return
		}
		if cb.tamper == "echo-encrypted" {
			plain = []byte(echo)
		}
		_, _ = w.Write(plain)
		return
	}
	body, err := io.ReadAll(r.Body)
	if err != nil {
		http.Error(w, "read body", http.StatusBadRequest)
		return
	}
	d, err := cb.open(q, body)
	if err != nil {
		cb.t.Errorf("wecom callback: %v", err)
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	cb.mu.Lock()
	cb.got = append(cb.got, d)
	n := len(cb.got)
	close(cb.arrived)
	cb.arrived = make(chan struct{})
	cb.mu.Unlock()

	if n <= cb.slow {
		select {
		case <-r.Context().Done(): // WeCom hung up
			return
		case <-time.After(5 * time.Second):
		}
	}
	if cb.tamper == "status" {
		http.Error(w, "boom", http.StatusInternalServerError)
		return
	}
	text := ""
	if cb.reply != nil {
		text = cb.reply(d.msg)
	}
	if text == "" {
		return // an empty 200
	}
	_, _ = w.Write(cb.encode(q, d.msg, text))
}

// open checks and decrypts one delivery the way WeCom's documentation says.
func (cb *testWeComCallback) open(q url.Values, body []byte) (weComDelivery, error) {
	for _, k := range []string{"signature", "openid", "encrypt_type"} {
		if q.Has(k) {
			return weComDelivery{}, fmt.Errorf("query has Official Account parameter %s", k)
		}
	}
	var env struct {
		ToUserName string `xml:"ToUserName"`
		AgentID    string `xml:"AgentID"`
		Encrypt    string `xml:"Encrypt"`
		MsgType    string `xml:"MsgType"`
	}
	if err := xml.Unmarshal(body, &env); err != nil {
		return weComDelivery{}, fmt.Errorf("parse envelope: %w", err)
	}
	if env.ToUserName != testCorpID || env.AgentID != strconv.Itoa(testAgentID) || env.MsgType != "" {
		return weComDelivery{}, fmt.Errorf("envelope ToUserName %q AgentID %q MsgType %q, want the corp, the agent and no plaintext", env.ToUserName, env.AgentID, env.MsgType)
	}
	if want := util.Signature(testWeComToken, q.Get("timestamp"), q.Get("nonce"), env.Encrypt); q.Get("msg_signature") != want {
		return weComDelivery{}, fmt.Errorf("msg_signature mismatch")
	}
	_, plain, err := util.DecryptMsg(testCorpID, env.Encrypt, testWeComAESKey)
	if err != nil {
		return weComDelivery{}, fmt.Errorf("decrypt with the corp id: %w", err)
	}
	d := weComDelivery{query: q, body: string(body), plain: string(plain)}
	if err := xml.Unmarshal(plain, &d.msg); err != nil {
		return weComDelivery{}, fmt.Errorf("parse message: %w", err)
	}
	return d, nil
}

// encode builds the encrypted passive text reply, broken as told.
func (cb *testWeComCallback) encode(q url.Values, m weComXML, text string) []byte {
	plain := fmt.Sprintf("<xml><ToUserName><![CDATA[%s]]></ToUserName><FromUserName><![CDATA[%s]]></FromUserName>"+
		"<CreateTime>%d</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[%s]]></Content></xml>",
		m.FromUserName, m.ToUserName, time.Now().Unix(), text)
	switch cb.tamper {
	case "plaintext":
		return []byte(plain)
	case "garbage":
		return []byte("<html>oops</html")
	}
	corp := testCorpID
	if cb.tamper == "corpid" {
		corp = "wwSOMEONEELSE000000"
	}
	enc, err := util.EncryptMsg([]byte("0123456789abcdef"), []byte(plain), corp, testWeComAESKey)
	if err != nil {
		cb.t.Errorf("encrypt reply: %v", err)
	}
	ts, nonce := q.Get("timestamp"), q.Get("nonce")
	sig := util.Signature(testWeComToken, ts, nonce, string(enc))
	if cb.tamper == "signature" {
		sig = "0000000000000000000000000000000000000000"
	}
	return fmt.Appendf(nil, "<xml><Encrypt><![CDATA[%s]]></Encrypt><MsgSignature><![CDATA[%s]]></MsgSignature>"+
		"<TimeStamp>%s</TimeStamp><Nonce><![CDATA[%s]]></Nonce></xml>", enc, sig, ts, nonce)
}

// getWeComToken fetches a WeCom access token from /cgi-bin/gettoken.
func getWeComToken(t *testing.T, base string) string {
	t.Helper()
	m := apiCall(t, http.MethodGet, base+"/cgi-bin/gettoken?corpid="+testCorpID+"&corpsecret="+testCorpSecret, nil)
	tok, _ := m["access_token"].(string)
	if tok == "" {
		t.Fatalf("gettoken answer = %v, want an access_token", m)
	}
	return tok
}

// weComSend posts an application message and returns the whole answer.
func weComSend(t *testing.T, base, tok string, body map[string]any) map[string]any {
	t.Helper()
	return apiCall(t, http.MethodPost, base+"/cgi-bin/message/send?access_token="+url.QueryEscape(tok), body)
}

// weComText is the body of a text application message to touser.
func weComText(touser, content string) map[string]any {
	return map[string]any{"touser": touser, "msgtype": "text", "agentid": testAgentID, "text": map[string]string{"content": content}}
}
