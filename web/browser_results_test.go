package web

import (
	"context"
	"fmt"
	"math"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/chromedp/cdproto/cdp"
	"github.com/chromedp/cdproto/emulation"
	cdplog "github.com/chromedp/cdproto/log"
	"github.com/chromedp/chromedp"

	"huimin/store"
	"huimin/web/webtest"
)

// TestResultsPageInABrowser loads the public results in headless Chromium
// on a phone's 390 × 844: every window's card and chart show, nothing
// scrolls sideways or leaves its card, the chart scales down with the
// column and its bars are as tall as their rates, months with too few
// ratings have the grey short bar, the stylesheet applied under the CSP
// with no refusal and no script, the printout drops the month links but
// keeps the cards, and a month link opens that month.
//
// The checks read the DOM and the layout, never pixels: the test machine
// may have no CJK font, and the text is there all the same.
func TestResultsPageInABrowser(t *testing.T) {
	exe := webtest.ChromiumPath(t)
	now := time.Date(2026, 11, 20, 10, 0, 0, 0, cst)
	var ts []store.Ticket
	ts = append(ts, ratedTickets(len(ts), 2026, time.November, 12, 0)...) // 100%
	ts = append(ts, ratedTickets(len(ts), 2026, time.October, 4, 8)...)   // 33.3%
	ts = append(ts, ratedTickets(len(ts), 2026, time.September, 2, 1)...) // 3 ratings: too few
	ts = append(ts, ratedTickets(len(ts), 2026, time.August, 5, 5)...)    // 50%, exactly the minimum
	// The first window's rated months by their chart labels; every other
	// month of it, and every month of 社会救助科 (no tickets), is too few.
	rates := map[string]float64{"11": 1, "10": 1.0 / 3, "8": 0.5} // by the bars' month labels
	srv := httptest.NewServer(newPages(t, Options{Results: publishedFrom(t, now, false, ts...), Levels: nationalLevels{}, Location: cst}))
	t.Cleanup(srv.Close)

	var errs webtest.PageErrors
	defer errs.Check(t)
	tab := webtest.NewBrowser(t, exe, &errs, 390, 844)
	csp := newCSPRefusals()
	// The first action starts the browser and must not carry a timeout.
	if err := chromedp.Listen(tab, csp.listen); err != nil {
		t.Fatalf("start the browser: %v", err)
	}
	if err := chromedp.Do(tab, chromedp.EmulateViewport(390, 844), chromedp.Navigate(srv.URL+"/results")); err != nil {
		t.Fatalf("open the page: %v", err)
	}
	ctx, cancel := context.WithTimeout(tab, 30*time.Second)
	defer cancel()
	if err := chromedp.Do(ctx, chromedp.WaitVisible(chromedp.CSS("article.window svg"))); err != nil {
		t.Fatalf("wait for the charts: %v", err)
	}

	t.Run("phone", func(t *testing.T) {
		text := evaluate[string](ctx, t, `document.body.textContent`)
		for _, want := range []string{"满意度评价结果公示", "选择月份", "城关街道民政办", "社会救助科", "2026年11月", "100.0%", "样本不足",
			"近期各月满意率", "非常不满意", "统计口径", "2026年10月：满意率 33.3%（12条评价）", "2026年9月：样本不足（3条评价）"} {
			if !strings.Contains(text, want) {
				t.Errorf("page text lacks %q", want)
			}
		}
		widths := evaluate[[]int](ctx, t,
			`[window.innerWidth, document.documentElement.clientWidth, document.documentElement.scrollWidth, document.body.scrollWidth]`)
		if widths[0] != 390 {
			t.Errorf("viewport is %d px wide, want 390", widths[0])
		}
		if widths[2] > widths[1] || widths[3] > widths[1] {
			t.Errorf("page is %d (body %d) px wide in a %d px viewport: it scrolls sideways", widths[2], widths[3], widths[1])
		}
		if n := evaluate[int](ctx, t, `document.scripts.length`); n != 0 {
			t.Errorf("page has %d scripts, want none", n)
		}

		windows := evaluate[[]windowLayout](ctx, t, windowLayoutJS)
		if len(windows) != 2 || windows[0].Name != "城关街道民政办" || windows[1].Name != "社会救助科" {
			t.Fatalf("window cards %+v, want 城关街道民政办 and 社会救助科", windows)
		}
		for _, w := range windows {
			if !w.CardVisible || !w.ChartVisible {
				t.Errorf("%s: card visible %v, chart visible %v, want both", w.Name, w.CardVisible, w.ChartVisible)
			}
			if len(w.Outside) > 0 {
				t.Errorf("%s: %v stick out of the card", w.Name, w.Outside)
			}
			if len(w.Split) > 0 {
				t.Errorf("%s: the values of %v sit below their labels", w.Name, w.Split)
			}
			if len(w.Overlap) > 0 {
				t.Errorf("%s: the chart's month labels %v run into the next", w.Name, w.Overlap)
			}
			if w.Label != w.Name+"近期各月满意率" {
				t.Errorf("%s: chart labelled %q", w.Name, w.Label)
			}
			if w.SVGWidth <= 0 || w.SVGHeight <= 0 || w.SVGWidth >= float64(widths[1]) {
				t.Errorf("%s: chart is %.1f × %.1f px in a %d px viewport, want a non-zero box narrower than it", w.Name, w.SVGWidth, w.SVGHeight, widths[1])
			}
			if len(w.Bars) != 12 {
				t.Errorf("%s: %d bars, want one per published month, 12", w.Name, len(w.Bars))
				continue
			}
			// A user unit of the viewBox in CSS pixels: the chart scales
			// with the column, so a bar's height follows from its rate.
			scale := w.SVGWidth / w.ViewBoxWidth
			for _, b := range w.Bars {
				rate, rated := rates[b.Month]
				if w.Name != "城关街道民政办" {
					rated = false
				}
				switch {
				case rated && b.Class != "bar":
					t.Errorf("%s %s: bar class %q, want bar (rate %.1f%%)", w.Name, b.Month, b.Class, rate*100)
				case !rated && b.Class != "bar-few":
					t.Errorf("%s %s: bar class %q, want the grey bar-few", w.Name, b.Month, b.Class)
				case rated && math.Abs(b.Height/scale-rate*barMax) > 1:
					t.Errorf("%s %s: bar is %.1f px tall (%.1f units), want %.1f units for %.1f%%", w.Name, b.Month, b.Height, b.Height/scale, rate*barMax, rate*100)
				case !rated && (b.Height <= 0 || b.Height > 3*scale):
					t.Errorf("%s %s: grey bar is %.1f px tall, want a short one", w.Name, b.Month, b.Height)
				}
			}
		}
		first := windows[0]
		if len(first.Bars) != 12 {
			return
		}
		if first.Bars[11].Month != "11" || first.Bars[10].Month != "10" {
			t.Fatalf("the last bars are %s and %s, want 10 and 11", first.Bars[10].Month, first.Bars[11].Month)
		}
		if full, third := first.Bars[11].Height, first.Bars[10].Height; third <= 0 || full/third < 2.9 {
			t.Errorf("the 100%% bar is %.1f px, the 33.3%% one %.1f px: want about three times as tall", full, third)
		}
		if !slices.ContainsFunc(first.Bars, func(b barLayout) bool { return b.Class == "bar-few" }) {
			t.Error("no month draws the grey short bar")
		}
		saveScreenshot(ctx, t, "results-390.png")
	})

	t.Run("stylesheet under the CSP", func(t *testing.T) {
		for _, c := range []struct{ selector, property, want string }{
			{".chart .bar", "fill", "rgb(180, 35, 24)"}, // --accent
			{".chart .bar-few", "fill", "rgb(175, 184, 193)"},
			{"article.window", "border-top-style", "solid"},
			{"nav.months", "display", "block"},
		} {
			got := evaluate[string](ctx, t, fmt.Sprintf(`getComputedStyle(document.querySelector(%q)).getPropertyValue(%q)`, c.selector, c.property))
			if got != c.want {
				t.Errorf("%s %s = %q, want %q: the stylesheet did not apply", c.selector, c.property, got, c.want)
			}
		}
		csp.check(t)
	})

	t.Run("print", func(t *testing.T) {
		media := func(m string) chromedp.Action[chromedp.Void] {
			return chromedp.Func(func(ctx context.Context, tg *chromedp.Target) error {
				_, err := cdp.Call(ctx, tg, emulation.SetEmulatedMedia, emulation.SetEmulatedMediaParams{Media: m})
				return err
			})
		}
		if err := chromedp.Do(ctx, media("print")); err != nil {
			t.Fatalf("emulate print: %v", err)
		}
		// Back to the screen for the next steps, whatever happens here.
		defer func() {
			if err := chromedp.Do(ctx, media("")); err != nil {
				t.Errorf("back to the screen: %v", err)
			}
		}()
		if !evaluate[bool](ctx, t, `matchMedia("print").matches`) {
			t.Fatal("print media not emulated")
		}
		if evaluate[bool](ctx, t, `document.querySelector("nav.months").checkVisibility()`) {
			t.Error("the month links are printed")
		}
		windows := evaluate[[]windowLayout](ctx, t, windowLayoutJS)
		if len(windows) != 2 {
			t.Fatalf("%d window cards printed, want 2", len(windows))
		}
		for _, w := range windows {
			if !w.CardVisible || !w.ChartVisible || len(w.Bars) != 12 {
				t.Errorf("%s in print: card visible %v, chart visible %v, %d bars", w.Name, w.CardVisible, w.ChartVisible, len(w.Bars))
			}
			if len(w.Outside) > 0 {
				t.Errorf("%s in print: %v stick out of the card", w.Name, w.Outside)
			}
		}
		// The print rules applied: the bars are dark grey on paper.
		if fill := evaluate[string](ctx, t, `getComputedStyle(document.querySelector(".chart .bar")).fill`); fill != "rgb(68, 68, 68)" {
			t.Errorf("printed bar fill = %q, want rgb(68, 68, 68)", fill)
		}
		saveScreenshot(ctx, t, "results-print-390.png")
	})

	t.Run("month link", func(t *testing.T) {
		res, err := chromedp.RunResponse(ctx, chromedp.Click(chromedp.CSS(`nav.months a[href="/results?month=2026-10"]`)))
		if err != nil {
			t.Fatalf("follow the link to October: %v", err)
		}
		if res.Status != 200 {
			t.Errorf("October's page is %d, want 200", res.Status)
		}
		if loc := evaluate[string](ctx, t, `location.search`); loc != "?month=2026-10" {
			t.Errorf("the address's query is %q, want ?month=2026-10", loc)
		}
		if cur := evaluate[string](ctx, t, `document.querySelector('nav.months strong[aria-current="page"]').textContent`); cur != "2026年10月" {
			t.Errorf("the current month reads %q, want 2026年10月", cur)
		}
		if n := evaluate[int](ctx, t, `document.querySelectorAll('nav.months a[href="/results?month=2026-11"]').length`); n != 1 {
			t.Error("November is not a link once October is shown")
		}
		if got := evaluate[string](ctx, t, `document.querySelector("article.window .key dd").textContent`); got != "33.3%" {
			t.Errorf("October's satisfaction reads %q, want 33.3%%", got)
		}
		if got := evaluate[string](ctx, t, `document.querySelector("p.updated").textContent`); !strings.HasPrefix(got, "2026年10月") {
			t.Errorf("the page says %q, want October", got)
		}
		csp.check(t)
	})

	// The CSP check above can only fail if the browser's refusals reach
	// it: an image from elsewhere must be refused and seen.
	t.Run("a refusal is seen", func(t *testing.T) {
		select {
		case <-csp.seen: // a refusal reported above
		default:
		}
		evaluate[chromedp.Void](ctx, t, `document.body.append(Object.assign(document.createElement("img"), {src: "http://elsewhere.invalid/x.png"}))`)
		select {
		case <-csp.seen:
		case <-ctx.Done():
			t.Fatal("an image from elsewhere was not reported as refused by the CSP")
		}
		csp.take()
	})
}

// ratedTickets makes good+bad tickets received early in month, numbered
// from first: good rated 满意, bad rated 不满意.
func ratedTickets(first, year int, month time.Month, good, bad int) []store.Ticket {
	var ts []store.Ticket
	for i := range good + bad {
		level := 2
		if i >= good {
			level = 4
		}
		ts = append(ts, piiTicket(first+i, time.Date(year, month, 3, 9, i, 0, 0, cst), level))
	}
	return ts
}

// windowLayout is a window's card as laid out; windowLayoutJS measures it.
type windowLayout struct {
	Name                      string
	CardVisible, ChartVisible bool
	// Outside lists the card's elements that reach past its sides; Split
	// the figures whose value is not on its label's line; Overlap the
	// chart's month labels that run into the next one.
	Outside, Split, Overlap []string
	Label                   string
	SVGWidth, SVGHeight     float64
	ViewBoxWidth            float64
	Bars                    []barLayout
}

type barLayout struct {
	Class, Month string
	Height       float64 // in CSS pixels
}

const windowLayoutJS = `[...document.querySelectorAll("article.window")].map(card => {
	const c = card.getBoundingClientRect();
	const svg = card.querySelector("figure.chart svg");
	const s = svg.getBoundingClientRect();
	const shown = e => { const r = e.getBoundingClientRect(); return e.checkVisibility({visibilityProperty: true}) && r.width > 0 && r.height > 0 };
	return {
		Name: card.querySelector("h2").textContent,
		CardVisible: shown(card),
		ChartVisible: shown(svg),
		Outside: [...card.querySelectorAll("*")].filter(e => {
			const r = e.getBoundingClientRect();
			return r.width > 0 && (r.left < c.left - 0.5 || r.right > c.right + 0.5);
		}).map(e => e.tagName + (e.getAttribute("class") ? "." + e.getAttribute("class") : "")),
		Split: [...card.querySelectorAll(".figures > div")].filter(f =>
			f.querySelector("dt").getBoundingClientRect().top !== f.querySelector("dd").getBoundingClientRect().top
		).map(f => f.querySelector("dt").textContent),
		Overlap: [...svg.querySelectorAll("text.month")].filter((m, i, all) =>
			i + 1 < all.length && m.getBoundingClientRect().right > all[i + 1].getBoundingClientRect().left
		).map(m => m.textContent),
		Label: svg.getAttribute("aria-label"),
		SVGWidth: s.width, SVGHeight: s.height,
		ViewBoxWidth: svg.viewBox.baseVal.width,
		Bars: [...svg.querySelectorAll("rect")].map(b => ({
			Class: b.getAttribute("class"),
			Month: b.parentNode.querySelector("text.month").textContent,
			Height: b.getBoundingClientRect().height,
		})),
	};
})`

// evaluate runs a script in the page and fails the test if it throws.
func evaluate[T any](ctx context.Context, t *testing.T, js string) T {
	t.Helper()
	v, err := chromedp.Run(ctx, chromedp.Evaluate[T](js))
	if err != nil {
		t.Fatalf("evaluate %.60q: %v", js, err)
	}
	return v
}

// saveScreenshot keeps a full-page screenshot among the test's artifacts
// (go test -artifacts), for a person to look at.
func saveScreenshot(ctx context.Context, t *testing.T, name string) {
	t.Helper()
	shot, err := chromedp.Run(ctx, chromedp.FullScreenshot(100))
	if err != nil {
		t.Fatal(err)
	}
	if err := os.WriteFile(filepath.Join(t.ArtifactDir(), name), shot, 0o644); err != nil {
		t.Errorf("save screenshot: %v", err)
	}
}

// cspRefusals collects the browser's reports of what the page's CSP
// refused (a stylesheet, an image, an inline style…).
type cspRefusals struct {
	mu   sync.Mutex
	msgs []string
	seen chan struct{} // signalled on each refusal
}

func newCSPRefusals() *cspRefusals { return &cspRefusals{seen: make(chan struct{}, 1)} }

// listen runs on chromedp's reader goroutine, so it only appends and
// signals without blocking.
func (c *cspRefusals) listen(ev any) {
	e, ok := ev.(*cdplog.EventEntryAdded)
	if !ok || e.Entry == nil || !strings.Contains(e.Entry.Text, "Content Security Policy") {
		return
	}
	c.mu.Lock()
	c.msgs = append(c.msgs, e.Entry.Text)
	c.mu.Unlock()
	select {
	case c.seen <- struct{}{}:
	default:
	}
}

// take returns and forgets the refusals seen so far.
func (c *cspRefusals) take() []string {
	c.mu.Lock()
	defer c.mu.Unlock()
	msgs := c.msgs
	c.msgs = nil
	return msgs
}

// check fails the test for every refusal seen so far.
func (c *cspRefusals) check(t *testing.T) {
	t.Helper()
	for _, m := range c.take() {
		t.Errorf("CSP refused: %s", m)
	}
}
