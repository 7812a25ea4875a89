package web

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"huimin/desk"
)

const (
	testBase    = "https://huimin.example.gov.cn"
	citizenID   = "oCitizenOpenID0042" // the fake ticket's citizen
	officerID   = "oOfficerOpenID0001"
	citizenCode = "CODEcitizen0123456789abcdefghij"
	officerCode = "CODEofficer0123456789abcdefghij"
)

// fakeOAuth is WeChat's web authorisation: each code it knows gives its
// openid once; any other code is refused as WeChat refuses it.
type fakeOAuth struct {
	mu        sync.Mutex
	codes     map[string]string
	fail      error // OpenID's error when set
	exchanged int
}

func newFakeOAuth() *fakeOAuth {
	return &fakeOAuth{codes: map[string]string{citizenCode: citizenID, officerCode: officerID}}
}

func (f *fakeOAuth) AuthorizeURL(redirect, state string) string {
	return "https://open.weixin.qq.com/connect/oauth2/authorize?appid=wx0123456789abcdef&redirect_uri=" + url.QueryEscape(redirect) +
		"&response_type=code&scope=snsapi_base&state=" + url.QueryEscape(state) + "#wechat_redirect"
}

func (f *fakeOAuth) OpenID(_ context.Context, code string) (string, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	f.exchanged++
	if f.fail != nil {
		return "", f.fail
	}
	id, ok := f.codes[code]
	if !ok {
		return "", fmt.Errorf("%w: wechat sns/oauth2/access_token: errcode 40163: code been used", ErrOAuthCode)
	}
	delete(f.codes, code)
	return id, nil
}

func (f *fakeOAuth) exchanges() int {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.exchanged
}

// oauthPages serves the survey page with WeChat authorisation at testBase.
func oauthPages(t *testing.T, fake *fakeSurveys, oauth *fakeOAuth, log *slog.Logger) http.Handler {
	t.Helper()
	return newPages(t, Options{Surveys: fake, OAuth: oauth, BaseURL: testBase + "/", Secret: []byte("test survey secret"), Log: log})
}

// visit sends req to h with cookies and returns the answer, the body and
// the cookies the answer sets, by name.
func visit(t *testing.T, h http.Handler, req *http.Request, cookies ...*http.Cookie) (answer, string, map[string]*http.Cookie) {
	t.Helper()
	for _, c := range cookies {
		req.AddCookie(c)
	}
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, req)
	res := rec.Result()
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	set := map[string]*http.Cookie{}
	for _, c := range res.Cookies() {
		set[c.Name] = c
	}
	return answer{res.StatusCode, res.Header}, string(body), set
}

func getWith(t *testing.T, h http.Handler, target string, cookies ...*http.Cookie) (answer, string, map[string]*http.Cookie) {
	t.Helper()
	return visit(t, h, httptest.NewRequest(http.MethodGet, target, nil), cookies...)
}

func postWith(t *testing.T, h http.Handler, target string, form url.Values, cookies ...*http.Cookie) (answer, string) {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, target, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	req.Header.Set("Origin", "http://example.com")
	res, body, _ := visit(t, h, req, cookies...)
	return res, body
}

// checkCookie fails the test unless c is an HttpOnly, Secure, SameSite=Lax
// cookie of the survey's page alone, living maxAge seconds.
func checkCookie(t *testing.T, c *http.Cookie, maxAge int) {
	t.Helper()
	if c == nil {
		t.Fatalf("no cookie set")
	}
	if !c.HttpOnly || !c.Secure || c.SameSite != http.SameSiteLaxMode || c.Path != "/survey/"+testToken || c.MaxAge != maxAge || c.Domain != "" {
		t.Errorf("cookie %s: HttpOnly %v Secure %v SameSite %v Path %q MaxAge %d Domain %q; want HttpOnly, Secure, Lax, the survey's path, %d s, no domain",
			c.Name, c.HttpOnly, c.Secure, c.SameSite, c.Path, c.MaxAge, c.Domain, maxAge)
	}
}

// toWeChat opens the survey page without a viewer and returns the state
// cookie and the state WeChat is to send back.
func toWeChat(t *testing.T, h http.Handler) (*http.Cookie, string) {
	t.Helper()
	res, body, set := getWith(t, h, "/survey/"+testToken)
	if res.StatusCode != http.StatusFound {
		t.Fatalf("GET without a viewer = %d, want 302 to WeChat\n%s", res.StatusCode, body)
	}
	loc, err := url.Parse(res.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	return set[stateCookie], loc.Query().Get("state")
}

// signIn walks the trip to WeChat and back with code and returns the
// viewer cookie.
func signIn(t *testing.T, h http.Handler, code string) *http.Cookie {
	t.Helper()
	sc, state := toWeChat(t, h)
	res, body, set := getWith(t, h, "/survey/"+testToken+"?code="+code+"&state="+state, sc)
	if res.StatusCode != http.StatusFound || set[viewerCookie] == nil {
		t.Fatalf("back from WeChat = %d with cookies %v, want 302 and the viewer cookie\n%s", res.StatusCode, set, body)
	}
	return set[viewerCookie]
}

func TestSurveyOAuthSendsToWeChat(t *testing.T) {
	fake, oauth := newFakeSurveys(), newFakeOAuth()
	h := oauthPages(t, fake, oauth, nil)
	res, body, set := getWith(t, h, "/survey/"+testToken)
	if res.StatusCode != http.StatusFound {
		t.Fatalf("GET = %d, want 302\n%s", res.StatusCode, body)
	}
	checkSurveyHeaders(t, res)
	loc, err := url.Parse(res.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	q := loc.Query()
	if loc.Host != "open.weixin.qq.com" || loc.Path != "/connect/oauth2/authorize" || loc.Fragment != "wechat_redirect" ||
		q.Get("scope") != "snsapi_base" || q.Get("response_type") != "code" {
		t.Errorf("sent to %s, want WeChat's authorize page with snsapi_base", loc)
	}
	if got := q.Get("redirect_uri"); got != testBase+"/survey/"+testToken {
		t.Errorf("redirect_uri = %q, want the page's own address at web.base_url", got)
	}
	state := q.Get("state")
	if len(state) < 20 || strings.Trim(state, "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789") != "" {
		t.Errorf("state = %q, want a long random value of a-zA-Z0-9", state)
	}
	sc := set[stateCookie]
	checkCookie(t, sc, 600)
	if sc.Value != state {
		t.Errorf("state cookie %q, want the state sent to WeChat %q", sc.Value, state)
	}
	if _, again := toWeChat(t, h); again == state {
		t.Errorf("two visits got the same state %q", state)
	}
	if oauth.exchanges() != 0 || len(fake.ratings()) != 0 {
		t.Errorf("sending a browser to WeChat exchanged a code or recorded an answer")
	}

	// A link that names no open survey says so at once: no trip to WeChat.
	for _, tt := range []struct {
		name, token string
		fail        error
		status      int
	}{
		{"forged", "MZ20261128-0042.1.Zm9yZ2VkLXRva2VuLXh4eHh4", nil, http.StatusNotFound},
		{"answered", testToken, refused(desk.ErrWrongState, "survey_answered"), http.StatusGone},
	} {
		fake.fail = tt.fail
		res, _, set := getWith(t, h, "/survey/"+tt.token)
		if res.StatusCode != tt.status || res.Header.Get("Location") != "" || len(set) != 0 {
			t.Errorf("%s link: %d to %q with cookies %v, want %d and no trip", tt.name, res.StatusCode, res.Header.Get("Location"), set, tt.status)
		}
	}
}

func TestSurveyOAuthUnderAPath(t *testing.T) {
	h := newPages(t, Options{Surveys: newFakeSurveys(), OAuth: newFakeOAuth(), BaseURL: "http://gov.example/huimin", Secret: []byte("s")})
	res, _, set := getWith(t, h, "/survey/"+testToken)
	loc, _ := url.Parse(res.Header.Get("Location"))
	if got := loc.Query().Get("redirect_uri"); got != "http://gov.example/huimin/survey/"+testToken {
		t.Errorf("redirect_uri = %q, want the page under web.base_url's path", got)
	}
	if c := set[stateCookie]; c == nil || c.Path != "/huimin/survey/"+testToken || c.Secure {
		t.Errorf("state cookie = %+v, want the page's path under /huimin and not Secure on http", c)
	}
}

func TestSurveyOAuthBackFromWeChat(t *testing.T) {
	fake, oauth := newFakeSurveys(), newFakeOAuth()
	h := oauthPages(t, fake, oauth, nil)
	sc, state := toWeChat(t, h)

	bad := []struct {
		name    string
		query   string
		cookies []*http.Cookie
	}{
		{"no state cookie", "?code=" + citizenCode + "&state=" + state, nil},
		{"another browser's state", "?code=" + citizenCode + "&state=OTHERSTATE0123456789", []*http.Cookie{sc}},
		{"no state", "?code=" + citizenCode, []*http.Cookie{sc}},
		{"no code (denied)", "?state=" + state, []*http.Cookie{sc}},
	}
	for _, tt := range bad {
		res, body, set := getWith(t, h, "/survey/"+testToken+tt.query, tt.cookies...)
		if res.StatusCode != http.StatusBadRequest || !strings.Contains(body, "<h1>没有打开成功</h1>") || strings.Contains(body, "<form") {
			t.Errorf("%s: %d\n%s\nwant 400 没有打开成功", tt.name, res.StatusCode, body)
		}
		checkSurveyHeaders(t, res)
		if set[viewerCookie] != nil {
			t.Errorf("%s: a viewer cookie was set", tt.name)
		}
	}
	if n := oauth.exchanges(); n != 0 {
		t.Errorf("%d codes exchanged with a bad state, want none", n)
	}

	// WeChat refuses the code (a reloaded address): the same page.
	res, body, _ := getWith(t, h, "/survey/"+testToken+"?code=USEDCODE&state="+state, sc)
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(body, "没有打开成功") {
		t.Errorf("refused code: %d\n%s", res.StatusCode, body)
	}

	sc, state = toWeChat(t, h)
	res, body, set := getWith(t, h, "/survey/"+testToken+"?code="+citizenCode+"&state="+state, sc)
	if res.StatusCode != http.StatusFound || res.Header.Get("Location") != testBase+"/survey/"+testToken {
		t.Fatalf("good state and code: %d to %q\n%s\nwant 302 to the page's clean address", res.StatusCode, res.Header.Get("Location"), body)
	}
	checkCookie(t, set[viewerCookie], 1800)
	if c := set[stateCookie]; c == nil || c.MaxAge >= 0 {
		t.Errorf("state cookie = %+v, want it deleted: a state answers once", c)
	}
	vc := set[viewerCookie]
	if strings.Contains(vc.Value, citizenID) || strings.Contains(vc.Value, testToken) {
		t.Errorf("viewer cookie %q shows the openid or the token in clear", vc.Value)
	}
	res, body, _ = getWith(t, h, "/survey/"+testToken, vc)
	if res.StatusCode != http.StatusOK || !strings.Contains(body, `<form method="post"`) {
		t.Fatalf("the page with the viewer cookie = %d\n%s", res.StatusCode, body)
	}
	checkNoPersonalData(t, body)
	// Back in the browser's history to WeChat's answer: the viewer is known.
	res, _, _ = getWith(t, h, "/survey/"+testToken+"?code="+citizenCode+"&state="+state, vc)
	if res.StatusCode != http.StatusFound || res.Header.Get("Location") != testBase+"/survey/"+testToken {
		t.Errorf("WeChat's answer again with a viewer: %d to %q, want 302 to the page", res.StatusCode, res.Header.Get("Location"))
	}
	if n := oauth.exchanges(); n != 2 {
		t.Errorf("%d codes exchanged, want 2 (the refused one and the good one)", n)
	}
}

func TestSurveyOAuthFailureAnswersTheErrorPage(t *testing.T) {
	var logs strings.Builder
	fake, oauth := newFakeSurveys(), newFakeOAuth()
	oauth.fail = errors.New("wechat sns/oauth2/access_token: errcode 40125: invalid appsecret")
	h := oauthPages(t, fake, oauth, slog.New(slog.NewTextHandler(&logs, nil)))
	sc, state := toWeChat(t, h)
	res, body, set := getWith(t, h, "/survey/"+testToken+"?code="+citizenCode+"&state="+state, sc)
	if res.StatusCode != http.StatusInternalServerError || !strings.Contains(body, "页面暂时打不开") || set[viewerCookie] != nil {
		t.Errorf("exchange failing = %d\n%s\nwant 500, the error page and no viewer", res.StatusCode, body)
	}
	if !strings.Contains(logs.String(), "level=ERROR") || !strings.Contains(logs.String(), "invalid appsecret") {
		t.Errorf("want the failure logged as an error:\n%s", logs.String())
	}
}

func TestSurveyOAuthAnswer(t *testing.T) {
	var logs strings.Builder
	fake, oauth := newFakeSurveys(), newFakeOAuth()
	h := oauthPages(t, fake, oauth, slog.New(slog.NewTextHandler(&logs, nil)))
	form := url.Values{"level": {"2"}, "comment": {"很好"}}

	// An officer opens the citizen's link: WeChat names him, and the page
	// is not his to answer.
	officer := signIn(t, h, officerCode)
	res, body, _ := getWith(t, h, "/survey/"+testToken, officer)
	if res.StatusCode != http.StatusForbidden || !strings.Contains(body, "<h1>不能评价</h1>") || strings.Contains(body, "<form") {
		t.Errorf("GET as the officer = %d\n%s\nwant 403 不能评价", res.StatusCode, body)
	}
	res, body = postWith(t, h, "/survey/"+testToken, form, officer)
	if res.StatusCode != http.StatusForbidden || !strings.Contains(body, "<h1>不能评价</h1>") {
		t.Errorf("POST as the officer = %d\n%s\nwant 403 不能评价", res.StatusCode, body)
	}
	checkSurveyHeaders(t, res)
	res, body = postWith(t, h, "/survey/"+testToken, url.Values{"level": {"0"}}, officer)
	if res.StatusCode != http.StatusForbidden || strings.Contains(body, "<form") {
		t.Errorf("POST without a level as the officer = %d\n%s\nwant 403 and no form", res.StatusCode, body)
	}

	citizen := signIn(t, h, citizenCode)
	res, body = postWith(t, h, "/survey/"+testToken, url.Values{"comment": {"很好"}}, citizen)
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(body, "请选择一个评价等级") {
		t.Errorf("POST without a level as the citizen = %d\n%s\nwant 400 and the form again", res.StatusCode, body)
	}
	forged := *officer
	parts := strings.SplitN(officer.Value, ".", 2)
	citizenPart := strings.SplitN(citizen.Value, ".", 2)[0]
	forged.Value = citizenPart + "." + parts[1] // the officer's signature on the citizen's openid
	otherToken := newPagesForTest(t).signViewer("MZ20261128-0042.2.b3RoZXI", citizenID, time.Now().Add(time.Hour))
	expired := newPagesForTest(t).signViewer(testToken, citizenID, time.Now().Add(-time.Second))
	for _, tt := range []struct {
		name    string
		cookies []*http.Cookie
	}{
		{"no viewer cookie", nil},
		{"forged viewer", []*http.Cookie{&forged}},
		{"another survey's viewer", []*http.Cookie{{Name: viewerCookie, Value: otherToken}}},
		{"expired viewer", []*http.Cookie{{Name: viewerCookie, Value: expired}}},
		{"garbage", []*http.Cookie{{Name: viewerCookie, Value: "x.y.z"}}},
	} {
		res, body := postWith(t, h, "/survey/"+testToken, form, tt.cookies...)
		if res.StatusCode != http.StatusForbidden || !strings.Contains(body, "<h1>请重新打开评价页</h1>") {
			t.Errorf("POST with %s = %d\n%s\nwant 403 请重新打开评价页", tt.name, res.StatusCode, body)
		}
	}
	if got := fake.ratings(); len(got) != 0 {
		t.Fatalf("refused answers were recorded: %+v", got)
	}

	res, body = postWith(t, h, "/survey/"+testToken, form, citizen)
	if res.StatusCode != http.StatusOK || !strings.Contains(body, "感谢您的评价") {
		t.Fatalf("POST as the citizen = %d\n%s", res.StatusCode, body)
	}
	want := rating{token: testToken, viewer: citizenID, level: 2, comment: "很好"}
	if got := fake.ratings(); len(got) != 1 || got[0] != want {
		t.Errorf("answers = %+v, want %+v", got, want)
	}
	for _, secret := range []string{testToken, "c2lnbmVk", citizenID, officerID, citizenCode, officerCode} {
		if strings.Contains(logs.String(), secret) {
			t.Errorf("the log holds %q:\n%s", secret, logs.String())
		}
	}
	for _, reason := range []string{"not_yours", "no_viewer"} {
		if !strings.Contains(logs.String(), reason) {
			t.Errorf("the log lacks the refusal %s:\n%s", reason, logs.String())
		}
	}
}

// newPagesForTest is Pages configured as oauthPages, for signing cookies
// as the page would.
func newPagesForTest(t *testing.T) *Pages {
	t.Helper()
	p, err := New(Options{Surveys: newFakeSurveys(), OAuth: newFakeOAuth(), BaseURL: testBase, Secret: []byte("test survey secret")})
	if err != nil {
		t.Fatal(err)
	}
	return p
}

func TestSurveyOAuthNeedsAddressAndSecret(t *testing.T) {
	for _, opts := range []Options{
		{Surveys: newFakeSurveys(), OAuth: newFakeOAuth(), Secret: []byte("s")},
		{Surveys: newFakeSurveys(), OAuth: newFakeOAuth(), BaseURL: "huimin.example.gov.cn", Secret: []byte("s")},
		{Surveys: newFakeSurveys(), OAuth: newFakeOAuth(), BaseURL: testBase},
	} {
		if _, err := New(opts); err == nil {
			t.Errorf("New with OAuth, BaseURL %q and a secret of %d bytes: no error", opts.BaseURL, len(opts.Secret))
		}
	}
}
