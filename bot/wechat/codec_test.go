package wechat

import (
	"encoding/xml"
	"errors"
	"fmt"
	"net/url"
	"strings"
	"testing"
	"time"

	"huimin/chat"

	"github.com/silenceper/wechat/v2/officialaccount/message"
	"github.com/silenceper/wechat/v2/util"
)

const (
	testToken  = "testtoken"
	testAppID  = "wx0123456789abcdef"
	testAESKey = "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"
)

var fixedNow = func() time.Time { return time.Unix(1764300000, 0) }

const textXML = `<xml><ToUserName><![CDATA[gh_test]]></ToUserName><FromUserName><![CDATA[oUser1]]></FromUserName>` +
	`<CreateTime>1764300000</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[你好]]></Content>` +
	`<MsgId>24938173591234567</MsgId></xml>`

// signedPlain returns the query WeChat sends with a plain-mode POST.
func signedPlain(token string) url.Values {
	q := url.Values{"timestamp": {"1764300000"}, "nonce": {"n0nce"}, "openid": {"oUser1"}}
	q.Set("signature", util.Signature(token, "1764300000", "n0nce"))
	return q
}

// sealed encrypts plain like WeChat's safe mode and returns query and body.
func sealed(t *testing.T, plain, appID string, compatible bool) (url.Values, []byte) {
	t.Helper()
	enc, err := util.EncryptMsg([]byte("0123456789abcdef"), []byte(plain), appID, testAESKey)
	if err != nil {
		t.Fatalf("EncryptMsg: %v", err)
	}
	q := signedPlain(testToken)
	q.Set("encrypt_type", "aes")
	q.Set("msg_signature", util.Signature(testToken, "1764300000", "n0nce", string(enc)))
	body := `<xml><ToUserName><![CDATA[gh_test]]></ToUserName><Encrypt><![CDATA[` + string(enc) + `]]></Encrypt></xml>`
	if compatible {
		body = strings.Replace(plain, "</xml>", "<Encrypt><![CDATA["+string(enc)+"]]></Encrypt></xml>", 1)
	}
	return q, []byte(body)
}

func TestVerifyURL(t *testing.T) {
	c := NewCodec(testToken, testAppID, "", fixedNow)
	q := signedPlain(testToken)
	q.Set("echostr", "echo123")
	if got, err := c.VerifyURL(q); err != nil || got != "echo123" {
		t.Fatalf("VerifyURL = %q, %v; want echo123", got, err)
	}
	q.Set("signature", "bad")
	if _, err := c.VerifyURL(q); !errors.Is(err, ErrSignature) {
		t.Fatalf("VerifyURL with bad signature: err = %v, want ErrSignature", err)
	}
}

func TestOpen(t *testing.T) {
	plainCodec := NewCodec(testToken, testAppID, "", fixedNow)
	safeCodec := NewCodec(testToken, testAppID, testAESKey, fixedNow)
	safeQ, safeBody := sealed(t, textXML, testAppID, false)
	compatQ, compatBody := sealed(t, textXML, testAppID, true)
	otherQ, otherBody := sealed(t, textXML, "wxSOMEONEELSE00000", false)

	tampered := []byte(strings.Replace(string(safeBody), "<![CDATA[", "<![CDATA[AAAA", 2))
	tamperedQ := url.Values{}
	for k, v := range safeQ {
		tamperedQ[k] = v
	}
	var env message.EncryptedXMLMsg
	_ = xml.Unmarshal(tampered, &env)
	tamperedQ.Set("msg_signature", util.Signature(testToken, "1764300000", "n0nce", env.EncryptedMsg))

	noSig := signedPlain(testToken)
	noSig.Del("signature")
	badMsgSig := url.Values{}
	for k, v := range safeQ {
		badMsgSig[k] = v
	}
	badMsgSig.Set("msg_signature", "0000")

	tests := []struct {
		name     string
		codec    *Codec
		q        url.Values
		body     []byte
		wantErr  error
		wantSafe bool
	}{
		{"plain", plainCodec, signedPlain(testToken), []byte(textXML), nil, false},
		{"safe", safeCodec, safeQ, safeBody, nil, true},
		{"compatible", safeCodec, compatQ, compatBody, nil, true},
		{"wrong token", plainCodec, signedPlain("other"), []byte(textXML), ErrSignature, false},
		{"no signature", plainCodec, noSig, []byte(textXML), ErrSignature, false},
		{"malformed xml", plainCodec, signedPlain(testToken), []byte("<xml><ToUserName>"), ErrMalformed, false},
		{"not xml", plainCodec, signedPlain(testToken), []byte("hello"), ErrMalformed, false},
		{"empty message", plainCodec, signedPlain(testToken), []byte("<xml></xml>"), ErrMalformed, false},
		{"bad msg_signature", safeCodec, badMsgSig, safeBody, ErrSignature, false},
		{"tampered ciphertext", safeCodec, tamperedQ, tampered, ErrDecrypt, false},
		{"other appid inside", safeCodec, otherQ, otherBody, ErrDecrypt, false},
		{"plaintext in safe mode", safeCodec, signedPlain(testToken), []byte(textXML), ErrMalformed, false},
		{"encrypted without key", plainCodec, safeQ, safeBody, ErrMalformed, false},
		{"signed a day ago", NewCodec(testToken, testAppID, "", func() time.Time { return fixedNow().Add(24 * time.Hour) }), signedPlain(testToken), []byte(textXML), ErrStale, false},
		{"safe, signed a day ago", NewCodec(testToken, testAppID, testAESKey, func() time.Time { return fixedNow().Add(24 * time.Hour) }), safeQ, safeBody, ErrStale, false},
		{"signed for tomorrow", NewCodec(testToken, testAppID, "", func() time.Time { return fixedNow().Add(-24 * time.Hour) }), signedPlain(testToken), []byte(textXML), ErrStale, false},
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
			if req.Safe != tt.wantSafe {
				t.Errorf("Safe = %v, want %v", req.Safe, tt.wantSafe)
			}
			if got := req.Message.Content; got != "你好" {
				t.Errorf("Content = %q, want 你好", got)
			}
			if got := DedupKey(req.Message); got != "m:24938173591234567" {
				t.Errorf("DedupKey = %q, want m:24938173591234567 (MsgId beyond 2^53 kept exactly)", got)
			}
		})
	}
}

// TestOpenClockSkew checks the window around the clock a timestamp must be
// in (a stale request is also a bad signature, 403), and that the nonce is
// bounded before it becomes part of a store key.
func TestOpenClockSkew(t *testing.T) {
	at := func(d time.Duration) func() time.Time { return func() time.Time { return fixedNow().Add(d) } }
	for _, tt := range []struct {
		name    string
		now     func() time.Time
		skew    time.Duration
		wantErr error
	}{
		{"now", at(0), 0, nil},
		{"4m59s late, default window", at(299 * time.Second), 0, nil},
		{"5m01s late, default window", at(301 * time.Second), 0, ErrStale},
		{"5m01s early, default window", at(-301 * time.Second), 0, ErrStale},
		{"9m late, 10m window", at(9 * time.Minute), 10 * time.Minute, nil},
		{"11m late, 10m window", at(11 * time.Minute), 10 * time.Minute, ErrStale},
	} {
		t.Run(tt.name, func(t *testing.T) {
			c := NewCodec(testToken, testAppID, "", tt.now)
			c.SetMaxClockSkew(tt.skew)
			_, err := c.Open(signedPlain(testToken), []byte(textXML))
			if !errors.Is(err, tt.wantErr) {
				t.Fatalf("Open err = %v, want %v", err, tt.wantErr)
			}
			if tt.wantErr != nil && !errors.Is(err, ErrSignature) {
				t.Errorf("Open err = %v, want it to count as a bad signature (403)", err)
			}
		})
	}
	t.Run("long nonce", func(t *testing.T) {
		nonce := strings.Repeat("1", 65)
		q := url.Values{"timestamp": {"1764300000"}, "nonce": {nonce}, "signature": {util.Signature(testToken, "1764300000", nonce)}}
		if _, err := NewCodec(testToken, testAppID, "", fixedNow).Open(q, []byte(textXML)); !errors.Is(err, ErrMalformed) {
			t.Fatalf("Open with a 65-byte nonce: err = %v, want ErrMalformed", err)
		}
	})
	t.Run("replay key", func(t *testing.T) {
		req, err := NewCodec(testToken, testAppID, "", fixedNow).Open(signedPlain(testToken), []byte(textXML))
		if err != nil {
			t.Fatal(err)
		}
		if got := req.ReplayKey(); got != "1764300000:n0nce" {
			t.Errorf("ReplayKey = %q, want 1764300000:n0nce", got)
		}
	})
}

// FuzzOpen checks that no input makes Open panic.
func FuzzOpen(f *testing.F) {
	_, safeBody := sealed(&testing.T{}, textXML, testAppID, false)
	f.Add([]byte(textXML), "aes")
	f.Add(safeBody, "aes")
	f.Add([]byte("<xml><Encrypt>AAAA</Encrypt></xml>"), "aes")
	f.Add([]byte(textXML), "")
	c := NewCodec(testToken, testAppID, testAESKey, fixedNow)
	f.Fuzz(func(t *testing.T, body []byte, enc string) {
		q := signedPlain(testToken)
		q.Set("encrypt_type", enc)
		var env message.EncryptedXMLMsg
		_ = xml.Unmarshal(body, &env)
		q.Set("msg_signature", util.Signature(testToken, "1764300000", "n0nce", env.EncryptedMsg))
		_, _ = c.Open(q, body)
	})
}

func TestSealRoundTrip(t *testing.T) {
	c := NewCodec(testToken, testAppID, testAESKey, fixedNow)
	q, body := sealed(t, textXML, testAppID, false)
	req, err := c.Open(q, body)
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	plain, err := c.TextReply(req.Message, "收到")
	if err != nil {
		t.Fatalf("TextReply: %v", err)
	}
	out, err := c.Seal(req, plain)
	if err != nil {
		t.Fatalf("Seal: %v", err)
	}
	var resp message.ResponseEncryptedXMLMsg
	if err := xml.Unmarshal(out, &resp); err != nil {
		t.Fatalf("reply is not XML: %v\n%s", err, out)
	}
	ts := fmt.Sprint(resp.Timestamp)
	if want := util.Signature(testToken, ts, resp.Nonce, resp.EncryptedMsg); resp.MsgSignature != want {
		t.Errorf("MsgSignature = %s, want %s", resp.MsgSignature, want)
	}
	_, got, err := util.DecryptMsg(testAppID, resp.EncryptedMsg, testAESKey)
	if err != nil {
		t.Fatalf("DecryptMsg: %v", err)
	}
	var txt message.Text
	if err := xml.Unmarshal(got, &txt); err != nil {
		t.Fatalf("decrypted reply: %v", err)
	}
	if txt.Content != "收到" || txt.ToUserName != "oUser1" || txt.FromUserName != "gh_test" || txt.MsgType != "text" {
		t.Errorf("reply = %+v, want text 收到 from gh_test to oUser1", txt)
	}
	if out, _ := c.Seal(req, nil); string(out) != "success" {
		t.Errorf("Seal(nil) = %q, want success (never an encrypted empty message)", out)
	}
}

func TestEvent(t *testing.T) {
	head := `<ToUserName><![CDATA[gh_test]]></ToUserName><FromUserName><![CDATA[oUser1]]></FromUserName><CreateTime>1764300000</CreateTime>`
	ev := func(inner string) string { return "<xml>" + head + inner + "</xml>" }
	tests := []struct {
		name string
		xml  string
		want chat.Event
	}{
		{"text", ev(`<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[低保]]></Content><MsgId>1</MsgId>`),
			chat.Event{Kind: chat.KindText, Text: "低保", MsgID: "1"}},
		{"menu tap", ev(`<MsgType><![CDATA[text]]></MsgType><Content><![CDATA[满意]]></Content><MsgId>2</MsgId><bizmsgmenuid>3</bizmsgmenuid>`),
			chat.Event{Kind: chat.KindText, Text: "满意", MsgID: "2", Key: "3"}},
		{"voice", ev(`<MsgType><![CDATA[voice]]></MsgType><MediaId><![CDATA[m1]]></MediaId><Format><![CDATA[amr]]></Format><Recognition><![CDATA[我要申请低保]]></Recognition><MsgId>3</MsgId>`),
			chat.Event{Kind: chat.KindVoice, Text: "我要申请低保", MediaID: "m1", MsgID: "3"}},
		{"image", ev(`<MsgType><![CDATA[image]]></MsgType><PicUrl><![CDATA[http://p/1.jpg]]></PicUrl><MediaId><![CDATA[m2]]></MediaId><MsgId>4</MsgId>`),
			chat.Event{Kind: chat.KindImage, PicURL: "http://p/1.jpg", MediaID: "m2", MsgID: "4"}},
		{"video", ev(`<MsgType><![CDATA[video]]></MsgType><MediaId><![CDATA[m3]]></MediaId><MsgId>5</MsgId>`),
			chat.Event{Kind: chat.KindVideo, MediaID: "m3", MsgID: "5"}},
		{"shortvideo", ev(`<MsgType><![CDATA[shortvideo]]></MsgType><MediaId><![CDATA[m4]]></MediaId><MsgId>6</MsgId>`),
			chat.Event{Kind: chat.KindShortVideo, MediaID: "m4", MsgID: "6"}},
		{"location", ev(`<MsgType><![CDATA[location]]></MsgType><Location_X>22.54</Location_X><Location_Y>114.05</Location_Y><Scale>15</Scale><Label><![CDATA[福田区]]></Label><MsgId>7</MsgId>`),
			chat.Event{Kind: chat.KindLocation, Lat: 22.54, Lng: 114.05, Label: "福田区", MsgID: "7"}},
		{"link", ev(`<MsgType><![CDATA[link]]></MsgType><Title><![CDATA[t]]></Title><Description><![CDATA[d]]></Description><Url><![CDATA[http://x]]></Url><MsgId>8</MsgId>`),
			chat.Event{Kind: chat.KindLink, Title: "t", Description: "d", URL: "http://x", MsgID: "8"}},
		{"subscribe", ev(`<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[subscribe]]></Event>`),
			chat.Event{Kind: chat.KindSubscribe}},
		{"subscribe by qr", ev(`<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[subscribe]]></Event><EventKey><![CDATA[qrscene_officer:42]]></EventKey><Ticket><![CDATA[tk]]></Ticket>`),
			chat.Event{Kind: chat.KindSubscribe, Key: "qrscene_officer:42", Scene: "officer:42"}},
		{"unsubscribe", ev(`<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[unsubscribe]]></Event>`),
			chat.Event{Kind: chat.KindUnsubscribe}},
		{"scan", ev(`<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[SCAN]]></Event><EventKey><![CDATA[officer:42]]></EventKey>`),
			chat.Event{Kind: chat.KindScan, Key: "officer:42", Scene: "officer:42"}},
		{"report location", ev(`<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[LOCATION]]></Event><Latitude>22.5</Latitude><Longitude>114.1</Longitude><Precision>30</Precision>`),
			chat.Event{Kind: chat.KindReportLocation, Lat: 22.5, Lng: 114.1}},
		{"click", ev(`<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[CLICK]]></Event><EventKey><![CDATA[line_1]]></EventKey>`),
			chat.Event{Kind: chat.KindClick, Key: "line_1"}},
		{"view", ev(`<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[VIEW]]></Event><EventKey><![CDATA[https://mz.example/]]></EventKey>`),
			chat.Event{Kind: chat.KindView, Key: "https://mz.example/", URL: "https://mz.example/"}},
		{"template finished", ev(`<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[TEMPLATESENDJOBFINISH]]></Event><MsgID>24938173591234568</MsgID><Status><![CDATA[success]]></Status>`),
			chat.Event{Kind: chat.KindTemplateSent, Status: "success", MsgID: "24938173591234568"}},
		{"notice popup", ev(`<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[subscribe_msg_popup_event]]></Event><SubscribeMsgPopupEvent>` +
			`<List><TemplateId><![CDATA[T1]]></TemplateId><SubscribeStatusString><![CDATA[accept]]></SubscribeStatusString><PopupScene>2</PopupScene></List>` +
			`<List><TemplateId><![CDATA[T2]]></TemplateId><SubscribeStatusString><![CDATA[reject]]></SubscribeStatusString><PopupScene>2</PopupScene></List></SubscribeMsgPopupEvent>`),
			chat.Event{Kind: chat.KindSubscribeNotice, Status: "subscribe_msg_popup_event",
				Notices: []chat.Notice{{TemplateID: "T1", Status: "accept"}, {TemplateID: "T2", Status: "reject"}}}},
		{"notice change", ev(`<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[subscribe_msg_change_event]]></Event><SubscribeMsgChangeEvent>` +
			`<List><TemplateId><![CDATA[T1]]></TemplateId><SubscribeStatusString><![CDATA[reject]]></SubscribeStatusString></List></SubscribeMsgChangeEvent>`),
			chat.Event{Kind: chat.KindSubscribeNotice, Status: "subscribe_msg_change_event", Notices: []chat.Notice{{TemplateID: "T1", Status: "reject"}}}},
		{"notice sent", ev(`<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[subscribe_msg_sent_event]]></Event><SubscribeMsgSentEvent>` +
			`<List><TemplateId><![CDATA[T1]]></TemplateId><MsgID>1</MsgID><ErrorCode>0</ErrorCode><ErrorStatus><![CDATA[success]]></ErrorStatus></List></SubscribeMsgSentEvent>`),
			chat.Event{Kind: chat.KindSubscribeNotice, Status: "subscribe_msg_sent_event", Notices: []chat.Notice{{TemplateID: "T1", Status: "success"}}}},
		{"unknown event", ev(`<MsgType><![CDATA[event]]></MsgType><Event><![CDATA[MASSSENDJOBFINISH]]></Event>`),
			chat.Event{Kind: chat.KindOther}},
		{"unknown type", ev(`<MsgType><![CDATA[miniprogrampage]]></MsgType><MsgId>9</MsgId>`),
			chat.Event{Kind: chat.KindOther, MsgID: "9"}},
	}
	c := NewCodec(testToken, testAppID, "", fixedNow)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			req, err := c.Open(signedPlain(testToken), []byte(tt.xml))
			if err != nil {
				t.Fatalf("Open: %v", err)
			}
			got := req.Event()
			want := tt.want
			want.Channel, want.From, want.To, want.At = chat.ChannelWeChat, "oUser1", "gh_test", time.Unix(1764300000, 0)
			got.RawType = ""
			if fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", want) {
				t.Errorf("Event =\n %+v\nwant\n %+v", got, want)
			}
		})
	}
}

func TestDedupKeyEvents(t *testing.T) {
	sub := &Message{FromUserName: "o1", CreateTime: 100, MsgType: "event", Event: "subscribe"}
	scan := &Message{FromUserName: "o1", CreateTime: 100, MsgType: "event", Event: "SCAN"}
	if DedupKey(sub) == DedupKey(scan) {
		t.Errorf("subscribe and SCAN in the same second share key %q", DedupKey(sub))
	}
	again := *sub
	if DedupKey(sub) != DedupKey(&again) {
		t.Errorf("same event got different keys")
	}
}

func TestClassify(t *testing.T) {
	tests := []struct {
		name     string
		err      error
		wantCode int
	}{
		{"custom send text", fmt.Errorf("customer msg send error : errcode=45015 , errmsg=response out of time limit or subscription is canceled"), 45015},
		{"template text", fmt.Errorf("template msg send error : errcode=40001 , errmsg=invalid credential"), 40001},
		{"stable token text", fmt.Errorf("get stable access_token error : errcode=40125 , errormsg=invalid appsecret"), 40125},
		{"common error", util.NewCommonError("SendSubscribeMessage", 43101, "user refuse to accept the msg"), 43101},
		{"busy", fmt.Errorf("x : errcode=-1 , errmsg=system error"), -1},
		{"transport", fmt.Errorf("http post error : uri=x , statusCode=500"), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			err := classify("api", tt.err)
			apiErr, ok := errors.AsType[*APIError](err)
			if tt.wantCode == 0 {
				if ok {
					t.Fatalf("classify = APIError %v, want a transport error", apiErr)
				}
				return
			}
			if !ok || apiErr.Code != tt.wantCode {
				t.Fatalf("classify = %v, want errcode %d", err, tt.wantCode)
			}
		})
	}
}

func TestTextReplyIsValidXML(t *testing.T) {
	tests := []string{"您好", "a]]>b", "]]>]]>", "ctrl\x00\x01\x1fchars", "line1\nline2\t<tag>&amp;", strings.Repeat("民", 1000),
		"bad \xff\xfe utf-8 \xe6\xb0", "literal \uFFFD kept", "not XML \uFFFE\uFFFF dropped", "]]\x00>", "emoji 😀]]>"}
	for _, text := range tests {
		checkTextReply(t, text)
	}
}

// FuzzTextReply checks that any text makes a reply that parses as XML and
// carries the text, less what XML cannot hold.
func FuzzTextReply(f *testing.F) {
	for _, s := range []string{"您好", "a]]>b", "]]\x00>", "\xff]]>", "]\uFFFE]>"} {
		f.Add(s)
	}
	f.Fuzz(checkTextReply)
}

func checkTextReply(t *testing.T, text string) {
	c := NewCodec(testToken, testAppID, "", fixedNow)
	m := &Message{FromUserName: "oUser]]>1", ToUserName: "gh_test"}
	{
		out, err := c.TextReply(m, text)
		if err != nil {
			t.Fatal(err)
		}
		var got message.Text
		if err := xml.Unmarshal(out, &got); err != nil {
			t.Fatalf("TextReply(%q) is not XML: %v\n%s", text, err, out)
		}
		want := strings.Map(func(r rune) rune {
			if r < 0x20 && r != '\t' && r != '\n' && r != '\r' || r == 0xFFFE || r == 0xFFFF {
				return -1
			}
			return r
		}, chat.CutBytes(text, MaxTextBytes))
		// XML parsers read every line end as "\n".
		want = strings.ReplaceAll(strings.ReplaceAll(want, "\r\n", "\n"), "\r", "\n")
		if string(got.Content) != want || got.ToUserName != "oUser]]>1" || got.FromUserName != "gh_test" || got.MsgType != "text" || got.CreateTime != fixedNow().Unix() {
			t.Errorf("TextReply(%q) decodes to %+v, want content %q", text, got, want)
		}
	}
}

// BenchmarkSeal measures encrypting and signing a passive reply of the
// main menu's size, which safe mode pays on every answered message.
func BenchmarkSeal(b *testing.B) {
	c := NewCodec(testToken, testAppID, testAESKey, fixedNow)
	q, body := sealed(&testing.T{}, textXML, testAppID, false)
	req, err := c.Open(q, body)
	if err != nil {
		b.Fatal(err)
	}
	reply, err := c.TextReply(req.Message, strings.Repeat("请回复数字，选择您要办的事：<a href=\"weixin://bizmsgmenu?msgmenucontent=1&msgmenuid=1\">1. 低保</a>\n", 12))
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	for b.Loop() {
		if _, err := c.Seal(req, reply); err != nil {
			b.Fatal(err)
		}
	}
}
