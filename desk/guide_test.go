package desk

import (
	"strings"
	"testing"

	"huimin/flows/intake"
	"huimin/store"
)

// intakeGuides is the flows' guides as the service gives them to the desk
// (cmd/huimin does the same over the reloading Watcher).
type intakeGuides struct{ set *intake.Set }

func (g intakeGuides) Guide(ref, line string) (string, string, bool) {
	gd, ok := g.set.FindGuide(ref, line)
	if !ok {
		return "", "", false
	}
	return gd.Title, g.set.GuideText(gd), true
}

func (g intakeGuides) GuideIndex() []GuideInfo {
	var out []GuideInfo
	for _, gd := range g.set.Guides() {
		out = append(out, GuideInfo{ID: gd.ID, Title: gd.Title})
	}
	return out
}

// TestOfficerSendsAGuide checks 指南: the ticket's citizen gets the whole
// guide (one message, not cut to a typed reply's length), the history
// records it as the officer's reply, the officer is told; without a
// ticket the guides are listed; a wrong ticket or guide is refused
// politely and nothing is sent.
func TestOfficerSendsAGuide(t *testing.T) {
	set, err := intake.Load(intake.Defaults(), "")
	if err != nil {
		t.Fatal(err)
	}
	set = set.WithOptions(intake.Options{Offices: []intake.Office{{ID: "relief", Name: "社会救助科", Lines: []string{"relief", "elderly"}, Phone: "0755-0000"}},
		Limit: func(string, string) intake.Limit { return intake.Limit{Days: 3} }})
	eachStore(t, func(t *testing.T, mk storeMaker) {
		r := newDesk(t, mk, at("2026-11-30 10:00"))
		r.desk.guides = intakeGuides{set}
		tk := r.open(t, "oCitizen", "relief", "help")
		owner := tk.Owner
		r.cmd(t, owner, "接单 "+tk.ID)
		r.note.take("oCitizen")
		before := len(r.ticket(t, tk.ID).History)

		got := r.cmd(t, owner, "指南 "+tk.ID+" 高龄津贴")
		if !strings.Contains(got, "高龄津贴申请") || !strings.Contains(got, "已记入") {
			t.Errorf("officer told %q, want the guide's title and that it is recorded", got)
		}
		msgs := r.note.take("oCitizen")
		if len(msgs) != 1 {
			t.Fatalf("citizen got %d messages %q, want the guide", len(msgs), msgs)
		}
		for _, w := range []string{tk.ID, "【办事指南】高龄津贴申请", "所需材料：\n1. ", "办结时限：受理后3个工作日内办结", "办理部门：社会救助科\n电话：0755-0000"} {
			if !strings.Contains(msgs[0], w) {
				t.Errorf("citizen's message lacks %q:\n%s", w, msgs[0])
			}
		}
		if n := len(msgs[0]); n > 2048 {
			t.Errorf("citizen's message is %d bytes, over WeChat's 2048", n)
		}
		after := r.ticket(t, tk.ID)
		if len(after.History) != before+1 {
			t.Fatalf("history grew by %d events, want 1", len(after.History)-before)
		}
		h := after.History[len(after.History)-1]
		if h.Kind != eventOf[OpReply] || h.Actor != owner || !strings.Contains(h.Detail, "【办事指南】高龄津贴申请") || !strings.Contains(h.Detail, "办理部门") {
			t.Errorf("history event %+v, want the owner's reply with the whole guide", h)
		}

		// With no guide named, the guide of the ticket's line.
		r.cmd(t, owner, "指南 "+tk.ID)
		if msgs := r.note.take("oCitizen"); len(msgs) != 1 || !strings.Contains(msgs[0], "【办事指南】最低生活保障（低保）申请") {
			t.Errorf("citizen got %q, want the relief line's first guide", msgs)
		}

		// With no guide named, the guide of the matter the citizen chose.
		matter, err := r.desk.Open(t.Context(), OpenRequest{Citizen: "oMatter", Line: "relief", Inquiry: "help", Summary: "事项：临时救助",
			Fields: map[string]string{"matter": "临时救助"}, Labels: map[string]string{"matter": "事项"}, Phone: "13812345678"})
		if err != nil {
			t.Fatal(err)
		}
		r.cmd(t, matter.Owner, "接单 "+matter.ID)
		r.note.take("oMatter")
		r.cmd(t, matter.Owner, "指南 "+matter.ID)
		if msgs := r.note.take("oMatter"); len(msgs) != 1 || !strings.Contains(msgs[0], "【办事指南】临时救助申请") {
			t.Errorf("citizen got %q, want the guide of the matter chosen (临时救助)", msgs)
		}

		// No ticket: the list to choose from.
		list := r.cmd(t, owner, "指南")
		for _, w := range []string{"· 最低生活保障（低保）申请（dibao）", "· 结婚登记（jiehun）", "指南 工单号 名称"} {
			if !strings.Contains(list, w) {
				t.Errorf("guide list %q lacks %q", list, w)
			}
		}

		// Refusals change nothing and send nothing.
		n := len(r.ticket(t, tk.ID).History)
		for _, tt := range []struct{ who, say, want string }{
			{owner, "指南 MZ20991231-0001 高龄津贴", "没有找到工单MZ20991231-0001"},
			{"sun", "指南 " + tk.ID + " 高龄津贴", "无权"},
			{owner, "指南 " + tk.ID + " 彩票", "没有找到“彩票”的办事指南"},
		} {
			if got := r.cmd(t, tt.who, tt.say); !strings.Contains(got, tt.want) {
				t.Errorf("%s: %q → %q, want %q", tt.who, tt.say, got, tt.want)
			}
		}
		if msgs := r.note.take("oCitizen"); len(msgs) != 0 {
			t.Errorf("citizen got %q after refused commands, want nothing", msgs)
		}
		if got := r.ticket(t, tk.ID); len(got.History) != n {
			t.Errorf("refused commands added %d history events", len(got.History)-n)
		}

		// Like 回复: not before the ticket is accepted, nor after it is finished.
		fresh := r.open(t, "oOther", "relief", "help")
		if got := r.cmd(t, fresh.Owner, "指南 "+fresh.ID); !strings.Contains(got, "先接单") {
			t.Errorf("guide before 接单: %q, want 请先接单", got)
		}
		if got := r.ticket(t, fresh.ID); got.State != store.StateAssigned {
			t.Errorf("ticket state %s after a refused guide", got.State)
		}
	})
}
