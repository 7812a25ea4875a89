package wechat

import (
	"encoding/xml"
	"reflect"
	"testing"

	"github.com/silenceper/wechat/v2/officialaccount/message"
)

// flatSamples are messages as WeChat sends them: the fast decoder takes
// every one.
var flatSamples = []string{
	`<xml><ToUserName><![CDATA[gh_1]]></ToUserName><FromUserName><![CDATA[oUser]]></FromUserName><CreateTime>1348831860</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[我要投诉 <b>&amp;</b>]]></Content><MsgId>1234567890123456</MsgId></xml>`,
	"<xml>\n  <ToUserName><![CDATA[gh_1]]></ToUserName>\n  <FromUserName><![CDATA[oUser]]></FromUserName>\n  <CreateTime>1348831860</CreateTime>\n  <MsgType><![CDATA[text]]></MsgType>\n  <Content><![CDATA[第一行\n第二行\t]]></Content>\n  <MsgId>1</MsgId>\n  <bizmsgmenuid>2</bizmsgmenuid>\n</xml>\n",
	`<xml><ToUserName><![CDATA[gh_1]]></ToUserName><FromUserName><![CDATA[oUser]]></FromUserName><CreateTime>1357290913</CreateTime><MsgType><![CDATA[voice]]></MsgType><MediaId><![CDATA[media_id]]></MediaId><Format><![CDATA[amr]]></Format><Recognition><![CDATA[没饭吃了]]></Recognition><MsgId>1234567890123456</MsgId></xml>`,
	`<xml><ToUserName><![CDATA[gh_1]]></ToUserName><FromUserName><![CDATA[oUser]]></FromUserName><CreateTime>1348831860</CreateTime><MsgType><![CDATA[image]]></MsgType><PicUrl><![CDATA[http://mmbiz.qpic.cn/x?a=1&b=2]]></PicUrl><MediaId><![CDATA[media_id]]></MediaId><MsgId>1234567890123456</MsgId></xml>`,
	`<xml><ToUserName><![CDATA[gh_1]]></ToUserName><FromUserName><![CDATA[oUser]]></FromUserName><CreateTime>1351776360</CreateTime><MsgType><![CDATA[location]]></MsgType><Location_X>23.134521</Location_X><Location_Y>113.358803</Location_Y><Scale>20</Scale><Label><![CDATA[位置信息]]></Label><MsgId>1234567890123456</MsgId></xml>`,
	`<xml><ToUserName><![CDATA[gh_1]]></ToUserName><FromUserName><![CDATA[oUser]]></FromUserName><CreateTime>1351776360</CreateTime><MsgType><![CDATA[link]]></MsgType><Title><![CDATA[标题]]></Title><Description><![CDATA[描述]]></Description><Url><![CDATA[https://example.org]]></Url><MsgId>1234567890123456</MsgId></xml>`,
	`<xml><ToUserName><![CDATA[gh_1]]></ToUserName><FromUserName><![CDATA[oUser]]></FromUserName><CreateTime>123456789</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[subscribe]]></Event><EventKey><![CDATA[qrscene_window_w1]]></EventKey><Ticket><![CDATA[TICKET]]></Ticket></xml>`,
	`<xml><ToUserName><![CDATA[gh_1]]></ToUserName><FromUserName><![CDATA[oUser]]></FromUserName><CreateTime>123456789</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[LOCATION]]></Event><Latitude>23.137466</Latitude><Longitude>113.352425</Longitude><Precision>119.385040</Precision></xml>`,
	`<xml><ToUserName><![CDATA[gh_1]]></ToUserName><FromUserName><![CDATA[oUser]]></FromUserName><CreateTime>1395658920</CreateTime><MsgType><![CDATA[event]]></MsgType><Event><![CDATA[TEMPLATESENDJOBFINISH]]></Event><MsgID>200163836</MsgID><Status><![CDATA[success]]></Status></xml>`,
	`<xml><ToUserName>gh_1</ToUserName><FromUserName>oUser</FromUserName><CreateTime></CreateTime><MsgType>text</MsgType><Content></Content><MsgId> 7 </MsgId></xml>`,
}

// fullOnly are messages the fast decoder leaves to encoding/xml.
var fullOnly = []string{
	`<xml><ToUserName>gh_1</ToUserName><Content>a &amp; b</Content></xml>`,                                                                        // an entity
	"<xml><Content><![CDATA[a\r\nb]]></Content></xml>",                                                                                            // a carriage return
	`<xml><Event>subscribe_msg_popup_event</Event><SubscribeMsgPopupEvent><List><TemplateId>t</TemplateId></List></SubscribeMsgPopupEvent></xml>`, // nested
	`<xml><Content lang="zh">a</Content></xml>`,                                                                                                   // an attribute
	`<xml><Unknown>a</Unknown></xml>`,                                                                                                             // a field it does not know
	`<xml><Content/></xml>`,                                                                                                                       // self-closing
	`<?xml version="1.0"?><xml><Content>a</Content></xml>`,                                                                                        // a declaration
	`<xml><!-- c --><Content>a</Content></xml>`,                                                                                                   // a comment
	`<xml><MsgId>12x</MsgId></xml>`,                                                                                                               // a bad number
	`<xml><MsgId>  </MsgId></xml>`,                                                                                                                // spaces for a number
	`<xml><Content><![CDATA[a]]><![CDATA[b]]></Content></xml>`,                                                                                    // two sections
	"<xml><Content>\xff</Content></xml>",                                                                                                          // invalid UTF-8
	"<xml><Content>\x01</Content></xml>",                                                                                                          // a forbidden character
	`<xml><Content>a]]>b</Content></xml>`,                                                                                                         // ]]> outside CDATA
	`<xml><Content>a</Contents></xml>`,                                                                                                            // a wrong end tag
	`<root><Content>a</Content></root>`,                                                                                                           // another root
	`<xml><Content>a</Content></xml>trailing`,                                                                                                     // text after the root
}

// sameAsFull fails unless the fast decoder, where it takes b, gives what
// encoding/xml gives: the SDK's MixMessage, whose fields beyond Message's
// are all empty (the fast decoder takes no field it does not know).
func sameAsFull(t *testing.T, b []byte) bool {
	t.Helper()
	var fast Message
	if !decodeFlat(b, &fast) {
		return false
	}
	var full message.MixMessage
	if err := xml.Unmarshal(b, &full); err != nil {
		t.Fatalf("fast decoder took %q, which encoding/xml refuses: %v", b, err)
	}
	if got := fromMix(&full); !reflect.DeepEqual(fast, got) {
		t.Fatalf("decoded %q as\n%+v\nencoding/xml as\n%+v", b, fast, got)
	}
	if back := toMix(&fast); !reflect.DeepEqual(back, full) {
		t.Fatalf("encoding/xml decoded %q with fields Message does not have:\n%+v", b, full)
	}
	return true
}

// toMix is fromMix's inverse, for the test above.
func toMix(m *Message) message.MixMessage {
	var x message.MixMessage
	x.ToUserName, x.FromUserName, x.CreateTime, x.MsgType = message.CDATA(m.ToUserName), message.CDATA(m.FromUserName), m.CreateTime, m.MsgType
	x.MsgID, x.TemplateMsgID, x.Content, x.Recognition = m.MsgID, m.TemplateMsgID, m.Content, m.Recognition
	x.PicURL, x.MediaID, x.Format, x.ThumbMediaID = m.PicURL, m.MediaID, m.Format, m.ThumbMediaID
	x.LocationX, x.LocationY, x.Scale, x.Label = m.LocationX, m.LocationY, m.Scale, m.Label
	x.Title, x.Description, x.URL, x.BizMsgMenuID = m.Title, m.Description, m.URL, m.BizMsgMenuID
	x.Event, x.EventKey, x.Ticket = m.Event, m.EventKey, m.Ticket
	x.Latitude, x.Longitude, x.Precision, x.Status = m.Latitude, m.Longitude, m.Precision, m.Status
	return x
}

func TestDecodeFlatTakesWeChatMessages(t *testing.T) {
	for _, s := range flatSamples {
		if !sameAsFull(t, []byte(s)) {
			t.Errorf("fast decoder left %q to encoding/xml; want it decoded (the webhook's hot path)", s)
		}
	}
	for _, s := range fullOnly {
		if sameAsFull(t, []byte(s)) {
			t.Errorf("fast decoder took %q; want it left to encoding/xml", s)
		}
	}
}

func FuzzDecodeFlat(f *testing.F) {
	for _, s := range append(flatSamples, fullOnly...) {
		f.Add([]byte(s))
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		sameAsFull(t, b)
	})
}

func BenchmarkDecodeMessage(b *testing.B) {
	body := []byte(flatSamples[0])
	b.Run("flat", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var m Message
			if !decodeFlat(body, &m) {
				b.Fatal("not flat")
			}
		}
	})
	b.Run("encoding/xml", func(b *testing.B) {
		b.ReportAllocs()
		for b.Loop() {
			var m message.MixMessage
			if err := xml.Unmarshal(body, &m); err != nil {
				b.Fatal(err)
			}
		}
	})
}
