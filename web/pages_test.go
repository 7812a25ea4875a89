package web

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// testOffices is a bureau as a configuration could give it. The numbers
// and addresses are test data, not any real office's.
var testOffices = OfficeList{
	{Name: "社会救助科", Lines: []string{"低保、特困、临时救助"}, Address: "测试路1号", Hours: "工作日 8:30-17:30", Phone: "010-0000 0001"},
	{Name: "优抚安置科<script>alert(1)</script>", Lines: []string{"退役军人优抚安置", "双拥（军人军属）服务"}},
	{Name: "社会事务科", Lines: []string{"婚姻登记"}, Phone: "010-0000 0002 转 3"},
	{Name: "退役军人事务局", Lines: []string{"退役军人优抚安置"}, Phone: "010-0000 0003", Agency: true},
}

// newPages returns the pages on a fresh mux, as the service registers them.
func newPages(t *testing.T, opts Options) http.Handler {
	t.Helper()
	if opts.Log == nil {
		opts.Log = slog.New(slog.NewTextHandler(t.Output(), nil))
	}
	p, err := New(opts)
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	p.Register(mux)
	return mux
}

// answer is a response, read in full.
type answer struct {
	StatusCode int
	Header     http.Header
}

func get(t *testing.T, h http.Handler, target string) (answer, string) {
	t.Helper()
	res, body, _ := visit(t, h, httptest.NewRequest(http.MethodGet, target, nil))
	return res, body
}

// checkSecurityHeaders fails the test unless res carries the headers every
// page and asset must.
func checkSecurityHeaders(t *testing.T, res answer) {
	t.Helper()
	csp := res.Header.Get("Content-Security-Policy")
	for _, want := range []string{"default-src 'none'", "style-src 'self'", "frame-ancestors 'none'", "form-action 'self'"} {
		if !strings.Contains(csp, want) {
			t.Errorf("Content-Security-Policy = %q, want it to contain %q", csp, want)
		}
	}
	if strings.Contains(csp, "script-src") || strings.Contains(csp, "unsafe-inline") {
		t.Errorf("Content-Security-Policy = %q, want no script and nothing inline", csp)
	}
	if got := res.Header.Get("X-Content-Type-Options"); got != "nosniff" {
		t.Errorf("X-Content-Type-Options = %q, want nosniff", got)
	}
	if got := res.Header.Get("Referrer-Policy"); got != "no-referrer" {
		t.Errorf("Referrer-Policy = %q, want no-referrer", got)
	}
}

// officeBlock is the HTML of the office card that starts with name.
func officeBlock(t *testing.T, body, name string) string {
	t.Helper()
	i := strings.Index(body, "<h3>"+name+"</h3>")
	if i < 0 {
		t.Fatalf("page lacks office %s", name)
	}
	block := body[i:]
	return block[:strings.Index(block, "</article>")]
}

func TestOfficesPage(t *testing.T) {
	h := newPages(t, Options{Bureau: "测试区民政局", Offices: testOffices})
	res, body := get(t, h, "/offices")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET /offices = %d, want 200\n%s", res.StatusCode, body)
	}
	if got := res.Header.Get("Content-Type"); got != "text/html; charset=utf-8" {
		t.Errorf("Content-Type = %q, want text/html; charset=utf-8", got)
	}
	checkSecurityHeaders(t, res)

	for _, want := range []string{
		`<html lang="zh-CN">`, `name="viewport"`, "<h1>办事指南 · 联系方式</h1>", "<title>办事指南 · 联系方式 · 测试区民政局</title>", "测试区民政局 · 惠民服务",
		"本局科室", "相关单位", "低保、特困、临时救助", "退役军人优抚安置、双拥（军人军属）服务",
		"测试路1号", "工作日 8:30-17:30", `<a href="tel:01000000001">010-0000 0001</a>`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Contains(body, "<script") {
		t.Errorf("page holds a script element: a configured name was not escaped")
	}
	if !strings.Contains(body, "优抚安置科&lt;script&gt;alert(1)&lt;/script&gt;") {
		t.Errorf("the configured name with markup is not shown escaped")
	}
	if strings.Index(body, "社会救助科") > strings.Index(body, "退役军人事务局") {
		t.Errorf("the outside agency is listed before the bureau's departments")
	}

	tests := []struct {
		name         string
		office       string
		want, absent []string
	}{
		{"all fields", "社会救助科", []string{"负责事项", "地址", "办公时间", "电话"}, []string{"联系方式暂未公布"}},
		{"no contact", "优抚安置科&lt;script&gt;alert(1)&lt;/script&gt;", []string{"负责事项", "联系方式暂未公布"}, []string{"地址", "办公时间", "电话", "<dd></dd>"}},
		{"phone only, not one number", "社会事务科", []string{"电话", "010-0000 0002 转 3"}, []string{"地址", "办公时间", "tel:", "联系方式暂未公布"}},
		{"agency with a phone", "退役军人事务局", []string{`href="tel:01000000003"`}, []string{"地址", "办公时间"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			block := officeBlock(t, body, tt.office)
			for _, w := range tt.want {
				if !strings.Contains(block, w) {
					t.Errorf("block lacks %q:\n%s", w, block)
				}
			}
			for _, a := range tt.absent {
				if strings.Contains(block, a) {
					t.Errorf("block shows %q, which is not configured:\n%s", a, block)
				}
			}
		})
	}
	if strings.Contains(body, "<dd></dd>") || strings.Contains(body, "<h3></h3>") {
		t.Errorf("page renders an empty field")
	}
}

func TestOfficesPageWithoutAgencies(t *testing.T) {
	h := newPages(t, Options{Offices: testOffices[:1]})
	_, body := get(t, h, "/offices")
	if strings.Contains(body, `id="agencies"`) {
		t.Errorf("page shows an empty agencies section")
	}
}

func TestOfficesPageNotRegisteredWithoutSource(t *testing.T) {
	h := newPages(t, Options{})
	if res, _ := get(t, h, "/offices"); res.StatusCode != http.StatusNotFound {
		t.Errorf("GET /offices with no source = %d, want 404", res.StatusCode)
	}
}

type failingOffices struct{}

func (failingOffices) Offices(context.Context) ([]Office, error) {
	return nil, errors.New("directory unavailable")
}

func TestFailedPageAnswersTheErrorPage(t *testing.T) {
	var logs strings.Builder
	h := newPages(t, Options{Offices: failingOffices{}, Log: slog.New(slog.NewTextHandler(&logs, nil))})
	res, body := get(t, h, "/offices")
	if res.StatusCode != http.StatusInternalServerError || !strings.Contains(body, "页面暂时打不开") {
		t.Errorf("GET /offices with a failing source = %d\n%s\nwant 500 and the error page", res.StatusCode, body)
	}
	checkSecurityHeaders(t, res)
	if strings.Contains(body, "directory unavailable") {
		t.Errorf("the error page shows the internal error")
	}
	if !strings.Contains(logs.String(), "level=ERROR") || !strings.Contains(logs.String(), "directory unavailable") {
		t.Errorf("the failure was not logged once as an error:\n%s", logs.String())
	}
}

func TestStylesheet(t *testing.T) {
	p, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	p.Register(mux)
	res, body := get(t, mux, p.cssPath)
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "text/css") {
		t.Fatalf("GET %s = %d %s", p.cssPath, res.StatusCode, res.Header.Get("Content-Type"))
	}
	checkSecurityHeaders(t, res)
	if !strings.Contains(body, "@media print") {
		t.Errorf("the stylesheet has no print rules")
	}
	if res, _ := get(t, mux, "/static/texts.yaml"); res.StatusCode != http.StatusNotFound {
		t.Errorf("GET /static/texts.yaml = %d, want 404", res.StatusCode)
	}
}

func TestTelURI(t *testing.T) {
	tests := []struct{ phone, want string }{
		{"010-0000 0001", "tel:01000000001"},
		{"+86 (10) 0000-0001", "tel:+861000000001"},
		{"010-0000 0002 转 3", ""},
		{"010-00000001、010-00000002", ""},
		{"", ""},
	}
	for _, tt := range tests {
		if got := string(telURI(tt.phone)); got != tt.want {
			t.Errorf("telURI(%q) = %q, want %q", tt.phone, got, tt.want)
		}
	}
}
