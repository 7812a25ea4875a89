package sim

import (
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"
)

// WeCom (企业微信) return codes the simulator answers with. Some numbers mean something else
// on the Official Account (40001 is a bad secret here, an invalid token there), so they have
// their own names and errmsg texts.
// https://developer.work.weixin.qq.com/document/path/90313
const (
	CodeWeComInvalidSecret      = 40001 // invalid credential (the corpsecret is wrong)
	CodeWeComInvalidCorpID      = 40013 // invalid corpid
	CodeWeComInvalidToken       = 40014 // invalid access_token
	CodeWeComInvalidAgentID     = 40056 // invalid agentid
	CodeWeComInvalidParameter   = 40058 // invalid parameter
	CodeWeComCorpIDMissing      = 41002 // corpid missing
	CodeWeComSecretMissing      = 41004 // corpsecret missing
	CodeWeComAgentIDMissing     = 41011 // agentid missing
	CodeWeComContentTooLong     = 45002 // content size out of limit
	CodeWeComFrequencyLimited   = 45009 // api freq out of limit
	CodeWeComMemberLimited      = 45033 // api concurrent out of limit (the per-member message limit)
	CodeWeComAllRecipientsWrong = 81013 // user & party & tag all invalid
)

// WeCom limits the simulator keeps.
const (
	// weComPerMinute and weComPerHour are how many application messages one member may
	// receive from one application (DOMAIN.md: 30 a minute, 1000 an hour).
	weComPerMinute = 30
	weComPerHour   = 1000
	// weComMaxContent is the byte limit of text and markdown content.
	weComMaxContent = 2048
	// weComMaxCard are the textcard limits in bytes, and the button text limit in runes.
	weComMaxCardTitle = 128
	weComMaxCardDesc  = 512
	weComMaxCardURL   = 2048
	weComMaxBtnText   = 4
)

// weComErrMsg returns WeCom's errmsg text for code.
func weComErrMsg(code int) string {
	switch code {
	case CodeSystemBusy:
		return "system busy"
	case CodeWeComInvalidSecret:
		return "invalid credential"
	case CodeInvalidMessageType:
		return "invalid message type"
	case CodeWeComInvalidCorpID:
		return "invalid corpid"
	case CodeWeComInvalidToken:
		return "invalid access_token"
	case CodeWeComInvalidAgentID:
		return "invalid agentid"
	case CodeWeComInvalidParameter:
		return "invalid parameter"
	case CodeAccessTokenMissing:
		return "access_token missing"
	case CodeWeComCorpIDMissing:
		return "corpid missing"
	case CodeWeComSecretMissing:
		return "corpsecret missing"
	case CodeWeComAgentIDMissing:
		return "agentid missing"
	case CodeAccessTokenExpired:
		return "access_token expired"
	case CodeEmptyContent:
		return "empty content"
	case CodeWeComContentTooLong:
		return "content size out of limit"
	case CodeWeComFrequencyLimited:
		return "api freq out of limit"
	case CodeWeComMemberLimited:
		return "api concurrent out of limit"
	case CodeWeComAllRecipientsWrong:
		return "user & party & tag all invalid"
	default:
		return "error"
	}
}

// weComMessage renders WeCom's errmsg: the text, a hint, and the error-code lookup link
// WeCom appends to every errmsg.
func (e *apiError) weComMessage() string {
	msg := weComErrMsg(e.code)
	if e.detail != "" {
		msg += ", " + e.detail
	}
	return msg + ", hint: [" + randString(10, digits) + "_" + randString(32, "0123456789abcdef") +
		"], more info at https://open.work.weixin.qq.com/devtool/query?e=" + strconv.Itoa(e.code)
}

// wcErr returns the WeCom errcode answer for code.
func wcErr(code int) *apiError { return &apiError{code: code, wecom: true} }

// wcErrf returns the WeCom errcode answer for code with a hint.
func wcErrf(code int, format string, args ...any) *apiError {
	e := wxErrf(code, format, args...)
	e.wecom = true
	return e
}

// isWeComPath reports whether path is one of the WeCom API paths the simulator serves (for
// the errmsg style of faults). /cgi-bin/gettoken is WeCom's and /cgi-bin/token the Official
// Account's; both live on one mux.
func isWeComPath(path string) bool {
	return path == "/cgi-bin/gettoken" || path == "/cgi-bin/message/send"
}

// handleWeComToken serves GET /cgi-bin/gettoken?corpid=&corpsecret=. Unlike the Official
// Account, WeCom returns the same token while it is valid and a new one once it has expired;
// there is no stable-token API and no overlap.
// https://developer.work.weixin.qq.com/document/path/91039
func (s *Simulator) handleWeComToken(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	switch {
	case q.Get("corpid") == "":
		writeErr(w, wcErr(CodeWeComCorpIDMissing))
		return
	case q.Get("corpid") != s.corpID:
		writeErr(w, wcErr(CodeWeComInvalidCorpID))
		return
	case q.Get("corpsecret") == "":
		writeErr(w, wcErr(CodeWeComSecretMissing))
		return
	case q.Get("corpsecret") != s.corpSecret:
		writeErr(w, wcErr(CodeWeComInvalidSecret))
		return
	}
	s.mu.Lock()
	now := s.now()
	cur, ok := s.tokens[s.weComTok]
	if !ok || !now.Before(cur.expires) || (!cur.revoked.IsZero() && !now.Before(cur.revoked)) {
		s.weComTok = s.issueTokenLocked(tokenWeCom, now)
		cur = s.tokens[s.weComTok]
	}
	tok, left := s.weComTok, cur.expires.Sub(now)
	s.mu.Unlock()
	writeOK(w, map[string]any{"access_token": tok, "expires_in": int(left.Seconds())})
}

// checkWeComToken validates a WeCom call's access_token: missing → 41001, unknown, replaced
// or an Official Account token → 40014, expired → 42001.
func (s *Simulator) checkWeComToken(r *http.Request) *apiError {
	at := r.URL.Query().Get("access_token")
	if at == "" {
		return wcErr(CodeAccessTokenMissing)
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	t, ok := s.tokens[at]
	switch {
	case !ok, t.kind != tokenWeCom:
		return wcErr(CodeWeComInvalidToken)
	case !t.revoked.IsZero() && !now.Before(t.revoked):
		return wcErr(CodeWeComInvalidToken)
	case !now.Before(t.expires):
		return wcErr(CodeAccessTokenExpired)
	}
	return nil
}

// TextCard is a WeCom textcard message as the member sees it. Description may carry WeCom's
// few tags: <div class="gray|normal|highlight"> and <br>.
type TextCard struct {
	Title       string `json:"title"`
	Description string `json:"description"`
	URL         string `json:"url"`
	BtnText     string `json:"btntxt,omitempty"`
}

// weComSendRequest is the body of POST /cgi-bin/message/send. agentid is a number in
// WeCom's documentation, but the SDK sends a string, which WeCom accepts too.
type weComSendRequest struct {
	ToUser  string          `json:"touser"`
	ToParty string          `json:"toparty"`
	ToTag   string          `json:"totag"`
	MsgType string          `json:"msgtype"`
	AgentID json.RawMessage `json:"agentid"`
	Text    *struct {
		Content string `json:"content"`
	} `json:"text"`
	TextCard *TextCard `json:"textcard"`
	Markdown *struct {
		Content string `json:"content"`
	} `json:"markdown"`
}

// handleWeComSend serves POST /cgi-bin/message/send (发送应用消息): text, textcard and
// markdown to members by userid. A userid that is not a member is listed in invaliduser
// with errcode 0, as WeCom does when some recipients are invalid; the simulator answers the
// same when none is valid, so a service must read invaliduser, not only errcode. toparty and
// totag are not simulated: their ids come back in invalidparty and invalidtag. A member who
// has had 30 messages in the last minute or 1000 in the last hour makes the whole call answer
// 45033 (WeCom drops the surplus for that member; an error is what a service can act on).
// https://developer.work.weixin.qq.com/document/path/90236
func (s *Simulator) handleWeComSend(w http.ResponseWriter, r *http.Request) {
	if e := s.checkWeComToken(r); e != nil {
		writeErr(w, e)
		return
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxAPIBody))
	var req weComSendRequest
	if err != nil || json.Unmarshal(body, &req) != nil {
		writeErr(w, wcErrf(CodeWeComInvalidParameter, "request body is not JSON"))
		return
	}
	if e := s.checkAgentID(req.AgentID); e != nil {
		writeErr(w, e)
		return
	}
	e := Received{Kind: KindWeCom, Channel: ChannelWeCom, MsgType: req.MsgType, Raw: string(body)}
	if apiErr := fillWeCom(&e, &req); apiErr != nil {
		writeErr(w, apiErr)
		return
	}
	if req.ToUser == "" && req.ToParty == "" && req.ToTag == "" {
		writeErr(w, wcErrf(CodeWeComInvalidParameter, "touser, toparty and totag are all empty"))
		return
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	var valid, invalid []string
	if req.ToUser == "@all" {
		valid = s.sortedMembersLocked()
	} else {
		for id := range strings.SplitSeq(req.ToUser, "|") {
			switch {
			case id == "":
			case s.members[strings.ToLower(id)] != "":
				valid = append(valid, s.members[strings.ToLower(id)])
			default:
				invalid = append(invalid, strings.ToLower(id)) // WeCom lower-cases invaliduser
			}
		}
	}
	for _, id := range valid {
		if s.weComLimitedLocked(id, now) {
			writeErr(w, wcErrf(CodeWeComMemberLimited, "member %s has reached %d messages a minute or %d an hour", id, weComPerMinute, weComPerHour))
			return
		}
	}
	for _, id := range valid {
		s.weComSent[id] = append(s.weComSent[id], now)
		e.OpenID = id
		s.appendLocked(e)
	}
	writeOK(w, map[string]any{
		"invaliduser":  strings.Join(invalid, "|"),
		"invalidparty": req.ToParty,
		"invalidtag":   req.ToTag,
		"msgid":        randToken(48),
	})
}

// checkAgentID checks the agentid of a send: a number or a string of digits naming this
// application.
func (s *Simulator) checkAgentID(raw json.RawMessage) *apiError {
	v := strings.Trim(strings.TrimSpace(string(raw)), `"`)
	if v == "" || v == "null" {
		return wcErr(CodeWeComAgentIDMissing)
	}
	if n, err := strconv.Atoi(v); err != nil || n != s.agentID {
		return wcErr(CodeWeComInvalidAgentID)
	}
	return nil
}

// fillWeCom validates an application message and copies what the member sees into e.
func fillWeCom(e *Received, req *weComSendRequest) *apiError {
	switch req.MsgType {
	case "text":
		if req.Text == nil || req.Text.Content == "" {
			return wcErr(CodeEmptyContent)
		}
		if len(req.Text.Content) > weComMaxContent {
			return wcErrf(CodeWeComContentTooLong, "text.content is %d bytes, at most %d", len(req.Text.Content), weComMaxContent)
		}
		e.Text = req.Text.Content
	case "markdown":
		if req.Markdown == nil || req.Markdown.Content == "" {
			return wcErr(CodeEmptyContent)
		}
		if len(req.Markdown.Content) > weComMaxContent {
			return wcErrf(CodeWeComContentTooLong, "markdown.content is %d bytes, at most %d", len(req.Markdown.Content), weComMaxContent)
		}
		e.Text = req.Markdown.Content
	case "textcard":
		c := req.TextCard
		switch {
		case c == nil:
			return wcErrf(CodeWeComInvalidParameter, "textcard missing")
		case c.Title == "", c.Description == "", c.URL == "":
			return wcErrf(CodeWeComInvalidParameter, "textcard needs title, description and url")
		case len(c.Title) > weComMaxCardTitle, len(c.Description) > weComMaxCardDesc, len(c.URL) > weComMaxCardURL:
			return wcErrf(CodeWeComContentTooLong, "textcard title ≤ %d, description ≤ %d, url ≤ %d bytes", weComMaxCardTitle, weComMaxCardDesc, weComMaxCardURL)
		case utf8.RuneCountInString(c.BtnText) > weComMaxBtnText:
			return wcErrf(CodeWeComInvalidParameter, "textcard.btntxt is at most %d characters", weComMaxBtnText)
		}
		card := *c
		e.Card = &card
		e.Text = c.Title
	case "":
		return wcErrf(CodeInvalidMessageType, "msgtype missing")
	default:
		return wcErrf(CodeInvalidMessageType, "msgtype %s is not simulated (text, textcard, markdown)", req.MsgType)
	}
	return nil
}

// weComLimitedLocked reports whether member id has reached the per-member message limits at
// now, and forgets sends older than an hour. s.mu must be held.
func (s *Simulator) weComLimitedLocked(id string, now time.Time) bool {
	sent := s.weComSent[id]
	keep := sent[:0]
	lastMinute := 0
	for _, at := range sent {
		if now.Sub(at) < time.Hour {
			keep = append(keep, at)
			if now.Sub(at) < time.Minute {
				lastMinute++
			}
		}
	}
	s.weComSent[id] = keep
	return lastMinute >= weComPerMinute || len(keep) >= weComPerHour
}

// sortedMembersLocked returns the WeCom members' userids in order. s.mu must be held.
func (s *Simulator) sortedMembersLocked() []string {
	ids := make([]string, 0, len(s.members))
	for _, id := range s.members {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	return ids
}

// addMemberLocked makes userid a member of the simulated corp. s.mu must be held.
func (s *Simulator) addMemberLocked(userid string) {
	if _, ok := s.members[strings.ToLower(userid)]; !ok {
		s.members[strings.ToLower(userid)] = userid
	}
}

// WeComMembers returns the userids of the simulated corp's members, in order.
func (s *Simulator) WeComMembers() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.sortedMembersLocked()
}
