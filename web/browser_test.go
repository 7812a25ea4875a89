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

	var errs webtest.PageErrors
	defer errs.Check(t)
	tab := webtest.NewBrowser(t, exe, &errs, 390, 844)
	// The first action starts the browser and must not carry a timeout.
	if err := chromedp.Do(tab, chromedp.EmulateViewport(390, 844), chromedp.Navigate(srv.URL+"/offices")); err != nil {
		t.Fatalf("open the page: %v", err)
	}
	ctx, cancel := context.WithTimeout(tab, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS("article.office"))); err != nil {
		t.Fatalf("wait for the offices: %v", err)
	}
	text, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("main")))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"本局科室", "社会救助科", "测试路1号", "工作日 8:30-17:30", "010-0000 0001", "相关单位", "退役军人事务局"} {
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
	// The stylesheet applied: CSP allows it, and the cards have their border.
	border, err := chromedp.Run(ctx, chromedp.Evaluate[string](`getComputedStyle(document.querySelector("article.office")).borderTopStyle`))
	if err != nil {
		t.Fatal(err)
	}
	if border != "solid" {
		t.Errorf("office card border = %q, want solid: the stylesheet did not apply", border)
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
	path := filepath.Join(t.ArtifactDir(), "offices-390.png")
	if err := os.WriteFile(path, shot, 0o644); err != nil {
		t.Errorf("save screenshot: %v", err)
	}
}
