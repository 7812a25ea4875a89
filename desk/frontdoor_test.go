package desk

import (
	"errors"
	"slices"
	"strings"
	"testing"

	"huimin/results"
	"huimin/store"
)

// withSupervision is the test directory with a supervision office (监督室):
// its chief wu and a member zheng.
func withSupervision() Directory {
	dir := testDirectory
	dir.Departments = append(slices.Clone(dir.Departments), Department{ID: "supervision", Name: "监督室", Supervisor: "wu"})
	dir.Officers = append(slices.Clone(dir.Officers),
		Officer{ID: "wu", Name: "吴主任", Department: "supervision", OpenID: "oWu", Supervisor: true},
		Officer{ID: "zheng", Name: "郑洁", Department: "supervision", OpenID: "oZheng"})
	return dir
}

func supervised(r *Rules) { r.Supervision = "supervision" }

func (r *deskRig) openMatter(t *testing.T, req OpenRequest) store.Ticket {
	t.Helper()
	if req.Summary == "" {
		req.Summary = "情况：" + req.Fields["detail"]
	}
	tk, err := r.desk.Open(t.Context(), req)
	if err != nil {
		t.Fatalf("Open(%s): %v", req.Inquiry, err)
	}
	return tk
}

func mentions(msgs []string, s string) bool {
	return slices.ContainsFunc(msgs, func(m string) bool { return strings.Contains(m, s) })
}

func TestComplaintGoesToTheChiefNeverToWhomItIsAbout(t *testing.T) {
	eachStore(t, func(t *testing.T, mk storeMaker) {
		r := newDesk(t, mk, at("2026-11-30 10:00")) // a Monday, in working hours
		tk := r.openMatter(t, OpenRequest{Citizen: "oC1", Line: "relief", Inquiry: "complaint", Phone: "13812345678",
			Fields: map[string]string{"officer": "窗口的王明同志", "detail": "让我跑了三趟"}, Labels: map[string]string{"officer": "被投诉人", "detail": "情况"}})
		if tk.Owner != "zhao" || tk.Against != "wang" || tk.Department != "relief" {
			t.Fatalf("complaint: owner %q against %q dept %q; want the chief zhao, against wang, in relief", tk.Owner, tk.Against, tk.Department)
		}
		if got := r.note.take("oWang"); len(got) != 0 {
			t.Errorf("the officer complained about was told: %q", got)
		}
		if !mentions(r.note.take("oZhao"), tk.ID) {
			t.Errorf("the chief got no assignment of %s", tk.ID)
		}
		// The officer complained about can neither read nor be given it.
		if _, err := r.desk.Ticket(t.Context(), r.off["wang"], tk.ID); !errors.Is(err, ErrNotYours) {
			t.Errorf("wang reads the complaint about him: %v", err)
		}
		if reply := r.cmd(t, "wang", "查看 "+tk.ID); strings.Contains(reply, "让我跑了三趟") {
			t.Errorf("wang's 查看 shows the complaint: %q", reply)
		}
		if _, err := r.desk.Transfer(t.Context(), r.off["zhao"], TransferRequest{Ticket: tk.ID, To: "wang", Reason: "他熟悉情况"}); !errors.Is(err, ErrInvalid) {
			t.Errorf("transfer to the officer complained about = %v, want refused", err)
		}
		if got := r.ticket(t, tk.ID); got.Owner != "zhao" {
			t.Errorf("after the refused transfer the owner is %q", got.Owner)
		}

		// A complaint about the chief goes over the chief's head.
		tk = r.openMatter(t, OpenRequest{Citizen: "oC2", Line: "relief", Inquiry: "complaint", Phone: "13812345679",
			Fields: map[string]string{"officer": "赵科长", "detail": "科长不给办"}})
		if tk.Owner != "zhou" || tk.Against != "zhao" {
			t.Errorf("complaint about the chief: owner %q against %q; want the leader zhou", tk.Owner, tk.Against)
		}
		if _, err := r.desk.Ticket(t.Context(), r.off["zhao"], tk.ID); !errors.Is(err, ErrNotYours) {
			t.Errorf("the chief reads the complaint about him: %v", err)
		}
	})
}

func TestComplaintsGoToTheSupervisionOffice(t *testing.T) {
	eachStore(t, func(t *testing.T, mk storeMaker) {
		r := newDeskWith(t, mk, at("2026-11-30 10:00"), withSupervision(), supervised)
		tk := r.openMatter(t, OpenRequest{Citizen: "oC1", Line: "relief", Inquiry: "complaint", Phone: "13812345678",
			Fields: map[string]string{"detail": "窗口推诿"}})
		if tk.Department != "supervision" || tk.Owner != "wu" {
			t.Errorf("complaint: dept %q owner %q; want the supervision office's chief", tk.Department, tk.Owner)
		}
		if tk.Window != "relief" {
			t.Errorf("complaint counts under window %q, want the window it concerns (relief)", tk.Window)
		}
		if ack := r.desk.Acknowledgement(tk); !strings.Contains(ack, "监督室") {
			t.Errorf("acknowledgement %q does not name the supervision office", ack)
		}
	})
}

func TestReportKeepsTheReporterConfidential(t *testing.T) {
	eachStore(t, func(t *testing.T, mk storeMaker) {
		r := newDeskWith(t, mk, at("2026-11-30 10:00"), withSupervision(), supervised)
		tk := r.openMatter(t, OpenRequest{Citizen: "oReporter", Line: "relief", Inquiry: "report", Name: "张三", Phone: "13812345678",
			Fields: map[string]string{"detail": "某某去世多年还在领低保"}, Labels: map[string]string{"detail": "举报内容"}})
		if !tk.Confidential || tk.Department != "supervision" || tk.Owner != "wu" {
			t.Fatalf("report: confidential %v dept %q owner %q", tk.Confidential, tk.Department, tk.Owner)
		}
		if got := r.note.take("oWu"); mentions(got, "张三") || mentions(got, "5678") || !mentions(got, "举报人信息已保密") {
			t.Errorf("the assignment names the reporter: %q", got)
		}
		// The office hands it to the relief section to look into.
		r.cmd(t, "wu", "接单 "+tk.ID)
		r.cmd(t, "wu", "转办 "+tk.ID+" relief 请核查")
		tk = r.ticket(t, tk.ID)
		handler := tk.Owner
		if handler == "" || r.off[handler].Department != "relief" {
			t.Fatalf("after the transfer the owner is %q", handler)
		}
		msgs := r.note.take(r.off[handler].OpenID)
		if !mentions(msgs, tk.ID) || mentions(msgs, "张三") || mentions(msgs, "5678") {
			t.Errorf("the handler's assignment = %q; want the ticket without the reporter", msgs)
		}
		for _, who := range []string{handler, "zhao"} {
			view := r.cmd(t, who, "查看 "+tk.ID)
			if strings.Contains(view, "张三") || strings.Contains(view, "5678") || !strings.Contains(view, "举报人信息已保密") {
				t.Errorf("%s's 查看 = %q; want the reporter hidden", who, view)
			}
			if reply := r.cmd(t, who, "电话 "+tk.ID); strings.Contains(reply, "13812345678") {
				t.Errorf("%s unmasked the reporter's phone: %q", who, reply)
			}
			if dv := r.desk.Describe(r.off[who], tk); dv.Phone != "" || strings.Contains(dv.Name, "张三") || !dv.Confidential {
				t.Errorf("%s's page shows %+v", who, dv)
			}
		}
		// The supervision office may look, and the look is recorded.
		if reply := r.cmd(t, "zheng", "电话 "+tk.ID+" 核实举报线索"); !strings.Contains(reply, "13812345678") || !strings.Contains(reply, "张三") {
			t.Errorf("the supervision office's 电话 = %q; want the reporter", reply)
		}
		tk = r.ticket(t, tk.ID)
		last := tk.History[len(tk.History)-1]
		if last.Kind != EventPhoneRevealed || last.Actor != "zheng" || last.Detail != "核实举报线索" {
			t.Errorf("the look is recorded as %+v", last)
		}
		if n := slices.IndexFunc(tk.History, func(e store.TicketEvent) bool { return e.Kind == EventPhoneRevealed && e.Actor != "zheng" }); n >= 0 {
			t.Errorf("a refused look was recorded: %+v", tk.History[n])
		}
	})
}

func TestReportWithoutSupervisionOfficeIsKnownToTheLeaderOnly(t *testing.T) {
	eachStore(t, func(t *testing.T, mk storeMaker) {
		r := newDesk(t, mk, at("2026-11-30 10:00"))
		tk := r.openMatter(t, OpenRequest{Citizen: "oReporter", Line: "relief", Inquiry: "report", Name: "张三", Phone: "13812345678",
			Fields: map[string]string{"detail": "有人冒领"}})
		if tk.Owner != "zhao" {
			t.Errorf("report without a supervision office goes to %q, want the chief zhao", tk.Owner)
		}
		if reply := r.cmd(t, "zhao", "电话 "+tk.ID); strings.Contains(reply, "13812345678") {
			t.Errorf("the chief unmasked the reporter: %q", reply)
		}
		if reply := r.cmd(t, "zhou", "电话 "+tk.ID+" 督办"); !strings.Contains(reply, "13812345678") {
			t.Errorf("the leader's 电话 = %q; want the number", reply)
		}
	})
}

func TestPraiseIsRecordedForTheOfficerAndCounted(t *testing.T) {
	eachStore(t, func(t *testing.T, mk storeMaker) {
		r := newDesk(t, mk, at("2026-11-30 10:00"))
		tk := r.openMatter(t, OpenRequest{Citizen: "oFan", Line: "community", Inquiry: "praise", Source: "msg-1",
			Fields: map[string]string{"officer": "王明同志", "detail": "耐心帮我整理材料"}, Labels: map[string]string{"officer": "表扬对象", "detail": "表扬内容"}})
		if tk.State != store.StateClosed || tk.Owner != "wang" || tk.Department != "relief" || !tk.Deadline.IsZero() {
			t.Fatalf("praise: state %s owner %q dept %q deadline %v; want closed for wang in relief, no deadline", tk.State, tk.Owner, tk.Department, tk.Deadline)
		}
		if len(tk.History) != 1 || tk.History[0].Kind != EventPraised {
			t.Errorf("history = %+v, want one praised event", tk.History)
		}
		if ack := r.desk.Acknowledgement(tk); !strings.Contains(ack, "表扬") || !strings.Contains(ack, "王明") || strings.Contains(ack, "时限") {
			t.Errorf("acknowledgement = %q", ack)
		}
		if !mentions(r.note.take("oWang"), "耐心帮我整理材料") || !mentions(r.note.take("oZhao"), "表扬") {
			t.Error("the officer or their chief was not told of the praise")
		}
		// The same message again files nothing twice and tells nobody again.
		again := r.openMatter(t, OpenRequest{Citizen: "oFan", Line: "community", Inquiry: "praise", Source: "msg-1",
			Fields: map[string]string{"officer": "王明同志", "detail": "耐心帮我整理材料"}})
		if again.ID != tk.ID || len(r.note.take("oWang")) != 0 {
			t.Errorf("a redelivered praise made %s (first %s) or told wang again", again.ID, tk.ID)
		}
		// Nothing is scheduled: no reminder, no return visit.
		r.clock.Set(at("2026-12-10 10:00"))
		if err := r.sweep(t.Context()); err != nil {
			t.Fatal(err)
		}
		if got := r.ticket(t, tk.ID); got.State != store.StateClosed || len(got.History) != 1 {
			t.Errorf("after the timers the praise is %s with %d events", got.State, len(got.History))
		}
		tabs, err := results.Count(t.Context(), r.st, at("2026-11-01 00:00"), at("2026-12-31 00:00"),
			results.Counter{By: results.ByOfficer, Location: shanghai, Now: r.clock.Now()})
		if err != nil {
			t.Fatal(err)
		}
		if f := tabs[0].Rows()["wang"]; f.Praise != 1 || f.Received != 0 {
			t.Errorf("wang's figures = %+v, want 1 praise and no matter received", f)
		}
	})
}

func TestUrgentNeedAtNightGivesHelpLinesAndTellsTheChief(t *testing.T) {
	eachStore(t, func(t *testing.T, mk storeMaker) {
		r := newDeskWith(t, mk, at("2026-12-05 02:30"), testDirectory, func(r *Rules) { // a Saturday night
			r.HelpLines = []HelpLine{{Name: "区救助管理站", Phone: "0755-1234"}, {Name: "报警", Phone: "110"}}
		})
		urgent := OpenRequest{Citizen: "oHungry", Line: "relief", Inquiry: "help", Urgent: true, Summary: "紧急求助：家里没饭吃了",
			Fields: map[string]string{"detail": "家里没饭吃了"}}
		tk := r.openMatter(t, urgent)
		ack := r.desk.Acknowledgement(tk)
		for _, want := range []string{"区救助管理站：0755-1234", "报警：110", "已立即通知"} {
			if !strings.Contains(ack, want) {
				t.Errorf("acknowledgement %q lacks %q", ack, want)
			}
		}
		if !mentions(r.note.take("oZhao"), tk.ID) {
			t.Error("the chief was not told of the urgent matter at night")
		}
		// A chief off duty: the leader on duty is told instead.
		if _, err := r.desk.SetDuty(t.Context(), r.off["zhao"], false); err != nil {
			t.Fatal(err)
		}
		urgent.Citizen = "oCold"
		tk = r.openMatter(t, urgent)
		if got := r.note.take("oZhao"); mentions(got, tk.ID) {
			t.Errorf("the chief off duty was told: %q", got)
		}
		if !mentions(r.note.take("oZhou"), tk.ID) {
			t.Error("the leader on duty was not told while the chief is off duty")
		}
		// A matter that is not urgent gives no help numbers.
		plain := r.open(t, "oPlain", "relief", "help")
		if ack := r.desk.Acknowledgement(plain); strings.Contains(ack, "110") {
			t.Errorf("a plain acknowledgement lists help lines: %q", ack)
		}
	})
}
