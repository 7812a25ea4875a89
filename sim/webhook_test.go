package sim

import (
	"context"
	"errors"
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/silenceper/wechat/v2/officialaccount/message"
)

func TestSendModes(t *testing.T) {
	tests := []struct {
		name   string
		opts   Options
		mode   string
		wantQS bool // encrypt_type and msg_signature in the query
	}{
		{"plain", Options{}, ModePlain, false},
		{"compatible", Options{AESKey: testAESKey, Mode: ModeCompatible}, ModeCompatible, true},
		{"safe by default with a key", Options{AESKey: testAESKey}, ModeSafe, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wh := startWebhook(t, tt.mode)
			tt.opts.WebhookURL = wh.url
			s, _, clk := startSim(t, tt.opts)
			if s.Mode() != tt.mode {
				t.Fatalf("Mode() = %q, want %q", s.Mode(), tt.mode)
			}
			res, err := s.Send(t.Context(), Message{OpenID: testOpenID, Type: TypeText, Content: "我想咨询低保 <申请> & 材料"})
			if err != nil {
				t.Fatalf("Send: %v", err)
			}
			if res.Status != http.StatusOK || res.Deliveries != 1 {
				t.Errorf("status %d after %d deliveries, want 200 after 1", res.Status, res.Deliveries)
			}
			if res.Reply == nil || res.Reply.MsgType != "text" || res.Reply.Content != "收到：我想咨询低保 <申请> & 材料" {
				t.Fatalf("reply = %+v, want the echoed text", res.Reply)
			}
			if res.MsgID <= above2p53 {
				t.Errorf("MsgID = %d, want > 2^53", res.MsgID)
			}
			if res.CreateTime != clk.Now().Unix() {
				t.Errorf("CreateTime = %d, want the simulator clock %d", res.CreateTime, clk.Now().Unix())
			}

			d := wh.deliveries()[0]
			if got := d.query.Get("encrypt_type") != ""; got != tt.wantQS {
				t.Errorf("encrypt_type present = %v, want %v", got, tt.wantQS)
			}
			if d.query.Get("openid") != testOpenID {
				t.Errorf("openid query = %q", d.query.Get("openid"))
			}
			if d.msg.MsgID != res.MsgID || string(d.msg.FromUserName) != testOpenID || string(d.msg.ToUserName) != testOriginal {
				t.Errorf("webhook got MsgId %d from %q to %q", d.msg.MsgID, d.msg.FromUserName, d.msg.ToUserName)
			}
			if tt.mode == ModePlain && !strings.Contains(d.body, "<Content><![CDATA[我想咨询低保 <申请> & 材料]]></Content>") {
				t.Errorf("plain body does not carry the text in CDATA: %s", d.body)
			}
			got := s.Received(testOpenID)
			if len(got) != 1 || got[0].Kind != KindReply || got[0].Text != res.Reply.Content {
				t.Errorf("Received = %+v, want the passive reply", got)
			}

			// Events answered with "success": no reply.
			res, err = s.Send(t.Context(), Message{OpenID: testOpenID, Type: TypeEvent, Event: "CLICK", EventKey: "MENU_ASK"})
			if err != nil || res.Reply != nil || res.MsgID != 0 {
				t.Errorf("CLICK: reply %+v msgid %d err %v, want no reply, no MsgId", res.Reply, res.MsgID, err)
			}
		})
	}
}

func TestMessageXML(t *testing.T) {
	wh := startWebhook(t, ModePlain)
	wh.reply = func(*message.MixMessage) string { return "" }
	s, _, _ := startSim(t, Options{WebhookURL: wh.url})
	tests := []struct {
		name  string
		msg   Message
		check func(t *testing.T, m *message.MixMessage, body string)
	}{
		{"voice", Message{Type: TypeVoice, Recognition: "我想办高龄津贴"}, func(t *testing.T, m *message.MixMessage, _ string) {
			if m.MsgType != "voice" || m.Recognition != "我想办高龄津贴" || m.Format != "amr" || m.MediaID == "" || m.MsgID <= above2p53 {
				t.Errorf("voice = %+v", m)
			}
		}},
		{"image", Message{Type: TypeImage}, func(t *testing.T, m *message.MixMessage, _ string) {
			if m.PicURL == "" || m.MediaID == "" {
				t.Errorf("image PicUrl %q MediaId %q, want both", m.PicURL, m.MediaID)
			}
		}},
		{"location", Message{Type: TypeLocation, Lat: 23.12911, Lng: 113.264385, Label: "区民政局"}, func(t *testing.T, m *message.MixMessage, body string) {
			if m.LocationX != 23.12911 || m.LocationY != 113.264385 || m.Scale != 15 || m.Label != "区民政局" {
				t.Errorf("location = X %v Y %v scale %v label %q", m.LocationX, m.LocationY, m.Scale, m.Label)
			}
			if !strings.Contains(body, "<Location_X>23.129110</Location_X>") {
				t.Errorf("Location_X not a plain number: %s", body)
			}
		}},
		{"link", Message{Type: TypeLink, Title: "政策", URL: "https://example.org/p"}, func(t *testing.T, m *message.MixMessage, _ string) {
			if m.Title != "政策" || m.URL != "https://example.org/p" {
				t.Errorf("link = %+v", m)
			}
		}},
		{"msgmenu tap", Message{Type: TypeText, Content: "满意", BizMsgMenuID: "101"}, func(t *testing.T, m *message.MixMessage, body string) {
			if m.Content != "满意" || m.BizMsgMenuID != 101 || !strings.Contains(body, "<bizmsgmenuid>101</bizmsgmenuid>") {
				t.Errorf("menu tap = content %q bizmsgmenuid %d", m.Content, m.BizMsgMenuID)
			}
		}},
		{"subscribe", Message{Type: TypeEvent, Event: "subscribe"}, func(t *testing.T, m *message.MixMessage, body string) {
			if m.Event != "subscribe" || m.MsgID != 0 || !strings.Contains(body, "<EventKey><![CDATA[]]></EventKey>") {
				t.Errorf("subscribe = %+v", m)
			}
		}},
		{"click", Message{Type: TypeEvent, Event: "CLICK", EventKey: "MENU_ASK"}, func(t *testing.T, m *message.MixMessage, _ string) {
			if m.Event != "CLICK" || m.EventKey != "MENU_ASK" {
				t.Errorf("click = %q %q", m.Event, m.EventKey)
			}
		}},
		{"view", Message{Type: TypeEvent, Event: "VIEW", EventKey: "https://example.org/g"}, func(t *testing.T, m *message.MixMessage, _ string) {
			if m.Event != "VIEW" || m.EventKey != "https://example.org/g" {
				t.Errorf("view = %q %q", m.Event, m.EventKey)
			}
		}},
		{"location event", Message{Type: TypeEvent, Event: "LOCATION", Lat: 23.1, Lng: 113.2, Precision: 30}, func(t *testing.T, m *message.MixMessage, _ string) {
			if m.Latitude != "23.100000" || m.Longitude != "113.200000" {
				t.Errorf("LOCATION = %q %q", m.Latitude, m.Longitude)
			}
		}},
		{"cdata end inside text", Message{Type: TypeText, Content: "a]]>b"}, func(t *testing.T, m *message.MixMessage, _ string) {
			if m.Content != "a]]>b" {
				t.Errorf("content = %q", m.Content)
			}
		}},
	}
	seen := map[int64]bool{}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tt.msg.OpenID = testOpenID
			n := len(wh.deliveries())
			if _, err := s.Send(t.Context(), tt.msg); err != nil {
				t.Fatalf("Send: %v", err)
			}
			d := wh.deliveries()[n]
			if string(d.msg.FromUserName) != testOpenID || d.msg.CreateTime == 0 {
				t.Errorf("header From %q CreateTime %d", d.msg.FromUserName, d.msg.CreateTime)
			}
			if d.msg.MsgID != 0 {
				if seen[d.msg.MsgID] {
					t.Errorf("MsgId %d repeated", d.msg.MsgID)
				}
				seen[d.msg.MsgID] = true
			}
			tt.check(t, d.msg, d.body)
		})
	}
	if _, err := s.Send(t.Context(), Message{OpenID: testOpenID, Type: "telepathy"}); !errors.Is(err, ErrInvalidMessage) {
		t.Errorf("unknown type: err = %v, want ErrInvalidMessage", err)
	}
	if _, err := s.Send(t.Context(), Message{Type: TypeText, Content: "x"}); !errors.Is(err, ErrInvalidMessage) {
		t.Errorf("no openid: err = %v, want ErrInvalidMessage", err)
	}
}

func TestSendRetriesSlowWebhook(t *testing.T) {
	fast := &http.Client{Timeout: 200 * time.Millisecond} // stands in for WeChat's 5 s
	t.Run("answers on the third delivery", func(t *testing.T) {
		wh := startWebhook(t, ModeSafe)
		wh.slow = func(n int) bool { return n < 3 }
		s, _, _ := startSim(t, Options{WebhookURL: wh.url, AESKey: testAESKey, HTTPClient: fast})
		res, err := s.Send(t.Context(), Message{OpenID: testOpenID, Type: TypeText, Content: "在吗"})
		if err != nil {
			t.Fatalf("Send: %v", err)
		}
		if res.Deliveries != 3 || res.Reply == nil || res.Reply.Content != "收到：在吗" {
			t.Errorf("deliveries %d reply %+v, want 3 and the reply", res.Deliveries, res.Reply)
		}
		ds := wh.deliveries()
		if len(ds) != 3 {
			t.Fatalf("webhook got %d deliveries, want 3", len(ds))
		}
		for i, d := range ds {
			if d.msg.MsgID != res.MsgID || d.msg.CreateTime != res.CreateTime {
				t.Errorf("delivery %d: MsgId %d CreateTime %d, want the same message", i+1, d.msg.MsgID, d.msg.CreateTime)
			}
		}
	})
	t.Run("never answers", func(t *testing.T) {
		wh := startWebhook(t, ModePlain)
		wh.slow = func(int) bool { return true }
		s, _, _ := startSim(t, Options{WebhookURL: wh.url, HTTPClient: fast})
		res, err := s.Send(t.Context(), Message{OpenID: testOpenID, Type: TypeText, Content: "在吗"})
		if !errors.Is(err, ErrNoAnswer) {
			t.Fatalf("err = %v, want ErrNoAnswer", err)
		}
		if res.Deliveries != 3 || res.Status != 0 || res.Error == "" {
			t.Errorf("result = %+v, want 3 deliveries, no status, an error", res)
		}
		tl := s.Timeline(testOpenID, 0)
		if last := tl[len(tl)-1]; last.Kind != KindNotice || last.Text != serviceUnavailable {
			t.Errorf("last timeline entry = %+v, want WeChat's notice", last)
		}
		if len(s.Received(testOpenID)) != 0 {
			t.Errorf("a notice counted as received")
		}
	})
	t.Run("caller gives up", func(t *testing.T) {
		wh := startWebhook(t, ModePlain)
		wh.slow = func(int) bool { return true }
		s, _, _ := startSim(t, Options{WebhookURL: wh.url})
		ctx, cancel := context.WithTimeout(t.Context(), 100*time.Millisecond)
		defer cancel()
		_, err := s.Send(ctx, Message{OpenID: testOpenID, Type: TypeText, Content: "在吗"})
		if !errors.Is(err, context.DeadlineExceeded) {
			t.Errorf("err = %v, want the context's deadline", err)
		}
	})
}

func TestBrokenPassiveReplies(t *testing.T) {
	tests := []struct {
		name   string
		mode   string
		tamper string
	}{
		{"bad MsgSignature", ModeSafe, "signature"},
		{"foreign AppID", ModeSafe, "appid"},
		{"plaintext in safe mode", ModeSafe, "plaintext"},
		{"encrypted empty message", ModeSafe, "empty"},
		{"swapped users", ModePlain, "swap"},
		{"not XML", ModePlain, "garbage"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			wh := startWebhook(t, tt.mode)
			wh.tamper = tt.tamper
			opts := Options{WebhookURL: wh.url}
			if tt.mode != ModePlain {
				opts.AESKey = testAESKey
			}
			s, _, _ := startSim(t, opts)
			_, err := s.Send(t.Context(), Message{OpenID: testOpenID, Type: TypeText, Content: "你好"})
			if !errors.Is(err, ErrBadReply) {
				t.Fatalf("err = %v, want ErrBadReply", err)
			}
			tl := s.Timeline(testOpenID, 0)
			if last := tl[len(tl)-1]; last.Kind != KindNotice || last.Text != "该公众号暂时无法提供服务，请稍后再试" {
				t.Errorf("last timeline entry = %+v, want WeChat's notice", last)
			}
		})
	}
	t.Run("compatible mode takes plaintext", func(t *testing.T) {
		wh := startWebhook(t, ModeCompatible)
		wh.tamper = "plaintext"
		s, _, _ := startSim(t, Options{WebhookURL: wh.url, AESKey: testAESKey, Mode: ModeCompatible})
		res, err := s.Send(t.Context(), Message{OpenID: testOpenID, Type: TypeText, Content: "你好"})
		if err != nil || res.Reply == nil {
			t.Errorf("reply %+v err %v, want the plaintext reply accepted", res.Reply, err)
		}
	})
	t.Run("wrong token gets 403", func(t *testing.T) {
		wh := startWebhook(t, ModePlain)
		s, _, _ := startSim(t, Options{WebhookURL: wh.url, Token: "another-token"})
		res, err := s.Send(t.Context(), Message{OpenID: testOpenID, Type: TypeText, Content: "你好"})
		if !errors.Is(err, ErrWebhookStatus) || res.Status != http.StatusForbidden || res.Deliveries != 1 {
			t.Errorf("result %+v err %v, want HTTP 403 after one delivery", res, err)
		}
	})
}

func TestVerifyURL(t *testing.T) {
	wh := startWebhook(t, ModeSafe)
	s, _, _ := startSim(t, Options{WebhookURL: wh.url, AESKey: testAESKey})
	if err := s.VerifyURL(t.Context()); err != nil {
		t.Errorf("VerifyURL: %v", err)
	}
	bad, _, _ := startSim(t, Options{WebhookURL: wh.url, Token: "wrong"})
	if err := bad.VerifyURL(t.Context()); !errors.Is(err, ErrVerify) {
		t.Errorf("wrong token: err = %v, want ErrVerify", err)
	}
}

func TestFollowState(t *testing.T) {
	wh := startWebhook(t, ModePlain)
	s, _, _ := startSim(t, Options{WebhookURL: wh.url})
	ctx := t.Context()
	send := func(m Message) error {
		m.OpenID = testOpenID
		_, err := s.Send(ctx, m)
		return err
	}
	if err := send(Message{Type: TypeEvent, Event: "unsubscribe"}); err != nil {
		t.Fatalf("unsubscribe: %v", err)
	}
	if err := send(Message{Type: TypeText, Content: "还能发吗"}); !errors.Is(err, ErrUnfollowed) {
		t.Errorf("text after unsubscribe: err = %v, want ErrUnfollowed", err)
	}
	if err := send(Message{Type: TypeEvent, Event: "subscribe"}); err != nil {
		t.Fatalf("subscribe: %v", err)
	}
	if err := send(Message{Type: TypeText, Content: "又关注了"}); err != nil {
		t.Errorf("text after subscribe: %v", err)
	}
}

func TestWaitReceived(t *testing.T) {
	wh := startWebhook(t, ModePlain)
	s, base, _ := startSim(t, Options{WebhookURL: wh.url})
	if _, err := s.Send(t.Context(), Message{OpenID: testOpenID, Type: TypeText, Content: "你好"}); err != nil {
		t.Fatalf("Send: %v", err)
	}
	tok := getToken(t, base)
	done := make(chan []Received, 1)
	go func() {
		got, err := s.WaitReceived(t.Context(), testOpenID, 2)
		if err != nil {
			t.Errorf("WaitReceived: %v", err)
		}
		done <- got
	}()
	if code := customText(t, base, tok, testOpenID, "稍后回复您"); code != 0 {
		t.Fatalf("custom send: errcode %d", code)
	}
	got := <-done
	if len(got) != 2 || got[0].Kind != KindReply || got[1].Kind != KindCustom || got[1].Seq <= got[0].Seq {
		t.Errorf("WaitReceived = %+v, want the reply then the customer-service message", got)
	}

	ctx, cancel := context.WithTimeout(t.Context(), 50*time.Millisecond)
	defer cancel()
	got, err := s.WaitReceived(ctx, testOpenID, 3)
	if !errors.Is(err, context.DeadlineExceeded) || len(got) != 2 {
		t.Errorf("WaitReceived(3) = %d messages, %v; want 2 and the deadline", len(got), err)
	}
}

func TestOptionErrors(t *testing.T) {
	tests := []struct {
		name string
		opts Options
		want error
	}{
		{"safe without key", Options{Mode: ModeSafe, WebhookURL: "http://127.0.0.1:1/wechat"}, ErrConfig},
		{"unknown mode", Options{Mode: "loud", WebhookURL: "http://127.0.0.1:1/wechat"}, ErrConfig},
		{"short key", Options{AESKey: "short", WebhookURL: "http://127.0.0.1:1/wechat"}, ErrConfig},
		{"no webhook", Options{}, ErrNoWebhook},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := New(tt.opts)
			defer s.Close()
			if _, err := s.Send(t.Context(), Message{OpenID: testOpenID, Type: TypeText, Content: "x"}); !errors.Is(err, tt.want) {
				t.Errorf("Send: err = %v, want %v", err, tt.want)
			}
			if err := s.VerifyURL(t.Context()); !errors.Is(err, tt.want) {
				t.Errorf("VerifyURL: err = %v, want %v", err, tt.want)
			}
		})
	}
}
