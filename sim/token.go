package sim

import (
	"encoding/json"
	"io"
	"maps"
	"net/http"
	"slices"
	"time"
)

// Token kinds: the token APIs issue separate tokens that do not affect each other.
const (
	tokenNormal = "token"
	tokenStable = "stable_token"
	tokenWeCom  = "wecom" // /cgi-bin/gettoken; valid only on WeCom's API
)

// accessToken is one issued access_token.
type accessToken struct {
	kind    string
	expires time.Time // 42001 from this instant on
	revoked time.Time // 40001 from this instant on (zero: never) — the token was replaced
}

// forceRefreshGap and forceRefreshPerDay are the stable-token force_refresh limits.
const (
	forceRefreshGap    = 30 * time.Second
	forceRefreshPerDay = 20
)

// handleToken serves GET /cgi-bin/token (getAccessToken). Each call issues a new token; the
// previous one keeps working for five more minutes, as WeChat promises.
// https://developers.weixin.qq.com/doc/offiaccount/Basic_Information/Get_access_token.html
func (s *Simulator) handleToken(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	if e := s.checkCredentials(q.Get("grant_type"), q.Get("appid"), q.Get("secret")); e != nil {
		writeErr(w, e)
		return
	}
	s.mu.Lock()
	now := s.now()
	if old, ok := s.tokens[s.normalTok]; ok && (old.revoked.IsZero() || old.revoked.After(now.Add(tokenOverlap))) {
		old.revoked = now.Add(tokenOverlap)
	}
	tok := s.issueTokenLocked(tokenNormal, now)
	s.normalTok = tok
	s.mu.Unlock()
	writeJSON(w, map[string]any{"access_token": tok, "expires_in": int(tokenLifetime.Seconds())})
}

// stableTokenRequest is the body of POST /cgi-bin/stable_token.
type stableTokenRequest struct {
	GrantType    string `json:"grant_type"`
	AppID        string `json:"appid"`
	Secret       string `json:"secret"`
	ForceRefresh bool   `json:"force_refresh"`
}

// handleStableToken serves POST /cgi-bin/stable_token (getStableAccessToken). In normal mode
// it returns the same token while more than five minutes of it are left; in the last five
// minutes it issues a new one and both work until the old one expires. force_refresh revokes
// the current token at once, at most 20 times a day and not within 30 s of the last one
// (then the current token is returned unchanged).
// https://developers.weixin.qq.com/doc/service/api/base/api_getstableaccesstoken
func (s *Simulator) handleStableToken(w http.ResponseWriter, r *http.Request) {
	var req stableTokenRequest
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, 1<<16))
	if err != nil || json.Unmarshal(body, &req) != nil {
		writeErr(w, wxErr(CodeDataFormatError))
		return
	}
	if e := s.checkCredentials(req.GrantType, req.AppID, req.Secret); e != nil {
		writeErr(w, e)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	cur, ok := s.tokens[s.stableTok]
	valid := ok && now.Before(cur.expires) && (cur.revoked.IsZero() || now.Before(cur.revoked))
	switch {
	case req.ForceRefresh && valid && s.recentForceLocked(now):
		// Too soon after the last forced refresh: WeChat does not refresh.
	case req.ForceRefresh && s.forcesTodayLocked(now) >= forceRefreshPerDay:
		writeErr(w, wxErr(CodeDailyQuota))
		return
	case req.ForceRefresh:
		s.forceTimes = append(s.forceTimes, now)
		if ok {
			cur.revoked = now
		}
		s.stableTok = s.issueTokenLocked(tokenStable, now)
	case !valid || cur.expires.Sub(now) <= tokenOverlap:
		// Expired, or in its last five minutes: a new token; the old one lives out its time.
		s.stableTok = s.issueTokenLocked(tokenStable, now)
	}
	left := s.tokens[s.stableTok].expires.Sub(now)
	writeJSON(w, map[string]any{"access_token": s.stableTok, "expires_in": int(left.Seconds())})
}

// checkCredentials validates grant_type, appid and secret like both token APIs do.
func (s *Simulator) checkCredentials(grantType, appID, secret string) *apiError {
	switch {
	case grantType != "client_credential":
		return wxErr(CodeInvalidGrantType)
	case appID != s.appID:
		return wxErr(CodeInvalidAppID)
	case secret != s.appSecret:
		return wxErr(CodeInvalidAppSecret)
	}
	return nil
}

// recentForceLocked reports whether the last forced refresh was less than 30 s ago.
func (s *Simulator) recentForceLocked(now time.Time) bool {
	n := len(s.forceTimes)
	return n > 0 && now.Sub(s.forceTimes[n-1]) < forceRefreshGap
}

// forcesTodayLocked counts forced refreshes in the last 24 hours.
func (s *Simulator) forcesTodayLocked(now time.Time) int {
	n := 0
	for _, t := range s.forceTimes {
		if now.Sub(t) < 24*time.Hour {
			n++
		}
	}
	return n
}

// issueTokenLocked creates and stores a new token of kind. s.mu must be held.
func (s *Simulator) issueTokenLocked(kind string, now time.Time) string {
	tok := randToken(96) // 128 characters, like WeChat's
	s.tokens[tok] = &accessToken{kind: kind, expires: now.Add(tokenLifetime)}
	return tok
}

// checkAccessToken validates the request's access_token query parameter: missing → 41001,
// unknown, replaced or a WeCom token → 40001, expired → 42001.
func (s *Simulator) checkAccessToken(r *http.Request) *apiError {
	at := r.URL.Query().Get("access_token")
	if at == "" {
		return wxErr(CodeAccessTokenMissing)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	t, ok := s.tokens[at]
	switch {
	case !ok, t.kind == tokenWeCom:
		return wxErr(CodeInvalidCredential)
	case !t.revoked.IsZero() && !now.Before(t.revoked):
		return wxErr(CodeInvalidCredential)
	case !now.Before(t.expires):
		return wxErr(CodeAccessTokenExpired)
	}
	return nil
}

// ExpireTokens makes every access token issued so far, WeCom's too, expire now: the next call
// with one of them gets 42001, and the token APIs issue new ones.
func (s *Simulator) ExpireTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	for _, t := range s.tokens {
		if t.expires.After(now) {
			t.expires = now
		}
	}
}

// RevokeTokens revokes every access token issued so far, WeCom's too, now, as a forced
// refresh by another client would: the next call with one of them gets 40001, and the token
// APIs issue new ones.
func (s *Simulator) RevokeTokens() {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	for _, t := range s.tokens {
		if t.revoked.IsZero() || t.revoked.After(now) {
			t.revoked = now
		}
	}
}

// IssuedTokens lists every access token the simulator has issued, for
// tests that check no token reaches a log.
func (s *Simulator) IssuedTokens() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return slices.Collect(maps.Keys(s.tokens))
}
