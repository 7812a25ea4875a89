package wechat

import (
	"errors"
	"net/http"
	"net/http/httptest"
	"net/url"
	"os"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"huimin/sim"
)

// sdkTarget is the simulator the SDK talks to. ConfigureSDK is process-wide, so TestMain
// points it once at a loopback server that forwards to whichever simulator the running test
// installed (the tests here do not run in parallel).
var sdkTarget atomic.Pointer[http.Handler]

func TestMain(m *testing.M) {
	front := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := sdkTarget.Load()
		if h == nil {
			http.Error(w, "no simulator installed for the SDK", http.StatusServiceUnavailable)
			return
		}
		(*h).ServeHTTP(w, r)
	}))
	ConfigureSDK(front.URL, 10*time.Second)
	code := m.Run()
	front.Close()
	os.Exit(code)
}

const (
	simAppID  = "wx1234567890abcdef"
	simSecret = "0123456789abcdef0123456789abcdef"
	pageURL   = "https://huimin.example.gov.cn/survey/MZ20260302-0001.1.c2ln"
)

// startSim starts a simulator on loopback for the SDK and for a browser, and returns it and
// its address.
func startSim(t *testing.T) (*sim.Simulator, string) {
	t.Helper()
	s := sim.New(sim.Options{AppID: simAppID, AppSecret: simSecret})
	srv := httptest.NewServer(s.Handler())
	h := s.Handler()
	sdkTarget.Store(&h)
	t.Cleanup(func() {
		sdkTarget.Store(nil)
		srv.Close()
		s.Close()
	})
	return s, srv.URL
}

// authorize opens an authorize URL as openid's in-app browser would and returns the code
// and state it was sent back with.
func authorize(t *testing.T, authorizeURL, openid string) (code, state string) {
	t.Helper()
	u, err := url.Parse(authorizeURL)
	if err != nil {
		t.Fatal(err)
	}
	q := u.Query()
	q.Set(sim.SimOpenID, openid) // a query parameter: "#wechat_redirect" stays the fragment
	u.RawQuery = q.Encode()
	c := &http.Client{Timeout: 10 * time.Second, CheckRedirect: func(*http.Request, []*http.Request) error { return http.ErrUseLastResponse }}
	resp, err := c.Get(u.String())
	if err != nil {
		t.Fatal(err)
	}
	resp.Body.Close()
	if resp.StatusCode != http.StatusFound {
		t.Fatalf("authorize = %d, want 302", resp.StatusCode)
	}
	back, err := url.Parse(resp.Header.Get("Location"))
	if err != nil {
		t.Fatal(err)
	}
	if got := back.Scheme + "://" + back.Host + back.Path; got != pageURL {
		t.Fatalf("sent back to %s, want %s", got, pageURL)
	}
	return back.Query().Get("code"), back.Query().Get("state")
}

func TestOAuthAuthorizeURL(t *testing.T) {
	o := NewOAuth(OAuthOptions{AppID: "wx0123456789abcdef", AppSecret: "s"})
	want := "https://open.weixin.qq.com/connect/oauth2/authorize?appid=wx0123456789abcdef" +
		"&redirect_uri=https%3A%2F%2Fhuimin.example.gov.cn%2Fsurvey%2FMZ20260302-0001.1.c2ln" +
		"&response_type=code&scope=snsapi_base&state=a%2Bb%26c#wechat_redirect"
	if got := o.AuthorizeURL(pageURL, "a+b&c"); got != want {
		t.Errorf("AuthorizeURL =\n%s\nwant\n%s", got, want)
	}
	o = NewOAuth(OAuthOptions{AppID: "wx0123456789abcdef", AppSecret: "s", AuthorizeBase: "http://127.0.0.1:8081/"})
	if got := o.AuthorizeURL(pageURL, "st"); !strings.HasPrefix(got, "http://127.0.0.1:8081/connect/oauth2/authorize?appid=") {
		t.Errorf("AuthorizeURL on the simulator = %s", got)
	}
}

func TestOAuthOpenIDFromTheSimulator(t *testing.T) {
	_, base := startSim(t)
	o := NewOAuth(OAuthOptions{AppID: simAppID, AppSecret: simSecret, AuthorizeBase: base})
	code, state := authorize(t, o.AuthorizeURL(pageURL, "0f1e2d3c"), "citizen-003")
	if state != "0f1e2d3c" {
		t.Errorf("state sent back = %q", state)
	}
	id, err := o.OpenID(t.Context(), code)
	if err != nil || id != "citizen-003" {
		t.Fatalf("OpenID = %q, %v; want citizen-003", id, err)
	}
	// A code answers once: a reloaded page's code is refused, as is one never given.
	for _, tt := range []struct {
		code string
		want int
	}{{code, CodeCodeUsed}, {"0123456789abcdef0123456789abcdef", CodeInvalidCode}, {"", CodeMissingCode}, {"x&appid=" + simAppID, CodeInvalidCode}} {
		id, err := o.OpenID(t.Context(), tt.code)
		apiErr, ok := errors.AsType[*APIError](err)
		if id != "" || !ok || apiErr.Code != tt.want || !CodeRefused(err) {
			t.Errorf("OpenID(%q) = %q, %v; want APIError %d, a refused code", tt.code, id, err, tt.want)
		}
	}
}

func TestOAuthAccountTrouble(t *testing.T) {
	s, base := startSim(t)
	wrong := NewOAuth(OAuthOptions{AppID: simAppID, AppSecret: "rotated-secret", AuthorizeBase: base})
	code, _ := authorize(t, wrong.AuthorizeURL(pageURL, "s"), "citizen-001")
	_, err := wrong.OpenID(t.Context(), code)
	if apiErr, ok := errors.AsType[*APIError](err); !ok || apiErr.Code != 40125 || CodeRefused(err) {
		t.Errorf("OpenID with a wrong secret: %v, want APIError 40125, not a refused code", err)
	}
	if strings.Contains(err.Error(), "rotated-secret") {
		t.Errorf("error shows the secret: %v", err)
	}

	o := NewOAuth(OAuthOptions{AppID: simAppID, AppSecret: simSecret, AuthorizeBase: base})
	code, _ = authorize(t, o.AuthorizeURL(pageURL, "s"), "citizen-001")
	if err := s.SetFault(sim.Fault{Kind: sim.FaultHTTP500, Path: "/sns/oauth2/access_token"}); err != nil {
		t.Fatal(err)
	}
	_, err = o.OpenID(t.Context(), code)
	if err == nil || CodeRefused(err) {
		t.Fatalf("OpenID on HTTP 500: %v, want a failure that is not a refused code", err)
	}
	t.Logf("on HTTP 500: %v", err)
	if _, ok := errors.AsType[*APIError](err); ok {
		t.Errorf("HTTP 500 is an APIError: %v", err)
	}
	for _, secret := range []string{simSecret, code} {
		if strings.Contains(err.Error(), secret) {
			t.Errorf("error shows the secret or the code: %v", err)
		}
	}
	// The code was not used up: once WeChat answers again it still works.
	s.ClearFaults()
	if id, err := o.OpenID(t.Context(), code); err != nil || id != "citizen-001" {
		t.Errorf("OpenID after the fault = %q, %v", id, err)
	}
}
