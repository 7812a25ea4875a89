package wecom

import (
	"strconv"
	"time"

	"huimin/chat"
)

// Event turns the opened request's message into the project's event. An officer's commands
// are text; a click on the application's menu is a click; image and location are kept for
// attaching to a ticket; everything else (voice, enter_agent, view, LOCATION …) is
// chat.KindOther, with RawType saying what it was.
// https://developer.work.weixin.qq.com/document/path/90239
// https://developer.work.weixin.qq.com/document/path/90240
func (r *Request) Event() chat.Event {
	m := r.Message
	ev := chat.Event{
		Kind:    chat.KindOther,
		Channel: chat.ChannelWeCom,
		From:    m.FromUserName,
		To:      m.ToUserName,
		At:      time.Unix(m.CreateTime, 0),
		RawType: m.MsgType,
	}
	if m.MsgType != "event" && m.MsgID != "" && m.MsgID != "0" {
		ev.MsgID = m.MsgID
	}
	switch m.MsgType {
	case "text":
		ev.Kind, ev.Text = chat.KindText, m.Content
	case "image":
		ev.Kind, ev.MediaID, ev.PicURL = chat.KindImage, m.MediaID, m.PicURL
	case "location":
		ev.Kind, ev.Lat, ev.Lng, ev.Label = chat.KindLocation, m.LocationX, m.LocationY, m.Label
	case "voice", "video":
		ev.MediaID = m.MediaID
	case "link":
		ev.Title, ev.Description, ev.URL = m.Title, m.Description, m.URL
	case "event":
		ev.RawType += "/" + m.Event
		ev.Key = m.EventKey
		switch m.Event {
		case "click":
			ev.Kind = chat.KindClick
		case "view":
			ev.URL = m.EventKey
		case "LOCATION":
			ev.Lat, ev.Lng = m.Latitude, m.Longitude
		}
	}
	return ev
}

// DedupKey is the key WeCom's retries of one message share: MsgId for messages,
// FromUserName+CreateTime+Event for events. The "w" prefix keeps the keys apart from the
// Official Account's (bot/wechat.DedupKey) when both use one de-duplication store.
func DedupKey(m *Message) string {
	if m.MsgType != "event" && m.MsgID != "" && m.MsgID != "0" {
		return "wm:" + m.MsgID
	}
	return "we:" + m.FromUserName + ":" + strconv.FormatInt(m.CreateTime, 10) + ":" + m.Event
}
