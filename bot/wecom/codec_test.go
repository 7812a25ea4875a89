package wecom

import (
	"encoding/xml"
	"errors"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"huimin/chat"

	"github.com/silenceper/wechat/v2/util"
)

const (
	testToken   = "wecomtesttoken"
	testCorpID  = "ww0123456789abcdef"
	testAESKey  = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
	testAgentID = 1000002
	testTS      = "1764300000"
	testNonce   = "n0nce"
)

var fixedNow = func() time.Time { return time.Unix(1764300000, 0) }

const textXML = `<xml><ToUserName><![CDATA[` + testCorpID + `]]></ToUserName><FromUserName><![CDATA[wang.ming]]></FromUserName>` +
	`<CreateTime>1764300000</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[接单 HM20260302001]]></Content>` +
	`<MsgId>7321987654321098765</MsgId><AgentID>1000002</AgentID></xml>`

// sealed encrypts plain like WeCom with corpID as receiveid and returns query and body.
func sealed(t testing.TB, plain, corpID string) (url.Values, []byte) {
	t.Helper()
	enc, err := util.EncryptMsg([]byte("0123456789abcdef"), []byte(plain), corpID, testAESKey)
	if err != nil {
		t.Fatalf("EncryptMsg: %v", err)
	}
	q := url.Values{"timestamp": {testTS}, "nonce": {testNonce}}
	q.Set("msg_signature", util.Signature(testToken, testTS, testNonce, string(enc)))
	body := `<xml><ToUserName><![CDATA[` + corpID + `]]></ToUserName><Encrypt><![CDATA[` + string(enc) + `]]></Encrypt>` +
		`<AgentID><![CDATA[1000002]]></AgentID></xml>`
	return q, []byte(body)
}

// resign returns a copy of q with msg_signature computed over ciphertext.
func resign(q url.Values, ciphertext string) url.Values {
	out := url.Values{}
	for k, v := range q {
		out[k] = append([]string(nil), v...)
	}
	out.Set("msg_signature", util.Signature(testToken, testTS, testNonce, ciphertext))
	return out
}

func TestOpen(t *testing.T) {
	c := NewCodec(testToken, testCorpID, testAESKey, fixedNow)
	goodQ, goodBody := sealed(t, textXML, testCorpID)
	otherQ, otherBody := sealed(t, textXML, "wwSOMEONEELSE00000")
	malformedQ, malformedBody := sealed(t, "<xml><FromUserName>", testCorpID)
	emptyQ, emptyBody := sealed(t, "<xml></xml>", testCorpID)

	var env envelope
	if err := xml.Unmarshal(goodBody, &env); err != nil {
		t.Fatal(err)
	}
	tamperedCipher := "AAAA" + env.Encrypt[4:]
	tamperedBody := []byte(strings.Replace(string(goodBody), env.Encrypt, tamperedCipher, 1))
	garbageCipher := "bm90IGEgYmxvY2s=" // base64 of a short non-block: DecryptMsg must not panic through
	garbageBody := []byte(`<xml><ToUserName>x</ToUserName><Encrypt>` + garbageCipher + `</Encrypt></xml>`)

	badSig := resign(goodQ, "something else")
	noSig := resign(goodQ, env.Encrypt)
	noSig.Del("msg_signature")
	noNonce := resign(goodQ, env.Encrypt)
	noNonce.Del("nonce")

	tests := []struct {
		name    string
		codec   *Codec
		q       url.Values
		body    []byte
		wantErr error
	}{
		{"good", c, goodQ, goodBody, nil},
		{"bad signature", c, badSig, goodBody, ErrSignature},
		{"wrong token", NewCodec("other", testCorpID, testAESKey, fixedNow), goodQ, goodBody, ErrSignature},
		{"no msg_signature", c, noSig, goodBody, ErrSignature},
		{"no nonce", c, noNonce, goodBody, ErrSignature},
		{"tampered ciphertext", c, resign(goodQ, tamperedCipher), tamperedBody, ErrDecrypt},
		{"garbage ciphertext", c, resign(goodQ, garbageCipher), garbageBody, ErrDecrypt},
		{"other corp id", c, otherQ, otherBody, ErrDecrypt},
		{"wrong aes key", NewCodec(testToken, testCorpID, strings.Repeat("Z", 43), fixedNow), goodQ, goodBody, ErrDecrypt},
		{"unusable aes key", NewCodec(testToken, testCorpID, "short", fixedNow), goodQ, goodBody, ErrDecrypt},
		// A body whose signature cannot be checked is refused as unsigned
		// (403), not described as malformed (issue 12 item 10).
		{"envelope not xml", c, goodQ, []byte("hello"), ErrSignature},
		{"no Encrypt", c, goodQ, []byte("<xml><ToUserName>x</ToUserName></xml>"), ErrSignature},
		{"plaintext message", c, goodQ, []byte(textXML), ErrSignature},
		{"malformed message", c, malformedQ, malformedBody, ErrMalformed},
		{"empty message", c, emptyQ, emptyBody, ErrMalformed},
		{"signed a day ago", NewCodec(testToken, testCorpID, testAESKey, func() time.Time { return fixedNow().Add(24 * time.Hour) }), goodQ, goodBody, ErrStale},
		{"signed for tomorrow", NewCodec(testToken, testCorpID, testAESKey, func() time.Time { return fixedNow().Add(-24 * time.Hour) }), goodQ, goodBody, ErrStale},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := tt.codec.Open(tt.q, tt.body)
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Open err = %v, want %v", err, tt.wantErr)
			}
			if err != nil {
				return
			}
			m := req.Message
			if m.Content != "接单 HM20260302001" || m.FromUserName != "wang.ming" || m.ToUserName != testCorpID {
				t.Errorf("message = %+v, want text 接单 HM20260302001 from wang.ming to the corp", m)
			}
			if req.AgentID != "1000002" {
				t.Errorf("AgentID = %q, want 1000002", req.AgentID)
			}
			if got := DedupKey(m); got != "wm:7321987654321098765" {
				t.Errorf("DedupKey = %q, want wm:7321987654321098765", got)
			}
		})
	}
}

// FuzzOpen checks that no input makes Open panic.
func FuzzOpen(f *testing.F) {
	_, body := sealed(f, textXML, testCorpID)
	f.Add(body)
	f.Add([]byte("<xml><Encrypt>AAAA</Encrypt></xml>"))
	f.Add([]byte("<xml><Encrypt>" + strings.Repeat("A", 64) + "</Encrypt></xml>"))
	c := NewCodec(testToken, testCorpID, testAESKey, fixedNow)
	f.Fuzz(func(t *testing.T, body []byte) {
		var env envelope
		_ = xml.Unmarshal(body, &env)
		q := url.Values{"timestamp": {testTS}, "nonce": {testNonce}}
		q.Set("msg_signature", util.Signature(testToken, testTS, testNonce, env.Encrypt))
		_, _ = c.Open(q, body)
	})
}

func TestVerifyURL(t *testing.T) {
	c := NewCodec(testToken, testCorpID, testAESKey, fixedNow)
	check := func(echo, corpID string) url.Values {
		enc, err := util.EncryptMsg([]byte("0123456789abcdef"), []byte(echo), corpID, testAESKey)
		if err != nil {
			t.Fatalf("EncryptMsg: %v", err)
		}
		q := url.Values{"timestamp": {testTS}, "nonce": {testNonce}, "echostr": {string(enc)}}
		q.Set("msg_signature", util.Signature(testToken, testTS, testNonce, string(enc)))
		return q
	}
	good := check("5927782489442352469", testCorpID)
	badSig := check("5927782489442352469", testCorpID)
	badSig.Set("msg_signature", strings.Repeat("0", 40))
	noEcho := url.Values{"timestamp": {testTS}, "nonce": {testNonce}}
	noEcho.Set("msg_signature", util.Signature(testToken, testTS, testNonce, ""))

	tests := []struct {
		name    string
		q       url.Values
		want    string
		wantErr error
	}{
		{"good", good, "5927782489442352469", nil},
		{"bad signature", badSig, "", ErrSignature},
		{"other corp id", check("5927782489442352469", "wwSOMEONEELSE00000"), "", ErrDecrypt},
		{"no echostr", noEcho, "", ErrMalformed},
		{"no signature", url.Values{"timestamp": {testTS}, "nonce": {testNonce}, "echostr": {"x"}}, "", ErrSignature},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, err := c.VerifyURL(tt.q)
			if !errors.Is(err, tt.wantErr) || got != tt.want {
				t.Fatalf("VerifyURL = %q, %v; want %q, %v", got, err, tt.want, tt.wantErr)
			}
		})
	}
}

func TestEvent(t *testing.T) {
	head := `<ToUserName><![CDATA[` + testCorpID + `]]></ToUserName><FromUserName><![CDATA[wang.ming]]></FromUserName><CreateTime>1764300000</CreateTime>`
	ev := func(inner string) string { return "<xml>" + head + inner + "<AgentID>1000002</AgentID></xml>" }
	tests := []struct {
		name    string
		xml     string
		want    chat.Event
		rawType string
	}{
		{"text", ev(`<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[办结 HM1]]></Content><MsgId>1</MsgId>`),
			chat.Event{Kind: chat.KindText, Text: "办结 HM1", MsgID: "1"}, "text"},
		{"image", ev(`<MsgType><![CDATA[image]]></MsgType><PicUrl><![CDATA[https://p/1.jpg]]></PicUrl><MediaId><![CDATA[m1]]></MediaId><MsgId>2</MsgId>`),
			chat.Event{Kind: chat.KindImage, PicURL: "https://p/1.jpg", MediaID: "m1", MsgID: "2"}, "image"},
		{"voice", ev(`<MsgType><![CDATA[voice]]></MsgType><MediaId><![CDATA[m2]]></MediaId><Format><![CDATA[amr]]></Format><MsgId>3</MsgId>`),
			chat.Event{Kind: chat.KindOther, MediaID: "m2", MsgID: "3"}, "voice"},
		{"location", ev(`<MsgType><![CDATA[location]]></MsgType><Location_X>23.129110</Location_X><Location_Y>113.264385</Location_Y><Scale>15</Scale><Label><![CDATA[区民政局]]></Label><MsgId>4</MsgId>`),
			chat.Event{Kind: chat.KindLocation, Lat: 23.12911, Lng: 113.264385, Label: "区民政局", MsgID: "4"}, "location"},
		{"enter_agent", ev(`<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[enter_agent]]></Event><EventKey><![CDATA[]]></EventKey>`),
			chat.Event{Kind: chat.KindOther}, "event/enter_agent"},
		{"click", ev(`<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[click]]></Event><EventKey><![CDATA[MY_TICKETS]]></EventKey>`),
			chat.Event{Kind: chat.KindClick, Key: "MY_TICKETS"}, "event/click"},
		{"view", ev(`<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[view]]></Event><EventKey><![CDATA[https://mz.example/]]></EventKey>`),
			chat.Event{Kind: chat.KindOther, Key: "https://mz.example/", URL: "https://mz.example/"}, "event/view"},
		{"report location", ev(`<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[LOCATION]]></Event><Latitude>23.1</Latitude><Longitude>113.2</Longitude><Precision>30</Precision>`),
			chat.Event{Kind: chat.KindOther, Lat: 23.1, Lng: 113.2}, "event/LOCATION"},
		{"unknown type", ev(`<MsgType><![CDATA[file]]></MsgType><MsgId>9</MsgId>`),
			chat.Event{Kind: chat.KindOther, MsgID: "9"}, "file"},
	}
	c := NewCodec(testToken, testCorpID, testAESKey, fixedNow)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := c.Open(sealed(t, tt.xml, testCorpID))
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			got := req.Event()
			want := tt.want
			want.Channel, want.From, want.To, want.At, want.RawType = chat.ChannelWeCom, "wang.ming", testCorpID, time.Unix(1764300000, 0), tt.rawType
			if fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", want) {
				t.Errorf("Event =\n %+v\nwant\n %+v", got, want)
			}
		})
	}
}

func TestDedupKeyEvents(t *testing.T) {
	enter := &Message{FromUserName: "wang.ming", CreateTime: 100, MsgType: "event", Event: "enter_agent"}
	click := &Message{FromUserName: "wang.ming", CreateTime: 100, MsgType: "event", Event: "click", EventKey: "K"}
	if DedupKey(enter) == DedupKey(click) {
		t.Errorf("enter_agent and click in the same second share key %q", DedupKey(enter))
	}
	if got, want := DedupKey(enter), "we:wang.ming:100:enter_agent"; got != want {
		t.Errorf("DedupKey = %q, want %q", got, want)
	}
	again := *enter
	if DedupKey(enter) != DedupKey(&again) {
		t.Errorf("same event got different keys")
	}
}

func TestTextReply(t *testing.T) {
	c := NewCodec(testToken, testCorpID, testAESKey, fixedNow)
	req, err := c.Open(sealed(t, textXML, testCorpID))
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	out, err := c.TextReply(req, "已接单 <HM20260302001> & 处理中")
	if err != nil {
		t.Fatalf("TextReply: %v", err)
	}
	var env struct {
		Encrypt, MsgSignature, Nonce string
		TimeStamp                    int64
	}
	if err := xml.Unmarshal(out, &env); err != nil {
		t.Fatalf("reply is not XML: %v\n%s", err, out)
	}
	ts := strconv.FormatInt(env.TimeStamp, 10)
	if want := util.Signature(testToken, ts, env.Nonce, env.Encrypt); env.MsgSignature != want || env.Nonce != testNonce {
		t.Errorf("MsgSignature %s nonce %s, want %s over the request's nonce", env.MsgSignature, env.Nonce, want)
	}
	_, plain, err := util.DecryptMsg(testCorpID, env.Encrypt, testAESKey)
	if err != nil {
		t.Fatalf("DecryptMsg with the corp id: %v", err)
	}
	var txt struct{ ToUserName, FromUserName, MsgType, Content string }
	if err := xml.Unmarshal(plain, &txt); err != nil {
		t.Fatalf("decrypted reply: %v", err)
	}
	if txt.ToUserName != "wang.ming" || txt.FromUserName != testCorpID || txt.MsgType != "text" || txt.Content != "已接单 <HM20260302001> & 处理中" {
		t.Errorf("reply = %+v, want text to wang.ming from the corp", txt)
	}
	if out, err := c.TextReply(req, ""); out != nil || err != nil {
		t.Errorf("TextReply(\"\") = %q, %v; want nil (WeCom wants an empty body)", out, err)
	}
}
