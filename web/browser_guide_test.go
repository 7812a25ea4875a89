package web

import (
	"net/http/httptest"
	"strings"
	"testing"

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

	ctx, text := openOnPhone(t, exe, srv.URL+"/guide", "article.guide")
	for _, want := range []string{"首问负责制", "一次性告知", "限时办结", "咨询、求助：3个工作日", "最低生活保障（低保）申请",
		"有效身份证件、户口簿", "受理后3个工作日内办结", "社会救助科", "010-0000 0001"} {
		if !strings.Contains(text, want) {
			t.Errorf("page text lacks %q", want)
		}
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
	checkOnPhone(t, ctx, "guide-390.png")
}
