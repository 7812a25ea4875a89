package wechat

import "github.com/silenceper/wechat/v2/officialaccount/message"

// Message is a WeChat message or event as the service reads it: the flat
// fields WeChat sends, under the SDK's names and types. The SDK's
// message.MixMessage holds every field of every event WeChat has (1.3 KiB,
// allocated and zeroed for each request); this one is 384 bytes. Messages
// the flat decoder leaves to encoding/xml (nested events) are decoded into
// a MixMessage and copied (see fromMix); what the nested parts say is read
// from the plaintext where it is needed (see notices).
// https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Receiving_standard_messages.html
type Message struct {
	ToUserName   string
	FromUserName string
	CreateTime   int64
	MsgType      message.MsgType
	MsgID        int64 // MsgId
	// TemplateMsgID is a template message's id in TEMPLATESENDJOBFINISH
	// (MsgID, capital D).
	TemplateMsgID int64
	Content       string
	Recognition   string
	PicURL        string
	MediaID       string
	Format        string
	ThumbMediaID  string
	LocationX     float64
	LocationY     float64
	Scale         float64
	Label         string
	Title         string
	Description   string
	URL           string
	BizMsgMenuID  int64
	Event         message.EventType
	EventKey      string
	Ticket        string
	Latitude      string
	Longitude     string
	Precision     string
	Status        string
}

// fromMix copies the fields the service reads from the SDK's message.
func fromMix(m *message.MixMessage) Message {
	return Message{
		ToUserName:    string(m.ToUserName),
		FromUserName:  string(m.FromUserName),
		CreateTime:    m.CreateTime,
		MsgType:       m.MsgType,
		MsgID:         m.MsgID,
		TemplateMsgID: m.TemplateMsgID,
		Content:       m.Content,
		Recognition:   m.Recognition,
		PicURL:        m.PicURL,
		MediaID:       m.MediaID,
		Format:        m.Format,
		ThumbMediaID:  m.ThumbMediaID,
		LocationX:     m.LocationX,
		LocationY:     m.LocationY,
		Scale:         m.Scale,
		Label:         m.Label,
		Title:         m.Title,
		Description:   m.Description,
		URL:           m.URL,
		BizMsgMenuID:  m.BizMsgMenuID,
		Event:         m.Event,
		EventKey:      m.EventKey,
		Ticket:        m.Ticket,
		Latitude:      m.Latitude,
		Longitude:     m.Longitude,
		Precision:     m.Precision,
		Status:        m.Status,
	}
}
