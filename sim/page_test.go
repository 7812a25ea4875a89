package sim

import (
	"context"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"huimin/web/webtest"

	"github.com/chromedp/chromedp"
	"github.com/silenceper/wechat/v2/officialaccount/message"
)

// TestChatPage drives the chat page in headless Chromium: pick a user, type, send, see the
// passive reply; then see a customer-service msgmenu and a template card the service sends
// later, tap a choice, and click the account menu.
func TestChatPage(t *testing.T) {
	exe := webtest.ChromiumPath(t)
	wh := startWebhook(t, ModeSafe)
	wh.reply = func(m *message.MixMessage) string {
		if m.MsgType == message.MsgTypeText {
			return "收到：" + m.Content
		}
		return ""
	}
	s, base, _ := startSim(t, Options{WebhookURL: wh.url, AESKey: testAESKey})
	tok := getToken(t, base)
	if code := errcode(t, apiCall(t, http.MethodPost, base+"/cgi-bin/menu/create?access_token="+tok, map[string]any{"button": []any{
		map[string]any{"type": "click", "name": "我要咨询", "key": "MENU_ASK"},
		map[string]any{"name": "办事服务", "sub_button": []any{
			map[string]any{"type": "click", "name": "进度查询", "key": "MENU_PROGRESS"},
			map[string]any{"type": "view", "name": "办事指南", "url": "https://example.org/guide"},
		}},
		map[string]any{"type": "click", "name": "评价", "key": "MENU_RATE"},
	}})); code != 0 {
		t.Fatalf("menu/create: errcode %d", code)
	}

	const openid = "citizen-042"
	var errs webtest.PageErrors
	defer errs.Check(t)
	tab := webtest.NewBrowser(t, exe, &errs, 390, 844)
	// The first Run starts the browser and must not carry a timeout (it would stop the
	// browser); later steps run under one.
	if err := chromedp.Do(tab, chromedp.Navigate(base+"/")); err != nil {
		t.Fatalf("open the page: %v", err)
	}
	ctx, cancel := context.WithTimeout(tab, 90*time.Second)
	defer cancel()
	text := func(sel string) string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("read %s: %v", sel, err)
		}
		return v
	}

	err := chromedp.Do(ctx,
		chromedp.WaitVisible(chromedp.CSS("#msg-input")),
		chromedp.WaitVisible(chromedp.CSS("#menu-bar .menu-item")),
		chromedp.SendKeys(chromedp.CSS("#openid-input"), openid),
		chromedp.Click(chromedp.CSS("#openid-apply")),
		chromedp.SendKeys(chromedp.CSS("#msg-input"), "我想咨询低保申请需要什么材料"),
		chromedp.Click(chromedp.CSS("#send-btn")),
		chromedp.WaitVisible(chromedp.CSS(`.entry[data-kind="reply"] .bubble`)),
	)
	if err != nil {
		t.Fatalf("send from the page: %v", err)
	}
	userText, replyText := text(`.entry[data-kind="user"] .bubble`), text(`.entry[data-kind="reply"] .bubble`)
	if userText != "我想咨询低保申请需要什么材料" || replyText != "收到：我想咨询低保申请需要什么材料" {
		t.Errorf("page shows user %q and reply %q", userText, replyText)
	}
	if badge := text("#mode-badge"); badge != "安全模式" {
		t.Errorf("mode badge = %q, want 安全模式", badge)
	}

	// Later the service writes through the API: a msgmenu survey and a template card.
	if code := errcode(t, apiCall(t, http.MethodPost, base+"/cgi-bin/message/custom/send?access_token="+tok, map[string]any{
		"touser": openid, "msgtype": "msgmenu", "msgmenu": map[string]any{
			"head_content": "您对本次服务满意吗？",
			"list":         []map[string]string{{"id": "101", "content": "满意"}, {"id": "102", "content": "基本满意"}, {"id": "103", "content": "不满意"}},
			"tail_content": "感谢您的评价",
		},
	})); code != 0 {
		t.Fatalf("custom send: errcode %d", code)
	}
	if code := errcode(t, apiCall(t, http.MethodPost, base+"/cgi-bin/message/template/send?access_token="+tok, map[string]any{
		"touser": openid, "template_id": "TPL_PROGRESS", "url": "https://example.org/t/1",
		"data": map[string]any{
			"first":    map[string]string{"value": "您的诉求已受理"},
			"keyword1": map[string]string{"value": "HM20260302001"},
			"keyword2": map[string]string{"value": "临时救助"},
			"remark":   map[string]string{"value": "承办窗口将在3个工作日内联系您"},
		},
	})); code != 0 {
		t.Fatalf("template send: errcode %d", code)
	}
	err = chromedp.Do(ctx,
		chromedp.WaitVisible(chromedp.CSS(`.entry[data-kind="custom"] .choice[data-id="102"]`)),
		chromedp.WaitVisible(chromedp.CSS(`.entry[data-kind="template"] .card`)),
	)
	if err != nil {
		t.Fatalf("api messages on the page: %v", err)
	}
	cardText := text(`.entry[data-kind="template"] .card`)
	for _, want := range []string{"模板消息", "您的诉求已受理", "HM20260302001", "承办窗口将在3个工作日内联系您"} {
		if !strings.Contains(cardText, want) {
			t.Errorf("template card %q lacks %q", cardText, want)
		}
	}
	if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS(`.entry[data-kind="custom"] .choice[data-id="102"]`))); err != nil {
		t.Fatalf("tap a choice: %v", err)
	}
	tap := wh.waitFor(func(d delivery) bool { return d.msg.BizMsgMenuID == 102 })
	if tap.msg.Content != "基本满意" || tap.msg.MsgType != message.MsgTypeText {
		t.Errorf("tapping a choice sent %s %q, want text 基本满意 with bizmsgmenuid", tap.msg.MsgType, tap.msg.Content)
	}

	// A text with menu links (how Huimin sends every menu): each numbered
	// line is tappable and sends its number, as WeChat does.
	if code := errcode(t, apiCall(t, http.MethodPost, base+"/cgi-bin/message/custom/send?access_token="+tok, map[string]any{
		"touser": openid, "msgtype": "text",
		"text": map[string]string{"content": "请回复数字：\n" +
			`<a href="weixin://bizmsgmenu?msgmenucontent=1&msgmenuid=1">1. 低保、特困、临时救助</a>` + "\n" +
			`<a href="weixin://bizmsgmenu?msgmenucontent=2&msgmenuid=2">2. 优抚安置</a>`},
	})); code != 0 {
		t.Fatalf("custom send: errcode %d", code)
	}
	err = chromedp.Do(ctx,
		chromedp.WaitVisible(chromedp.CSS(`.entry[data-kind="custom"] .choice.inline[data-id="2"]`)),
		chromedp.Click(chromedp.CSS(`.entry[data-kind="custom"] .choice.inline[data-id="2"]`)),
	)
	if err != nil {
		t.Fatalf("tap a menu line: %v", err)
	}
	line := wh.waitFor(func(d delivery) bool { return d.msg.BizMsgMenuID == 2 })
	if line.msg.Content != "2" || line.msg.MsgType != message.MsgTypeText {
		t.Errorf("tapping menu line 2 sent %s %q, want the text 2", line.msg.MsgType, line.msg.Content)
	}

	// The account menu: open a sub-menu and click an item.
	err = chromedp.Do(ctx,
		chromedp.WaitVisible(`//div[contains(@class,"bubble") and text()="收到：2"]`),
		chromedp.Click(chromedp.CSS(`#menu-bar .menu-item:nth-child(2) > button`)),
		chromedp.WaitVisible(chromedp.CSS(`.submenu button[data-key="MENU_PROGRESS"]`)),
		chromedp.Click(chromedp.CSS(`.submenu button[data-key="MENU_PROGRESS"]`)),
	)
	if err != nil {
		t.Fatalf("menu on the page: %v", err)
	}
	click := wh.waitFor(func(d delivery) bool { return d.msg.Event == "CLICK" })
	if click.msg.EventKey != "MENU_PROGRESS" {
		t.Errorf("menu click EventKey = %q, want MENU_PROGRESS", click.msg.EventKey)
	}
	if err := chromedp.Do(ctx, chromedp.WaitVisible(`//div[contains(@class,"sys")]/span[contains(., "进度查询")]`)); err != nil {
		t.Errorf("menu click not shown: %v", err)
	}
	if got := len(s.Received(openid)); got != 6 {
		t.Errorf("Received = %d, want 6 (three replies, msgmenu, template, menu text)", got)
	}

	dir := t.ArtifactDir()
	for _, shot := range []struct {
		name  string
		w, h  int64
		tools bool // open the ＋ panel first
	}{{"chat-phone.png", 390, 844, false}, {"chat-desktop.png", 1280, 900, false}, {"chat-phone-tools.png", 390, 844, true}} {
		if err := chromedp.Do(ctx, chromedp.EmulateViewport(shot.w, shot.h)); err != nil {
			t.Fatalf("resize: %v", err)
		}
		if shot.tools {
			if err := chromedp.Do(ctx, chromedp.Click(chromedp.CSS("#tools-toggle")), chromedp.WaitVisible(chromedp.CSS("#act-subscribe"))); err != nil {
				t.Fatalf("open the tools: %v", err)
			}
		}
		png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
		if err != nil {
			t.Fatalf("screenshot: %v", err)
		}
		path := filepath.Join(dir, shot.name)
		if err := os.WriteFile(path, png, 0o644); err != nil {
			t.Fatalf("write screenshot: %v", err)
		}
		t.Logf("screenshot: %s", path)
	}
}

// TestChatPageWeCom drives the page's WeCom mode in headless Chromium: switch to the
// officers' tab, pick a member, send a command through the encrypted callback and see the
// passive reply; see a textcard, a markdown and a text the service sends through the API;
// enter the application; and switch back to the citizen's view, which shows none of it.
func TestChatPageWeCom(t *testing.T) {
	exe := webtest.ChromiumPath(t)
	wh := startWebhook(t, ModePlain)
	cb := startWeComCallback(t)
	cb.reply = func(m weComXML) string {
		if m.MsgType == "text" {
			return "收到：" + m.Content
		}
		return ""
	}
	opts := weComOptions(cb.url)
	opts.WebhookURL = wh.url
	s, base, _ := startSim(t, opts)
	const userid = "wang.ming"

	var errs webtest.PageErrors
	defer errs.Check(t)
	tab := webtest.NewBrowser(t, exe, &errs, 390, 844)
	if err := chromedp.Do(tab, chromedp.Navigate(base+"/")); err != nil {
		t.Fatalf("open the page: %v", err)
	}
	ctx, cancel := context.WithTimeout(tab, 90*time.Second)
	defer cancel()
	text := func(sel string) string {
		t.Helper()
		v, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS(sel)))
		if err != nil {
			t.Fatalf("read %s: %v", sel, err)
		}
		return v
	}

	err := chromedp.Do(ctx,
		chromedp.WaitVisible(chromedp.CSS("#tab-wecom")),
		chromedp.Click(chromedp.CSS("#tab-wecom")),
		chromedp.WaitVisible(chromedp.CSS("#wecom-select")),
		chromedp.WaitNotVisible(chromedp.CSS("#openid-select")),
		chromedp.SetValue(chromedp.CSS("#wecom-select"), userid),
	)
	if err != nil {
		t.Fatalf("open the WeCom tab: %v", err)
	}
	if _, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelector('#wecom-select').dispatchEvent(new Event('change'))`)); err != nil {
		t.Fatalf("pick %s: %v", userid, err)
	}
	err = chromedp.Do(ctx,
		chromedp.SendKeys(chromedp.CSS("#msg-input"), "我的待办"),
		chromedp.Click(chromedp.CSS("#send-btn")),
		chromedp.WaitVisible(chromedp.CSS(`.entry[data-kind="reply"] .bubble`)),
	)
	if err != nil {
		t.Fatalf("send from the WeCom tab: %v", err)
	}
	if got := text(`.entry[data-kind="reply"] .bubble`); got != "收到：我的待办" {
		t.Errorf("passive reply on the page = %q, want 收到：我的待办", got)
	}
	if got := cb.waitFor(func(d weComDelivery) bool { return d.msg.MsgType == "text" }); got.msg.FromUserName != userid || got.msg.Content != "我的待办" {
		t.Errorf("callback got %+v, want text 我的待办 from %s", got.msg, userid)
	}
	if badge := text("#wecom-badge"); badge != "企业微信 · 加密" {
		t.Errorf("badge = %q", badge)
	}

	// The service answers through the API: a textcard, a markdown and a text.
	tok := getWeComToken(t, base)
	for _, body := range []map[string]any{
		{"touser": userid, "msgtype": "textcard", "agentid": testAgentID, "textcard": map[string]string{
			"title": "新工单待接收", "description": `<div class="gray">2026年3月2日</div><div class="highlight">临时救助 · 限3个工作日</div>诉求：咨询申请材料`,
			"url": "https://mz.example/t/HM20260302001", "btntxt": "接单",
		}},
		{"touser": userid, "msgtype": "markdown", "agentid": testAgentID, "markdown": map[string]string{"content": "**今日待办** 3 件"}},
		weComText(userid, "提醒：HM20260302001 明天到期"),
	} {
		if code := errcode(t, weComSend(t, base, tok, body)); code != 0 {
			t.Fatalf("message/send %s: errcode %d", body["msgtype"], code)
		}
	}
	err = chromedp.Do(ctx,
		chromedp.WaitVisible(chromedp.CSS(`.entry[data-kind="wecom"][data-msg-type="textcard"] .card`)),
		chromedp.WaitVisible(chromedp.CSS(`.entry[data-kind="wecom"][data-msg-type="markdown"] .bubble`)),
		chromedp.WaitVisible(chromedp.CSS(`.entry[data-kind="wecom"][data-msg-type="text"] .bubble`)),
	)
	if err != nil {
		t.Fatalf("application messages on the page: %v", err)
	}
	card := text(`.entry[data-kind="wecom"][data-msg-type="textcard"] .card`)
	for _, want := range []string{"新工单待接收", "2026年3月2日", "临时救助 · 限3个工作日", "诉求：咨询申请材料", "接单"} {
		if !strings.Contains(card, want) {
			t.Errorf("textcard %q lacks %q", card, want)
		}
	}
	if strings.Contains(card, "<div") {
		t.Errorf("textcard shows raw HTML: %q", card)
	}
	if got := text(`.entry[data-kind="wecom"][data-msg-type="textcard"] .tc-highlight`); got != "临时救助 · 限3个工作日" {
		t.Errorf("highlight line = %q", got)
	}
	if got := text(`.entry[data-kind="wecom"][data-msg-type="markdown"] .bubble`); got != "**今日待办** 3 件" {
		t.Errorf("markdown = %q, want its text", got)
	}

	// Enter the application from the ＋ panel.
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS("#tools-toggle")),
		chromedp.WaitVisible(chromedp.CSS("#act-enter")),
		chromedp.WaitNotVisible(chromedp.CSS("#act-subscribe")),
		chromedp.Click(chromedp.CSS("#act-enter")),
		chromedp.WaitVisible(`//div[contains(@class,"sys")]/span[contains(., "你进入了应用")]`),
	)
	if err != nil {
		t.Fatalf("enter the application: %v", err)
	}
	if got := cb.waitFor(func(d weComDelivery) bool { return d.msg.Event == "enter_agent" }); got.msg.FromUserName != userid {
		t.Errorf("enter_agent from %q, want %s", got.msg.FromUserName, userid)
	}

	dir := t.ArtifactDir()
	png, err := chromedp.Run(ctx, chromedp.CaptureScreenshot())
	if err != nil {
		t.Fatalf("screenshot: %v", err)
	}
	path := filepath.Join(dir, "chat-wecom-phone.png")
	if err := os.WriteFile(path, png, 0o644); err != nil {
		t.Fatalf("write screenshot: %v", err)
	}
	t.Logf("screenshot: %s", path)

	// Back to the citizen's view: the same id shows none of the WeCom conversation.
	err = chromedp.Do(ctx,
		chromedp.Click(chromedp.CSS("#tab-wechat")),
		chromedp.WaitVisible(chromedp.CSS("#openid-select")),
		chromedp.WaitNotVisible(chromedp.CSS("#wecom-select")),
		chromedp.SendKeys(chromedp.CSS("#openid-input"), userid),
		chromedp.Click(chromedp.CSS("#openid-apply")),
		chromedp.WaitVisible(chromedp.CSS("#chat-empty")),
	)
	if err != nil {
		t.Fatalf("back to the citizen tab: %v", err)
	}
	if n, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.querySelectorAll('.entry').length`)); err != nil || n != 0 {
		t.Errorf("citizen view of %s shows %v entries (%v), want none", userid, n, err)
	}
	if got := len(s.Received(userid)); got != 4 {
		t.Errorf("Received(%s) = %d, want 4 (reply, textcard, markdown, text)", userid, got)
	}
}
