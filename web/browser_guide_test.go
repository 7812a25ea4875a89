package web

import (
	"context"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"huimin/web/webtest"
)

// TestGuidePageInABrowser loads /guide in headless Chromium on a phone's
// 390 px: the commitments, the limits and the guides are there, nothing
// scrolls sideways, no script runs, the stylesheet applied, and printing
// keeps each guide on one piece of paper.
func TestGuidePageInABrowser(t *testing.T) {
	exe := webtest.ChromiumPath(t)
	guides := testGuides
	// A long unbroken material must wrap, not widen the page.
	guides.guides = append(guides.guides, Guide{ID: "long", Title: "很长的指南", Line: "社区事务",
		Materials: []string{strings.Repeat("很长的材料名称没有空格", 8)}, LimitDays: 7})
	srv := httptest.NewServer(newPages(t, Options{Guides: guides}))
	t.Cleanup(srv.Close)

	var errs webtest.PageErrors
	defer errs.Check(t)
	tab := webtest.NewBrowser(t, exe, &errs, 390, 844)
	// The first action starts the browser and must not carry a timeout.
	if err := chromedp.Do(tab, chromedp.EmulateViewport(390, 844), chromedp.Navigate(srv.URL+"/guide")); err != nil {
		t.Fatalf("open the page: %v", err)
	}
	ctx, cancel := context.WithTimeout(tab, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS("article.guide"))); err != nil {
		t.Fatalf("wait for the guides: %v", err)
	}
	text, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("main")))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"首问负责制", "一次性告知", "限时办结", "咨询、求助：3个工作日", "最低生活保障（低保）申请",
		"有效身份证件、户口簿", "受理后3个工作日内办结", "社会救助科", "010-0000 0001"} {
		if !strings.Contains(text, want) {
			t.Errorf("page text lacks %q", want)
		}
	}
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
	styles, err := chromedp.Run(ctx, chromedp.Evaluate[[]string](`[
		getComputedStyle(document.querySelector("article.guide")).borderTopStyle,
		getComputedStyle(document.querySelector("article.pledge")).borderLeftStyle,
		getComputedStyle(document.querySelector("article.guide")).breakInside]`))
	if err != nil {
		t.Fatal(err)
	}
	if styles[0] != "solid" || styles[1] != "solid" || styles[2] != "avoid" {
		t.Errorf("guide border %q, pledge border %q, break-inside %q; want solid, solid, avoid: the stylesheet did not apply", styles[0], styles[1], styles[2])
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
	if err := os.WriteFile(filepath.Join(t.ArtifactDir(), "guide-390.png"), shot, 0o644); err != nil {
		t.Errorf("save screenshot: %v", err)
	}
}
