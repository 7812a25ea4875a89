package wecom

import (
	"context"
	"log/slog"
	"strconv"

	workconfig "github.com/silenceper/wechat/v2/work/config"
	workcontext "github.com/silenceper/wechat/v2/work/context"
	"github.com/silenceper/wechat/v2/work/message"

	"huimin/bot/wxapi"
	"huimin/chat"
)

// WeCom errcodes the service branches on.
// https://developer.work.weixin.qq.com/document/path/90313
const (
	CodeBusy = -1
	// CodeInvalidCredential is WeCom's "invalid credential": from gettoken a wrong secret,
	// from other calls a token that is no longer valid.
	CodeInvalidCredential = 40001
	CodeInvalidToken      = 40014
	CodeTokenExpired      = 42001
	CodeFrequencyLimited  = 45009
	// CodeMemberLimited is the per-member limit (30 messages a minute, 1000 an hour).
	CodeMemberLimited = 45033
	// CodeInvalidUser means WeCom could not reach the userid. WeCom uses it when no
	// recipient is valid; Client also reports it for errcode 0 with a non-empty
	// invaliduser, so callers branch on one code.
	CodeInvalidUser = 81013
)

// APIError is WeCom's refusal of an API call: a non-zero errcode, or an invaliduser list.
type APIError = wxapi.Error

// platform is WeCom's errcode rules: busy and rate limits are temporary.
var platform = &wxapi.Platform{
	Name:          "wecom",
	Temporary:     []int{CodeBusy, CodeFrequencyLimited, CodeMemberLimited},
	TokenRejected: []int{CodeInvalidCredential, CodeInvalidToken, CodeTokenExpired},
}

// classify reads the SDK's errors; see wxapi.Platform.Classify.
func classify(api string, err error) error { return platform.Classify(api, err) }

// Limits of application messages, in bytes (the button text in characters). Longer texts
// are cut on a rune boundary.
const (
	MaxContentBytes    = 2048 // text and markdown content
	MaxCardTitleBytes  = 128
	MaxCardDescBytes   = 512
	MaxCardButtonRunes = 4
)

const (
	// defaultCardBtnText is the textcard button's text when the caller gives none.
	defaultCardBtnText = "详情"
	// apiSend names the application-message API in APIError.
	apiSend = "message/send"
	// The SDK's names for the calls it has no method for (used in its error texts).
	sdkNameSendTextCard = "MessageSendTextCard"
	sdkNameSendMarkdown = "MessageSendMarkdown"
)

// Client sends WeCom application messages through the SDK. Every call that WeCom refuses
// for a stale access token refreshes it once and retries.
//
// The SDK's calls take no context; their time limit is the HTTP client's timeout, set once
// at start-up (wechat.ConfigureSDK, which also points WeCom's host at the simulator).
type Client struct {
	tokens  *tokenSource
	msg     *message.Client
	agentID string
}

// ClientOptions configures NewClient.
type ClientOptions struct {
	CorpID, Secret string
	AgentID        int
	// Owner names this process for the token-fetch lock (host:pid).
	Owner string
	Log   *slog.Logger
	// OnTokenFetch is called before each access-token fetch (for metrics and tests).
	OnTokenFetch func()
}

// NewClient returns a Client for one application. The SDK's message client is built on a
// context holding this package's token handle; work.NewWork is not used because it builds
// (and needs a cache for) the SDK's own handle, which would only be thrown away.
func NewClient(opts ClientOptions, cache TokenCache) *Client {
	log := opts.Log
	if log == nil {
		log = slog.New(slog.DiscardHandler)
	}
	ts := newTokenSource(opts, cache, log)
	agentID := strconv.Itoa(opts.AgentID)
	wctx := &workcontext.Context{
		Config:            &workconfig.Config{CorpID: opts.CorpID, CorpSecret: opts.Secret, AgentID: agentID},
		AccessTokenHandle: ts,
	}
	return &Client{tokens: ts, msg: message.NewClient(wctx), agentID: agentID}
}

// call runs one SDK call, and once more after a token refresh when WeCom says the token is
// invalid or expired.
func (c *Client) call(ctx context.Context, api string, f func() error) error {
	return platform.Call(ctx, c.tokens, api, f)
}

// send runs an application-message call and reads invaliduser: WeCom answers errcode 0 when
// it dropped some recipients, which for one recipient means the message went nowhere.
func (c *Client) send(ctx context.Context, f func() (*message.SendResponse, error)) error {
	return c.call(ctx, apiSend, func() error {
		res, err := f()
		if err != nil {
			return err
		}
		if res.InvalidUser != "" {
			return &APIError{Platform: platform, API: apiSend, Code: CodeInvalidUser, Msg: "invaliduser " + res.InvalidUser}
		}
		return nil
	})
}

// common returns the fields every application message has. SendRequestCommon is embedded
// by pointer in the SDK's requests, so each message gets its own.
func (c *Client) common(userID, msgType string) *message.SendRequestCommon {
	return &message.SendRequestCommon{ToUser: userID, MsgType: msgType, AgentID: c.agentID}
}

// SendText sends a text message to the member userID.
// https://developer.work.weixin.qq.com/document/path/90236#文本消息
func (c *Client) SendText(ctx context.Context, userID, text string) error {
	req := message.SendTextRequest{
		SendRequestCommon: c.common(userID, "text"),
		Text:              message.TextField{Content: chat.CutBytes(text, MaxContentBytes)},
	}
	return c.send(ctx, func() (*message.SendResponse, error) { return c.msg.SendText(req) })
}

// textCardRequest is a textcard message; the SDK has no type for it.
type textCardRequest struct {
	*message.SendRequestCommon
	TextCard textCard `json:"textcard"`
}

type textCard struct {
	Title       string `json:"title"`
	Description string `json:"description"`
	URL         string `json:"url"`
	BtnText     string `json:"btntxt,omitempty"`
}

// SendTextCard sends a text card: a title, a description (WeCom allows
// <div class="gray|normal|highlight"> and <br> in it) and a button that opens url;
// btnText defaults to 详情.
// https://developer.work.weixin.qq.com/document/path/90236#文本卡片消息
func (c *Client) SendTextCard(ctx context.Context, userID, title, description, url, btnText string) error {
	if btnText == "" {
		btnText = defaultCardBtnText
	}
	req := textCardRequest{
		SendRequestCommon: c.common(userID, "textcard"),
		TextCard: textCard{
			Title:       chat.CutBytes(title, MaxCardTitleBytes),
			Description: chat.CutBytes(description, MaxCardDescBytes),
			URL:         url,
			BtnText:     chat.Cut(btnText, MaxCardButtonRunes),
		},
	}
	return c.send(ctx, func() (*message.SendResponse, error) { return c.msg.Send(sdkNameSendTextCard, req) })
}

// markdownRequest is a markdown message; the SDK has no type for it.
type markdownRequest struct {
	*message.SendRequestCommon
	Markdown message.TextField `json:"markdown"`
}

// SendMarkdown sends a message in WeCom's markdown subset (shown only in the WeCom app, not
// in WeChat).
// https://developer.work.weixin.qq.com/document/path/90236#markdown消息
func (c *Client) SendMarkdown(ctx context.Context, userID, content string) error {
	req := markdownRequest{
		SendRequestCommon: c.common(userID, "markdown"),
		Markdown:          message.TextField{Content: chat.CutBytes(content, MaxContentBytes)},
	}
	return c.send(ctx, func() (*message.SendResponse, error) { return c.msg.Send(sdkNameSendMarkdown, req) })
}
