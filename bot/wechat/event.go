package wechat

import (
	"encoding/xml"
	"strconv"
	"strings"
	"time"

	"huimin/chat"

	"github.com/silenceper/wechat/v2/officialaccount/message"
)

// Event turns the opened request's message into the project's event.
// https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_event_pushes.html
func (r *Request) Event() chat.Event {
	m := r.Message
	ev := chat.Event{
		Channel: chat.ChannelWeChat,
		From:    m.FromUserName,
		To:      m.ToUserName,
		At:      time.Unix(m.CreateTime, 0),
		RawType: string(m.MsgType),
	}
	if m.MsgID != 0 {
		ev.MsgID = strconv.FormatInt(m.MsgID, 10)
	}
	switch m.MsgType {
	case message.MsgTypeText:
		ev.Kind, ev.Text = chat.KindText, m.Content
		if m.BizMsgMenuID != 0 {
			// A tap on a msgmenu option: the option's ID is what was chosen.
			ev.Key = strconv.FormatInt(m.BizMsgMenuID, 10)
		}
	case message.MsgTypeVoice:
		ev.Kind, ev.Text, ev.MediaID = chat.KindVoice, m.Recognition, m.MediaID
	case message.MsgTypeImage:
		ev.Kind, ev.MediaID, ev.PicURL = chat.KindImage, m.MediaID, m.PicURL
	case message.MsgTypeVideo:
		ev.Kind, ev.MediaID = chat.KindVideo, m.MediaID
	case message.MsgTypeShortVideo:
		ev.Kind, ev.MediaID = chat.KindShortVideo, m.MediaID
	case message.MsgTypeLocation:
		ev.Kind, ev.Lat, ev.Lng, ev.Label = chat.KindLocation, m.LocationX, m.LocationY, m.Label
	case message.MsgTypeLink:
		ev.Kind, ev.Title, ev.Description, ev.URL = chat.KindLink, m.Title, m.Description, m.URL
	case message.MsgTypeEvent:
		ev.RawType += "/" + string(m.Event)
		decodeEvent(m, r.Plain, &ev)
	default:
		ev.Kind = chat.KindOther
	}
	return ev
}

func decodeEvent(m *Message, plain []byte, ev *chat.Event) {
	ev.Key = m.EventKey
	switch m.Event {
	case message.EventSubscribe:
		ev.Kind = chat.KindSubscribe
		// A follow from a QR code carries EventKey "qrscene_<scene>".
		ev.Scene = strings.TrimPrefix(m.EventKey, "qrscene_")
		if ev.Scene == m.EventKey {
			ev.Scene = ""
		}
	case message.EventUnsubscribe:
		ev.Kind = chat.KindUnsubscribe
	case message.EventScan:
		ev.Kind, ev.Scene = chat.KindScan, m.EventKey
	case message.EventLocation:
		ev.Kind = chat.KindReportLocation
		ev.Lat, _ = strconv.ParseFloat(m.Latitude, 64)
		ev.Lng, _ = strconv.ParseFloat(m.Longitude, 64)
	case message.EventClick:
		ev.Kind = chat.KindClick
	case message.EventView:
		ev.Kind, ev.URL = chat.KindView, m.EventKey
	case message.EventTemplateSendJobFinish:
		ev.Kind, ev.Status = chat.KindTemplateSent, m.Status
		// TEMPLATESENDJOBFINISH names the message MsgID, capital D.
		ev.MsgID = strconv.FormatInt(m.TemplateMsgID, 10)
	case message.EventSubscribeMsgPopupEvent, "subscribe_msg_change_event", "subscribe_msg_sent_event":
		ev.Kind = chat.KindSubscribeNotice
		ev.Status = string(m.Event)
		ev.Notices = notices(plain)
	default:
		ev.Kind = chat.KindOther
	}
}

// noticeEvents has the three subscribe-notice shapes. The SDK's
// MixMessage keeps only the last List of a popup event and none of the
// change and sent events, so the plaintext is decoded again here.
// https://developers.weixin.qq.com/doc/offiaccount/Subscription_Messages/api.html
type noticeEvents struct {
	Popup  []noticeXML `xml:"SubscribeMsgPopupEvent>List"`
	Change []noticeXML `xml:"SubscribeMsgChangeEvent>List"`
	Sent   []noticeXML `xml:"SubscribeMsgSentEvent>List"`
}

type noticeXML struct {
	TemplateID  string `xml:"TemplateId"`
	Status      string `xml:"SubscribeStatusString"`
	ErrorStatus string `xml:"ErrorStatus"`
}

func notices(plain []byte) []chat.Notice {
	var ne noticeEvents
	if err := xml.Unmarshal(plain, &ne); err != nil {
		return nil
	}
	var out []chat.Notice
	for _, list := range [][]noticeXML{ne.Popup, ne.Change, ne.Sent} {
		for _, n := range list {
			st := n.Status
			if st == "" {
				st = n.ErrorStatus
			}
			out = append(out, chat.Notice{TemplateID: n.TemplateID, Status: st})
		}
	}
	return out
}

// DedupKey is the key WeChat's retries of one message share: MsgId for
// messages, FromUserName+CreateTime for events (the event name is added
// so a follow and a scan in the same second stay apart).
func DedupKey(m *Message) string {
	if m.MsgType != message.MsgTypeEvent && m.MsgID != 0 {
		return "m:" + strconv.FormatInt(m.MsgID, 10)
	}
	return "e:" + m.FromUserName + ":" + strconv.FormatInt(m.CreateTime, 10) + ":" + string(m.Event)
}
