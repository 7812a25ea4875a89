package web

import (
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

func testPages(t *testing.T) *httptest.Server {
	t.Helper()
	p, err := New(Options{Bureau: "城关区民政局", Offices: []Office{
		{Name: "社会救助科", Lines: []string{"低保、特困、临时救助"}, Address: "人民路1号", Hours: "工作日 8:30-17:30", Phone: "0000-1234567"},
		{Name: "优抚安置科<script>alert(1)</script>", Lines: []string{"退役军人优抚安置", "双拥（军人军属）服务"}},
		{Name: "退役军人事务局", Agency: true, Phone: "0000-7654321"},
	}})
	if err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	p.Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

// answer is a response read in full.
type answer struct {
	StatusCode int
	Header     http.Header
}

func get(t *testing.T, url string) (answer, string) {
	t.Helper()
	resp, err := http.Get(url)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		t.Fatal(err)
	}
	return answer{resp.StatusCode, resp.Header}, string(body)
}

func TestOfficesPage(t *testing.T) {
	srv := testPages(t)
	resp, body := get(t, srv.URL+"/offices")
	if resp.StatusCode != http.StatusOK || resp.Header.Get("Content-Type") != "text/html; charset=utf-8" {
		t.Fatalf("GET /offices = %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	for h, want := range map[string]string{
		"Content-Security-Policy": "default-src 'none'",
		"X-Content-Type-Options":  "nosniff",
		"Referrer-Policy":         "strict-origin-when-cross-origin",
	} {
		if got := resp.Header.Get(h); !strings.Contains(got, want) {
			t.Errorf("%s = %q, want %q", h, got, want)
		}
	}
	for _, want := range []string{"城关区民政局", "办事指南·联系方式", "社会救助科", "人民路1号", "工作日 8:30-17:30", `href="tel:0000-1234567"`,
		"退役军人优抚安置、双拥（军人军属）服务", "相关单位", "退役军人事务局", "联系方式暂未公布"} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Contains(body, "<script>") || !strings.Contains(body, "&lt;script&gt;") {
		t.Errorf("a configured name was not escaped")
	}
	if strings.Contains(body, "[") && strings.Contains(body, "_") && strings.Contains(body, "]") {
		for _, line := range strings.Split(body, "\n") {
			if strings.Contains(line, "[offices_") || strings.Contains(line, "[site_") {
				t.Errorf("a text is missing: %s", line)
			}
		}
	}
	// The agency has only a phone: no empty address or hours rows.
	agency := body[strings.Index(body, "退役军人事务局"):]
	agency = agency[:strings.Index(agency, "</article>")]
	if strings.Contains(agency, "地址") || strings.Contains(agency, "办公时间") || !strings.Contains(agency, "0000-7654321") {
		t.Errorf("agency block %q shows fields that are not configured", agency)
	}
}

func TestStaticAssets(t *testing.T) {
	srv := testPages(t)
	resp, body := get(t, srv.URL+"/static/style.css")
	if resp.StatusCode != http.StatusOK || !strings.HasPrefix(resp.Header.Get("Content-Type"), "text/css") || !strings.Contains(body, "@media print") {
		t.Errorf("GET /static/style.css = %d %s", resp.StatusCode, resp.Header.Get("Content-Type"))
	}
	if resp, _ := get(t, srv.URL+"/static/nothing.css"); resp.StatusCode != http.StatusNotFound {
		t.Errorf("a missing asset = %d, want 404", resp.StatusCode)
	}
	if resp, _ := get(t, srv.URL+"/static/../texts.yaml"); resp.StatusCode == http.StatusOK {
		t.Errorf("the texts file is served")
	}
}

func TestEveryPageTextExists(t *testing.T) {
	p, err := New(Options{})
	if err != nil {
		t.Fatal(err)
	}
	for _, key := range []string{"site_name", "offices_title", "offices_intro", "offices_own", "offices_agencies", "offices_lines",
		"offices_address", "offices_hours", "offices_phone", "offices_none", "offices_missing", "footer"} {
		if strings.HasPrefix(p.text(key), "[") {
			t.Errorf("text %s is missing", key)
		}
	}
	if p.opts.Bureau == "" {
		t.Errorf("no default bureau name")
	}
}
