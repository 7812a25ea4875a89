package flows_test

import (
	"context"
	"errors"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"huimin/chat"
	"huimin/flows"
	"huimin/store"
)

// agree answers the personal-information notice.
const agree = "同意"

// countingConsents counts the reads of the consent records.
type countingConsents struct {
	flows.Consents
	reads atomic.Int64
}

func (c *countingConsents) ConsentOf(ctx context.Context, openID string) (time.Time, error) {
	c.reads.Add(1)
	return c.Consents.ConsentOf(ctx, openID)
}

// toNotice are the relief answers up to the phone question.
var toNotice = []string{"1", "直接办理", "2", "2", "城关街道", "家里老人生病住院，生活困难，想申请临时救助", "1", "王阿姨"}

func TestConsentAskedOnceEver(t *testing.T) {
	stores(t, func(t *testing.T, newStore func(t *testing.T) backend) {
		r := newRig(t, newStore(t))
		counted := &countingConsents{Consents: r.st}
		e := flows.NewEngine(r.sessions, mustWatcher(t), r.desk, flows.EngineOptions{Now: r.clock.Now, Consents: counted})
		msgs := 0
		say := func(text string) string {
			t.Helper()
			r.clock.Advance(time.Second)
			msgs++ // each message its own ID: none is taken for a redelivery
			replies, err := e.Dispatch(t.Context(), chat.Event{Kind: chat.KindText, Channel: chat.ChannelWeChat, From: "oAgree", Text: text,
				MsgID: strconv.Itoa(msgs), At: r.clock.Now()})
			if err != nil {
				t.Fatalf("Dispatch(%q): %v", text, err)
			}
			var parts []string
			for _, rp := range replies {
				parts = append(parts, rp.Text)
				for _, o := range rp.Options {
					parts = append(parts, o.ID+". "+o.Text)
				}
			}
			return strings.Join(parts, "\n")
		}
		var got string
		for _, s := range toNotice {
			got = say(s)
		}
		if !strings.Contains(got, "保存多久") || !strings.Contains(got, "1. 同意") || strings.Contains(got, "请留一个手机号码") {
			t.Fatalf("before the phone question: %q, want the consent notice", got)
		}
		if n := counted.reads.Load(); n != 1 {
			t.Errorf("consent reads up to the notice = %d, want 1 (none before a phone question)", n)
		}
		agreedAt := r.clock.Now().Add(time.Second) // say advances the clock first
		if got = say(agree); !strings.Contains(got, "请留一个手机号码") {
			t.Fatalf("after 同意: %q, want the phone question", got)
		}
		at, err := r.st.ConsentOf(t.Context(), "oAgree")
		if err != nil || !at.Equal(agreedAt) {
			t.Fatalf("ConsentOf() = %v, %v; want %v recorded", at, err, agreedAt)
		}
		say("13812345678")
		if got = say("1"); !strings.Contains(got, "MZ") {
			t.Fatalf("confirmation: %q, want a ticket number", got)
		}
		// A later matter in the same session: no notice, no read.
		for _, s := range toNotice {
			if got = say(s); strings.Contains(got, "1. 同意") {
				t.Fatalf("second matter, after %q: %q, want no notice again", s, got)
			}
		}
		if !strings.Contains(got, "请留一个手机号码") {
			t.Errorf("second matter: %q, want the phone question at once", got)
		}
		say("取消")
		// A new session (the old one expired): the store remembers.
		if err := r.st.DeleteSession(t.Context(), "oAgree"); err != nil {
			t.Fatal(err)
		}
		r.clock.Advance(30 * 24 * time.Hour)
		before := counted.reads.Load()
		for _, s := range toNotice {
			if got = say(s); strings.Contains(got, "1. 同意") {
				t.Fatalf("new session, after %q: %q, want no notice again", s, got)
			}
		}
		if !strings.Contains(got, "请留一个手机号码") {
			t.Errorf("new session: %q, want the phone question at once", got)
		}
		if n := counted.reads.Load() - before; n != 1 {
			t.Errorf("consent reads in the new session = %d, want 1", n)
		}
		if at, err := r.st.ConsentOf(t.Context(), "oAgree"); err != nil || !at.Equal(agreedAt) {
			t.Errorf("ConsentOf() = %v, %v; want the first agreement %v kept", at, err, agreedAt)
		}
	})
}

func TestConsentRefusedSubmitsNothing(t *testing.T) {
	stores(t, func(t *testing.T, newStore func(t *testing.T) backend) {
		r := newRig(t, newStore(t))
		r.say(t, "oNo", toNotice[0])
		for _, s := range toNotice[1:5] {
			r.say(t, "oNo", s)
		}
		r.send(t, chat.Event{Kind: chat.KindImage, Channel: chat.ChannelWeChat, From: "oNo", MediaID: "m-no", PicURL: "http://p/no.jpg"})
		for _, s := range toNotice[5:] {
			r.say(t, "oNo", s)
		}
		got := r.say(t, "oNo", "不同意")
		if !strings.Contains(got, "没有提交") || !strings.Contains(got, "直接发问题") {
			t.Errorf("不同意 → %q, want the refusal saying nothing was submitted and questions are still answered", got)
		}
		ts, err := r.st.ListTickets(t.Context(), store.TicketFilter{Citizen: "oNo"})
		if err != nil || len(ts) != 0 {
			t.Errorf("tickets = %v, %v; want none", ts, err)
		}
		if _, err := r.st.ConsentOf(t.Context(), "oNo"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("ConsentOf() error = %v, want store.ErrNotFound", err)
		}
		sess, err := r.st.GetSession(t.Context(), "oNo")
		if err != nil {
			t.Fatal(err)
		}
		if sess.Flow != "" || len(sess.Data) != 0 || len(sess.Back) != 0 {
			t.Errorf("session = %+v, want nothing of the flow kept", sess)
		}
		// The knowledge base still answers.
		if got := r.say(t, "oNo", "低保怎么申请"); !strings.Contains(got, "已解决") {
			t.Errorf("question after refusing: %q, want a knowledge-base answer", got)
		}
		// And the next matter asks again.
		r.say(t, "oNo", "菜单")
		for _, s := range toNotice {
			got = r.say(t, "oNo", s)
		}
		if !strings.Contains(got, "1. 同意") {
			t.Errorf("next matter after refusing: %q, want the notice again", got)
		}
	})
}

func TestConsentWithdrawn(t *testing.T) {
	stores(t, func(t *testing.T, newStore func(t *testing.T) backend) {
		r := newRig(t, newStore(t))
		if got := r.say(t, "oWithdraw", "撤回同意"); !strings.Contains(got, "没有同意过") {
			t.Fatalf("撤回同意 before any agreement: %q", got)
		}
		// Agree in a matter, then, in the middle of the next, withdraw.
		r.reliefTicket(t, "oWithdraw")
		if _, err := r.st.ConsentOf(t.Context(), "oWithdraw"); err != nil {
			t.Fatalf("consent after the first matter: %v", err)
		}
		for _, s := range toNotice[:len(toNotice)-1] {
			r.say(t, "oWithdraw", s)
		}
		got := r.say(t, "oWithdraw", "撤回同意")
		if !strings.Contains(got, "已撤回") || !strings.Contains(got, "没有提交") {
			t.Fatalf("撤回同意 mid-flow: %q, want the withdrawal and the matter dropped", got)
		}
		if _, err := r.st.ConsentOf(t.Context(), "oWithdraw"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("consent still on record after 撤回同意: %v", err)
		}
		if sess, err := r.st.GetSession(t.Context(), "oWithdraw"); err != nil || sess.Flow != "" {
			t.Errorf("session after withdrawing = %+v, %v; want no flow running", sess, err)
		}
		// The next phone question shows the notice again.
		var last string
		for _, s := range toNotice {
			last = r.say(t, "oWithdraw", s)
		}
		if !strings.Contains(last, "保存多久") || !strings.Contains(last, "撤回同意") {
			t.Errorf("the next phone question: %q, want the notice again, saying how to withdraw", last)
		}
		tickets, err := r.st.ListTickets(t.Context(), store.TicketFilter{Citizen: "oWithdraw"})
		if err != nil || len(tickets) != 1 {
			t.Errorf("tickets = %d, %v; want the first matter only", len(tickets), err)
		}
	})
}
