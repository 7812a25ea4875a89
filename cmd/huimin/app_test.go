package main

import (
	"log/slog"
	"slices"
	"strings"
	"testing"
	"time"

	"huimin/config"
	"huimin/desk"
	"huimin/desk/calendar"
	"huimin/flows/intake"
	"huimin/web"
)

// TestOfficeDirectory checks what the offices page is fed: the configured
// departments with their lines named as the flows title them, the general
// window that takes the lines no department has, then the agencies, with
// only the contact fields that are configured.
func TestOfficeDirectory(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	watcher, err := intake.NewWatcher(intake.Defaults(), "", log)
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, f := range watcher.Current().Lines() {
		if f.Line != "" {
			lines = append(lines, f.Line)
		}
	}
	c := config.Desk{
		Departments: []config.Department{{ID: "relief", Name: "社会救助科", Lines: []string{"relief", "nosuchline"},
			Contact: config.Contact{Address: "测试路1号", Phone: "010-0000 0001"}}},
		Agencies: []config.Agency{{ID: "va", Name: "退役军人事务局", Lines: []string{"veterans"}, Contact: config.Contact{Hours: "工作日"}}},
	}
	dir, _, err := deskConfig(c, lines, log)
	if err != nil {
		t.Fatal(err)
	}
	got, err := officeDirectory{dir, watcher}.Offices(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	titles := lineTitles(watcher.Current())
	if len(got) != 3 {
		t.Fatalf("Offices() = %+v, want the department, the general window and the agency", got)
	}
	want := web.Office{Name: "社会救助科", Lines: []string{titles["relief"]}, Address: "测试路1号", Phone: "010-0000 0001"}
	if !slices.Equal(got[0].Lines, want.Lines) || got[0].Name != want.Name || got[0].Address != want.Address ||
		got[0].Phone != want.Phone || got[0].Hours != "" || got[0].Agency {
		t.Errorf("department = %+v, want %+v (a line without a flow left out)", got[0], want)
	}
	if titles["relief"] == "" || !slices.Contains(got[1].Lines, titles["elderly"]) || got[1].Agency {
		t.Errorf("general window = %+v, want the lines no department has, by title", got[1])
	}
	if got[2].Name != "退役军人事务局" || !got[2].Agency || got[2].Hours != "工作日" || got[2].Phone != "" ||
		!slices.Equal(got[2].Lines, []string{titles["veterans"]}) {
		t.Errorf("agency = %+v", got[2])
	}
}

// TestFlowOptionsNameTheConfiguredOffices checks the wiring of the offices
// answers send citizens to: each department and outside agency with the
// contact configured, the agency named for a line it took over.
func TestFlowOptionsNameTheConfiguredOffices(t *testing.T) {
	cal, err := calendar.New(calendar.Options{Location: time.UTC})
	if err != nil {
		t.Fatal(err)
	}
	dir := desk.Directory{
		Departments: []desk.Department{{ID: "affairs", Name: "优抚安置科", Lines: []string{"veterans", "military"},
			Contact: desk.Contact{Address: "人民路1号", Phone: "0000-1111111"}}},
		Agencies: []desk.Agency{{ID: "veterans-bureau", Name: "区退役军人事务局", Lines: []string{"veterans"},
			Contact: desk.Contact{Hours: "工作日上班时间"}}},
	}
	set, err := intake.Load(intake.Defaults(), "")
	if err != nil {
		t.Fatal(err)
	}
	s := set.WithOptions(flowOptions(dir, cal, time.UTC, nil))
	for _, tt := range []struct{ ask, want string }{
		{"优待证在哪里办", "办理部门：区退役军人事务局\n办公时间：工作日上班时间"},
		{"军属有哪些优待", "办理部门：优抚安置科\n地址：人民路1号\n电话：0000-1111111"},
	} {
		var said []string
		for _, p := range s.Idle(intake.Input{Text: tt.ask}).Prompts {
			said = append(said, p.String())
		}
		if got := strings.Join(said, "\n"); !strings.Contains(got, tt.want) {
			t.Errorf("%s: said %q, want %q", tt.ask, got, tt.want)
		}
	}
}

// TestVisitBatchesFitTheLease: whatever the pacing, the visits an
// instance holds at once are worked through before their lease runs out
// (else another instance would claim them again).
func TestVisitBatchesFitTheLease(t *testing.T) {
	for _, perSecond := range []int{1, 2, 10, 50, 200} {
		q := visitQueue(5*time.Second, 4, perSecond)
		held := q.Batch * q.Batches
		if work := time.Duration(held) * time.Second / time.Duration(perSecond); work >= q.Lease {
			t.Errorf("at %d/s an instance holds %d visits, %v of work, past the %v lease", perSecond, held, work, q.Lease)
		}
	}
}

// TestGuidePagesAndBook checks the wiring of the guides: the page and the
// officers' 指南 get the flows' guides with the office configured for
// their line and the time limit desk.deadlines gives (per inquiry type),
// never a figure written into the guides.
func TestGuidePagesAndBook(t *testing.T) {
	log := slog.New(slog.DiscardHandler)
	cal, err := calendar.New(calendar.Options{Location: time.UTC})
	if err != nil {
		t.Fatal(err)
	}
	c := config.Desk{
		Departments: []config.Department{{ID: "relief", Name: "社会救助科", Lines: []string{"relief"}, Contact: config.Contact{Phone: "010-0000 0001"}}},
		Deadlines:   map[string]map[string]string{"*": {"*": "7d", "consult": "3d", "help": "3d"}, "relief": {"help": "5d", "consult": "2h"}},
	}
	set, err := intake.Load(intake.Defaults(), "")
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, f := range set.Lines() {
		lines = append(lines, f.Line)
	}
	dir, rules, err := deskConfig(c, lines, log)
	if err != nil {
		t.Fatal(err)
	}
	d, err := desk.New(nil, cal, nil, dir, rules, desk.Options{Log: log})
	if err != nil {
		t.Fatal(err)
	}
	watcher, err := intake.Watch(intake.Defaults(), "", log, flowOptions(dir, cal, time.UTC, d))
	if err != nil {
		t.Fatal(err)
	}
	pages := guidePages{watcher, d}
	guides, err := pages.Guides(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	byID := map[string]web.Guide{}
	for _, g := range guides {
		byID[g.ID] = g
	}
	dibao, gaoling := byID["dibao"], byID["gaoling"]
	if dibao.LimitDays != 5 || dibao.Office == nil || dibao.Office.Name != "社会救助科" || dibao.Office.Phone != "010-0000 0001" ||
		dibao.Line != lineTitles(set)["relief"] {
		t.Errorf("dibao = %+v, want relief's help limit (5d), its department and line title", dibao)
	}
	if gaoling.LimitDays != 3 || gaoling.Office == nil || gaoling.Office.Name != "综合受理窗口" {
		t.Errorf("gaoling = %+v, want the default help limit (3d) and the general window", gaoling)
	}
	limits, err := pages.Limits(t.Context())
	if err != nil {
		t.Fatal(err)
	}
	if len(limits) != 7 || limits[0].Line != lineTitles(set)["relief"] ||
		limits[0].Limits[0] != (web.TypeLimit{Type: "consult", Hours: 2}) || limits[0].Limits[1] != (web.TypeLimit{Type: "help", Days: 5}) ||
		limits[0].Limits[2] != (web.TypeLimit{Type: "complaint", Days: 7}) {
		t.Errorf("limits = %+v, want the seven lines with relief's configured limits first", limits)
	}

	book := &guideBook{flows: watcher}
	title, text, ok := book.Guide("", "relief")
	if !ok || title != "最低生活保障（低保）申请" || !strings.Contains(text, "办结时限：受理后5个工作日内办结") || !strings.Contains(text, "电话：010-0000 0001") {
		t.Errorf("Guide(relief) = %q, %q, %v; want the relief guide with its limit and contact", title, text, ok)
	}
	if idx := book.GuideIndex(); len(idx) != len(guides) || idx[0].ID != "dibao" {
		t.Errorf("GuideIndex() = %+v, want every guide in order", idx)
	}
}
