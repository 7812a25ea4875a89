package sim

import (
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/silenceper/wechat/v2/credential"
	workconfig "github.com/silenceper/wechat/v2/work/config"
	workcontext "github.com/silenceper/wechat/v2/work/context"
	workmessage "github.com/silenceper/wechat/v2/work/message"
)

func TestWeComToken(t *testing.T) {
	_, base, clk := startSim(t, weComOptions(""))
	tests := []struct {
		name  string
		query string
		want  int
	}{
		{"no corpid", "corpsecret=" + testCorpSecret, CodeWeComCorpIDMissing},
		{"wrong corpid", "corpid=wwother&corpsecret=" + testCorpSecret, CodeWeComInvalidCorpID},
		{"no secret", "corpid=" + testCorpID, CodeWeComSecretMissing},
		{"wrong secret", "corpid=" + testCorpID + "&corpsecret=nope", CodeWeComInvalidSecret},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := apiCall(t, http.MethodGet, base+"/cgi-bin/gettoken?"+tt.query, nil)
			if got := errcode(t, m); got != tt.want {
				t.Errorf("errcode = %d, want %d (%v)", got, tt.want, m["errmsg"])
			}
			if msg, _ := m["errmsg"].(string); !strings.Contains(msg, "open.work.weixin.qq.com/devtool/query?e=") {
				t.Errorf("errmsg %q lacks WeCom's lookup link", msg)
			}
		})
	}

	t.Run("same token while valid, new one after expiry", func(t *testing.T) {
		first := getWeComToken(t, base)
		clk.Advance(time.Hour)
		if again := getWeComToken(t, base); again != first {
			t.Errorf("gettoken within the lifetime returned a new token")
		}
		m := apiCall(t, http.MethodGet, base+"/cgi-bin/gettoken?corpid="+testCorpID+"&corpsecret="+testCorpSecret, nil)
		if n := int64Field(t, m, "expires_in"); n != 3600 {
			t.Errorf("expires_in = %d an hour in, want 3600", n)
		}
		clk.Advance(time.Hour)
		if code := errcode(t, weComSend(t, base, first, weComText("wang.ming", "x"))); code != CodeAccessTokenExpired {
			t.Errorf("expired token: errcode %d, want %d", code, CodeAccessTokenExpired)
		}
		if next := getWeComToken(t, base); next == first {
			t.Errorf("gettoken after expiry returned the expired token")
		}
	})

	t.Run("tokens stay on their side", func(t *testing.T) {
		oaTok, wcTok := getToken(t, base), getWeComToken(t, base)
		if code := errcode(t, weComSend(t, base, oaTok, weComText("wang.ming", "x"))); code != CodeWeComInvalidToken {
			t.Errorf("Official Account token on message/send: errcode %d, want %d", code, CodeWeComInvalidToken)
		}
		if code := customText(t, base, wcTok, testOpenID, "x"); code != CodeInvalidCredential {
			t.Errorf("WeCom token on custom/send: errcode %d, want %d", code, CodeInvalidCredential)
		}
		if code := errcode(t, weComSend(t, base, "made-up", weComText("wang.ming", "x"))); code != CodeWeComInvalidToken {
			t.Errorf("unknown token: errcode %d, want %d", code, CodeWeComInvalidToken)
		}
		if code := errcode(t, weComSend(t, base, "", weComText("wang.ming", "x"))); code != CodeAccessTokenMissing {
			t.Errorf("no token: errcode %d, want %d", code, CodeAccessTokenMissing)
		}
	})
}

func TestWeComSend(t *testing.T) {
	s, base, _ := startSim(t, weComOptions(""))
	tok := getWeComToken(t, base)
	card := map[string]string{"title": "新工单待接收", "description": `<div class="gray">3月2日</div><div class="highlight">临时救助</div>`, "url": "https://mz.example/t/1", "btntxt": "接单"}
	tests := []struct {
		name        string
		body        map[string]any
		want        int
		invalidUser string
		msgType     string // recorded for wang.ming when set
	}{
		{"text", weComText("wang.ming", "新工单 HM1"), 0, "", "text"},
		{"agentid as string", map[string]any{"touser": "wang.ming", "msgtype": "text", "agentid": "1000002", "text": map[string]string{"content": "SDK style"}}, 0, "", "text"},
		{"textcard", map[string]any{"touser": "wang.ming", "msgtype": "textcard", "agentid": testAgentID, "textcard": card}, 0, "", "textcard"},
		{"markdown", map[string]any{"touser": "wang.ming", "msgtype": "markdown", "agentid": testAgentID, "markdown": map[string]string{"content": "**待办** 3 件"}}, 0, "", "markdown"},
		{"userid ignores case", weComText("Wang.Ming", "大小写"), 0, "", "text"},
		{"unknown user", weComText("nobody", "x"), 0, "nobody", ""},
		{"some unknown", weComText("wang.ming|Ghost", "部分"), 0, "ghost", "text"},
		{"no agentid", map[string]any{"touser": "wang.ming", "msgtype": "text", "text": map[string]string{"content": "x"}}, CodeWeComAgentIDMissing, "", ""},
		{"other agentid", map[string]any{"touser": "wang.ming", "msgtype": "text", "agentid": 42, "text": map[string]string{"content": "x"}}, CodeWeComInvalidAgentID, "", ""},
		{"no msgtype", map[string]any{"touser": "wang.ming", "agentid": testAgentID}, CodeInvalidMessageType, "", ""},
		{"image not simulated", map[string]any{"touser": "wang.ming", "msgtype": "image", "agentid": testAgentID, "image": map[string]string{"media_id": "m"}}, CodeInvalidMessageType, "", ""},
		{"empty text", weComText("wang.ming", ""), CodeEmptyContent, "", ""},
		{"text too long", weComText("wang.ming", strings.Repeat("长", 700)), CodeWeComContentTooLong, "", ""},
		{"textcard without url", map[string]any{"touser": "wang.ming", "msgtype": "textcard", "agentid": testAgentID, "textcard": map[string]string{"title": "t", "description": "d"}}, CodeWeComInvalidParameter, "", ""},
		{"textcard button too long", map[string]any{"touser": "wang.ming", "msgtype": "textcard", "agentid": testAgentID, "textcard": map[string]string{"title": "t", "description": "d", "url": "https://x", "btntxt": "点这里查看"}}, CodeWeComInvalidParameter, "", ""},
		{"nobody addressed", map[string]any{"msgtype": "text", "agentid": testAgentID, "text": map[string]string{"content": "x"}}, CodeWeComInvalidParameter, "", ""},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(s.Received("wang.ming"))
			m := weComSend(t, base, tok, tt.body)
			if got := errcode(t, m); got != tt.want {
				t.Fatalf("errcode = %d, want %d (%v)", got, tt.want, m["errmsg"])
			}
			if tt.want == 0 {
				if got, _ := m["invaliduser"].(string); got != tt.invalidUser {
					t.Errorf("invaliduser = %q, want %q", got, tt.invalidUser)
				}
				if id, _ := m["msgid"].(string); id == "" {
					t.Errorf("no msgid in %v", m)
				}
			}
			got := s.Received("wang.ming")
			if tt.msgType == "" {
				if len(got) != before {
					t.Errorf("wang.ming received %d new messages, want none", len(got)-before)
				}
				return
			}
			if len(got) != before+1 {
				t.Fatalf("wang.ming received %d new messages, want 1", len(got)-before)
			}
			last := got[len(got)-1]
			if last.Kind != KindWeCom || last.Channel != ChannelWeCom || last.MsgType != tt.msgType || last.OpenID != "wang.ming" {
				t.Errorf("entry = %+v, want a wecom %s to wang.ming", last, tt.msgType)
			}
		})
	}
	cards := 0
	for _, e := range s.Received("wang.ming") {
		if e.MsgType == "textcard" {
			cards++
			if e.Card == nil || e.Card.Title != "新工单待接收" || e.Card.BtnText != "接单" || e.Card.URL != "https://mz.example/t/1" {
				t.Errorf("textcard entry = %+v", e.Card)
			}
		}
	}
	if cards != 1 {
		t.Errorf("%d textcards recorded, want 1", cards)
	}
	if n := len(s.Received("nobody")); n != 0 {
		t.Errorf("a non-member received %d messages", n)
	}

	t.Run("@all", func(t *testing.T) {
		if code := errcode(t, weComSend(t, base, tok, weComText("@all", "全员通知"))); code != 0 {
			t.Fatalf("errcode %d", code)
		}
		for _, id := range []string{"wang.ming", "li.na", "zhang.wei"} {
			got := s.Received(id)
			if len(got) == 0 || got[len(got)-1].Text != "全员通知" {
				t.Errorf("%s did not receive the @all message", id)
			}
		}
	})
}

func TestWeComMemberLimit(t *testing.T) {
	s, base, clk := startSim(t, weComOptions(""))
	tok := getWeComToken(t, base)
	for i := range weComPerMinute {
		if code := errcode(t, weComSend(t, base, tok, weComText("li.na", "提醒"))); code != 0 {
			t.Fatalf("message %d: errcode %d", i+1, code)
		}
	}
	if code := errcode(t, weComSend(t, base, tok, weComText("li.na", "超限"))); code != CodeWeComMemberLimited {
		t.Fatalf("message 31 in a minute: errcode %d, want %d", code, CodeWeComMemberLimited)
	}
	if code := errcode(t, weComSend(t, base, tok, weComText("li.na|wang.ming", "含超限成员"))); code != CodeWeComMemberLimited {
		t.Errorf("a call including a limited member: errcode %d, want %d", code, CodeWeComMemberLimited)
	}
	if code := errcode(t, weComSend(t, base, tok, weComText("wang.ming", "别人"))); code != 0 {
		t.Errorf("another member: errcode %d, want 0", code)
	}
	clk.Advance(time.Minute)
	if code := errcode(t, weComSend(t, base, tok, weComText("li.na", "一分钟后"))); code != 0 {
		t.Errorf("a minute later: errcode %d, want 0", code)
	}
	if got := len(s.Received("li.na")); got != weComPerMinute+1 {
		t.Errorf("li.na received %d, want %d", got, weComPerMinute+1)
	}

	// The hourly limit: 30 a minute for 34 minutes reaches 1000 within the hour.
	for sent := 0; sent < weComPerHour; {
		clk.Advance(time.Minute)
		for range min(weComPerMinute, weComPerHour-sent) {
			if code := errcode(t, weComSend(t, base, tok, weComText("zhang.wei", "批量"))); code != 0 {
				t.Fatalf("after %d messages: errcode %d", sent, code)
			}
			sent++
		}
	}
	if got := len(s.Received("zhang.wei")); got != weComPerHour {
		t.Fatalf("zhang.wei received %d, want %d", got, weComPerHour)
	}
	clk.Advance(time.Minute)
	if code := errcode(t, weComSend(t, base, tok, weComText("zhang.wei", "第1001条"))); code != CodeWeComMemberLimited {
		t.Errorf("message 1001 within the hour: errcode %d, want %d", code, CodeWeComMemberLimited)
	}
}

func TestWeComDisabled(t *testing.T) {
	s, base, _ := startSim(t, Options{})
	m := apiCall(t, http.MethodGet, base+"/cgi-bin/gettoken?corpid=x&corpsecret=y", nil)
	if code := errcode(t, m); code != CodeAPIUnauthorized {
		t.Errorf("gettoken without WeCom: errcode %d, want %d", code, CodeAPIUnauthorized)
	}
	if _, err := s.SendWeCom(t.Context(), WeComMessage{UserID: "wang.ming", Type: TypeText, Content: "x"}); !errors.Is(err, ErrWeComDisabled) {
		t.Errorf("SendWeCom without WeCom: err = %v, want ErrWeComDisabled", err)
	}
	if err := s.VerifyWeComURL(t.Context()); !errors.Is(err, ErrWeComDisabled) {
		t.Errorf("VerifyWeComURL without WeCom: err = %v, want ErrWeComDisabled", err)
	}
	if s.CorpID() != "" || len(s.WeComMembers()) != 0 {
		t.Errorf("CorpID %q, members %v; want none", s.CorpID(), s.WeComMembers())
	}

	opts := weComOptions("http://127.0.0.1:1/wecom")
	opts.WeComAESKey = "short"
	bad := New(opts)
	defer bad.Close()
	if _, err := bad.SendWeCom(t.Context(), WeComMessage{UserID: "wang.ming", Type: TypeText, Content: "x"}); !errors.Is(err, ErrConfig) {
		t.Errorf("SendWeCom with a short AES key: err = %v, want ErrConfig", err)
	}
	noURL := New(weComOptions(""))
	defer noURL.Close()
	if _, err := noURL.SendWeCom(t.Context(), WeComMessage{UserID: "wang.ming", Type: TypeText, Content: "x"}); !errors.Is(err, ErrNoWebhook) {
		t.Errorf("SendWeCom without a callback url: err = %v, want ErrNoWebhook", err)
	}
}

func TestSendWeCom(t *testing.T) {
	cb := startWeComCallback(t)
	cb.reply = func(m weComXML) string {
		if m.MsgType == "text" {
			return "收到：" + m.Content
		}
		return ""
	}
	s, _, clk := startSim(t, weComOptions(cb.url))
	ctx := t.Context()

	res, err := s.SendWeCom(ctx, WeComMessage{UserID: "wang.ming", Type: TypeText, Content: "接单 HM1 <急> & 办"})
	if err != nil {
		t.Fatalf("SendWeCom: %v", err)
	}
	if res.Status != http.StatusOK || res.Deliveries != 1 || res.Reply == nil || res.Reply.Content != "收到：接单 HM1 <急> & 办" {
		t.Errorf("result = %+v, want 200 after 1 delivery with the passive reply", res)
	}
	if res.MsgID <= above2p53 || res.CreateTime != clk.Now().Unix() {
		t.Errorf("MsgID %d CreateTime %d, want a 64-bit id and the simulator clock", res.MsgID, res.CreateTime)
	}
	d := cb.deliveries()[0]
	if d.msg.FromUserName != "wang.ming" || d.msg.ToUserName != testCorpID || d.msg.MsgID != res.MsgID || d.msg.AgentID != testAgentID || d.msg.Content != "接单 HM1 <急> & 办" {
		t.Errorf("callback got %+v", d.msg)
	}

	tests := []struct {
		name  string
		m     WeComMessage
		check func(t *testing.T, m weComXML)
	}{
		{"image", WeComMessage{UserID: "wang.ming", Type: TypeImage}, func(t *testing.T, m weComXML) {
			if m.PicURL == "" || m.MediaID == "" || m.MsgID == 0 {
				t.Errorf("image = %+v, want PicUrl, MediaId and MsgId", m)
			}
		}},
		{"location", WeComMessage{UserID: "wang.ming", Type: TypeLocation, Lat: 23.12911, Lng: 113.264385, Label: "区民政局"}, func(t *testing.T, m weComXML) {
			if m.LocationX != 23.12911 || m.LocationY != 113.264385 || m.Scale != 15 || m.Label != "区民政局" {
				t.Errorf("location = %+v", m)
			}
		}},
		{"enter_agent", WeComMessage{UserID: "wang.ming", Type: TypeEvent, Event: "enter_agent"}, func(t *testing.T, m weComXML) {
			if m.MsgType != "event" || m.Event != "enter_agent" || m.MsgID != 0 || m.AgentID != testAgentID {
				t.Errorf("enter_agent = %+v, want an event without MsgId", m)
			}
		}},
		{"click", WeComMessage{UserID: "wang.ming", Type: TypeEvent, Event: "click", EventKey: "MY_TICKETS"}, func(t *testing.T, m weComXML) {
			if m.Event != "click" || m.EventKey != "MY_TICKETS" {
				t.Errorf("click = %+v", m)
			}
		}},
		{"LOCATION", WeComMessage{UserID: "wang.ming", Type: TypeEvent, Event: "LOCATION", Lat: 23.1, Lng: 113.2, Precision: 30}, func(t *testing.T, m weComXML) {
			if m.Event != "LOCATION" || m.Latitude != 23.1 {
				t.Errorf("LOCATION = %+v", m)
			}
		}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			n := len(cb.deliveries())
			res, err := s.SendWeCom(ctx, tt.m)
			if err != nil || res.Reply != nil {
				t.Fatalf("SendWeCom = %+v, %v; want no passive reply", res, err)
			}
			tt.check(t, cb.deliveries()[n].msg)
		})
	}

	tl := s.Timeline("wang.ming", 0)
	if len(tl) != 7 || tl[0].Kind != KindUser || tl[0].Channel != ChannelWeCom || tl[1].Kind != KindReply || tl[1].Channel != ChannelWeCom {
		t.Errorf("timeline = %+v, want the member's six actions and one reply, all on the wecom channel", tl)
	}
	if got := s.Received("wang.ming"); len(got) != 1 || got[0].Text != "收到：接单 HM1 <急> & 办" {
		t.Errorf("Received = %+v, want the passive reply", got)
	}

	if _, err := s.SendWeCom(ctx, WeComMessage{UserID: "new.officer", Type: TypeText, Content: "你好"}); err != nil {
		t.Fatalf("SendWeCom from a new userid: %v", err)
	}
	if members := s.WeComMembers(); !strings.Contains(strings.Join(members, ","), "new.officer") {
		t.Errorf("members %v, want new.officer to have joined by sending", members)
	}
	for _, m := range []WeComMessage{{Type: TypeText, Content: "x"}, {UserID: "u", Type: TypeText}, {UserID: "u", Type: "fax"}, {UserID: "u", Type: TypeEvent}} {
		if _, err := s.SendWeCom(ctx, m); !errors.Is(err, ErrInvalidMessage) {
			t.Errorf("SendWeCom(%+v) err = %v, want ErrInvalidMessage", m, err)
		}
	}
}

func TestSendWeComBrokenReplies(t *testing.T) {
	for _, tamper := range []string{"plaintext", "signature", "corpid", "garbage", "status"} {
		t.Run(tamper, func(t *testing.T) {
			cb := startWeComCallback(t)
			cb.reply = func(m weComXML) string { return "收到" }
			cb.tamper = tamper
			s, _, _ := startSim(t, weComOptions(cb.url))
			res, err := s.SendWeCom(t.Context(), WeComMessage{UserID: "li.na", Type: TypeText, Content: "x"})
			want := ErrBadReply
			if tamper == "status" {
				want = ErrWebhookStatus
			}
			if !errors.Is(err, want) || res.Error == "" {
				t.Fatalf("SendWeCom err = %v (result %+v), want %v", err, res, want)
			}
			tl := s.Timeline("li.na", 0)
			if last := tl[len(tl)-1]; last.Kind != KindNotice || last.Channel != ChannelWeCom {
				t.Errorf("last timeline entry = %+v, want a wecom notice", last)
			}
		})
	}
}

func TestSendWeComRetries(t *testing.T) {
	cb := startWeComCallback(t)
	cb.slow = 1
	opts := weComOptions(cb.url)
	opts.HTTPClient = &http.Client{Timeout: 300 * time.Millisecond}
	s, _, _ := startSim(t, opts)
	res, err := s.SendWeCom(t.Context(), WeComMessage{UserID: "wang.ming", Type: TypeText, Content: "重试"})
	if err != nil || res.Deliveries != 2 {
		t.Fatalf("SendWeCom = %+v, %v; want success on the second delivery", res, err)
	}
	got := cb.deliveries()
	if got[0].msg.MsgID != got[1].msg.MsgID || got[0].query.Get("nonce") == got[1].query.Get("nonce") && got[0].query.Get("msg_signature") == got[1].query.Get("msg_signature") {
		t.Errorf("the retry must carry the same MsgId in a freshly signed envelope")
	}
}

func TestVerifyWeComURL(t *testing.T) {
	cb := startWeComCallback(t)
	s, _, _ := startSim(t, weComOptions(cb.url))
	if err := s.VerifyWeComURL(t.Context()); err != nil {
		t.Fatalf("VerifyWeComURL: %v", err)
	}
	cb.tamper = "echo-encrypted"
	if err := s.VerifyWeComURL(t.Context()); !errors.Is(err, ErrVerify) {
		t.Errorf("echoing the encrypted echostr: err = %v, want ErrVerify", err)
	}
	// The Official Account's check does not pass a WeCom callback, and vice versa.
	wh := startWebhook(t, ModePlain)
	s2, _, _ := startSim(t, weComOptions(wh.url))
	if err := s2.VerifyWeComURL(t.Context()); !errors.Is(err, ErrVerify) {
		t.Errorf("an Official Account webhook passed WeCom's check: err = %v", err)
	}
}

func TestWeComSimJSONAPI(t *testing.T) {
	cb := startWeComCallback(t)
	cb.reply = func(m weComXML) string { return "收到：" + m.Content }
	s, base, _ := startSim(t, weComOptions(cb.url))

	var res Result
	if code := simJSON(t, http.MethodPost, base+"/sim/api/wecom/send", map[string]any{"userid": "wang.ming", "type": "text", "content": "查询我的待办"}, &res); code != http.StatusOK {
		t.Fatalf("wecom/send: HTTP %d", code)
	}
	if res.Reply == nil || res.Reply.Content != "收到：查询我的待办" {
		t.Errorf("wecom/send result = %+v", res)
	}
	var bad struct {
		Error string `json:"error"`
	}
	if code := simJSON(t, http.MethodPost, base+"/sim/api/wecom/send", map[string]any{"userid": "wang.ming", "type": "fax"}, &bad); code != http.StatusBadRequest || bad.Error == "" {
		t.Errorf("bad type: HTTP %d %+v, want 400", code, bad)
	}
	var ok struct {
		OK bool `json:"ok"`
	}
	if code := simJSON(t, http.MethodPost, base+"/sim/api/wecom/verify", nil, &ok); code != http.StatusOK || !ok.OK {
		t.Errorf("wecom/verify: HTTP %d %+v", code, ok)
	}

	// The same id on both channels: each view shows only its own.
	tok := getWeComToken(t, base)
	weComSend(t, base, tok, weComText("wang.ming", "应用消息"))
	var out struct {
		Messages []Received `json:"messages"`
	}
	simJSON(t, http.MethodGet, base+"/sim/api/messages?all=1&channel=wecom&openid=wang.ming", nil, &out)
	if len(out.Messages) != 3 || out.Messages[2].Kind != KindWeCom || out.Messages[2].Text != "应用消息" {
		t.Errorf("wecom channel = %+v, want the member's text, the reply and the application message", out.Messages)
	}
	simJSON(t, http.MethodGet, base+"/sim/api/messages?all=1&channel=wechat&openid=wang.ming", nil, &out)
	if len(out.Messages) != 0 {
		t.Errorf("wechat channel of a WeCom member = %+v, want nothing", out.Messages)
	}
	if code := simJSON(t, http.MethodGet, base+"/sim/api/messages?channel=sms&openid=x", nil, nil); code != http.StatusBadRequest {
		t.Errorf("unknown channel: HTTP %d, want 400", code)
	}
	if got, err := s.WaitReceived(t.Context(), "wang.ming", 2); err != nil || got[1].Kind != KindWeCom {
		t.Errorf("WaitReceived = %+v, %v; want the reply and the application message", got, err)
	}

	var state struct {
		WeCom struct {
			Enabled bool     `json:"enabled"`
			CorpID  string   `json:"corp_id"`
			AgentID int      `json:"agent_id"`
			Members []Preset `json:"members"`
		} `json:"wecom"`
	}
	simJSON(t, http.MethodGet, base+"/sim/api/state", nil, &state)
	if !state.WeCom.Enabled || state.WeCom.CorpID != testCorpID || state.WeCom.AgentID != testAgentID || len(state.WeCom.Members) != 3 {
		t.Errorf("state.wecom = %+v", state.WeCom)
	}

	_, off, _ := startSim(t, Options{})
	if code := simJSON(t, http.MethodPost, off+"/sim/api/wecom/send", map[string]any{"userid": "wang.ming", "type": "text", "content": "x"}, nil); code != http.StatusConflict {
		t.Errorf("wecom/send without WeCom: HTTP %d, want 409", code)
	}
}

// TestWeComSDK drives the SDK's own WeCom token handle and message client against the
// simulator: what the SDK sends, the simulator understands.
func TestWeComSDK(t *testing.T) {
	s, _, _ := startSim(t, weComOptions(""))
	useForSDK(t, s.Handler())
	cfg := &workconfig.Config{CorpID: testCorpID, CorpSecret: testCorpSecret, AgentID: "1000002"}
	wctx := &workcontext.Context{
		Config:            cfg,
		AccessTokenHandle: credential.NewWorkAccessToken(testCorpID, testCorpSecret, cfg.AgentID, credential.CacheKeyWorkPrefix, newMemCache(time.Now)),
	}
	client := workmessage.NewClient(wctx)
	res, err := client.SendText(workmessage.SendTextRequest{
		SendRequestCommon: &workmessage.SendRequestCommon{ToUser: "wang.ming|ghost", AgentID: cfg.AgentID},
		Text:              workmessage.TextField{Content: "来自 SDK"},
	})
	if err != nil {
		t.Fatalf("SDK SendText: %v", err)
	}
	if res.InvalidUser != "ghost" || res.MsgID == "" {
		t.Errorf("SDK response = %+v, want invaliduser ghost and a msgid", res)
	}
	if got := s.Received("wang.ming"); len(got) != 1 || got[0].Text != "来自 SDK" {
		t.Errorf("Received = %+v", got)
	}
	_, err = client.SendText(workmessage.SendTextRequest{
		SendRequestCommon: &workmessage.SendRequestCommon{ToUser: "wang.ming", AgentID: "7"},
		Text:              workmessage.TextField{Content: "x"},
	})
	if err == nil || !strings.Contains(err.Error(), "40056") {
		t.Errorf("SDK send with another agentid: err = %v, want errcode 40056", err)
	}
}
