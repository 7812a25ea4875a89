package web

import (
	"context"
	"errors"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"huimin/desk"
	"huimin/store"
)

// The desk is the survey page's source.
var _ SurveyDesk = (*desk.Desk)(nil)

// testToken is the page token of the fake's one open survey.
const testToken = "MZ20261128-0042.1.c2lnbmVkLXRlc3QtdG9rZW4"

// fakeSurveys is the desk's survey side with one open survey under
// testToken: it refuses as the desk does (the desk's error values) and
// records the answers it is given. The page's boundary is SurveyDesk, so
// a fake there tests the page alone.
type fakeSurveys struct {
	mu    sync.Mutex
	page  desk.SurveyPage
	fail  error // returned by SurveyByToken for testToken when set
	rated []rating
}

type rating struct {
	token, viewer string
	level         int
	comment       string
}

func newFakeSurveys() *fakeSurveys {
	return &fakeSurveys{page: desk.SurveyPage{
		Ticket: store.Ticket{
			ID: "MZ20261128-0042", CitizenOpenID: "oCitizenOpenID0042", Line: "relief", Summary: "家里老人低保申请一直没有消息",
			Name: "王秀英", Phone: "13800000042", IDNumber: "110101194001010042", State: store.StateResolved,
			Fields:     map[string]string{"address": "测试街道幸福小区3号楼"},
			ResolvedAt: time.Date(2026, 11, 28, 2, 30, 0, 0, time.UTC), // 10:30 in Shanghai
			Resolution: "已为王秀英办理低保，电话13800000042已告知。",
		},
		Survey: store.Survey{Round: 1, SentAt: time.Date(2026, 11, 29, 2, 0, 0, 0, time.UTC)},
		Line:   "低保、特困、临时救助",
	}}
}

func refused(err error, reason string) error {
	return &desk.Refusal{Op: desk.OpRate, Err: err, Reason: reason, Ticket: "MZ20261128-0042", State: store.StateResolved}
}

func (f *fakeSurveys) SurveyByToken(_ context.Context, token string) (desk.SurveyPage, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	return f.survey(token)
}

func (f *fakeSurveys) survey(token string) (desk.SurveyPage, error) {
	switch {
	case token != testToken:
		return desk.SurveyPage{}, &desk.Refusal{Op: desk.OpRate, Err: desk.ErrNotFound, Reason: "bad_token"}
	case f.fail != nil:
		return desk.SurveyPage{}, f.fail
	case len(f.rated) > 0:
		return desk.SurveyPage{}, refused(desk.ErrWrongState, "survey_answered")
	}
	return f.page, nil
}

func (f *fakeSurveys) RateByToken(_ context.Context, token, viewer string, level int, comment string) (store.Ticket, error) {
	f.mu.Lock()
	defer f.mu.Unlock()
	if level < desk.LevelVerySatisfied || level > desk.LevelVeryDissatisfied {
		return store.Ticket{}, refused(desk.ErrInvalid, "rate_usage")
	}
	p, err := f.survey(token)
	if err != nil {
		return store.Ticket{}, err
	}
	if viewer != "" && viewer != p.Ticket.CitizenOpenID {
		return store.Ticket{}, refused(desk.ErrNotYours, "not_yours")
	}
	f.rated = append(f.rated, rating{token, viewer, level, comment})
	return p.Ticket, nil
}

var testLevelNames = map[int]string{0: "未评价", 1: "非常满意", 2: "满意", 3: "基本满意", 4: "不满意", 5: "非常不满意"}

func (f *fakeSurveys) LevelName(level int) string { return testLevelNames[level] }

func (f *fakeSurveys) ratings() []rating {
	f.mu.Lock()
	defer f.mu.Unlock()
	return append([]rating(nil), f.rated...)
}

// surveyPages serves the pages with fake as the survey source, in the
// bureau's time zone.
func surveyPages(t *testing.T, fake *fakeSurveys, log *slog.Logger) http.Handler {
	t.Helper()
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	return newPages(t, Options{Bureau: "测试区民政局", Surveys: fake, Location: loc, Log: log})
}

// post submits form to target as a browser on example.com (httptest's host)
// would, with the extra headers given.
func post(t *testing.T, h http.Handler, target string, form url.Values, headers map[string]string) (answer, string) {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, target, strings.NewReader(form.Encode()))
	req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
	for k, v := range headers {
		req.Header.Set(k, v)
	}
	res, body, _ := visit(t, h, req)
	return res, body
}

// checkSurveyHeaders fails the test unless res carries the headers every
// survey page must: its URL holds the token.
func checkSurveyHeaders(t *testing.T, res answer) {
	t.Helper()
	checkSecurityHeaders(t, res)
	if got := res.Header.Get("Cache-Control"); got != "no-store" {
		t.Errorf("Cache-Control = %q, want no-store", got)
	}
	if got := res.Header.Get("X-Robots-Tag"); got != "noindex" {
		t.Errorf("X-Robots-Tag = %q, want noindex", got)
	}
	if got := res.Header.Get("Content-Type"); got != "text/html; charset=utf-8" {
		t.Errorf("Content-Type = %q, want text/html; charset=utf-8", got)
	}
}

// personalData is what the fake's ticket holds that no survey page may
// show.
var personalData = []string{"王秀英", "13800000042", "110101194001010042", "oCitizenOpenID0042", "家里老人低保申请", "幸福小区", "已为王秀英办理"}

func checkNoPersonalData(t *testing.T, body string) {
	t.Helper()
	for _, p := range personalData {
		if strings.Contains(body, p) {
			t.Errorf("page shows personal data %q", p)
		}
	}
}

func TestSurveyPage(t *testing.T) {
	fake := newFakeSurveys()
	h := surveyPages(t, fake, nil)
	res, body := get(t, h, "/survey/"+testToken)
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET /survey/{token} = %d, want 200\n%s", res.StatusCode, body)
	}
	checkSurveyHeaders(t, res)
	for _, want := range []string{
		`name="viewport"`, "<h1>回访评价</h1>", "<title>回访评价 · 测试区民政局</title>",
		"事项编号", "MZ20261128-0042", "事项类别", "低保、特困、临时救助", "办结日期", "2026年11月28日",
		`<form method="post"`, "还有什么想说的？（可不填）", `maxlength="200"`, `name="comment"`, "提交评价",
	} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	// The five levels, best first, each a radio with its digit.
	at := 0
	for l := 1; l <= 5; l++ {
		radio := `<input type="radio" name="level" value="` + string(rune('0'+l)) + `" required><span>` + testLevelNames[l] + `</span>`
		i := strings.Index(body, radio)
		if i < 0 {
			t.Fatalf("page lacks level %d as %s", l, radio)
		}
		if i < at {
			t.Errorf("level %d (%s) comes before level %d", l, testLevelNames[l], l-1)
		}
		at = i
	}
	if strings.Contains(body, "checked") {
		t.Errorf("a level is chosen before the citizen chose one")
	}
	if strings.Contains(body, "<script") || strings.Contains(body, testToken) {
		t.Errorf("page holds a script or repeats its token")
	}
	checkNoPersonalData(t, body)
	if got := fake.ratings(); len(got) != 0 {
		t.Errorf("GET recorded answers %v", got)
	}
}

func TestSurveyPageRefusals(t *testing.T) {
	tests := []struct {
		name   string
		token  string
		fail   error
		status int
		want   string
	}{
		{"forged token", "MZ20261128-0042.1.Zm9yZ2VkLXRva2VuLXh4eHh4", nil, http.StatusNotFound, "链接无效"},
		{"not a token", "hello", nil, http.StatusNotFound, "链接无效"},
		{"answered", testToken, refused(desk.ErrWrongState, "survey_answered"), http.StatusGone, "您已评价过，感谢！"},
		{"expired", testToken, refused(desk.ErrWrongState, "survey_expired"), http.StatusGone, "评价已过期"},
		{"superseded", testToken, refused(desk.ErrWrongState, "no_open_survey"), http.StatusGone, "评价已结束"},
		{"not yours", testToken, refused(desk.ErrNotYours, "not_yours"), http.StatusForbidden, "不能评价"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := newFakeSurveys()
			fake.fail = tt.fail
			h := surveyPages(t, fake, nil)
			res, body := get(t, h, "/survey/"+tt.token)
			if res.StatusCode != tt.status || !strings.Contains(body, "<h1>"+tt.want+"</h1>") {
				t.Errorf("GET = %d\n%s\nwant %d and %q", res.StatusCode, body, tt.status, tt.want)
			}
			checkSurveyHeaders(t, res)
			if strings.Contains(body, "<form") || strings.Contains(body, "MZ20261128-0042") {
				t.Errorf("a refused survey shows its form or its ticket")
			}
			res, body = post(t, h, "/survey/"+tt.token, url.Values{"level": {"2"}}, nil)
			if res.StatusCode != tt.status || !strings.Contains(body, "<h1>"+tt.want+"</h1>") {
				t.Errorf("POST = %d\n%s\nwant %d and %q", res.StatusCode, body, tt.status, tt.want)
			}
			if got := fake.ratings(); len(got) != 0 {
				t.Errorf("a refused survey recorded %v", got)
			}
		})
	}
}

func TestSurveyAnswer(t *testing.T) {
	fake := newFakeSurveys()
	h := surveyPages(t, fake, nil)
	comment := "办事员态度不好，<b>等了很久</b>"
	res, body := post(t, h, "/survey/"+testToken, url.Values{"level": {"5"}, "comment": {comment}},
		map[string]string{"Origin": "http://example.com"})
	if res.StatusCode != http.StatusOK {
		t.Fatalf("POST level=5 = %d, want 200\n%s", res.StatusCode, body)
	}
	checkSurveyHeaders(t, res)
	want := []rating{{token: testToken, viewer: "", level: 5, comment: comment}}
	if got := fake.ratings(); len(got) != 1 || got[0] != want[0] {
		t.Fatalf("RateByToken calls = %+v, want %+v", got, want)
	}
	for _, w := range []string{"<h1>感谢您的评价！</h1>", "您的评价已经收到", "MZ20261128-0042", "非常不满意", "核实情况"} {
		if !strings.Contains(body, w) {
			t.Errorf("thank-you page lacks %q\n%s", w, body)
		}
	}
	if strings.Contains(body, "<form") || strings.Contains(body, "等了很久") {
		t.Errorf("thank-you page shows the form or echoes the comment")
	}
	checkNoPersonalData(t, body)

	// The link answers once: again, and on opening it, the citizen learns
	// it was answered.
	res, body = post(t, h, "/survey/"+testToken, url.Values{"level": {"1"}}, nil)
	if res.StatusCode != http.StatusGone || !strings.Contains(body, "您已评价过，感谢！") {
		t.Errorf("second POST = %d\n%s\nwant 410 您已评价过", res.StatusCode, body)
	}
	if res, _ := get(t, h, "/survey/"+testToken); res.StatusCode != http.StatusGone {
		t.Errorf("GET after answering = %d, want 410", res.StatusCode)
	}
	if got := fake.ratings(); len(got) != 1 {
		t.Errorf("RateByToken recorded %d answers, want 1", len(got))
	}
}

func TestSurveyAnswerGood(t *testing.T) {
	fake := newFakeSurveys()
	h := surveyPages(t, fake, nil)
	res, body := post(t, h, "/survey/"+testToken, url.Values{"level": {"1"}}, nil)
	if res.StatusCode != http.StatusOK || !strings.Contains(body, "非常满意") {
		t.Fatalf("POST level=1 = %d, want 200 and the level\n%s", res.StatusCode, body)
	}
	if strings.Contains(body, "核实情况") {
		t.Errorf("a good rating is told it will be looked into")
	}
	if got := fake.ratings(); len(got) != 1 || got[0].level != 1 || got[0].comment != "" {
		t.Errorf("RateByToken calls = %+v, want level 1 and no comment", got)
	}
}

func TestSurveyAnswerWithoutLevel(t *testing.T) {
	tests := []struct {
		name string
		form url.Values
	}{
		{"no level", url.Values{"comment": {"窗口人员很耐心"}}},
		{"empty level", url.Values{"level": {""}, "comment": {"窗口人员很耐心"}}},
		{"level 0", url.Values{"level": {"0"}, "comment": {"窗口人员很耐心"}}},
		{"level 6", url.Values{"level": {"6"}, "comment": {"窗口人员很耐心"}}},
		{"not a number", url.Values{"level": {"满意"}, "comment": {"窗口人员很耐心"}}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := newFakeSurveys()
			h := surveyPages(t, fake, nil)
			res, body := post(t, h, "/survey/"+testToken, tt.form, nil)
			if res.StatusCode != http.StatusBadRequest {
				t.Fatalf("POST = %d, want 400\n%s", res.StatusCode, body)
			}
			checkSurveyHeaders(t, res)
			for _, w := range []string{"请选择一个评价等级", `<form method="post"`, ">窗口人员很耐心</textarea>", "MZ20261128-0042"} {
				if !strings.Contains(body, w) {
					t.Errorf("page lacks %q\n%s", w, body)
				}
			}
			if strings.Contains(body, "checked") {
				t.Errorf("page shows a level chosen")
			}
			if got := fake.ratings(); len(got) != 0 {
				t.Errorf("an answer without a level was recorded: %+v", got)
			}
		})
	}
}

func TestSurveyAnswerTooLong(t *testing.T) {
	fake := newFakeSurveys()
	h := surveyPages(t, fake, nil)
	res, body := post(t, h, "/survey/"+testToken, url.Values{"level": {"2"}, "comment": {strings.Repeat("长", 20000)}}, nil)
	if res.StatusCode != http.StatusBadRequest || !strings.Contains(body, "没有提交成功") || !strings.Contains(body, "<form") {
		t.Errorf("POST with a huge body = %d\n%s\nwant 400 and the form", res.StatusCode, body)
	}
	if got := fake.ratings(); len(got) != 0 {
		t.Errorf("an oversized answer was recorded")
	}
}

func TestSurveyAnswerOrigin(t *testing.T) {
	tests := []struct {
		name    string
		headers map[string]string
		ok      bool
	}{
		{"no origin (not a browser)", nil, true},
		{"same origin", map[string]string{"Origin": "http://example.com"}, true},
		{"foreign origin", map[string]string{"Origin": "https://evil.example"}, false},
		{"foreign origin, same host name on another port", map[string]string{"Origin": "http://example.com:8080"}, false},
		{"browser says same-origin", map[string]string{"Sec-Fetch-Site": "same-origin", "Origin": "null"}, true},
		{"browser says cross-site", map[string]string{"Sec-Fetch-Site": "cross-site", "Origin": "https://evil.example"}, false},
		{"browser says same-site", map[string]string{"Sec-Fetch-Site": "same-site", "Origin": "https://other.example.com"}, false},
		// An older browser posting the page's own form under no-referrer.
		{"null origin, no fetch metadata", map[string]string{"Origin": "null"}, true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fake := newFakeSurveys()
			h := surveyPages(t, fake, nil)
			res, body := post(t, h, "/survey/"+testToken, url.Values{"level": {"2"}}, tt.headers)
			checkSurveyHeaders(t, res)
			rated := len(fake.ratings())
			if tt.ok {
				if res.StatusCode != http.StatusOK || rated != 1 {
					t.Errorf("POST = %d with %d answers recorded, want 200 and 1\n%s", res.StatusCode, rated, body)
				}
				return
			}
			if res.StatusCode != http.StatusForbidden || rated != 0 || !strings.Contains(body, "没有提交成功") {
				t.Errorf("POST = %d with %d answers recorded, want 403, none and the refusal page\n%s", res.StatusCode, rated, body)
			}
		})
	}
}

func TestSurveyFailureAnswersTheErrorPage(t *testing.T) {
	var logs strings.Builder
	fake := newFakeSurveys()
	fake.fail = errors.New("store unavailable")
	h := surveyPages(t, fake, slog.New(slog.NewTextHandler(&logs, nil)))
	for _, method := range []string{http.MethodGet, http.MethodPost} {
		var res answer
		var body string
		if method == http.MethodGet {
			res, body = get(t, h, "/survey/"+testToken)
		} else {
			res, body = post(t, h, "/survey/"+testToken, url.Values{"level": {"3"}}, nil)
		}
		if res.StatusCode != http.StatusInternalServerError || !strings.Contains(body, "页面暂时打不开") {
			t.Errorf("%s with a failing desk = %d\n%s\nwant 500 and the error page", method, res.StatusCode, body)
		}
		checkSurveyHeaders(t, res)
		if strings.Contains(body, "store unavailable") {
			t.Errorf("the error page shows the internal error")
		}
	}
	if got := strings.Count(logs.String(), "level=ERROR"); got != 2 || !strings.Contains(logs.String(), "store unavailable") {
		t.Errorf("want each failure logged once as an error, got %d:\n%s", got, logs.String())
	}
	if strings.Contains(logs.String(), testToken) || strings.Contains(logs.String(), "c2lnbmVk") {
		t.Errorf("the log holds the survey's token:\n%s", logs.String())
	}
}

func TestSurveyRefusalLogHoldsNoToken(t *testing.T) {
	var logs strings.Builder
	fake := newFakeSurveys()
	fake.fail = refused(desk.ErrWrongState, "survey_expired")
	h := surveyPages(t, fake, slog.New(slog.NewTextHandler(&logs, nil)))
	get(t, h, "/survey/"+testToken)
	post(t, h, "/survey/"+testToken, url.Values{"level": {"3"}}, map[string]string{"Origin": "https://evil.example"})
	if strings.Contains(logs.String(), "level=ERROR") || !strings.Contains(logs.String(), "survey_expired") || !strings.Contains(logs.String(), "cross_origin") {
		t.Errorf("want the refusals logged below error with their reasons:\n%s", logs.String())
	}
	if strings.Contains(logs.String(), "c2lnbmVk") {
		t.Errorf("the log holds the survey's token:\n%s", logs.String())
	}
}

func TestSurveyPageNotRegisteredWithoutSource(t *testing.T) {
	h := newPages(t, Options{Offices: testOffices})
	if res, _ := get(t, h, "/survey/"+testToken); res.StatusCode != http.StatusNotFound {
		t.Errorf("GET /survey/{token} with no source = %d, want 404", res.StatusCode)
	}
	if res, _ := post(t, h, "/survey/"+testToken, url.Values{"level": {"1"}}, nil); res.StatusCode != http.StatusNotFound {
		t.Errorf("POST /survey/{token} with no source = %d, want 404", res.StatusCode)
	}
}
