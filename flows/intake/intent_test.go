package intake

import (
	"path/filepath"
	"strings"
	"testing"
)

func TestFrontDoorIntents(t *testing.T) {
	s := defaultSet(t)
	tests := []struct {
		said     string
		flow     string // the flow started, or
		urgent   bool   // an urgent matter opened at once
		kbAnswer string // or the common question answered
	}{
		{said: "我要投诉", flow: "complaint"},
		{said: "窗口工作人员态度差！", flow: "complaint"},
		{said: "对办理结果不满意", flow: "complaint"},
		{said: "我要举报有人冒领低保", flow: "report"},
		{said: "我想提个建议", flow: "suggestion"},
		{said: "提意见", flow: "suggestion"},
		{said: "我要表扬王明同志", flow: "praise"},
		{said: "感谢社区工作人员", flow: "praise"},
		{said: "家里没饭吃了", urgent: true},
		{said: "老人没地方住，在外面露宿街头", urgent: true},
		{said: "急", urgent: true},
		{said: "急！", urgent: true},
		// Everything else is as before: common questions, the menu.
		{said: "低保怎么申请", kbAnswer: "kb:dibao-apply"},
		{said: "救急", kbAnswer: "kb:temporary-relief"},
	}
	for _, tt := range tests {
		t.Run(tt.said, func(t *testing.T) {
			r := s.Idle(text(tt.said))
			switch {
			case tt.flow != "":
				if r.State.Flow != tt.flow || len(r.Prompts) == 0 {
					t.Fatalf("Idle(%q) = flow %q, %q; want the %s flow's first question", tt.said, r.State.Flow, said(r), tt.flow)
				}
			case tt.urgent:
				o := r.Outcome
				if o == nil || o.Kind != OutcomeTicket || o.Intent != IntentUrgent || !o.Urgent || o.Line != "relief" {
					t.Fatalf("Idle(%q) outcome = %+v, want an urgent ticket of relief", tt.said, o)
				}
				if o.Fields[fieldDetail] != strings.TrimSpace(tt.said) || o.Labels[fieldDetail] == "" || !strings.Contains(o.Summary, tt.said) {
					t.Errorf("urgent matter = %+v, want the citizen's words as its labelled detail", o)
				}
			default:
				if r.State.Data[dataAnswer] != tt.kbAnswer {
					t.Errorf("Idle(%q) answered %q, want %q", tt.said, r.State.Data[dataAnswer], tt.kbAnswer)
				}
			}
		})
	}
	// A menu number still picks from the menu, and inside a flow the
	// words are an answer, not an intent.
	if r := s.Idle(text("1")); r.State.Flow != "relief" {
		t.Errorf("Idle(1) = flow %q, want relief from the menu", r.State.Flow)
	}
	r := converse(t, s, "community", text("1"), text("1"), text("城关街道东门社区"), text("工作人员态度差，我要投诉"))
	if r.State.Flow != "community" || r.State.Data["detail"] != "工作人员态度差，我要投诉" {
		t.Errorf("inside a flow, an answer naming a complaint = %+v; want it taken as the answer", r.State)
	}
}

func TestInterrupts(t *testing.T) {
	s := defaultSet(t)
	for said, want := range map[string]bool{
		"我要投诉":       true,
		"举报":         true,
		"没饭吃":        true,
		"我有个建议":      false, // a suggestion may go to the officer in conversation
		"谢谢，感谢您":     false,
		"材料明天送过去可以吗": false,
	} {
		if got := s.Interrupts(said); got != want {
			t.Errorf("Interrupts(%q) = %v, want %v", said, got, want)
		}
	}
}

func TestLoadIntentsErrors(t *testing.T) {
	for name, tt := range map[string]struct{ body, want string }{
		"unknown flow":  {"intents:\n  - {id: x, flow: nope, words: [啊]}\n", `intent "x": unknown flow "nope"`},
		"unknown line":  {"intents:\n  - {id: x, action: urgent, line: nope, words: [啊]}\n", `intent "x": unknown service line "nope"`},
		"bad action":    {"intents:\n  - {id: x, action: shout, words: [啊]}\n", `unknown action "shout"`},
		"both":          {"intents:\n  - {id: x, flow: relief, action: urgent, line: relief, words: [啊]}\n", `give a flow or an action, not both`},
		"no words":      {"intents:\n  - {id: x, flow: relief}\n", `intent "x": needs words`},
		"duplicate":     {"intents:\n  - {id: x, flow: relief, words: [啊]}\n  - {id: x, flow: relief, words: [哦]}\n", `intent "x" listed twice`},
		"missing id":    {"intents:\n  - {flow: relief, words: [啊]}\n", `intent 1: missing id`},
		"unknown field": {"intents:\n  - {id: x, flow: relief, word: [啊]}\n", `unknown key "word"`},
	} {
		t.Run(name, func(t *testing.T) {
			dir := t.TempDir()
			writeFiles(t, dir, map[string]string{"intents.yaml": tt.body})
			_, err := Load(Defaults(), dir)
			if err == nil {
				t.Fatal("Load() = nil error, want one")
			}
			if got := strings.ReplaceAll(err.Error(), dir+string(filepath.Separator), ""); !strings.Contains(got, tt.want) {
				t.Errorf("Load() error =\n%s\nwant it to contain %q", got, tt.want)
			}
		})
	}
}
