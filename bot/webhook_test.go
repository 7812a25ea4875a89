package bot

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"io"
	"math/rand/v2"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/silenceper/wechat/v2/officialaccount/message"
	"github.com/silenceper/wechat/v2/util"

	"huimin/chat"
	"huimin/sim"
)

func TestConversationInEveryMode(t *testing.T) {
	for _, mode := range []string{sim.ModePlain, sim.ModeCompatible, sim.ModeSafe} {
		t.Run(mode, func(t *testing.T) {
			r := newRig(t, rigOptions{mode: mode})
			ctx := waitCtx(t)

			res, err := r.sim.Send(ctx, sim.Message{OpenID: "oCitizen1", Type: "event", Event: "subscribe"})
			if err != nil {
				t.Fatalf("subscribe: %v", err)
			}
			if res.Status != http.StatusOK || res.Reply == nil || !strings.Contains(res.Reply.Content, "欢迎关注") {
				t.Fatalf("subscribe answer = %+v, want a greeting", res)
			}
			// The menu follows as a customer-service text: numbered lines,
			// each a tappable menu link that sends its number (defect 13).
			got, err := r.sim.WaitReceived(ctx, "oCitizen1", 2)
			if err != nil {
				t.Fatalf("wait for the menu: %v", err)
			}
			if got[1].Kind != sim.KindCustom || !strings.Contains(got[1].Text, "请回复数字") ||
				strings.Count(got[1].Text, `<a href="weixin://bizmsgmenu?`) != 9 ||
				!strings.Contains(got[1].Text, `<a href="weixin://bizmsgmenu?msgmenucontent=1&msgmenuid=1">1. 低保、特困、临时救助</a>`) {
				t.Fatalf("second message = %+v, want the 7 service lines, FAQ and progress, numbered and tappable", got[1])
			}

			res, err = r.sim.Send(ctx, sim.Message{OpenID: "oCitizen1", Type: "text", Content: "你好"})
			if err != nil {
				t.Fatalf("text: %v", err)
			}
			if res.Reply == nil || !strings.Contains(res.Reply.Content, "1. 低保") || res.Deliveries != 1 {
				t.Fatalf("text answer = %+v, want the numbered menu on the first delivery", res)
			}
			res, err = r.sim.Send(ctx, sim.Message{OpenID: "oCitizen1", Type: "voice", Recognition: "1"})
			if err != nil || res.Reply == nil || !strings.Contains(res.Reply.Content, "您选的是“低保") || !strings.Contains(res.Reply.Content, "看指南") {
				t.Fatalf("voice answer = %+v, %v; want the 低保 line, offering its guides first", res, err)
			}
			res, err = r.sim.Send(ctx, sim.Message{OpenID: "oCitizen1", Type: "voice", Recognition: "看指南。"})
			if err != nil || res.Reply == nil || !strings.Contains(res.Reply.Content, "最低生活保障（低保）申请") {
				t.Fatalf("voice answer = %+v, %v; want the 低保 line's guides", res, err)
			}
			res, err = r.sim.Send(ctx, sim.Message{OpenID: "oCitizen1", Type: "image"})
			if err != nil || res.Reply == nil || !strings.Contains(res.Reply.Content, "已收到图片") {
				t.Fatalf("image answer = %+v, %v; want the picture kept and the question asked again", res, err)
			}
			res, err = r.sim.Send(ctx, sim.Message{OpenID: "oCitizen1", Type: "event", Event: "unsubscribe"})
			if err != nil || res.Reply != nil || res.Status != http.StatusOK {
				t.Fatalf("unsubscribe answer = %+v, %v; want success and no reply", res, err)
			}
		})
	}
}

// post sends body to the webhook with the given query, as WeChat would.
func post(t *testing.T, rawURL string, q url.Values, body []byte) (int, []byte) {
	t.Helper()
	resp, err := http.Post(rawURL+"?"+q.Encode(), "text/xml", bytes.NewReader(body))
	if err != nil {
		t.Fatalf("POST: %v", err)
	}
	defer resp.Body.Close()
	b, _ := io.ReadAll(resp.Body)
	return resp.StatusCode, b
}

func textMessage(openid string, msgID int64, content string) []byte {
	return fmt.Appendf(nil, `<xml><ToUserName><![CDATA[gh_huimin_sim]]></ToUserName><FromUserName><![CDATA[%s]]></FromUserName>`+
		`<CreateTime>%d</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[%s]]></Content><MsgId>%d</MsgId></xml>`,
		openid, time.Now().Unix(), content, msgID)
}

// plainQuery signs a request as WeChat does, with the clock's timestamp
// and a nonce of its own: every delivery, a retry included, is a new
// request.
func plainQuery(token string) url.Values {
	ts := fmt.Sprint(time.Now().Unix())
	nonce := strconv.FormatUint(rand.Uint64N(1e10), 10)
	return url.Values{"timestamp": {ts}, "nonce": {nonce}, "openid": {"oX"}, "signature": {util.Signature(token, ts, nonce)}}
}

func safeRequest(t *testing.T, plain []byte, appID string) (url.Values, []byte) {
	t.Helper()
	enc, err := util.EncryptMsg([]byte("abcdefghijklmnop"), plain, appID, rigAESKey)
	if err != nil {
		t.Fatal(err)
	}
	q := plainQuery(rigToken)
	q.Set("encrypt_type", "aes")
	q.Set("msg_signature", util.Signature(rigToken, q.Get("timestamp"), q.Get("nonce"), string(enc)))
	return q, fmt.Appendf(nil, `<xml><ToUserName><![CDATA[gh_huimin_sim]]></ToUserName><Encrypt><![CDATA[%s]]></Encrypt></xml>`, enc)
}

// openReply returns the plaintext of a webhook answer.
func openReply(t *testing.T, body []byte, safe bool) string {
	t.Helper()
	if !safe || string(body) == "success" {
		return string(body)
	}
	var env message.ResponseEncryptedXMLMsg
	if err := xml.Unmarshal(body, &env); err != nil {
		t.Fatalf("encrypted answer is not XML: %v: %s", err, body)
	}
	if want := util.Signature(rigToken, fmt.Sprint(env.Timestamp), env.Nonce, env.EncryptedMsg); env.MsgSignature != want {
		t.Fatalf("answer MsgSignature = %s, want %s", env.MsgSignature, want)
	}
	_, plain, err := util.DecryptMsg(rigAppID, env.EncryptedMsg, rigAESKey)
	if err != nil {
		t.Fatalf("decrypt answer: %v", err)
	}
	return string(plain)
}

func TestDuplicateDeliveriesActOnce(t *testing.T) {
	for _, tc := range []struct{ mode, store string }{{sim.ModePlain, storeBolt}, {sim.ModeSafe, storeBolt}, {sim.ModePlain, storeRedis}} {
		mode := tc.mode
		t.Run(mode+"/"+tc.store, func(t *testing.T) {
			r := newRig(t, rigOptions{mode: mode, store: tc.store})
			plain := textMessage("oDup", 24938173591234567, "你好")
			request := func() (url.Values, []byte) {
				if mode == sim.ModeSafe {
					return safeRequest(t, plain, rigAppID)
				}
				return plainQuery(rigToken), plain
			}
			answers := make([]string, 3)
			var wg sync.WaitGroup
			// The first delivery, then two retries at once, as when the
			// answer was lost on the way back to WeChat.
			q, body := request()
			status, b := post(t, r.url, q, body)
			if status != http.StatusOK {
				t.Fatalf("first delivery: status %d", status)
			}
			answers[0] = openReply(t, b, mode == sim.ModeSafe)
			for i := 1; i < 3; i++ {
				q, body := request()
				wg.Go(func() {
					status, b := post(t, r.url, q, body)
					if status != http.StatusOK {
						t.Errorf("delivery %d: status %d", i+1, status)
					}
					answers[i] = openReply(t, b, mode == sim.ModeSafe)
				})
			}
			wg.Wait()
			if n := r.disp.calls.Load(); n != 1 {
				t.Errorf("dispatched %d times, want 1", n)
			}
			if !strings.Contains(answers[0], "请回复数字") {
				t.Errorf("first answer = %q, want the menu", answers[0])
			}
			for i := 1; i < 3; i++ {
				if answers[i] != answers[0] {
					t.Errorf("answer %d = %q, want the same as the first %q", i+1, answers[i], answers[0])
				}
			}
		})
	}
}

func TestBadRequestsAreRefused(t *testing.T) {
	r := newRig(t, rigOptions{mode: sim.ModeSafe})
	good := textMessage("oBad", 1001, "你好")
	safeQ, safeBody := safeRequest(t, good, rigAppID)
	otherQ, otherBody := safeRequest(t, good, "wxanotherapp000000")
	badSig := plainQuery(rigToken)
	badSig.Set("signature", "0123456789abcdef0123456789abcdef01234567")
	noSig := plainQuery(rigToken)
	noSig.Del("signature")
	badMsgSig := url.Values{}
	for k, v := range safeQ {
		badMsgSig[k] = v
	}
	badMsgSig.Set("msg_signature", "deadbeef")
	tamperedBody := bytes.Replace(safeBody, []byte("<Encrypt><![CDATA["), []byte("<Encrypt><![CDATA[QUFB"), 1)
	var env message.EncryptedXMLMsg
	_ = xml.Unmarshal(tamperedBody, &env)
	tamperedQ := url.Values{}
	for k, v := range safeQ {
		tamperedQ[k] = v
	}
	tamperedQ.Set("msg_signature", util.Signature(rigToken, safeQ.Get("timestamp"), safeQ.Get("nonce"), env.EncryptedMsg))
	malformedQ, malformedBody := safeQ, []byte("<xml><Encrypt>")

	tests := []struct {
		name string
		q    url.Values
		body []byte
		want int
	}{
		{"bad signature", badSig, good, http.StatusForbidden},
		{"no signature", noSig, good, http.StatusForbidden},
		{"bad msg_signature", badMsgSig, safeBody, http.StatusForbidden},
		{"tampered ciphertext", tamperedQ, tamperedBody, http.StatusBadRequest},
		{"other appid inside", otherQ, otherBody, http.StatusBadRequest},
		{"malformed xml", malformedQ, malformedBody, http.StatusBadRequest},
		{"plaintext in safe mode", plainQuery(rigToken), good, http.StatusBadRequest},
		{"oversized body", safeQ, bytes.Repeat([]byte("x"), 70<<10), http.StatusRequestEntityTooLarge},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if status, _ := post(t, r.url, tt.q, tt.body); status != tt.want {
				t.Errorf("status = %d, want %d", status, tt.want)
			}
		})
	}
	if n := r.disp.calls.Load(); n != 0 {
		t.Errorf("refused requests were dispatched %d times", n)
	}
	// The service goes on serving.
	status, b := post(t, r.url, safeQ, safeBody)
	if status != http.StatusOK || !strings.Contains(openReply(t, b, true), "请回复数字") {
		t.Fatalf("valid request after the bad ones: status %d, body %s", status, b)
	}
	// GET verification.
	vq := plainQuery(rigToken)
	vq.Set("echostr", "8412345")
	resp, err := http.Get(r.url + "?" + vq.Encode())
	if err != nil {
		t.Fatal(err)
	}
	echo, _ := io.ReadAll(resp.Body)
	resp.Body.Close()
	if resp.StatusCode != http.StatusOK || string(echo) != "8412345" {
		t.Errorf("URL verification = %d %q, want 200 8412345", resp.StatusCode, echo)
	}
	if err := r.sim.VerifyURL(t.Context()); err != nil {
		t.Errorf("simulator URL verification: %v", err)
	}
}

func TestSlowFlowAnswersSuccessThenSends(t *testing.T) {
	for _, mode := range []string{sim.ModePlain, sim.ModeSafe} {
		t.Run(mode, func(t *testing.T) {
			r := newRig(t, rigOptions{mode: mode, budget: 50 * time.Millisecond})
			r.disp.gate = make(chan struct{})
			ctx := waitCtx(t)
			res, err := r.sim.Send(ctx, sim.Message{OpenID: "oSlow", Type: "text", Content: "你好"})
			if err != nil {
				t.Fatalf("send: %v", err)
			}
			if res.Status != http.StatusOK || res.Reply != nil || res.Deliveries != 1 {
				t.Fatalf("answer = %+v, want a plain success on the first delivery", res)
			}
			st, err := r.store.QueueStats(ctx, InboxQueue, time.Now().Add(time.Hour))
			if err != nil || st.Total != 1 {
				t.Fatalf("inbox = %+v, %v; want the event parked while its flow runs", st, err)
			}
			close(r.disp.gate)
			got, err := r.sim.WaitReceived(ctx, "oSlow", 1)
			if err != nil {
				t.Fatalf("wait for the late reply: %v", err)
			}
			if got[0].Kind != sim.KindCustom || !strings.Contains(got[0].Text, "请回复数字") || !strings.Contains(got[0].Text, "msgmenucontent=1") {
				t.Fatalf("late reply = %+v, want the menu as a customer-service message", got[0])
			}
			r.webhook.Wait()
			if st, _ := r.store.QueueStats(ctx, InboxQueue, time.Now().Add(time.Hour)); st.Total != 0 {
				t.Errorf("inbox still holds %d events after their replies were queued", st.Total)
			}
			// WeChat's retry gets what WeChat got, not the late reply the
			// flow finished the delivery with: that went out on its own.
			d, err := r.store.GetDelivery(ctx, "m:"+strconv.FormatInt(res.MsgID, 10))
			if err != nil || !d.Done || len(d.Reply) != 0 {
				t.Errorf("delivery record: done %v, reply %q, %v; want done with no reply", d.Done, d.Reply, err)
			}
		})
	}
}

func TestFlowPanicGetsApology(t *testing.T) {
	r := newRig(t, rigOptions{})
	r.disp.panic = true
	res, err := r.sim.Send(waitCtx(t), sim.Message{OpenID: "oPanic", Type: "text", Content: "你好"})
	if err != nil || res.Reply == nil || !strings.Contains(res.Reply.Content, "抱歉") {
		t.Fatalf("answer = %+v, %v; want an apology", res, err)
	}
}

func TestReplayParkedEvent(t *testing.T) {
	// An event parked by a process that died before queuing its replies
	// is dispatched again by the inbox worker and answered once.
	r := newRig(t, rigOptions{manualOutbox: true})
	ctx := waitCtx(t)
	if _, err := r.sim.Send(ctx, sim.Message{OpenID: "oParked", Type: "text", Content: "你好"}); err != nil {
		t.Fatal(err)
	}
	ev := eventFor("oParked", "2")
	if !r.webhook.park(ctx, r.webhook.log, ev, "m:77") {
		t.Fatal("park failed")
	}
	r.clock.Advance(time.Hour) // the dispatch that parked it never finished
	r.runner.drain(ctx)        // replays the event
	r.runner.drain(ctx)        // sends its replies
	got, err := r.sim.WaitReceived(ctx, "oParked", 2)
	if err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(got[1].Text, "您选的是“退役军人优抚安置”") || !strings.Contains(got[1].Text, "msgmenucontent=2&msgmenuid=2\">2. 直接办理</a>") {
		t.Errorf("replayed reply = %+v, want the veterans flow's guide offer (the answer to 2)", got[1])
	}
	if st, _ := r.store.QueueStats(ctx, InboxQueue, time.Now().Add(time.Hour)); st.Total != 0 {
		t.Errorf("inbox holds %d after replay, want 0", st.Total)
	}
	// Queuing the same replies again sends nothing new: their outcome is
	// recorded under the same IDs.
	if err := r.outbox.Enqueue(ctx, outgoing(ev, "m:77", []chat.Reply{{Text: "again"}}, 0)...); err != nil {
		t.Fatal(err)
	}
	if st, _ := r.store.QueueStats(ctx, OutboxQueue, time.Now().Add(time.Hour)); st.Total != 0 {
		t.Errorf("outbox holds %d after re-queuing sent replies, want 0", st.Total)
	}
}

func eventFor(openid, text string) chat.Event {
	return chat.Event{Kind: chat.KindText, From: openid, To: "gh_huimin_sim", Text: text, At: time.Now()}
}

// TestMenuRenderedNumberedAndTappable checks the one rendering of menus for
// WeChat: numbered lines that are menu links sending their number
// (render_test.go checks menus too long for WeChat's limit).
func TestMenuRenderedNumberedAndTappable(t *testing.T) {
	r := chat.Reply{Kind: chat.ReplyMenu, Text: "请回复数字：", Tail: "回复“人工”找工作人员。",
		Options: []chat.Option{{ID: "1", Text: "低保"}, {ID: "2", Text: "优抚"}}}
	got := RenderWeChat(r)
	want := "请回复数字：\n" +
		`<a href="weixin://bizmsgmenu?msgmenucontent=1&msgmenuid=1">1. 低保</a>` + "\n" +
		`<a href="weixin://bizmsgmenu?msgmenucontent=2&msgmenuid=2">2. 优抚</a>` + "\n" +
		"回复“人工”找工作人员。"
	if got != want {
		t.Errorf("RenderWeChat = %q\nwant %q", got, want)
	}
	if got := RenderText(r); got != "请回复数字：\n1. 低保\n2. 优抚\n回复“人工”找工作人员。" {
		t.Errorf("RenderText = %q", got)
	}
}

// TestReplayedRequestsAreRefused: in plain mode the signature covers only
// the timestamp and nonce, so a leaked request URL must not carry another
// message, nor the same one again, nor anything after its window (issue 12
// item 4). Nothing refused is dispatched.
func TestReplayedRequestsAreRefused(t *testing.T) {
	for _, st := range []string{storeBolt, storeRedis} {
		t.Run(st, func(t *testing.T) { testReplayedRequestsAreRefused(t, st) })
	}
}

func testReplayedRequestsAreRefused(t *testing.T, st string) {
	r := newRig(t, rigOptions{mode: sim.ModePlain, store: st})
	q := plainQuery(rigToken)
	if status, _ := post(t, r.url, q, textMessage("oCitizenA", 3001, "你好")); status != http.StatusOK {
		t.Fatalf("first request: status %d", status)
	}
	old := url.Values{}
	ts := strconv.FormatInt(time.Now().Add(-24*time.Hour).Unix(), 10)
	old.Set("timestamp", ts)
	old.Set("nonce", "777")
	old.Set("signature", util.Signature(rigToken, ts, "777"))
	for _, tt := range []struct {
		name string
		q    url.Values
		body []byte
	}{
		{"same URL, an officer's command in the body", q, textMessage("oOfficerWang", 3002, "查看 HM20261206001")},
		{"same request again", q, textMessage("oCitizenA", 3001, "你好")},
		{"signed a day ago", old, textMessage("oCitizenA", 3003, "你好")},
	} {
		t.Run(tt.name, func(t *testing.T) {
			if status, _ := post(t, r.url, tt.q, tt.body); status != http.StatusForbidden {
				t.Errorf("status = %d, want 403", status)
			}
		})
	}
	if n := r.disp.calls.Load(); n != 1 {
		t.Errorf("dispatched %d times, want 1 (the first request only)", n)
	}
	// The refused copy recorded nothing: the message itself, delivered by
	// WeChat in a request of its own, is handled.
	if status, _ := post(t, r.url, plainQuery(rigToken), textMessage("oOfficerWang", 3002, "你好")); status != http.StatusOK {
		t.Fatalf("message 3002 in its own request: status %d", status)
	}
	if n := r.disp.calls.Load(); n != 2 {
		t.Errorf("dispatched %d times, want 2", n)
	}
}
