package main

import (
	"fmt"
	"strconv"

	"github.com/silenceper/wechat/v2/util"
)

// openIDLen is the length of a real openid ("oXXXX…", 28 characters).
const openIDLen = 28

// conversationTexts are what citizens type, in the order one of them would:
// a greeting, menu choices, a status query. Short on purpose: the load is on
// the protocol and the store, not on text handling.
var conversationTexts = []string{"你好", "1", "2", "查询进度", "3", "谢谢"}

// questionTexts are free-text questions, each answered by an entry of the
// built-in knowledge base (flows/intake/defaults/kb.yaml): the front door
// reads the whole sentence before the answer is found.
var questionTexts = []string{
	"请问低保怎么申请？", "申请低保要准备什么材料", "低保金每个月几号发放？", "老人的高龄津贴怎么领",
	"想问一下临时救助怎么申请", "怎么申请入住养老院？", "特困供养需要什么条件", "高龄津贴每年要认证吗",
}

// textSet is what the openids of a run say: each one the texts in turn,
// from the first (a conversation) or from its own place (questions, so
// that consecutive openids ask different ones).
type textSet struct {
	texts     []string
	staggered bool
}

// textSets are the -texts choices.
var textSets = map[string]textSet{
	"conversation": {texts: conversationTexts},
	"question":     {texts: questionTexts, staggered: true},
}

// openID returns the k-th openid of the pool: "o" and k zero-padded to the
// length of a real openid.
func openID(k int) string {
	return fmt.Sprintf("o%0*d", openIDLen-1, k)
}

// generator builds the i-th request of a run. Everything that varies is a pure
// function of i and the run's random bases, so requests can be built in
// parallel, in any order, and never repeat a MsgId or a nonce.
type generator struct {
	acct      account
	to        string // the Official Account's original ID, gh_…
	openids   int
	random    bool   // spread requests randomly over the pool instead of round robin
	seed      uint64 // for the random spread and the safe-mode random prefix
	msgIDBase int64  // above 2^53, as real MsgIds are
	nonceBase uint64
	timestamp int64
	texts     textSet
}

// prepared is a request ready to send: its query string, its body, and the
// index of the openid it comes from (to check who a reply is addressed to).
type prepared struct {
	query string
	body  string
	from  int32
}

// sender returns the openid index of request i and which of that openid's
// messages it is.
func (g *generator) sender(i int) (k, turn int) {
	if g.random {
		h := mix64(g.seed ^ uint64(i))
		return int(h % uint64(g.openids)), int(h >> 40)
	}
	return i % g.openids, i / g.openids
}

// text is what openid k says in its turn-th message: the conversation in
// order, or a question, different from one openid to the next.
func (g *generator) text(k, turn int) string {
	if g.texts.staggered {
		turn += k
	}
	return g.texts.texts[turn%len(g.texts.texts)]
}

// request builds request i: a text message exactly as WeChat posts it, signed,
// and in safe mode sealed with the AES key.
//
// https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_standard_messages.html
func (g *generator) request(i int) (prepared, error) {
	k, turn := g.sender(i)
	from := openID(k)
	ts := strconv.FormatInt(g.timestamp, 10)
	nonce := strconv.FormatUint(g.nonceBase+uint64(i), 10)
	msg := textMessage(g.to, from, g.timestamp, g.text(k, turn), g.msgIDBase+int64(i))

	// WeChat sends signature, timestamp, nonce and openid in plain mode, and
	// adds encrypt_type and msg_signature in safe mode. Every value is hex,
	// digits or an openid, so nothing needs escaping.
	query := "signature=" + util.Signature(g.acct.token, ts, nonce) +
		"&timestamp=" + ts + "&nonce=" + nonce + "&openid=" + from
	if !g.acct.safe() {
		return prepared{query: query, body: string(msg), from: int32(k)}, nil
	}
	enc, err := util.EncryptMsg(g.randomPrefix(i), msg, g.acct.appID, g.acct.aesKey)
	if err != nil {
		return prepared{}, fmt.Errorf("encrypt message %d: %w", i, err)
	}
	query += "&encrypt_type=aes&msg_signature=" + util.Signature(g.acct.token, ts, nonce, string(enc))
	body := "<xml><ToUserName><![CDATA[" + g.to + "]]></ToUserName><Encrypt><![CDATA[" + string(enc) + "]]></Encrypt></xml>"
	return prepared{query: query, body: body, from: int32(k)}, nil
}

// randomPrefix returns the 16 random alphanumeric bytes that safe mode puts in
// front of the plaintext.
func (g *generator) randomPrefix(i int) []byte {
	const alphabet = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789"
	b := make([]byte, 16)
	h := mix64(g.seed + uint64(i)*0x9e3779b97f4a7c15)
	for j := range b {
		if j == 8 {
			h = mix64(h)
		}
		b[j] = alphabet[h%uint64(len(alphabet))]
		h /= uint64(len(alphabet))
	}
	return b
}

// textMessage renders a text message with WeChat's layout: CDATA for strings,
// bare numbers, one element per line.
func textMessage(to, from string, createTime int64, content string, msgID int64) []byte {
	b := make([]byte, 0, 256)
	b = append(b, "<xml><ToUserName><![CDATA["...)
	b = append(b, to...)
	b = append(b, "]]></ToUserName>\n<FromUserName><![CDATA["...)
	b = append(b, from...)
	b = append(b, "]]></FromUserName>\n<CreateTime>"...)
	b = strconv.AppendInt(b, createTime, 10)
	b = append(b, "</CreateTime>\n<MsgType><![CDATA[text]]></MsgType>\n<Content><![CDATA["...)
	b = append(b, content...)
	b = append(b, "]]></Content>\n<MsgId>"...)
	b = strconv.AppendInt(b, msgID, 10)
	b = append(b, "</MsgId>\n</xml>"...)
	return b
}

// mix64 is SplitMix64's finaliser: a cheap, well-spread hash of i.
func mix64(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}
