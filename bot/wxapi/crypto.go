package wxapi

import (
	"crypto/subtle"
	"errors"
	"fmt"

	"github.com/silenceper/wechat/v2/util"
)

// Errors the webhook codecs of both channels return (bot/wechat and
// bot/wecom re-export them); the handlers map them to HTTP statuses.
var (
	// ErrSignature means a signature is missing or wrong (403).
	ErrSignature = errors.New("bad signature")
	// ErrMalformed means the body or query cannot be understood (400).
	ErrMalformed = errors.New("malformed request")
	// ErrDecrypt means the ciphertext does not decrypt or carries another
	// AppID or CorpID (400).
	ErrDecrypt = errors.New("cannot decrypt message")
)

// SignatureOK reports whether sig is the SHA-1 signature of token,
// timestamp, nonce and, for encrypted messages, the ciphertext. It compares
// in constant time because the signature is attacker-controlled; a missing
// signature, timestamp or nonce is never OK.
func SignatureOK(token, sig, timestamp, nonce string, ciphertext ...string) bool {
	if sig == "" || timestamp == "" || nonce == "" {
		return false
	}
	want := util.Signature(append([]string{token, timestamp, nonce}, ciphertext...)...)
	return subtle.ConstantTimeCompare([]byte(sig), []byte(want)) == 1
}

// Decrypt opens a safe-mode ciphertext with util.DecryptMsg, which checks
// that the receiver ID inside (the AppID, or WeCom's CorpID) is receiverID,
// and recovers from the panics its unchecked slicing raises on crafted
// input.
func Decrypt(receiverID, ciphertext, aesKey string) (plain []byte, err error) {
	defer func() {
		if r := recover(); r != nil {
			plain, err = nil, fmt.Errorf("decrypt: %v", r)
		}
	}()
	_, plain, err = util.DecryptMsg(receiverID, ciphertext, aesKey)
	if err != nil {
		return nil, errors.New("decrypt: " + err.Error())
	}
	return plain, nil
}
