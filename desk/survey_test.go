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

// messages returns and forgets what was sent to user, whole.
func (r *recorder) messages(user string) []Message {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []Message
	keep := r.msgs[:0]
	for _, m := range r.msgs {
		if m.To == user {
			out = append(out, m)
		} else {
			keep = append(keep, m)
		}
	}
	r.msgs = keep
	return out
}

// resolvedFor brings a new ticket of citizen to resolved, by its owner, at
// the rig's time, and forgets the messages that took.
func resolvedFor(t *testing.T, r *deskRig, citizen string) store.Ticket {
	t.Helper()
	tk := r.open(t, citizen, "relief", "help")
	if _, err := r.desk.Accept(t.Context(), r.off[tk.Owner], tk.ID); err != nil {
		t.Fatal(err)
	}
	tk, err := r.desk.Resolve(t.Context(), r.off[tk.Owner], tk.ID, "已为您办理临时救助")
	if err != nil {
		t.Fatal(err)
	}
	r.note.mu.Lock()
	r.note.msgs = nil
	r.note.mu.Unlock()
	return tk
}

// advance moves the clock to t and does the timers that fell due.
func (r *deskRig) advance(t *testing.T, to time.Time) {
	t.Helper()
	r.clock.Set(to)
	if err := r.sweep(t.Context()); err != nil {
		t.Fatalf("sweep at %v: %v", to, err)
	}
}

func contains(msgs []Message, part string) bool {
	for _, m := range msgs {
		if strings.Contains(m.Text, part) {
			return true
		}
	}
	return false
}

// TestReturnVisitIsSentNextWorkingDay: a resolution schedules the visit
// for the next working day at 10:00; it goes out then, once, as the five
// levels in order with their digits, with the survey template and its
// page link for outside the 48-hour window, crediting the owner.
func TestReturnVisitIsSentNextWorkingDay(t *testing.T) {
	eachStore(t, func(t *testing.T, mk storeMaker) {
		r := newDesk(t, mk, at("2026-12-04 15:00")) // a Friday
		tk := resolvedFor(t, r, "oCitizen")
		r.advance(t, at("2026-12-06 10:00")) // Sunday: not a working day
		if got := r.note.messages("oCitizen"); len(got) != 0 {
			t.Fatalf("visit sent on Sunday: %+v", got)
		}
		r.advance(t, at("2026-12-07 09:59"))
		if got := r.note.messages("oCitizen"); len(got) != 0 {
			t.Fatalf("visit sent before 10:00: %+v", got)
		}
		r.advance(t, at("2026-12-07 10:00"))
		got := r.note.messages("oCitizen")
		if len(got) != 1 {
			t.Fatalf("citizen got %d messages at the visit, want the survey: %+v", len(got), got)
		}
		m := got[0]
		var levels []string
		for _, o := range m.Options {
			levels = append(levels, o.ID+" "+o.Text)
		}
		if want := "1 非常满意,2 满意,3 基本满意,4 不满意,5 非常不满意"; strings.Join(levels, ",") != want {
			t.Errorf("levels = %q, want %q", strings.Join(levels, ","), want)
		}
		if !strings.Contains(m.Tail, "回复数字") || m.Template != "survey" || !strings.HasPrefix(m.URL, "https://huimin.test/survey/"+tk.ID+".1.") {
			t.Errorf("survey = %+v; want a tail asking for the digit, the survey template and the page link", m)
		}
		tk = r.ticket(t, tk.ID)
		if s := tk.Surveys[0]; s.SentAt.IsZero() || s.Officer != tk.Owner || s.Round != 1 {
			t.Errorf("survey record = %+v, want sent, crediting the owner %s", s, tk.Owner)
		}
		// Sweeping again sends nothing twice.
		r.advance(t, at("2026-12-07 10:00"))
		if got := r.note.messages("oCitizen"); len(got) != 0 {
			t.Errorf("a second sweep sent %q", got[0].Text)
		}
	})
}

// TestQuietHours: a visit that falls due in the quiet hours waits for
// the morning; so does one claimed late at night.
func TestQuietHours(t *testing.T) {
	eachStore(t, func(t *testing.T, mk storeMaker) {
		r := newDesk(t, mk, at("2026-12-01 16:00"))
		r.desk.rules.Survey.Delay = 6 * time.Hour // due at 22:00
		tk := resolvedFor(t, r, "oNight")
		r.advance(t, at("2026-12-01 22:00"))
		r.advance(t, at("2026-12-02 07:59"))
		if got := r.note.messages("oNight"); len(got) != 0 {
			t.Fatalf("visit sent in the quiet hours: %q", got[0].Text)
		}
		r.advance(t, at("2026-12-02 08:00"))
		if got := r.note.messages("oNight"); len(got) != 1 || !strings.Contains(got[0].Text, tk.ID) {
			t.Fatalf("morning messages = %+v, want the survey", got)
		}
		// Empty quiet hours send at any hour.
		r.desk.rules.Survey.QuietStart, r.desk.rules.Survey.QuietEnd = 0, 0
		r.clock.Set(at("2026-12-02 16:00"))
		resolvedFor(t, r, "oOwl")
		r.advance(t, at("2026-12-02 22:00"))
		if got := r.note.messages("oOwl"); len(got) != 1 {
			t.Fatalf("without quiet hours the 22:00 visit sent %d messages", len(got))
		}
	})
}

// TestGoodRatingArchives: a rating from the citizen is recorded once,
// archives the ticket, and the owner and first responsible officer learn
// it; another openid, a second answer and an officer cannot rate.
func TestGoodRatingArchives(t *testing.T) {
	eachStore(t, func(t *testing.T, mk storeMaker) {
		r := newDesk(t, mk, at("2026-12-01 10:00"))
		r.desk.rules.Survey.Delay = time.Minute
		tk := resolvedFor(t, r, "oCitizen")
		ctx := t.Context()
		if _, err := r.desk.RateInChat(ctx, "oCitizen", tk.ID, 2); !errors.Is(err, ErrWrongState) {
			t.Errorf("rating before the survey was sent: %v, want ErrWrongState", err)
		}
		r.advance(t, at("2026-12-01 10:01"))
		if id, _ := r.desk.OpenSurvey(ctx, "oCitizen"); id != tk.ID {
			t.Errorf("OpenSurvey = %q, want %s", id, tk.ID)
		}
		if _, err := r.desk.RateInChat(ctx, "oStranger", tk.ID, 1); !errors.Is(err, ErrNotYours) {
			t.Errorf("a stranger's rating: %v, want ErrNotYours", err)
		}
		reply, err := r.desk.RateInChat(ctx, "oCitizen", tk.ID, 2)
		if err != nil || !strings.Contains(reply, "满意") || !strings.Contains(reply, "没有请回复1") {
			t.Fatalf("RateInChat = %q, %v; want thanks and the comment question", reply, err)
		}
		if _, err := r.desk.RateInChat(ctx, "oCitizen", tk.ID, 5); !errors.Is(err, ErrWrongState) {
			t.Errorf("a second rating: %v, want ErrWrongState", err)
		}
		if got := r.cmd(t, tk.Owner, "回访 "+tk.ID+" 1"); !strings.Contains(got, "只有科室负责人") {
			t.Errorf("the owner recording a rating: %q, want a refusal", got)
		}
		tk = r.ticket(t, tk.ID)
		if s := tk.Surveys[0]; tk.State != store.StateClosed || s.Level != 2 || s.Via != ViaChat {
			t.Errorf("after 满意: state %s, survey %+v; want closed, level 2 by chat", tk.State, s)
		}
		if id, _ := r.desk.OpenSurvey(ctx, "oCitizen"); id != "" {
			t.Errorf("survey still open after the answer: %s", id)
		}
		if got := r.note.take(r.off[tk.Owner].OpenID); len(got) != 1 || !strings.Contains(got[0], "满意") {
			t.Errorf("owner told %q, want the visit's outcome", got)
		}
		if _, err := r.desk.Comment(ctx, "oCitizen", tk.ID, "办得很快"); err != nil {
			t.Fatal(err)
		}
		if s := r.ticket(t, tk.ID).Surveys[0]; s.Comment != "办得很快" {
			t.Errorf("comment = %q", s.Comment)
		}
	})
}

// TestBadRatingRectificationLoop: 5 非常不满意 reopens the ticket as a
// rectification for the owner with verify and rectify deadlines; the
// chief and the owner are told, the citizen learns who and by when; the
// outcome recorded in chat tells the citizen and a second visit follows;
// a second 差评 goes to the bureau leader too.
func TestBadRatingRectificationLoop(t *testing.T) {
	eachStore(t, func(t *testing.T, mk storeMaker) {
		r := newDesk(t, mk, at("2026-12-01 10:00")) // a Tuesday
		r.desk.rules.Survey.Delay = time.Minute
		tk := resolvedFor(t, r, "oAngry")
		owner := tk.Owner
		ctx := t.Context()
		r.advance(t, at("2026-12-01 10:01"))
		r.note.messages("oAngry")
		if _, err := r.desk.RateInChat(ctx, "oAngry", tk.ID, 5); err != nil {
			t.Fatal(err)
		}
		tk = r.ticket(t, tk.ID)
		if tk.State != store.StateReopened || len(tk.Rectifications) != 1 {
			t.Fatalf("after 非常不满意: %s with %d rectifications, want reopened with one", tk.State, len(tk.Rectifications))
		}
		rc := tk.Rectifications[0]
		if rc.Assignee != owner || !rc.VerifyBy.Equal(r.desk.cal.AddWorkingDays(at("2026-12-01 10:01"), 1)) ||
			!rc.Due.Equal(r.desk.cal.AddWorkingDays(at("2026-12-01 10:01"), 5)) || !tk.Deadline.Equal(rc.Due) {
			t.Errorf("rectification = %+v, deadline %v; want the owner, 1 and 5 working days", rc, tk.Deadline)
		}
		if !contains(r.note.messages("oZhao"), "差评整改") || !contains(r.note.messages(r.off[owner].OpenID), "差评整改") {
			t.Error("the chief and the owner were not both told of the 差评")
		}
		if !contains(r.note.messages("oAngry"), "整改") {
			t.Error("the citizen was not told who rectifies by when")
		}
		// The comment reaches the named person.
		if _, err := r.desk.Comment(ctx, "oAngry", tk.ID, "材料一直没退回"); err != nil {
			t.Fatal(err)
		}
		if !contains(r.note.messages(r.off[owner].OpenID), "材料一直没退回") {
			t.Error("the comment did not reach the named person")
		}
		// Not verified by its deadline: the chief hears of it.
		r.advance(t, rc.VerifyBy)
		if !contains(r.note.messages("oZhao"), "核实超时") {
			t.Error("the chief was not told the verification is overdue")
		}
		// A stranger cannot record it; the owner can.
		if got := r.cmd(t, "qian", "整改 "+tk.ID+" 立行立改 已退回材料"); !strings.Contains(got, "无权") {
			t.Errorf("another department's chief: %q, want refused", got)
		}
		if got := r.cmd(t, owner, "整改 "+tk.ID+" 立行立改"); !strings.Contains(got, "请写上整改结果") {
			t.Errorf("without a note: %q, want the usage", got)
		}
		r.clock.Set(at("2026-12-02 11:00"))
		if got := r.cmd(t, owner, "整改 "+tk.ID+" 立行立改 已当面退回全部材料"); !strings.Contains(got, "重新办结") {
			t.Fatalf("立行立改: %q", got)
		}
		tk = r.ticket(t, tk.ID)
		if tk.State != store.StateResolved || tk.Rectifications[0].Outcome != RectifyImmediate || len(tk.Surveys) != 2 {
			t.Fatalf("after 立行立改: %s, %+v, %d surveys; want resolved with a second survey", tk.State, tk.Rectifications[0], len(tk.Surveys))
		}
		if !contains(r.note.messages("oAngry"), "已当面退回全部材料") {
			t.Error("the citizen was not told the rectification's outcome")
		}
		r.advance(t, at("2026-12-02 11:01"))
		if got := r.note.messages("oAngry"); !contains(got, "回访") {
			t.Fatalf("no second visit: %+v", got)
		}
		if _, err := r.desk.RateInChat(ctx, "oAngry", tk.ID, 4); err != nil {
			t.Fatal(err)
		}
		if !contains(r.note.messages("oZhou"), "第二次") {
			t.Error("a second 差评 did not reach the bureau leader")
		}
		tk = r.ticket(t, tk.ID)
		if tk.State != store.StateReopened || len(tk.Rectifications) != 2 {
			t.Errorf("after the second 差评: %s, %d rectifications", tk.State, len(tk.Rectifications))
		}
		// 限期整改 sets the promised day as the deadline.
		if got := r.cmd(t, owner, "整改 "+tk.ID+" 限期整改 2026-12-10 需重新入户核查"); !strings.Contains(got, "限期整改") {
			t.Fatalf("限期整改: %q", got)
		}
		tk = r.ticket(t, tk.ID)
		if want := time.Date(2026, 12, 10, 23, 59, 0, 0, shanghai); !tk.Deadline.Equal(want) || tk.State != store.StateReopened {
			t.Errorf("after 限期整改: %s, deadline %v, want reopened until %v", tk.State, tk.Deadline, want)
		}
		if !contains(r.note.messages("oAngry"), "12月10日") {
			t.Error("the citizen was not told the promised day")
		}
		// 进度 shows the timeline, the rectifications included.
		progress, err := r.desk.Progress(ctx, "oAngry")
		if err != nil {
			t.Fatal(err)
		}
		for _, step := range []string{"12月1日回访", "12月2日立行立改", "12月2日办结", "12月2日评价：不满意", "限期整改"} {
			if !strings.Contains(progress, step) {
				t.Errorf("进度 lacks %q:\n%s", step, progress)
			}
		}
	})
}

// TestVisitChannels: the channel that delivered a survey is recorded;
// when none did, a subscribe notice is tried where configured, and else
// the visit becomes a phone task for the chief, who records the answer.
func TestVisitChannels(t *testing.T) {
	cases := []struct {
		name   string
		notice bool
		ends   map[string]Delivery // by message ID suffix
		want   string
	}{
		{"window open", false, map[string]Delivery{"": {Done: true, Channel: ChannelChat}}, ChannelChat},
		{"45015 then template", false, map[string]Delivery{"": {Done: true, Channel: ChannelTemplate}}, ChannelTemplate},
		{"no template", false, map[string]Delivery{"": {Done: true}}, ChannelPhone},
		{"subscribe notice", true, map[string]Delivery{"": {Done: true}, ":notice": {Done: true, Channel: ChannelNotice}}, ChannelNotice},
		{"notice refused too", true, map[string]Delivery{"": {Done: true}, ":notice": {Done: true}}, ChannelPhone},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			eachStore(t, func(t *testing.T, mk storeMaker) {
				r := newDesk(t, mk, at("2026-12-01 10:00"))
				r.desk.rules.Survey.Delay = time.Minute
				r.desk.rules.Survey.Notice = c.notice
				tk := resolvedFor(t, r, "oCitizen")
				r.advance(t, at("2026-12-01 10:01"))
				// Still on its way: the check waits.
				r.advance(t, at("2026-12-01 10:02"))
				if ch := r.ticket(t, tk.ID).Surveys[0].Channel; ch != "" {
					t.Fatalf("channel %q recorded before the outbox said", ch)
				}
				for suffix, dl := range c.ends {
					r.note.ended(visitMessageID(tk.ID, 1)+suffix, dl)
				}
				r.advance(t, at("2026-12-01 10:05")) // the check's lease has ended
				tk = r.ticket(t, tk.ID)
				if got := tk.Surveys[0].Channel; got != c.want {
					t.Fatalf("channel = %q, want %q", got, c.want)
				}
				if c.want != ChannelPhone {
					return
				}
				if !contains(r.note.messages("oZhao"), "电话回访") {
					t.Error("the chief was not given the phone task")
				}
				list := r.cmd(t, "zhao", "回访任务")
				if !strings.Contains(list, tk.ID) || !strings.Contains(list, "138****5678") || strings.Contains(list, "13812345678") {
					t.Errorf("回访任务 = %q, want the ticket with the masked number", list)
				}
				if got := r.cmd(t, tk.Owner, "回访任务"); strings.Contains(got, tk.ID) {
					t.Errorf("an officer's 回访任务 lists %q", got)
				}
				if got := r.cmd(t, "zhao", "电话 "+tk.ID); !strings.Contains(got, "13812345678") {
					t.Errorf("电话 = %q, want the full number", got)
				}
				if _, ok := lastEvent(r.ticket(t, tk.ID), EventPhoneRevealed); !ok {
					t.Error("the unmasking was not recorded")
				}
				if got := r.cmd(t, "zhao", "回访 "+tk.ID+" 3 群众表示基本满意"); !strings.Contains(got, "基本满意") {
					t.Errorf("回访 = %q", got)
				}
				tk = r.ticket(t, tk.ID)
				if s := tk.Surveys[0]; s.Level != 3 || s.Via != ViaPhone || tk.State != store.StateClosed {
					t.Errorf("after the phone visit: %+v, %s", s, tk.State)
				}
				if got := r.cmd(t, "zhao", "回访任务"); strings.Contains(got, tk.ID) {
					t.Errorf("the answered visit is still a task: %q", got)
				}
			})
		})
	}
}

// TestSurveyExpiry: one reminder after a day; at expiry 未评价, or the
// configured no-answer level.
func TestSurveyExpiry(t *testing.T) {
	for _, level := range []int{0, LevelBasicSatisfied} {
		eachStore(t, func(t *testing.T, mk storeMaker) {
			r := newDesk(t, mk, at("2026-12-01 10:00"))
			r.desk.rules.Survey.Delay = time.Minute
			r.desk.rules.Survey.NoAnswerLevel = level
			tk := resolvedFor(t, r, "oSilent")
			r.advance(t, at("2026-12-01 10:01"))
			r.note.messages("oSilent")
			r.advance(t, at("2026-12-02 10:01"))
			if got := r.note.messages("oSilent"); len(got) != 1 || !strings.Contains(got[0].Text, "提醒") {
				t.Fatalf("reminder = %+v", got)
			}
			r.advance(t, at("2026-12-07 10:00"))
			r.advance(t, at("2026-12-08 10:01"))
			if got := r.note.messages("oSilent"); len(got) != 0 {
				t.Errorf("more than one reminder: %q", got[0].Text)
			}
			tk = r.ticket(t, tk.ID)
			if s := tk.Surveys[0]; s.Via != ViaExpired || s.Level != level || tk.State != store.StateClosed {
				t.Errorf("at expiry: %+v, %s; want expired with level %d, closed", s, tk.State, level)
			}
			if _, err := r.desk.RateInChat(t.Context(), "oSilent", tk.ID, 1); !errors.Is(err, ErrWrongState) {
				t.Errorf("rating after expiry: %v", err)
			}
		})
	}
}

// TestSurveyToken: the page's token names one survey of one citizen; a
// changed token, another ticket's, a used one and an expired one fail.
func TestSurveyToken(t *testing.T) {
	eachStore(t, func(t *testing.T, mk storeMaker) {
		r := newDesk(t, mk, at("2026-12-01 10:00"))
		r.desk.rules.Survey.Delay = time.Minute
		a := resolvedFor(t, r, "oA")
		b := resolvedFor(t, r, "oB")
		r.advance(t, at("2026-12-01 10:01"))
		ctx := t.Context()
		tokA := r.desk.SurveyToken(a.ID, 1, "oA")
		if p, err := r.desk.SurveyByToken(ctx, tokA); err != nil || p.Ticket.ID != a.ID {
			t.Fatalf("SurveyByToken = %v, %v", p.Ticket.ID, err)
		}
		for name, tok := range map[string]string{
			"changed":        tokA[:len(tokA)-1] + "x",
			"other openid":   r.desk.SurveyToken(a.ID, 1, "oB"),
			"swapped ticket": b.ID + tokA[len(a.ID):],
			"round 2":        r.desk.SurveyToken(a.ID, 2, "oA"),
			"garbage":        "nonsense",
		} {
			if _, err := r.desk.SurveyByToken(ctx, tok); !errors.Is(err, ErrNotFound) {
				t.Errorf("%s token: %v, want ErrNotFound", name, err)
			}
		}
		if _, err := r.desk.RateByToken(ctx, tokA, "oZhao", 1, ""); !errors.Is(err, ErrNotYours) {
			t.Errorf("an officer's openid answering: %v, want ErrNotYours", err)
		}
		if _, err := r.desk.RateByToken(ctx, tokA, "", 1, "很好"); err != nil {
			t.Fatal(err)
		}
		if _, err := r.desk.RateByToken(ctx, tokA, "", 2, ""); !errors.Is(err, ErrWrongState) {
			t.Errorf("reused token: %v, want ErrWrongState", err)
		}
		if s := r.ticket(t, a.ID).Surveys[0]; s.Level != 1 || s.Via != ViaPage || s.Comment != "很好" {
			t.Errorf("page answer recorded as %+v", s)
		}
		r.clock.Set(at("2026-12-08 10:01"))
		if _, err := r.desk.SurveyByToken(ctx, r.desk.SurveyToken(b.ID, 1, "oB")); !errors.Is(err, ErrWrongState) {
			t.Errorf("expired token: %v, want ErrWrongState", err)
		}
	})
}

// TestAppeal: the department asks to exclude a rating with a reason; the
// chief decides, never the one who asked; the rating stays on record.
func TestAppeal(t *testing.T) {
	eachStore(t, func(t *testing.T, mk storeMaker) {
		r := newDesk(t, mk, at("2026-12-01 10:00"))
		r.desk.rules.Survey.Delay = time.Minute
		tk := resolvedFor(t, r, "oMistake")
		r.advance(t, at("2026-12-01 10:01"))
		if _, err := r.desk.RateInChat(t.Context(), "oMistake", tk.ID, 5); err != nil {
			t.Fatal(err)
		}
		if got := r.cmd(t, tk.Owner, "申诉 "+tk.ID); !strings.Contains(got, "申诉理由") {
			t.Errorf("申诉 without a reason: %q", got)
		}
		if got := r.cmd(t, tk.Owner, "申诉 "+tk.ID+" 群众误选，已电话确认满意"); !strings.Contains(got, "已提交") {
			t.Fatalf("申诉: %q", got)
		}
		if !contains(r.note.messages("oZhao"), "申诉复核") {
			t.Error("the chief was not asked")
		}
		if got := r.cmd(t, tk.Owner, "同意申诉 "+tk.ID); !strings.Contains(got, "负责人") {
			t.Errorf("the owner deciding their own appeal: %q", got)
		}
		if got := r.cmd(t, "zhao", "同意申诉 "+tk.ID); !strings.Contains(got, "不计入统计") {
			t.Fatalf("同意申诉: %q", got)
		}
		s := r.ticket(t, tk.ID).Surveys[0]
		if !s.Excluded || s.Level != 5 || s.Appeal.Status != "approved" || s.Appeal.DecidedBy != "zhao" {
			t.Errorf("after the appeal: %+v %+v", s, s.Appeal)
		}
		if _, ok := lastEvent(r.ticket(t, tk.ID), EventRated); !ok {
			t.Error("the rating left the history")
		}
	})
}

// TestVisitAfterAQuickAnswer: a survey answered before its delivery was
// looked at still gets its channel recorded; one the chief archived before
// it expired ends quietly (no timer retried for ever, no phone task).
func TestVisitAfterAQuickAnswer(t *testing.T) {
	eachStore(t, func(t *testing.T, mk storeMaker) {
		r := newDesk(t, mk, at("2026-12-01 10:00"))
		r.desk.rules.Survey.Delay = time.Minute
		quick := resolvedFor(t, r, "oQuick")
		archived := resolvedFor(t, r, "oArchived")
		r.advance(t, at("2026-12-01 10:01"))
		if _, err := r.desk.RateInChat(t.Context(), "oQuick", quick.ID, 1); err != nil {
			t.Fatal(err)
		}
		if _, err := r.desk.Close(t.Context(), r.off["zhao"], archived.ID); err != nil {
			t.Fatal(err)
		}
		r.note.ended(visitMessageID(quick.ID, 1), Delivery{Done: true, Channel: ChannelTemplate})
		r.note.ended(visitMessageID(archived.ID, 1), Delivery{Done: true})
		r.advance(t, at("2026-12-01 10:05"))
		if s := r.ticket(t, quick.ID).Surveys[0]; s.Channel != ChannelTemplate || s.Level != 1 {
			t.Errorf("quickly answered survey = %+v, want its channel recorded", s)
		}
		if s := r.ticket(t, archived.ID).Surveys[0]; s.Channel != "" {
			t.Errorf("archived ticket's survey = %+v, want no phone task", s)
		}
		if contains(r.note.messages("oZhao"), "电话回访") {
			t.Error("a phone task for an archived ticket")
		}
		r.advance(t, at("2026-12-08 10:05")) // past the expiry: a sweep error would fail here
		if s := r.ticket(t, archived.ID).Surveys[0]; s.Answered() {
			t.Errorf("the archived ticket's survey was ended as %+v", s)
		}
	})
}

// TestVisitsFallingDueTogetherAreSpread: visits that would all fall due
// at 10:00 are scheduled one after another at survey.per_second, across
// desks sharing the store, so that the bureau's rate holds whatever the
// number of instances; without a rate they all fall due at 10:00.
func TestVisitsFallingDueTogetherAreSpread(t *testing.T) {
	eachStore(t, func(t *testing.T, mk storeMaker) {
		r := newDesk(t, mk, at("2026-11-24 15:00"))
		r.desk.rules.Survey.PerSecond = 4
		var dues []time.Time
		for i := range 6 {
			tk := resolvedFor(t, r, fmt.Sprint("oSpread", i))
			dues = append(dues, tk.Surveys[len(tk.Surveys)-1].Due)
		}
		slices.SortFunc(dues, time.Time.Compare)
		for i, d := range dues {
			if want := at("2026-11-25 10:00").Add(time.Duration(i) * 250 * time.Millisecond); !d.Equal(want) {
				t.Errorf("visit %d due %s, want %s", i, d.In(shanghai).Format("15:04:05.000"), want.In(shanghai).Format("15:04:05.000"))
			}
		}
		r.desk.rules.Survey.PerSecond = 0
		if tk := resolvedFor(t, r, "oUnpaced"); !tk.Surveys[0].Due.Equal(at("2026-11-25 10:00")) {
			t.Errorf("without a rate the visit is due %s, want 10:00", tk.Surveys[0].Due)
		}
	})
}
