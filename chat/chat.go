// Package chat is the vocabulary every layer shares: an inbound Event, an
// outbound Reply, and the Channel a person is reached on. It is a leaf: it
// imports nothing of the project, so the WeChat edge (bot), the
// conversations (flows) and the service desk (desk) all speak it.
package chat

import (
	"strconv"
	"time"
)

// EventKind is what a person did: sent a kind of message, or caused an event.
type EventKind string

// Event kinds, one per WeChat message type or event the service understands.
const (
	KindText       EventKind = "text"
	KindVoice      EventKind = "voice"
	KindImage      EventKind = "image"
	KindVideo      EventKind = "video"
	KindShortVideo EventKind = "shortvideo"
	KindLocation   EventKind = "location"
	KindLink       EventKind = "link"
	// KindSubscribe is a follow; Scene is set when it came from a QR code.
	KindSubscribe   EventKind = "subscribe"
	KindUnsubscribe EventKind = "unsubscribe"
	// KindScan is a scan of a QR code by a follower; Scene is set.
	KindScan EventKind = "scan"
	// KindReportLocation is the periodic LOCATION event (not a location message).
	KindReportLocation EventKind = "report_location"
	KindClick          EventKind = "click"
	KindView           EventKind = "view"
	// KindTemplateSent is TEMPLATESENDJOBFINISH: Status says how a template message ended.
	KindTemplateSent EventKind = "template_sent"
	// KindSubscribeNotice covers the subscribe-notice events (popup, change, sent).
	KindSubscribeNotice EventKind = "subscribe_notice"
	// KindOther is anything else; the bot answers it politely and does nothing.
	KindOther EventKind = "other"
)

// Channel is where a person is reached: the Official Account or WeCom.
type Channel string

// Channels an event can come from and a message can go to.
const (
	ChannelWeChat Channel = "wechat"
	ChannelWeCom  Channel = "wecom"
)

// Event is one inbound message or event, decoded from the channel's wire
// format into the project's own terms.
type Event struct {
	Kind EventKind
	// Channel is where the event came from: ChannelWeChat (the Official
	// Account) or ChannelWeCom (企业微信, officers only).
	Channel Channel
	// From is the sender's openid; To is the account's original ID.
	From, To string
	At       time.Time
	// MsgID is WeChat's message ID (as a string: it exceeds 2^53); empty for events.
	MsgID string
	// Text is the message text, or for voice WeChat's recognition text.
	Text string
	// MediaID and PicURL identify media (image, voice, video).
	MediaID, PicURL string
	// Location for location messages and LOCATION events.
	Lat, Lng float64
	Label    string
	// Link messages.
	Title, Description, URL string
	// Key is the menu key (CLICK), URL (VIEW) or raw EventKey.
	Key string
	// Scene is the QR scene of a subscribe or SCAN, without the qrscene_ prefix.
	Scene string
	// Status is the template-send result or the subscribe-notice status.
	Status string
	// Notices lists the subscribe-notice templates and what the person chose.
	Notices []Notice
	// RawType is the wire message type and event name, for logs and metrics.
	RawType string
}

// Source names the message an event came from, the same on every
// delivery of it: the channel and the MsgID, or for an event without one
// the sender and time, as WeChat advises for de-duplicating events.
func (e Event) Source() string {
	if e.MsgID != "" {
		return string(e.Channel) + ":m:" + e.MsgID
	}
	return string(e.Channel) + ":e:" + e.From + "@" + strconv.FormatInt(e.At.Unix(), 10)
}

// Notice is one template in a subscribe-notice event.
type Notice struct {
	TemplateID string
	Status     string // accept, reject, ban, …
}

// ReplyKind is the form of an outbound reply.
type ReplyKind string

// Reply kinds.
const (
	ReplyText ReplyKind = "text"
	// ReplyMenu is a text with tappable numbered options (WeChat msgmenu when
	// sent by customer-service message; numbered text in a passive reply).
	ReplyMenu ReplyKind = "menu"
)

// Reply is one message to send to a person.
type Reply struct {
	Kind ReplyKind
	// To is the recipient's openid; empty means the sender of the event.
	To   string
	Text string
	// Options are the menu choices of a ReplyMenu, in order.
	Options []Option
	// Tail is the text after the options of a ReplyMenu.
	Tail string
}

// Option is one choice in a menu reply.
type Option struct {
	ID   string
	Text string
}
