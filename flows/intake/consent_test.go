package intake

import (
	"strings"
	"testing"
	"time"
)

// toNotice are relief answers up to the phone question, which the notice
// comes before.
func toNotice() []Input { return toConfirm()[:6] }

// isNotice reports whether r shows the consent notice, waiting for its answer.
func isNotice(r Result) bool {
	got := said(r)
	return r.State.Data[dataConsent] == consentAsking && strings.Contains(got, "保存多久") &&
		strings.Contains(got, "1. 同意") && strings.Contains(got, "2. 不同意")
}

func TestConsentNoticeBeforeFirstPhoneQuestion(t *testing.T) {
	s := defaultSet(t)
	before := converse(t, s, "relief", toNotice()[:5]...)
	if isNotice(before) {
		t.Fatalf("notice shown before the question before the phone: %q", said(before))
	}
	r := s.Step(before.State, toNotice()[5])
	if !isNotice(r) {
		t.Fatalf("at the phone question said %q (state %+v), want the consent notice", said(r), r.State)
	}
	if r.State.Step != "phone" || r.Consented || r.Done {
		t.Errorf("state %+v consented %v done %v, want the phone step waiting, nothing agreed", r.State, r.Consented, r.Done)
	}
	if got := said(r); strings.Contains(got, "手机号码，方便") || !strings.Contains(got, "3年") {
		t.Errorf("notice %q: want the default retention 3年 and not the phone question yet", got)
	}
	// 同意: the agreement is reported once and the phone question follows.
	agreed := s.Step(r.State, text("同意"))
	if !agreed.Consented || isNotice(agreed) || agreed.State.Step != "phone" {
		t.Fatalf("after 同意: consented %v, said %q, state %+v; want the phone question", agreed.Consented, said(agreed), agreed.State)
	}
	if phone, _ := s.flows["relief"].step("phone"); phone.Type != typePhone || !strings.Contains(said(agreed), phone.Ask) {
		t.Errorf("after 同意 said %q, want the phone question", said(agreed))
	}
	done := replay(t, s, agreed, text("13812345678"), text("1"))
	if done.Outcome == nil || done.Outcome.Phone != "13812345678" || done.Consented {
		t.Errorf("outcome %+v consented %v, want the ticket with the phone and no second agreement", done.Outcome, done.Consented)
	}
}

func TestConsentNotAskedWhenAgreedBefore(t *testing.T) {
	s := defaultSet(t)
	r := converse(t, s, "relief")
	for _, in := range toConfirm() {
		in.Consented = true // the engine's record: agreed in an earlier flow
		if r = s.Step(r.State, in); isNotice(r) || r.Consented {
			t.Fatalf("at %q: said %q consented %v, want no notice for a citizen who agreed before", in.Text, said(r), r.Consented)
		}
	}
	if !strings.Contains(said(r), "13812345678") {
		t.Errorf("said %q, want the confirmation with the phone", said(r))
	}
}

func TestConsentOnceAFlow(t *testing.T) {
	// The elderly flow asks an (optional) ID number first and a phone
	// later: one notice before the first, none before the second.
	s := defaultSet(t)
	r := converse(t, s, "elderly", text("1"))
	if !isNotice(r) || r.State.Step != "elder_id" {
		t.Fatalf("at the optional ID question said %q state %+v, want the notice", said(r), r.State)
	}
	r = s.Step(r.State, text("1")) // 1. 同意
	if !r.Consented || r.State.Step != "elder_id" {
		t.Fatalf("after 1: consented %v state %+v, want the ID question", r.Consented, r.State)
	}
	notices := 0
	for _, in := range answers("跳过", "1", "城关街道", "父亲的津贴这个月没到账", "跳过", "13812345678", "1") {
		if r = s.Step(r.State, in); isNotice(r) {
			notices++
		}
	}
	if notices != 0 || r.Outcome == nil || r.Outcome.Phone != "13812345678" {
		t.Errorf("notices after agreeing = %d, outcome %+v; want none and the ticket", notices, r.Outcome)
	}
}

func TestConsentRefused(t *testing.T) {
	s := defaultSet(t)
	image := Input{Kind: KindImage, MediaID: "m1", At: arrival}
	r := converse(t, s, "relief", append(toNotice()[:4], image, text("1"), toNotice()[5])...)
	if !isNotice(r) {
		t.Fatalf("said %q, want the notice", said(r))
	}
	for _, no := range []string{"不同意", "2"} {
		t.Run(no, func(t *testing.T) {
			got := s.Step(r.State, text(no))
			if !got.Done || got.Outcome != nil || got.Consented {
				t.Fatalf("result %+v, want the flow ended with nothing submitted or agreed", got)
			}
			if got.State.Flow != "" || len(got.State.Data) != 0 || len(got.State.Back) != 0 {
				t.Errorf("state %+v, want nothing kept of the flow (not even its picture)", got.State)
			}
			if w := said(got); !strings.Contains(w, "没有提交") || !strings.Contains(w, "直接发问题") || !strings.Contains(w, "1. 低保") {
				t.Errorf("said %q, want the refusal, the knowledge base offered, and the menu", w)
			}
			// The knowledge base still answers.
			kb := s.Step(got.State, text("低保怎么申请"))
			if kb.Outcome == nil || kb.Outcome.Kind != OutcomeAnswer {
				t.Errorf("question after refusing: %+v said %q, want a knowledge-base answer", kb.Outcome, said(kb))
			}
		})
	}
}

func TestConsentNoticeAnswers(t *testing.T) {
	s := defaultSet(t)
	r := converse(t, s, "relief", toNotice()...)
	tests := []struct {
		name   string
		in     Input
		notice bool   // the notice is asked again
		step   string // the step after
		want   string // a part of what is said
	}{
		{"something else", text("为什么要手机号"), true, "phone", "请回复数字1到2"},
		{"a phone number before agreeing", text("13812345678"), true, "phone", "请回复数字1到2"},
		{"help", text("帮助"), true, "phone", "使用说明"},
		{"back", text("返回"), false, "name", "怎么称呼"},
		{"a picture", Input{Kind: KindImage, MediaID: "m2", At: arrival}, true, "phone", "已收到图片"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := s.Step(r.State, tt.in)
			if isNotice(got) != tt.notice || got.State.Step != tt.step || got.Consented || got.Done {
				t.Errorf("notice %v step %q consented %v done %v, want notice %v step %q", isNotice(got), got.State.Step, got.Consented, got.Done, tt.notice, tt.step)
			}
			if !strings.Contains(said(got), tt.want) {
				t.Errorf("said %q, want %q", said(got), tt.want)
			}
			if tt.notice && got.State.Data["phone"] != "" {
				t.Errorf("phone kept before agreeing: %+v", got.State.Data)
			}
		})
	}
	t.Run("cancel", func(t *testing.T) {
		got := s.Step(r.State, text("取消"))
		if !got.Done || got.Outcome != nil || got.State.Flow != "" {
			t.Errorf("result %+v, want the flow cancelled", got)
		}
	})
}

func TestConsentRetentionFromOptions(t *testing.T) {
	tests := []struct {
		retention time.Duration
		want      string
	}{
		{0, "3年"},
		{5 * 365 * 24 * time.Hour, "5年"},
		{26280 * time.Hour, "3年"},
		{90 * 24 * time.Hour, "90天"},
		{36 * time.Hour, "2天"},
	}
	for _, tt := range tests {
		t.Run(tt.want, func(t *testing.T) {
			s := defaultSet(t).WithOptions(Options{Retention: tt.retention})
			r := converse(t, s, "relief", toNotice()...)
			if !isNotice(r) || !strings.Contains(said(r), "保存"+tt.want) {
				t.Errorf("retention %v: said %q, want 保存%s", tt.retention, said(r), tt.want)
			}
		})
	}
}

func TestConsentForAConversationSavedBeforeTheNotice(t *testing.T) {
	// Saved at the phone question by a build without the notice: the
	// number sent is not taken until the citizen agrees.
	s := defaultSet(t)
	r := converse(t, s, "relief", toNotice()...)
	old := r.State
	delete(old.Data, dataConsent)
	got := s.Step(old, text("13812345678"))
	if !isNotice(got) || got.State.Data["phone"] != "" || got.State.Step != "phone" {
		t.Fatalf("said %q state %+v, want the notice and no phone kept", said(got), got.State)
	}
	if got = s.Step(got.State, text("1")); !got.Consented || got.State.Step != "phone" {
		t.Errorf("after 1: consented %v state %+v, want the phone question", got.Consented, got.State)
	}
}
