package wechat

import (
	"crypto/rand"
	"encoding/xml"
	"fmt"
	"net/url"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/silenceper/wechat/v2/officialaccount/message"
	"github.com/silenceper/wechat/v2/util"

	"huimin/bot/wxapi"
	"huimin/chat"
)

// Errors Open returns, the same for both channels (see wxapi); the webhook
// maps them to HTTP statuses.
var (
	// ErrSignature means signature or msg_signature is missing or wrong (403).
	ErrSignature = wxapi.ErrSignature
	// ErrMalformed means the body or query cannot be understood (400).
	ErrMalformed = wxapi.ErrMalformed
	// ErrDecrypt means the ciphertext does not decrypt or carries another AppID (400).
	ErrDecrypt = wxapi.ErrDecrypt
	// ErrStale means a signed request too old or too new for the clock, or
	// one seen before (403).
	ErrStale = wxapi.ErrStale
)

// MaxTextBytes is WeChat's limit for a passive text reply's content.
const MaxTextBytes = 2048

// Codec verifies, opens and answers webhook requests for one account.
type Codec struct {
	token, appID, aesKey string
	now                  func() time.Time
	maxSkew              time.Duration
}

// NewCodec returns a Codec. aesKey may be empty (plain mode only); when it
// is set, plaintext POSTs are refused because plain mode's signature does
// not cover the body.
func NewCodec(token, appID, aesKey string, now func() time.Time) *Codec {
	if now == nil {
		now = time.Now
	}
	return &Codec{token: token, appID: appID, aesKey: aesKey, now: now, maxSkew: wxapi.DefaultMaxClockSkew}
}

// SetMaxClockSkew sets how far a POST's timestamp may be from the clock
// (default wxapi.DefaultMaxClockSkew); a request outside it is refused with
// ErrStale.
func (c *Codec) SetMaxClockSkew(d time.Duration) {
	if d > 0 {
		c.maxSkew = d
	}
}

// Request is an opened webhook POST.
type Request struct {
	// Message is WeChat's decoded message or event.
	Message *Message
	// Safe is true when the request was encrypted and the reply must be.
	Safe bool
	// Plain is the plaintext XML of the message.
	Plain     []byte
	timestamp string
	nonce     string
}

// ReplayKey identifies this request among all signed ones: its timestamp
// and nonce, which a platform never sends twice (a retry of a message is a
// new request with a new nonce). Seeing it again means the request was
// copied and replayed.
func (r *Request) ReplayKey() string { return r.timestamp + ":" + r.nonce }

// VerifyURL checks the GET handshake WeChat makes when the URL is saved in
// the console and returns the echostr to echo back.
func (c *Codec) VerifyURL(q url.Values) (string, error) {
	if !c.signatureOK(q.Get("signature"), q.Get("timestamp"), q.Get("nonce")) {
		return "", ErrSignature
	}
	echo := q.Get("echostr")
	if echo == "" {
		return "", fmt.Errorf("%w: no echostr", ErrMalformed)
	}
	return echo, nil
}

// Open verifies a POST's signatures, decrypts it when it is encrypted, and
// decodes the message.
func (c *Codec) Open(q url.Values, body []byte) (*Request, error) {
	ts, nonce := q.Get("timestamp"), q.Get("nonce")
	if !c.signatureOK(q.Get("signature"), ts, nonce) {
		return nil, ErrSignature
	}
	// Signed but old: a request kept and sent again. Within the window,
	// the webhook remembers the nonce (see ReplayKey).
	if err := wxapi.CheckFresh(ts, nonce, c.now(), c.maxSkew); err != nil {
		return nil, err
	}
	// The request and its message in one allocation: they live and die
	// together.
	both := &struct {
		req Request
		msg Message
	}{req: Request{timestamp: ts, nonce: nonce}}
	req, m := &both.req, &both.msg
	if q.Get("encrypt_type") == "aes" {
		if c.aesKey == "" {
			return nil, fmt.Errorf("%w: encrypted message but no aes_key configured", ErrMalformed)
		}
		var env message.EncryptedXMLMsg
		if err := xml.Unmarshal(body, &env); err != nil {
			return nil, fmt.Errorf("%w: envelope: %w", ErrMalformed, err)
		}
		if env.EncryptedMsg == "" {
			return nil, fmt.Errorf("%w: no Encrypt element", ErrMalformed)
		}
		if !wxapi.SignatureOK(c.token, q.Get("msg_signature"), ts, nonce, env.EncryptedMsg) {
			return nil, ErrSignature
		}
		plain, err := c.decrypt(env.EncryptedMsg)
		if err != nil {
			return nil, err
		}
		req.Safe, req.Plain = true, plain
	} else {
		if c.aesKey != "" {
			return nil, fmt.Errorf("%w: plaintext message while safe mode is configured", ErrMalformed)
		}
		req.Plain = body
	}
	if !decodeFlat(req.Plain, m) {
		var mix message.MixMessage
		if err := xml.Unmarshal(req.Plain, &mix); err != nil {
			return nil, fmt.Errorf("%w: message: %w", ErrMalformed, err)
		}
		*m = fromMix(&mix) // over what the fast path filled before it gave up
	}
	if m.FromUserName == "" || m.MsgType == "" {
		return nil, fmt.Errorf("%w: no FromUserName or MsgType", ErrMalformed)
	}
	req.Message = m
	return req, nil
}

// decrypt opens a ciphertext, whose AppID inside must be ours.
func (c *Codec) decrypt(ciphertext string) ([]byte, error) {
	plain, err := wxapi.Decrypt(c.appID, ciphertext, c.aesKey)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrDecrypt, err)
	}
	return plain, nil
}

func (c *Codec) signatureOK(sig, ts, nonce string) bool {
	return wxapi.SignatureOK(c.token, sig, ts, nonce)
}

// TextReply renders the plaintext passive reply carrying text to the sender
// of m, cut to WeChat's size limit on a rune boundary. It is written by
// hand rather than with encoding/xml: it is on every message's path, and
// its shape is fixed.
// https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Passive_user_reply_message.html
func (c *Codec) TextReply(m *Message, text string) ([]byte, error) {
	text = chat.CutBytes(text, MaxTextBytes)
	b := make([]byte, 0, len(text)+len(m.FromUserName)+len(m.ToUserName)+200)
	b = append(b, "<xml><ToUserName>"...)
	b = appendCDATA(b, m.FromUserName)
	b = append(b, "</ToUserName><FromUserName>"...)
	b = appendCDATA(b, m.ToUserName)
	b = append(b, "</FromUserName><CreateTime>"...)
	b = strconv.AppendInt(b, c.now().Unix(), 10)
	b = append(b, "</CreateTime><MsgType><![CDATA[text]]></MsgType><Content>"...)
	b = appendCDATA(b, text)
	b = append(b, "</Content></xml>"...)
	return b, nil
}

// appendCDATA appends s as a CDATA section: "]]>" is split across two
// sections, characters XML does not allow are dropped, and bytes that are
// not UTF-8 become U+FFFD. Runs of text that need none of this are copied
// whole (a reply is mostly one such run).
func appendCDATA(b []byte, s string) []byte {
	b = append(b, "<![CDATA["...)
	if cdataSafe(s) {
		b = append(b, s...)
		return append(b, "]]>"...)
	}
	start := 0
	for i, r := range s {
		switch {
		case r == '>' && closesCDATA(b, s[start:i]):
			b = append(b, s[start:i]...)
			b = append(b, "]]><![CDATA["...)
			start = i // the '>' opens the next section
		case r == utf8.RuneError:
			if !strings.HasPrefix(s[i:], "\uFFFD") { // a byte that is not UTF-8
				b = append(b, s[start:i]...)
				b = append(b, "\uFFFD"...)
				start = i + 1
			}
		case r == '\t' || r == '\n' || r == '\r' || (r >= 0x20 && r <= 0xD7FF) || (r >= 0xE000 && r <= 0xFFFD) || r >= 0x10000:
		default: // a character XML does not allow
			b = append(b, s[start:i]...)
			start = i + utf8.RuneLen(r)
		}
	}
	b = append(b, s[start:]...)
	return append(b, "]]>"...)
}

// cdataSafe reports whether s can go into a CDATA section as it is: valid
// UTF-8 with no "]]" (which a '>' could close), no control characters but
// tab and line ends, and no U+FFFE or U+FFFF. It reads bytes, not runes:
// the common case, a reply of Chinese text, costs a fraction of decoding.
func cdataSafe(s string) bool {
	for i := 0; i < len(s); i++ {
		if c := s[i]; c < 0x20 && c != '\t' && c != '\n' && c != '\r' {
			return false
		}
	}
	return utf8.ValidString(s) && !strings.Contains(s, "]]") &&
		!strings.Contains(s, "\uFFFE") && !strings.Contains(s, "\uFFFF")
}

// closesCDATA reports whether what is written so far, b followed by the
// pending run, ends in "]]", which a '>' would make the end of the section.
func closesCDATA(b []byte, run string) bool {
	var tail [2]byte
	n := 0
	for i := len(run) - 1; i >= 0 && n < 2; i-- {
		tail[1-n] = run[i]
		n++
	}
	for i := len(b) - 1; i >= 0 && n < 2; i-- {
		tail[1-n] = b[i]
		n++
	}
	return n == 2 && tail == [2]byte{']', ']'}
}

// Seal turns a plaintext reply into the bytes to write: unchanged in plain
// mode, encrypted and signed in safe mode. An empty reply becomes "success",
// never an encrypted empty message.
func (c *Codec) Seal(req *Request, plain []byte) ([]byte, error) {
	if len(plain) == 0 {
		return []byte("success"), nil
	}
	if !req.Safe {
		return plain, nil
	}
	random := make([]byte, 16)
	_, _ = rand.Read(random) // crypto/rand.Read never fails (Go 1.24+)
	// util.EncryptMsg takes the 16 random bytes as an alphanumeric prefix;
	// any bytes work for decryption, but WeChat's own replies use letters.
	for i := range random {
		random[i] = alnum[int(random[i])%len(alnum)]
	}
	enc, err := util.EncryptMsg(random, plain, c.appID, c.aesKey)
	if err != nil {
		return nil, fmt.Errorf("encrypt reply: %w", err)
	}
	ts := strconv.FormatInt(c.now().Unix(), 10)
	sig := util.Signature(c.token, ts, req.nonce, string(enc))
	// The envelope is written by hand, as TextReply is: encoding/xml spent
	// a third of sealing a reply escaping base64 that needs no escaping.
	// Encrypt is base64, MsgSignature hex and TimeStamp digits; the nonce
	// comes from the request and goes in CDATA.
	out := make([]byte, 0, len(enc)+len(sig)+len(ts)+len(req.nonce)+160)
	out = append(out, "<xml><Encrypt><![CDATA["...)
	out = append(out, enc...)
	out = append(out, "]]></Encrypt><MsgSignature><![CDATA["...)
	out = append(out, sig...)
	out = append(out, "]]></MsgSignature><TimeStamp>"...)
	out = append(out, ts...)
	out = append(out, "</TimeStamp><Nonce>"...)
	out = appendCDATA(out, req.nonce)
	out = append(out, "</Nonce></xml>"...)
	return out, nil
}

const alnum = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
