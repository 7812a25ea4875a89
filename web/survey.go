package web

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"

	"huimin/desk"
	"huimin/store"
)

// SurveyDesk answers the return-visit survey page (回访评价): the survey a
// page token names, and the citizen's answer to it. *desk.Desk satisfies
// it; its refusals (*desk.Refusal wrapping desk.ErrNotFound,
// desk.ErrWrongState …) choose the page a citizen sees.
type SurveyDesk interface {
	SurveyByToken(ctx context.Context, token string) (desk.SurveyPage, error)
	RateByToken(ctx context.Context, token, viewer string, level int, comment string) (store.Ticket, error)
	LevelName(level int) string
}

// maxSurveyForm bounds a survey answer's body: a level and a 200-character
// comment, percent-encoded, are far below it.
const maxSurveyForm = 16 << 10

// surveyForm is what survey.html renders: which matter the survey is about
// (no personal data: no name, phone, openid or summary) and the form.
type surveyForm struct {
	Ticket, Line, Resolved string
	Levels                 []surveyLevel
	Comment                string
	// Problem is the text key of what was wrong with a submitted form.
	Problem string
}

// surveyLevel is one of the five radio buttons.
type surveyLevel struct {
	Value   int
	Name    string
	Checked bool
}

// surveyDone is what survey_done.html renders.
type surveyDone struct {
	Ticket, Level string
	Bad           bool
}

// surveyPage serves GET /survey/{token}: the survey's form. With WeChat
// authorisation, a browser whose viewer is not yet known is first sent to
// WeChat (see toWeChat and oauthCallback), and the form is shown to the
// ticket's citizen only.
func (p *Pages) surveyPage(w http.ResponseWriter, r *http.Request) error {
	if p.opts.OAuth == nil {
		return p.surveyFormPage(w, r, "", http.StatusOK, 0, "", "")
	}
	token := r.PathValue("token")
	viewer := p.viewer(r, token)
	if q := r.URL.Query(); q.Has("code") || q.Has("state") {
		if viewer != "" {
			// Back to WeChat's answer (the browser's history): the viewer
			// is known already.
			http.Redirect(w, r, p.surveyURL(token), http.StatusFound)
			return nil
		}
		return p.oauthCallback(w, r, token)
	}
	if viewer != "" {
		return p.surveyFormPage(w, r, viewer, http.StatusOK, 0, "", "")
	}
	// A link that names no open survey says so at once, without the trip.
	if _, err := p.opts.Surveys.SurveyByToken(r.Context(), token); err != nil {
		return p.surveyRefused(w, r, err)
	}
	return p.toWeChat(w, r, token)
}

// surveyAnswer serves POST /survey/{token}: records the answer and thanks,
// or shows why not. The token in the URL is the secret that binds the form
// to one survey of one citizen, and it answers once; with WeChat
// authorisation the viewer WeChat named must be that citizen too. The
// origin check only refuses a form another site made a browser post.
func (p *Pages) surveyAnswer(w http.ResponseWriter, r *http.Request) error {
	if !sameOrigin(r) {
		p.opts.Log.InfoContext(r.Context(), "survey page refused", "status", http.StatusForbidden, "reason", "cross_origin")
		return p.surveyMessage(w, http.StatusForbidden, "survey_refused")
	}
	// Without WeChat authorisation the page cannot tell who answers: the
	// token alone binds the answer to the ticket's citizen.
	viewer := ""
	if p.opts.OAuth != nil {
		if viewer = p.viewer(r, r.PathValue("token")); viewer == "" {
			// No cookie, or one that expired: the page was opened too long
			// ago, or not through WeChat.
			p.opts.Log.InfoContext(r.Context(), "survey page refused", "status", http.StatusForbidden, "reason", "no_viewer")
			return p.surveyMessage(w, http.StatusForbidden, "survey_reopen")
		}
	}
	r.Body = http.MaxBytesReader(w, r.Body, maxSurveyForm)
	if err := r.ParseForm(); err != nil {
		return p.surveyFormPage(w, r, viewer, http.StatusBadRequest, 0, "", "survey_form_bad")
	}
	comment := r.PostForm.Get("comment")
	level, err := strconv.Atoi(r.PostForm.Get("level"))
	if err != nil || level < desk.LevelVerySatisfied || level > desk.LevelVeryDissatisfied {
		return p.surveyFormPage(w, r, viewer, http.StatusBadRequest, 0, comment, "survey_pick_level")
	}
	t, err := p.opts.Surveys.RateByToken(r.Context(), r.PathValue("token"), viewer, level, comment)
	if errors.Is(err, desk.ErrInvalid) {
		return p.surveyFormPage(w, r, viewer, http.StatusBadRequest, 0, comment, "survey_pick_level")
	}
	if err != nil {
		return p.surveyRefused(w, r, err)
	}
	done := surveyDone{Ticket: t.ID, Level: p.opts.Surveys.LevelName(level), Bad: level >= desk.LevelDissatisfied}
	return p.render(w, http.StatusOK, "survey_done", "survey_done_title", done)
}

// surveyFormPage renders the form of the token's survey with status, the
// level and comment a citizen gave, and the problem with them (a text key,
// "" for none); a token that names no open survey shows why instead. A
// viewer WeChat named ("" when unknown) who is not the ticket's citizen
// is refused: the desk would refuse the answer too (RateByToken).
func (p *Pages) surveyFormPage(w http.ResponseWriter, r *http.Request, viewer string, status, level int, comment, problem string) error {
	s, err := p.opts.Surveys.SurveyByToken(r.Context(), r.PathValue("token"))
	if err != nil {
		return p.surveyRefused(w, r, err)
	}
	if viewer != "" && viewer != s.Ticket.CitizenOpenID {
		p.opts.Log.InfoContext(r.Context(), "survey page refused", "status", http.StatusForbidden, "reason", "not_yours", "ticket_id", s.Ticket.ID)
		return p.surveyMessage(w, http.StatusForbidden, "survey_not_yours")
	}
	form := surveyForm{Ticket: s.Ticket.ID, Line: s.Line, Comment: comment, Problem: problem}
	if !s.Ticket.ResolvedAt.IsZero() {
		layout, err := p.text("survey_date_layout")
		if err != nil {
			return err
		}
		form.Resolved = s.Ticket.ResolvedAt.In(p.opts.Location).Format(layout)
	}
	for l := desk.LevelVerySatisfied; l <= desk.LevelVeryDissatisfied; l++ {
		form.Levels = append(form.Levels, surveyLevel{Value: l, Name: p.opts.Surveys.LevelName(l), Checked: l == level})
	}
	return p.render(w, status, "survey", "survey_title", form)
}

// surveyRefused answers the desk's refusal of a survey token with the page
// that says why; any other error is the handler's to return.
func (p *Pages) surveyRefused(w http.ResponseWriter, r *http.Request, err error) error {
	var status int
	var key string
	switch {
	case errors.Is(err, desk.ErrNotFound):
		status, key = http.StatusNotFound, "survey_invalid"
	case errors.Is(err, desk.ErrWrongState):
		status, key = http.StatusGone, "survey_closed"
		if rf, ok := errors.AsType[*desk.Refusal](err); ok {
			switch rf.Reason {
			case "survey_answered":
				key = "survey_answered"
			case "survey_expired":
				key = "survey_expired"
			}
		}
	case errors.Is(err, desk.ErrNotYours):
		status, key = http.StatusForbidden, "survey_not_yours"
	default:
		return fmt.Errorf("survey page: %w", err)
	}
	// The refusal names the ticket and the reason, never the token: the
	// token would answer the survey.
	p.opts.Log.InfoContext(r.Context(), "survey page refused", "status", status, "err", err)
	return p.surveyMessage(w, status, key)
}

// surveyMessage renders the one-sentence page of key (its title is
// key_title, its sentence key_body).
func (p *Pages) surveyMessage(w http.ResponseWriter, status int, key string) error {
	return p.render(w, status, "survey_message", key+"_title", key+"_body")
}

// sameOrigin reports whether a form post may come from this site's own
// page. Sec-Fetch-Site decides where the browser sends it (every current
// one does); else a present Origin must name this host. An Origin of
// "null" passes: the survey page's Referrer-Policy no-referrer makes older
// browsers (Safari before 16.4) send exactly that for their own form, and
// the token in the URL is what guards the answer.
func sameOrigin(r *http.Request) bool {
	switch r.Header.Get("Sec-Fetch-Site") {
	case "same-origin", "none":
		return true
	case "":
	default:
		return false
	}
	origin := r.Header.Get("Origin")
	if origin == "" || origin == "null" {
		return true
	}
	u, err := url.Parse(origin)
	return err == nil && u.Host == r.Host
}

// surveyHeaders are the survey pages' own headers: their URL holds the
// token, so they are neither kept nor indexed (no Referer leaves them:
// secure sets no-referrer on every page).
func surveyHeaders(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Cache-Control", "no-store")
		h.Set("X-Robots-Tag", "noindex")
		next.ServeHTTP(w, r)
	})
}
