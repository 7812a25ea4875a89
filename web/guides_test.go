package web

import (
	"context"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
)

// guideList is a fixed GuideLister.
type guideList struct {
	guides []Guide
	limits []LineLimit
}

func (g guideList) Guides(context.Context) ([]Guide, error)     { return g.guides, nil }
func (g guideList) Limits(context.Context) ([]LineLimit, error) { return g.limits, nil }

// testGuides are guides as the service feeds them: the contact is test
// data from a configuration, not any real office's.
var testGuides = guideList{
	guides: []Guide{
		{ID: "dibao", Title: "最低生活保障（低保）申请", Line: "低保、特困、临时救助", Who: "共同生活的家庭成员人均收入低于当地低保标准的家庭。",
			Materials: []string{"有效身份证件、户口簿", "家庭收入和财产状况的书面说明"}, Basis: []string{"《社会救助暂行办法》", "《最低生活保障审核确认办法》"},
			LimitDays: 3, Office: &Office{Name: "社会救助科", Address: "测试路1号", Hours: "工作日 8:30-17:30", Phone: "010-0000 0001"}},
		{ID: "bare", Title: "最简指南<script>alert(1)</script>", Line: "社区事务"},
		{ID: "urgent", Title: "急事指南", Line: "社区事务", Fee: "不收费", LimitHours: 2, Office: &Office{Name: "基层政权和社区建设科", Phone: "010-0000 0004 转 2"}},
	},
	limits: []LineLimit{
		{Line: "低保、特困、临时救助", Limits: []TypeLimit{{"consult", 3, 0}, {"help", 3, 0}, {"complaint", 13, 0}, {"report", 13, 0}, {"suggestion", 13, 0}}},
		{Line: "社区事务", Limits: []TypeLimit{{"consult", 0, 2}, {"help", 7, 0}, {"complaint", 7, 0}, {"report", 7, 0}, {"suggestion", 7, 0}}},
	},
}

// fetch GETs path from a server on loopback and returns the status and body.
func fetch(t *testing.T, base, path string) (int, http.Header, string) {
	t.Helper()
	res, err := http.Get(base + path)
	if err != nil {
		t.Fatal(err)
	}
	defer res.Body.Close()
	body, err := io.ReadAll(res.Body)
	if err != nil {
		t.Fatal(err)
	}
	return res.StatusCode, res.Header, string(body)
}

// guideBlock is the HTML of the guide card with the ID.
func guideBlock(t *testing.T, body, id string) string {
	t.Helper()
	i := strings.Index(body, `id="`+id+`"`)
	if i < 0 {
		t.Fatalf("page lacks guide %s", id)
	}
	block := body[i:]
	return block[:strings.Index(block, "</article>")]
}

// TestGuidePage serves /guide over HTTP on loopback: the three
// commitments, each line's limits grouped by inquiry type as configured,
// and every guide with only the fields it has, escaped, with its office.
func TestGuidePage(t *testing.T) {
	srv := httptest.NewServer(newPages(t, Options{Bureau: "测试区民政局", Guides: testGuides}))
	t.Cleanup(srv.Close)
	status, header, body := fetch(t, srv.URL, "/guide")
	if status != http.StatusOK {
		t.Fatalf("GET /guide = %d\n%s", status, body)
	}
	checkSecurityHeaders(t, answer{status, header})
	for _, want := range []string{
		"<title>办事指南 · 服务承诺 · 测试区民政局</title>", "首问负责制", "一次性告知", "限时办结",
		"<dt>低保、特困、临时救助</dt><dd>咨询、求助：3个工作日<br>投诉、举报、建议：13个工作日</dd>",
		"<dt>社区事务</dt><dd>咨询：2个工作小时<br>求助、投诉、举报、建议：7个工作日</dd>",
		`<a href="/guide/dibao">最低生活保障（低保）申请</a>`,
	} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	if strings.Contains(body, "<script") || !strings.Contains(body, "最简指南&lt;script&gt;") {
		t.Errorf("a guide's title was not escaped")
	}
	tests := []struct {
		id           string
		want, absent []string
	}{
		{"dibao", []string{"申请对象", "<li>有效身份证件、户口簿</li><li>家庭收入和财产状况的书面说明</li>", "受理后3个工作日内办结",
			"《社会救助暂行办法》、《最低生活保障审核确认办法》", "<dd>社会救助科</dd>", "测试路1号", "工作日 8:30-17:30", `href="tel:01000000001"`},
			[]string{"收费", "暂未公布"}},
		{"bare", []string{"所属事项", "办理地点和联系方式暂未公布"}, []string{"申请对象", "所需材料", "办结时限", "收费", "办理依据", "办理部门", "电话"}},
		{"urgent", []string{"收费</dt><dd>不收费", "受理后2个工作小时内办结", "010-0000 0004 转 2"}, []string{"tel:", "地址", "办公时间", "暂未公布"}},
	}
	for _, tt := range tests {
		t.Run(tt.id, func(t *testing.T) {
			block := guideBlock(t, body, tt.id)
			for _, w := range tt.want {
				if !strings.Contains(block, w) {
					t.Errorf("guide lacks %q:\n%s", w, block)
				}
			}
			for _, a := range tt.absent {
				if strings.Contains(block, a) {
					t.Errorf("guide shows %q, which it does not have:\n%s", a, block)
				}
			}
		})
	}
	if strings.Contains(body, "<dd></dd>") || strings.Contains(body, "<li></li>") {
		t.Errorf("page renders an empty field")
	}
	// Phone-width and print friendly: the viewport, and the cards kept whole on paper.
	if !strings.Contains(body, `name="viewport"`) {
		t.Errorf("page has no viewport meta")
	}
}

func TestGuidePageOfOneGuide(t *testing.T) {
	srv := httptest.NewServer(newPages(t, Options{Guides: testGuides}))
	t.Cleanup(srv.Close)
	status, _, body := fetch(t, srv.URL, "/guide/urgent")
	if status != http.StatusOK || !strings.Contains(body, "急事指南") || !strings.Contains(body, `href="/guide"`) {
		t.Fatalf("GET /guide/urgent = %d, want the guide and a way to all of them\n%s", status, body)
	}
	if strings.Contains(body, "最低生活保障") || strings.Contains(body, "首问负责制") {
		t.Errorf("one guide's page shows the others or the commitments")
	}
	status, header, body := fetch(t, srv.URL, "/guide/no-such-guide")
	if status != http.StatusNotFound || !strings.Contains(body, "没有找到这项办事指南") || !strings.Contains(body, `href="/guide"`) {
		t.Errorf("GET /guide/no-such-guide = %d, want 404 with a clear page\n%s", status, body)
	}
	checkSecurityHeaders(t, answer{status, header})
}

func TestGuidePageNotRegisteredWithoutSource(t *testing.T) {
	h := newPages(t, Options{Offices: testOffices})
	if res, _ := get(t, h, "/guide"); res.StatusCode != http.StatusNotFound {
		t.Errorf("GET /guide without guides = %d, want 404", res.StatusCode)
	}
}
