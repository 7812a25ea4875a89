package wechat

import (
	"bytes"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/silenceper/wechat/v2/officialaccount/message"
)

// decodeFlat fills m from a WeChat message that is one flat <xml> element
// of known fields, each holding one CDATA section or plain text — what
// WeChat sends for every message and for most events — without
// encoding/xml's reflection, which took an eighth of the webhook's CPU.
// It reports false, leaving the message to xml.Unmarshal, for anything
// else: a field it does not know (nested or not), attributes, entities, a
// carriage return, a character XML forbids, a number that does not parse.
// Where it reports true, m is what xml.Unmarshal would have made of a
// message.MixMessage (a fuzz test holds it to that).
func decodeFlat(b []byte, m *Message) bool {
	s := trimSpace(b)
	var ok bool
	if s, ok = bytes.CutPrefix(s, []byte("<xml>")); !ok {
		return false
	}
	for {
		s = trimSpace(s)
		if rest, ok := bytes.CutPrefix(s, []byte("</xml>")); ok {
			return len(trimSpace(rest)) == 0
		}
		if len(s) == 0 || s[0] != '<' {
			return false
		}
		end := bytes.IndexByte(s, '>')
		if end < 0 {
			return false
		}
		name := s[1:end]
		set, known := flatFields[string(name)]
		if !known {
			return false
		}
		s = s[end+1:]
		var value []byte
		if rest, ok := bytes.CutPrefix(s, []byte("<![CDATA[")); ok {
			end := bytes.Index(rest, []byte("]]>"))
			if end < 0 {
				return false
			}
			value, s = rest[:end], rest[end+3:]
		} else {
			end := bytes.IndexByte(s, '<')
			if end < 0 {
				return false
			}
			value, s = s[:end], s[end:]
			if bytes.IndexByte(value, '&') >= 0 || bytes.IndexByte(value, '>') >= 0 {
				return false // entities, or text encoding/xml reads its own way
			}
		}
		if len(s) < len(name)+3 || s[0] != '<' || s[1] != '/' || !bytes.Equal(s[2:2+len(name)], name) || s[2+len(name)] != '>' {
			return false
		}
		s = s[len(name)+3:]
		if !plainChars(value) || !set(m, string(value)) {
			return false
		}
	}
}

// trimSpace trims XML's white space (space, tab, newline); a carriage
// return is left, so that the full decoder, which rewrites it, gets the
// message.
func trimSpace(b []byte) []byte {
	return bytes.Trim(b, " \t\n")
}

// plainChars reports whether b is valid UTF-8 of characters XML allows,
// without a carriage return (encoding/xml rewrites \r\n to \n).
func plainChars(b []byte) bool {
	for i := 0; i < len(b); {
		c := b[i]
		if c < utf8.RuneSelf {
			if c < 0x20 && c != '\t' && c != '\n' {
				return false
			}
			i++
			continue
		}
		r, n := utf8.DecodeRune(b[i:])
		if r == utf8.RuneError && n == 1 || r == 0xFFFE || r == 0xFFFF {
			return false
		}
		i += n
	}
	return true
}

// flatFields are the message's flat fields by element name, each with
// how encoding/xml sets it: strings as they are, numbers trimmed and
// parsed (empty is zero).
var flatFields = map[string]func(m *Message, v string) bool{
	"ToUserName":   func(m *Message, v string) bool { m.ToUserName = v; return true },
	"FromUserName": func(m *Message, v string) bool { m.FromUserName = v; return true },
	"CreateTime":   func(m *Message, v string) bool { return parseInt(v, &m.CreateTime) },
	"MsgType":      func(m *Message, v string) bool { m.MsgType = message.MsgType(v); return true },
	"MsgId":        func(m *Message, v string) bool { return parseInt(v, &m.MsgID) },
	"MsgID":        func(m *Message, v string) bool { return parseInt(v, &m.TemplateMsgID) },
	"Content":      func(m *Message, v string) bool { m.Content = v; return true },
	"Recognition":  func(m *Message, v string) bool { m.Recognition = v; return true },
	"PicUrl":       func(m *Message, v string) bool { m.PicURL = v; return true },
	"MediaId":      func(m *Message, v string) bool { m.MediaID = v; return true },
	"Format":       func(m *Message, v string) bool { m.Format = v; return true },
	"ThumbMediaId": func(m *Message, v string) bool { m.ThumbMediaID = v; return true },
	"Location_X":   func(m *Message, v string) bool { return parseFloat(v, &m.LocationX) },
	"Location_Y":   func(m *Message, v string) bool { return parseFloat(v, &m.LocationY) },
	"Scale":        func(m *Message, v string) bool { return parseFloat(v, &m.Scale) },
	"Label":        func(m *Message, v string) bool { m.Label = v; return true },
	"Title":        func(m *Message, v string) bool { m.Title = v; return true },
	"Description":  func(m *Message, v string) bool { m.Description = v; return true },
	"Url":          func(m *Message, v string) bool { m.URL = v; return true },
	"bizmsgmenuid": func(m *Message, v string) bool { return parseInt(v, &m.BizMsgMenuID) },
	"Event":        func(m *Message, v string) bool { m.Event = message.EventType(v); return true },
	"EventKey":     func(m *Message, v string) bool { m.EventKey = v; return true },
	"Ticket":       func(m *Message, v string) bool { m.Ticket = v; return true },
	"Latitude":     func(m *Message, v string) bool { m.Latitude = v; return true },
	"Longitude":    func(m *Message, v string) bool { m.Longitude = v; return true },
	"Precision":    func(m *Message, v string) bool { m.Precision = v; return true },
	"Status":       func(m *Message, v string) bool { m.Status = v; return true },
}

// parseInt and parseFloat read a number as encoding/xml does: empty is
// zero, surrounding space is ignored; false for anything else.
func parseInt(v string, dst *int64) bool {
	if v == "" {
		*dst = 0
		return true
	}
	n, err := strconv.ParseInt(strings.TrimSpace(v), 10, 64)
	*dst = n
	return err == nil
}

func parseFloat(v string, dst *float64) bool {
	if v == "" {
		*dst = 0
		return true
	}
	f, err := strconv.ParseFloat(strings.TrimSpace(v), 64)
	*dst = f
	return err == nil
}
