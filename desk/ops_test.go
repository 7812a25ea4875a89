package desk

import (
	"errors"
	"fmt"
	"slices"
	"strings"
	"testing"
	"time"

	"huimin/store"
)

// allStates is every state a ticket can be in.
var allStates = []store.TicketState{store.StateReceived, store.StateAssigned, store.StateInProgress, store.StateWaiting,
	store.StateResolved, store.StateReopened, store.StateClosed, store.StateTransferredOut}

func TestEveryStateIsReachable(t *testing.T) {
	reached := map[store.TicketState]bool{next(OpOpen, ""): true}
	for changed := true; changed; {
		changed = false
		for op := range Transitions {
			for s := range reached {
				if !allowed(op, s) {
					continue
				}
				if n := next(op, s); !reached[n] {
					reached[n], changed = true, true
				}
			}
		}
	}
	for _, s := range allStates {
		if !reached[s] {
			t.Errorf("state %s cannot be reached from received", s)
		}
	}
	for op := range Transitions {
		if _, ok := eventOf[op]; !ok && op != OpOpen {
			t.Errorf("operation %s records no history kind", op)
		}
	}
}

// toState brings a new ticket to a state through the operations.
func toState(t *testing.T, r *deskRig, s store.TicketState) store.Ticket {
	t.Helper()
	tk := r.open(t, "oCitizen", "relief", "help")
	ctx, o := t.Context(), r.off[tk.Owner]
	do := func(op func() (store.Ticket, error)) {
		t.Helper()
		var err error
		if tk, err = op(); err != nil {
			t.Fatalf("to %s: %v", s, err)
		}
	}
	switch s {
	case store.StateAssigned:
	case store.StateInProgress:
		do(func() (store.Ticket, error) { return r.desk.Accept(ctx, o, tk.ID) })
	case store.StateWaiting:
		do(func() (store.Ticket, error) { return r.desk.Accept(ctx, o, tk.ID) })
		do(func() (store.Ticket, error) { return r.desk.AskMore(ctx, o, tk.ID, "请补充材料") })
	case store.StateResolved, store.StateClosed, store.StateReopened:
		do(func() (store.Ticket, error) { return r.desk.Accept(ctx, o, tk.ID) })
		do(func() (store.Ticket, error) { return r.desk.Resolve(ctx, o, tk.ID, "已办理") })
		if s == store.StateClosed {
			do(func() (store.Ticket, error) { return r.desk.Close(ctx, r.off["zhao"], tk.ID) })
		}
		if s == store.StateReopened {
			do(func() (store.Ticket, error) { return r.desk.Reopen(ctx, r.off["zhao"], tk.ID, "群众不满意") })
		}
	case store.StateTransferredOut:
		do(func() (store.Ticket, error) {
			return r.desk.Transfer(ctx, o, TransferRequest{Ticket: tk.ID, To: "退役军人事务局", Reason: "属于退役军人事务"})
		})
	}
	if tk.State != s {
		t.Fatalf("brought to %s, want %s", tk.State, s)
	}
	return tk
}

// TestOperationsFollowTheTable runs every officer operation from every
// state, on both stores: it succeeds exactly where the table allows it,
// leaves the state the table names, appends one history event, and a
// refusal changes nothing.
func TestOperationsFollowTheTable(t *testing.T) {
	ops := map[Op]func(r *deskRig, tk store.Ticket) (store.Ticket, error){
		OpAccept: func(r *deskRig, tk store.Ticket) (store.Ticket, error) {
			return r.desk.Accept(t.Context(), r.off["zhao"], tk.ID)
		},
		OpReply: func(r *deskRig, tk store.Ticket) (store.Ticket, error) {
			return r.desk.Reply(t.Context(), r.off["zhao"], tk.ID, "您好")
		},
		OpAskMore: func(r *deskRig, tk store.Ticket) (store.Ticket, error) {
			return r.desk.AskMore(t.Context(), r.off["zhao"], tk.ID, "请补充")
		},
		OpTransfer: func(r *deskRig, tk store.Ticket) (store.Ticket, error) {
			return r.desk.Transfer(t.Context(), r.off["zhao"], TransferRequest{Ticket: tk.ID, To: "优抚安置科", Reason: "属于优抚"})
		},
		OpTransferOut: func(r *deskRig, tk store.Ticket) (store.Ticket, error) {
			return r.desk.Transfer(t.Context(), r.off["zhao"], TransferRequest{Ticket: tk.ID, To: "veterans-bureau", Reason: "属于退役军人事务"})
		},
		OpResolve: func(r *deskRig, tk store.Ticket) (store.Ticket, error) {
			return r.desk.Resolve(t.Context(), r.off["zhao"], tk.ID, "已办理")
		},
		OpReopen: func(r *deskRig, tk store.Ticket) (store.Ticket, error) {
			return r.desk.Reopen(t.Context(), r.off["zhao"], tk.ID, "群众不满意")
		},
		OpClose: func(r *deskRig, tk store.Ticket) (store.Ticket, error) {
			return r.desk.Close(t.Context(), r.off["zhao"], tk.ID)
		},
	}
	eachStore(t, func(t *testing.T, mk storeMaker) {
		r := newDesk(t, mk, at("2026-11-30 10:00"))
		for _, from := range allStates {
			if from == store.StateReceived {
				continue // a new ticket is assigned at once in working hours
			}
			for op, run := range ops {
				t.Run(string(from)+"/"+string(op), func(t *testing.T) {
					tk := toState(t, r, from)
					got, err := run(r, tk)
					after := r.ticket(t, tk.ID)
					if !allowed(op, from) {
						if !errors.Is(err, ErrWrongState) {
							t.Fatalf("%s from %s: err %v, want ErrWrongState", op, from, err)
						}
						if after.Version != tk.Version {
							t.Errorf("a refused %s changed the ticket", op)
						}
						return
					}
					if err != nil {
						t.Fatalf("%s from %s: %v", op, from, err)
					}
					want := next(op, from)
					if op == OpTransfer {
						want = store.StateAssigned // then routed at once
					}
					if got.State != want || after.State != want {
						t.Errorf("%s from %s: state %s (stored %s), want %s", op, from, got.State, after.State, want)
					}
					if !slices.ContainsFunc(after.History[len(tk.History):], func(h store.TicketEvent) bool { return h.Kind == eventOf[op] && h.Actor == "zhao" }) {
						t.Errorf("%s from %s: history %v lacks one %s event by zhao", op, from, after.History[len(tk.History):], eventOf[op])
					}
				})
			}
		}
	})
}

func TestChiefOfASecondDepartmentActsThere(t *testing.T) {
	eachStore(t, func(t *testing.T, mk storeMaker) {
		r := newDesk(t, mk, at("2026-11-30 10:00"))
		// zhao sits in relief and is also the chief of community (defect 1).
		tk := r.open(t, "oCitizen", "community", "help")
		if got := r.cmd(t, tk.Owner, "延期 "+tk.ID+" 2 需要走访"); !strings.Contains(got, "审批") {
			r.cmd(t, tk.Owner, "接单 "+tk.ID)
			r.cmd(t, tk.Owner, "延期 "+tk.ID+" 2 需要走访")
		}
		if m := r.note.take("oZhao"); !slices.ContainsFunc(m, func(s string) bool { return strings.Contains(s, "延期申请") }) {
			t.Errorf("the chief got %q, want the extension request", m)
		}
		if got := r.cmd(t, "zhao", "同意 "+tk.ID); !strings.Contains(got, "已同意延期") {
			t.Errorf("chief of the second department approving: %q", got)
		}
		if got := r.cmd(t, "zhao", "查看 "+tk.ID); strings.Contains(got, "无权") {
			t.Errorf("chief of the second department viewing: %q", got)
		}
		if got := r.cmd(t, "zhao", "我的工单"); !strings.Contains(got, tk.ID) {
			t.Errorf("chief's list %q lacks the second department's ticket", got)
		}
	})
}

func TestRoutingOnlyToReachableOfficers(t *testing.T) {
	eachStore(t, func(t *testing.T, mk storeMaker) {
		r := newDesk(t, mk, at("2026-11-30 10:00"))
		// community's only officer, chen, has no chat account (defect 2):
		// its chief zhao gets the ticket.
		tk := r.open(t, "oCitizen", "community", "help")
		if tk.Owner != "zhao" {
			t.Errorf("ticket went to %q, want the reachable chief zhao, not unreachable chen", tk.Owner)
		}
		// After chen binds an account, chen gets the next one.
		code, err := r.desk.IssueCode(t.Context(), "chen", time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if _, err := r.desk.Bind(t.Context(), "wechat", "oChen", code); err != nil {
			t.Fatal(err)
		}
		if tk := r.open(t, "oCitizen", "community", "help"); tk.Owner != "chen" {
			t.Errorf("after binding the ticket went to %q, want chen", tk.Owner)
		}
		if got := r.desk.Unreachable(); len(got) != 1 || got[0].ID != "orphans" {
			t.Errorf("Unreachable() = %v, want the department nobody with an account serves", got)
		}
	})
}

func TestUrgentMatter(t *testing.T) {
	eachStore(t, func(t *testing.T, mk storeMaker) {
		r := newDesk(t, mk, at("2026-11-30 10:00"))
		tk, err := r.desk.Open(t.Context(), OpenRequest{Citizen: "oUrgent", Line: "relief", Inquiry: "help", Summary: "家里没饭吃了", Urgent: true})
		if err != nil {
			t.Fatal(err)
		}
		if want := at("2026-12-01 17:30"); !tk.Deadline.Equal(want) {
			t.Errorf("urgent deadline = %s, want one working day: %s", tk.Deadline, want)
		}
		if m := r.note.take("oZhao"); len(m) != 1 || !strings.Contains(m[0], "紧急") {
			t.Errorf("chief got %q, want the urgent alert at once", m)
		}
		if ack := r.desk.Acknowledgement(tk); !strings.Contains(ack, "0755-0000") || !strings.Contains(ack, "很急") {
			t.Errorf("acknowledgement %q, want the department's phone from configuration", ack)
		}
	})
}

func TestPhoneOnRequestIsRecorded(t *testing.T) {
	eachStore(t, func(t *testing.T, mk storeMaker) {
		r := newDesk(t, mk, at("2026-11-30 10:00"))
		tk := r.open(t, "oCitizen", "relief", "help")
		card := r.note.take(r.off[tk.Owner].OpenID)
		if len(card) != 1 || strings.Contains(card[0], "13812345678") || !strings.Contains(card[0], "电话 "+tk.ID) {
			t.Errorf("card %q, want the masked phone and how to see it", card)
		}
		if got := r.cmd(t, "sun", "电话 "+tk.ID); !strings.Contains(got, "无权") {
			t.Errorf("another department's officer: %q", got)
		}
		if got := r.cmd(t, tk.Owner, "电话 "+tk.ID); !strings.Contains(got, "13812345678") {
			t.Errorf("owner asking for the phone: %q", got)
		}
		h := r.ticket(t, tk.ID).History
		if last := h[len(h)-1]; last.Kind != EventPhoneRevealed || last.Actor != tk.Owner {
			t.Errorf("last history event %+v, want who saw the phone", last)
		}
	})
}

func TestTransferBeforeAcceptKeepsTheFirstOfficer(t *testing.T) {
	eachStore(t, func(t *testing.T, mk storeMaker) {
		r := newDesk(t, mk, at("2026-11-30 10:00"))
		tk := r.open(t, "oCitizen", "relief", "help")
		first := tk.Owner
		got := r.cmd(t, first, "转办 "+tk.ID+" 优抚安置科 申请人是退役军人")
		if !strings.Contains(got, "首问负责人："+r.off[first].Name) {
			t.Errorf("transfer before 接单 answered %q, want the first officer named (defect 9)", got)
		}
		r.cmd(t, "sun", "接单 "+tk.ID)
		if tk := r.ticket(t, tk.ID); tk.FirstResponsible != first {
			t.Errorf("first responsible = %q, want %q", tk.FirstResponsible, first)
		}
		r.note.take(r.off[first].OpenID)
		r.cmd(t, "sun", "办结 "+tk.ID+" 已按优抚政策办理")
		if m := r.note.take(r.off[first].OpenID); len(m) != 1 || !strings.Contains(m[0], "已按优抚政策办理") {
			t.Errorf("first officer told %q, want the outcome", m)
		}
	})
}

func TestTransferToAnOutsideAgency(t *testing.T) {
	eachStore(t, func(t *testing.T, mk storeMaker) {
		r := newDesk(t, mk, at("2026-11-30 10:00"))
		tk := r.open(t, "oCitizen", "relief", "help")
		r.note.take("oCitizen")
		got := r.cmd(t, tk.Owner, "转办 "+tk.ID+" 退役军人事务局 申请人是退役军人")
		if !strings.Contains(got, "退役军人事务局") {
			t.Errorf("officer told %q", got)
		}
		if tk := r.ticket(t, tk.ID); tk.State != store.StateTransferredOut || tk.Agency != "veterans-bureau" {
			t.Errorf("ticket %s agency %q, want transferred_out to veterans-bureau", tk.State, tk.Agency)
		}
		m := r.note.take("oCitizen")
		if len(m) != 1 || !strings.Contains(m[0], "退役军人事务局") || !strings.Contains(m[0], "0755-1111") {
			t.Errorf("citizen told %q, want where it went and how to reach them", m)
		}
	})
}

func TestOffDutyUntilTheNextWorkingDay(t *testing.T) {
	eachStore(t, func(t *testing.T, mk storeMaker) {
		r := newDesk(t, mk, at("2026-12-04 20:46")) // a Friday evening
		if got := r.cmd(t, "wang", "下班"); !strings.Contains(got, "12月7日08:30") || !strings.Contains(got, "上班") {
			t.Errorf("下班 at Friday 20:46 answered %q, want until Monday 12月7日08:30 or 上班 (defect 14)", got)
		}
	})
}

// TestBindingCodesCannotBeGuessed checks issue 12 item 5: after 5 wrong
// codes a sender is refused for an hour, the right code included; after 20
// wrong codes in all every code in play is spent; the chiefs are told.
func TestBindingCodesCannotBeGuessed(t *testing.T) {
	eachStore(t, func(t *testing.T, mk storeMaker) {
		r := newDesk(t, mk, at("2026-11-30 10:00"))
		ctx := t.Context()
		code, err := r.desk.IssueCode(ctx, "li", 24*time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		wrong := "000000"
		if wrong == code {
			wrong = "000001"
		}
		for range 5 {
			if got, _ := r.desk.Bind(ctx, "wechat", "oGuesser", wrong); !strings.Contains(got, "无效") && !strings.Contains(got, "过多") {
				t.Fatalf("wrong code answered %q", got)
			}
		}
		if got, _ := r.desk.Bind(ctx, "wechat", "oGuesser", code); !strings.Contains(got, "过多") {
			t.Errorf("the right code after 5 wrong ones answered %q, want the sender refused", got)
		}
		if _, ok, _ := r.desk.OfficerFor(ctx, "wechat", "oGuesser", true); ok {
			t.Fatal("a guesser was bound")
		}
		if m := r.note.take("oZhao"); len(m) != 1 || !strings.Contains(m[0], "5次") {
			t.Errorf("chief told %q, want one warning", m)
		}
		// 15 more wrong codes from other senders: 20 in all spends the code.
		for i := range 15 {
			if _, err := r.desk.Bind(ctx, "wechat", fmt.Sprintf("oOther%d", i/4), wrong); err != nil {
				t.Fatal(err)
			}
		}
		if got, _ := r.desk.Bind(ctx, "wechat", "oLi", code); strings.Contains(got, "绑定成功") {
			t.Errorf("a code was still good after 20 wrong ones in all: %q", got)
		}
		if m := r.note.take("oZhao"); !slices.ContainsFunc(m, func(s string) bool { return strings.Contains(s, "作废") }) {
			t.Errorf("chief told %q, want the codes spent", m)
		}
		// A new code works.
		fresh, err := r.desk.IssueCode(ctx, "li", time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if got, _ := r.desk.Bind(ctx, "wechat", "oLi", fresh); !strings.Contains(got, "绑定成功") {
			t.Errorf("a fresh code answered %q", got)
		}
	})
}
