package flows_test

import (
	"errors"
	"log/slog"
	"strings"
	"testing"
	"time"

	"huimin/campaigns"
	"huimin/chat"
	"huimin/flows"
	"huimin/flows/intake"
	"huimin/store"
)

// reminderRig is the engine rig with reminder campaigns: two of the
// relief line, one of the elderly line.
func reminderRig(t *testing.T, st backend) (*engineRig, campaigns.Store) {
	t.Helper()
	r := newRig(t, st)
	cst, ok := st.(campaigns.Store)
	if !ok {
		t.Fatalf("%T does not keep subscriptions", st)
	}
	svc, err := campaigns.New(cst, r.note, []campaigns.Campaign{
		{ID: "review", Name: "低保年度复核", Text: "t", Lines: []string{"relief"}, Spec: "@daily"},
		{ID: "winter", Name: "冬季救助提醒", Text: "t", Lines: []string{"relief"}, Spec: "@daily"},
		{ID: "cert", Name: "高龄津贴认证", Text: "t", Lines: []string{"elderly"}, Spec: "@daily", Notice: "cert_notice"},
	}, campaigns.Options{Now: r.clock.Now, NoticeID: func(name string) string {
		return map[string]string{"cert_notice": "tplCertNotice"}[name]
	}})
	if err != nil {
		t.Fatal(err)
	}
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	set, err := intake.NewWatcher(intake.Defaults(), "", log)
	if err != nil {
		t.Fatal(err)
	}
	r.engine = flows.NewEngine(r.sessions, set, r.desk, flows.EngineOptions{Now: r.clock.Now, Log: log, Reminders: svc})
	return r, cst
}

func TestReminderOptIn(t *testing.T) {
	stores(t, func(t *testing.T, newStore func(t *testing.T) backend) {
		r, st := reminderRig(t, newStore(t))
		ctx := t.Context()
		subscription := func(openid string) (store.Subscriber, bool) {
			t.Helper()
			sub, err := st.Subscription(ctx, openid)
			if errors.Is(err, store.ErrNotFound) {
				return sub, false
			}
			if err != nil {
				t.Fatal(err)
			}
			return sub, true
		}

		// The acknowledgement, then the offer with its two choices.
		ack := r.reliefMatter(t, "oYes")
		offer := "需要到期提醒吗？订阅后，低保年度复核、冬季救助提醒开始时"
		if i, j := strings.Index(ack, "工单号"), strings.Index(ack, offer); j < i || !strings.Contains(ack, "1. 需要\n2. 不用") {
			t.Fatalf("after the matter: %q, want the acknowledgement, then the offer %q with 1. 需要 2. 不用", ack, offer)
		}
		if _, ok := subscription("oYes"); ok {
			t.Fatal("subscribed before answering")
		}
		if got := r.say(t, "oYes", "需要"); !strings.Contains(got, "已为您订阅提醒：低保年度复核、冬季救助提醒") {
			t.Errorf("需要: %q, want the line's campaigns confirmed", got)
		}
		sub, ok := subscription("oYes")
		if _, cert := sub.Campaigns["cert"]; !ok || sub.Name != "王阿姨" || len(sub.Campaigns) != 2 || cert ||
			!sub.Campaigns["review"].Equal(r.clock.Now()) {
			t.Errorf("subscription = %+v, want review and winter since now, with the 称呼", sub)
		}

		// A digit works too; 2 declines.
		r.reliefMatter(t, "oNo")
		if got := r.say(t, "oNo", "2"); !strings.Contains(got, "不为您发送到期提醒") {
			t.Errorf("2: %q, want it declined", got)
		}
		if _, ok := subscription("oNo"); ok {
			t.Error("2 subscribed")
		}
		r.reliefMatter(t, "oDigit")
		if got := r.say(t, "oDigit", "1"); !strings.Contains(got, "已为您订阅提醒") {
			t.Errorf("1: %q, want subscribed", got)
		}

		// Something else drops the offer: a later 1 is the menu's.
		r.reliefMatter(t, "oOther")
		r.say(t, "oOther", "谢谢")
		if got := r.say(t, "oOther", "1"); strings.Contains(got, "订阅") {
			t.Errorf("1 after another message: %q, want the menu's choice", got)
		}
		if _, ok := subscription("oOther"); ok {
			t.Error("a dropped offer subscribed")
		}

		// 订阅提醒 subscribes to every campaign; 退订 stops them all.
		if got := r.say(t, "oNo", "订阅提醒"); !strings.Contains(got, "低保年度复核、冬季救助提醒、高龄津贴认证") {
			t.Errorf("订阅提醒: %q, want every campaign listed", got)
		}
		if sub, _ := subscription("oNo"); len(sub.Campaigns) != 3 || sub.Name != "" {
			t.Errorf("after 订阅提醒: %+v, want 3 campaigns, no name", sub)
		}
		if got := r.say(t, "oNo", "退订"); !strings.Contains(got, "已为您取消全部提醒") || !strings.Contains(got, "高龄津贴认证") {
			t.Errorf("退订: %q, want every campaign stopped and named", got)
		}
		if _, ok := subscription("oNo"); ok {
			t.Error("still subscribed after 退订")
		}
		if got := r.say(t, "oYes", "取消订阅"); !strings.Contains(got, "已为您取消全部提醒") {
			t.Errorf("取消订阅: %q, want stopped", got)
		}
		if got := r.say(t, "oYes", "退订"); !strings.Contains(got, "没有订阅提醒") {
			t.Errorf("退订 with nothing subscribed: %q", got)
		}
		// A matter of a line without campaigns ends without the offer.
		if got := r.say(t, "oPlain", "你好"); strings.Contains(got, "提醒") {
			t.Errorf("a greeting offers reminders: %q", got)
		}
	})
}

func TestReminderLastSeenAtMostHourly(t *testing.T) {
	stores(t, func(t *testing.T, newStore func(t *testing.T) backend) {
		r, st := reminderRig(t, newStore(t))
		ctx := t.Context()
		r.say(t, "o1", "订阅提醒")
		start := r.clock.Now()
		seen := func() time.Time {
			t.Helper()
			sub, err := st.Subscription(ctx, "o1")
			if err != nil {
				t.Fatal(err)
			}
			return sub.LastSeen
		}
		if !seen().Equal(start) {
			t.Fatalf("LastSeen = %v, want %v", seen(), start)
		}
		r.clock.Advance(30 * time.Minute)
		r.say(t, "o1", "你好")
		if !seen().Equal(start) {
			t.Errorf("LastSeen written again within the hour: %v", seen())
		}
		r.clock.Advance(31 * time.Minute)
		r.say(t, "o1", "你好")
		if want := start.Add(61 * time.Minute); !seen().Equal(want) {
			t.Errorf("LastSeen = %v, want %v (an hour after the last write)", seen(), want)
		}
	})
}

func TestSubscribeNoticeOptsInAndOut(t *testing.T) {
	stores(t, func(t *testing.T, newStore func(t *testing.T) backend) {
		r, st := reminderRig(t, newStore(t))
		notice := func(status string, notices ...chat.Notice) string {
			return r.send(t, chat.Event{Kind: chat.KindSubscribeNotice, From: "oNotice", Status: status, Notices: notices})
		}
		// A notice no campaign sends changes nothing.
		if got := notice("subscribe_msg_popup_event", chat.Notice{TemplateID: "tplOther", Status: "accept"}); got != "" {
			t.Errorf("accepting another notice answered %q", got)
		}
		if _, err := st.Subscription(t.Context(), "oNotice"); !errors.Is(err, store.ErrNotFound) {
			t.Fatalf("subscribed by a notice no campaign sends: %v", err)
		}
		// Accepting the campaign's notice in the popup opts in to it.
		if got := notice("subscribe_msg_popup_event", chat.Notice{TemplateID: "tplCertNotice", Status: "accept"}); !strings.Contains(got, "高龄津贴认证") {
			t.Errorf("accepting the notice answered %q, want the campaign named", got)
		}
		sub, err := st.Subscription(t.Context(), "oNotice")
		if err != nil || len(sub.Campaigns) != 1 || sub.Campaigns["cert"].IsZero() {
			t.Fatalf("after accepting: %+v, %v; want subscribed to cert with the time", sub, err)
		}
		// Subscribed to more by 订阅提醒, then the notice turned off in the
		// settings stops them all at once.
		r.say(t, "oNotice", "订阅提醒")
		if got := notice("subscribe_msg_change_event", chat.Notice{TemplateID: "tplCertNotice", Status: "reject"}); !strings.Contains(got, "取消全部提醒") {
			t.Errorf("turning the notice off answered %q", got)
		}
		if _, err := st.Subscription(t.Context(), "oNotice"); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("still subscribed after the notice's opt-out: %v", err)
		}
	})
}
