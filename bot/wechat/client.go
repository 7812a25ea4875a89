package wechat

import (
	"context"
	"fmt"
	"log/slog"
	"net/url"
	"time"

	"github.com/silenceper/wechat/v2/officialaccount"
	"github.com/silenceper/wechat/v2/officialaccount/basic"
	offconfig "github.com/silenceper/wechat/v2/officialaccount/config"
	"github.com/silenceper/wechat/v2/officialaccount/menu"
	"github.com/silenceper/wechat/v2/officialaccount/message"

	"huimin/bot/wxapi"
	"huimin/chat"
)

// WeChat errcodes the service branches on.
// https://developers.weixin.qq.com/doc/offiaccount/Getting_Started/Global_Return_Code.html
const (
	CodeBusy            = -1
	CodeInvalidToken    = 40001
	CodeTokenExpired    = 42001
	CodeInvalidTokenAlt = 40014
	CodeInvalidOpenID   = 40003
	CodeUnsubscribed    = 43004
	CodeOutOfWindow     = 45015
	CodeTooManyCS       = 45047
	CodeRateLimited     = 45009
)

// APIError is WeChat's refusal of an API call: a non-zero errcode.
type APIError = wxapi.Error

// platform is the Official Account API's errcode rules.
var platform = &wxapi.Platform{
	Name:          "wechat",
	Temporary:     []int{CodeBusy, CodeRateLimited},
	TokenRejected: []int{CodeInvalidToken, CodeTokenExpired, CodeInvalidTokenAlt},
}

// classify reads the SDK's errors; see wxapi.Platform.Classify.
func classify(api string, err error) error { return platform.Classify(api, err) }

// Client calls the Official Account API through the SDK. Every call that
// WeChat refuses for a stale access token refreshes it once and retries.
//
// The SDK's calls take no context; their time limit is the HTTP client's
// timeout, set once at start-up (see ConfigureSDK).
type Client struct {
	tokens *tokenSource
	basic  *basic.Basic
	cs     *message.Manager
	tpl    *message.Template
	sub    *message.Subscribe
	menu   *menu.Menu
}

// ClientOptions configures NewClient.
type ClientOptions struct {
	AppID, AppSecret string
	// Owner names this process for the token-refresh lock (host:pid).
	Owner string
	Log   *slog.Logger
	// OnTokenFetch is called before each access-token fetch (for metrics and tests).
	OnTokenFetch func()
}

// NewClient builds the SDK's Official Account and keeps each API client
// (the SDK's lazy getters race, so they are called once, here).
func NewClient(opts ClientOptions, cache TokenCache) *Client {
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ts := newTokenSource(opts.AppID, opts.AppSecret, opts.Owner, cache, log, opts.OnTokenFetch)
	oa := officialaccount.NewOfficialAccount(&offconfig.Config{
		AppID:       opts.AppID,
		AppSecret:   opts.AppSecret,
		Cache:       sdkCache{cache},
		UseStableAK: true,
	})
	oa.SetAccessTokenHandle(ts)
	return &Client{
		tokens: ts,
		basic:  oa.GetBasic(),
		cs:     oa.GetCustomerMessageManager(),
		tpl:    oa.GetTemplate(),
		sub:    oa.GetSubscribe(),
		menu:   oa.GetMenu(),
	}
}

// call runs one SDK call, and once more after a token refresh when WeChat
// says the token is invalid or expired.
func (c *Client) call(ctx context.Context, api string, f func() error) error {
	return platform.Call(ctx, c.tokens, api, f)
}

// SendText sends a customer-service text message.
// https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Service_Center_messages.html
func (c *Client) SendText(ctx context.Context, to, text string) error {
	msg := message.NewCustomerTextMessage(to, chat.CutBytes(text, MaxTextBytes))
	return c.call(ctx, "message/custom/send", func() error { return c.cs.Send(msg) })
}

// SendImage sends a customer-service image message: a picture by its media
// ID (a picture a person sent the account can be passed on by its ID while
// WeChat keeps it, three days).
func (c *Client) SendImage(ctx context.Context, to, mediaID string) error {
	msg := message.NewCustomerImgMessage(to, mediaID)
	return c.call(ctx, "message/custom/send", func() error { return c.cs.Send(msg) })
}

// MenuItem is one tappable choice of a msgmenu.
type MenuItem struct{ ID, Text string }

// SendMenu sends a customer-service msgmenu: tappable choices that come
// back as a text message with bizmsgmenuid set.
func (c *Client) SendMenu(ctx context.Context, to, head string, items []MenuItem, tail string) error {
	list := make([]message.MsgmenuItem, len(items))
	for i, it := range items {
		list[i] = message.MsgmenuItem{ID: it.ID, Content: it.Text}
	}
	msg := &message.CustomerMessage{
		ToUser:  to,
		Msgtype: "msgmenu",
		Msgmenu: &message.MediaMsgmenu{HeadContent: head, List: list, TailContent: tail},
	}
	return c.call(ctx, "message/custom/send", func() error { return c.cs.Send(msg) })
}

// Template is a template message. ClientMsgID makes WeChat drop a resend.
// https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Template_Message_Interface.html
type Template struct {
	To, TemplateID, URL, ClientMsgID string
	Data                             map[string]string
}

// SendTemplate sends a template message and returns WeChat's msgid.
func (c *Client) SendTemplate(ctx context.Context, t Template) (int64, error) {
	data := make(map[string]*message.TemplateDataItem, len(t.Data))
	for k, v := range t.Data {
		data[k] = &message.TemplateDataItem{Value: v}
	}
	msg := &message.TemplateMessage{ToUser: t.To, TemplateID: t.TemplateID, URL: t.URL, Data: data, ClientMsgID: t.ClientMsgID}
	var id int64
	err := c.call(ctx, "message/template/send", func() error {
		var err error
		id, err = c.tpl.Send(msg)
		return err
	})
	return id, err
}

// Notice is a subscribe notice (订阅通知), sent with bizsend.
// https://developers.weixin.qq.com/doc/offiaccount/Subscription_Messages/api.html
type Notice struct {
	To, TemplateID, Page string
	Data                 map[string]string
}

// SendNotice sends a subscribe notice.
func (c *Client) SendNotice(ctx context.Context, n Notice) error {
	data := make(map[string]*message.SubscribeDataItem, len(n.Data))
	for k, v := range n.Data {
		data[k] = &message.SubscribeDataItem{Value: v}
	}
	msg := &message.SubscribeMessage{ToUser: n.To, TemplateID: n.TemplateID, Page: n.Page, Data: data}
	return c.call(ctx, "message/subscribe/bizsend", func() error { return c.sub.Send(msg) })
}

// Button is one button of the account's custom menu: a CLICK key, a VIEW
// URL, or a sub-menu.
type Button struct {
	Name, Type, Key, URL string
	Sub                  []Button
}

// PublishMenu replaces the account's custom menu.
// https://developers.weixin.qq.com/doc/offiaccount/Custom_Menus/Creating_Custom-Defined_Menu.html
func (c *Client) PublishMenu(ctx context.Context, buttons []Button) error {
	var conv func(bs []Button) []*menu.Button
	conv = func(bs []Button) []*menu.Button {
		out := make([]*menu.Button, 0, len(bs))
		for _, b := range bs {
			mb := &menu.Button{Name: b.Name, Type: b.Type, Key: b.Key, URL: b.URL}
			if len(b.Sub) > 0 {
				mb.Type, mb.SubButtons = "", conv(b.Sub)
			}
			out = append(out, mb)
		}
		return out
	}
	sdk := conv(buttons)
	return c.call(ctx, "menu/create", func() error { return c.menu.SetMenu(sdk) })
}

// QRCode creates a temporary QR code carrying scene (a string scene) and
// returns the URL of its image. Scanning it sends a subscribe or SCAN
// event with the scene.
// https://developers.weixin.qq.com/doc/offiaccount/Account_Management/Generating_a_Parametric_QR_Code.html
func (c *Client) QRCode(ctx context.Context, scene string, ttl time.Duration) (string, error) {
	var ticket *basic.Ticket
	err := c.call(ctx, "qrcode/create", func() error {
		var err error
		ticket, err = c.basic.GetQRTicket(basic.NewTmpQrRequest(ttl, scene))
		return err
	})
	if err != nil {
		return "", err
	}
	// basic.ShowQRCode does not escape the ticket.
	return "https://mp.weixin.qq.com/cgi-bin/showqrcode?ticket=" + url.QueryEscape(ticket.Ticket), nil
}

// PermanentQRCode creates a QR code that never expires carrying scene (at
// most 64 bytes; an account may have 100,000 of them) and returns the URL
// of its image.
func (c *Client) PermanentQRCode(ctx context.Context, scene string) (string, error) {
	if len(scene) == 0 || len(scene) > 64 {
		return "", fmt.Errorf("qr scene %q: must be 1 to 64 bytes", scene)
	}
	var ticket *basic.Ticket
	err := c.call(ctx, "qrcode/create", func() error {
		var err error
		ticket, err = c.basic.GetQRTicket(basic.NewLimitQrRequest(scene))
		return err
	})
	if err != nil {
		return "", err
	}
	return "https://mp.weixin.qq.com/cgi-bin/showqrcode?ticket=" + url.QueryEscape(ticket.Ticket), nil
}
