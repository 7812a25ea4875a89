// Package webtest starts headless Chromium for the tests of the project's
// pages (the service's pages in web, the simulator's chat page in sim), so
// that every browser test starts it the same way. Only tests import it.
package webtest

import (
	"context"
	"fmt"
	"os"
	"os/exec"
	"sync"
	"testing"

	"github.com/chromedp/cdproto/runtime"
	"github.com/chromedp/chromedp"
)

// ChromiumPath finds Chromium, or skips the test (fails it when CI=true:
// .ci/run installs Chromium).
func ChromiumPath(t *testing.T) string {
	t.Helper()
	if _, err := os.Stat("/usr/bin/chromium"); err == nil {
		return "/usr/bin/chromium"
	}
	if p, err := exec.LookPath("chromium"); err == nil {
		return p
	}
	const msg = "chromium not found at /usr/bin/chromium or on PATH (apt-get install chromium)"
	if os.Getenv("CI") == "true" {
		t.Fatal(msg + "; CI must install it")
	}
	t.Skip(msg + "; skipping the browser test")
	return ""
}

// PageErrors collects the uncaught exceptions of a page.
type PageErrors struct {
	mu   sync.Mutex
	msgs []string
}

// listen records exceptions; it runs on chromedp's reader goroutine, so it only appends.
func (p *PageErrors) listen(ev any) {
	if e, ok := ev.(*runtime.EventExceptionThrown); ok {
		p.mu.Lock()
		d := e.ExceptionDetails
		msg := fmt.Sprintf("%s at %s:%d:%d", d.Text, d.URL, d.LineNumber+1, d.ColumnNumber+1)
		if d.Exception != nil {
			msg += ": " + d.Exception.Description
		}
		p.msgs = append(p.msgs, msg)
		p.mu.Unlock()
	}
}

// Check fails the test for every exception seen.
func (p *PageErrors) Check(t *testing.T) {
	t.Helper()
	p.mu.Lock()
	defer p.mu.Unlock()
	for _, m := range p.msgs {
		t.Errorf("page exception: %s", m)
	}
}

// NewBrowser starts headless Chromium with a fresh profile in a window of
// width × height (a phone: 390 × 844) and returns a tab context that
// records the page's uncaught exceptions in errs.
func NewBrowser(t *testing.T, exe string, errs *PageErrors, width, height int) context.Context {
	t.Helper()
	opts := append(chromedp.DefaultExecAllocatorOptions[:],
		chromedp.ExecPath(exe),
		chromedp.Headless,
		chromedp.NoSandbox, // the test may run as root
		chromedp.DisableGPU,
		chromedp.NoFirstRun,
		chromedp.Flag("disable-quic", true),
		chromedp.Flag("disable-background-networking", true),
		chromedp.Flag("disable-component-update", true),
		chromedp.Flag("disable-sync", true),
		chromedp.UserDataDir(t.TempDir()),
		chromedp.WindowSize(width, height),
	)
	allocCtx, cancelAlloc := chromedp.NewExecAllocator(t.Context(), opts...)
	t.Cleanup(cancelAlloc)
	ctx, cancelTab := chromedp.NewContext(allocCtx, chromedp.WithListener(errs.listen))
	t.Cleanup(cancelTab)
	return ctx
}
