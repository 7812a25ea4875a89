package wecom

import (
	"crypto/rand"
	"encoding/xml"
	"fmt"
	"net/url"
	"strconv"
	"time"

	"github.com/silenceper/wechat/v2/util"

	"huimin/bot/wechat"
	"huimin/bot/wxapi"
	"huimin/chat"
)

// Errors VerifyURL and Open return, the same for both channels (see wxapi); the callback
// handler maps them to HTTP statuses.
var (
	// ErrSignature means msg_signature, timestamp or nonce is missing, or the signature is
	// wrong (403).
	ErrSignature = wxapi.ErrSignature
	// ErrMalformed means the body or query cannot be understood (400).
	ErrMalformed = wxapi.ErrMalformed
	// ErrDecrypt means the ciphertext does not decrypt or carries another CorpID (400).
	ErrDecrypt = wxapi.ErrDecrypt
	// ErrStale means a signed request too old or too new for the clock, or
	// one seen before (403).
	ErrStale = wxapi.ErrStale
)

// MaxReplyBytes is the limit this package keeps for a passive text reply's content, as on
// the Official Account.
const MaxReplyBytes = wechat.MaxTextBytes

// Codec verifies, opens and answers the callback requests of one WeCom application.
type Codec struct {
	token, corpID, aesKey string
	now                   func() time.Time
	maxSkew               time.Duration
}

// NewCodec returns a Codec for the application's callback Token and EncodingAESKey, in the
// corp corpID. WeCom encrypts every callback, so aesKey is required; Open and VerifyURL
// report ErrDecrypt when it is unusable.
func NewCodec(token, corpID, aesKey string, now func() time.Time) *Codec {
	if now == nil {
		now = time.Now
	}
	return &Codec{token: token, corpID: corpID, aesKey: aesKey, now: now, maxSkew: wxapi.DefaultMaxClockSkew}
}

// SetMaxClockSkew sets how far a POST's timestamp may be from the clock
// (default wxapi.DefaultMaxClockSkew); a request outside it is refused with
// ErrStale.
func (c *Codec) SetMaxClockSkew(d time.Duration) {
	if d > 0 {
		c.maxSkew = d
	}
}

// Message is a WeCom callback message or event, decoded from the plaintext XML. MsgID is a
// string because WeCom's message IDs are 64-bit.
// https://developer.work.weixin.qq.com/document/path/90239
type Message struct {
	ToUserName   string `xml:"ToUserName"`   // the CorpID
	FromUserName string `xml:"FromUserName"` // the member's userid
	CreateTime   int64  `xml:"CreateTime"`
	MsgType      string `xml:"MsgType"`
	MsgID        string `xml:"MsgId"`
	AgentID      string `xml:"AgentID"`

	Content      string `xml:"Content"`      // text
	PicURL       string `xml:"PicUrl"`       // image, link
	MediaID      string `xml:"MediaId"`      // image, voice, video
	Format       string `xml:"Format"`       // voice
	ThumbMediaID string `xml:"ThumbMediaId"` // video

	LocationX float64 `xml:"Location_X"` // location: latitude
	LocationY float64 `xml:"Location_Y"` // location: longitude
	Scale     int     `xml:"Scale"`
	Label     string  `xml:"Label"`

	Title       string `xml:"Title"` // link
	Description string `xml:"Description"`
	URL         string `xml:"Url"`

	Event     string  `xml:"Event"` // enter_agent, click, view, LOCATION, subscribe …
	EventKey  string  `xml:"EventKey"`
	Latitude  float64 `xml:"Latitude"` // LOCATION event
	Longitude float64 `xml:"Longitude"`
	Precision float64 `xml:"Precision"`
}

// Request is an opened callback POST.
type Request struct {
	// Message is WeCom's decoded message or event.
	Message *Message
	// AgentID is the application's agentid from the envelope.
	AgentID string
	// Plain is the decrypted XML of the message.
	Plain     []byte
	timestamp string
	nonce     string
}

// ReplayKey identifies this request among all signed ones: its timestamp
// and nonce, which WeCom never sends twice. Seeing it again means the
// request was copied and replayed.
func (r *Request) ReplayKey() string { return r.timestamp + ":" + r.nonce }

// envelope is the encrypted POST body: <xml><ToUserName/><AgentID/><Encrypt/></xml>.
type envelope struct {
	ToUserName string `xml:"ToUserName"`
	AgentID    string `xml:"AgentID"`
	Encrypt    string `xml:"Encrypt"`
}

// VerifyURL answers the GET check WeCom makes when the callback URL is saved: msg_signature
// covers the encrypted echostr, and the answer is the decrypted echostr.
// https://developer.work.weixin.qq.com/document/path/90930
func (c *Codec) VerifyURL(q url.Values) (string, error) {
	echo := q.Get("echostr")
	if !c.signatureOK(q, echo) {
		return "", ErrSignature
	}
	if echo == "" {
		return "", fmt.Errorf("%w: no echostr", ErrMalformed)
	}
	plain, err := c.decrypt(echo)
	if err != nil {
		return "", err
	}
	return string(plain), nil
}

// Open verifies a callback POST's msg_signature over its Encrypt element, decrypts it (the
// receiveid inside must be the CorpID) and decodes the message.
func (c *Codec) Open(q url.Values, body []byte) (*Request, error) {
	if q.Get("msg_signature") == "" || q.Get("timestamp") == "" || q.Get("nonce") == "" {
		return nil, ErrSignature
	}
	// The signature covers the ciphertext inside the envelope: an envelope
	// that cannot be read cannot be shown to be WeCom's, so it is refused
	// as unsigned (403) before anything else is said about it.
	var env envelope
	if err := xml.Unmarshal(body, &env); err != nil {
		return nil, fmt.Errorf("%w: envelope unreadable: %w", ErrSignature, err)
	}
	if env.Encrypt == "" || !c.signatureOK(q, env.Encrypt) {
		return nil, ErrSignature
	}
	if err := wxapi.CheckFresh(q.Get("timestamp"), q.Get("nonce"), c.now(), c.maxSkew); err != nil {
		return nil, err
	}
	plain, err := c.decrypt(env.Encrypt)
	if err != nil {
		return nil, err
	}
	var m Message
	if err := xml.Unmarshal(plain, &m); err != nil {
		return nil, fmt.Errorf("%w: message: %w", ErrMalformed, err)
	}
	if m.FromUserName == "" || m.MsgType == "" {
		return nil, fmt.Errorf("%w: no FromUserName or MsgType", ErrMalformed)
	}
	return &Request{Message: &m, AgentID: env.AgentID, Plain: plain, timestamp: q.Get("timestamp"), nonce: q.Get("nonce")}, nil
}

// signatureOK checks msg_signature over the token, timestamp, nonce and ciphertext.
func (c *Codec) signatureOK(q url.Values, ciphertext string) bool {
	return wxapi.SignatureOK(c.token, q.Get("msg_signature"), q.Get("timestamp"), q.Get("nonce"), ciphertext)
}

// decrypt opens a ciphertext, whose receiveid inside must be the CorpID.
func (c *Codec) decrypt(ciphertext string) ([]byte, error) {
	plain, err := wxapi.Decrypt(c.corpID, ciphertext, c.aesKey)
	if err != nil {
		return nil, fmt.Errorf("%w: %w", ErrDecrypt, err)
	}
	return plain, nil
}

// cdata renders a string as <![CDATA[…]]>.
type cdata struct {
	Value string `xml:",cdata"`
}

// textReplyXML is a passive text reply's plaintext.
type textReplyXML struct {
	XMLName      xml.Name `xml:"xml"`
	ToUserName   cdata
	FromUserName cdata
	CreateTime   int64
	MsgType      cdata
	Content      cdata
}

// encryptedReplyXML is the envelope of an encrypted passive reply.
type encryptedReplyXML struct {
	XMLName      xml.Name `xml:"xml"`
	Encrypt      cdata
	MsgSignature cdata
	TimeStamp    int64
	Nonce        cdata
}

// TextReply renders the encrypted passive reply carrying text to the sender of req, cut to
// MaxReplyBytes on a rune boundary. An empty text gives nil: WeCom wants an empty 200 when
// there is nothing to say (the service usually answers with Client.SendText instead).
// https://developer.work.weixin.qq.com/document/path/90241
func (c *Codec) TextReply(req *Request, text string) ([]byte, error) {
	if text == "" {
		return nil, nil
	}
	now := c.now().Unix()
	plain, err := xml.Marshal(textReplyXML{
		ToUserName:   cdata{req.Message.FromUserName},
		FromUserName: cdata{c.corpID},
		CreateTime:   now,
		MsgType:      cdata{"text"},
		Content:      cdata{chat.CutBytes(text, MaxReplyBytes)},
	})
	if err != nil {
		return nil, fmt.Errorf("render text reply: %w", err)
	}
	random := make([]byte, 16)
	_, _ = rand.Read(random) // crypto/rand.Read never fails (Go 1.24+)
	for i := range random {
		random[i] = alnum[int(random[i])%len(alnum)]
	}
	enc, err := util.EncryptMsg(random, plain, c.corpID, c.aesKey)
	if err != nil {
		return nil, fmt.Errorf("encrypt reply: %w", err)
	}
	out, err := xml.Marshal(encryptedReplyXML{
		Encrypt:      cdata{string(enc)},
		MsgSignature: cdata{util.Signature(c.token, strconv.FormatInt(now, 10), req.nonce, string(enc))},
		TimeStamp:    now,
		Nonce:        cdata{req.nonce},
	})
	if err != nil {
		return nil, fmt.Errorf("render encrypted reply: %w", err)
	}
	return out, nil
}

const alnum = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
