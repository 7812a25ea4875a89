package sim

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"slices"
	"strconv"
	"time"
)

// maxAPIBody caps request bodies of the API endpoints.
const maxAPIBody = 1 << 20

// readAPIJSON checks the access token and decodes the JSON body into v. It writes the
// errcode answer and returns false when either fails.
func (s *Simulator) readAPIJSON(w http.ResponseWriter, r *http.Request, v any) ([]byte, bool) {
	if e := s.checkAccessToken(r); e != nil {
		writeErr(w, e)
		return nil, false
	}
	body, err := io.ReadAll(http.MaxBytesReader(w, r.Body, maxAPIBody))
	if err != nil || json.Unmarshal(body, v) != nil {
		writeErr(w, wxErr(CodeDataFormatError))
		return nil, false
	}
	return body, true
}

// mediaRef is the {"media_id": …} object of several message types.
type mediaRef struct {
	MediaID string `json:"media_id"`
}

// customRequest is the body of POST /cgi-bin/message/custom/send.
type customRequest struct {
	ToUser  string `json:"touser"`
	MsgType string `json:"msgtype"`
	Text    *struct {
		Content string `json:"content"`
	} `json:"text"`
	Image *mediaRef `json:"image"`
	Voice *mediaRef `json:"voice"`
	Video *struct {
		MediaID      string `json:"media_id"`
		ThumbMediaID string `json:"thumb_media_id"`
		Title        string `json:"title"`
		Description  string `json:"description"`
	} `json:"video"`
	Music *struct {
		Title       string `json:"title"`
		Description string `json:"description"`
		MusicURL    string `json:"musicurl"`
	} `json:"music"`
	News *struct {
		Articles []Article `json:"articles"`
	} `json:"news"`
	Mpnews        *mediaRef `json:"mpnews"`
	Mpnewsarticle *struct {
		ArticleID string `json:"article_id"`
	} `json:"mpnewsarticle"`
	Msgmenu *MsgMenu `json:"msgmenu"`
	Wxcard  *struct {
		CardID string `json:"card_id"`
	} `json:"wxcard"`
	Miniprogrampage *struct {
		Title    string `json:"title"`
		AppID    string `json:"appid"`
		PagePath string `json:"pagepath"`
	} `json:"miniprogrampage"`
}

// handleCustomSend serves POST /cgi-bin/message/custom/send (客服消息). It enforces the
// 48-hour window after the user's last action (45015, also when the user unfollowed) and the
// per-action message limit (45047).
// https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Service_Center_messages.html
func (s *Simulator) handleCustomSend(w http.ResponseWriter, r *http.Request) {
	var req customRequest
	body, ok := s.readAPIJSON(w, r, &req)
	if !ok {
		return
	}
	e := Received{OpenID: req.ToUser, Kind: KindCustom, MsgType: req.MsgType, Raw: string(body)}
	if apiErr := fillCustom(&e, &req); apiErr != nil {
		writeErr(w, apiErr)
		return
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	u, known := s.users[req.ToUser]
	if !known {
		writeErr(w, wxErr(CodeInvalidOpenID))
		return
	}
	now := s.now()
	switch {
	case s.faults.outOfWindow[req.ToUser], !u.subscribed, u.lastAction.IsZero(), now.Sub(u.lastAction) > csWindow:
		writeErr(w, wxErr(CodeOutOfTimeLimit))
		return
	case u.csSent >= s.csLimit:
		writeErr(w, wxErr(CodeOutOfResponseCount))
		return
	}
	u.csSent++
	s.appendLocked(e)
	writeOK(w, nil)
}

// fillCustom validates a customer-service message and copies what the user sees into e.
func fillCustom(e *Received, req *customRequest) *apiError {
	if req.ToUser == "" {
		return wxErr(CodeInvalidOpenID)
	}
	missing := wxErr(CodeDataFormatError)
	switch req.MsgType {
	case "text":
		if req.Text == nil || req.Text.Content == "" {
			return wxErr(CodeEmptyContent)
		}
		e.Text = req.Text.Content
	case "image", "voice", "mpnews":
		ref := map[string]*mediaRef{"image": req.Image, "voice": req.Voice, "mpnews": req.Mpnews}[req.MsgType]
		if ref == nil || ref.MediaID == "" {
			return missing
		}
		e.MediaID = ref.MediaID
	case "video":
		if req.Video == nil || req.Video.MediaID == "" {
			return missing
		}
		e.MediaID, e.Title, e.Text = req.Video.MediaID, req.Video.Title, req.Video.Description
	case "music":
		if req.Music == nil {
			return missing
		}
		e.Title, e.Text = req.Music.Title, req.Music.Description
	case "news":
		if req.News == nil || len(req.News.Articles) == 0 {
			return missing
		}
		if len(req.News.Articles) > 1 {
			// Since 2018 customer-service news carries exactly one article.
			return wxErrf(CodeArgumentInvalid, "news.articles size must be 1")
		}
		e.Articles = req.News.Articles
	case "mpnewsarticle":
		if req.Mpnewsarticle == nil || req.Mpnewsarticle.ArticleID == "" {
			return missing
		}
		e.MediaID = req.Mpnewsarticle.ArticleID
	case "msgmenu":
		if req.Msgmenu == nil || len(req.Msgmenu.List) == 0 {
			return missing
		}
		for i, c := range req.Msgmenu.List {
			if c.ID == "" || c.Content == "" {
				return wxErrf(CodeArgumentInvalid, "msgmenu.list[%d] needs id and content", i)
			}
		}
		m := *req.Msgmenu
		e.Menu = &m
	case "wxcard":
		if req.Wxcard == nil || req.Wxcard.CardID == "" {
			return missing
		}
		e.MediaID = req.Wxcard.CardID
	case "miniprogrampage":
		if req.Miniprogrampage == nil {
			return missing
		}
		e.Title, e.Text = req.Miniprogrampage.Title, req.Miniprogrampage.PagePath
	default:
		return wxErr(CodeInvalidMessageType)
	}
	return nil
}

// handleTyping serves POST /cgi-bin/message/custom/typing ("正在输入" status).
func (s *Simulator) handleTyping(w http.ResponseWriter, r *http.Request) {
	var req struct {
		ToUser  string `json:"touser"`
		Command string `json:"command"`
	}
	if _, ok := s.readAPIJSON(w, r, &req); !ok {
		return
	}
	s.mu.Lock()
	_, known := s.users[req.ToUser]
	s.mu.Unlock()
	if !known {
		writeErr(w, wxErr(CodeInvalidOpenID))
		return
	}
	writeOK(w, nil)
}

// templateRequest is the body of POST /cgi-bin/message/template/send.
type templateRequest struct {
	ToUser      string          `json:"touser"`
	TemplateID  string          `json:"template_id"`
	URL         string          `json:"url"`
	Data        json.RawMessage `json:"data"`
	ClientMsgID string          `json:"client_msg_id"`
	MiniProgram *struct {
		AppID    string `json:"appid"`
		PagePath string `json:"pagepath"`
	} `json:"miniprogram"`
}

// tplRecord remembers a template message sent with a client_msg_id.
type tplRecord struct {
	msgID int64
	at    time.Time
}

// handleTemplateSend serves POST /cgi-bin/message/template/send (模板消息). It needs a
// follower, not the 48-hour window. For the same openid and client_msg_id within 10 minutes
// only one message is sent: the repeat answers ok with the first msgid (WeChat documents that
// only one is sent, not what the repeat returns; answering like the first is what a retrying
// service needs).
// https://developers.weixin.qq.com/doc/offiaccount/Message_Management/Template_Message_Interface.html
func (s *Simulator) handleTemplateSend(w http.ResponseWriter, r *http.Request) {
	var req templateRequest
	body, ok := s.readAPIJSON(w, r, &req)
	if !ok {
		return
	}
	fields, apiErr := templateFields(req.ToUser, req.TemplateID, req.Data)
	if apiErr != nil {
		writeErr(w, apiErr)
		return
	}
	s.mu.Lock()
	u, known := s.users[req.ToUser]
	if !known {
		s.mu.Unlock()
		writeErr(w, wxErr(CodeInvalidOpenID))
		return
	}
	if !u.subscribed {
		s.mu.Unlock()
		writeErr(w, wxErr(CodeRequireSubscribe))
		return
	}
	now := s.now()
	key := req.ToUser + "\x00" + req.ClientMsgID
	if prev, dup := s.tplSent[key]; req.ClientMsgID != "" && dup && now.Sub(prev.at) < clientMsgIDWindow {
		s.mu.Unlock()
		writeOK(w, map[string]any{"msgid": prev.msgID})
		return
	}
	msgID := s.newTemplateMsgIDLocked()
	if req.ClientMsgID != "" {
		s.tplSent[key] = tplRecord{msgID: msgID, at: now}
	}
	card := &TemplateCard{TemplateID: req.TemplateID, URL: req.URL, MsgID: msgID, ClientMsgID: req.ClientMsgID, Fields: fields}
	if req.MiniProgram != nil {
		card.MiniProgram = req.MiniProgram.PagePath
	}
	s.appendLocked(Received{OpenID: req.ToUser, Kind: KindTemplate, MsgType: "template", Template: card, Raw: string(body)})
	s.mu.Unlock()

	writeOK(w, map[string]any{"msgid": msgID})
	s.push(req.ToUser, func(x *xmlWriter) {
		x.cdata("Event", "TEMPLATESENDJOBFINISH")
		x.num("MsgID", strconv.FormatInt(msgID, 10)) // capital D, unlike MsgId of messages
		x.cdata("Status", "success")
	})
}

// bizSendRequest is the body of POST /cgi-bin/message/subscribe/bizsend.
type bizSendRequest struct {
	ToUser      string          `json:"touser"`
	TemplateID  string          `json:"template_id"`
	Page        string          `json:"page"`
	Data        json.RawMessage `json:"data"`
	MiniProgram *struct {
		AppID    string `json:"appid"`
		PagePath string `json:"pagepath"`
	} `json:"miniprogram"`
}

// handleBizSend serves POST /cgi-bin/message/subscribe/bizsend (订阅通知). Each send uses up
// one consent the user gave for that template in a subscribe_msg_popup_event (send one with
// Send); without one WeChat answers 43101. Afterwards WeChat pushes subscribe_msg_sent_event.
// https://developers.weixin.qq.com/doc/offiaccount/Subscription_Messages/api.html
func (s *Simulator) handleBizSend(w http.ResponseWriter, r *http.Request) {
	var req bizSendRequest
	body, ok := s.readAPIJSON(w, r, &req)
	if !ok {
		return
	}
	fields, apiErr := templateFields(req.ToUser, req.TemplateID, req.Data)
	if apiErr != nil {
		writeErr(w, apiErr)
		return
	}
	if len(fields) == 0 {
		writeErr(w, wxErrf(CodeArgumentInvalid, "data is empty"))
		return
	}
	s.mu.Lock()
	if _, known := s.users[req.ToUser]; !known {
		s.mu.Unlock()
		writeErr(w, wxErr(CodeInvalidOpenID))
		return
	}
	if s.grants[req.ToUser][req.TemplateID] <= 0 {
		s.mu.Unlock()
		writeErr(w, wxErr(CodeUserRefused))
		return
	}
	s.grants[req.ToUser][req.TemplateID]--
	msgID := s.newTemplateMsgIDLocked()
	card := &TemplateCard{TemplateID: req.TemplateID, Page: req.Page, MsgID: msgID, Fields: fields}
	if req.MiniProgram != nil {
		card.MiniProgram = req.MiniProgram.PagePath
	}
	s.appendLocked(Received{OpenID: req.ToUser, Kind: KindSubscribe, MsgType: "subscribe", Template: card, Raw: string(body)})
	s.mu.Unlock()

	writeOK(w, nil)
	s.push(req.ToUser, func(x *xmlWriter) {
		x.cdata("Event", "subscribe_msg_sent_event")
		x.open("SubscribeMsgSentEvent")
		x.open("List")
		x.cdata("TemplateId", req.TemplateID)
		x.num("MsgID", strconv.FormatInt(msgID, 10))
		x.num("ErrorCode", "0")
		x.cdata("ErrorStatus", "success")
		x.close("List")
		x.close("SubscribeMsgSentEvent")
	})
}

// templateFields checks what template messages and subscribe notices both
// need, an openid and a template, and returns the data's fields in order.
func templateFields(toUser, templateID string, data json.RawMessage) ([]Field, *apiError) {
	if toUser == "" {
		return nil, wxErr(CodeInvalidOpenID)
	}
	if templateID == "" {
		return nil, wxErr(CodeInvalidTemplateID)
	}
	return orderedFields(data)
}

// orderedFields decodes a template's data object keeping the keys in the order sent, since
// the card shows them in that order. Each value must be {"value": "…", "color": "…"}.
func orderedFields(raw json.RawMessage) ([]Field, *apiError) {
	fields := []Field{}
	if len(bytes.TrimSpace(raw)) == 0 || string(bytes.TrimSpace(raw)) == "null" {
		return fields, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	if t, err := dec.Token(); err != nil || t != json.Delim('{') {
		return nil, wxErrf(CodeArgumentInvalid, "data must be an object")
	}
	for dec.More() {
		t, err := dec.Token()
		if err != nil {
			return nil, wxErr(CodeDataFormatError)
		}
		key, _ := t.(string) // object keys are always strings
		var item struct {
			Value json.RawMessage `json:"value"`
			Color string          `json:"color"`
		}
		if err := dec.Decode(&item); err != nil {
			return nil, wxErrf(CodeArgumentInvalid, "data.%s invalid", key)
		}
		var v string
		if err := json.Unmarshal(item.Value, &v); err != nil {
			return nil, wxErrf(CodeArgumentInvalid, "data.%s.value invalid", key)
		}
		fields = append(fields, Field{Key: key, Value: v, Color: item.Color})
	}
	return fields, nil
}

// handleUserInfo serves GET /cgi-bin/user/info. Since December 2021 WeChat no longer returns
// nickname, sex, city or head image, so neither does the simulator.
// https://developers.weixin.qq.com/doc/offiaccount/User_Management/Get_users_basic_information_UnionID.html
func (s *Simulator) handleUserInfo(w http.ResponseWriter, r *http.Request) {
	if e := s.checkAccessToken(r); e != nil {
		writeErr(w, e)
		return
	}
	openid := r.URL.Query().Get("openid")
	s.mu.Lock()
	defer s.mu.Unlock()
	u, known := s.users[openid]
	if !known {
		writeErr(w, wxErr(CodeInvalidOpenID))
		return
	}
	if !u.subscribed {
		writeJSON(w, map[string]any{"subscribe": 0, "openid": u.openID})
		return
	}
	writeJSON(w, map[string]any{
		"subscribe":       1,
		"openid":          u.openID,
		"language":        "zh_CN",
		"subscribe_time":  u.subscribeTime.Unix(),
		"remark":          "",
		"groupid":         0,
		"tagid_list":      []int{},
		"subscribe_scene": u.scene,
		"qr_scene":        u.qrScene,
		"qr_scene_str":    u.qrSceneStr,
	})
}

// handleUserList serves GET /cgi-bin/user/get: the followers' openids.
func (s *Simulator) handleUserList(w http.ResponseWriter, r *http.Request) {
	if e := s.checkAccessToken(r); e != nil {
		writeErr(w, e)
		return
	}
	s.mu.Lock()
	ids := []string{}
	for id, u := range s.users {
		if u.subscribed {
			ids = append(ids, id)
		}
	}
	s.mu.Unlock()
	slices.Sort(ids)
	next := ""
	if len(ids) > 0 {
		next = ids[len(ids)-1]
	}
	writeJSON(w, map[string]any{
		"total": len(ids), "count": len(ids),
		"data":        map[string]any{"openid": ids},
		"next_openid": next,
	})
}

// handleUnknownAPI answers any other /cgi-bin/ or /sns/ path like WeChat answers an API the
// account may not call.
func (s *Simulator) handleUnknownAPI(w http.ResponseWriter, r *http.Request) {
	s.log.WarnContext(r.Context(), "unsimulated api called", "path", r.URL.Path)
	writeErr(w, wxErrf(CodeAPIUnauthorized, "%s is not simulated", r.URL.Path))
}
