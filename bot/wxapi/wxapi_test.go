package wxapi

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"testing"
)

var testPlatform = &Platform{Name: "test", Temporary: []int{-1}, TokenRejected: []int{40001, 42001}}

type tokens struct {
	current     string
	invalidated []string
}

func (t *tokens) GetAccessTokenContext(context.Context) (string, error) { return t.current, nil }
func (t *tokens) Invalidate(_ context.Context, stale string) (string, error) {
	t.invalidated = append(t.invalidated, stale)
	t.current = stale + "-new"
	return t.current, nil
}

func TestCallRefreshesOnceOnAStaleToken(t *testing.T) {
	tests := []struct {
		name        string
		answers     []error
		wantCalls   int
		wantRefresh int
		wantCode    int
	}{
		{"ok", []error{nil}, 1, 0, 0},
		{"expired then ok", []error{fmt.Errorf("x : errcode=42001 , errmsg=expired"), nil}, 2, 1, 0},
		{"rejected twice", []error{fmt.Errorf("x : errcode=40001 , errmsg=invalid"), fmt.Errorf("x : errcode=40001 , errmsg=invalid")}, 2, 1, 40001},
		{"other refusal", []error{fmt.Errorf("x : errcode=45015 , errmsg=out of time")}, 1, 0, 45015},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tk := &tokens{current: "t1"}
			calls := 0
			err := testPlatform.Call(t.Context(), tk, "api", func() error {
				calls++
				return tt.answers[calls-1]
			})
			if calls != tt.wantCalls || len(tk.invalidated) != tt.wantRefresh {
				t.Errorf("calls %d, refreshes %d; want %d, %d", calls, len(tk.invalidated), tt.wantCalls, tt.wantRefresh)
			}
			apiErr, ok := errors.AsType[*Error](err)
			if tt.wantCode == 0 && err != nil || tt.wantCode != 0 && (!ok || apiErr.Code != tt.wantCode) {
				t.Errorf("err = %v, want errcode %d", err, tt.wantCode)
			}
		})
	}
}

func TestTemporary(t *testing.T) {
	if !(&Error{Platform: testPlatform, Code: -1}).Temporary() || (&Error{Platform: testPlatform, Code: 45015}).Temporary() {
		t.Error("Temporary does not follow the platform's codes")
	}
	if err := testPlatform.Classify("api", errors.New("dial tcp: refused")); errors.As(err, new(*Error)) {
		t.Errorf("a transport error became an *Error: %v", err)
	}
}

func TestSignatureOK(t *testing.T) {
	sig := "a8b2c5a4b5ac2b5d0f1cf2a6a1e7a1d1e5e9a0f2" // not the signature
	tests := []struct {
		name           string
		sig, ts, nonce string
		ciphertext     []string
		want           bool
	}{
		{"missing signature", "", "1", "n", nil, false},
		{"missing timestamp", sig, "", "n", nil, false},
		{"wrong", sig, "1", "n", nil, false},
	}
	for _, tt := range tests {
		if got := SignatureOK("tok", tt.sig, tt.ts, tt.nonce, tt.ciphertext...); got != tt.want {
			t.Errorf("%s: SignatureOK = %v, want %v", tt.name, got, tt.want)
		}
	}
	if _, err := Decrypt("wx1", "not base64 at all", "abcdefghijklmnopqrstuvwxyz0123456789ABCDEFG"); err == nil {
		t.Error("Decrypt of garbage: want an error")
	}
}

func TestRedactHidesSecrets(t *testing.T) {
	inner := errors.New(`Post "https://api.weixin.qq.com/cgi-bin/message/custom/send?access_token=AbC-123_x": EOF`)
	err := Redact(inner)
	if got := err.Error(); got != `Post "https://api.weixin.qq.com/cgi-bin/message/custom/send?access_token=***": EOF` {
		t.Errorf("Redact = %q", got)
	}
	if !errors.Is(err, inner) {
		t.Errorf("the redacted error does not unwrap to the original")
	}
	wecom := Redact(errors.New("get https://qyapi.weixin.qq.com/cgi-bin/gettoken?corpid=ww1&corpsecret=s3cr3t failed"))
	if strings.Contains(wecom.Error(), "s3cr3t") {
		t.Errorf("WeCom secret shown: %q", wecom)
	}
	plain := errors.New("dial tcp: connection refused")
	if got := Redact(plain); got.Error() != plain.Error() {
		t.Errorf("an error with no secret was changed: %q", got)
	}
}
