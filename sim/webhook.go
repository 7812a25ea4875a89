package sim

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"strconv"

	"huimin/chat"

	"github.com/silenceper/wechat/v2/util"
)

// maxReplyBody caps how much of the webhook's answer is read.
const maxReplyBody = 1 << 20

// deliver posts a message to a webhook like WeChat and WeCom do: each delivery is a request
// from build (signed, encrypted as the platform does, with a fresh timestamp and nonce), and
// the message is posted again when no answer arrives within the HTTP client's timeout, up to
// three deliveries in all. It returns the answering delivery's status and body, and how many
// deliveries it took. who (an openid or a userid) is for the logs.
func (s *Simulator) deliver(ctx context.Context, who string, build func(context.Context) (*http.Request, error)) (int, []byte, int, error) {
	var lastErr error
	for n := 1; n <= maxDeliveries; n++ {
		req, err := build(ctx)
		if err != nil {
			return 0, nil, n - 1, err
		}
		resp, err := s.client.Do(req)
		if err == nil {
			body, readErr := io.ReadAll(io.LimitReader(resp.Body, maxReplyBody))
			_ = resp.Body.Close() // read in full already; a close error changes nothing
			if readErr == nil {
				return resp.StatusCode, body, n, nil
			}
			err = readErr
		}
		if ctx.Err() != nil {
			return 0, nil, n, fmt.Errorf("post to webhook: %w", ctx.Err())
		}
		lastErr = err
		s.log.InfoContext(ctx, "webhook delivery failed", "to", who, "delivery", n, "err", err)
	}
	return 0, nil, maxDeliveries, fmt.Errorf("%w after %d deliveries: %w", ErrNoAnswer, maxDeliveries, lastErr)
}

// officialRequest returns deliver's request builder for a message of the Official Account.
func (s *Simulator) officialRequest(openid string, plain []byte) func(context.Context) (*http.Request, error) {
	return func(ctx context.Context) (*http.Request, error) { return s.webhookRequest(ctx, openid, plain) }
}

// webhookRequest builds one delivery of a message.
// https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Message_encryption_and_decryption_instructions.html
func (s *Simulator) webhookRequest(ctx context.Context, openid string, plain []byte) (*http.Request, error) {
	ts := strconv.FormatInt(s.now().Unix(), 10)
	nonce := randString(10, digits)
	params := url.Values{
		"signature": {util.Signature(s.token, ts, nonce)},
		"timestamp": {ts},
		"nonce":     {nonce},
		"openid":    {openid},
	}
	body := plain
	if s.mode != ModePlain {
		enc, err := util.EncryptMsg([]byte(randString(16, alnum)), plain, s.appID, s.aesKey)
		if err != nil {
			return nil, fmt.Errorf("encrypt message: %w", err)
		}
		params.Set("encrypt_type", "aes")
		params.Set("msg_signature", util.Signature(s.token, ts, nonce, string(enc)))
		if s.mode == ModeSafe {
			x := &xmlWriter{}
			x.b.WriteString("<xml>\n")
			x.cdata("ToUserName", s.originalID)
			x.cdata("Encrypt", string(enc))
			body = x.finish()
		} else {
			// Compatible mode: the plaintext fields and Encrypt side by side.
			end := bytes.LastIndex(plain, []byte("</xml>"))
			x := &xmlWriter{}
			x.b.Write(plain[:end])
			x.cdata("Encrypt", string(enc))
			body = x.finish()
		}
	}
	target, err := s.webhookRequestURL(params)
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(body))
	if err != nil {
		return nil, fmt.Errorf("build webhook request: %w", err)
	}
	req.Header.Set("Content-Type", "text/xml")
	req.Header.Set("User-Agent", "Mozilla/4.0")
	return req, nil
}

// replyXML is every field a passive reply, plain or encrypted, may carry.
// https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Passive_user_reply_message.html
type replyXML struct {
	XMLName      xml.Name `xml:"xml"`
	ToUserName   string   `xml:"ToUserName"`
	FromUserName string   `xml:"FromUserName"`
	CreateTime   string   `xml:"CreateTime"`
	MsgType      string   `xml:"MsgType"`
	Content      string   `xml:"Content"`
	Image        struct {
		MediaID string `xml:"MediaId"`
	} `xml:"Image"`
	Voice struct {
		MediaID string `xml:"MediaId"`
	} `xml:"Voice"`
	Video struct {
		MediaID     string `xml:"MediaId"`
		Title       string `xml:"Title"`
		Description string `xml:"Description"`
	} `xml:"Video"`
	Music struct {
		Title       string `xml:"Title"`
		Description string `xml:"Description"`
	} `xml:"Music"`
	ArticleCount int `xml:"ArticleCount"`
	Articles     []struct {
		Title       string `xml:"Title"`
		Description string `xml:"Description"`
		PicURL      string `xml:"PicUrl"`
		URL         string `xml:"Url"`
	} `xml:"Articles>item"`

	// Safe mode envelope.
	Encrypt      string `xml:"Encrypt"`
	MsgSignature string `xml:"MsgSignature"`
	TimeStamp    string `xml:"TimeStamp"`
	Nonce        string `xml:"Nonce"`
}

// badReply wraps ErrBadReply with a reason.
func badReply(format string, args ...any) error {
	return fmt.Errorf("%w: %s", ErrBadReply, fmt.Sprintf(format, args...))
}

// decodeReply verifies and decodes the webhook's answer. "success" or an empty body means no
// reply. In safe mode the reply must be encrypted, its MsgSignature must match and the AppID
// inside must be the account's; compatible mode takes either form; plain mode only plaintext.
func (s *Simulator) decodeReply(openid string, body []byte) (*Reply, error) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 || string(trimmed) == "success" {
		return nil, nil
	}
	var env replyXML
	if err := xml.Unmarshal(trimmed, &env); err != nil {
		return nil, badReply("answer is neither \"success\" nor XML: %v", err)
	}
	plain := trimmed
	switch {
	case env.Encrypt != "" && s.mode == ModePlain:
		return nil, badReply("encrypted reply, but the account is in plain mode")
	case env.Encrypt != "":
		if want := util.Signature(s.token, env.TimeStamp, env.Nonce, env.Encrypt); env.MsgSignature != want {
			return nil, badReply("MsgSignature does not match the encrypted reply")
		}
		_, raw, err := util.DecryptMsg(s.appID, env.Encrypt, s.aesKey)
		if err != nil {
			return nil, badReply("decrypt reply: %v", err)
		}
		if len(bytes.TrimSpace(raw)) == 0 {
			return nil, badReply("encrypted reply is empty (answer \"success\" when there is nothing to say)")
		}
		plain = raw
		env = replyXML{}
		if err := xml.Unmarshal(raw, &env); err != nil {
			return nil, badReply("decrypted reply is not XML: %v", err)
		}
	case s.mode == ModeSafe:
		return nil, badReply("plaintext reply, but the account is in safe mode")
	}
	return checkReply(env, string(plain), openid, s.originalID)
}

// checkReply validates a plaintext reply: addressed back to the user from the account, of a
// type a passive reply may have, with its content present.
func checkReply(env replyXML, raw, openid, originalID string) (*Reply, error) {
	if env.ToUserName != openid {
		return nil, badReply("ToUserName %q is not the user %q", env.ToUserName, openid)
	}
	if env.FromUserName != originalID {
		return nil, badReply("FromUserName %q is not the account %q", env.FromUserName, originalID)
	}
	if _, err := strconv.ParseInt(env.CreateTime, 10, 64); err != nil {
		return nil, badReply("CreateTime %q is not a number", env.CreateTime)
	}
	r := &Reply{MsgType: env.MsgType, XML: raw}
	var missing bool
	switch env.MsgType {
	case "text":
		r.Content, missing = env.Content, env.Content == ""
	case "image":
		r.MediaID, missing = env.Image.MediaID, env.Image.MediaID == ""
	case "voice":
		r.MediaID, missing = env.Voice.MediaID, env.Voice.MediaID == ""
	case "video":
		r.MediaID, r.Title, r.Description = env.Video.MediaID, env.Video.Title, env.Video.Description
		missing = env.Video.MediaID == ""
	case "music":
		r.Title, r.Description = env.Music.Title, env.Music.Description
	case "news":
		if env.ArticleCount != len(env.Articles) || len(env.Articles) == 0 || len(env.Articles) > 8 {
			return nil, badReply("news has ArticleCount %d and %d articles (1 to 8 allowed)", env.ArticleCount, len(env.Articles))
		}
		for _, a := range env.Articles {
			r.Articles = append(r.Articles, Article{Title: a.Title, Description: a.Description, URL: a.URL, PicURL: a.PicURL})
		}
	case "transfer_customer_service":
	default:
		return nil, badReply("MsgType %q cannot be a passive reply", env.MsgType)
	}
	if missing {
		return nil, badReply("%s reply has no content", env.MsgType)
	}
	return r, nil
}

// VerifyURL does the GET echostr handshake WeChat does when an administrator saves the
// server URL in the console: the webhook must check the signature and echo echostr.
func (s *Simulator) VerifyURL(ctx context.Context) error {
	if s.cfgErr != nil {
		return s.cfgErr
	}
	if s.webhookURL == "" {
		return ErrNoWebhook
	}
	ts := strconv.FormatInt(s.now().Unix(), 10)
	nonce := randString(10, digits)
	echo := randString(19, digits)
	target, err := s.webhookRequestURL(url.Values{
		"signature": {util.Signature(s.token, ts, nonce)},
		"timestamp": {ts},
		"nonce":     {nonce},
		"echostr":   {echo},
	})
	if err != nil {
		return err
	}
	return s.verifyEcho(ctx, target, echo)
}

// verifyEcho sends the URL check to target and wants echo back as the
// whole answer: the echostr itself, or in WeCom's case its plaintext.
func (s *Simulator) verifyEcho(ctx context.Context, target, echo string) error {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return fmt.Errorf("build verify request: %w", err)
	}
	resp, err := s.client.Do(req)
	if err != nil {
		return fmt.Errorf("%w: %w", ErrVerify, err)
	}
	defer func() { _ = resp.Body.Close() }()
	body, err := io.ReadAll(io.LimitReader(resp.Body, 1024))
	if err != nil {
		return fmt.Errorf("%w: read answer: %w", ErrVerify, err)
	}
	if resp.StatusCode != http.StatusOK {
		return fmt.Errorf("%w: HTTP %d", ErrVerify, resp.StatusCode)
	}
	if string(body) != echo {
		return fmt.Errorf("%w: answer %q is not the echostr %q", ErrVerify, chat.CutBytes(string(body), 64), echo)
	}
	return nil
}
