package intake

import (
	"strconv"
	"strings"
	"testing"
)

func TestCommand(t *testing.T) {
	s := defaultSet(t)
	tests := []struct{ in, want string }{
		{"返回", CmdBack},
		{"上一步。", CmdBack},
		{"取消", CmdCancel},
		{"退出", CmdCancel},
		{"算了！", CmdCancel},
		{"人工", CmdHuman},
		{"转人工", CmdHuman},
		{" 人工服务 ", CmdHuman},
		{"帮助", CmdHelp},
		{"?", CmdHelp},
		{"？", CmdHelp},
		{"进度", CmdStatus},
		{"查询", CmdStatus},
		{"我的办件", CmdStatus},
		{"菜单", CmdMenu},
		{"0", CmdMenu},
		{"０", CmdMenu},
		{"1", ""},
		{"我要转人工服务", ""},
		{"查询低保", ""},
		{"", ""},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			if got := s.Command(tt.in); got != tt.want {
				t.Errorf("Command(%q) = %q, want %q", tt.in, got, tt.want)
			}
		})
	}
}

func TestIdle(t *testing.T) {
	s := defaultSet(t)
	tests := []struct {
		name     string
		in       Input
		wantFlow string
		wantStep string
		wantCmd  string
		wantKind string // outcome kind
		wantSaid string
	}{
		{"digit starts a flow", text("1"), "relief", stepGuideOffer, "", "", "您选的是“低保、特困、临时救助”。办理前先看办事指南？材料、条件一次说清。\n1. 看指南\n2. 直接办理"},
		{"voice numeral", voice("六。"), "marriage", stepGuideOffer, "", "", "办理前先看办事指南"},
		{"label", text("社区事务"), "community", stepGuideOffer, "", "", "办理前先看办事指南"},
		{"prefix of a label", text("低保"), "relief", stepGuideOffer, "", "", "办理前先看办事指南"},
		{"menu number for status", text("9"), "", "", CmdStatus, "", ""},
		{"menu number for the knowledge base", text("8"), kbFlow, kbList, "", "", "1. 低保怎么申请？"},
		{"status word", text("查询"), "", "", CmdStatus, "", ""},
		{"human", text("人工"), "", "", "", OutcomeHandover, ""},
		{"help", text("帮助"), "", "", "", "", "使用说明"},
		{"menu", text("菜单"), "", "", "", "", "1. 低保"},
		{"cancel with nothing running", text("取消"), "", "", "", "", "1. 低保"},
		{"greeting", text("你好"), "", "", "", "", "可以直接问"},
		{"emoji only", text("🙏🙏"), "", "", "", "", "请用文字或语音回答"},
		{"10000 characters", text(strings.Repeat("啊", 10000)), "", "", "", "", "太长"},
		{"knowledge base", text("请问高龄津贴怎么领取？"), kbFlow, stepFeedback, "", OutcomeAnswer, "2. 没解决，转人工"},
		{"click", Input{Kind: KindClick, Key: "flow:veterans"}, "veterans", stepGuideOffer, "", "", "办理前先看办事指南"},
		{"click for status", Input{Kind: KindClick, Key: "action:status"}, "", "", CmdStatus, "", ""},
		{"unknown click", Input{Kind: KindClick, Key: "line_1"}, "", "", "", "", "1. 低保"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := s.Idle(tt.in)
			kind := ""
			if r.Outcome != nil {
				kind = r.Outcome.Kind
			}
			if r.State.Flow != tt.wantFlow || r.State.Step != tt.wantStep || r.Command != tt.wantCmd || kind != tt.wantKind {
				t.Errorf("Idle(%q) = flow %q step %q command %q outcome %q, want %q %q %q %q",
					tt.in.Text, r.State.Flow, r.State.Step, r.Command, kind, tt.wantFlow, tt.wantStep, tt.wantCmd, tt.wantKind)
			}
			if !strings.Contains(said(r), tt.wantSaid) {
				t.Errorf("Idle(%q) said %q, want %q", tt.in.Text, said(r), tt.wantSaid)
			}
		})
	}
}

func TestKnowledgeBase(t *testing.T) {
	s := defaultSet(t)
	tests := []struct{ ask, want string }{
		{"低保金什么时候到账", "dibao-payment"},
		{"我想申请低保", "dibao-apply"},
		{"申请低保要准备哪些资料", "dibao-materials"},
		{"高龄津贴怎么领", "elderly-allowance"},
		{"高龄津贴怎么认证", "elderly-certify"},
		{"结婚证丢了怎么办", "marriage-replace"},
		{"领结婚证要带什么", "marriage-docs"},
		{"我爸想住养老院", "care-home"},
		{"优待证在哪里办", "veteran-card"},
		{"社会组织年检什么时候", "socialorg-annual"},
		{"家里老人去世了怎么办", "funeral-service"},
		{"有没有丧葬补助", "funeral-subsidy"},
		{"家里出了车祸，遇到突发困难", "temporary-relief"},
	}
	for _, tt := range tests {
		t.Run(tt.ask, func(t *testing.T) {
			r := s.Idle(text(tt.ask))
			if got := r.State.Data[dataAnswer]; got != "kb:"+tt.want {
				t.Fatalf("Idle(%q) answered %q (said %q), want kb:%s", tt.ask, got, said(r), tt.want)
			}
			if r.Outcome == nil || r.Outcome.Kind != OutcomeAnswer || len(r.Prompts) != 1 || len(r.Prompts[0].Options) != 2 {
				t.Errorf("result %+v, want an answer with two feedback options", r)
			}
		})
	}
}

func TestKnowledgeBaseFeedback(t *testing.T) {
	s := defaultSet(t)
	answered := s.Idle(text("低保金什么时候到账"))
	tests := []struct {
		name     string
		in       Input
		wantKind string
		wantSaid string
	}{
		{"solved", text("1"), "", "很高兴"},
		{"not solved", text("2"), OutcomeHandover, ""},
		{"not solved in words", voice("没解决。"), OutcomeHandover, ""},
		{"human", text("人工"), OutcomeHandover, ""},
		{"another question", text("高龄津贴怎么领"), OutcomeAnswer, "规定年龄"},
		{"menu", text("菜单"), "", "1. 低保"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := s.Step(answered.State, tt.in)
			kind := ""
			if r.Outcome != nil {
				kind = r.Outcome.Kind
			}
			if kind != tt.wantKind || !strings.Contains(said(r), tt.wantSaid) || !r.Done {
				t.Errorf("result %+v said %q, want outcome %q saying %q", r, said(r), tt.wantKind, tt.wantSaid)
			}
			if kind == OutcomeHandover {
				o := r.Outcome
				if o.Line != "relief" || !strings.Contains(o.Summary, "低保金什么时候发？") || o.Fields["asked"] != "低保金什么时候到账" {
					t.Errorf("handover %+v, want line relief, the question and the citizen's words", o)
				}
			}
		})
	}
}

func TestKnowledgeBaseAmbiguous(t *testing.T) {
	s := defaultSet(t)
	r := s.Idle(text("低保申请材料"))
	if r.State.Step != kbPick || len(r.Prompts) != 1 || len(r.Prompts[0].Options) != 2 {
		t.Fatalf("result %+v said %q, want a choice of two questions", r, said(r))
	}
	r = s.Step(r.State, text("2"))
	if r.State.Data[dataAnswer] != "kb:dibao-materials" || r.State.Data[dataAsked] != "低保申请材料" {
		t.Errorf("state %+v, want the materials answer and the words asked", r.State)
	}
}

func TestKnowledgeBaseList(t *testing.T) {
	s := defaultSet(t)
	list, ok := s.StartByKey("action:kb")
	if !ok || list.State.Step != kbList {
		t.Fatalf("StartByKey(action:kb) = %+v, %v", list, ok)
	}
	t.Run("by number", func(t *testing.T) {
		r := s.Step(list.State, text("1"))
		if r.State.Data[dataAnswer] != "kb:dibao-apply" {
			t.Errorf("state %+v, want the first featured answer", r.State)
		}
	})
	t.Run("by question", func(t *testing.T) {
		r := s.Step(list.State, text("结婚证丢了"))
		if r.State.Data[dataAnswer] != "kb:marriage-replace" {
			t.Errorf("state %+v, want the search answer", r.State)
		}
	})
	t.Run("nothing found, then a person", func(t *testing.T) {
		r := s.Step(list.State, text("我家的狗丢了"))
		if r.State.Step != kbNone || !strings.Contains(said(r), "1. 转人工") {
			t.Fatalf("result %+v said %q, want an offer of a person", r, said(r))
		}
		h := s.Step(r.State, text("1"))
		if h.Outcome == nil || h.Outcome.Kind != OutcomeHandover || h.Outcome.Fields["asked"] != "我家的狗丢了" {
			t.Errorf("outcome %+v, want a handover with the question", h.Outcome)
		}
		m := s.Step(r.State, text("2"))
		if m.State.Flow != "" || !strings.Contains(said(m), "1. 低保") {
			t.Errorf("after 2: %+v, want the main menu, not menu item 2", m)
		}
	})
}

func TestStartByKeyAndButtons(t *testing.T) {
	s := defaultSet(t)
	if _, ok := s.StartByKey("flow:nope"); ok {
		t.Error("StartByKey(flow:nope) = true, want false")
	}
	if _, ok := s.StartByKey("action:reboot"); ok {
		t.Error("StartByKey(action:reboot) = true, want false")
	}
	if r, ok := s.StartByKey("relief"); !ok || r.State.Flow != "relief" {
		t.Errorf("StartByKey(relief) = %+v, %v, want the relief flow", r.State, ok)
	}
	bs := s.Buttons()
	if len(bs) == 0 || len(bs) > 3 {
		t.Fatalf("Buttons() has %d buttons, want 1 to 3", len(bs))
	}
	var check func(b Button)
	check = func(b Button) {
		switch b.Type {
		case "click":
			if _, ok := s.StartByKey(b.Key); !ok {
				t.Errorf("button %q: key %q starts nothing", b.Name, b.Key)
			}
		case "view":
			if !strings.HasPrefix(b.URL, "https://") {
				t.Errorf("button %q: url %q", b.Name, b.URL)
			}
		case "":
			if len(b.Sub) == 0 {
				t.Errorf("button %q does nothing", b.Name)
			}
		}
		for _, c := range b.Sub {
			check(c)
		}
	}
	for _, b := range bs {
		check(b)
	}
}

func TestStartUnknownFlow(t *testing.T) {
	s := defaultSet(t)
	if _, err := s.Start("nope"); err == nil {
		t.Error("Start(nope) = nil error, want ErrUnknownFlow")
	}
}

// checkPrompt fails unless the prompt's options are numbered 1, 2, … and
// the whole fits 600 bytes (a phone screen; WeChat allows about 2048).
func checkPrompt(t *testing.T, where string, p Prompt) {
	t.Helper()
	for i, o := range p.Options {
		if o.ID != strconv.Itoa(i+1) {
			t.Errorf("%s: option %d has ID %q, want %d", where, i+1, o.ID, i+1)
		}
		if strings.TrimSpace(o.Text) == "" {
			t.Errorf("%s: option %d has no text", where, i+1)
		}
	}
	if n := len(p.String()); n > 600 {
		t.Errorf("%s: %d bytes, want at most 600:\n%s", where, n, p)
	}
	if strings.TrimSpace(p.String()) == "" {
		t.Errorf("%s: empty prompt", where)
	}
}

func TestDefaultPromptsNumberedAndShort(t *testing.T) {
	s := defaultSet(t)
	checkPrompt(t, "greeting", s.Greeting())
	checkPrompt(t, "menu", s.Menu())
	checkPrompt(t, "help", s.Help())
	for _, note := range []string{s.texts.Cancelled, s.texts.FlowGone, s.texts.NotUnderstood, s.texts.TooLongIdle, s.texts.AttachIdle} {
		checkPrompt(t, "menu with "+note, s.menuWith(note))
	}
	kb, _ := s.StartByKey("action:kb")
	checkPrompt(t, "knowledge-base list", kb.Prompts[0])
	for _, e := range s.kb {
		checkPrompt(t, "answer "+e.ID, s.feedbackPrompt(e.Answer))
	}
	notes := []string{s.texts.InvalidChoice, s.texts.InvalidPhone, s.texts.IDLength, s.texts.InvalidID, s.texts.InvalidDate,
		s.texts.TooLong, s.texts.TooShort, s.texts.EmojiOnly, s.texts.VoiceEmpty, s.texts.AttachNoted, s.texts.AttachLimit,
		s.texts.AttachNeed, s.texts.DatePast, s.texts.FirstStep}
	long := strings.Repeat("长", maxText)
	for _, f := range s.Flows() {
		fl := s.flows[f.ID]
		// A state with every field at its longest, to size the confirmation.
		st := State{Flow: f.ID, Data: make(map[string]string)}
		for _, step := range fl.Steps {
			st.Back = append(st.Back, step.ID)
			switch step.Type {
			case typeChoice:
				longest := step.Options[0]
				for _, o := range step.Options {
					if len(o.Label) > len(longest.Label) {
						longest = o
					}
				}
				st.Data[step.Field] = longest.value()
			case typePhone:
				st.Data[step.Field] = "13812345678"
			case typeIDCard:
				st.Data[step.Field] = "11010519491231002X"
			case typeDate:
				st.Data[step.Field] = "2026-11-28"
			case typeText:
				st.Data[step.Field] = long
			}
		}
		st = State{Flow: st.Flow, Back: st.Back, Data: setAttachments(st.Data, make([]Attachment, maxAttachments))}
		for i := range fl.Steps {
			step := &fl.Steps[i]
			where := f.ID + "/" + step.ID
			checkPrompt(t, where, s.ask(fl, st, step))
			for _, n := range notes {
				checkPrompt(t, where+" re-asked", s.reask(fl, st, step, n).Prompts[0])
			}
			if step.Type == typeConfirm {
				picking := st.clone()
				picking.Data[dataPick] = "1"
				checkPrompt(t, where+" edit list", s.ask(fl, picking, step))
			}
		}
		first, _ := s.Start(f.ID)
		checkPrompt(t, f.ID+" start", first.Prompts[0])
		for name, o := range fl.Endings {
			if o.Kind == OutcomeAnswer {
				checkPrompt(t, f.ID+" ending "+name, s.feedbackPrompt(o.Text))
			}
		}
	}
}

// isGuide reports whether p gives a service guide: those tell everything
// at once (一次性告知) and may be longer than a question.
func isGuide(s *Set, p Prompt) bool {
	head, _, _ := strings.Cut(s.texts.Guide, "{title}")
	return strings.HasPrefix(p.Text, head)
}

// checkGuidePrompt is checkPrompt for a guide: numbered options, and the
// whole within WeChat's 2048 bytes.
func checkGuidePrompt(t *testing.T, where string, p Prompt) {
	t.Helper()
	for i, o := range p.Options {
		if o.ID != strconv.Itoa(i+1) {
			t.Errorf("%s: option %d has ID %q, want %d", where, i+1, o.ID, i+1)
		}
	}
	if n := len(p.String()); n > 2048 {
		t.Errorf("%s: %d bytes, want at most 2048:\n%s", where, n, p)
	}
}
