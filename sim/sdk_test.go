package sim

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/silenceper/wechat/v2/officialaccount"
	"github.com/silenceper/wechat/v2/officialaccount/basic"
	offConfig "github.com/silenceper/wechat/v2/officialaccount/config"
	"github.com/silenceper/wechat/v2/officialaccount/menu"
	"github.com/silenceper/wechat/v2/officialaccount/message"
	"github.com/silenceper/wechat/v2/util"
)

// memCache is a race-free cache.Cache for the SDK (its own NewMemory races), expiring entries
// on the simulator's clock so advancing the clock ages cached tokens too.
type memCache struct {
	mu  sync.Mutex
	now func() time.Time
	m   map[string]memEntry
}

// memEntry is one cached value.
type memEntry struct {
	val     any
	expires time.Time
}

// newMemCache returns an empty memCache on clock now.
func newMemCache(now func() time.Time) *memCache {
	return &memCache{now: now, m: make(map[string]memEntry)}
}

// Get returns the value under key, or nil.
func (c *memCache) Get(key string) any {
	c.mu.Lock()
	defer c.mu.Unlock()
	e, ok := c.m[key]
	if !ok || !c.now().Before(e.expires) {
		return nil
	}
	return e.val
}

// Set stores val under key for timeout.
func (c *memCache) Set(key string, val any, timeout time.Duration) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.m[key] = memEntry{val: val, expires: c.now().Add(timeout)}
	return nil
}

// IsExist reports whether key holds a live value.
func (c *memCache) IsExist(key string) bool { return c.Get(key) != nil }

// Delete removes key.
func (c *memCache) Delete(key string) error {
	c.mu.Lock()
	defer c.mu.Unlock()
	delete(c.m, key)
	return nil
}

// stableTokenKey is where the SDK caches the stable access token.
const stableTokenKey = "gowechat_officialaccount__stable_access_token_" + testAppID

// TestSDKAgainstSimulator drives silenceper/wechat's own API clients against the simulator:
// what the SDK sends, the simulator understands, and what the simulator answers, the SDK reads.
func TestSDKAgainstSimulator(t *testing.T) {
	wh := startWebhook(t, ModePlain)
	s, _, clk := startSim(t, Options{WebhookURL: wh.url})
	useForSDK(t, s.Handler())
	shared := newMemCache(clk.Now)
	newOA := func() *officialaccount.OfficialAccount {
		return officialaccount.NewOfficialAccount(&offConfig.Config{
			AppID: testAppID, AppSecret: testSecret, Token: testToken, Cache: shared, UseStableAK: true,
		})
	}
	// Two service instances sharing one cache, as two replicas share Redis.
	oa1, oa2 := newOA(), newOA()
	cs1, cs2 := oa1.GetCustomerMessageManager(), oa2.GetCustomerMessageManager()
	tpl := oa1.GetTemplate()
	sub := oa1.GetSubscribe()

	if _, err := s.Send(t.Context(), Message{OpenID: testOpenID, Type: TypeText, Content: "我要咨询"}); err != nil {
		t.Fatalf("Send: %v", err)
	}

	t.Run("customer-service text and msgmenu", func(t *testing.T) {
		if err := cs1.Send(message.NewCustomerTextMessage(testOpenID, "您好，您的诉求已受理")); err != nil {
			t.Fatalf("text: %v", err)
		}
		err := cs2.Send(&message.CustomerMessage{ToUser: testOpenID, Msgtype: "msgmenu", Msgmenu: &message.MediaMsgmenu{
			HeadContent: "请评价本次服务", TailContent: "谢谢",
			List: []message.MsgmenuItem{{ID: "1", Content: "非常满意"}, {ID: "5", Content: "非常不满意"}},
		}})
		if err != nil {
			t.Fatalf("msgmenu: %v", err)
		}
		got := s.Received(testOpenID)
		if len(got) != 3 || got[1].Text != "您好，您的诉求已受理" || got[2].Menu == nil || got[2].Menu.List[1].Content != "非常不满意" {
			t.Errorf("Received = %+v", got)
		}
		if n := s.Calls("/cgi-bin/stable_token"); n != 1 {
			t.Errorf("two instances fetched the stable token %d times, want 1", n)
		}
	})

	t.Run("template message with client_msg_id", func(t *testing.T) {
		msg := &message.TemplateMessage{
			ToUser: testOpenID, TemplateID: "TPL_DONE", URL: "https://example.org/t/HM1", ClientMsgID: "done-HM1",
			Data: map[string]*message.TemplateDataItem{
				"first":    {Value: "您的诉求已办结"},
				"keyword1": {Value: "HM20260302001"},
			},
		}
		id, err := tpl.Send(msg)
		if err != nil {
			t.Fatalf("template: %v", err)
		}
		if id <= above2p53 {
			t.Errorf("msgID = %d, want > 2^53", id)
		}
		again, err := tpl.Send(msg)
		if err != nil || again != id {
			t.Errorf("repeat = %d, %v; want %d", again, err, id)
		}
		wh.waitFor(func(d delivery) bool { return d.msg.Event == "TEMPLATESENDJOBFINISH" && d.msg.TemplateMsgID == id })
	})

	t.Run("subscribe notice needs consent", func(t *testing.T) {
		notice := &message.SubscribeMessage{ToUser: testOpenID, TemplateID: "SUB_VISIT",
			Data: map[string]*message.SubscribeDataItem{"thing1": {Value: "满意度回访"}}}
		err := sub.Send(notice)
		var ce *util.CommonError
		if !errors.As(err, &ce) || ce.ErrCode != CodeUserRefused {
			t.Fatalf("without consent: err = %v, want errcode %d", err, CodeUserRefused)
		}
		if _, err := s.Send(t.Context(), Message{OpenID: testOpenID, Type: TypeEvent, Event: "subscribe_msg_popup_event",
			Subscriptions: []Subscription{{TemplateID: "SUB_VISIT", Status: "accept"}}}); err != nil {
			t.Fatalf("popup: %v", err)
		}
		if err := sub.Send(notice); err != nil {
			t.Errorf("with consent: %v", err)
		}
	})

	t.Run("menu, user info and QR code", func(t *testing.T) {
		m := oa1.GetMenu()
		buttons := []*menu.Button{
			new(menu.Button).SetClickButton("我要咨询", "MENU_ASK"),
			new(menu.Button).SetSubButton("办事", []*menu.Button{
				new(menu.Button).SetClickButton("进度查询", "MENU_PROGRESS"),
				new(menu.Button).SetViewButton("办事指南", "https://example.org/guide"),
			}),
		}
		if err := m.SetMenu(buttons); err != nil {
			t.Fatalf("SetMenu: %v", err)
		}
		res, err := m.GetMenu()
		if err != nil || len(res.Menu.Button) != 2 || res.Menu.Button[1].SubButtons[0].Key != "MENU_PROGRESS" {
			t.Errorf("GetMenu = %+v, %v", res.Menu, err)
		}
		info, err := oa1.GetUser().GetUserInfo(testOpenID)
		if err != nil || info.Subscribe != 1 || info.OpenID != testOpenID {
			t.Errorf("GetUserInfo = %+v, %v", info, err)
		}
		if _, err := oa1.GetUser().GetUserInfo("nobody"); err == nil || !strings.Contains(err.Error(), "40003") {
			t.Errorf("GetUserInfo(unknown) err = %v, want errcode 40003", err)
		}
		ticket, err := oa1.GetBasic().GetQRTicket(basic.NewTmpQrRequest(time.Hour, 7))
		if err != nil || ticket.Ticket == "" || ticket.ExpireSeconds != 3600 {
			t.Fatalf("GetQRTicket = %+v, %v", ticket, err)
		}
		if _, err := s.Send(t.Context(), Message{OpenID: testOpenID, Type: TypeScan, Ticket: ticket.Ticket}); err != nil {
			t.Fatalf("scan: %v", err)
		}
		d := wh.waitFor(func(d delivery) bool { return d.msg.Event == "SCAN" })
		if d.msg.EventKey != "7" {
			t.Errorf("SCAN EventKey = %q, want 7", d.msg.EventKey)
		}
	})

	t.Run("expired token, then refetch", func(t *testing.T) {
		s.ExpireTokens()
		err := cs1.Send(message.NewCustomerTextMessage(testOpenID, "过期了吗"))
		if err == nil || !strings.Contains(err.Error(), "errcode=42001") {
			t.Fatalf("err = %v, want errcode 42001", err)
		}
		// The SDK does not refresh on 42001: the service deletes the cached token and retries.
		if err := shared.Delete(stableTokenKey); err != nil {
			t.Fatal(err)
		}
		if err := cs1.Send(message.NewCustomerTextMessage(testOpenID, "重新获取后成功")); err != nil {
			t.Errorf("after refetch: %v", err)
		}
	})

	t.Run("HTTP 500", func(t *testing.T) {
		if err := s.SetFault(Fault{Kind: FaultHTTP500, Path: "/cgi-bin/message/custom/send"}); err != nil {
			t.Fatal(err)
		}
		defer s.ClearFaults()
		if err := cs1.Send(message.NewCustomerTextMessage(testOpenID, "500")); err == nil || !strings.Contains(err.Error(), "500") {
			t.Errorf("err = %v, want the HTTP 500", err)
		}
	})

	t.Run("window closed after 48 hours", func(t *testing.T) {
		clk.Advance(49 * time.Hour)
		err := cs1.Send(message.NewCustomerTextMessage(testOpenID, "回访"))
		if err == nil || !strings.Contains(err.Error(), "errcode=45015") {
			t.Errorf("err = %v, want errcode 45015", err)
		}
		// Template messages do not depend on the window.
		if _, err := tpl.Send(&message.TemplateMessage{ToUser: testOpenID, TemplateID: "TPL_VISIT",
			Data: map[string]*message.TemplateDataItem{"first": {Value: "回访"}}}); err != nil {
			t.Errorf("template after 49 h: %v", err)
		}
	})
}

// TestSDKServerAsWebhook posts to the SDK's own server.Server in safe mode: the simulator's
// encrypted messages are what the SDK parses, and its encrypted replies are what the
// simulator verifies. It also shows the SDK's trap: a nil reply in safe mode is an encrypted
// empty message, which WeChat treats as a broken reply.
func TestSDKServerAsWebhook(t *testing.T) {
	clk := newClock()
	oa := officialaccount.NewOfficialAccount(&offConfig.Config{
		AppID: testAppID, AppSecret: testSecret, Token: testToken, EncodingAESKey: testAESKey, Cache: newMemCache(clk.Now),
	})
	hook := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		srv := oa.GetServer(r, w)
		srv.SetMessageHandler(func(m *message.MixMessage) *message.Reply {
			if m.MsgType != message.MsgTypeText {
				return nil
			}
			return &message.Reply{MsgType: message.MsgTypeText, MsgData: message.NewText("SDK收到：" + m.Content)}
		})
		if err := srv.Serve(); err != nil {
			http.Error(w, err.Error(), http.StatusForbidden)
			return
		}
		if err := srv.Send(); err != nil {
			t.Errorf("sdk send: %v", err)
		}
	}))
	t.Cleanup(hook.Close)
	s, _, _ := startSim(t, Options{WebhookURL: hook.URL, AESKey: testAESKey, Now: clk.Now})

	if err := s.VerifyURL(t.Context()); err != nil {
		t.Errorf("VerifyURL against the SDK: %v", err)
	}
	res, err := s.Send(t.Context(), Message{OpenID: testOpenID, Type: TypeText, Content: "你好"})
	if err != nil || res.Reply == nil || res.Reply.Content != "SDK收到：你好" {
		t.Fatalf("text: reply %+v err %v, want the SDK's encrypted reply decoded", res.Reply, err)
	}
	_, err = s.Send(t.Context(), Message{OpenID: testOpenID, Type: TypeEvent, Event: "CLICK", EventKey: "MENU_ASK"})
	if !errors.Is(err, ErrBadReply) {
		t.Errorf("nil reply in safe mode: err = %v, want ErrBadReply (the SDK sends an encrypted empty message)", err)
	}
}
