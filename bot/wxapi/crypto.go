package wxapi

import (
	"crypto/subtle"
	"errors"
	"fmt"
	"strconv"
	"time"

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
	// ErrStale means a correctly signed request whose timestamp is outside
	// the accepted clock skew, or whose timestamp and nonce were seen
	// before: a replayed request (403, as a bad signature).
	ErrStale = fmt.Errorf("%w: stale or replayed request", ErrSignature)
)

// DefaultMaxClockSkew is how far a request's timestamp may be from the
// clock: WeChat and WeCom retry a message within about 15 seconds, so five
// minutes allow for any clock drift and refuse a request kept for later.
const DefaultMaxClockSkew = 5 * time.Minute

// maxNonce caps the nonce a request may carry: the platforms send about
// ten digits, and the nonce becomes part of a store key.
const maxNonce = 64

// CheckFresh checks a signed request's timestamp (Unix seconds) and nonce:
// the timestamp within skew of now, the nonce short and printable. It
// returns ErrStale or ErrMalformed.
func CheckFresh(timestamp, nonce string, now time.Time, skew time.Duration) error {
	if len(nonce) > maxNonce {
		return fmt.Errorf("%w: nonce of %d bytes", ErrMalformed, len(nonce))
	}
	for i := range len(nonce) {
		if nonce[i] <= ' ' || nonce[i] > '~' {
			return fmt.Errorf("%w: nonce not printable ASCII", ErrMalformed)
		}
	}
	ts, err := strconv.ParseInt(timestamp, 10, 64)
	if err != nil {
		return fmt.Errorf("%w: timestamp %.20q", ErrMalformed, timestamp)
	}
	if d := now.Sub(time.Unix(ts, 0)); d > skew || d < -skew {
		return fmt.Errorf("%w: timestamp %s from the clock", ErrStale, d.Round(time.Second))
	}
	return nil
}

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
