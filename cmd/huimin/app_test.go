package main

import (
	"strings"
	"testing"
	"time"

	"huimin/desk"
	"huimin/desk/calendar"
	"huimin/flows/intake"
)

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
