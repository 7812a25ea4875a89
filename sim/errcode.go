package sim

import (
	"encoding/json"
	"fmt"
	"net/http"
	"strings"
)

// WeChat global return codes the simulator answers with, and their errmsg texts as WeChat
// writes them (WeChat appends " rid: …" to each).
// https://developers.weixin.qq.com/doc/offiaccount/Getting_Started/Global_Return_Code.html
const (
	CodeSystemBusy         = -1    // system error
	CodeInvalidCredential  = 40001 // invalid credential, access_token is invalid or not latest
	CodeInvalidGrantType   = 40002 // invalid grant_type
	CodeInvalidOpenID      = 40003 // invalid openid
	CodeInvalidMessageType = 40008 // invalid message type
	CodeInvalidAppID       = 40013 // invalid appid
	CodeInvalidButtonSize  = 40016 // invalid button size
	CodeInvalidButtonType  = 40017 // invalid button type
	CodeInvalidButtonName  = 40018 // invalid button name size
	CodeInvalidButtonKey   = 40019 // invalid button key size
	CodeInvalidButtonURL   = 40020 // invalid button url size
	CodeInvalidSubButton   = 40023 // invalid sub button size
	CodeInvalidCode        = 40029 // invalid code (web authorisation: unknown or expired)
	CodeInvalidTemplateID  = 40037 // invalid template_id
	CodeInvalidArgs        = 40097 // invalid args
	CodeInvalidAppSecret   = 40125 // invalid appsecret
	CodeCodeUsed           = 40163 // code been used (web authorisation)
	CodeAccessTokenMissing = 41001 // access_token missing
	CodeMissingCode        = 41008 // missing code (web authorisation)
	CodeAccessTokenExpired = 42001 // access_token expired
	CodeRequireSubscribe   = 43004 // require subscribe
	CodeUserRefused        = 43101 // user refuse to accept the msg
	CodeEmptyContent       = 44004 // empty content
	CodeDailyQuota         = 45009 // reach max api daily quota limit
	CodeOutOfTimeLimit     = 45015 // response out of time limit or subscription is canceled
	CodeOutOfResponseCount = 45047 // out of response count limit
	CodeMenuNotExist       = 46003 // menu no exist
	CodeDataFormatError    = 47001 // data format error
	CodeArgumentInvalid    = 47003 // argument invalid
	CodeAPIUnauthorized    = 48001 // api unauthorized
)

// errMsg returns WeChat's errmsg text for code.
func errMsg(code int) string {
	switch code {
	case CodeSystemBusy:
		return "system error"
	case CodeInvalidCredential:
		return "invalid credential, access_token is invalid or not latest"
	case CodeInvalidGrantType:
		return "invalid grant_type"
	case CodeInvalidOpenID:
		return "invalid openid"
	case CodeInvalidMessageType:
		return "invalid message type"
	case CodeInvalidAppID:
		return "invalid appid"
	case CodeInvalidButtonSize:
		return "invalid button size"
	case CodeInvalidButtonType:
		return "invalid button type"
	case CodeInvalidButtonName:
		return "invalid button name size"
	case CodeInvalidButtonKey:
		return "invalid button key size"
	case CodeInvalidButtonURL:
		return "invalid button url size"
	case CodeInvalidSubButton:
		return "invalid sub button size"
	case CodeInvalidCode:
		return "invalid code"
	case CodeCodeUsed:
		return "code been used"
	case CodeMissingCode:
		return "missing code"
	case CodeInvalidTemplateID:
		return "invalid template_id"
	case CodeInvalidArgs:
		return "invalid args"
	case CodeInvalidAppSecret:
		return "invalid appsecret"
	case CodeAccessTokenMissing:
		return "access_token missing"
	case CodeAccessTokenExpired:
		return "access_token expired"
	case CodeRequireSubscribe:
		return "require subscribe"
	case CodeUserRefused:
		return "user refuse to accept the msg"
	case CodeEmptyContent:
		return "empty content"
	case CodeDailyQuota:
		return "reach max api daily quota limit"
	case CodeOutOfTimeLimit:
		return "response out of time limit or subscription is canceled"
	case CodeOutOfResponseCount:
		return "out of response count limit"
	case CodeMenuNotExist:
		return "menu no exist"
	case CodeDataFormatError:
		return "data format error"
	case CodeArgumentInvalid:
		return "argument invalid!"
	case CodeAPIUnauthorized:
		return "api unauthorized"
	default:
		return "error"
	}
}

// apiError is an errcode answer.
type apiError struct {
	code   int
	detail string // appended as " hint: [...]" like WeChat does for argument errors
	wecom  bool   // a WeCom answer: WeCom's errmsg texts and format
}

// wxErr returns the errcode answer for code.
func wxErr(code int) *apiError { return &apiError{code: code} }

// wxErrf returns the errcode answer for code with a hint.
func wxErrf(code int, format string, args ...any) *apiError {
	return &apiError{code: code, detail: fmt.Sprintf(format, args...)}
}

// message renders the errmsg with a WeChat-like rid, or WeCom's errmsg for a WeCom answer.
func (e *apiError) message() string {
	if e.wecom {
		return e.weComMessage()
	}
	msg := errMsg(e.code)
	if e.detail != "" {
		msg += " hint: [" + e.detail + "]"
	}
	return msg + " rid: " + rid()
}

// rid returns a request id in WeChat's format (three dash-separated hex groups).
func rid() string {
	const hex = "0123456789abcdef"
	return strings.Join([]string{randString(8, hex), randString(8, hex), randString(8, hex)}, "-")
}

// writeJSON writes v the way WeChat does: HTTP 200 and WeChat's own content type.
func writeJSON(w http.ResponseWriter, v any) {
	w.Header().Set("Content-Type", "application/json; encoding=utf-8")
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v) // the client went away; nothing to do
}

// writeErr writes an errcode answer.
func writeErr(w http.ResponseWriter, e *apiError) {
	writeJSON(w, map[string]any{"errcode": e.code, "errmsg": e.message()})
}

// writeOK writes {"errcode":0,"errmsg":"ok"} plus any extra fields.
func writeOK(w http.ResponseWriter, extra map[string]any) {
	m := map[string]any{"errcode": 0, "errmsg": "ok"}
	for k, v := range extra {
		m[k] = v
	}
	writeJSON(w, m)
}
