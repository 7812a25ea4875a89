package sim

import (
	"net/http"
)

// MenuButton is one button of the account's custom menu, as in menu/create and menu/get.
// https://developers.weixin.qq.com/doc/offiaccount/Custom_Menus/Creating_Custom-Defined_Menu.html
type MenuButton struct {
	Type       string       `json:"type,omitempty"` // click, view, scancode_push, location_select, miniprogram …
	Name       string       `json:"name"`
	Key        string       `json:"key,omitempty"`
	URL        string       `json:"url,omitempty"`
	MediaID    string       `json:"media_id,omitempty"`
	ArticleID  string       `json:"article_id,omitempty"`
	AppID      string       `json:"appid,omitempty"`
	PagePath   string       `json:"pagepath,omitempty"`
	SubButtons []MenuButton `json:"sub_button"`
}

// storedMenu is the published menu.
type storedMenu struct {
	buttons []MenuButton
	id      int64
}

// Menu limits, in bytes as WeChat counts them.
const (
	maxTopButtons  = 3
	maxSubButtons  = 5
	maxTopNameLen  = 16
	maxSubNameLen  = 60
	maxButtonKey   = 128
	maxButtonURL   = 1024
	menuIDBase     = 400_000_000
	menuIDVariance = 100_000_000
)

// Menu returns the published menu, or nil when none is published.
func (s *Simulator) Menu() []MenuButton {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.menu == nil {
		return nil
	}
	return cloneButtons(s.menu.buttons)
}

// cloneButtons deep-copies buttons, giving every button a non-nil SubButtons like menu/get.
func cloneButtons(in []MenuButton) []MenuButton {
	out := make([]MenuButton, len(in))
	for i, b := range in {
		b.SubButtons = cloneButtons(b.SubButtons)
		out[i] = b
	}
	return out
}

// handleMenuCreate serves POST /cgi-bin/menu/create, validating the menu like WeChat.
func (s *Simulator) handleMenuCreate(w http.ResponseWriter, r *http.Request) {
	var req struct {
		Button []MenuButton `json:"button"`
	}
	if _, ok := s.readAPIJSON(w, r, &req); !ok {
		return
	}
	if e := validateMenu(req.Button); e != nil {
		writeErr(w, e)
		return
	}
	s.mu.Lock()
	s.menu = &storedMenu{buttons: cloneButtons(req.Button), id: menuIDBase + randInt(menuIDVariance)}
	s.mu.Unlock()
	writeOK(w, nil)
}

// validateMenu checks sizes, names, types, keys and urls.
func validateMenu(top []MenuButton) *apiError {
	if len(top) == 0 || len(top) > maxTopButtons {
		return wxErr(CodeInvalidButtonSize)
	}
	for _, b := range top {
		if b.Name == "" || len(b.Name) > maxTopNameLen {
			return wxErr(CodeInvalidButtonName)
		}
		if len(b.SubButtons) == 0 {
			if e := validateLeaf(b); e != nil {
				return e
			}
			continue
		}
		if len(b.SubButtons) > maxSubButtons {
			return wxErr(CodeInvalidSubButton)
		}
		for _, sb := range b.SubButtons {
			if sb.Name == "" || len(sb.Name) > maxSubNameLen {
				return wxErr(CodeInvalidButtonName)
			}
			if len(sb.SubButtons) > 0 {
				return wxErr(CodeInvalidSubButton) // only two levels
			}
			if e := validateLeaf(sb); e != nil {
				return e
			}
		}
	}
	return nil
}

// validateLeaf checks a button that acts when tapped.
func validateLeaf(b MenuButton) *apiError {
	switch b.Type {
	case "click", "scancode_push", "scancode_waitmsg", "pic_sysphoto", "pic_photo_or_album", "pic_weixin", "location_select":
		if b.Key == "" || len(b.Key) > maxButtonKey {
			return wxErr(CodeInvalidButtonKey)
		}
	case "view":
		if b.URL == "" || len(b.URL) > maxButtonURL {
			return wxErr(CodeInvalidButtonURL)
		}
	case "miniprogram":
		if b.URL == "" || b.AppID == "" || b.PagePath == "" {
			return wxErr(CodeInvalidButtonURL)
		}
	case "media_id", "view_limited":
		if b.MediaID == "" {
			return wxErr(CodeInvalidArgs)
		}
	case "article_id", "article_view_limited":
		if b.ArticleID == "" {
			return wxErr(CodeInvalidArgs)
		}
	default:
		return wxErr(CodeInvalidButtonType)
	}
	return nil
}

// handleMenuGet serves GET /cgi-bin/menu/get; without a menu WeChat answers 46003.
func (s *Simulator) handleMenuGet(w http.ResponseWriter, r *http.Request) {
	if e := s.checkAccessToken(r); e != nil {
		writeErr(w, e)
		return
	}
	s.mu.Lock()
	m := s.menu
	var buttons []MenuButton
	var id int64
	if m != nil {
		buttons, id = cloneButtons(m.buttons), m.id
	}
	s.mu.Unlock()
	if m == nil {
		writeErr(w, wxErr(CodeMenuNotExist))
		return
	}
	writeJSON(w, map[string]any{"menu": map[string]any{"button": buttons, "menuid": id}})
}

// handleMenuDelete serves GET /cgi-bin/menu/delete.
func (s *Simulator) handleMenuDelete(w http.ResponseWriter, r *http.Request) {
	if e := s.checkAccessToken(r); e != nil {
		writeErr(w, e)
		return
	}
	s.mu.Lock()
	s.menu = nil
	s.mu.Unlock()
	writeOK(w, nil)
}
