package flows_test

import (
	"strings"
	"testing"
	"time"

	"huimin/store"
)

func TestComplaintWhileTalkingToTheOfficerIsNotRelayed(t *testing.T) {
	stores(t, func(t *testing.T, newStore func(t *testing.T) backend) {
		r := newRig(t, newStore(t))
		id := r.reliefTicket(t, "oCitizen")
		if tk, _ := r.st.GetTicket(t.Context(), id); tk.Owner != "wang" {
			r.say(t, "oZhao", "转办 "+id+" 王明 请王明办理")
		}
		r.say(t, "oWang", "接单 "+id)
		r.say(t, "oWang", "回复 "+id+" 请把户口簿带来")
		r.note.take("oWang")
		r.note.take("oZhao")
		if got := r.say(t, "oCitizen", "材料明天送过去"); !strings.Contains(got, "已转给工单") {
			t.Fatalf("a plain message while talking = %q, want it relayed", got)
		}
		r.note.take("oWang")

		last := r.walk(t, "oCitizen", []exchange{
			{"王明态度太差了，我要投诉", "哪方面"},
			{"1", "姓名"},
			{"王明", "发生了什么"},
			{"让我跑了三趟还没办好", "照片"},
			{"1", "称呼"},
			{"1", "手机"},
			{"13812345679", "核对"},
			{"1", "工单号"},
		})
		if got := r.note.take("oWang"); len(got) != 0 {
			t.Errorf("the officer complained about was told %q", got)
		}
		i := strings.LastIndex(last, "MZ")
		tk, err := r.st.GetTicket(t.Context(), last[i:i+len("MZ20261130-0001")])
		if err != nil {
			t.Fatal(err)
		}
		if tk.Inquiry != "complaint" || tk.Against != "wang" || tk.Owner != "zhao" || tk.Fields["officer"] != "王明" {
			t.Errorf("complaint ticket: inquiry %s against %q owner %q fields %v", tk.Inquiry, tk.Against, tk.Owner, tk.Fields)
		}
	})
}

func TestUrgentNeedFromFreeTextAtNight(t *testing.T) {
	stores(t, func(t *testing.T, newStore func(t *testing.T) backend) {
		r := newRig(t, newStore(t))
		r.clock.Advance(14 * time.Hour) // 23:00
		got := r.say(t, "oNight", "我家里没饭吃了，怎么办")
		if !strings.Contains(got, "MZ") || !strings.Contains(got, "已立即通知") {
			t.Fatalf("urgent need answered %q; want a matter opened at once and the chief told", got)
		}
		alerts := r.note.take("oZhao")
		if len(alerts) == 0 || !strings.Contains(alerts[0], "很急") {
			t.Fatalf("chief told %q at night, want the urgent alert", alerts)
		}
		i := strings.Index(got, "MZ")
		tk, err := r.st.GetTicket(t.Context(), got[i:i+len("MZ20261130-0001")])
		if err != nil {
			t.Fatal(err)
		}
		if !tk.Urgent || tk.State != store.StateReceived || !strings.Contains(tk.Summary, "没饭吃") {
			t.Errorf("urgent ticket = urgent %v state %s summary %q", tk.Urgent, tk.State, tk.Summary)
		}
	})
}
