package web

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"crypto/subtle"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"huimin/desk"
	"huimin/results"
	"huimin/store"
)

// SupervisorDesk is what the supervisors' pages (网页工作台) use of the
// desk: login by a link from chat, the chief's board, a ticket, and the
// same typed operations chat uses. *desk.Desk satisfies it.
type SupervisorDesk interface {
	Login(ctx context.Context, token string) (desk.Officer, error)
	Officer(id string) (desk.Officer, bool)
	Supervises(o desk.Officer) bool
	Board(ctx context.Context, o desk.Officer) (desk.Board, error)
	Ticket(ctx context.Context, o desk.Officer, id string) (store.Ticket, error)
	Describe(o desk.Officer, t store.Ticket) desk.TicketView
	Colleagues(dept string) []desk.Officer
	Transfer(ctx context.Context, o desk.Officer, req desk.TransferRequest) (store.Ticket, error)
	DecideExtension(ctx context.Context, o desk.Officer, dec desk.Decision) (store.Ticket, error)
	RevealPhone(ctx context.Context, o desk.Officer, id, reason string) (store.Ticket, error)
	RevealIDNumber(ctx context.Context, o desk.Officer, id, reason string) (store.Ticket, error)
	Explain(err error, ticket string) (string, bool)
	Export(ctx context.Context, o desk.Officer, from, to time.Time, fn func(desk.ExportRow) error) error
	Results(ctx context.Context, o desk.Officer, q desk.ResultsQuery) (desk.ResultsTable, error)
	NameRectifier(ctx context.Context, o desk.Officer, id, who string) (store.Ticket, error)
	DecideAppeal(ctx context.Context, o desk.Officer, dec desk.Decision) (store.Ticket, error)
	Rate(ctx context.Context, req desk.RateRequest) (store.Ticket, error)
	Suggestions(ctx context.Context, o desk.Officer) ([]desk.Suggestion, bool, error)
	LevelName(level int) string
}

// WebSessions keeps the supervisors' sessions (the store's small cache).
type WebSessions interface {
	GetCache(ctx context.Context, key string) (string, error)
	SetCache(ctx context.Context, key, value string, ttl time.Duration) error
	DeleteCache(ctx context.Context, key string) error
}

// sessionCookie names the supervisors' session cookie; it is sent only to
// /desk.
const sessionCookie = "huimin_desk"

// maxDeskForm bounds a form's body on the supervisors' pages.
const maxDeskForm = 8 << 10

// session is a logged-in supervisor: the officer and the form token that
// every form of the session carries (CSRF).
type session struct {
	id, csrf string
	officer  desk.Officer
}

// sessionKey is where a session is kept: the hash of its cookie's value,
// so that the store never holds a working cookie.
func sessionKey(id string) string {
	sum := sha256.Sum256([]byte(id))
	return "websession:" + hex.EncodeToString(sum[:])
}

func randomToken() string {
	b := make([]byte, 24)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	return base64.RawURLEncoding.EncodeToString(b)
}

// registerSupervisor adds the supervisors' routes.
func (p *Pages) registerSupervisor(mux *http.ServeMux) {
	h := func(f handlerFunc) http.Handler { return secure(noStore(p.handle(f))) }
	mux.Handle("GET /desk/login/{token}", h(p.loginPage))
	mux.Handle("POST /desk/login/{token}", h(p.login))
	mux.Handle("POST /desk/logout", h(p.authed(p.logout)))
	mux.Handle("GET /desk", h(p.authed(p.board)))
	mux.Handle("GET /desk/tickets/{id}", h(p.authed(p.ticketPage)))
	mux.Handle("POST /desk/tickets/{id}/transfer", h(p.authed(p.transfer)))
	mux.Handle("POST /desk/tickets/{id}/extension", h(p.authed(p.extension)))
	mux.Handle("POST /desk/tickets/{id}/reveal", h(p.authed(p.reveal)))
	mux.Handle("POST /desk/tickets/{id}/rectifier", h(p.authed(p.rectifier)))
	mux.Handle("POST /desk/tickets/{id}/appeal", h(p.authed(p.appeal)))
	mux.Handle("POST /desk/tickets/{id}/visit", h(p.authed(p.phoneVisit)))
	mux.Handle("GET /desk/suggestions", h(p.authed(p.suggestions)))
	mux.Handle("GET /desk/export.csv", h(p.authed(p.exportCSV)))
	mux.Handle("GET /desk/results", h(p.authed(p.deskResults)))
}

// noStore keeps the supervisors' pages out of every cache.
func noStore(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "no-store")
		next.ServeHTTP(w, r)
	})
}

// deskMessage is what desk_message.html renders: a sentence and where to
// go from there.
type deskMessage struct {
	Text string
	Back string // a link back, "" for none
}

func (p *Pages) message(w http.ResponseWriter, status int, titleKey, text, back string) error {
	return p.render(w, status, "desk_message", titleKey, deskMessage{Text: text, Back: back})
}

// loginPage serves GET /desk/login/{token}: a button that logs in. The
// link is used only by the POST, so that a link preview fetching the page
// does not spend it.
func (p *Pages) loginPage(w http.ResponseWriter, r *http.Request) error {
	return p.render(w, http.StatusOK, "desk_login", "desk_login_title", nil)
}

// login serves POST /desk/login/{token}: the link's officer gets a
// session, once.
func (p *Pages) login(w http.ResponseWriter, r *http.Request) error {
	o, err := p.opts.Supervisor.Login(r.Context(), r.PathValue("token"))
	if err != nil {
		if text, ok := p.opts.Supervisor.Explain(err, ""); ok {
			p.opts.Log.InfoContext(r.Context(), "login link refused", "err", err)
			return p.message(w, http.StatusBadRequest, "desk_login_failed_title", text, "")
		}
		return err
	}
	s := session{id: randomToken(), csrf: randomToken(), officer: o}
	if err := p.opts.Sessions.SetCache(r.Context(), sessionKey(s.id), o.ID+" "+s.csrf, p.opts.SessionTTL); err != nil {
		return fmt.Errorf("start session: %w", err)
	}
	http.SetCookie(w, &http.Cookie{
		Name: sessionCookie, Value: s.id, Path: "/desk", MaxAge: int(p.opts.SessionTTL / time.Second),
		HttpOnly: true, Secure: p.secureRequest(r), SameSite: http.SameSiteStrictMode,
	})
	http.Redirect(w, r, "/desk", http.StatusSeeOther)
	return nil
}

// secureRequest reports whether cookies set for r must be Secure: served
// over TLS, here or at the proxy in front (web.base_url is https).
func (p *Pages) secureRequest(r *http.Request) bool {
	return r.TLS != nil || strings.HasPrefix(p.opts.BaseURL, "https://")
}

// sessionHandler is a page of a logged-in supervisor.
type sessionHandler func(w http.ResponseWriter, r *http.Request, s session) error

// authed finds the request's session: without one the page says how to
// log in (401); a form without the session's token is refused (403) and
// changes nothing.
func (p *Pages) authed(next sessionHandler) handlerFunc {
	return func(w http.ResponseWriter, r *http.Request) error {
		s, ok, err := p.session(r)
		if err != nil {
			return err
		}
		if !ok {
			return p.message(w, http.StatusUnauthorized, "desk_login_needed_title", p.texts["desk_login_needed"], "")
		}
		if r.Method == http.MethodPost {
			r.Body = http.MaxBytesReader(w, r.Body, maxDeskForm)
			if err := r.ParseForm(); err != nil {
				return p.message(w, http.StatusBadRequest, "desk_bad_form_title", p.texts["desk_bad_form"], "/desk")
			}
			if subtle.ConstantTimeCompare([]byte(r.PostForm.Get("csrf")), []byte(s.csrf)) != 1 {
				p.opts.Log.WarnContext(r.Context(), "supervisor form without its token refused", "route", r.Pattern, "officer_id", s.officer.ID)
				return p.message(w, http.StatusForbidden, "desk_bad_form_title", p.texts["desk_csrf"], "/desk")
			}
		}
		return next(w, r, s)
	}
}

// session reads the request's session; ok is false without a live one,
// or when its officer is no longer a chief or the leader.
func (p *Pages) session(r *http.Request) (session, bool, error) {
	c, err := r.Cookie(sessionCookie)
	if err != nil || c.Value == "" {
		return session{}, false, nil
	}
	v, err := p.opts.Sessions.GetCache(r.Context(), sessionKey(c.Value))
	if errors.Is(err, store.ErrNotFound) {
		return session{}, false, nil
	}
	if err != nil {
		return session{}, false, fmt.Errorf("read session: %w", err)
	}
	id, csrf, _ := strings.Cut(v, " ")
	o, ok := p.opts.Supervisor.Officer(id)
	if !ok || !p.opts.Supervisor.Supervises(o) {
		return session{}, false, nil
	}
	return session{id: c.Value, csrf: csrf, officer: o}, true, nil
}

// logout serves POST /desk/logout.
func (p *Pages) logout(w http.ResponseWriter, r *http.Request, s session) error {
	if err := p.opts.Sessions.DeleteCache(r.Context(), sessionKey(s.id)); err != nil {
		return fmt.Errorf("end session: %w", err)
	}
	http.SetCookie(w, &http.Cookie{Name: sessionCookie, Value: "", Path: "/desk", MaxAge: -1, HttpOnly: true,
		Secure: p.secureRequest(r), SameSite: http.SameSiteStrictMode})
	return p.message(w, http.StatusOK, "desk_logged_out_title", p.texts["desk_logged_out"], "")
}

// boardPage is what desk_board.html renders.
type boardPage struct {
	Officer string
	CSRF    string
	Lists   []boardList
	// From and To are the export's default period: this month so far.
	From, To string
}

type boardList struct {
	TitleKey, EmptyKey string
	Tickets            []desk.TicketView
}

// board serves GET /desk: what needs the chief, list by list.
func (p *Pages) board(w http.ResponseWriter, r *http.Request, s session) error {
	b, err := p.opts.Supervisor.Board(r.Context(), s.officer)
	if err != nil {
		return err
	}
	views := func(ts []store.Ticket) []desk.TicketView {
		out := make([]desk.TicketView, 0, len(ts))
		for _, t := range ts {
			out = append(out, p.opts.Supervisor.Describe(s.officer, t))
		}
		return out
	}
	now := time.Now().In(p.opts.Location)
	page := boardPage{Officer: s.officer.Name, CSRF: s.csrf,
		From: time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, p.opts.Location).Format(time.DateOnly), To: now.Format(time.DateOnly),
		Lists: []boardList{
			{"desk_overdue", "desk_overdue_none", views(b.Overdue)},
			{"desk_due_soon", "desk_due_soon_none", views(b.DueSoon)},
			{"desk_extensions", "desk_extensions_none", views(b.Extensions)},
			{"desk_rectifications", "desk_rectifications_none", views(b.Rectifications)},
			{"desk_appeals", "desk_appeals_none", views(b.Appeals)},
			{"desk_phone_tasks", "desk_phone_tasks_none", views(b.PhoneTasks)},
		}}
	return p.render(w, http.StatusOK, "desk_board", "desk_board_title", page)
}

// ticketView is what desk_ticket.html renders.
type ticketView struct {
	desk.TicketView
	CSRF       string
	Colleagues []desk.Officer
	// Notice is the outcome of the action just done; Problem a refusal.
	Notice, Problem string
	// Revealed is a number just unmasked, shown this once.
	Revealed, RevealedKey string
	// Members are the department's officers, for naming a rectifier;
	// Levels the five levels, for a phone visit's answer.
	Members []desk.Officer
	Levels  []surveyLevel
}

func (p *Pages) renderTicket(w http.ResponseWriter, status int, s session, t store.Ticket, tv ticketView) error {
	tv.TicketView = p.opts.Supervisor.Describe(s.officer, t)
	tv.CSRF = s.csrf
	for _, o := range p.opts.Supervisor.Colleagues(t.Department) {
		if o.ID != t.Owner {
			tv.Colleagues = append(tv.Colleagues, o)
		}
	}
	tv.Members = p.opts.Supervisor.Colleagues(t.Department)
	for l := desk.LevelVerySatisfied; l <= desk.LevelVeryDissatisfied; l++ {
		tv.Levels = append(tv.Levels, surveyLevel{Value: l, Name: p.levelName(l)})
	}
	return p.render(w, status, "desk_ticket", "desk_ticket_title", tv)
}

// ticketPage serves GET /desk/tickets/{id}.
func (p *Pages) ticketPage(w http.ResponseWriter, r *http.Request, s session) error {
	t, err := p.opts.Supervisor.Ticket(r.Context(), s.officer, r.PathValue("id"))
	if err != nil {
		return p.refused(w, err, r.PathValue("id"))
	}
	return p.renderTicket(w, http.StatusOK, s, t, ticketView{})
}

// refused answers a refused operation with the desk's sentence (the same
// chat gives), or fails the page for anything else.
func (p *Pages) refused(w http.ResponseWriter, err error, id string) error {
	text, ok := p.opts.Supervisor.Explain(err, id)
	if !ok {
		return err
	}
	return p.message(w, refusalStatus(err), "desk_refused_title", text, "/desk")
}

// refusalStatus is the HTTP status of a desk's refusal: 404 not found,
// 403 not theirs, 400 invalid input, else 409 (the ticket's state).
func refusalStatus(err error) int {
	switch {
	case errors.Is(err, desk.ErrNotFound):
		return http.StatusNotFound
	case errors.Is(err, desk.ErrNotYours):
		return http.StatusForbidden
	case errors.Is(err, desk.ErrInvalid):
		return http.StatusBadRequest
	}
	return http.StatusConflict
}

// act runs an operation on the ticket of the request and shows the ticket
// with its outcome: the notice on success, the desk's refusal otherwise
// (nothing changed).
func (p *Pages) act(w http.ResponseWriter, r *http.Request, s session, notice string,
	op func(ctx context.Context, id string) (store.Ticket, error)) error {
	id := r.PathValue("id")
	t, err := op(r.Context(), id)
	if err != nil {
		text, ok := p.opts.Supervisor.Explain(err, id)
		if !ok {
			return err
		}
		cur, gerr := p.opts.Supervisor.Ticket(r.Context(), s.officer, id)
		if gerr != nil {
			return p.refused(w, err, id)
		}
		return p.renderTicket(w, refusalStatus(err), s, cur, ticketView{Problem: text})
	}
	return p.renderTicket(w, http.StatusOK, s, t, ticketView{Notice: p.texts[notice]})
}

// transfer serves POST /desk/tickets/{id}/transfer: reassign to a
// colleague (转办), as 转办 in chat.
func (p *Pages) transfer(w http.ResponseWriter, r *http.Request, s session) error {
	return p.act(w, r, s, "desk_transferred", func(ctx context.Context, id string) (store.Ticket, error) {
		return p.opts.Supervisor.Transfer(ctx, s.officer, desk.TransferRequest{Ticket: id, To: r.PostForm.Get("to"), Reason: r.PostForm.Get("reason")})
	})
}

// extension serves POST /desk/tickets/{id}/extension: approve or refuse
// a pending extension, as 同意/不同意 in chat.
func (p *Pages) extension(w http.ResponseWriter, r *http.Request, s session) error {
	return p.decide(w, r, s, "desk_extension", p.opts.Supervisor.DecideExtension)
}

// decide runs a chief's decision (decision=approve or refuse, with a
// reason) and shows the ticket with notice+"_approved" or "_refused".
func (p *Pages) decide(w http.ResponseWriter, r *http.Request, s session, notice string,
	do func(context.Context, desk.Officer, desk.Decision) (store.Ticket, error)) error {
	approve := r.PostForm.Get("decision") == "approve"
	if !approve && r.PostForm.Get("decision") != "refuse" {
		return p.message(w, http.StatusBadRequest, "desk_bad_form_title", p.texts["desk_bad_form"], "/desk")
	}
	outcome := "_refused"
	if approve {
		outcome = "_approved"
	}
	return p.act(w, r, s, notice+outcome, func(ctx context.Context, id string) (store.Ticket, error) {
		return do(ctx, s.officer, desk.Decision{Ticket: id, Approve: approve, Reason: r.PostForm.Get("reason")})
	})
}

// reveal serves POST /desk/tickets/{id}/reveal: the citizen's full phone
// or ID number, shown once, with the reason recorded in the history.
func (p *Pages) reveal(w http.ResponseWriter, r *http.Request, s session) error {
	id, what, reason := r.PathValue("id"), r.PostForm.Get("what"), strings.TrimSpace(r.PostForm.Get("reason"))
	var do func(context.Context, desk.Officer, string, string) (store.Ticket, error)
	switch what {
	case "phone":
		do = p.opts.Supervisor.RevealPhone
	case "id":
		do = p.opts.Supervisor.RevealIDNumber
	default:
		return p.message(w, http.StatusBadRequest, "desk_bad_form_title", p.texts["desk_bad_form"], "/desk")
	}
	if reason == "" {
		t, err := p.opts.Supervisor.Ticket(r.Context(), s.officer, id)
		if err != nil {
			return p.refused(w, err, id)
		}
		return p.renderTicket(w, http.StatusBadRequest, s, t, ticketView{Problem: p.texts["desk_reveal_reason"]})
	}
	t, err := do(r.Context(), s.officer, id, reason)
	if err != nil {
		return p.refused(w, err, id)
	}
	tv := ticketView{Revealed: t.Phone, RevealedKey: "desk_phone"}
	if what == "id" {
		tv.Revealed, tv.RevealedKey = t.IDNumber, "desk_id_number"
	}
	return p.renderTicket(w, http.StatusOK, s, t, tv)
}

// deskResultsPage is what desk_results.html renders.
type deskResultsPage struct {
	From, To        string
	Window, Officer string
	// By is what the top level's rows are: window, department, line or
	// officer.
	By string
	// Level says what the rows are: windows, officers, or (Tickets) none.
	RowsKey  string
	Rows     []deskResultsRow
	Total    deskResultsRow
	Tickets  []deskResultsTicket
	Response bool
	// Up is the link one level up the drill-down ("" at the top).
	Up string
}

type deskResultsRow struct {
	Name, Link string
	results.Figures
	Satisfaction, Response, Resolution, Timeliness string
}

type deskResultsTicket struct {
	ID, Line, State, Received, Level string
}

// deskResults serves GET /desk/results?from=2026-11-01&to=2026-11-30
// [&window=…[&officer=…]]: the results of the chief's departments for any
// days (both included), by window, then a window's officers, then an
// officer's tickets, each linking to the next.
func (p *Pages) deskResults(w http.ResponseWriter, r *http.Request, s session) error {
	loc := p.opts.Location
	qs := r.URL.Query()
	now := time.Now().In(loc)
	fromText, toText := qs.Get("from"), qs.Get("to")
	if fromText == "" && toText == "" {
		fromText = time.Date(now.Year(), now.Month(), 1, 0, 0, 0, 0, loc).Format(time.DateOnly)
		toText = now.Format(time.DateOnly)
	}
	from, errFrom := time.ParseInLocation(time.DateOnly, fromText, loc)
	to, errTo := time.ParseInLocation(time.DateOnly, toText, loc)
	if errFrom != nil || errTo != nil {
		return p.message(w, http.StatusBadRequest, "desk_bad_period_title", p.texts["desk_bad_period"], "/desk/results")
	}
	q := desk.ResultsQuery{From: from, To: to.AddDate(0, 0, 1), Window: qs.Get("window"), Officer: qs.Get("officer")}
	by := qs.Get("by")
	switch by {
	case "", "window":
		by = "window"
	case "department":
		q.By = results.ByDepartment
	case "line":
		q.By = results.ByLine
	case "officer":
		q.By = results.ByOfficer
	default:
		return p.message(w, http.StatusBadRequest, "desk_bad_form_title", p.texts["desk_bad_form"], "/desk/results")
	}
	if q.Officer != "" && q.Window == "" {
		return p.message(w, http.StatusBadRequest, "desk_bad_form_title", p.texts["desk_bad_form"], "/desk/results")
	}
	tab, err := p.opts.Supervisor.Results(r.Context(), s.officer, q)
	if err != nil {
		if errors.Is(err, desk.ErrInvalid) {
			return p.message(w, http.StatusBadRequest, "desk_bad_period_title", p.texts["desk_bad_period"], "/desk/results")
		}
		return p.refused(w, err, "")
	}
	link := func(extra url.Values) string {
		v := url.Values{"from": {fromText}, "to": {toText}}
		for k, vs := range extra {
			v[k] = vs
		}
		return "/desk/results?" + v.Encode()
	}
	row := func(name, href string, f results.Figures) deskResultsRow {
		pct := func(v float64, ok bool) string {
			if !ok {
				return p.texts["results_none"]
			}
			return percent(v)
		}
		return deskResultsRow{Name: name, Link: href, Figures: f,
			Satisfaction: pct(f.Satisfaction()), Response: pct(f.Response()),
			Resolution: pct(f.Resolution()), Timeliness: pct(f.Timeliness())}
	}
	page := deskResultsPage{From: fromText, To: toText, Window: q.Window, Officer: q.Officer, By: by, Response: tab.Response,
		Total: row(p.texts["desk_results_total"], "", tab.Total)}
	switch {
	case q.Officer != "":
		page.Up = link(url.Values{"window": {q.Window}})
		for _, t := range tab.Tickets {
			lv := ""
			if t.Level > 0 {
				lv = p.levelName(t.Level)
			}
			page.Tickets = append(page.Tickets, deskResultsTicket{ID: t.ID, Line: t.Line, State: t.State,
				Received: t.Received.In(loc).Format("2006-01-02 15:04"), Level: lv})
		}
	case q.Window != "":
		page.Up, page.RowsKey = link(nil), "desk_results_officers"
		for _, rw := range tab.Rows {
			href := ""
			if rw.ID != "" {
				href = link(url.Values{"window": {q.Window}, "officer": {rw.ID}})
			}
			page.Rows = append(page.Rows, row(rw.Name, href, rw.Figures))
		}
	case by == "window":
		page.RowsKey = "desk_results_windows"
		for _, rw := range tab.Rows {
			page.Rows = append(page.Rows, row(rw.Name, link(url.Values{"window": {rw.ID}}), rw.Figures))
		}
	default:
		page.RowsKey = "desk_results_by_" + by
		for _, rw := range tab.Rows {
			page.Rows = append(page.Rows, row(rw.Name, "", rw.Figures))
		}
	}
	return p.render(w, http.StatusOK, "desk_results", "desk_results_title", page)
}

// rectifier serves POST /desk/tickets/{id}/rectifier: name the person who
// verifies and rectifies a 差评 (整改人 in chat).
func (p *Pages) rectifier(w http.ResponseWriter, r *http.Request, s session) error {
	return p.act(w, r, s, "desk_rectifier_named", func(ctx context.Context, id string) (store.Ticket, error) {
		return p.opts.Supervisor.NameRectifier(ctx, s.officer, id, r.PostForm.Get("who"))
	})
}

// appeal serves POST /desk/tickets/{id}/appeal: approve or refuse an
// appeal of a rating (同意申诉 / 驳回申诉 in chat).
func (p *Pages) appeal(w http.ResponseWriter, r *http.Request, s session) error {
	return p.decide(w, r, s, "desk_appeal", p.opts.Supervisor.DecideAppeal)
}

// phoneVisit serves POST /desk/tickets/{id}/visit: the answer of a phone
// return visit (回访 号 1-5 in chat).
func (p *Pages) phoneVisit(w http.ResponseWriter, r *http.Request, s session) error {
	level, err := strconv.Atoi(r.PostForm.Get("level"))
	if err != nil || level < desk.LevelVerySatisfied || level > desk.LevelVeryDissatisfied {
		return p.message(w, http.StatusBadRequest, "desk_bad_form_title", p.texts["desk_bad_form"], "/desk")
	}
	return p.act(w, r, s, "desk_visit_recorded", func(ctx context.Context, id string) (store.Ticket, error) {
		return p.opts.Supervisor.Rate(ctx, desk.RateRequest{Ticket: id, By: s.officer, Level: level,
			Comment: r.PostForm.Get("comment"), Via: desk.ViaPhone})
	})
}

// suggestionLine is one entry of desk_suggestions.html.
type suggestionLine struct {
	ID, Line, Received, Text, Answer string
	Comment                          bool
}

// suggestions serves GET /desk/suggestions: the suggestion register
// (建议登记) of the chief's departments, newest first.
func (p *Pages) suggestions(w http.ResponseWriter, r *http.Request, s session) error {
	list, _, err := p.opts.Supervisor.Suggestions(r.Context(), s.officer)
	if err != nil {
		return err
	}
	var lines []suggestionLine
	for _, sg := range list {
		v := p.opts.Supervisor.Describe(s.officer, sg.Ticket)
		lines = append(lines, suggestionLine{ID: v.ID, Line: v.Line, Received: v.Created, Text: sg.Text, Answer: sg.Answer, Comment: sg.Comment})
	}
	return p.render(w, http.StatusOK, "desk_suggestions", "desk_suggestions_title", lines)
}
