package web

import (
	"encoding/json"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"huimin/results"
	"huimin/store"
	"huimin/store/boltstore"
)

// nationalLevels names the five levels as the national scale does.
type nationalLevels struct{}

func (nationalLevels) LevelName(l int) string {
	return [...]string{"", "非常满意", "满意", "基本满意", "不满意", "非常不满意"}[l]
}

var cst = time.FixedZone("CST", 8*3600)

// piiTicket is a ticket full of what must never be published: the
// citizen's name, phone and ID number, openid, words and comments.
func piiTicket(i int, created time.Time, level int) store.Ticket {
	phone := fmt.Sprintf("1380013%04d", i)
	return store.Ticket{
		ID: fmt.Sprintf("MZ20261105-%04d", i), CitizenOpenID: fmt.Sprintf("oPII%024d", i),
		Line: "dibao", Inquiry: "help", Department: "relief", Window: "w-chengguan",
		Summary: "我叫张秘密，电话" + phone + "，身份证110101199001011234",
		Fields:  map[string]string{"town": "城关街道幸福小区3号楼", "name": "张秘密"},
		Name:    "张秘密", Phone: phone, IDNumber: "110101199001011234",
		Transcript: []store.Utterance{{At: created, From: "citizen", Text: "住址：幸福小区3号楼，电话" + phone}},
		State:      store.StateResolved, Owner: "o-li", FirstResponsible: "o-li",
		CreatedAt: created, AcceptedAt: created.Add(time.Hour), ResolvedAt: created.Add(48 * time.Hour), Deadline: created.Add(72 * time.Hour),
		Resolution: "已联系张秘密（" + phone + "）办理",
		Surveys:    []store.Survey{{Round: 1, Officer: "o-li", Level: level, Via: "chat", Comment: "李科长很好，我电话" + phone}},
		History:    []store.TicketEvent{{At: created, Actor: "citizen", Kind: "open", Detail: "张秘密 " + phone}},
	}
}

// publishedFrom writes tickets to a real store and publishes them as the
// service does.
func publishedFrom(t *testing.T, now time.Time, showOfficers bool, tickets ...store.Ticket) *results.Publisher {
	t.Helper()
	st, err := boltstore.New(filepath.Join(t.TempDir(), "h.db"), boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	for _, tk := range tickets {
		if err := st.CreateTicket(t.Context(), tk); err != nil {
			t.Fatal(err)
		}
	}
	opts := results.PublishOptions{
		Windows:    []results.Window{{ID: "w-chengguan", Name: "城关街道民政办"}, {ID: "relief", Name: "社会救助科"}},
		Months:     12,
		MinAnswers: 10,
		Counter:    results.Counter{Location: cst},
		Now:        func() time.Time { return now },
	}
	if showOfficers {
		opts.Officers = func(id string) (string, bool) { return map[string]string{"o-li": "李科长"}[id], id == "o-li" }
	}
	return results.NewPublisher(st, opts)
}

func TestResultsPageShowsFiguresAndChart(t *testing.T) {
	now := time.Date(2026, 11, 20, 10, 0, 0, 0, cst)
	var ts []store.Ticket
	for i := range 12 { // 12 ratings in November: 10 satisfied, 2 bad
		level := 2
		if i >= 10 {
			level = 5
		}
		ts = append(ts, piiTicket(i, time.Date(2026, 11, 3, 9, 0, 0, 0, cst).Add(time.Duration(i)*time.Hour), level))
	}
	for i := range 3 { // 3 in October: too few for a rate
		ts = append(ts, piiTicket(100+i, time.Date(2026, 10, 8, 9, 0, 0, 0, cst), 1))
	}
	h := newPages(t, Options{Results: publishedFrom(t, now, false, ts...), Levels: nationalLevels{}, Location: cst})

	res, body := get(t, h, "/results")
	if res.StatusCode != http.StatusOK {
		t.Fatalf("GET /results = %d", res.StatusCode)
	}
	checkSecurityHeaders(t, res)
	for _, want := range []string{"城关街道民政办", "2026年11月", "83.3%", "<svg", "role=\"img\"", "样本不足", "统计口径", "非常不满意"} {
		if !strings.Contains(body, want) {
			t.Errorf("page lacks %q", want)
		}
	}
	// The chart has a bar per month: October's is the short grey one.
	if n := strings.Count(body, "<rect "); n != 24 {
		t.Errorf("%d bars, want 12 per window", n)
	}
	if !strings.Contains(body, "2026年10月：样本不足（3条评价）") {
		t.Error("October's bar does not say its sample is too small")
	}
	if strings.Contains(body, "李科长") {
		t.Error("an officer is named though results.show_officers is off")
	}

	res, body = get(t, h, "/results?month=2026-10")
	if res.StatusCode != http.StatusOK || !strings.Contains(body, "样本不足") || strings.Contains(body, "100.0%") {
		t.Errorf("October: %d, a rate from 3 answers shown", res.StatusCode)
	}
}

func TestResultsNamesOfficersOnlyWhenConfigured(t *testing.T) {
	now := time.Date(2026, 11, 20, 10, 0, 0, 0, cst)
	h := newPages(t, Options{Results: publishedFrom(t, now, true, piiTicket(1, now.Add(-time.Hour), 1)), Levels: nationalLevels{}, Location: cst})
	_, body := get(t, h, "/results")
	if !strings.Contains(body, "李科长") {
		t.Error("results.show_officers is on but the officer is not named")
	}
}

// TestPublishedResultsHoldNoPersonalData sends tickets full of phone
// numbers, ID numbers, names, openids and free text through the store and
// the publisher, and searches the page and the JSON for any of it.
func TestPublishedResultsHoldNoPersonalData(t *testing.T) {
	now := time.Date(2026, 11, 20, 10, 0, 0, 0, cst)
	var ts []store.Ticket
	for i := range 20 {
		ts = append(ts, piiTicket(i, now.Add(-time.Duration(i+1)*time.Hour), 1+i%5))
	}
	h := newPages(t, Options{Results: publishedFrom(t, now, false, ts...), Levels: nationalLevels{}, Location: cst})
	for _, target := range []string{"/results", "/results.json", "/results?month=2026-11", "/results.json?month=2026-10"} {
		res, body := get(t, h, target)
		if res.StatusCode != http.StatusOK {
			t.Fatalf("GET %s = %d", target, res.StatusCode)
		}
		for _, secret := range []string{"张秘密", "1380013", "138****", "110101", "oPII", "幸福小区", "城关街道幸福", "李科长", "o-li", "MZ2026", "电话", "已联系"} {
			if strings.Contains(body, secret) {
				t.Errorf("%s contains %q", target, secret)
			}
		}
	}
}

func TestResultsJSON(t *testing.T) {
	now := time.Date(2026, 11, 20, 10, 0, 0, 0, cst)
	var ts []store.Ticket
	for i := range 10 {
		ts = append(ts, piiTicket(i, now.Add(-time.Duration(i+1)*time.Hour), 1+i%5))
	}
	h := newPages(t, Options{Results: publishedFrom(t, now, false, ts...), Levels: nationalLevels{}, Location: cst})
	res, body := get(t, h, "/results.json")
	if res.StatusCode != http.StatusOK || !strings.HasPrefix(res.Header.Get("Content-Type"), "application/json") {
		t.Fatalf("GET /results.json = %d %s", res.StatusCode, res.Header.Get("Content-Type"))
	}
	var got struct {
		Month   string `json:"month"`
		Windows []struct {
			ID           string   `json:"id"`
			Received     int      `json:"received"`
			Rated        int      `json:"rated"`
			Ratings      [5]int   `json:"ratings"`
			Satisfaction *float64 `json:"satisfaction_rate"`
			Bad          int      `json:"bad"`
			History      []struct {
				Month string `json:"month"`
			} `json:"history"`
		} `json:"windows"`
	}
	if err := json.Unmarshal([]byte(body), &got); err != nil {
		t.Fatal(err)
	}
	if got.Month != "2026-11" || len(got.Windows) != 2 {
		t.Fatalf("month %s, %d windows", got.Month, len(got.Windows))
	}
	w := got.Windows[0]
	if w.ID != "w-chengguan" || w.Received != 10 || w.Rated != 10 || w.Ratings != [5]int{2, 2, 2, 2, 2} || w.Bad != 4 {
		t.Errorf("window = %+v", w)
	}
	if w.Satisfaction == nil || *w.Satisfaction != 0.6 {
		t.Errorf("satisfaction_rate = %v, want 0.6", w.Satisfaction)
	}
	if len(w.History) != 12 || w.History[11].Month != "2026-11" {
		t.Errorf("history = %+v", w.History)
	}
	if got.Windows[1].Satisfaction != nil {
		t.Error("a window without ratings has a rate")
	}
}

// TestResultsRefuseAMonthNotPublished: a malformed or unpublished month
// gets 400 and the months there are, not an empty page that looks like
// nothing happened.
func TestResultsRefuseAMonthNotPublished(t *testing.T) {
	now := time.Date(2026, 11, 20, 10, 0, 0, 0, cst)
	h := newPages(t, Options{Results: publishedFrom(t, now, false), Levels: nationalLevels{}, Location: cst})
	for _, month := range []string{"2025-01", "2026-12", "nonsense", "2026-11%3Cscript%3E"} {
		res, body := get(t, h, "/results?month="+month)
		if res.StatusCode != http.StatusBadRequest || !strings.Contains(body, "没有这个月份的结果") || !strings.Contains(body, "?month=2026-11") {
			t.Errorf("month %s: %d", month, res.StatusCode)
		}
		if strings.Contains(body, "<script") {
			t.Errorf("month %s echoed", month)
		}
		res, body = get(t, h, "/results.json?month="+month)
		if res.StatusCode != http.StatusBadRequest || !strings.Contains(body, `"months"`) {
			t.Errorf("json month %s: %d %s", month, res.StatusCode, body)
		}
	}
}

func TestResultsNeedLevelNames(t *testing.T) {
	if _, err := New(Options{Results: publishedFrom(t, time.Now(), false)}); err == nil {
		t.Error("New accepted results without the levels' names")
	}
}
