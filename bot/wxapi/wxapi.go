// Package wxapi holds what the Official Account API and the WeCom API
// share, so that bot/wechat and bot/wecom read their answers one way: the
// errcode refusal as a typed error, read from the SDK's two error shapes,
// and the rule that a call refused for a stale access token is made once
// more after a refresh.
package wxapi

import (
	"context"
	"errors"
	"fmt"
	"regexp"
	"slices"
	"strconv"

	"github.com/silenceper/wechat/v2/util"
)

// Platform names an API and the errcodes that mean "try later" and "the
// access token was refused" there.
type Platform struct {
	Name          string // wechat, wecom
	Temporary     []int
	TokenRejected []int
}

// Error is an API's refusal of a call: a non-zero errcode.
type Error struct {
	Platform *Platform
	API      string
	Code     int
	Msg      string
}

func (e *Error) Error() string {
	return fmt.Sprintf("%s %s: errcode %d: %s", e.Platform.Name, e.API, e.Code, e.Msg)
}

// Temporary reports whether a later retry may succeed.
func (e *Error) Temporary() bool { return slices.Contains(e.Platform.Temporary, e.Code) }

// TokenRejected reports whether the access token itself was refused.
func (e *Error) TokenRejected() bool { return slices.Contains(e.Platform.TokenRejected, e.Code) }

var errcodeText = regexp.MustCompile(`errcode\s*[=:]\s*(-?\d+)\s*,?\s*(?:errmsg|errormsg)\s*[=:]\s*(.*)$`)

// Classify turns the SDK's errors into *Error where the API answered with
// an errcode. The SDK returns *util.CommonError from some calls and plain
// "errcode=45015 , errmsg=…" texts from others, so both are read here, in
// one place. An *Error passes through; transport errors are wrapped.
func (p *Platform) Classify(api string, err error) error {
	if err == nil {
		return nil
	}
	if _, ok := errors.AsType[*Error](err); ok {
		return err
	}
	if ce, ok := errors.AsType[*util.CommonError](err); ok {
		return &Error{Platform: p, API: api, Code: int(ce.ErrCode), Msg: ce.ErrMsg}
	}
	if m := errcodeText.FindStringSubmatch(err.Error()); m != nil {
		if code, convErr := strconv.Atoi(m[1]); convErr == nil {
			return &Error{Platform: p, API: api, Code: code, Msg: m[2]}
		}
	}
	return fmt.Errorf("%s %s: %w", p.Name, api, Redact(err))
}

// accessToken matches a secret in a URL or an error text: an access token,
// or the AppSecret or WeCom secret of a token request.
var accessToken = regexp.MustCompile(`((?:access_token|corpsecret|secret)=)[^&\s"']+`)

// Redact hides the access token or secret an SDK or transport error carries
// in its text (the request URL), so that no log line ever shows one. The error
// still unwraps to the original, for errors.Is and errors.As.
func Redact(err error) error {
	if err == nil || !accessToken.MatchString(err.Error()) {
		return err
	}
	return redacted{msg: accessToken.ReplaceAllString(err.Error(), "${1}***"), err: err}
}

// redacted is an error whose text has its secrets hidden.
type redacted struct {
	msg string
	err error
}

func (r redacted) Error() string { return r.msg }
func (r redacted) Unwrap() error { return r.err }

// Tokens is an access-token source that can replace a refused token.
type Tokens interface {
	GetAccessTokenContext(ctx context.Context) (string, error)
	// Invalidate returns a token other than stale, fetching one if needed.
	Invalidate(ctx context.Context, stale string) (string, error)
}

// Call runs one SDK call f, and once more after a token refresh when the
// API says the token is invalid or expired.
func (p *Platform) Call(ctx context.Context, tokens Tokens, api string, f func() error) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	used, err := tokens.GetAccessTokenContext(ctx)
	if err != nil {
		return err
	}
	err = p.Classify(api, f())
	apiErr, ok := errors.AsType[*Error](err)
	if !ok || !apiErr.TokenRejected() {
		return err
	}
	if _, err := tokens.Invalidate(ctx, used); err != nil {
		return err
	}
	return p.Classify(api, f())
}
