package sim

import (
	"io"
	"net/http"
	"net/http/cookiejar"
	"net/url"
	"strings"
	"testing"
	"time"
)

// browser is an in-app browser that shows each redirect instead of following it.
func browser(t *testing.T) *http.Client {
	t.Helper()
	jar, err := cookiejar.New(nil)
	if err != nil {
		t.Fatal(err)
	}
	return &http.Client{Jar: jar, Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error {
		return http.ErrUseLastResponse
	}}
}

// open GETs target with c and returns the status, the Location and the body.
func open(t *testing.T, c *http.Client, target string) (int, string, string) {
	t.Helper()
	resp, err := c.Get(target)
	if err != nil {
		t.Fatalf("GET %s: %v", target, err)
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return resp.StatusCode, resp.Header.Get("Location"), string(b)
}

// authorizeURL is the authorize page's address as WeChat documents it.
func authorizeURL(base string, q url.Values) string {
	return base + "/connect/oauth2/authorize?" + q.Encode() + "#wechat_redirect"
}

func authorizeQuery(redirect, scope, state string) url.Values {
	return url.Values{"appid": {testAppID}, "redirect_uri": {redirect}, "response_type": {"code"}, "scope": {scope}, "state": {state}}
}

// exchange calls /sns/oauth2/access_token as the service does.
func exchange(t *testing.T, base, appid, secret, code, grant string) map[string]any {
	t.Helper()
	q := url.Values{"appid": {appid}, "secret": {secret}, "code": {code}, "grant_type": {grant}}
	return apiCall(t, http.MethodGet, base+"/sns/oauth2/access_token?"+q.Encode(), nil)
}

func TestOAuthBaseFlow(t *testing.T) {
	s, base, clk := startSim(t, Options{})
	c := browser(t)
	const page = "https://huimin.example.gov.cn/survey/MZ20260302-0001.1.sig?from=tpl"
	q := authorizeQuery(page, ScopeBase, "a1b2c3")
	q.Set(SimOpenID, "citizen-002")
	status, loc, body := open(t, c, authorizeURL(base, q))
	if status != http.StatusFound {
		t.Fatalf("authorize = %d, want 302\n%s", status, body)
	}
	back, err := url.Parse(loc)
	if err != nil {
		t.Fatal(err)
	}
	if got := back.Scheme + "://" + back.Host + back.Path; got != "https://huimin.example.gov.cn/survey/MZ20260302-0001.1.sig" {
		t.Errorf("sent back to %s, want the redirect_uri", got)
	}
	if !strings.HasPrefix(back.RawQuery, "from=tpl&code=") || back.Query().Get("state") != "a1b2c3" {
		t.Errorf("query sent back = %q, want redirect_uri's own, then code and state", back.RawQuery)
	}
	code := back.Query().Get("code")
	if len(code) != 32 {
		t.Errorf("code = %q, want 32 characters", code)
	}
	if n := s.Calls("/connect/oauth2/authorize"); n != 1 {
		t.Errorf("Calls(authorize) = %d, want 1", n)
	}

	m := exchange(t, base, testAppID, testSecret, code, "authorization_code")
	if errcode(t, m) != 0 || m["openid"] != "citizen-002" || m["scope"] != ScopeBase || m["access_token"] == "" || m["refresh_token"] == "" {
		t.Fatalf("exchange = %v, want citizen-002's openid, the scope and tokens", m)
	}
	if _, ok := m["errcode"]; ok {
		t.Errorf("a good exchange carries errcode: %v", m)
	}
	if int64Field(t, m, "expires_in") != 7200 {
		t.Errorf("expires_in = %v, want 7200", m["expires_in"])
	}
	if got := errcode(t, exchange(t, base, testAppID, testSecret, code, "authorization_code")); got != CodeCodeUsed {
		t.Errorf("the same code again: errcode %d, want %d", got, CodeCodeUsed)
	}

	// The browser remembers whose it is: the next link needs no sim_openid.
	status, loc, _ = open(t, c, authorizeURL(base, authorizeQuery(page, ScopeUserInfo, "")))
	if status != http.StatusFound {
		t.Fatalf("second authorize = %d, want 302", status)
	}
	back, _ = url.Parse(loc)
	if !strings.Contains(back.RawQuery, "&state=") {
		t.Errorf("query sent back = %q, want an empty state all the same", back.RawQuery)
	}
	clk.Advance(OAuthCodeLifetime)
	if got := errcode(t, exchange(t, base, testAppID, testSecret, back.Query().Get("code"), "authorization_code")); got != CodeInvalidCode {
		t.Errorf("a code after five minutes: errcode %d, want %d", got, CodeInvalidCode)
	}
}

func TestOAuthExchangeRefusals(t *testing.T) {
	_, base, _ := startSim(t, Options{})
	q := authorizeQuery("http://127.0.0.1:8080/survey/x", ScopeBase, "s")
	q.Set(SimOpenID, "citizen-001")
	fresh := func() string {
		_, loc, _ := open(t, browser(t), authorizeURL(base, q))
		u, _ := url.Parse(loc)
		return u.Query().Get("code")
	}
	tests := []struct {
		name                       string
		appid, secret, code, grant string
		want                       int
	}{
		{"wrong appid", "wx0000000000000000", testSecret, fresh(), "authorization_code", CodeInvalidAppID},
		{"wrong secret", testAppID, "nope", fresh(), "authorization_code", CodeInvalidAppSecret},
		{"wrong grant_type", testAppID, testSecret, fresh(), "client_credential", CodeInvalidGrantType},
		{"no code", testAppID, testSecret, "", "authorization_code", CodeMissingCode},
		{"unknown code", testAppID, testSecret, "0123456789abcdef0123456789abcdef", "authorization_code", CodeInvalidCode},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			m := exchange(t, base, tt.appid, tt.secret, tt.code, tt.grant)
			if got := errcode(t, m); got != tt.want || m["openid"] != nil {
				t.Errorf("exchange = %v, want errcode %d and no openid", m, tt.want)
			}
		})
	}
}

func TestOAuthAuthorizeRefusals(t *testing.T) {
	_, base, _ := startSim(t, Options{OAuthDomains: []string{"Huimin.Example.gov.cn"}})
	good := func() url.Values {
		q := authorizeQuery("https://huimin.example.gov.cn:8443/survey/x", ScopeBase, "s")
		q.Set(SimOpenID, "citizen-001")
		return q
	}
	tests := []struct {
		name  string
		key   string
		value string
		want  string
	}{
		{"no appid", "appid", "", "10012 appid不能为空"},
		{"another appid", "appid", "wx0000000000000000", "appid 参数错误"},
		{"no redirect_uri", "redirect_uri", "", "10011 redirect_uri不能为空"},
		{"relative redirect_uri", "redirect_uri", "/survey/x", "redirect_uri 参数错误"},
		{"redirect_uri outside the domain", "redirect_uri", "https://evil.example/survey/x", "10003 redirect_uri域名与后台配置不一致"},
		{"response_type token", "response_type", "token", "response_type 参数错误"},
		{"no scope", "scope", "", "10010 scope不能为空"},
		{"another scope", "scope", "snsapi_login", "10005 此公众号并没有这些scope的权限"},
		{"long state", "state", strings.Repeat("a", 129), "state 参数错误"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			q := good()
			q.Set(tt.key, tt.value)
			status, loc, body := open(t, browser(t), authorizeURL(base, q))
			if status != http.StatusBadRequest || loc != "" || !strings.Contains(body, tt.want) {
				t.Errorf("authorize = %d to %q\n%s\nwant 400 and %q", status, loc, body, tt.want)
			}
		})
	}
	// The domain is the host's, whatever the port.
	if status, _, body := open(t, browser(t), authorizeURL(base, good())); status != http.StatusFound {
		t.Errorf("authorize to the configured domain = %d\n%s", status, body)
	}
}

// A person who opens a survey link from the chat page by hand is asked whose browser it is;
// choosing carries the link's parameters on.
func TestOAuthAuthorizeAsksWhoIsBrowsing(t *testing.T) {
	_, base, _ := startSim(t, Options{})
	q := authorizeQuery("http://127.0.0.1:8080/survey/MZ-1.1.sig", ScopeBase, "st4te")
	status, loc, body := open(t, browser(t), authorizeURL(base, q))
	if status != http.StatusOK || loc != "" {
		t.Fatalf("authorize without a user = %d to %q, want the choice", status, loc)
	}
	for _, want := range []string{
		`action="/connect/oauth2/authorize"`, `name="sim_openid" value="citizen-001"`, `name="sim_openid" value="officer-001"`,
		`name="redirect_uri" value="http://127.0.0.1:8080/survey/MZ-1.1.sig"`, `name="state" value="st4te"`, `name="scope" value="snsapi_base"`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("choice page lacks %s\n%s", want, body)
		}
	}
}

func TestOAuthFaultOnTheExchange(t *testing.T) {
	s, base, _ := startSim(t, Options{})
	if err := s.SetFault(Fault{Kind: FaultErrCode, Path: "/sns/oauth2/access_token", ErrCode: CodeSystemBusy}); err != nil {
		t.Fatal(err)
	}
	if got := errcode(t, exchange(t, base, testAppID, testSecret, "x", "authorization_code")); got != CodeSystemBusy {
		t.Errorf("exchange under an errcode fault: %d, want -1", got)
	}
	if n := s.Calls("/sns/oauth2/access_token"); n != 1 {
		t.Errorf("Calls = %d, want 1", n)
	}
	if got := errcode(t, apiCall(t, http.MethodGet, base+"/sns/userinfo?access_token=x&openid=y", nil)); got != CodeAPIUnauthorized {
		t.Errorf("an unsimulated /sns/ API: errcode %d, want %d", got, CodeAPIUnauthorized)
	}
}
