package sim

import (
	"cmp"
	"net/http"
	"slices"
	"strconv"
	"time"
)

// QR code limits from the WeChat docs.
const (
	qrDefaultExpire = 60 * time.Second
	qrMaxExpire     = 2592000 * time.Second // 30 days
	qrMaxLimitScene = 100000
)

// QRCode is a parametric QR code the service created; scanning it in the chat page (or with
// Scan) sends the follow or SCAN event with its scene.
type QRCode struct {
	Ticket    string    `json:"ticket"`
	Scene     string    `json:"scene"` // scene_id in decimal, or scene_str
	Permanent bool      `json:"permanent"`
	Expires   time.Time `json:"expires,omitzero"` // zero for permanent codes
	URL       string    `json:"url"`
	numeric   bool
}

// handleQRCreate serves POST /cgi-bin/qrcode/create (生成带参数的二维码).
// https://developers.weixin.qq.com/doc/offiaccount/Account_Management/Generating_a_Parametric_QR_Code.html
func (s *Simulator) handleQRCreate(w http.ResponseWriter, r *http.Request) {
	var req struct {
		ExpireSeconds int64  `json:"expire_seconds"`
		ActionName    string `json:"action_name"`
		ActionInfo    struct {
			Scene struct {
				SceneID  int64  `json:"scene_id"`
				SceneStr string `json:"scene_str"`
			} `json:"scene"`
		} `json:"action_info"`
	}
	if _, ok := s.readAPIJSON(w, r, &req); !ok {
		return
	}
	q := QRCode{Ticket: "gQ" + randToken(72), URL: "http://weixin.qq.com/q/" + randToken(18)}
	sc := req.ActionInfo.Scene
	switch req.ActionName {
	case "QR_SCENE", "QR_LIMIT_SCENE":
		if sc.SceneID <= 0 || (req.ActionName == "QR_LIMIT_SCENE" && sc.SceneID > qrMaxLimitScene) || sc.SceneID > 1<<32-1 {
			writeErr(w, wxErrf(CodeInvalidArgs, "invalid scene_id"))
			return
		}
		q.Scene, q.numeric = strconv.FormatInt(sc.SceneID, 10), true
	case "QR_STR_SCENE", "QR_LIMIT_STR_SCENE":
		if sc.SceneStr == "" || len(sc.SceneStr) > 64 {
			writeErr(w, wxErrf(CodeInvalidArgs, "invalid scene_str"))
			return
		}
		q.Scene = sc.SceneStr
	default:
		writeErr(w, wxErrf(CodeInvalidArgs, "invalid action_name"))
		return
	}
	q.Permanent = req.ActionName == "QR_LIMIT_SCENE" || req.ActionName == "QR_LIMIT_STR_SCENE"

	s.mu.Lock()
	now := s.now()
	if !q.Permanent {
		exp := time.Duration(req.ExpireSeconds) * time.Second
		if exp <= 0 {
			exp = qrDefaultExpire
		}
		exp = min(exp, qrMaxExpire)
		q.Expires = now.Add(exp)
	}
	s.qrs[q.Ticket] = q
	s.mu.Unlock()

	if q.Permanent {
		writeJSON(w, map[string]any{"ticket": q.Ticket, "url": q.URL})
		return
	}
	writeJSON(w, map[string]any{"ticket": q.Ticket, "expire_seconds": int64(q.Expires.Sub(now).Seconds()), "url": q.URL})
}

// QRCodes lists the QR codes that can still be scanned, newest expiry last.
func (s *Simulator) QRCodes() []QRCode {
	s.mu.Lock()
	defer s.mu.Unlock()
	now := s.now()
	out := []QRCode{}
	for _, q := range s.qrs {
		if q.Permanent || now.Before(q.Expires) {
			out = append(out, q)
		}
	}
	slices.SortFunc(out, func(a, b QRCode) int {
		return cmp.Or(cmp.Compare(a.Scene, b.Scene), cmp.Compare(a.Ticket, b.Ticket))
	})
	return out
}
