package sim

import (
	"bytes"
	"context"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"huimin/chat"
)

// Message types a simulated user can send (Message.Type).
const (
	TypeText       = "text"
	TypeImage      = "image"
	TypeVoice      = "voice"
	TypeVideo      = "video"
	TypeShortVideo = "shortvideo"
	TypeLocation   = "location"
	TypeLink       = "link"
	TypeEvent      = "event"
	// TypeScan is the simulator's shorthand for scanning a QR code: it becomes a subscribe
	// event with EventKey qrscene_<scene> for a user who does not follow yet, else a SCAN
	// event with the bare scene, both with the Ticket.
	TypeScan = "scan"
)

// Message is what a simulated user does: a message or an event, posted to the webhook exactly
// as WeChat posts it. It is also the body of POST /sim/api/send.
type Message struct {
	OpenID string `json:"openid"`
	Type   string `json:"type"` // text, image, voice, video, shortvideo, location, link, event, scan

	Content      string `json:"content,omitempty"`      // text
	BizMsgMenuID string `json:"bizmsgmenuid,omitempty"` // text: the tapped msgmenu choice's id
	Recognition  string `json:"recognition,omitempty"`  // voice: WeChat's speech-to-text
	Format       string `json:"format,omitempty"`       // voice: default amr
	PicURL       string `json:"pic_url,omitempty"`      // image; a fake one when empty
	MediaID      string `json:"media_id,omitempty"`     // image, voice, video, shortvideo; a fake one when empty
	ThumbMediaID string `json:"thumb_media_id,omitempty"`

	Lat       float64 `json:"lat,omitempty"`   // location (Location_X) and LOCATION events (Latitude)
	Lng       float64 `json:"lng,omitempty"`   // location (Location_Y) and LOCATION events (Longitude)
	Scale     int     `json:"scale,omitempty"` // location: map zoom, default 15
	Label     string  `json:"label,omitempty"` // location: place description
	Precision float64 `json:"precision,omitempty"`

	Title       string `json:"title,omitempty"` // link
	Description string `json:"description,omitempty"`
	URL         string `json:"url,omitempty"`

	Event    string `json:"event,omitempty"`     // subscribe, unsubscribe, SCAN, LOCATION, CLICK, VIEW, subscribe_msg_popup_event …
	EventKey string `json:"event_key,omitempty"` // CLICK key, VIEW url, qrscene_…/scene, scancode result …
	Ticket   string `json:"ticket,omitempty"`    // QR ticket for subscribe/SCAN and TypeScan
	MenuID   string `json:"menu_id,omitempty"`   // VIEW: the conditional menu's id

	// Subscriptions are the user's choices in a subscribe_msg_popup_event; each "accept"
	// allows the account one bizsend of that template.
	Subscriptions []Subscription `json:"subscriptions,omitempty"`
}

// Subscription is one template of a subscribe-notice popup and the user's choice.
type Subscription struct {
	TemplateID string `json:"template_id"`
	Status     string `json:"status"` // accept or reject
}

// Result is what happened to one message: how the webhook answered, after how many
// deliveries, and the decoded passive reply.
type Result struct {
	Status     int    `json:"status"`                  // HTTP status of the answering delivery; 0 when none answered
	Reply      *Reply `json:"reply"`                   // nil when the answer was "success" or empty
	Deliveries int    `json:"deliveries"`              // POSTs it took (WeChat makes up to 3)
	MsgID      int64  `json:"msg_id,omitempty,string"` // the MsgId posted (messages only, not events)
	CreateTime int64  `json:"create_time"`
	Error      string `json:"error,omitempty"`
}

// Reply is a decoded passive reply.
type Reply struct {
	MsgType     string    `json:"msg_type"` // text, image, voice, video, music, news, transfer_customer_service
	Content     string    `json:"content,omitempty"`
	MediaID     string    `json:"media_id,omitempty"`
	Title       string    `json:"title,omitempty"`
	Description string    `json:"description,omitempty"`
	Articles    []Article `json:"articles,omitempty"`
	XML         string    `json:"xml"` // the reply's plaintext XML
}

// Events after which WeChat lets the account send customer-service messages for 48 hours;
// user messages do too.
// https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Service_Center_messages.html
func opensWindow(m Message) bool {
	if m.Type != TypeEvent {
		return true
	}
	switch m.Event {
	case "subscribe", "SCAN", "CLICK", "scancode_push", "scancode_waitmsg":
		return true
	}
	return false
}

// Send posts m to the webhook as WeChat does and decodes the passive reply. The user's state
// changes first (follow, unfollow, the customer-service window), as it does on WeChat whether
// or not the service answers. When the webhook fails, Send returns the Result so far with an
// error, and the user's timeline shows WeChat's 该公众号暂时无法提供服务 notice.
func (s *Simulator) Send(ctx context.Context, m Message) (Result, error) {
	if s.cfgErr != nil {
		return Result{}, s.cfgErr
	}
	if s.webhookURL == "" {
		return Result{}, ErrNoWebhook
	}
	if err := normalize(&m); err != nil {
		return Result{}, err
	}

	s.mu.Lock()
	if m.Type == TypeScan {
		if err := s.resolveScanLocked(&m); err != nil {
			s.mu.Unlock()
			return Result{}, err
		}
	}
	if err := s.applyUserActionLocked(m); err != nil {
		s.mu.Unlock()
		return Result{}, err
	}
	now := s.now()
	res := Result{CreateTime: now.Unix()}
	if m.Type != TypeEvent {
		res.MsgID = s.newMsgIDLocked()
	}
	s.appendLocked(Received{OpenID: m.OpenID, Kind: KindUser, MsgType: userMsgType(m), Text: summarize(m), Time: now})
	s.mu.Unlock()

	plain := s.messageXML(m, res.CreateTime, res.MsgID)
	log := s.log.With("openid", chat.Cut(m.OpenID, 64), "msg_type", chat.Cut(m.Type, 32), "event", chat.Cut(m.Event, 32))
	log.DebugContext(ctx, "posting to webhook", "xml", string(plain))

	status, body, n, err := s.deliver(ctx, m.OpenID, s.officialRequest(m.OpenID, plain))
	res.Status, res.Deliveries = status, n
	reply, err := answerOf(status, body, err, func(b []byte) (*Reply, error) { return s.decodeReply(m.OpenID, b) })
	silent := m.Type == TypeEvent && m.Event == "unsubscribe" // the user is gone: WeChat drops the answer
	if err != nil {
		res.Error = err.Error()
		if !silent {
			s.record(Received{OpenID: m.OpenID, Kind: KindNotice, MsgType: "notice", Text: serviceUnavailable, Raw: err.Error()})
		}
		log.InfoContext(ctx, "webhook failed", "deliveries", n, "status", status, "err", err)
		return res, fmt.Errorf("send %s from %s: %w", m.Type, m.OpenID, err)
	}
	res.Reply = reply
	if reply != nil && !silent && reply.MsgType != "transfer_customer_service" {
		s.record(replyEntry(m.OpenID, "", reply))
	}
	return res, nil
}

// answerOf reads how a delivery went: an error when it failed or the
// answer was not 200, else the passive reply that decode finds in the
// body (nil for none).
func answerOf(status int, body []byte, err error, decode func([]byte) (*Reply, error)) (*Reply, error) {
	if err == nil && status != http.StatusOK {
		err = fmt.Errorf("%w: HTTP %d", ErrWebhookStatus, status)
	}
	if err != nil {
		return nil, err
	}
	return decode(body)
}

// replyEntry is a passive reply's line in the user's timeline on channel.
func replyEntry(user, channel string, r *Reply) Received {
	return Received{
		OpenID: user, Kind: KindReply, Channel: channel, MsgType: r.MsgType, Text: r.Content,
		MediaID: r.MediaID, Title: r.Title, Articles: r.Articles, Raw: r.XML,
	}
}

// normalize validates m and fills WeChat's defaults for fields a test need not care about.
func normalize(m *Message) error {
	if m.OpenID == "" {
		return fmt.Errorf("%w: openid is required", ErrInvalidMessage)
	}
	switch m.Type {
	case TypeText:
		if m.Content == "" {
			return fmt.Errorf("%w: text needs content", ErrInvalidMessage)
		}
	case TypeImage:
		m.PicURL = orDefault(m.PicURL, "http://mmbiz.qpic.cn/sim/"+randToken(24)+"/0")
		m.MediaID = orDefault(m.MediaID, "sim_img_"+randToken(24))
	case TypeVoice:
		m.MediaID = orDefault(m.MediaID, "sim_voice_"+randToken(24))
		m.Format = orDefault(m.Format, "amr")
	case TypeVideo, TypeShortVideo:
		m.MediaID = orDefault(m.MediaID, "sim_video_"+randToken(24))
		m.ThumbMediaID = orDefault(m.ThumbMediaID, "sim_thumb_"+randToken(24))
	case TypeLocation:
		if m.Scale == 0 {
			m.Scale = 15
		}
	case TypeLink:
		if m.URL == "" {
			return fmt.Errorf("%w: link needs url", ErrInvalidMessage)
		}
	case TypeEvent:
		if m.Event == "" {
			return fmt.Errorf("%w: event needs event", ErrInvalidMessage)
		}
		if m.Event == "subscribe_msg_popup_event" && len(m.Subscriptions) == 0 {
			return fmt.Errorf("%w: subscribe_msg_popup_event needs subscriptions", ErrInvalidMessage)
		}
	case TypeScan:
		if m.Ticket == "" && m.EventKey == "" {
			return fmt.Errorf("%w: scan needs ticket or event_key (the scene)", ErrInvalidMessage)
		}
	default:
		return fmt.Errorf("%w: unknown type %q", ErrInvalidMessage, m.Type)
	}
	return nil
}

// resolveScanLocked turns a TypeScan message into the event WeChat pushes. s.mu must be held.
func (s *Simulator) resolveScanLocked(m *Message) error {
	now := s.now()
	var q QRCode
	found := false
	if m.Ticket != "" {
		q, found = s.qrs[m.Ticket]
	} else {
		for _, c := range s.qrs {
			if c.Scene == m.EventKey && (c.Permanent || now.Before(c.Expires)) {
				q, found = c, true
				break
			}
		}
	}
	if !found || (!q.Permanent && !now.Before(q.Expires)) {
		return fmt.Errorf("%w: %s%s", ErrUnknownTicket, m.Ticket, m.EventKey)
	}
	m.Type, m.Ticket = TypeEvent, q.Ticket
	if u, ok := s.users[m.OpenID]; ok && u.subscribed {
		m.Event, m.EventKey = "SCAN", q.Scene
	} else {
		m.Event, m.EventKey = "subscribe", "qrscene_"+q.Scene
	}
	return nil
}

// applyUserActionLocked updates what WeChat knows of the user after m: following,
// unfollowing, the customer-service window and subscribe-notice consents. A user the
// simulator has never seen is taken to have followed before it started; one who unfollowed
// can only follow again. s.mu must be held.
func (s *Simulator) applyUserActionLocked(m Message) error {
	now := s.now()
	u, known := s.users[m.OpenID]
	switch {
	case m.Type == TypeEvent && m.Event == "subscribe":
		u = s.userLocked(m.OpenID)
		u.subscribed, u.subscribeTime = true, now
		u.scene, u.qrScene, u.qrSceneStr = "ADD_SCENE_SEARCH", 0, ""
		if scene, ok := strings.CutPrefix(m.EventKey, "qrscene_"); ok {
			u.scene = "ADD_SCENE_QR_CODE"
			if n, err := strconv.Atoi(scene); err == nil {
				u.qrScene = n
			} else {
				u.qrSceneStr = scene
			}
		}
	case m.Type == TypeEvent && m.Event == "unsubscribe":
		u = s.userLocked(m.OpenID)
		u.subscribed, u.lastAction, u.csSent = false, time.Time{}, 0
		delete(s.grants, m.OpenID)
		return nil
	case !known:
		u = s.userLocked(m.OpenID)
		u.subscribed, u.subscribeTime, u.scene = true, now, "ADD_SCENE_OTHERS"
	case !u.subscribed:
		return fmt.Errorf("%w: %s must follow (subscribe) first", ErrUnfollowed, m.OpenID)
	}
	if opensWindow(m) {
		u.lastAction, u.csSent = now, 0
	}
	if m.Type == TypeEvent && m.Event == "subscribe_msg_popup_event" {
		for _, sub := range m.Subscriptions {
			if sub.Status == "accept" {
				if s.grants[m.OpenID] == nil {
					s.grants[m.OpenID] = make(map[string]int)
				}
				s.grants[m.OpenID][sub.TemplateID]++
			}
		}
	}
	return nil
}

// userMsgType is the MsgType of a user's timeline entry: the message type, or the event.
func userMsgType(m Message) string {
	if m.Type == TypeEvent {
		return m.Event
	}
	return m.Type
}

// summarize describes what the user did, for the timeline.
func summarize(m Message) string {
	switch m.Type {
	case TypeText:
		return m.Content
	case TypeVoice:
		return m.Recognition
	case TypeLocation:
		return m.Label
	case TypeLink:
		return m.Title
	case TypeEvent:
		return m.EventKey
	}
	return ""
}

// messageXML renders m as WeChat's plaintext XML.
// https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_standard_messages.html
// https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_event_pushes.html
func (s *Simulator) messageXML(m Message, createTime, msgID int64) []byte {
	x := newXMLWriter(s.originalID, m.OpenID, createTime, m.Type)
	id := strconv.FormatInt(msgID, 10)
	switch m.Type {
	case TypeText:
		x.cdata("Content", m.Content)
		x.num("MsgId", id)
		if m.BizMsgMenuID != "" {
			x.num("bizmsgmenuid", m.BizMsgMenuID)
		}
	case TypeImage:
		x.cdata("PicUrl", m.PicURL)
		x.num("MsgId", id)
		x.cdata("MediaId", m.MediaID)
	case TypeVoice:
		x.cdata("MediaId", m.MediaID)
		x.cdata("Format", m.Format)
		if m.Recognition != "" {
			x.cdata("Recognition", m.Recognition)
		}
		x.num("MsgId", id)
	case TypeVideo, TypeShortVideo:
		x.cdata("MediaId", m.MediaID)
		x.cdata("ThumbMediaId", m.ThumbMediaID)
		x.num("MsgId", id)
	case TypeLocation:
		x.num("Location_X", formatCoord(m.Lat))
		x.num("Location_Y", formatCoord(m.Lng))
		x.num("Scale", strconv.Itoa(m.Scale))
		x.cdata("Label", m.Label)
		x.num("MsgId", id)
	case TypeLink:
		x.cdata("Title", m.Title)
		x.cdata("Description", m.Description)
		x.cdata("Url", m.URL)
		x.num("MsgId", id)
	case TypeEvent:
		eventXML(x, m)
	}
	return x.finish()
}

// eventXML writes the fields of an event.
func eventXML(x *xmlWriter, m Message) {
	x.cdata("Event", m.Event)
	switch m.Event {
	case "subscribe", "unsubscribe", "SCAN":
		x.cdata("EventKey", m.EventKey)
		if m.Ticket != "" {
			x.cdata("Ticket", m.Ticket)
		}
	case "LOCATION":
		x.num("Latitude", formatCoord(m.Lat))
		x.num("Longitude", formatCoord(m.Lng))
		x.num("Precision", strconv.FormatFloat(m.Precision, 'f', 6, 64))
	case "VIEW":
		x.cdata("EventKey", m.EventKey)
		if m.MenuID != "" {
			x.num("MenuId", m.MenuID)
		}
	case "scancode_push", "scancode_waitmsg":
		x.cdata("EventKey", m.EventKey)
		x.open("ScanCodeInfo")
		x.cdata("ScanType", "qrcode")
		x.cdata("ScanResult", m.Content)
		x.close("ScanCodeInfo")
	case "location_select":
		x.cdata("EventKey", m.EventKey)
		x.open("SendLocationInfo")
		x.cdata("Location_X", formatCoord(m.Lat))
		x.cdata("Location_Y", formatCoord(m.Lng))
		x.cdata("Scale", strconv.Itoa(max(m.Scale, 15)))
		x.cdata("Label", m.Label)
		x.cdata("Poiname", m.Label)
		x.close("SendLocationInfo")
	case "subscribe_msg_popup_event":
		x.open("SubscribeMsgPopupEvent")
		for _, sub := range m.Subscriptions {
			x.open("List")
			x.cdata("TemplateId", sub.TemplateID)
			x.cdata("SubscribeStatusString", sub.Status)
			x.num("PopupScene", "2")
			x.close("List")
		}
		x.close("SubscribeMsgPopupEvent")
	default: // CLICK and the rest carry EventKey only
		x.cdata("EventKey", m.EventKey)
	}
}

// formatCoord formats a coordinate like WeChat (six decimals).
func formatCoord(v float64) string { return strconv.FormatFloat(v, 'f', 6, 64) }

// xmlWriter writes WeChat's flat XML, one element a line, texts in CDATA.
type xmlWriter struct{ b bytes.Buffer }

// newXMLWriter starts a message with the fields every message and event has.
func newXMLWriter(to, from string, createTime int64, msgType string) *xmlWriter {
	x := &xmlWriter{}
	x.b.WriteString("<xml>\n")
	x.cdata("ToUserName", to)
	x.cdata("FromUserName", from)
	x.num("CreateTime", strconv.FormatInt(createTime, 10))
	x.cdata("MsgType", msgType)
	return x
}

// cdata writes <name><![CDATA[v]]></name>, splitting any "]]>" inside v.
func (x *xmlWriter) cdata(name, v string) {
	fmt.Fprintf(&x.b, "<%s><![CDATA[%s]]></%s>\n", name, strings.ReplaceAll(v, "]]>", "]]]]><![CDATA[>"), name)
}

// num writes <name>v</name> for numbers.
func (x *xmlWriter) num(name, v string) { fmt.Fprintf(&x.b, "<%s>%s</%s>\n", name, v, name) }

// open starts a nested element.
func (x *xmlWriter) open(name string) { fmt.Fprintf(&x.b, "<%s>\n", name) }

// close ends a nested element.
func (x *xmlWriter) close(name string) { fmt.Fprintf(&x.b, "</%s>\n", name) }

// finish closes the document and returns it.
func (x *xmlWriter) finish() []byte {
	x.b.WriteString("</xml>")
	return x.b.Bytes()
}

// push posts an event that WeChat sends on its own (TEMPLATESENDJOBFINISH,
// subscribe_msg_sent_event) in the background, until Close. Its answer is ignored, as WeChat
// ignores it.
func (s *Simulator) push(openid string, fill func(x *xmlWriter)) {
	if s.cfgErr != nil || s.webhookURL == "" {
		return
	}
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return
	}
	s.bg.Add(1)
	createTime := s.now().Unix()
	s.mu.Unlock()

	x := newXMLWriter(s.originalID, openid, createTime, TypeEvent)
	fill(x)
	plain := x.finish()
	go func() {
		defer s.bg.Done()
		if _, _, _, err := s.deliver(s.bgCtx, openid, s.officialRequest(openid, plain)); err != nil && s.bgCtx.Err() == nil {
			s.log.Info("event push failed", "openid", chat.Cut(openid, 64), "err", err)
		}
	}()
}

// webhookRequestURL adds WeChat's query parameters to the webhook URL.
func (s *Simulator) webhookRequestURL(params url.Values) (string, error) {
	return withQuery(s.webhookURL, params)
}

// withQuery adds params to the query of the URL base.
func withQuery(base string, params url.Values) (string, error) {
	u, err := url.Parse(base)
	if err != nil {
		return "", fmt.Errorf("parse webhook url: %w", err)
	}
	q := u.Query()
	for k, v := range params {
		q[k] = v
	}
	u.RawQuery = q.Encode()
	return u.String(), nil
}
