package web

import (
	"context"
	"crypto/hmac"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"
)

// SurveyOAuth is WeChat's web authorisation (网页授权, scope snsapi_base)
// as the survey page uses it to learn who opens it; cmd/huimin gives it
// bot/wechat's OAuth.
type SurveyOAuth interface {
	// AuthorizeURL is WeChat's authorize page, which sends the browser
	// back to redirect with ?code=…&state=state.
	AuthorizeURL(redirect, state string) string
	// OpenID exchanges the code WeChat sent back for the openid of the
	// WeChat user who opened the page. An error wrapping ErrOAuthCode is
	// WeChat refusing the code itself (invalid, expired, already used): a
	// page reloaded or kept, not a service in trouble.
	OpenID(ctx context.Context, code string) (string, error)
}

// ErrOAuthCode marks WeChat's refusal of a web authorisation code (see
// SurveyOAuth.OpenID).
var ErrOAuthCode = errors.New("web authorisation code refused")

// The survey page's cookies, each on the one survey's path. The state
// cookie ties WeChat's answer to the browser that was sent there; the
// viewer cookie, signed, names the openid WeChat gave for this survey.
const (
	stateCookie  = "huimin_survey_state"
	viewerCookie = "huimin_survey_viewer"
	// stateTTL bounds the trip to WeChat and back (its code lives five
	// minutes); viewerTTL is how long a survey page opened stays answerable.
	stateTTL  = 10 * time.Minute
	viewerTTL = 30 * time.Minute
)

// setupOAuth checks what the survey page's web authorisation needs and
// derives its settings.
func (p *Pages) setupOAuth() error {
	base := strings.TrimRight(p.opts.BaseURL, "/")
	u, err := url.Parse(base)
	if base == "" || err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
		return fmt.Errorf("web: the survey page's WeChat authorisation needs the pages' http or https address (web.base_url), not %q", p.opts.BaseURL)
	}
	if len(p.opts.Secret) == 0 {
		return errors.New("web: the survey page's WeChat authorisation needs a secret for its cookie")
	}
	p.surveyBase = base
	p.surveyPath = u.EscapedPath() + "/survey/"
	p.secureCookies = u.Scheme == "https"
	m := hmac.New(sha256.New, p.opts.Secret)
	m.Write([]byte("huimin survey page viewer cookie"))
	p.viewerKey = m.Sum(nil)
	return nil
}

// surveyURL is the survey page of token at the pages' address: where
// WeChat sends the browser back, and where the browser lands after.
func (p *Pages) surveyURL(token string) string {
	return p.surveyBase + "/survey/" + url.PathEscape(token)
}

// surveyCookie is a cookie of token's survey page only; maxAge < 0
// deletes it.
func (p *Pages) surveyCookie(name, value, token string, maxAge time.Duration) *http.Cookie {
	c := &http.Cookie{
		Name: name, Value: value, Path: p.surveyPath + url.PathEscape(token),
		HttpOnly: true, Secure: p.secureCookies, SameSite: http.SameSiteLaxMode,
		MaxAge: int(maxAge / time.Second),
	}
	if maxAge < 0 {
		c.MaxAge = -1
	}
	return c
}

// toWeChat sends the browser to WeChat's authorize page, keeping the
// state it will come back with in a cookie.
func (p *Pages) toWeChat(w http.ResponseWriter, r *http.Request, token string) error {
	state := rand.Text() // 26 of A-Z2-7: WeChat takes a-zA-Z0-9, up to 128 bytes
	http.SetCookie(w, p.surveyCookie(stateCookie, state, token, stateTTL))
	http.Redirect(w, r, p.opts.OAuth.AuthorizeURL(p.surveyURL(token), state), http.StatusFound)
	return nil
}

// oauthCallback serves the survey page WeChat sent the browser back to
// with a code and the state: the state must be the one this browser was
// sent with; the code gives the viewer, kept in a signed cookie, and the
// browser goes on to the page's own address (no code in the address bar).
func (p *Pages) oauthCallback(w http.ResponseWriter, r *http.Request, token string) error {
	q := r.URL.Query()
	state := q.Get("state")
	c, err := r.Cookie(stateCookie)
	http.SetCookie(w, p.surveyCookie(stateCookie, "", token, -1)) // a state answers once
	if err != nil || state == "" || !hmac.Equal([]byte(c.Value), []byte(state)) {
		p.opts.Log.InfoContext(r.Context(), "survey page refused", "status", http.StatusBadRequest, "reason", "oauth_state")
		return p.surveyMessage(w, http.StatusBadRequest, "survey_signin_failed")
	}
	code := q.Get("code")
	if code == "" {
		p.opts.Log.InfoContext(r.Context(), "survey page refused", "status", http.StatusBadRequest, "reason", "oauth_no_code")
		return p.surveyMessage(w, http.StatusBadRequest, "survey_signin_failed")
	}
	openID, err := p.opts.OAuth.OpenID(r.Context(), code)
	if errors.Is(err, ErrOAuthCode) {
		p.opts.Log.InfoContext(r.Context(), "survey page refused", "status", http.StatusBadRequest, "reason", "oauth_code", "err", err)
		return p.surveyMessage(w, http.StatusBadRequest, "survey_signin_failed")
	}
	if err != nil {
		return fmt.Errorf("survey page: web authorisation: %w", err)
	}
	if openID == "" {
		return errors.New("survey page: web authorisation gave no openid")
	}
	http.SetCookie(w, p.surveyCookie(viewerCookie, p.signViewer(token, openID, time.Now().Add(viewerTTL)), token, viewerTTL))
	http.Redirect(w, r, p.surveyURL(token), http.StatusFound)
	return nil
}

// signViewer is the viewer cookie's value: the openid, its expiry, and
// their signature over the survey's token.
func (p *Pages) signViewer(token, openID string, expires time.Time) string {
	exp := strconv.FormatInt(expires.Unix(), 10)
	return base64.RawURLEncoding.EncodeToString([]byte(openID)) + "." + exp + "." + p.viewerMAC(token, openID, exp)
}

func (p *Pages) viewerMAC(token, openID, exp string) string {
	m := hmac.New(sha256.New, p.viewerKey)
	m.Write([]byte(token + "\x00" + openID + "\x00" + exp))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil))
}

// viewer is the openid the request's viewer cookie names for token, ""
// when it has none that verifies and is current.
func (p *Pages) viewer(r *http.Request, token string) string {
	c, err := r.Cookie(viewerCookie)
	if err != nil {
		return ""
	}
	parts := strings.Split(c.Value, ".")
	if len(parts) != 3 {
		return ""
	}
	id, err := base64.RawURLEncoding.DecodeString(parts[0])
	if err != nil || len(id) == 0 {
		return ""
	}
	if !hmac.Equal([]byte(p.viewerMAC(token, string(id), parts[1])), []byte(parts[2])) {
		return ""
	}
	exp, err := strconv.ParseInt(parts[1], 10, 64)
	if err != nil || !time.Now().Before(time.Unix(exp, 0)) {
		return ""
	}
	return string(id)
}
