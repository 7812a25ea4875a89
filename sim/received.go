package sim

import (
	"context"
	"fmt"
	"time"
)

// Kind says how a message reached the simulated user, or (in the page's timeline) that the
// user sent it or that WeChat showed a notice.
type Kind string

// Kinds of timeline entries. Received and WaitReceived return only the first five.
const (
	KindReply     Kind = "reply"     // passive reply (被动回复) in the webhook's HTTP answer
	KindCustom    Kind = "custom"    // customer-service message (客服消息)
	KindTemplate  Kind = "template"  // template message (模板消息)
	KindSubscribe Kind = "subscribe" // subscribe notice (订阅通知, bizsend)
	KindWeCom     Kind = "wecom"     // WeCom application message (应用消息) to a member
	KindUser      Kind = "user"      // sent by the user (timeline only)
	KindNotice    Kind = "notice"    // shown by WeChat itself, e.g. 该公众号暂时无法提供服务 (timeline only)
)

// ChannelWeCom marks the timeline entries of WeCom conversations (Received.Channel); the
// Official Account's entries have no channel. A WeCom userid and an openid share the
// timeline's key space, so the chat page asks for one channel.
const ChannelWeCom = "wecom"

// received reports whether k is something the account or the WeCom application sent.
func (k Kind) received() bool {
	return k == KindReply || k == KindCustom || k == KindTemplate || k == KindSubscribe || k == KindWeCom
}

// Received is one entry of a user's conversation: usually a message the account sent, in the
// order the user saw them.
type Received struct {
	Seq     int64     `json:"seq"`    // increasing across the whole simulator
	OpenID  string    `json:"openid"` // the openid, or for WeCom entries the member's userid
	Kind    Kind      `json:"kind"`
	Channel string    `json:"channel,omitempty"` // ChannelWeCom for WeCom entries, else empty
	MsgType string    `json:"msg_type"`          // text, msgmenu, image, voice, video, music, news, mpnews, template, subscribe, textcard, markdown …; for KindUser the user's type or event
	Time    time.Time `json:"time"`

	Text     string        `json:"text,omitempty"`     // text content; for KindUser a summary
	Menu     *MsgMenu      `json:"menu,omitempty"`     // msgmenu choices
	Template *TemplateCard `json:"template,omitempty"` // template message or subscribe notice
	Articles []Article     `json:"articles,omitempty"` // news
	MediaID  string        `json:"media_id,omitempty"` // image, voice, video, mpnews …
	Title    string        `json:"title,omitempty"`    // video, music
	Card     *TextCard     `json:"textcard,omitempty"` // WeCom textcard
	Raw      string        `json:"raw,omitempty"`      // the API request body, or the reply's plaintext XML
}

// MsgMenu is a customer-service menu message (msgmenu): tapping a choice sends a text message
// whose Content is the choice's text, with bizmsgmenuid set to its ID.
type MsgMenu struct {
	HeadContent string       `json:"head_content"`
	List        []MenuChoice `json:"list"`
	TailContent string       `json:"tail_content"`
}

// MenuChoice is one tappable choice of a MsgMenu.
type MenuChoice struct {
	ID      string `json:"id"`
	Content string `json:"content"`
}

// TemplateCard is a template message or a subscribe notice as the user sees it.
type TemplateCard struct {
	TemplateID  string  `json:"template_id"`
	URL         string  `json:"url,omitempty"`
	Page        string  `json:"page,omitempty"` // subscribe notice
	MiniProgram string  `json:"miniprogram,omitempty"`
	MsgID       int64   `json:"msgid,omitempty,string"` // string in JSON: it exceeds 2^53
	ClientMsgID string  `json:"client_msg_id,omitempty"`
	Fields      []Field `json:"fields"` // in the order the service sent them
}

// Field is one keyword of a template message's data.
type Field struct {
	Key   string `json:"key"`
	Value string `json:"value"`
	Color string `json:"color,omitempty"`
}

// Article is one item of a news message.
type Article struct {
	Title       string `json:"title"`
	Description string `json:"description,omitempty"`
	URL         string `json:"url,omitempty"`
	PicURL      string `json:"picurl,omitempty"`
}

// appendLocked adds e to its user's timeline with the next sequence number and wakes
// waiters. s.mu must be held.
func (s *Simulator) appendLocked(e Received) Received {
	s.seq++
	e.Seq = s.seq
	if e.Time.IsZero() {
		e.Time = s.now()
	}
	s.timeline[e.OpenID] = append(s.timeline[e.OpenID], e)
	close(s.changed)
	s.changed = make(chan struct{})
	return e
}

// record appends e under the lock.
func (s *Simulator) record(e Received) Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.appendLocked(e)
}

// entriesLocked returns openid's timeline entries after seq; all includes user messages and
// notices. s.mu must be held.
func (s *Simulator) entriesLocked(openid string, after int64, all bool) []Received {
	return s.channelEntriesLocked(openid, after, all, channelAny)
}

// Channel filters of channelEntriesLocked besides ChannelWeCom.
const (
	channelAny    = ""       // every entry
	channelWeChat = "wechat" // the Official Account's entries only
)

// channelEntriesLocked is entriesLocked restricted to one channel: channelAny,
// channelWeChat or ChannelWeCom. s.mu must be held.
func (s *Simulator) channelEntriesLocked(openid string, after int64, all bool, channel string) []Received {
	out := []Received{}
	for _, e := range s.timeline[openid] {
		if e.Seq <= after || (!all && !e.Kind.received()) {
			continue
		}
		if channel == channelAny || channel == e.Channel || (channel == channelWeChat && e.Channel == "") {
			out = append(out, e)
		}
	}
	return out
}

// Received returns everything openid has received (passive replies, customer-service
// messages, template messages and subscribe notices), in order; for a WeCom userid, the
// application messages and passive replies the member received.
func (s *Simulator) Received(openid string) []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.entriesLocked(openid, 0, false)
}

// Timeline returns openid's whole conversation after seq, including the user's own messages
// and WeChat's notices: what the chat page shows.
func (s *Simulator) Timeline(openid string, after int64) []Received {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.entriesLocked(openid, after, true)
}

// WaitReceived blocks until openid has received at least n messages, and returns them all.
// It returns what arrived so far and an error when ctx ends first.
func (s *Simulator) WaitReceived(ctx context.Context, openid string, n int) ([]Received, error) {
	for {
		s.mu.Lock()
		got := s.entriesLocked(openid, 0, false)
		ch := s.changed
		s.mu.Unlock()
		if len(got) >= n {
			return got, nil
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return got, fmt.Errorf("wait for %d messages to %s, have %d: %w", n, openid, len(got), ctx.Err())
		}
	}
}

// waitTimeline blocks until openid's timeline has an entry of channel after seq (all kinds
// when all is set) or ctx ends, and returns the new entries.
func (s *Simulator) waitTimeline(ctx context.Context, openid string, after int64, all bool, channel string) []Received {
	for {
		s.mu.Lock()
		got := s.channelEntriesLocked(openid, after, all, channel)
		ch := s.changed
		s.mu.Unlock()
		if len(got) > 0 {
			return got
		}
		select {
		case <-ch:
		case <-ctx.Done():
			return got
		}
	}
}
