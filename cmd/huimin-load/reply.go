package main

import (
	"bytes"
	"encoding/xml"
	"errors"
	"fmt"
	"strconv"

	"github.com/silenceper/wechat/v2/officialaccount/message"
	"github.com/silenceper/wechat/v2/util"
)

// Reply classes, as counted in the report.
const (
	replySuccess = "success"
	replyEmpty   = "empty"
	replyXML     = "xml"
)

// failure is a request that did not get a valid answer; kind groups it in the
// report ("transport", "status_500", "bad_reply", …).
type failure struct {
	kind string
	err  error
}

func (f *failure) Error() string { return f.kind + ": " + f.err.Error() }
func (f *failure) Unwrap() error { return f.err }

func fail(kind string, format string, args ...any) *failure {
	return &failure{kind: kind, err: fmt.Errorf(format, args...)}
}

// passiveReply is the part of a passive reply every message type shares.
//
// https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Passive_user_reply_message.html
type passiveReply struct {
	ToUserName   string `xml:"ToUserName"`
	FromUserName string `xml:"FromUserName"`
	CreateTime   int64  `xml:"CreateTime"`
	MsgType      string `xml:"MsgType"`
}

// replyChecker decides whether a webhook's answer is one WeChat accepts:
// "success", an empty body, or a passive reply addressed to the sender (in
// safe mode: encrypted, with a valid MsgSignature).
type replyChecker struct {
	acct account
	to   string // the Official Account's original ID
}

// check classifies body, the answer to a message from the sender-th openid, or
// returns a *failure saying why WeChat would reject it.
func (c replyChecker) check(body []byte, sender int) (string, error) {
	body = bytes.TrimSpace(body)
	switch {
	case len(body) == 0:
		return replyEmpty, nil
	case string(body) == "success":
		return replySuccess, nil
	}
	raw := body
	if c.acct.safe() {
		var env message.ResponseEncryptedXMLMsg
		if err := xml.Unmarshal(body, &env); err != nil {
			return "", fail("bad_reply", "parse encrypted reply %.64q: %w", body, err)
		}
		if env.EncryptedMsg == "" {
			return "", fail("bad_reply", "reply is not encrypted: %.64q", body)
		}
		want := util.Signature(c.acct.token, strconv.FormatInt(env.Timestamp, 10), env.Nonce, env.EncryptedMsg)
		if env.MsgSignature != want {
			return "", fail("bad_reply_signature", "reply MsgSignature %q, want %q", env.MsgSignature, want)
		}
		_, plain, err := util.DecryptMsg(c.acct.appID, env.EncryptedMsg, c.acct.aesKey)
		if err != nil {
			return "", &failure{kind: "bad_reply_decrypt", err: err}
		}
		raw = plain
	}
	openid := openID(sender)
	var r passiveReply
	if err := xml.Unmarshal(raw, &r); err != nil {
		return "", fail("bad_reply", "parse reply %.64q: %w", raw, err)
	}
	switch {
	case r.MsgType == "":
		return "", &failure{kind: "bad_reply", err: errors.New("reply has no MsgType")}
	case r.ToUserName != openid:
		return "", fail("bad_reply", "reply to %q, want %q", r.ToUserName, openid)
	case r.FromUserName != c.to:
		return "", fail("bad_reply", "reply from %q, want %q", r.FromUserName, c.to)
	}
	return replyXML, nil
}
