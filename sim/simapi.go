package sim

import (
	"cmp"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"slices"
	"strconv"
	"time"
)

// maxWait caps the long-poll wait of GET /sim/api/messages.
const maxWait = 30 * time.Second

// writeSimJSON writes a /sim/api/ answer.
func writeSimJSON(w http.ResponseWriter, status int, v any) {
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "no-store")
	w.WriteHeader(status)
	enc := json.NewEncoder(w)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(v) // the client went away; nothing to do
}

// writeSimError writes {"error": msg} with status.
func writeSimError(w http.ResponseWriter, status int, msg string) {
	writeSimJSON(w, status, map[string]string{"error": msg})
}

// handleSimSend serves POST /sim/api/send: body Message, answer Result. An invalid message
// answers 400; a webhook failure answers 200 with Result.error set.
func (s *Simulator) handleSimSend(w http.ResponseWriter, r *http.Request) {
	var m Message
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxAPIBody)).Decode(&m); err != nil {
		writeSimError(w, http.StatusBadRequest, "decode message: "+err.Error())
		return
	}
	res, err := s.Send(r.Context(), m)
	switch {
	case errors.Is(err, ErrInvalidMessage), errors.Is(err, ErrUnfollowed), errors.Is(err, ErrUnknownTicket):
		writeSimError(w, http.StatusBadRequest, err.Error())
	case errors.Is(err, ErrConfig), errors.Is(err, ErrNoWebhook):
		writeSimError(w, http.StatusConflict, err.Error())
	default:
		writeSimJSON(w, http.StatusOK, res)
	}
}

// handleSimMessages serves
// GET /sim/api/messages?openid=X[&after=SEQ][&wait=SECONDS][&all=1][&channel=wechat|wecom]:
// what X has received after SEQ, in order. With wait it long-polls until something new
// arrives; with all=1 it includes the user's own messages and WeChat's notices; channel
// keeps only the Official Account's or only WeCom's entries (X is then a WeCom userid).
func (s *Simulator) handleSimMessages(w http.ResponseWriter, r *http.Request) {
	q := r.URL.Query()
	openid := q.Get("openid")
	if openid == "" {
		writeSimError(w, http.StatusBadRequest, "openid is required")
		return
	}
	channel := q.Get("channel")
	if channel != channelAny && channel != channelWeChat && channel != ChannelWeCom {
		writeSimError(w, http.StatusBadRequest, "channel must be wechat or wecom")
		return
	}
	after, err := parseInt(q.Get("after"))
	if err != nil {
		writeSimError(w, http.StatusBadRequest, "after must be a sequence number")
		return
	}
	waitSec, err := parseInt(q.Get("wait"))
	if err != nil {
		writeSimError(w, http.StatusBadRequest, "wait must be a number of seconds")
		return
	}
	all := q.Get("all") == "1" || q.Get("all") == "true"
	var msgs []Received
	if waitSec > 0 {
		ctx, cancel := context.WithTimeout(r.Context(), min(time.Duration(waitSec)*time.Second, maxWait))
		defer cancel()
		msgs = s.waitTimeline(ctx, openid, after, all, channel)
	} else {
		s.mu.Lock()
		msgs = s.channelEntriesLocked(openid, after, all, channel)
		s.mu.Unlock()
	}
	writeSimJSON(w, http.StatusOK, map[string]any{"openid": openid, "messages": msgs})
}

// parseInt parses an optional non-negative integer query parameter.
func parseInt(v string) (int64, error) {
	if v == "" {
		return 0, nil
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 0 {
		return 0, strconv.ErrSyntax
	}
	return n, nil
}

// handleSimFaultsGet serves GET /sim/api/faults: the faults that are on.
func (s *Simulator) handleSimFaultsGet(w http.ResponseWriter, _ *http.Request) {
	writeSimJSON(w, http.StatusOK, map[string]any{"faults": orEmpty(s.Faults())})
}

// handleSimFaultsSet serves POST /sim/api/faults with a Fault body.
func (s *Simulator) handleSimFaultsSet(w http.ResponseWriter, r *http.Request) {
	var f Fault
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxAPIBody)).Decode(&f); err != nil {
		writeSimError(w, http.StatusBadRequest, "decode fault: "+err.Error())
		return
	}
	if err := s.SetFault(f); err != nil {
		writeSimError(w, http.StatusBadRequest, err.Error())
		return
	}
	writeSimJSON(w, http.StatusOK, map[string]any{"ok": true, "faults": orEmpty(s.Faults())})
}

// handleSimStats serves GET /sim/api/stats: API calls per path.
func (s *Simulator) handleSimStats(w http.ResponseWriter, _ *http.Request) {
	writeSimJSON(w, http.StatusOK, map[string]any{"calls": s.CallCounts()})
}

// userState is one user in GET /sim/api/state.
type userState struct {
	OpenID     string `json:"openid"`
	Subscribed bool   `json:"subscribed"`
}

// handleSimState serves GET /sim/api/state: what the chat page needs to draw itself.
func (s *Simulator) handleSimState(w http.ResponseWriter, _ *http.Request) {
	s.mu.Lock()
	users := make([]userState, 0, len(s.users))
	for id, u := range s.users {
		users = append(users, userState{OpenID: id, Subscribed: u.subscribed})
	}
	s.mu.Unlock()
	slices.SortFunc(users, func(a, b userState) int { return cmp.Compare(a.OpenID, b.OpenID) })
	cfgErr := ""
	if s.cfgErr != nil {
		cfgErr = s.cfgErr.Error()
	}
	writeSimJSON(w, http.StatusOK, map[string]any{
		"mode":         s.mode,
		"mode_label":   modeLabel(s.mode),
		"app_id":       s.appID,
		"original_id":  s.originalID,
		"webhook_url":  s.webhookURL,
		"config_error": cfgErr,
		"menu":         orEmpty(s.Menu()),
		"qrcodes":      s.QRCodes(),
		"users":        users,
		"presets":      s.pagePresets(),
		"wecom":        s.weComState(),
	})
}

// weComState is the "wecom" object of GET /sim/api/state.
type weComState struct {
	Enabled     bool     `json:"enabled"`
	CorpID      string   `json:"corp_id,omitempty"`
	AgentID     int      `json:"agent_id,omitempty"`
	WebhookURL  string   `json:"webhook_url,omitempty"`
	ConfigError string   `json:"config_error,omitempty"`
	Members     []Preset `json:"members"`
}

// weComState describes the simulated WeCom for the chat page.
func (s *Simulator) weComState() weComState {
	st := weComState{Enabled: s.corpID != "", Members: []Preset{}}
	if !st.Enabled {
		return st
	}
	st.CorpID, st.AgentID, st.WebhookURL = s.corpID, s.agentID, s.weComWebhookURL
	if s.weComCfgErr != nil {
		st.ConfigError = s.weComCfgErr.Error()
	}
	st.Members = weComPresets(s.WeComMembers(), s.weComLabels)
	return st
}

// handleSimWeComSend serves POST /sim/api/wecom/send: body WeComMessage, answer Result, with
// the statuses of POST /sim/api/send (and 409 when WeCom is not configured).
func (s *Simulator) handleSimWeComSend(w http.ResponseWriter, r *http.Request) {
	var m WeComMessage
	if err := json.NewDecoder(http.MaxBytesReader(w, r.Body, maxAPIBody)).Decode(&m); err != nil {
		writeSimError(w, http.StatusBadRequest, "decode message: "+err.Error())
		return
	}
	res, err := s.SendWeCom(r.Context(), m)
	switch {
	case errors.Is(err, ErrInvalidMessage):
		writeSimError(w, http.StatusBadRequest, err.Error())
	case errors.Is(err, ErrConfig), errors.Is(err, ErrNoWebhook), errors.Is(err, ErrWeComDisabled):
		writeSimError(w, http.StatusConflict, err.Error())
	default:
		writeSimJSON(w, http.StatusOK, res)
	}
}

// handleSimWeComVerify serves POST /sim/api/wecom/verify: runs VerifyWeComURL.
func (s *Simulator) handleSimWeComVerify(w http.ResponseWriter, r *http.Request) {
	if err := s.VerifyWeComURL(r.Context()); err != nil {
		writeSimJSON(w, http.StatusBadGateway, map[string]any{"ok": false, "error": err.Error()})
		return
	}
	writeSimJSON(w, http.StatusOK, map[string]any{"ok": true})
}

// handleSimVerify serves POST /sim/api/verify: runs VerifyURL.
func (s *Simulator) handleSimVerify(w http.ResponseWriter, r *http.Request) {
	if err := s.VerifyURL(r.Context()); err != nil {
		writeSimJSON(w, http.StatusBadGateway, map[string]any{"ok": false, "error": err.Error()})
		return
	}
	writeSimJSON(w, http.StatusOK, map[string]any{"ok": true})
}

// orEmpty turns a nil slice into an empty one so JSON shows [] rather than null.
func orEmpty[T any](v []T) []T {
	if v == nil {
		return []T{}
	}
	return v
}
