package web

import (
	"context"
	"encoding/csv"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/cdproto/browser"
	"github.com/chromedp/cdproto/network"
	"github.com/chromedp/chromedp"
	"github.com/chromedp/chromedp/kb"

	"huimin/desk"
	"huimin/web/webtest"
)

// TestSupervisorPagesInABrowser walks a chief through the supervisors'
// pages in headless Chromium on a phone's 390 × 844, on a real desk and
// store (newSupervisorRig) behind a real server: the login link from chat
// works once and sets an HttpOnly, SameSite=Strict cookie; the board lists
// the extension wang asked in chat; on the ticket's page the chief
// approves it, reassigns the ticket to 李华 and unmasks the phone with a
// reason, each by its button, and the store, the officers' chat and the
// page's history agree; the board's export downloads a CSV; logout ends
// the session. Every page fits the width, runs no script, throws nothing
// and has nothing refused by its CSP, and no page shows the full phone
// number but the one that unmasks it.
func TestSupervisorPagesInABrowser(t *testing.T) {
	exe := webtest.ChromiumPath(t)
	r := newSupervisorRig(t)
	srv := httptest.NewServer(r.pages)
	t.Cleanup(srv.Close)

	// What exists before the chief opens the board: a ticket of wang's
	// with an extension asked in chat, and the chief's login link.
	tk := r.ticket(t, "relief")
	if text, err := r.desk.Command(t.Context(), r.off["wang"], "延期 "+tk.ID+" 3 需要上门核实"); err != nil || !strings.Contains(text, "延期") {
		t.Fatalf("延期 in chat: %q, %v", text, err)
	}
	text, err := r.desk.Command(t.Context(), r.off["zhao"], "登录")
	if err != nil {
		t.Fatalf("登录 in chat: %v", err)
	}
	const linkBase = "https://huimin.test"
	i := strings.Index(text, linkBase+"/desk/login/")
	if i < 0 {
		t.Fatalf("登录 answered %q, want a link", text)
	}
	loginPath := strings.Fields(text[i+len(linkBase):])[0]
	const fullPhone, maskedPhone = "13812345678", "138****5678"

	var errs webtest.PageErrors
	defer errs.Check(t)
	tab := webtest.NewBrowser(t, exe, &errs, 390, 844)
	csp := newCSPRefusals()
	// The first action starts the browser and must not carry a timeout.
	if err := chromedp.Listen(tab, csp.listen); err != nil {
		t.Fatalf("start the browser: %v", err)
	}
	if err := chromedp.Do(tab, chromedp.EmulateViewport(390, 844)); err != nil {
		t.Fatalf("emulate the phone: %v", err)
	}
	ctx, cancel := context.WithTimeout(tab, 90*time.Second)
	defer cancel()

	// revealed is set while the page that unmasks the phone is shown.
	revealed := false
	// checkPage holds every page visited to the same rules.
	checkPage := func(t *testing.T, name string) {
		t.Helper()
		widths := evaluate[[]int](ctx, t,
			`[window.innerWidth, document.documentElement.clientWidth, document.documentElement.scrollWidth, document.body.scrollWidth]`)
		if widths[0] != 390 {
			t.Errorf("%s: viewport is %d px wide, want 390", name, widths[0])
		}
		if widths[2] > widths[1] || widths[3] > widths[1] {
			t.Errorf("%s: page is %d (body %d) px wide in a %d px viewport: it scrolls sideways", name, widths[2], widths[3], widths[1])
		}
		if wide := evaluate[[]string](ctx, t, wideElementsJS); len(wide) > 0 {
			t.Errorf("%s: %v reach past the viewport's right edge", name, wide)
		}
		if n := evaluate[int](ctx, t, `document.scripts.length`); n != 0 {
			t.Errorf("%s: page has %d scripts, want none", name, n)
		}
		if unnamed := evaluate[[]string](ctx, t, unlabelledControlsJS); len(unnamed) > 0 {
			t.Errorf("%s: form controls without a label or name: %v", name, unnamed)
		}
		// The stylesheet applied under the CSP: the header's rule.
		if b := evaluate[string](ctx, t, `getComputedStyle(document.querySelector("header.site")).borderBottomStyle`); b != "solid" {
			t.Errorf("%s: header border %q, want solid: the stylesheet did not apply", name, b)
		}
		html := evaluate[string](ctx, t, `document.documentElement.outerHTML`)
		if n := strings.Count(html, fullPhone); (n != 0 && !revealed) || n > 1 {
			t.Errorf("%s: the full phone number is on the page %d times", name, n)
		}
		csp.check(t)
		saveScreenshot(ctx, t, "desk-"+name+"-390.png")
	}
	// open loads a page by its address; click follows a link or submits
	// a form by a button; both wait for the page that comes back.
	open := func(t *testing.T, path string, status int64) {
		t.Helper()
		res, err := chromedp.Run(ctx, chromedp.NavigateResponse(srv.URL+path))
		if err != nil {
			t.Fatalf("open %s: %v", path, err)
		}
		if res.Status != status {
			t.Errorf("open %s: %d, want %d", path, res.Status, status)
		}
	}
	click := func(t *testing.T, sel string, status int64) {
		t.Helper()
		a := chromedp.Click(chromedp.ID(sel)) // an id, or an XPath
		if strings.HasPrefix(sel, "//") {
			a = chromedp.Click(chromedp.Search(sel))
		}
		res, err := chromedp.RunResponse(ctx, a)
		if err != nil {
			t.Fatalf("click %s: %v", sel, err)
		}
		if res.Status != status {
			t.Errorf("click %s: the page is %d, want %d", sel, res.Status, status)
		}
	}
	mainText := func(t *testing.T) string {
		t.Helper()
		return evaluate[string](ctx, t, `document.querySelector("main").innerText`)
	}
	path := func(t *testing.T) string {
		t.Helper()
		return evaluate[string](ctx, t, `location.pathname`)
	}
	sessionCookies := func(t *testing.T) []*network.Cookie {
		t.Helper()
		res, err := chromedp.Call(ctx, network.GetCookies, network.GetCookiesParams{URLs: []string{srv.URL + "/desk"}})
		if err != nil {
			t.Fatalf("read the browser's cookies: %v", err)
		}
		var out []*network.Cookie
		for _, c := range res.Cookies {
			if c.Name == sessionCookie {
				out = append(out, c)
			}
		}
		return out
	}

	if !t.Run("login", func(t *testing.T) {
		open(t, loginPath, http.StatusOK)
		if text := mainText(t); !strings.Contains(text, "登录链接只能用一次") {
			t.Errorf("the login page reads %q", text)
		}
		checkPage(t, "login")
		if got := sessionCookies(t); len(got) != 0 {
			t.Fatalf("a session cookie before the button: %+v", got[0])
		}
		click(t, "login", http.StatusOK)
		if p := path(t); p != "/desk" {
			t.Fatalf("the login button led to %s, want /desk", p)
		}
		text := evaluate[string](ctx, t, `document.body.innerText`)
		for _, want := range []string{"网页工作台", "赵科长"} {
			if !strings.Contains(text, want) {
				t.Errorf("the board lacks %q", want)
			}
		}
		cs := sessionCookies(t)
		if len(cs) != 1 {
			t.Fatalf("the browser holds %d session cookies, want 1", len(cs))
		}
		c := cs[0]
		if !c.HTTPOnly || c.SameSite != network.CookieSameSiteStrict || c.Path != "/desk" || c.Session || c.Secure {
			t.Errorf("session cookie: HttpOnly %v, SameSite %q, Path %q, session-only %v, Secure %v; want HttpOnly, Strict, /desk, kept 8 h, not Secure on plain http",
				c.HTTPOnly, c.SameSite, c.Path, c.Session, c.Secure)
		}
		if left := time.Until(time.Unix(int64(c.Expires), 0)); left < 7*time.Hour || left > 8*time.Hour+time.Minute {
			t.Errorf("session cookie expires in %v, want about 8h", left)
		}
		if js := evaluate[string](ctx, t, `document.cookie`); strings.Contains(js, sessionCookie) {
			t.Error("a script can read the session cookie")
		}
		checkPage(t, "board")

		// The link works once: the second click is refused, and the
		// session stays.
		open(t, loginPath, http.StatusOK)
		click(t, "login", http.StatusBadRequest)
		if text := mainText(t); !strings.Contains(text, "登录链接已失效") {
			t.Errorf("the spent link's page reads %q", text)
		}
		checkPage(t, "login-spent")
		open(t, "/desk", http.StatusOK)
	}) {
		return
	}

	if !t.Run("approve the extension", func(t *testing.T) {
		text := mainText(t)
		if !strings.Contains(text, "待审批的延期申请（1）") {
			t.Errorf("the board does not list the pending extension:\n%s", text)
		}
		click(t, fmt.Sprintf(`//section[h2[starts-with(., "待审批的延期申请")]]//a[.=%q]`, tk.ID), http.StatusOK)
		if p := path(t); p != "/desk/tickets/"+tk.ID {
			t.Fatalf("the board's link led to %s", p)
		}
		text = mainText(t)
		for _, want := range []string{tk.ID, "申请延期 3 个工作日，原因：需要上门核实", "王明", maskedPhone} {
			if !strings.Contains(text, want) {
				t.Errorf("the ticket's page lacks %q", want)
			}
		}
		checkPage(t, "ticket")

		// A chief who writes a comment and presses Enter (前往 on a
		// phone's keyboard) has chosen neither button: the form must not
		// go. Watched from here, and stopped if it would.
		if got := pressEnterIn(ctx, t, "ext-reason", "再核实一下"); got != "" {
			t.Errorf("Enter in the comment sent the extension form as %q: the chief did not choose", got)
		}
		if got, _ := r.st.GetTicket(t.Context(), tk.ID); got.Extension == nil || got.Extension.Status != "pending" {
			t.Fatalf("the extension is %+v before the chief decided", got.Extension)
		}

		click(t, "approve", http.StatusOK)
		if text := evaluate[string](ctx, t, `document.querySelector("p.notice").innerText`); !strings.Contains(text, "已同意延期") {
			t.Errorf("after approving the page says %q", text)
		}
		if n := evaluate[int](ctx, t, `document.querySelectorAll("#approve, #refuse").length`); n != 0 {
			t.Error("the decided extension still has its buttons")
		}
		got, err := r.st.GetTicket(t.Context(), tk.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Extension == nil || got.Extension.Status != "approved" || got.Extension.DecidedBy != "zhao" || !got.Deadline.After(tk.Deadline) {
			t.Errorf("in the store: extension %+v, deadline %v (was %v)", got.Extension, got.Deadline, tk.Deadline)
		}
		if !strings.Contains(r.note.to("oWang"), "延期已获批准") {
			t.Errorf("wang was not told in chat: %q", r.note.to("oWang"))
		}
		if !strings.Contains(historyText(ctx, t), "赵科长同意延期3个工作日") {
			t.Errorf("the history does not show the approval:\n%s", historyText(ctx, t))
		}
		checkPage(t, "ticket-approved")
	}) {
		return
	}

	// The reason carries an address, as people paste them: one long word
	// that must wrap, not widen the page.
	const reassignReason = "王明休假，交接单见https://oa.example.gov.cn/leave/2026/1207/0012"
	if !t.Run("reassign", func(t *testing.T) {
		options := evaluate[[]string](ctx, t, `[...document.querySelectorAll("#to option")].map(o => o.textContent)`)
		if !strings.Contains(strings.Join(options, ","), "李华") || strings.Contains(strings.Join(options, ","), "王明") {
			t.Errorf("reassign offers %v: want 李华, and not the owner 王明", options)
		}
		if err := chromedp.Do(ctx,
			chromedp.SetValue(chromedp.ID("to"), "li"),
			chromedp.SendKeys(chromedp.ID("reason"), reassignReason),
		); err != nil {
			t.Fatalf("fill the reassign form: %v", err)
		}
		click(t, "reassign", http.StatusOK)
		if text := evaluate[string](ctx, t, `document.querySelector("p.notice").innerText`); !strings.Contains(text, "已转办") {
			t.Errorf("after reassigning the page says %q", text)
		}
		if h := historyText(ctx, t); !strings.Contains(h, "赵科长转办至社会救助科（李华）："+reassignReason) {
			t.Errorf("the history does not show the reassignment:\n%s", h)
		}
		got, err := r.st.GetTicket(t.Context(), tk.ID)
		if err != nil {
			t.Fatal(err)
		}
		if got.Owner != "li" || got.FirstResponsible != "wang" {
			t.Errorf("in the store: owner %s, first responsible %s; want li, wang", got.Owner, got.FirstResponsible)
		}
		if !strings.Contains(r.note.to("oLi"), tk.ID) {
			t.Errorf("li was not told in chat: %q", r.note.to("oLi"))
		}
		text := mainText(t)
		for _, want := range []string{"承办人\n李华", "首问负责人\n王明"} {
			if !strings.Contains(text, want) {
				t.Errorf("the page lacks %q", want)
			}
		}
		checkPage(t, "ticket-reassigned")
	}) {
		return
	}

	if !t.Run("unmask the phone", func(t *testing.T) {
		if !strings.Contains(mainText(t), maskedPhone) {
			t.Errorf("the page does not show the phone masked, %s", maskedPhone)
		}
		// Enter in the reason chooses no number either.
		if got := pressEnterIn(ctx, t, "reveal-reason", "核实"); got != "" {
			t.Errorf("Enter in the reason sent the unmasking form as %q: the chief did not choose", got)
		}
		// Without a reason the browser does not send the form.
		if evaluate[bool](ctx, t, `document.querySelector("#reveal-reason").form.checkValidity()`) {
			t.Error("the unmasking form is valid without a reason")
		}
		if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.ID("reveal-reason"), "联系群众核实住址")); err != nil {
			t.Fatal(err)
		}
		revealed = true
		click(t, "reveal-phone", http.StatusOK)
		if text := evaluate[string](ctx, t, `document.querySelector("#revealed").innerText`); !strings.Contains(text, "电话："+fullPhone) {
			t.Errorf("the unmasked number reads %q", text)
		}
		if h := historyText(ctx, t); !strings.Contains(h, "赵科长查看了群众完整电话（联系群众核实住址）") {
			t.Errorf("the history does not record the reason:\n%s", h)
		}
		checkPage(t, "ticket-revealed")
		got, err := r.st.GetTicket(t.Context(), tk.ID)
		if err != nil {
			t.Fatal(err)
		}
		if last := got.History[len(got.History)-1]; last.Kind != desk.EventPhoneRevealed || last.Actor != "zhao" || last.Detail != "联系群众核实住址" {
			t.Errorf("the store's last event is %+v", last)
		}
		revealed = false
		// Shown once: back to the board (where the ticket, decided and
		// far from its deadline, is no longer listed) and to the ticket
		// again, masked.
		click(t, `//main//a[.="返回工作台"]`, http.StatusOK)
		checkPage(t, "board-after")
		open(t, "/desk/tickets/"+tk.ID, http.StatusOK)
		if !strings.Contains(mainText(t), maskedPhone) {
			t.Error("the phone is not masked on the next view")
		}
		checkPage(t, "ticket-again")
		click(t, `//main//a[.="返回工作台"]`, http.StatusOK)
	}) {
		return
	}

	t.Run("export", func(t *testing.T) {
		// The browser saves the download itself, as a chief's phone does:
		// allowAndName saves it in dir under its download's GUID, and the
		// browser reports its progress. (Reading the file with fetch()
		// from chromedp.Evaluate instead would not do: DevTools runs the
		// script despite the CSP's script-src, but the fetch is still the
		// page's and its connect-src, default-src 'none', refuses it.)
		dir := t.TempDir()
		if _, err := chromedp.CallBrowser(ctx, browser.SetDownloadBehavior, browser.SetDownloadBehaviorParams{
			Behavior: browser.SetDownloadBehaviorBehaviorAllowAndName, DownloadPath: dir, EventsEnabled: new(true),
		}); err != nil {
			t.Fatalf("allow downloads: %v", err)
		}
		dctx, stop := context.WithCancel(ctx)
		defer stop()
		begun := chromedp.BrowserEvents(dctx, browser.DownloadWillBegin)
		progress := chromedp.BrowserEvents(dctx, browser.DownloadProgress)
		if err := chromedp.Do(ctx, chromedp.Click(chromedp.ID("export"))); err != nil {
			t.Fatalf("click the export: %v", err)
		}
		var start browser.EventDownloadWillBegin
		for ev, err := range begun {
			if err != nil {
				t.Fatalf("wait for the download to begin: %v", err)
			}
			start = ev
			break
		}
		day := time.Now().In(cst)
		first := time.Date(day.Year(), day.Month(), 1, 0, 0, 0, 0, cst)
		if want := fmt.Sprintf("tickets-%s-%s.csv", first.Format("20060102"), day.Format("20060102")); start.SuggestedFilename != want {
			t.Errorf("the download is named %q, want %q (this month so far)", start.SuggestedFilename, want)
		}
		var done browser.EventDownloadProgress
		for ev, err := range progress {
			if err != nil {
				t.Fatalf("wait for the download: %v", err)
			}
			if ev.GUID == start.GUID && ev.State != browser.DownloadProgressStateInProgress {
				done = ev
				break
			}
		}
		if done.State != browser.DownloadProgressStateCompleted {
			t.Fatalf("the download ended %q", done.State)
		}
		raw, err := os.ReadFile(filepath.Join(dir, start.GUID))
		if err != nil {
			t.Fatalf("read the download: %v", err)
		}
		body := string(raw)
		if !strings.HasPrefix(body, "\uFEFF") {
			t.Errorf("the file starts %q, want the UTF-8 BOM", body[:min(len(body), 8)])
		}
		rows, err := csv.NewReader(strings.NewReader(strings.TrimPrefix(body, "\uFEFF"))).ReadAll()
		if err != nil {
			t.Fatalf("read the CSV: %v", err)
		}
		if len(rows) != 2 || rows[0][0] != "工单号" || rows[1][0] != tk.ID {
			t.Fatalf("rows = %q, want the header and the ticket", rows)
		}
		if row := strings.Join(rows[1], "|"); !strings.Contains(row, "|李华|王明|") {
			t.Errorf("the ticket's row %q lacks its owner 李华 and first responsible 王明", row)
		}
		if strings.Contains(body, fullPhone) || strings.Contains(body, "王阿姨") {
			t.Error("the export holds personal data")
		}
		// A download leaves the board where it was.
		if p := path(t); p != "/desk" {
			t.Errorf("after the download the page is %s", p)
		}
		checkPage(t, "board-export")
	})

	t.Run("logout", func(t *testing.T) {
		click(t, "logout", http.StatusOK)
		if text := evaluate[string](ctx, t, `document.body.innerText`); !strings.Contains(text, "已退出网页工作台") {
			t.Errorf("the logged-out page reads %q", text)
		}
		checkPage(t, "logged-out")
		if got := sessionCookies(t); len(got) != 0 {
			t.Errorf("the browser keeps the session cookie after logout: %+v", got[0])
		}
		open(t, "/desk", http.StatusUnauthorized)
		if text := evaluate[string](ctx, t, `document.body.innerText`); !strings.Contains(text, "请先登录") {
			t.Errorf("/desk after logout reads %q", text)
		}
		checkPage(t, "login-needed")
	})
}

// pressEnterIn types text into the field with the id and presses Enter,
// as a phone's 前往 key does. It returns the id of the button that the
// browser would have sent the form by ("" for none: the form did not go),
// keeps the form from going, so that the page stays, and empties the
// field again (chromedp.Clear resets only the attribute, and SetValue
// cannot set "").
func pressEnterIn(ctx context.Context, t *testing.T, id, text string) string {
	t.Helper()
	evaluate[chromedp.Void](ctx, t, fmt.Sprintf(`window.submittedBy = "";
	window.stopSubmit = e => {
		e.preventDefault();
		window.submittedBy = e.submitter ? e.submitter.id || e.submitter.value : "(no button)";
	};
	document.getElementById(%q).form.addEventListener("submit", window.stopSubmit)`, id))
	if err := chromedp.Do(ctx, chromedp.SendKeys(chromedp.ID(id), text), chromedp.KeyEvent(kb.Enter)); err != nil {
		t.Fatalf("press Enter in #%s: %v", id, err)
	}
	return evaluate[string](ctx, t, fmt.Sprintf(`const field = document.getElementById(%q);
	field.form.removeEventListener("submit", window.stopSubmit);
	field.value = "";
	window.submittedBy`, id))
}

// historyText is the ticket page's history, a line per event.
func historyText(ctx context.Context, t *testing.T) string {
	t.Helper()
	return evaluate[string](ctx, t, `document.querySelector("ol.history").innerText`)
}

// wideElementsJS lists the visible elements that reach past the
// viewport's right edge (hidden by an overflow, they would not widen the
// page, and the width check above would miss them).
const wideElementsJS = `[...document.body.querySelectorAll("*")].filter(e => {
	const r = e.getBoundingClientRect();
	return r.width > 0 && r.right > document.documentElement.clientWidth + 0.5;
}).map(e => e.tagName + (e.id ? "#" + e.id : "") + (e.getAttribute("class") ? "." + e.getAttribute("class") : ""))`

// unlabelledControlsJS lists the shown form controls a screen reader could
// not name: a field without a label, a button without words.
const unlabelledControlsJS = `[...document.querySelectorAll("input:not([type=hidden]), select, textarea, button")].filter(e => e.checkVisibility() &&
	(e.tagName === "BUTTON" ? !e.textContent.trim() && !e.getAttribute("aria-label")
		: !(e.labels && e.labels.length) && !e.getAttribute("aria-label"))
).map(e => e.tagName + (e.id ? "#" + e.id : "") + (e.name ? "[" + e.name + "]" : ""))`
