package web

import (
	"context"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"huimin/web/webtest"
)

// TestOfficesPageInABrowser loads /offices in headless Chromium on a
// phone's 390 px: the contacts are there, nothing scrolls sideways, no
// script runs or fails, and the stylesheet (under the CSP) applied.
func TestOfficesPageInABrowser(t *testing.T) {
	exe := webtest.ChromiumPath(t)
	srv := httptest.NewServer(newPages(t, Options{Offices: append(testOffices, Office{
		// A long unbroken line must wrap, not widen the page.
		Name: "基层政权和社区建设科", Address: strings.Repeat("很长的地址没有空格", 8), Phone: "010-0000 0004",
	})}))
	t.Cleanup(srv.Close)

	ctx, text := openOnPhone(t, exe, srv.URL+"/offices", "article.office")
	for _, want := range []string{"本局科室", "社会救助科", "测试路1号", "工作日 8:30-17:30", "010-0000 0001", "相关单位", "退役军人事务局"} {
		if !strings.Contains(text, want) {
			t.Errorf("page text lacks %q", want)
		}
	}
	// The stylesheet applied: CSP allows it, and the cards have their border.
	border, err := chromedp.Run(ctx, chromedp.Evaluate[string](`getComputedStyle(document.querySelector("article.office")).borderTopStyle`))
	if err != nil {
		t.Fatal(err)
	}
	if border != "solid" {
		t.Errorf("office card border = %q, want solid: the stylesheet did not apply", border)
	}
	checkOnPhone(t, ctx, "offices-390.png")
}

// openOnPhone opens url in headless Chromium at a phone's 390 px, waits
// for selector and returns the tab (30 s to go) and the text of main; the
// page's script errors fail the test.
func openOnPhone(t *testing.T, exe, url, selector string) (context.Context, string) {
	t.Helper()
	errs := &webtest.PageErrors{}
	t.Cleanup(func() { errs.Check(t) })
	tab := webtest.NewBrowser(t, exe, errs, 390, 844)
	// The first action starts the browser and must not carry a timeout.
	if err := chromedp.Do(tab, chromedp.EmulateViewport(390, 844), chromedp.Navigate(url)); err != nil {
		t.Fatalf("open the page: %v", err)
	}
	ctx, cancel := context.WithTimeout(tab, 30*time.Second)
	t.Cleanup(cancel)
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS(selector))); err != nil {
		t.Fatalf("wait for %s: %v", selector, err)
	}
	text, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("main")))
	if err != nil {
		t.Fatal(err)
	}
	return ctx, text
}

// checkOnPhone fails a page that scrolls sideways at 390 px or has a
// script, and keeps a screenshot of it in the test's artifacts.
func checkOnPhone(t *testing.T, ctx context.Context, shotName string) {
	t.Helper()
	widths, err := chromedp.Run(ctx, chromedp.Evaluate[[]int](
		`[window.innerWidth, document.documentElement.clientWidth, document.documentElement.scrollWidth, document.body.scrollWidth]`))
	if err != nil {
		t.Fatal(err)
	}
	if widths[0] != 390 {
		t.Errorf("viewport is %d px wide, want 390", widths[0])
	}
	if widths[2] > widths[1] || widths[3] > widths[1] {
		t.Errorf("page is %d (body %d) px wide in a %d px viewport: it scrolls sideways", widths[2], widths[3], widths[1])
	}
	scripts, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.scripts.length`))
	if err != nil {
		t.Fatal(err)
	}
	if scripts != 0 {
		t.Errorf("page has %d scripts, want none", scripts)
	}
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(t.ArtifactDir(), shotName), shot, 0o644); err != nil {
		t.Errorf("save screenshot: %v", err)
	}
}

// TestSurveyPageInABrowser answers the survey page in headless Chromium on
// a phone's 390 px, the way a citizen does from the WeChat message: the
// form posts without script, under the page's CSP and no-referrer policy
// (which make the browser send "Origin: null"), and the desk gets the
// level tapped and the comment typed.
func TestSurveyPageInABrowser(t *testing.T) {
	exe := webtest.ChromiumPath(t)
	fake := newFakeSurveys()
	pages := surveyPages(t, fake, nil)
	var mu sync.Mutex
	var sent http.Header // the headers of the form's post
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.Method == http.MethodPost {
			mu.Lock()
			sent = r.Header.Clone()
			mu.Unlock()
		}
		pages.ServeHTTP(w, r)
	}))
	t.Cleanup(srv.Close)

	var errs webtest.PageErrors
	defer errs.Check(t)
	tab := webtest.NewBrowser(t, exe, &errs, 390, 844)
	// The first action starts the browser and must not carry a timeout.
	if err := chromedp.Do(tab, chromedp.EmulateViewport(390, 844), chromedp.Navigate(srv.URL+"/survey/"+testToken)); err != nil {
		t.Fatalf("open the page: %v", err)
	}
	ctx, cancel := context.WithTimeout(tab, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS("form.survey"))); err != nil {
		t.Fatalf("wait for the form: %v", err)
	}
	text, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("main")))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"MZ20261128-0042", "低保、特困、临时救助", "2026年11月28日", "非常满意", "非常不满意", "还有什么想说的？（可不填）"} {
		if !strings.Contains(text, want) {
			t.Errorf("page text lacks %q", want)
		}
	}
	widths, err := chromedp.Run(ctx, chromedp.Evaluate[[]int](
		`[window.innerWidth, document.documentElement.clientWidth, document.documentElement.scrollWidth, document.body.scrollWidth]`))
	if err != nil {
		t.Fatal(err)
	}
	if widths[2] > widths[1] || widths[3] > widths[1] {
		t.Errorf("page is %d (body %d) px wide in a %d px viewport: it scrolls sideways", widths[2], widths[3], widths[1])
	}
	// Large tap targets: the stylesheet applied under the CSP, and every
	// choice and the button are a thumb's height and most of the width.
	sizes, err := chromedp.Run(ctx, chromedp.Evaluate[[][]float64](
		`[...document.querySelectorAll("label.level, button[type=submit]")].map(e => { const r = e.getBoundingClientRect(); return [r.width, r.height] })`))
	if err != nil {
		t.Fatal(err)
	}
	if len(sizes) != 6 {
		t.Fatalf("page has %d choices and buttons, want 5 levels and 1 button", len(sizes))
	}
	for i, s := range sizes {
		if s[0] < 300 || s[1] < 48 {
			t.Errorf("tap target %d is %.0f × %.0f px, want at least 300 × 48", i, s[0], s[1])
		}
	}
	scripts, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.scripts.length`))
	if err != nil {
		t.Fatal(err)
	}
	if scripts != 0 {
		t.Errorf("page has %d scripts, want none", scripts)
	}
	// No level chosen: the browser does not send the form.
	valid, err := chromedp.Run(ctx, chromedp.Evaluate[bool](`document.querySelector("form.survey").checkValidity()`))
	if err != nil {
		t.Fatal(err)
	}
	if valid {
		t.Errorf("the form is valid with no level chosen")
	}

	// Tap 不满意 by its words (not the radio itself), then write.
	const comment = "等了两个星期才有回复"
	if err := chromedp.Do(ctx,
		chromedp.Click(chromedp.Search(`//label[span[normalize-space()="不满意"]]`)),
		chromedp.SendKeys(chromedp.ID("comment"), comment),
	); err != nil {
		t.Fatalf("fill the form: %v", err)
	}
	chosen, err := chromedp.Run(ctx, chromedp.Evaluate[string](`document.querySelector("input[name=level]:checked").value`))
	if err != nil {
		t.Fatal(err)
	}
	if chosen != "4" {
		t.Errorf("tapping 不满意 chose level %q, want 4", chosen)
	}
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(t.ArtifactDir(), "survey-390.png"), shot, 0o644); err != nil {
		t.Errorf("save screenshot: %v", err)
	}

	res, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.ID("submit")))
	if err != nil {
		t.Fatalf("submit the form: %v", err)
	}
	if res.Status != 200 {
		t.Errorf("the answer's page is %d, want 200", res.Status)
	}
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS("p.done"))); err != nil {
		t.Fatalf("wait for the thanks: %v", err)
	}
	text, err = chromedp.Run(ctx, chromedp.Text(chromedp.CSS("body")))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"感谢您的评价！", "您的评价已经收到", "不满意"} {
		if !strings.Contains(text, want) {
			t.Errorf("thank-you page text lacks %q:\n%s", want, text)
		}
	}
	want := rating{token: testToken, level: 4, comment: comment}
	if got := fake.ratings(); len(got) != 1 || got[0] != want {
		t.Errorf("the desk got %+v, want one answer %+v", got, want)
	}
	mu.Lock()
	t.Logf("the form's post carried Origin %q, Sec-Fetch-Site %q", sent.Get("Origin"), sent.Get("Sec-Fetch-Site"))
	mu.Unlock()
	shot, err = chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(t.ArtifactDir(), "survey-done-390.png"), shot, 0o644); err != nil {
		t.Errorf("save screenshot: %v", err)
	}
}
