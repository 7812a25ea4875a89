package sim

import (
	"bytes"
	"html/template"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"time"
)

// The web authorisation (网页授权) of the Official Account: a page the service serves sends
// the user's in-app browser to WeChat's authorize page, which sends it back with a code; the
// service exchanges the code for the user's openid.
// https://developers.weixin.qq.com/doc/offiaccount/OA_Web_Apps/Wechat_webpage_authorization.html

// SimOpenID names the simulator-only query parameter (and cookie) that tells the authorize
// page which simulated user's browser is open. WeChat knows who is logged in to the client;
// the simulator has to be told. The query parameter wins over the cookie, and sets it.
const SimOpenID = "sim_openid"

// OAuthCodeLifetime is how long an authorisation code can be exchanged, once.
const OAuthCodeLifetime = 5 * time.Minute

// Web authorisation scopes.
const (
	ScopeBase     = "snsapi_base"     // silent: the openid only
	ScopeUserInfo = "snsapi_userinfo" // after the user's consent: also the profile
)

// Errors of the authorize page, as WeChat shows them in the in-app browser.
const (
	OAuthRedirectDomain = 10003 // redirect_uri域名与后台配置不一致
	OAuthScopeDenied    = 10005 // 此公众号并没有这些scope的权限
	OAuthScopeEmpty     = 10010 // scope不能为空
	OAuthRedirectEmpty  = 10011 // redirect_uri不能为空
	OAuthAppIDEmpty     = 10012 // appid不能为空
)

// oauthCode is one authorisation code the authorize page gave out.
type oauthCode struct {
	openID, scope string
	expires       time.Time
	used          bool
}

// oauthProblem is what the authorize page shows instead of sending the browser back.
type oauthProblem struct {
	Code int // 0 where WeChat's page shows words only
	Msg  string
}

// checkAuthorize validates the authorize page's query as WeChat does; nil means good.
func (s *Simulator) checkAuthorize(q url.Values) *oauthProblem {
	redirect := q.Get("redirect_uri")
	u, err := url.Parse(redirect)
	switch {
	case q.Get("appid") == "":
		return &oauthProblem{OAuthAppIDEmpty, "appid不能为空"}
	case q.Get("appid") != s.appID:
		return &oauthProblem{0, "appid 参数错误"}
	case redirect == "":
		return &oauthProblem{OAuthRedirectEmpty, "redirect_uri不能为空"}
	case err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "":
		return &oauthProblem{0, "redirect_uri 参数错误"}
	case len(s.oauthDomains) > 0 && !slices.Contains(s.oauthDomains, strings.ToLower(u.Hostname())):
		return &oauthProblem{OAuthRedirectDomain, "redirect_uri域名与后台配置不一致"}
	case q.Get("response_type") != "code":
		return &oauthProblem{0, "response_type 参数错误"}
	case q.Get("scope") == "":
		return &oauthProblem{OAuthScopeEmpty, "scope不能为空"}
	case q.Get("scope") != ScopeBase && q.Get("scope") != ScopeUserInfo:
		return &oauthProblem{OAuthScopeDenied, "此公众号并没有这些scope的权限"}
	case len(q.Get("state")) > 128:
		return &oauthProblem{0, "state 参数错误（最多128字节）"}
	}
	return nil
}

// handleAuthorize serves GET /connect/oauth2/authorize?appid=&redirect_uri=&response_type=code
// &scope=snsapi_base|snsapi_userinfo&state= (the #wechat_redirect fragment never reaches a
// server). For the user the browser belongs to (sim_openid, see SimOpenID) it answers 302 to
// redirect_uri with code and state added, as WeChat does; snsapi_userinfo's consent is taken
// as given. Bad parameters show WeChat's error words with HTTP 400. Without a user it shows
// a page to choose one (a person opening a survey link from the chat page by hand).
func (s *Simulator) handleAuthorize(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	s.mu.Lock()
	s.calls[r.URL.Path]++
	s.mu.Unlock()
	w.Header().Set("Cache-Control", "no-store")
	if p := s.checkAuthorize(q); p != nil {
		s.renderOAuthPage(w, http.StatusBadRequest, oauthPage{Problem: p})
		return
	}
	openID := q.Get(SimOpenID)
	if openID != "" {
		http.SetCookie(w, &http.Cookie{Name: SimOpenID, Value: url.QueryEscape(openID), Path: "/connect/oauth2/", HttpOnly: true, SameSite: http.SameSiteLaxMode})
	} else if c, err := r.Cookie(SimOpenID); err == nil {
		openID, _ = url.QueryUnescape(c.Value)
	}
	if openID == "" {
		page := oauthPage{Presets: s.pagePresets()}
		for k, vs := range q {
			if k != SimOpenID {
				for _, v := range vs {
					page.Params = append(page.Params, oauthParam{k, v})
				}
			}
		}
		slices.SortFunc(page.Params, func(a, b oauthParam) int { return strings.Compare(a.Name, b.Name) })
		s.renderOAuthPage(w, http.StatusOK, page)
		return
	}
	code := s.issueOAuthCode(openID, q.Get("scope"))
	u, _ := url.Parse(q.Get("redirect_uri")) // checked above
	back := "code=" + url.QueryEscape(code) + "&state=" + url.QueryEscape(q.Get("state"))
	if u.RawQuery != "" {
		back = u.RawQuery + "&" + back
	}
	u.RawQuery = back
	s.log.InfoContext(r.Context(), "web authorisation", "scope", q.Get("scope"), "host", u.Host)
	http.Redirect(w, r, u.String(), http.StatusFound)
}

// issueOAuthCode gives openID a fresh code for scope, forgetting codes that have expired.
func (s *Simulator) issueOAuthCode(openID, scope string) string {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	for k, c := range s.oauthCodes {
		if !now.Before(c.expires) {
			delete(s.oauthCodes, k)
		}
	}
	code := randString(32, alnum)
	s.oauthCodes[code] = &oauthCode{openID: openID, scope: scope, expires: now.Add(OAuthCodeLifetime)}
	return code
}

// handleOAuthAccessToken serves GET /sns/oauth2/access_token?appid=&secret=&code=
// &grant_type=authorization_code: a code from the authorize page, exchanged once within five
// minutes, gives the user's openid and a web access token (not the account's access_token).
// A used code answers 40163, an unknown or expired one 40029.
func (s *Simulator) handleOAuthAccessToken(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	switch {
	case q.Get("appid") != s.appID:
		writeErr(w, wxErr(CodeInvalidAppID))
		return
	case q.Get("secret") != s.appSecret:
		writeErr(w, wxErr(CodeInvalidAppSecret))
		return
	case q.Get("grant_type") != "authorization_code":
		writeErr(w, wxErr(CodeInvalidGrantType))
		return
	case q.Get("code") == "":
		writeErr(w, wxErr(CodeMissingCode))
		return
	}
	s.mu.Lock()
	c, ok := s.oauthCodes[q.Get("code")]
	switch {
	case !ok || !s.now().Before(c.expires):
		s.mu.Unlock()
		writeErr(w, wxErr(CodeInvalidCode))
		return
	case c.used:
		s.mu.Unlock()
		writeErr(w, wxErr(CodeCodeUsed))
		return
	}
	c.used = true
	s.mu.Unlock()
	writeJSON(w, map[string]any{
		"access_token":  randToken(66),
		"expires_in":    int(tokenLifetime.Seconds()),
		"refresh_token": randToken(66),
		"openid":        c.openID,
		"scope":         c.scope,
	})
}

// oauthPage is what the authorize page shows: a problem, or the choice of the user whose
// browser this is.
type oauthPage struct {
	Problem *oauthProblem
	Presets []Preset
	Params  []oauthParam
}

type oauthParam struct{ Name, Value string }

var oauthTemplate = template.Must(template.New("oauth").Parse(`<!doctype html>
<html lang="zh-CN"><head><meta charset="utf-8"><meta name="viewport" content="width=device-width, initial-scale=1">
<title>微信网页授权（模拟器）</title>
<style>body{font-family:sans-serif;max-width:480px;margin:2em auto;padding:0 1em;color:#191919}
button{display:block;width:100%;margin:.5em 0;padding:.8em;font-size:1em;border:0;border-radius:6px;background:#07c160;color:#fff}
input{width:100%;padding:.6em;font-size:1em;box-sizing:border-box}.err{color:#fa5151}</style></head><body>
{{if .Problem}}<h1>Oops! Something went wrong:(</h1>
<p class="err">{{if .Problem.Code}}{{.Problem.Code}} {{end}}{{.Problem.Msg}}</p>
{{else}}<h1>微信网页授权</h1>
<p>模拟器不知道是谁在微信里打开了这个链接。请选择打开链接的微信用户：</p>
<form method="get" action="/connect/oauth2/authorize">
{{range .Params}}<input type="hidden" name="{{.Name}}" value="{{.Value}}">
{{end}}{{range .Presets}}<button type="submit" name="sim_openid" value="{{.OpenID}}">{{.Label}}</button>
{{end}}</form>
<form method="get" action="/connect/oauth2/authorize">
{{range .Params}}<input type="hidden" name="{{.Name}}" value="{{.Value}}">
{{end}}<p><label>或输入 openid：<input name="sim_openid" required></label></p><button type="submit">打开</button>
</form>{{end}}
</body></html>
`))

// renderOAuthPage writes the authorize page's HTML.
func (s *Simulator) renderOAuthPage(w http.ResponseWriter, status int, p oauthPage) {
	var b bytes.Buffer
	if err := oauthTemplate.Execute(&b, p); err != nil {
		http.Error(w, "render page failed", http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = w.Write(b.Bytes()) // the browser went away; nothing to do
}
