package sim

import (
	"context"
	"errors"
	"net/http"
	"net/url"
	"strings"
	"testing"
	"time"

	"github.com/silenceper/wechat/v2/officialaccount/message"
)

// above2p53 is the smallest integer a float64 cannot hold exactly next to its neighbour.
const above2p53 = int64(1) << 53

func TestTokenCredentials(t *testing.T) {
	_, base, _ := startSim(t, Options{})
	tests := []struct {
		name                 string
		grant, appid, secret string
		wantCode             int
		wantToken            bool
	}{
		{"valid", "client_credential", testAppID, testSecret, 0, true},
		{"wrong grant_type", "password", testAppID, testSecret, CodeInvalidGrantType, false},
		{"wrong appid", "client_credential", "wx0000000000000000", testSecret, CodeInvalidAppID, false},
		{"wrong secret", "client_credential", testAppID, "nope", CodeInvalidAppSecret, false},
	}
	for _, tt := range tests {
		t.Run("token/"+tt.name, func(t *testing.T) {
			q := url.Values{"grant_type": {tt.grant}, "appid": {tt.appid}, "secret": {tt.secret}}
			m := apiCall(t, http.MethodGet, base+"/cgi-bin/token?"+q.Encode(), nil)
			if got := errcode(t, m); got != tt.wantCode {
				t.Errorf("errcode = %d, want %d (%v)", got, tt.wantCode, m)
			}
			if _, ok := m["access_token"]; ok != tt.wantToken {
				t.Errorf("access_token present = %v, want %v", ok, tt.wantToken)
			}
		})
		t.Run("stable_token/"+tt.name, func(t *testing.T) {
			m := apiCall(t, http.MethodPost, base+"/cgi-bin/stable_token", map[string]any{
				"grant_type": tt.grant, "appid": tt.appid, "secret": tt.secret,
			})
			if got := errcode(t, m); got != tt.wantCode {
				t.Errorf("errcode = %d, want %d (%v)", got, tt.wantCode, m)
			}
			if _, ok := m["access_token"]; ok != tt.wantToken {
				t.Errorf("access_token present = %v, want %v", ok, tt.wantToken)
			}
		})
	}
}

func TestAccessTokenValidation(t *testing.T) {
	_, base, clk := startSim(t, Options{})
	menuGet := func(tok string) int {
		t.Helper()
		target := base + "/cgi-bin/menu/get"
		if tok != "" {
			target += "?access_token=" + url.QueryEscape(tok)
		}
		return errcode(t, apiCall(t, http.MethodGet, target, nil))
	}
	tok := getToken(t, base)
	if got := menuGet(tok); got != CodeMenuNotExist {
		t.Errorf("valid token: errcode = %d, want %d (no menu yet)", got, CodeMenuNotExist)
	}
	if got := menuGet(""); got != CodeAccessTokenMissing {
		t.Errorf("missing token: errcode = %d, want %d", got, CodeAccessTokenMissing)
	}
	if got := menuGet("not-a-token"); got != CodeInvalidCredential {
		t.Errorf("unknown token: errcode = %d, want %d", got, CodeInvalidCredential)
	}

	// A new /cgi-bin/token replaces the old one, which keeps working for five minutes.
	tok2 := getToken(t, base)
	if tok2 == tok {
		t.Fatalf("second /cgi-bin/token returned the same token")
	}
	clk.Advance(4 * time.Minute)
	if got := menuGet(tok); got != CodeMenuNotExist {
		t.Errorf("replaced token within 5 min: errcode = %d, want it still valid", got)
	}
	clk.Advance(2 * time.Minute)
	if got := menuGet(tok); got != CodeInvalidCredential {
		t.Errorf("replaced token after 6 min: errcode = %d, want %d", got, CodeInvalidCredential)
	}
	if got := menuGet(tok2); got != CodeMenuNotExist {
		t.Errorf("current token: errcode = %d, want it valid", got)
	}
	clk.Advance(2 * time.Hour)
	if got := menuGet(tok2); got != CodeAccessTokenExpired {
		t.Errorf("token after 2 h: errcode = %d, want %d", got, CodeAccessTokenExpired)
	}
}

func TestStableToken(t *testing.T) {
	s, base, clk := startSim(t, Options{})
	stable := func(force bool) (string, int64) {
		t.Helper()
		m := apiCall(t, http.MethodPost, base+"/cgi-bin/stable_token", map[string]any{
			"grant_type": "client_credential", "appid": testAppID, "secret": testSecret, "force_refresh": force,
		})
		if code := errcode(t, m); code != 0 {
			t.Fatalf("stable_token: errcode %d (%v)", code, m)
		}
		tok, _ := m["access_token"].(string)
		return tok, int64Field(t, m, "expires_in")
	}
	valid := func(tok string) int {
		t.Helper()
		return errcode(t, apiCall(t, http.MethodGet, base+"/cgi-bin/menu/get?access_token="+url.QueryEscape(tok), nil))
	}

	a, exp := stable(false)
	if exp != 7200 {
		t.Errorf("first expires_in = %d, want 7200", exp)
	}
	clk.Advance(10 * time.Minute)
	b, exp := stable(false)
	if b != a {
		t.Errorf("stable_token while valid returned a new token")
	}
	if exp != 7200-600 {
		t.Errorf("expires_in after 10 min = %d, want %d", exp, 7200-600)
	}

	// Forced refresh: a new token, the old one dies at once.
	c, _ := stable(true)
	if c == a {
		t.Fatalf("force_refresh returned the same token")
	}
	if got := valid(a); got != CodeInvalidCredential {
		t.Errorf("token revoked by force_refresh: errcode = %d, want %d", got, CodeInvalidCredential)
	}
	// A second forced refresh within 30 s does not refresh.
	if d, _ := stable(true); d != c {
		t.Errorf("force_refresh within 30 s refreshed again")
	}

	// In the last five minutes a new token comes; the old one lives out its time.
	clk.Advance(7200*time.Second - 4*time.Minute)
	e, exp := stable(false)
	if e == c {
		t.Errorf("stable_token in the last 5 min returned the old token")
	}
	if exp != 7200 {
		t.Errorf("new token expires_in = %d, want 7200", exp)
	}
	if got := valid(c); got != CodeMenuNotExist {
		t.Errorf("old token in its last minutes: errcode = %d, want it valid", got)
	}
	clk.Advance(5 * time.Minute)
	if got := valid(c); got != CodeAccessTokenExpired {
		t.Errorf("old token after expiry: errcode = %d, want %d", got, CodeAccessTokenExpired)
	}

	// ExpireTokens: 42001 at once, and the next stable_token is a new one.
	s.ExpireTokens()
	if got := valid(e); got != CodeAccessTokenExpired {
		t.Errorf("after ExpireTokens: errcode = %d, want %d", got, CodeAccessTokenExpired)
	}
	f, _ := stable(false)
	if f == e {
		t.Errorf("stable_token after ExpireTokens returned the expired token")
	}
	if got := valid(f); got != CodeMenuNotExist {
		t.Errorf("fresh token after ExpireTokens: errcode = %d, want it valid", got)
	}
	if got := s.Calls("/cgi-bin/stable_token"); got != 6 {
		t.Errorf("Calls(stable_token) = %d, want 6", got)
	}
}

func TestCustomServiceWindow(t *testing.T) {
	wh := startWebhook(t, ModePlain)
	s, base, clk := startSim(t, Options{WebhookURL: wh.url})
	ctx := t.Context()
	tok := getToken(t, base)
	send := func(m Message) {
		t.Helper()
		m.OpenID = testOpenID
		if _, err := s.Send(ctx, m); err != nil {
			t.Fatalf("Send(%s %s): %v", m.Type, m.Event, err)
		}
	}

	if got := customText(t, base, tok, testOpenID, "您好"); got != CodeInvalidOpenID {
		t.Errorf("unknown openid: errcode = %d, want %d", got, CodeInvalidOpenID)
	}
	send(Message{Type: TypeText, Content: "你好"})
	if got := customText(t, base, tok, testOpenID, "您好"); got != 0 {
		t.Errorf("right after the user's message: errcode = %d, want 0", got)
	}
	clk.Advance(47 * time.Hour)
	tok = getToken(t, base) // the first one expired meanwhile
	if got := customText(t, base, tok, testOpenID, "还在吗"); got != 0 {
		t.Errorf("after 47 h: errcode = %d, want 0", got)
	}
	clk.Advance(2 * time.Hour)
	tok = getToken(t, base)
	if got := customText(t, base, tok, testOpenID, "回访"); got != CodeOutOfTimeLimit {
		t.Errorf("after 49 h: errcode = %d, want %d", got, CodeOutOfTimeLimit)
	}
	// Opening a web link from the menu does not reopen the window; a menu click does.
	send(Message{Type: TypeEvent, Event: "VIEW", EventKey: "https://example.org/guide"})
	if got := customText(t, base, tok, testOpenID, "回访"); got != CodeOutOfTimeLimit {
		t.Errorf("after a VIEW event: errcode = %d, want %d", got, CodeOutOfTimeLimit)
	}
	send(Message{Type: TypeEvent, Event: "CLICK", EventKey: "MENU_PROGRESS"})
	if got := customText(t, base, tok, testOpenID, "您的办件进度"); got != 0 {
		t.Errorf("after a CLICK event: errcode = %d, want 0", got)
	}
	send(Message{Type: TypeEvent, Event: "unsubscribe"})
	if got := customText(t, base, tok, testOpenID, "再见"); got != CodeOutOfTimeLimit {
		t.Errorf("after unsubscribe: errcode = %d, want %d", got, CodeOutOfTimeLimit)
	}
	if got := len(s.Received(testOpenID)); got != 4 {
		t.Errorf("Received = %d messages, want 4 (one passive reply, three customer-service)", got)
	}
}

func TestCustomServiceLimit(t *testing.T) {
	wh := startWebhook(t, ModePlain)
	wh.reply = func(*message.MixMessage) string { return "" }
	s, base, _ := startSim(t, Options{WebhookURL: wh.url})
	tok := getToken(t, base)
	if _, err := s.Send(t.Context(), Message{OpenID: testOpenID, Type: TypeText, Content: "1"}); err != nil {
		t.Fatalf("Send: %v", err)
	}
	for i := 1; i <= DefaultCustomerServiceLimit; i++ {
		if got := customText(t, base, tok, testOpenID, "消息"); got != 0 {
			t.Fatalf("message %d: errcode = %d, want 0", i, got)
		}
	}
	if got := customText(t, base, tok, testOpenID, "第六条"); got != CodeOutOfResponseCount {
		t.Errorf("message %d: errcode = %d, want %d", DefaultCustomerServiceLimit+1, got, CodeOutOfResponseCount)
	}
	if _, err := s.Send(t.Context(), Message{OpenID: testOpenID, Type: TypeText, Content: "2"}); err != nil {
		t.Fatalf("Send: %v", err)
	}
	if got := customText(t, base, tok, testOpenID, "又可以了"); got != 0 {
		t.Errorf("after a new user message: errcode = %d, want 0", got)
	}
}

func TestCustomMessageTypes(t *testing.T) {
	wh := startWebhook(t, ModePlain)
	wh.reply = func(*message.MixMessage) string { return "" }
	s, base, _ := startSim(t, Options{WebhookURL: wh.url, CustomerServiceLimit: 50})
	if _, err := s.Send(t.Context(), Message{OpenID: testOpenID, Type: TypeText, Content: "hi"}); err != nil {
		t.Fatalf("Send: %v", err)
	}
	tok := getToken(t, base)
	tests := []struct {
		name     string
		body     map[string]any
		wantCode int
		check    func(t *testing.T, r Received)
	}{
		{"text", map[string]any{"msgtype": "text", "text": map[string]any{"content": "您的诉求已受理"}}, 0,
			func(t *testing.T, r Received) {
				if r.Text != "您的诉求已受理" || r.Kind != KindCustom {
					t.Errorf("got %+v, want custom text", r)
				}
			}},
		{"msgmenu", map[string]any{"msgtype": "msgmenu", "msgmenu": map[string]any{
			"head_content": "您对本次服务满意吗？",
			"list":         []map[string]string{{"id": "101", "content": "满意"}, {"id": "102", "content": "不满意"}},
			"tail_content": "感谢评价",
		}}, 0, func(t *testing.T, r Received) {
			if r.Menu == nil || len(r.Menu.List) != 2 || r.Menu.List[1].ID != "102" || r.Menu.HeadContent == "" {
				t.Errorf("menu = %+v, want two choices and a head", r.Menu)
			}
		}},
		{"image", map[string]any{"msgtype": "image", "image": map[string]any{"media_id": "MEDIA1"}}, 0,
			func(t *testing.T, r Received) {
				if r.MediaID != "MEDIA1" {
					t.Errorf("media_id = %q, want MEDIA1", r.MediaID)
				}
			}},
		{"news", map[string]any{"msgtype": "news", "news": map[string]any{"articles": []map[string]string{
			{"title": "低保申请指南", "description": "所需材料", "url": "https://example.org/dibao", "picurl": "https://example.org/p.png"},
		}}}, 0, func(t *testing.T, r Received) {
			if len(r.Articles) != 1 || r.Articles[0].Title != "低保申请指南" {
				t.Errorf("articles = %+v", r.Articles)
			}
		}},
		{"unknown type", map[string]any{"msgtype": "hologram"}, CodeInvalidMessageType, nil},
		{"empty text", map[string]any{"msgtype": "text", "text": map[string]any{"content": ""}}, CodeEmptyContent, nil},
		{"msgmenu without choices", map[string]any{"msgtype": "msgmenu", "msgmenu": map[string]any{"list": []any{}}}, CodeDataFormatError, nil},
		{"news with two articles", map[string]any{"msgtype": "news", "news": map[string]any{"articles": []map[string]string{{"title": "a"}, {"title": "b"}}}}, CodeArgumentInvalid, nil},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := len(s.Received(testOpenID))
			tt.body["touser"] = testOpenID
			m := apiCall(t, http.MethodPost, base+"/cgi-bin/message/custom/send?access_token="+tok, tt.body)
			if got := errcode(t, m); got != tt.wantCode {
				t.Fatalf("errcode = %d, want %d (%v)", got, tt.wantCode, m)
			}
			got := s.Received(testOpenID)
			if tt.check == nil {
				if len(got) != before {
					t.Errorf("a refused message was recorded")
				}
				return
			}
			if len(got) != before+1 {
				t.Fatalf("Received has %d messages, want %d", len(got), before+1)
			}
			tt.check(t, got[len(got)-1])
		})
	}
	// Malformed JSON.
	resp, err := http.Post(base+"/cgi-bin/message/custom/send?access_token="+tok, "application/json", strings.NewReader("{not json"))
	if err != nil {
		t.Fatalf("post: %v", err)
	}
	resp.Body.Close()
}

func TestTemplateSend(t *testing.T) {
	wh := startWebhook(t, ModePlain)
	s, base, clk := startSim(t, Options{WebhookURL: wh.url})
	tok := getToken(t, base)
	target := base + "/cgi-bin/message/template/send?access_token=" + tok
	body := func(openid, clientMsgID string) map[string]any {
		return map[string]any{
			"touser": openid, "template_id": "TPL_PROGRESS", "url": "https://example.org/t/1",
			"client_msg_id": clientMsgID,
			"data": map[string]any{
				"first":    map[string]string{"value": "您的诉求有新进展"},
				"keyword1": map[string]string{"value": "HM20260302001"},
				"keyword2": map[string]string{"value": "已办结", "color": "#07c160"},
				"remark":   map[string]string{"value": "点击查看详情"},
			},
		}
	}
	if got := errcode(t, apiCall(t, http.MethodPost, target, body("nobody", ""))); got != CodeInvalidOpenID {
		t.Errorf("unknown openid: errcode = %d, want %d", got, CodeInvalidOpenID)
	}
	if _, err := s.Send(t.Context(), Message{OpenID: testOpenID, Type: TypeEvent, Event: "subscribe"}); err != nil {
		t.Fatalf("Send subscribe: %v", err)
	}
	noTpl := body(testOpenID, "")
	noTpl["template_id"] = ""
	if got := errcode(t, apiCall(t, http.MethodPost, target, noTpl)); got != CodeInvalidTemplateID {
		t.Errorf("empty template_id: errcode = %d, want %d", got, CodeInvalidTemplateID)
	}

	m := apiCall(t, http.MethodPost, target, body(testOpenID, "visit-1"))
	if got := errcode(t, m); got != 0 {
		t.Fatalf("send: errcode = %d (%v)", got, m)
	}
	id1 := int64Field(t, m, "msgid")
	if id1 <= above2p53 {
		t.Errorf("msgid = %d, want > 2^53", id1)
	}
	// The same client_msg_id within 10 minutes sends nothing new.
	clk.Advance(5 * time.Minute)
	if id := int64Field(t, apiCall(t, http.MethodPost, target, body(testOpenID, "visit-1")), "msgid"); id != id1 {
		t.Errorf("repeat msgid = %d, want the first %d", id, id1)
	}
	if got := len(s.Received(testOpenID)); got != 1 {
		t.Errorf("Received = %d template messages, want 1", got)
	}
	clk.Advance(6 * time.Minute)
	if id := int64Field(t, apiCall(t, http.MethodPost, target, body(testOpenID, "visit-1")), "msgid"); id == id1 {
		t.Errorf("after 11 minutes the repeat was still de-duplicated")
	}

	got := s.Received(testOpenID)[0]
	if got.Kind != KindTemplate || got.Template == nil || got.Template.MsgID != id1 {
		t.Fatalf("Received[0] = %+v, want the template with msgid %d", got, id1)
	}
	keys := []string{}
	for _, f := range got.Template.Fields {
		keys = append(keys, f.Key)
	}
	if strings.Join(keys, ",") != "first,keyword1,keyword2,remark" {
		t.Errorf("field order = %v, want as sent", keys)
	}
	if got.Template.Fields[2].Color != "#07c160" {
		t.Errorf("keyword2 color = %q", got.Template.Fields[2].Color)
	}

	// WeChat reports the delivery with TEMPLATESENDJOBFINISH, whose MsgID has a capital D.
	// Both sends push one from its own goroutine, in no fixed order: wait for id1's.
	d := wh.waitFor(func(d delivery) bool { return d.msg.Event == "TEMPLATESENDJOBFINISH" && d.msg.TemplateMsgID == id1 })
	if d.msg.TemplateMsgID != id1 || d.msg.Status != "success" || !strings.Contains(d.body, "<MsgID>") {
		t.Errorf("job finish = MsgID %d status %q, want %d success; body %s", d.msg.TemplateMsgID, d.msg.Status, id1, d.body)
	}

	if _, err := s.Send(t.Context(), Message{OpenID: testOpenID, Type: TypeEvent, Event: "unsubscribe"}); err != nil {
		t.Fatalf("Send unsubscribe: %v", err)
	}
	if got := errcode(t, apiCall(t, http.MethodPost, target, body(testOpenID, ""))); got != CodeRequireSubscribe {
		t.Errorf("unfollowed user: errcode = %d, want %d", got, CodeRequireSubscribe)
	}
}

func TestSubscribeNotice(t *testing.T) {
	wh := startWebhook(t, ModePlain)
	s, base, _ := startSim(t, Options{WebhookURL: wh.url})
	tok := getToken(t, base)
	target := base + "/cgi-bin/message/subscribe/bizsend?access_token=" + tok
	body := map[string]any{
		"touser": testOpenID, "template_id": "SUB_VISIT", "page": "https://example.org/survey",
		"data": map[string]any{"thing1": map[string]string{"value": "回访满意度调查"}, "time2": map[string]string{"value": "2026年3月3日"}},
	}
	if got := errcode(t, apiCall(t, http.MethodPost, target, body)); got != CodeInvalidOpenID {
		t.Errorf("unknown user: errcode = %d, want %d", got, CodeInvalidOpenID)
	}
	if _, err := s.Send(t.Context(), Message{OpenID: testOpenID, Type: TypeText, Content: "你好"}); err != nil {
		t.Fatalf("Send: %v", err)
	}
	if got := errcode(t, apiCall(t, http.MethodPost, target, body)); got != CodeUserRefused {
		t.Errorf("without consent: errcode = %d, want %d", got, CodeUserRefused)
	}
	if _, err := s.Send(t.Context(), Message{OpenID: testOpenID, Type: TypeEvent, Event: "subscribe_msg_popup_event",
		Subscriptions: []Subscription{{TemplateID: "SUB_VISIT", Status: "accept"}, {TemplateID: "SUB_OTHER", Status: "reject"}}}); err != nil {
		t.Fatalf("Send popup: %v", err)
	}
	popup := wh.waitFor(func(d delivery) bool { return d.msg.Event == "subscribe_msg_popup_event" })
	if evs := popup.msg.GetSubscribeMsgPopupEvents(); len(evs) == 0 || evs[len(evs)-1].TemplateID != "SUB_OTHER" {
		t.Errorf("popup event parsed by the SDK = %+v", evs)
	}
	if !strings.Contains(popup.body, "<TemplateId><![CDATA[SUB_VISIT]]></TemplateId>") {
		t.Errorf("popup body lacks the first template: %s", popup.body)
	}
	if got := errcode(t, apiCall(t, http.MethodPost, target, body)); got != 0 {
		t.Errorf("with consent: errcode = %d, want 0", got)
	}
	if got := errcode(t, apiCall(t, http.MethodPost, target, body)); got != CodeUserRefused {
		t.Errorf("second send on one consent: errcode = %d, want %d", got, CodeUserRefused)
	}
	wh.waitFor(func(d delivery) bool { return d.msg.Event == "subscribe_msg_sent_event" })
	rs := s.Received(testOpenID)
	last := rs[len(rs)-1]
	if last.Kind != KindSubscribe || last.Template == nil || last.Template.Fields[0].Value != "回访满意度调查" {
		t.Errorf("last received = %+v, want the subscribe notice", last)
	}
}

func TestMenu(t *testing.T) {
	s, base, _ := startSim(t, Options{})
	tok := getToken(t, base)
	create := func(buttons any) int {
		t.Helper()
		return errcode(t, apiCall(t, http.MethodPost, base+"/cgi-bin/menu/create?access_token="+tok, map[string]any{"button": buttons}))
	}
	click := func(name, key string) map[string]any {
		return map[string]any{"type": "click", "name": name, "key": key}
	}
	tests := []struct {
		name    string
		buttons any
		want    int
	}{
		{"four top buttons", []any{click("a", "A"), click("b", "B"), click("c", "C"), click("d", "D")}, CodeInvalidButtonSize},
		{"no buttons", []any{}, CodeInvalidButtonSize},
		{"unknown type", []any{map[string]any{"type": "teleport", "name": "x", "key": "X"}}, CodeInvalidButtonType},
		{"click without key", []any{map[string]any{"type": "click", "name": "x"}}, CodeInvalidButtonKey},
		{"six sub buttons", []any{map[string]any{"name": "更多", "sub_button": []any{click("1", "1"), click("2", "2"), click("3", "3"), click("4", "4"), click("5", "5"), click("6", "6")}}}, CodeInvalidSubButton},
		{"name too long", []any{click("这个名字实在太长了", "K")}, CodeInvalidButtonName},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := create(tt.buttons); got != tt.want {
				t.Errorf("errcode = %d, want %d", got, tt.want)
			}
		})
	}
	if got := errcode(t, apiCall(t, http.MethodGet, base+"/cgi-bin/menu/get?access_token="+tok, nil)); got != CodeMenuNotExist {
		t.Errorf("menu/get before create: errcode = %d, want %d", got, CodeMenuNotExist)
	}
	good := []any{
		click("我要咨询", "MENU_ASK"),
		map[string]any{"name": "办事服务", "sub_button": []any{
			click("进度查询", "MENU_PROGRESS"),
			map[string]any{"type": "view", "name": "办事指南", "url": "https://example.org/guide"},
		}},
	}
	if got := create(good); got != 0 {
		t.Fatalf("menu/create: errcode = %d", got)
	}
	m := apiCall(t, http.MethodGet, base+"/cgi-bin/menu/get?access_token="+tok, nil)
	menu, _ := m["menu"].(map[string]any)
	buttons, _ := menu["button"].([]any)
	if len(buttons) != 2 {
		t.Fatalf("menu/get = %v, want two buttons", m)
	}
	got := s.Menu()
	if len(got) != 2 || got[1].SubButtons[0].Key != "MENU_PROGRESS" || got[1].SubButtons[1].URL != "https://example.org/guide" {
		t.Errorf("Menu() = %+v", got)
	}
	if got := errcode(t, apiCall(t, http.MethodGet, base+"/cgi-bin/menu/delete?access_token="+tok, nil)); got != 0 {
		t.Errorf("menu/delete: errcode = %d", got)
	}
	if s.Menu() != nil {
		t.Errorf("Menu() after delete = %v, want nil", s.Menu())
	}
}

func TestQRCodeAndScan(t *testing.T) {
	wh := startWebhook(t, ModePlain)
	s, base, clk := startSim(t, Options{WebhookURL: wh.url})
	tok := getToken(t, base)
	target := base + "/cgi-bin/qrcode/create?access_token=" + tok
	m := apiCall(t, http.MethodPost, target, map[string]any{
		"expire_seconds": 3600, "action_name": "QR_SCENE", "action_info": map[string]any{"scene": map[string]any{"scene_id": 42}},
	})
	ticket, _ := m["ticket"].(string)
	if ticket == "" || int64Field(t, m, "expire_seconds") != 3600 || !strings.HasPrefix(m["url"].(string), "http://weixin.qq.com/q/") {
		t.Fatalf("qrcode/create = %v", m)
	}
	perm := apiCall(t, http.MethodPost, target, map[string]any{
		"action_name": "QR_LIMIT_STR_SCENE", "action_info": map[string]any{"scene": map[string]any{"scene_str": "window-3"}},
	})
	if _, ok := perm["expire_seconds"]; ok {
		t.Errorf("permanent code answer has expire_seconds: %v", perm)
	}
	if got := errcode(t, apiCall(t, http.MethodPost, target, map[string]any{"action_name": "QR_MAGIC"})); got != CodeInvalidArgs {
		t.Errorf("bad action_name: errcode = %d, want %d", got, CodeInvalidArgs)
	}
	if got := len(s.QRCodes()); got != 2 {
		t.Errorf("QRCodes() = %d, want 2", got)
	}

	ctx := t.Context()
	// A new user scanning follows: subscribe with qrscene_42.
	if _, err := s.Send(ctx, Message{OpenID: "citizen-new", Type: TypeScan, Ticket: ticket}); err != nil {
		t.Fatalf("scan: %v", err)
	}
	d := wh.waitFor(func(d delivery) bool { return d.msg.Event == "subscribe" })
	if d.msg.EventKey != "qrscene_42" || d.msg.Ticket != ticket {
		t.Errorf("first scan = EventKey %q Ticket %q, want qrscene_42 and the ticket", d.msg.EventKey, d.msg.Ticket)
	}
	info := apiCall(t, http.MethodGet, base+"/cgi-bin/user/info?access_token="+tok+"&openid=citizen-new&lang=zh_CN", nil)
	if info["subscribe_scene"] != "ADD_SCENE_QR_CODE" || int64Field(t, info, "qr_scene") != 42 || int64Field(t, info, "subscribe") != 1 {
		t.Errorf("user/info after QR follow = %v", info)
	}
	// Scanning again as a follower: SCAN with the bare scene.
	if _, err := s.Send(ctx, Message{OpenID: "citizen-new", Type: TypeScan, EventKey: "window-3"}); err != nil {
		t.Fatalf("scan by scene: %v", err)
	}
	d = wh.waitFor(func(d delivery) bool { return d.msg.Event == "SCAN" })
	if d.msg.EventKey != "window-3" {
		t.Errorf("SCAN EventKey = %q, want window-3", d.msg.EventKey)
	}
	clk.Advance(2 * time.Hour)
	if _, err := s.Send(ctx, Message{OpenID: "citizen-new", Type: TypeScan, Ticket: ticket}); !errors.Is(err, ErrUnknownTicket) {
		t.Errorf("expired ticket: err = %v, want ErrUnknownTicket", err)
	}
}

func TestUserInfo(t *testing.T) {
	wh := startWebhook(t, ModePlain)
	s, base, _ := startSim(t, Options{WebhookURL: wh.url})
	tok := getToken(t, base)
	info := func(openid string) map[string]any {
		return apiCall(t, http.MethodGet, base+"/cgi-bin/user/info?access_token="+tok+"&openid="+openid+"&lang=zh_CN", nil)
	}
	if got := errcode(t, info("nobody")); got != CodeInvalidOpenID {
		t.Errorf("unknown openid: errcode = %d, want %d", got, CodeInvalidOpenID)
	}
	if _, err := s.Send(t.Context(), Message{OpenID: testOpenID, Type: TypeEvent, Event: "subscribe"}); err != nil {
		t.Fatalf("Send: %v", err)
	}
	m := info(testOpenID)
	if int64Field(t, m, "subscribe") != 1 || m["openid"] != testOpenID || m["subscribe_scene"] != "ADD_SCENE_SEARCH" {
		t.Errorf("user/info = %v", m)
	}
	if _, ok := m["nickname"]; ok {
		t.Errorf("user/info returns nickname; WeChat stopped in 2021")
	}
	if _, err := s.Send(t.Context(), Message{OpenID: testOpenID, Type: TypeEvent, Event: "unsubscribe"}); err != nil {
		t.Fatalf("Send: %v", err)
	}
	if m := info(testOpenID); int64Field(t, m, "subscribe") != 0 || len(m) != 2 {
		t.Errorf("user/info of an unfollowed user = %v, want only subscribe and openid", m)
	}
	list := apiCall(t, http.MethodGet, base+"/cgi-bin/user/get?access_token="+tok, nil)
	if int64Field(t, list, "total") != 0 {
		t.Errorf("user/get = %v, want no followers", list)
	}
}

func TestFaults(t *testing.T) {
	wh := startWebhook(t, ModePlain)
	s, base, _ := startSim(t, Options{WebhookURL: wh.url})
	tok := getToken(t, base)
	status := func(ctx context.Context, path string) (int, error) {
		req, _ := http.NewRequestWithContext(ctx, http.MethodGet, base+path+"?access_token="+tok, nil)
		resp, err := http.DefaultClient.Do(req)
		if err != nil {
			return 0, err
		}
		resp.Body.Close()
		return resp.StatusCode, nil
	}

	t.Run("http 500 on one path", func(t *testing.T) {
		if err := s.SetFault(Fault{Kind: FaultHTTP500, Path: "/cgi-bin/menu/get"}); err != nil {
			t.Fatal(err)
		}
		if code, _ := status(t.Context(), "/cgi-bin/menu/get"); code != http.StatusInternalServerError {
			t.Errorf("menu/get = HTTP %d, want 500", code)
		}
		if code, _ := status(t.Context(), "/cgi-bin/user/get"); code != http.StatusOK {
			t.Errorf("user/get = HTTP %d, want 200", code)
		}
		if err := s.SetFault(Fault{Kind: FaultHTTP500, Path: "/cgi-bin/menu/get", Off: true}); err != nil {
			t.Fatal(err)
		}
		if code, _ := status(t.Context(), "/cgi-bin/menu/get"); code != http.StatusOK {
			t.Errorf("menu/get after Off = HTTP %d, want 200", code)
		}
	})
	t.Run("http 500 everywhere", func(t *testing.T) {
		if err := s.SetFault(Fault{Kind: FaultHTTP500}); err != nil {
			t.Fatal(err)
		}
		defer s.ClearFaults()
		for _, p := range []string{"/cgi-bin/token", "/cgi-bin/user/get"} {
			if code, _ := status(t.Context(), p); code != http.StatusInternalServerError {
				t.Errorf("%s = HTTP %d, want 500", p, code)
			}
		}
	})
	t.Run("errcode", func(t *testing.T) {
		if err := s.SetFault(Fault{Kind: FaultErrCode, Path: "/cgi-bin/user/get", ErrCode: CodeSystemBusy}); err != nil {
			t.Fatal(err)
		}
		defer s.ClearFaults()
		if got := errcode(t, apiCall(t, http.MethodGet, base+"/cgi-bin/user/get?access_token="+tok, nil)); got != CodeSystemBusy {
			t.Errorf("errcode = %d, want -1", got)
		}
	})
	t.Run("delay honours the caller's deadline", func(t *testing.T) {
		if err := s.SetFault(Fault{Kind: FaultDelay, DelayMS: 60_000}); err != nil {
			t.Fatal(err)
		}
		defer s.ClearFaults()
		ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
		defer cancel()
		start := time.Now()
		if _, err := status(ctx, "/cgi-bin/user/get"); !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("err = %v, want the caller's deadline", err)
		}
		if d := time.Since(start); d > 5*time.Second {
			t.Errorf("slow call took %v", d)
		}
	})
	t.Run("delay then answer", func(t *testing.T) {
		if err := s.SetFault(Fault{Kind: FaultDelay, Path: "/cgi-bin/user/get", DelayMS: 150}); err != nil {
			t.Fatal(err)
		}
		defer s.ClearFaults()
		start := time.Now()
		if code, err := status(t.Context(), "/cgi-bin/user/get"); err != nil || code != http.StatusOK {
			t.Errorf("status = %d, %v", code, err)
		}
		if d := time.Since(start); d < 150*time.Millisecond {
			t.Errorf("answer came after %v, want at least 150ms", d)
		}
	})
	t.Run("out of window", func(t *testing.T) {
		if _, err := s.Send(t.Context(), Message{OpenID: testOpenID, Type: TypeText, Content: "在吗"}); err != nil {
			t.Fatal(err)
		}
		if err := s.SetFault(Fault{Kind: FaultOutOfWindow, OpenID: testOpenID}); err != nil {
			t.Fatal(err)
		}
		if got := customText(t, base, tok, testOpenID, "hi"); got != CodeOutOfTimeLimit {
			t.Errorf("forced: errcode = %d, want %d", got, CodeOutOfTimeLimit)
		}
		if got := s.Faults(); len(got) != 1 || got[0].OpenID != testOpenID {
			t.Errorf("Faults() = %+v", got)
		}
		s.ClearFaults()
		if got := customText(t, base, tok, testOpenID, "hi"); got != 0 {
			t.Errorf("cleared: errcode = %d, want 0", got)
		}
	})
	t.Run("expire tokens", func(t *testing.T) {
		if err := s.SetFault(Fault{Kind: FaultExpireTokens}); err != nil {
			t.Fatal(err)
		}
		if got := customText(t, base, tok, testOpenID, "hi"); got != CodeAccessTokenExpired {
			t.Errorf("errcode = %d, want %d", got, CodeAccessTokenExpired)
		}
		tok = getToken(t, base)
	})
	t.Run("invalid", func(t *testing.T) {
		for _, f := range []Fault{
			{Kind: "meteor"},
			{Kind: FaultOutOfWindow},
			{Kind: FaultDelay},
			{Kind: FaultErrCode},
			{Kind: FaultHTTP500, Path: "/sim/api/send"},
		} {
			if err := s.SetFault(f); err == nil {
				t.Errorf("SetFault(%+v) = nil, want an error", f)
			}
		}
	})
	if got := s.Calls("/cgi-bin/user/get"); got < 5 {
		t.Errorf("Calls(user/get) = %d, want at least 5", got)
	}
	if got := s.Calls("/cgi-bin/nothing-here"); got != 0 {
		t.Errorf("Calls(unused path) = %d, want 0", got)
	}
	if got := errcode(t, apiCall(t, http.MethodGet, base+"/cgi-bin/shorturl?access_token="+tok, nil)); got != CodeAPIUnauthorized {
		t.Errorf("unsimulated api: errcode = %d, want %d", got, CodeAPIUnauthorized)
	}
}
