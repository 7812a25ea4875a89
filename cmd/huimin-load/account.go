package main

import (
	"errors"
	"fmt"

	"github.com/silenceper/wechat/v2/util"
)

// aesKeyLen is the length of an EncodingAESKey: 32 bytes in base64 without the
// trailing "=".
const aesKeyLen = 43

// account holds what both ends of the webhook share: the token that signs
// every request and, in safe mode, the AES key and the AppID that is sealed
// into every ciphertext.
//
// https://developers.weixin.qq.com/doc/offiaccount/Basic_Information/Access_Overview.html
// https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Message_encryption_and_decryption_instructions.html
type account struct {
	token  string
	appID  string
	aesKey string // empty: plain mode
}

// safe reports whether messages are encrypted (WeChat's "safe mode").
func (a account) safe() bool { return a.aesKey != "" }

// mode names the message mode for reports.
func (a account) mode() string {
	if a.safe() {
		return "safe"
	}
	return "plain"
}

// validate fails on a configuration that cannot sign or seal anything.
func (a account) validate() error {
	if a.token == "" {
		return errors.New("-token is required")
	}
	if a.aesKey == "" {
		return nil
	}
	if len(a.aesKey) != aesKeyLen {
		return fmt.Errorf("-aes-key must be %d characters, got %d", aesKeyLen, len(a.aesKey))
	}
	if a.appID == "" {
		return errors.New("-app-id is required with -aes-key")
	}
	// A key of the right length can still be bad base64; find out now rather
	// than once per request.
	if _, err := util.EncryptMsg(make([]byte, 16), []byte("<xml/>"), a.appID, a.aesKey); err != nil {
		return fmt.Errorf("check -aes-key: %w", err)
	}
	return nil
}
