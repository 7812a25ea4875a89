package web

import (
	"context"
	"encoding/csv"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"huimin/desk"
	"huimin/desk/calendar"
	"huimin/store"
	"huimin/store/boltstore"
)

// The desk is the supervisors' pages' source.
var _ SupervisorDesk = (*desk.Desk)(nil)

// notes keeps what the desk would send, by recipient.
type notes struct {
	mu   sync.Mutex
	msgs map[string][]string
}

func (n *notes) Notify(_ context.Context, msgs ...desk.Message) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	if n.msgs == nil {
		n.msgs = map[string][]string{}
	}
	for _, m := range msgs {
		n.msgs[m.To] = append(n.msgs[m.To], m.Text)
	}
	return nil
}

func (n *notes) Delivery(context.Context, desk.Message) (desk.Delivery, error) {
	return desk.Delivery{}, nil
}

func (n *notes) to(user string) string {
	n.mu.Lock()
	defer n.mu.Unlock()
	return strings.Join(n.msgs[user], "\n")
}

// supervisorRig is a real desk on a real store behind the pages, as the
// service wires them; chat commands and pages act on the same tickets.
type supervisorRig struct {
	// clock is the store's clock: the login link's and the sessions'
	// expiries run on it.
	clock *storeClock
	desk  *desk.Desk
	st    *boltstore.Store
	note  *notes
	pages http.Handler
	off   map[string]desk.Officer
}

var supervisorDirectory = desk.Directory{
	Departments: []desk.Department{
		{ID: "relief", Name: "社会救助科", Lines: []string{"relief"}, Supervisor: "zhao"},
		{ID: "veterans", Name: "优抚安置科", Lines: []string{"veterans"}, Supervisor: "qian"},
	},
	Officers: []desk.Officer{
		{ID: "wang", Name: "王明", Department: "relief", OpenID: "oWang"},
		{ID: "li", Name: "李华", Department: "relief", OpenID: "oLi"},
		{ID: "zhao", Name: "赵科长", Department: "relief", OpenID: "oZhao", Supervisor: true},
		{ID: "qian", Name: "钱科长", Department: "veterans", OpenID: "oQian", Supervisor: true},
		{ID: "sun", Name: "孙丽", Department: "veterans", OpenID: "oSun"},
	},
}

func newSupervisorRig(t *testing.T) *supervisorRig {
	t.Helper()
	clock := &storeClock{}
	st, err := boltstore.New(filepath.Join(t.TempDir(), "h.db"), boltstore.Options{Now: clock.now})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	cal, err := calendar.New(calendar.Options{Location: cst, EveryDay: true,
		Hours: calendar.Hours{Start: "00:00", End: "23:59"}})
	if err != nil {
		t.Fatal(err)
	}
	note := &notes{}
	rules := desk.Rules{TicketPrefix: "MZ", Deadlines: map[string]map[string]desk.Limit{"*": {"*": {Days: 3}}},
		MaxExtensionDays: 15, LoginURL: "https://huimin.test/desk/login/"}
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	d, err := desk.New(st, cal, note, supervisorDirectory, rules, desk.Options{Location: cst, Log: log,
		LineNames: map[string]string{"relief": "低保、特困、临时救助", "veterans": "优抚安置"}})
	if err != nil {
		t.Fatal(err)
	}
	off := map[string]desk.Officer{}
	for _, o := range supervisorDirectory.Officers {
		off[o.ID] = o
	}
	h := newPages(t, Options{Supervisor: d, Sessions: st, SessionTTL: 8 * time.Hour, Levels: d, Location: cst, Log: log})
	return &supervisorRig{clock: clock, desk: d, st: st, note: note, pages: h, off: off}
}

// ticket opens a matter for line and has wang (or sun) accept it.
func (r *supervisorRig) ticket(t *testing.T, line string) store.Ticket {
	t.Helper()
	tk, err := r.desk.Open(t.Context(), desk.OpenRequest{Citizen: "oCitizen", Line: line, Inquiry: "help",
		Summary: "想申请临时救助", Name: "王阿姨", Phone: "13812345678", IDNumber: "110101194001011234"})
	if err != nil {
		t.Fatal(err)
	}
	// Routing assigned it to the least busy officer; give it to wang (sun
	// for veterans) as a chief would, and have them accept it.
	owner := "wang"
	if line == "veterans" {
		owner = "sun"
	}
	if tk.Owner != owner {
		chief := "zhao"
		if line == "veterans" {
			chief = "qian"
		}
		if _, err := r.desk.Transfer(t.Context(), r.off[chief], desk.TransferRequest{Ticket: tk.ID, To: owner, Reason: "分工"}); err != nil {
			t.Fatalf("transfer to %s: %v", owner, err)
		}
	}
	if _, err := r.desk.Accept(t.Context(), r.off[owner], tk.ID); err != nil {
		t.Fatalf("accept: %v", err)
	}
	got, err := r.st.GetTicket(t.Context(), tk.ID)
	if err != nil {
		t.Fatal(err)
	}
	return got
}

// login gets a link in chat as officer and follows it: the session cookie.
func (r *supervisorRig) login(t *testing.T, officer string) *http.Cookie {
	t.Helper()
	text, err := r.desk.Command(t.Context(), r.off[officer], "登录")
	if err != nil {
		t.Fatal(err)
	}
	i := strings.Index(text, "https://huimin.test")
	if i < 0 {
		t.Fatalf("登录 answered %q", text)
	}
	path := strings.Fields(text[i+len("https://huimin.test"):])[0]
	res, body := get(t, r.pages, path)
	if res.StatusCode != http.StatusOK || !strings.Contains(body, "进入工作台") {
		t.Fatalf("GET the login link: %d", res.StatusCode)
	}
	res, _, cookies := visit(t, r.pages, httptest.NewRequest(http.MethodPost, path, nil))
	if res.StatusCode != http.StatusSeeOther || res.Header.Get("Location") != "/desk" {
		t.Fatalf("POST the login link: %d → %s", res.StatusCode, res.Header.Get("Location"))
	}
	c := cookies[sessionCookie]
	if c == nil || !c.HttpOnly || c.SameSite != http.SameSiteStrictMode || c.Path != "/desk" || c.MaxAge != 8*3600 {
		t.Fatalf("session cookie = %+v", c)
	}
	// The link works once.
	res, body, _ = visit(t, r.pages, httptest.NewRequest(http.MethodPost, path, nil))
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(body, "登录链接已失效") {
		t.Errorf("the login link used again: %d", res.StatusCode)
	}
	return c
}

// csrfOf reads the form token from a page.
func csrfOf(t *testing.T, body string) string {
	t.Helper()
	const mark = `name="csrf" value="`
	i := strings.Index(body, mark)
	if i < 0 {
		t.Fatal("page has no form token")
	}
	rest := body[i+len(mark):]
	return rest[:strings.IndexByte(rest, '"')]
}

func (r *supervisorRig) post(t *testing.T, c *http.Cookie, target string, form url.Values) (answer, string) {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, target, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	res, body, _ := visit(t, r.pages, req, c)
	return res, body
}

func TestSupervisorLoginAndBoard(t *testing.T) {
	r := newSupervisorRig(t)
	tk := r.ticket(t, "relief")
	other := r.ticket(t, "veterans")

	res, body := get(t, r.pages, "/desk")
	if res.StatusCode != http.StatusUnauthorized || !strings.Contains(body, "发送“登录”") {
		t.Errorf("GET /desk without a session: %d", res.StatusCode)
	}
	checkSecurityHeaders(t, res)
	if res.Header.Get("Cache-Control") != "no-store" {
		t.Errorf("Cache-Control = %q", res.Header.Get("Cache-Control"))
	}
	res, _ = get(t, r.pages, "/desk/login/made-up-token")
	if res.StatusCode != http.StatusOK {
		t.Errorf("GET a made-up login link: %d, want the page (nothing is spent by a GET)", res.StatusCode)
	}
	res, body, _ = visit(t, r.pages, httptest.NewRequest(http.MethodPost, "/desk/login/made-up-token", nil))
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(body, "登录链接已失效") {
		t.Errorf("POST a made-up login link: %d", res.StatusCode)
	}

	c := r.login(t, "zhao")
	res, body, _ = getWith(t, r.pages, "/desk", c)
	if res.StatusCode != http.StatusOK || !strings.Contains(body, "赵科长") || !strings.Contains(body, "网页工作台") {
		t.Fatalf("GET /desk as zhao: %d", res.StatusCode)
	}
	res, body, _ = getWith(t, r.pages, "/desk/tickets/"+tk.ID, c)
	if res.StatusCode != http.StatusOK || !strings.Contains(body, "138****5678") || !strings.Contains(body, "110101********1234") {
		t.Fatalf("ticket page: %d", res.StatusCode)
	}
	if strings.Contains(body, "13812345678") || strings.Contains(body, "110101194001011234") {
		t.Error("the ticket page shows a number unmasked")
	}
	// Another department's ticket is not zhao's to see.
	res, _, _ = getWith(t, r.pages, "/desk/tickets/"+other.ID, c)
	if res.StatusCode != http.StatusForbidden {
		t.Errorf("another department's ticket: %d, want 403", res.StatusCode)
	}
	res, _, _ = getWith(t, r.pages, "/desk/tickets/MZ-nope", c)
	if res.StatusCode != http.StatusNotFound {
		t.Errorf("an unknown ticket: %d, want 404", res.StatusCode)
	}

	// An officer who is no chief gets no link, and a forged cookie nothing.
	if text, _ := r.desk.Command(t.Context(), r.off["wang"], "登录"); strings.Contains(text, "https://") {
		t.Errorf("wang got a link: %q", text)
	}
	res, _, _ = getWith(t, r.pages, "/desk", &http.Cookie{Name: sessionCookie, Value: "forged"})
	if res.StatusCode != http.StatusUnauthorized {
		t.Errorf("a forged session cookie: %d", res.StatusCode)
	}

	// Logout ends the session.
	_, body, _ = getWith(t, r.pages, "/desk", c)
	res, _ = r.post(t, c, "/desk/logout", url.Values{"csrf": {csrfOf(t, body)}})
	if res.StatusCode != http.StatusOK {
		t.Errorf("logout: %d", res.StatusCode)
	}
	if res, _, _ = getWith(t, r.pages, "/desk", c); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("after logout: %d, want 401", res.StatusCode)
	}
}

// TestSupervisorReassignOnThePage: the chief reassigns on the page through
// the desk's Transfer; the new owner is told in chat and the history says
// so. Without the form token nothing happens.
func TestSupervisorReassignOnThePage(t *testing.T) {
	r := newSupervisorRig(t)
	tk := r.ticket(t, "relief")
	c := r.login(t, "zhao")
	_, body, _ := getWith(t, r.pages, "/desk/tickets/"+tk.ID, c)
	token := csrfOf(t, body)

	for name, form := range map[string]url.Values{
		"no token":    {"to": {"li"}, "reason": {"王明休假"}},
		"wrong token": {"to": {"li"}, "reason": {"王明休假"}, "csrf": {"forged"}},
	} {
		res, _ := r.post(t, c, "/desk/tickets/"+tk.ID+"/transfer", form)
		if res.StatusCode != http.StatusForbidden {
			t.Errorf("%s: %d, want 403", name, res.StatusCode)
		}
	}
	if got, _ := r.st.GetTicket(t.Context(), tk.ID); got.Owner != "wang" || got.Version != tk.Version {
		t.Fatalf("a refused form changed the ticket: owner %s, version %d", got.Owner, got.Version)
	}
	res, body := r.post(t, c, "/desk/tickets/"+tk.ID+"/transfer", url.Values{"to": {"li"}, "reason": {""}, "csrf": {token}})
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(body, `class="problem"`) {
		t.Errorf("a transfer without reason: %d", res.StatusCode)
	}
	res, body = r.post(t, c, "/desk/tickets/"+tk.ID+"/transfer", url.Values{"to": {"li"}, "reason": {"王明休假"}, "csrf": {token}})
	if res.StatusCode != http.StatusOK || !strings.Contains(body, "已转办") {
		t.Fatalf("reassign: %d", res.StatusCode)
	}
	got, _ := r.st.GetTicket(t.Context(), tk.ID)
	if got.Owner != "li" || got.FirstResponsible != "wang" {
		t.Errorf("after the reassignment owner %s, first responsible %s", got.Owner, got.FirstResponsible)
	}
	if !strings.Contains(r.note.to("oLi"), tk.ID) {
		t.Errorf("li was not told in chat: %q", r.note.to("oLi"))
	}
	if !strings.Contains(body, "李华") || !strings.Contains(body, "王明休假") {
		t.Error("the page's history does not show the transfer")
	}
}

// TestSupervisorDecidesExtensionOnThePage: an extension asked in chat is
// approved on the page; the officer learns it in chat.
func TestSupervisorDecidesExtensionOnThePage(t *testing.T) {
	r := newSupervisorRig(t)
	tk := r.ticket(t, "relief")
	if text, err := r.desk.Command(t.Context(), r.off["wang"], "延期 "+tk.ID+" 3 需要上门核实"); err != nil || !strings.Contains(text, "延期") {
		t.Fatalf("延期 in chat: %q, %v", text, err)
	}
	c := r.login(t, "zhao")
	_, body, _ := getWith(t, r.pages, "/desk", c)
	if !strings.Contains(body, "待审批的延期申请（1）") {
		t.Error("the board does not list the pending extension")
	}
	_, body, _ = getWith(t, r.pages, "/desk/tickets/"+tk.ID, c)
	if !strings.Contains(body, "需要上门核实") {
		t.Fatal("the ticket page does not show the extension's reason")
	}
	token := csrfOf(t, body)
	res, _ := r.post(t, c, "/desk/tickets/"+tk.ID+"/extension", url.Values{"decision": {"maybe"}, "csrf": {token}})
	if res.StatusCode != http.StatusBadRequest {
		t.Errorf("decision maybe: %d", res.StatusCode)
	}
	res, body = r.post(t, c, "/desk/tickets/"+tk.ID+"/extension", url.Values{"decision": {"approve"}, "csrf": {token}})
	if res.StatusCode != http.StatusOK || !strings.Contains(body, "已同意延期") {
		t.Fatalf("approve: %d", res.StatusCode)
	}
	got, _ := r.st.GetTicket(t.Context(), tk.ID)
	if got.Extension == nil || got.Extension.Status != "approved" || !got.Deadline.After(tk.Deadline) {
		t.Errorf("extension %+v, deadline %v (was %v)", got.Extension, got.Deadline, tk.Deadline)
	}
	if !strings.Contains(r.note.to("oWang"), "延期已获批准") {
		t.Errorf("wang was not told: %q", r.note.to("oWang"))
	}
	// Decided once: a second approval is refused and changes nothing.
	res, _ = r.post(t, c, "/desk/tickets/"+tk.ID+"/extension", url.Values{"decision": {"approve"}, "csrf": {token}})
	if res.StatusCode == http.StatusOK {
		t.Error("a second approval was accepted")
	}
}

// TestSupervisorRevealsWithReason: a full number is shown once, with a
// reason, and the history records who, when and why.
func TestSupervisorRevealsWithReason(t *testing.T) {
	r := newSupervisorRig(t)
	tk := r.ticket(t, "relief")
	c := r.login(t, "zhao")
	_, body, _ := getWith(t, r.pages, "/desk/tickets/"+tk.ID, c)
	token := csrfOf(t, body)
	res, body := r.post(t, c, "/desk/tickets/"+tk.ID+"/reveal", url.Values{"what": {"phone"}, "reason": {" "}, "csrf": {token}})
	if res.StatusCode != http.StatusBadRequest || strings.Contains(body, "13812345678") {
		t.Errorf("reveal without a reason: %d", res.StatusCode)
	}
	res, body = r.post(t, c, "/desk/tickets/"+tk.ID+"/reveal", url.Values{"what": {"id"}, "reason": {"核对低保资格"}, "csrf": {token}})
	if res.StatusCode != http.StatusOK || !strings.Contains(body, "110101194001011234") {
		t.Fatalf("reveal the ID number: %d", res.StatusCode)
	}
	if !strings.Contains(body, "赵科长查看了群众完整身份证号（核对低保资格）") {
		t.Error("the history does not record who unmasked the ID number and why")
	}
	got, _ := r.st.GetTicket(t.Context(), tk.ID)
	last := got.History[len(got.History)-1]
	if last.Kind != desk.EventIDRevealed || last.Actor != "zhao" || last.Detail != "核对低保资格" {
		t.Errorf("last event = %+v", last)
	}
	// The next view is masked again.
	_, body, _ = getWith(t, r.pages, "/desk/tickets/"+tk.ID, c)
	if strings.Contains(body, "110101194001011234") {
		t.Error("the number stays unmasked after the one view")
	}
}

// TestExportCSV: the chief's tickets as CSV with a BOM, numbers in
// comments masked, formulas defused, other departments left out; a bad
// period is refused.
func TestExportCSV(t *testing.T) {
	r := newSupervisorRig(t)
	tk := r.ticket(t, "relief")
	r.ticket(t, "veterans")
	if _, err := r.desk.Resolve(t.Context(), r.off["wang"], tk.ID, "已办理"); err != nil {
		t.Fatal(err)
	}
	// The return visit's answer, as the survey records it.
	rated, err := r.st.GetTicket(t.Context(), tk.ID)
	if err != nil {
		t.Fatal(err)
	}
	rated.Surveys = append(rated.Surveys, store.Survey{Round: 1, Officer: "wang", Level: 4, Via: desk.ViaPage,
		Comment: "=HYPERLINK(\"x\") 电话13812345678", AnsweredAt: time.Now()})
	if _, err := r.st.UpdateTicket(t.Context(), rated); err != nil {
		t.Fatal(err)
	}
	c := r.login(t, "zhao")
	day := time.Now().In(cst).Format(time.DateOnly)
	res, body, _ := getWith(t, r.pages, "/desk/export.csv?from="+day+"&to="+day, c)
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/csv") {
		t.Fatalf("export: %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	if !strings.HasPrefix(body, "\uFEFF") {
		t.Error("no BOM")
	}
	rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(body, "\uFEFF"))).ReadAll()
	if err != nil {
		t.Fatal(err)
	}
	if len(rows) != 2 || rows[0][0] != "工单号" || rows[1][0] != tk.ID {
		t.Fatalf("rows = %q, want the header and zhao's one ticket", rows)
	}
	row := strings.Join(rows[1], "|")
	for _, want := range []string{"社会救助科", "低保、特困、临时救助", "王明", "不满意", "'=HYPERLINK", "138****5678", "|是|"} {
		if !strings.Contains(row, want) {
			t.Errorf("row %q lacks %q", row, want)
		}
	}
	if strings.Contains(body, "13812345678") || strings.Contains(body, "王阿姨") {
		t.Error("the export holds personal data")
	}
	for _, q := range []string{"from=2026-12-05&to=2026-12-01", "from=nonsense&to=2026-12-01", "from=2024-01-01&to=2026-01-01", ""} {
		res, _, _ := getWith(t, r.pages, "/desk/export.csv?"+q, c)
		if res.StatusCode != http.StatusBadRequest {
			t.Errorf("export?%s: %d, want 400", q, res.StatusCode)
		}
	}
}

// TestSupervisorResultsDrillDown: the chief's results page by window, a
// window's officers, an officer's tickets linking to their pages; bad
// dates are a 400.
func TestSupervisorResultsDrillDown(t *testing.T) {
	r := newSupervisorRig(t)
	tk := r.ticket(t, "relief")
	r.ticket(t, "veterans")
	c := r.login(t, "zhao")
	day := time.Now().In(cst).Format(time.DateOnly)
	res, body, _ := getWith(t, r.pages, "/desk/results?from="+day+"&to="+day, c)
	if res.StatusCode != http.StatusOK || !strings.Contains(body, "社会救助科") || strings.Contains(body, "优抚安置科") {
		t.Fatalf("results by window: %d", res.StatusCode)
	}
	q := url.Values{"from": {day}, "to": {day}, "window": {"relief"}}
	res, body, _ = getWith(t, r.pages, "/desk/results?"+q.Encode(), c)
	if res.StatusCode != http.StatusOK || !strings.Contains(body, "王明") {
		t.Fatalf("the window's officers: %d", res.StatusCode)
	}
	q.Set("officer", "wang")
	res, body, _ = getWith(t, r.pages, "/desk/results?"+q.Encode(), c)
	if res.StatusCode != http.StatusOK || !strings.Contains(body, `href="/desk/tickets/`+tk.ID+`"`) {
		t.Fatalf("wang's tickets: %d", res.StatusCode)
	}
	for by, want := range map[string]string{"department": "社会救助科", "line": "低保、特困、临时救助", "officer": "王明"} {
		res, body, _ := getWith(t, r.pages, "/desk/results?from="+day+"&to="+day+"&by="+by, c)
		if res.StatusCode != http.StatusOK || !strings.Contains(body, "<td>"+want+"</td>") {
			t.Errorf("results by %s: %d, lacks the row %s", by, res.StatusCode, want)
		}
		if strings.Contains(body, "优抚") || strings.Contains(body, "孙丽") {
			t.Errorf("results by %s show another department's", by)
		}
	}
	for _, bad := range []string{"from=2026-12-05&to=2026-12-01", "from=x&to=y", "from=2020-01-01&to=2026-01-01", "from=" + day + "&to=" + day + "&officer=wang",
		"from=" + day + "&to=" + day + "&by=citizen"} {
		if res, _, _ := getWith(t, r.pages, "/desk/results?"+bad, c); res.StatusCode != http.StatusBadRequest {
			t.Errorf("results?%s: %d, want 400", bad, res.StatusCode)
		}
	}
	if res, _, _ := getWith(t, r.pages, "/desk/results"); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("results without a session: %d", res.StatusCode)
	}
}

// setTicket changes a ticket in the store, as the desk's earlier steps
// would have left it (a visit sent by no channel, a 差评 being rectified,
// an appeal asked).
func (r *supervisorRig) setTicket(t *testing.T, id string, change func(tk *store.Ticket)) {
	t.Helper()
	tk, err := r.st.GetTicket(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	change(&tk)
	if _, err := r.st.UpdateTicket(t.Context(), tk); err != nil {
		t.Fatal(err)
	}
}

// TestSupervisorVisitRectifierAppeal: the chief records a phone visit's
// answer, names a rectifier and decides an appeal on the ticket's page,
// through the desk's operations; the suggestion register lists comments.
func TestSupervisorVisitRectifierAppeal(t *testing.T) {
	r := newSupervisorRig(t)
	tk := r.ticket(t, "relief")
	if _, err := r.desk.Resolve(t.Context(), r.off["wang"], tk.ID, "已办理"); err != nil {
		t.Fatal(err)
	}
	now := time.Now()
	r.setTicket(t, tk.ID, func(tk *store.Ticket) {
		tk.Surveys = []store.Survey{{Round: 1, Officer: "wang", Due: now, SentAt: now, Channel: desk.ChannelPhone}}
	})
	c := r.login(t, "zhao")
	_, body, _ := getWith(t, r.pages, "/desk", c)
	if !strings.Contains(body, "电话回访任务（1）") {
		t.Error("the board does not list the phone visit")
	}
	_, body, _ = getWith(t, r.pages, "/desk/tickets/"+tk.ID, c)
	token := csrfOf(t, body)
	if !strings.Contains(body, "群众在电话里的评价") {
		t.Fatal("the ticket page offers no phone visit form")
	}
	res, _ := r.post(t, c, "/desk/tickets/"+tk.ID+"/visit", url.Values{"level": {"9"}, "csrf": {token}})
	if res.StatusCode != http.StatusBadRequest {
		t.Errorf("level 9: %d", res.StatusCode)
	}
	res, body = r.post(t, c, "/desk/tickets/"+tk.ID+"/visit", url.Values{"level": {"5"}, "comment": {"一直没人联系我"}, "csrf": {token}})
	if res.StatusCode != http.StatusOK || !strings.Contains(body, "已记录电话回访结果") {
		t.Fatalf("record the phone visit: %d", res.StatusCode)
	}
	got, _ := r.st.GetTicket(t.Context(), tk.ID)
	if s := got.Surveys[0]; s.Level != 5 || s.Via != desk.ViaPhone || len(got.Rectifications) != 1 {
		t.Fatalf("after the phone visit: survey %+v, %d rectifications", s, len(got.Rectifications))
	}
	// The 差评 started a rectification: name li for it.
	if !strings.Contains(body, "差评整改") {
		t.Fatal("the page does not show the rectification")
	}
	res, body = r.post(t, c, "/desk/tickets/"+tk.ID+"/rectifier", url.Values{"who": {"li"}, "csrf": {token}})
	if res.StatusCode != http.StatusOK || !strings.Contains(body, "已指定整改责任人") {
		t.Fatalf("name the rectifier: %d", res.StatusCode)
	}
	got, _ = r.st.GetTicket(t.Context(), tk.ID)
	if got.Rectifications[0].Assignee != "li" || !strings.Contains(r.note.to("oLi"), tk.ID) {
		t.Errorf("rectifier %s; li told: %q", got.Rectifications[0].Assignee, r.note.to("oLi"))
	}
	res, _ = r.post(t, c, "/desk/tickets/"+tk.ID+"/rectifier", url.Values{"who": {"nobody"}, "csrf": {token}})
	if res.StatusCode != http.StatusBadRequest {
		t.Errorf("an unknown rectifier: %d", res.StatusCode)
	}

	// wang appeals the rating in chat; zhao approves on the page.
	if text, err := r.desk.Command(t.Context(), r.off["wang"], "申诉 "+tk.ID+" 群众反映的是其他部门的事"); err != nil || !strings.Contains(text, "申诉") {
		t.Fatalf("申诉 in chat: %q, %v", text, err)
	}
	_, body, _ = getWith(t, r.pages, "/desk/tickets/"+tk.ID, c)
	if !strings.Contains(body, "群众反映的是其他部门的事") {
		t.Fatal("the page does not show the appeal")
	}
	res, body = r.post(t, c, "/desk/tickets/"+tk.ID+"/appeal", url.Values{"decision": {"approve"}, "csrf": {token}})
	if res.StatusCode != http.StatusOK || !strings.Contains(body, "已同意申诉") {
		t.Fatalf("approve the appeal: %d", res.StatusCode)
	}
	got, _ = r.st.GetTicket(t.Context(), tk.ID)
	if !got.Surveys[0].Excluded || got.Surveys[0].Appeal.DecidedBy != "zhao" {
		t.Errorf("after the approval: %+v", got.Surveys[0])
	}
	res, _ = r.post(t, c, "/desk/tickets/"+tk.ID+"/appeal", url.Values{"decision": {"approve"}, "csrf": {token}})
	if res.StatusCode == http.StatusOK {
		t.Error("an appeal decided twice")
	}

	res, body, _ = getWith(t, r.pages, "/desk/suggestions", c)
	if res.StatusCode != http.StatusOK || !strings.Contains(body, "一直没人联系我") {
		t.Errorf("the suggestion register: %d, lacks the comment", res.StatusCode)
	}
}

// storeClock is the real time plus what a test skipped.
type storeClock struct {
	mu   sync.Mutex
	skip time.Duration
}

func (c *storeClock) now() time.Time {
	c.mu.Lock()
	defer c.mu.Unlock()
	return time.Now().Add(c.skip)
}

func (c *storeClock) advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.skip += d
}

// TestLoginLinkAndSessionExpire: a link unused for 10 minutes no longer
// logs in; a session ends after web.session_ttl.
func TestLoginLinkAndSessionExpire(t *testing.T) {
	r := newSupervisorRig(t)
	text, err := r.desk.Command(t.Context(), r.off["zhao"], "登录")
	if err != nil {
		t.Fatal(err)
	}
	path := strings.Fields(text[strings.Index(text, "https://huimin.test")+len("https://huimin.test"):])[0]
	r.clock.advance(desk.LoginTTL + time.Second)
	res, body, _ := visit(t, r.pages, httptest.NewRequest(http.MethodPost, path, nil))
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(body, "登录链接已失效") {
		t.Errorf("a link 10 minutes old: %d", res.StatusCode)
	}
	c := r.login(t, "zhao")
	r.clock.advance(8*time.Hour + time.Second)
	if res, _, _ := getWith(t, r.pages, "/desk", c); res.StatusCode != http.StatusUnauthorized {
		t.Errorf("a session past web.session_ttl: %d, want 401", res.StatusCode)
	}
}

// TestChiefCannotActOnAnotherDepartment: a chief's form on another
// department's ticket is refused (403) and changes nothing.
func TestChiefCannotActOnAnotherDepartment(t *testing.T) {
	r := newSupervisorRig(t)
	other := r.ticket(t, "veterans")
	c := r.login(t, "zhao")
	_, body, _ := getWith(t, r.pages, "/desk", c)
	token := csrfOf(t, body)
	for _, action := range []struct {
		path string
		form url.Values
	}{
		{"/transfer", url.Values{"to": {"wang"}, "reason": {"试试"}}},
		{"/reveal", url.Values{"what": {"phone"}, "reason": {"试试"}}},
		{"/extension", url.Values{"decision": {"approve"}}},
	} {
		action.form.Set("csrf", token)
		res, body := r.post(t, c, "/desk/tickets/"+other.ID+action.path, action.form)
		if res.StatusCode != http.StatusForbidden || strings.Contains(body, "13812345678") {
			t.Errorf("%s on another department's ticket: %d", action.path, res.StatusCode)
		}
	}
	if got, _ := r.st.GetTicket(t.Context(), other.ID); got.Version != other.Version || got.Owner != "sun" {
		t.Errorf("another department's ticket changed: version %d → %d, owner %s", other.Version, got.Version, got.Owner)
	}
}
