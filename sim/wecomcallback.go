package sim

import (
	"bytes"
	"context"
	"encoding/xml"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"github.com/silenceper/wechat/v2/util"
)

// WeComMessage is what a simulated member does in the WeCom application: a message or an
// event, posted to the service's WeCom callback exactly as WeCom posts it. It is also the
// body of POST /sim/api/wecom/send.
// https://developer.work.weixin.qq.com/document/path/90239 (messages)
// https://developer.work.weixin.qq.com/document/path/90240 (events)
type WeComMessage struct {
	UserID string `json:"userid"`
	Type   string `json:"type"` // text, image, location, event

	Content string `json:"content,omitempty"`  // text
	PicURL  string `json:"pic_url,omitempty"`  // image; a fake one when empty
	MediaID string `json:"media_id,omitempty"` // image; a fake one when empty

	Lat       float64 `json:"lat,omitempty"`   // location (Location_X) and LOCATION events (Latitude)
	Lng       float64 `json:"lng,omitempty"`   // location (Location_Y) and LOCATION events (Longitude)
	Scale     int     `json:"scale,omitempty"` // location: map zoom, default 15
	Label     string  `json:"label,omitempty"` // location: place description
	Precision float64 `json:"precision,omitempty"`

	Event    string `json:"event,omitempty"`     // enter_agent, click, view, LOCATION …
	EventKey string `json:"event_key,omitempty"` // click key, view url
}

// weComFailed is what the chat page shows when the callback failed. WeCom itself shows the
// member nothing, so the line says it is the simulator's.
const weComFailed = "（模拟器提示）应用的回调地址没有正常应答；企业微信不会提示成员"

// SendWeCom posts m to the WeCom callback (Options.WeComWebhookURL) as WeCom does: the query
// carries msg_signature, timestamp and nonce; the body is <xml> with ToUserName (the CorpID),
// AgentID and Encrypt, the message encrypted with the CorpID as receiveid; a silent callback
// gets the same message again, up to three deliveries. WeCom's passive reply may be empty
// (the service usually answers through /cgi-bin/message/send); a non-empty one must be
// encrypted and signed, and is decoded into Result.Reply. A userid that sends becomes a
// member of the corp.
func (s *Simulator) SendWeCom(ctx context.Context, m WeComMessage) (Result, error) {
	switch {
	case s.corpID == "":
		return Result{}, ErrWeComDisabled
	case s.weComCfgErr != nil:
		return Result{}, s.weComCfgErr
	case s.weComWebhookURL == "":
		return Result{}, fmt.Errorf("%w: wecom webhook url is empty", ErrNoWebhook)
	}
	if err := normalizeWeCom(&m); err != nil {
		return Result{}, err
	}

	s.mu.Lock()
	s.addMemberLocked(m.UserID)
	now := s.now()
	res := Result{CreateTime: now.Unix()}
	if m.Type != TypeEvent {
		res.MsgID = s.newMsgIDLocked()
	}
	s.appendLocked(Received{OpenID: m.UserID, Kind: KindUser, Channel: ChannelWeCom, MsgType: weComUserMsgType(m), Text: weComSummary(m), Time: now})
	s.mu.Unlock()

	plain := s.weComMessageXML(m, res.CreateTime, res.MsgID)
	log := s.log.With("userid", m.UserID, "msg_type", m.Type, "event", m.Event)
	log.DebugContext(ctx, "posting to wecom callback", "xml", string(plain))

	status, body, n, err := s.deliver(ctx, m.UserID, func(ctx context.Context) (*http.Request, error) {
		return s.weComRequest(ctx, plain)
	})
	res.Status, res.Deliveries = status, n
	reply, err := answerOf(status, body, err, func(b []byte) (*Reply, error) { return s.decodeWeComReply(m.UserID, b) })
	if err != nil {
		res.Error = err.Error()
		s.record(Received{OpenID: m.UserID, Kind: KindNotice, Channel: ChannelWeCom, MsgType: "notice", Text: weComFailed, Raw: err.Error()})
		log.InfoContext(ctx, "wecom callback failed", "deliveries", n, "status", status, "err", err)
		return res, fmt.Errorf("send wecom %s from %s: %w", m.Type, m.UserID, err)
	}
	res.Reply = reply
	if reply != nil {
		s.record(replyEntry(m.UserID, ChannelWeCom, reply))
	}
	return res, nil
}

// normalizeWeCom validates m and fills WeCom's defaults.
func normalizeWeCom(m *WeComMessage) error {
	if m.UserID == "" {
		return fmt.Errorf("%w: userid is required", ErrInvalidMessage)
	}
	switch m.Type {
	case TypeText:
		if m.Content == "" {
			return fmt.Errorf("%w: text needs content", ErrInvalidMessage)
		}
	case TypeImage:
		m.PicURL = orDefault(m.PicURL, "https://wework.qpic.cn/sim/"+randToken(24)+"/0")
		m.MediaID = orDefault(m.MediaID, "sim_img_"+randToken(24))
	case TypeLocation:
		if m.Scale == 0 {
			m.Scale = 15
		}
	case TypeEvent:
		if m.Event == "" {
			return fmt.Errorf("%w: event needs event", ErrInvalidMessage)
		}
	default:
		return fmt.Errorf("%w: unknown wecom type %q (text, image, location, event)", ErrInvalidMessage, m.Type)
	}
	return nil
}

// weComUserMsgType is the MsgType of a member's timeline entry: the message type, or the event.
func weComUserMsgType(m WeComMessage) string {
	if m.Type == TypeEvent {
		return m.Event
	}
	return m.Type
}

// weComSummary describes what the member did, for the timeline.
func weComSummary(m WeComMessage) string {
	switch m.Type {
	case TypeText:
		return m.Content
	case TypeLocation:
		return m.Label
	case TypeEvent:
		return m.EventKey
	}
	return ""
}

// weComMessageXML renders m as WeCom's plaintext XML: from the member's userid to the CorpID,
// with the application's AgentID.
func (s *Simulator) weComMessageXML(m WeComMessage, createTime, msgID int64) []byte {
	x := newXMLWriter(s.corpID, m.UserID, createTime, m.Type)
	id := strconv.FormatInt(msgID, 10)
	switch m.Type {
	case TypeText:
		x.cdata("Content", m.Content)
		x.num("MsgId", id)
	case TypeImage:
		x.cdata("PicUrl", m.PicURL)
		x.cdata("MediaId", m.MediaID)
		x.num("MsgId", id)
	case TypeLocation:
		x.num("Location_X", formatCoord(m.Lat))
		x.num("Location_Y", formatCoord(m.Lng))
		x.num("Scale", strconv.Itoa(m.Scale))
		x.cdata("Label", m.Label)
		x.num("MsgId", id)
	case TypeEvent:
		x.cdata("Event", m.Event)
		switch m.Event {
		case "LOCATION":
			x.num("Latitude", formatCoord(m.Lat))
			x.num("Longitude", formatCoord(m.Lng))
			x.num("Precision", strconv.FormatFloat(m.Precision, 'f', 6, 64))
			x.cdata("AppType", "wxwork")
		default: // enter_agent (empty key), click, view and the rest carry EventKey
			x.cdata("EventKey", m.EventKey)
		}
	}
	x.num("AgentID", strconv.Itoa(s.agentID))
	return x.finish()
}

// weComRequest builds one delivery of a message to the WeCom callback.
// https://developer.work.weixin.qq.com/document/path/90968 (encryption)
func (s *Simulator) weComRequest(ctx context.Context, plain []byte) (*http.Request, error) {
	ts := strconv.FormatInt(s.now().Unix(), 10)
	nonce := randString(10, digits)
	enc, err := util.EncryptMsg([]byte(randString(16, alnum)), plain, s.corpID, s.weComAESKey)
	if err != nil {
		return nil, fmt.Errorf("encrypt wecom message: %w", err)
	}
	x := &xmlWriter{}
	x.b.WriteString("<xml>\n")
	x.cdata("ToUserName", s.corpID)
	x.cdata("Encrypt", string(enc))
	x.cdata("AgentID", strconv.Itoa(s.agentID))
	target, err := withQuery(s.weComWebhookURL, url.Values{
		"msg_signature": {util.Signature(s.weComToken, ts, nonce, string(enc))},
		"timestamp":     {ts},
		"nonce":         {nonce},
	})
	if err != nil {
		return nil, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, target, bytes.NewReader(x.finish()))
	if err != nil {
		return nil, fmt.Errorf("build wecom callback request: %w", err)
	}
	req.Header.Set("Content-Type", "text/xml")
	req.Header.Set("User-Agent", "Mozilla/4.0")
	return req, nil
}

// decodeWeComReply verifies and decodes the callback's answer. An empty body (or "success")
// means no reply. Anything else must be WeCom's encrypted envelope with a matching
// MsgSignature and the CorpID as receiveid, around a reply to the member from the corp.
// https://developer.work.weixin.qq.com/document/path/90241 (passive replies)
func (s *Simulator) decodeWeComReply(userid string, body []byte) (*Reply, error) {
	trimmed := bytes.TrimSpace(body)
	if len(trimmed) == 0 || string(trimmed) == "success" {
		return nil, nil
	}
	var env replyXML
	if err := xml.Unmarshal(trimmed, &env); err != nil {
		return nil, badReply("answer is neither empty nor XML: %v", err)
	}
	if env.Encrypt == "" {
		return nil, badReply("plaintext reply: WeCom replies must be encrypted")
	}
	if want := util.Signature(s.weComToken, env.TimeStamp, env.Nonce, env.Encrypt); env.MsgSignature != want {
		return nil, badReply("MsgSignature does not match the encrypted reply")
	}
	_, raw, err := util.DecryptMsg(s.corpID, env.Encrypt, s.weComAESKey)
	if err != nil {
		return nil, badReply("decrypt reply: %v", err)
	}
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil, badReply("encrypted reply is empty (answer with an empty body when there is nothing to say)")
	}
	var plain replyXML
	if err := xml.Unmarshal(raw, &plain); err != nil {
		return nil, badReply("decrypted reply is not XML: %v", err)
	}
	return checkReply(plain, string(raw), userid, s.corpID)
}

// VerifyWeComURL does the GET check WeCom makes when an administrator saves the callback URL:
// msg_signature covers an encrypted echostr, and the callback must answer with the decrypted
// echostr in plain text.
// https://developer.work.weixin.qq.com/document/path/90930
func (s *Simulator) VerifyWeComURL(ctx context.Context) error {
	switch {
	case s.corpID == "":
		return ErrWeComDisabled
	case s.weComCfgErr != nil:
		return s.weComCfgErr
	case s.weComWebhookURL == "":
		return fmt.Errorf("%w: wecom webhook url is empty", ErrNoWebhook)
	}
	ts := strconv.FormatInt(s.now().Unix(), 10)
	nonce := randString(10, digits)
	echo := randString(19, digits)
	enc, err := util.EncryptMsg([]byte(randString(16, alnum)), []byte(echo), s.corpID, s.weComAESKey)
	if err != nil {
		return fmt.Errorf("encrypt echostr: %w", err)
	}
	target, err := withQuery(s.weComWebhookURL, url.Values{
		"msg_signature": {util.Signature(s.weComToken, ts, nonce, string(enc))},
		"timestamp":     {ts},
		"nonce":         {nonce},
		"echostr":       {string(enc)},
	})
	if err != nil {
		return err
	}
	return s.verifyEcho(ctx, target, echo)
}
