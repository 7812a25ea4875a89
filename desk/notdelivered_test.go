package desk

import (
	"strings"
	"testing"

	"huimin/store"
)

// TestNotDeliveredGoesUpTheChain checks issue 12 item 8 on the desk's
// side: a notice no channel delivered goes to the chief of the ticket's
// department, the chief's own to the bureau leader, the leader's to
// nobody (logged); the ticket's history records each hand-on once.
func TestNotDeliveredGoesUpTheChain(t *testing.T) {
	eachStore(t, func(t *testing.T, mk storeMaker) {
		r := newDesk(t, mk, at("2026-11-30 10:00"))
		ctx := t.Context()
		tk := r.open(t, "oCitizen", "relief", "help")
		owner := r.off[tk.Owner]
		r.note.take(owner.OpenID)
		m := Message{ID: "assign:" + tk.ID, Officer: owner.ID, Ticket: tk.ID, Text: "【新工单】" + tk.ID}
		for range 2 { // the outbox may report an outcome twice
			if err := r.desk.NotDelivered(ctx, m); err != nil {
				t.Fatal(err)
			}
		}
		got := r.note.take("oZhao")
		if len(got) != 1 || !strings.Contains(got[0], "通知未送达") || !strings.Contains(got[0], owner.Name) || !strings.Contains(got[0], tk.ID) {
			t.Fatalf("the chief was told %q, want the undelivered notice once", got)
		}
		saved := r.ticket(t, tk.ID)
		var handed []store.TicketEvent
		for _, e := range saved.History {
			if e.Kind == EventNotDelivered {
				handed = append(handed, e)
			}
		}
		if len(handed) != 1 || handed[0].Officer != owner.ID {
			t.Fatalf("history has %+v, want one not_delivered for %s", handed, owner.ID)
		}
		if text := r.desk.History(handed[0]); !strings.Contains(text, owner.Name) || !strings.Contains(text, "赵科长") {
			t.Errorf("history reads %q, want who missed it and who was told", text)
		}
		// The chief's list shows it until the owner takes the ticket.
		if list := r.cmd(t, "zhao", "我的工单"); !strings.Contains(list, "【未送达】"+tk.ID) {
			t.Errorf("the chief's list reads %q, want %s marked 【未送达】", list, tk.ID)
		}
		if list := r.cmd(t, owner.ID, "我的工单"); strings.Contains(list, "【未送达】") {
			t.Errorf("the owner's own list reads %q, want no mark", list)
		}
		// The chief's own notice fails too: the leader.
		if err := r.desk.NotDelivered(ctx, Message{ID: "notdelivered:" + m.ID, Officer: "zhao", Ticket: tk.ID, Text: got[0]}); err != nil {
			t.Fatal(err)
		}
		if got := r.note.take("oZhou"); len(got) != 1 || !strings.Contains(got[0], "赵科长") {
			t.Fatalf("the leader was told %q, want the chief's undelivered notice", got)
		}
		// The leader's: nobody is left, nothing is sent.
		if err := r.desk.NotDelivered(ctx, Message{ID: "x", Officer: "zhou", Ticket: tk.ID, Text: "…"}); err != nil {
			t.Fatal(err)
		}
		for _, who := range []string{"oZhao", "oZhou", "oWang", "oLi"} {
			if got := r.note.take(who); len(got) != 0 {
				t.Errorf("%s was told %q after the leader's notice failed, want nothing", who, got)
			}
		}
		r.cmd(t, owner.ID, "接单 "+tk.ID)
		if list := r.cmd(t, "zhao", "我的工单"); strings.Contains(list, "【未送达】") {
			t.Errorf("after the owner accepted, the chief's list reads %q, want no mark", list)
		}
		// A notice that concerns no ticket goes to the officer's chief.
		if err := r.desk.NotDelivered(ctx, Message{ID: "y", Officer: "sun", Text: "绑定提醒"}); err != nil {
			t.Fatal(err)
		}
		if got := r.note.take("oQian"); len(got) != 1 {
			t.Errorf("孙丽's chief was told %q, want the notice", got)
		}
	})
}
