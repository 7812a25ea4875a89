package wechat

import (
	"context"
	"errors"
	"net/url"
	"regexp"
	"strings"

	offconfig "github.com/silenceper/wechat/v2/officialaccount/config"
	offcontext "github.com/silenceper/wechat/v2/officialaccount/context"
	"github.com/silenceper/wechat/v2/officialaccount/oauth"
)

// Errcodes of the web authorisation's code exchange (sns/oauth2/access_token).
const (
	CodeInvalidCode = 40029 // invalid code: unknown, expired, or of another account
	CodeCodeUsed    = 40163 // code been used: a code is exchanged once
	CodeMissingCode = 41008 // missing code
)

// OAuthBase is WeChat's web authorisation host, hard-coded in the SDK's
// authorize URL.
const OAuthBase = "https://open.weixin.qq.com"

// OAuthScopeBase is the silent scope: the openid of whoever opens the
// page, with no consent screen.
const OAuthScopeBase = "snsapi_base"

// OAuth is the Official Account's web authorisation (网页授权) with scope
// snsapi_base: a page sends the browser to WeChat's authorize page, WeChat
// sends it back with a code, and the code gives the openid of the WeChat
// user who opened the page. It needs a verified 服务号 whose web
// authorisation domain (网页授权域名) is the page's host.
// https://developers.weixin.qq.com/doc/offiaccount/OA_Web_Apps/Wechat_webpage_authorization.html
//
// The code exchange goes through the SDK's oauth client, so ConfigureSDK's
// URL rewrite and HTTP client (its timeout) apply to it as to every other
// API call.
type OAuth struct {
	sdk  *oauth.Oauth
	base string
}

// OAuthOptions configures NewOAuth.
type OAuthOptions struct {
	AppID, AppSecret string
	// AuthorizeBase is where the authorize page lives; empty is WeChat's
	// own (OAuthBase). The simulator serves it at its own address.
	AuthorizeBase string
}

// NewOAuth returns the account's web authorisation. It builds the SDK's
// oauth client on a bare context: the exchange needs no access token, and
// officialaccount.NewOfficialAccount panics without a token cache.
func NewOAuth(opts OAuthOptions) *OAuth {
	base := strings.TrimRight(opts.AuthorizeBase, "/")
	if base == "" {
		base = OAuthBase
	}
	ctx := &offcontext.Context{Config: &offconfig.Config{AppID: opts.AppID, AppSecret: opts.AppSecret}}
	return &OAuth{sdk: oauth.NewOauth(ctx), base: base}
}

// AuthorizeURL is the authorize page that sends the browser back to
// redirect with ?code=CODE&state=STATE:
// <base>/connect/oauth2/authorize?appid=APPID&redirect_uri=ENC&response_type=code&scope=snsapi_base&state=STATE#wechat_redirect.
func (o *OAuth) AuthorizeURL(redirect, state string) string {
	// The SDK escapes redirect_uri but not state, and its host is fixed:
	// state is escaped here and the host replaced (the URL is not a
	// request, so the SDK's URL rewrite never sees it).
	u, _ := o.sdk.GetRedirectURL(redirect, OAuthScopeBase, url.QueryEscape(state)) // it never fails
	if rest, ok := strings.CutPrefix(u, OAuthBase); ok {
		return o.base + rest
	}
	return u
}

// OpenID exchanges the code WeChat sent back for the openid of the user
// who opened the page. WeChat's refusal is an *APIError: CodeInvalidCode,
// CodeCodeUsed and CodeMissingCode mean the code itself was bad (a page
// reloaded, a link kept), anything else the account's or WeChat's trouble.
// https://developers.weixin.qq.com/doc/offiaccount/OA_Web_Apps/Wechat_webpage_authorization.html#1
func (o *OAuth) OpenID(ctx context.Context, code string) (string, error) {
	const api = "sns/oauth2/access_token"
	if err := ctx.Err(); err != nil {
		return "", err
	}
	// The SDK puts the code into the URL as it is; it comes from the
	// browser, so it is escaped here.
	res, err := o.sdk.GetUserAccessTokenContext(ctx, url.QueryEscape(code))
	if err != nil {
		return "", redactCode(classify(api, err))
	}
	if res.OpenID == "" {
		return "", errors.New("wechat " + api + ": answer without an openid")
	}
	return res.OpenID, nil
}

// CodeRefused reports whether err is WeChat refusing an authorisation code
// itself (invalid, expired, already used or missing), rather than the
// account or the network failing.
func CodeRefused(err error) bool {
	e, ok := errors.AsType[*APIError](err)
	return ok && (e.Code == CodeInvalidCode || e.Code == CodeCodeUsed || e.Code == CodeMissingCode)
}

// authCode matches an authorisation code in an error's text (the request
// URL of a transport error): it is good for one exchange in five minutes.
var authCode = regexp.MustCompile(`([?&]code=)[^&\s"']+`)

// redactCode hides the code a transport error's URL carries; the secret is
// already hidden by classify. The error still unwraps to the original.
func redactCode(err error) error {
	if err == nil || !authCode.MatchString(err.Error()) {
		return err
	}
	return codeRedacted{msg: authCode.ReplaceAllString(err.Error(), "${1}***"), err: err}
}

type codeRedacted struct {
	msg string
	err error
}

func (r codeRedacted) Error() string { return r.msg }
func (r codeRedacted) Unwrap() error { return r.err }
