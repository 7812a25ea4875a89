package intake

import (
	"cmp"
	"maps"
	"strings"
	"testing"
	"time"
)

// arrival is when the test messages arrive.
var arrival = time.Date(2026, 11, 2, 10, 0, 0, 0, time.FixedZone("CST", 8*3600))

func defaultSet(t *testing.T) *Set {
	t.Helper()
	s, err := Load(Defaults(), "")
	if err != nil {
		t.Fatalf("Load(defaults) = %v", err)
	}
	return s
}

// text is a text message arriving at the test time.
func text(s string) Input { return Input{Text: s, At: arrival} }

// voice is a voice message with its recognition text.
func voice(s string) Input { return Input{Text: s, Kind: KindVoice, At: arrival} }

// converse starts flowID and answers with each input in turn, failing if
// a flow ends before the last one. It returns the last result.
func converse(t *testing.T, s *Set, flowID string, ins ...Input) Result {
	t.Helper()
	r, err := s.Start(flowID)
	if err != nil {
		t.Fatalf("Start(%q) = %v", flowID, err)
	}
	return replay(t, s, direct(t, s, r), ins...)
}

// direct answers the guide offer that starts a flow (办理前先看办事指南？)
// with 直接办理, failing unless r is that offer: the flow's questions
// follow.
func direct(t *testing.T, s *Set, r Result) Result {
	t.Helper()
	if f := s.flows[r.State.Flow]; f != nil && len(s.flowGuides(f)) == 0 && r.State.Step == f.Steps[0].ID {
		return r // a flow with no guide asks at once
	}
	if r.State.Step != stepGuideOffer || len(r.Prompts) != 1 || !strings.Contains(said(r), "2. 直接办理") {
		t.Fatalf("flow %q starts with %q, want the guide offer", r.State.Flow, said(r))
	}
	r = s.Step(r.State, text("直接办理"))
	if f := s.flows[r.State.Flow]; f == nil || r.State.Step != f.Steps[0].ID {
		t.Fatalf("直接办理 led to %+v, want the flow's first question", r.State)
	}
	return r
}

// replay answers r with each input in turn. When the consent notice is
// shown and the next input is not the answer to it, replay agrees first
// (同意) and checks that the agreement is reported: these tests are about
// the questions, consent_test.go about the notice.
func replay(t *testing.T, s *Set, r Result, ins ...Input) Result {
	t.Helper()
	for i, in := range ins {
		if r.Done || (r.State.Flow == "" && i > 0) {
			t.Fatalf("conversation ended before input %d (%q): %+v", i+1, in.Text, r)
		}
		if r.State.Data[dataConsent] == consentAsking && in.Text != agree {
			if r = s.Step(r.State, text(agree)); !r.Consented {
				t.Fatalf("agreeing to the notice before input %d: %+v", i+1, r)
			}
		}
		r = s.Step(r.State, in)
	}
	return r
}

// agree is the answer that agrees to the consent notice.
const agree = "同意"

// said is everything the prompts of r say.
func said(r Result) string {
	var parts []string
	for _, p := range r.Prompts {
		parts = append(parts, p.String())
	}
	return strings.Join(parts, "\n")
}

func answers(list ...string) []Input {
	ins := make([]Input, len(list))
	for i, a := range list {
		ins[i] = text(a)
	}
	return ins
}

func TestDefaultFlowsHappyPath(t *testing.T) {
	image := Input{Kind: KindImage, MediaID: "m1", URL: "https://img.example/1.jpg", At: arrival}
	tests := []struct {
		flow     string
		ins      []Input
		inquiry  string
		fields   map[string]string
		name     string
		phone    string
		idNumber string
		attached int
		summary  string // a part of the summary
		line     string // the service line, when not the flow's ID
		urgent   bool
	}{
		{
			flow:    "handover",
			ins:     answers("4", "想问问养老院怎么申请", agree, "13700002222", "1"),
			line:    "elderly",
			inquiry: "help",
			fields:  map[string]string{"detail": "想问问养老院怎么申请"},
			phone:   "13700002222",
			summary: "问题：想问问养老院怎么申请",
		},
		{
			flow:    "relief",
			ins:     answers("3", "1", "2", "城关街道", "家里失火，生活有困难", "1", "王阿姨", agree, "13812345678", "1"),
			inquiry: "help",
			fields:  map[string]string{"matter": "临时救助", "urgency": "很急", "town": "城关街道", "detail": "家里失火，生活有困难"},
			name:    "王阿姨", phone: "13812345678",
			summary: "事项：临时救助；紧急程度：很急，生活马上有困难",
			urgent:  true,
		},
		{
			flow:    "veterans",
			ins:     answers("3", "1", "1", "东门街道", "想问优待证怎么办", "1", agree, "139 1234 5678", "好的"),
			inquiry: "consult",
			fields:  map[string]string{"matter": "优待证", "who": "本人", "town": "东门街道", "detail": "想问优待证怎么办"},
			phone:   "13912345678",
		},
		{
			flow:    "military",
			ins:     answers("1", "2", "西湖街道", "家里老人住院，需要帮助", "李先生", agree, "13700001111", "1"),
			inquiry: "help",
			fields:  map[string]string{"matter": "军属家庭帮扶", "town": "西湖街道", "detail": "家里老人住院，需要帮助"},
			name:    "李先生", phone: "13700001111",
		},
		{
			flow:     "elderly",
			ins:      answers("1", agree, "11010519491231002X", "1", "城关街道", "父亲的津贴这个月没到账", "跳过", "13812345678", "1"),
			inquiry:  "consult",
			fields:   map[string]string{"matter": "高龄津贴", "town": "城关街道", "detail": "父亲的津贴这个月没到账"},
			phone:    "13812345678",
			idNumber: "11010519491231002X",
		},
		{
			flow:     "community",
			ins:      append(answers("3", "5", "城关街道东门社区", "小区门口的路灯坏了"), image, text("1"), text("1"), text(agree), text("13600001111"), text("1")),
			inquiry:  "suggestion",
			fields:   map[string]string{"matter": "公共设施", "town": "城关街道东门社区", "detail": "小区门口的路灯坏了"},
			phone:    "13600001111",
			attached: 1,
		},
		{
			flow:    "marriage",
			ins:     answers("1", "2026年11月27日", "1", "小陈", agree, "13500002222", "1"),
			inquiry: "help", // the appointment branch asks no type: the flow's default
			fields:  map[string]string{"matter": "预约结婚登记", "date": "2026-11-27"},
			name:    "小陈", phone: "13500002222",
		},
		{
			flow:    "socialorg",
			ins:     answers("2", "1", "城关书法协会", "年报在哪里填", "1", agree, "13800001234", "1"),
			inquiry: "consult",
			fields:  map[string]string{"matter": "年度检查（年报）", "org": "城关书法协会", "detail": "年报在哪里填"},
			phone:   "13800001234",
		},
		{
			flow:    "complaint",
			ins:     answers("1", "王明", "窗口工作人员让我跑了三趟", "1", "1", "13800001234", "1"),
			line:    "relief",
			inquiry: "complaint",
			fields:  map[string]string{"officer": "王明", "detail": "窗口工作人员让我跑了三趟"},
			phone:   "13800001234",
			summary: "被投诉人：王明",
		},
		{
			flow:    "report",
			ins:     answers("1", "有人去世多年还在冒领低保金", "1", "1", "1", "1"),
			line:    "relief",
			inquiry: "report",
			fields:  map[string]string{"detail": "有人去世多年还在冒领低保金"},
			summary: "举报内容：有人去世多年还在冒领低保金",
		},
		{
			flow:    "suggestion",
			ins:     answers("4", "社区养老服务中心周末也开门就好了", "老李", "1", "1"),
			line:    "elderly",
			inquiry: "suggestion",
			fields:  map[string]string{"detail": "社区养老服务中心周末也开门就好了"},
			name:    "老李",
		},
		{
			flow:    "praise",
			ins:     answers("1", "王明", "耐心帮我整理材料", "1", "1"),
			line:    "relief",
			inquiry: "praise",
			fields:  map[string]string{"officer": "王明", "detail": "耐心帮我整理材料"},
			summary: "表扬对象：王明",
		},
	}
	s := defaultSet(t)
	covered := make(map[string]bool)
	for _, tt := range tests {
		t.Run(tt.flow, func(t *testing.T) {
			covered[tt.flow] = true
			r := converse(t, s, tt.flow, tt.ins...)
			o := r.Outcome
			if o == nil || !r.Done {
				t.Fatalf("last result = %+v, want a finished flow with an outcome; said %q", r, said(r))
			}
			line := cmp.Or(tt.line, tt.flow)
			if o.Kind != OutcomeTicket || o.Flow != tt.flow || o.Line != line || o.Inquiry != tt.inquiry {
				t.Errorf("outcome = %s %s line %s inquiry %s, want ticket %s line %s inquiry %s",
					o.Kind, o.Flow, o.Line, o.Inquiry, tt.flow, line, tt.inquiry)
			}
			if o.Urgent != tt.urgent {
				t.Errorf("urgent = %v, want %v", o.Urgent, tt.urgent)
			}
			for k := range o.Fields {
				if o.Labels[k] == "" {
					t.Errorf("field %s has no label", k)
				}
			}
			if !maps.Equal(o.Fields, tt.fields) {
				t.Errorf("fields = %v, want %v", o.Fields, tt.fields)
			}
			if o.Name != tt.name || o.Phone != tt.phone || o.IDNumber != tt.idNumber {
				t.Errorf("name, phone, ID = %q, %q, %q, want %q, %q, %q", o.Name, o.Phone, o.IDNumber, tt.name, tt.phone, tt.idNumber)
			}
			if len(o.Attachments) != tt.attached {
				t.Errorf("attachments = %d, want %d", len(o.Attachments), tt.attached)
			}
			if !strings.Contains(o.Summary, tt.summary) || strings.Contains(o.Summary, tt.phone) && tt.phone != "" {
				t.Errorf("summary = %q, want it to contain %q and no phone number", o.Summary, tt.summary)
			}
			if o.Text == "" || len(r.Prompts) != 0 || r.State.Flow != "" {
				t.Errorf("result = %+v, want a closing text, no prompts and no flow", r)
			}
		})
	}
	for _, f := range s.Flows() {
		if !covered[f.ID] {
			t.Errorf("default flow %q has no happy-path test", f.ID)
		}
	}
}

func TestDefaultsCoverTheSevenLines(t *testing.T) {
	s := defaultSet(t)
	lines := make(map[string]bool)
	for _, f := range s.Flows() {
		lines[f.Line] = true
	}
	for _, want := range []string{"relief", "veterans", "military", "elderly", "community", "marriage", "socialorg"} {
		if !lines[want] {
			t.Errorf("no default flow serves line %q", want)
		}
	}
	if n := len(s.kb); n < 15 {
		t.Errorf("knowledge base has %d entries, want at least 15", n)
	}
}

func TestConfirmationMasksAndSummarises(t *testing.T) {
	s := defaultSet(t)
	r := converse(t, s, "elderly", answers("1", agree, "11010519491231002X", "1", "城关街道", "父亲的津贴这个月没到账", "1", "13812345678")...)
	got := said(r)
	// The citizen's own phone is shown in full so that a typo can be seen
	// (defect 15); the ID number, checked by its check digit, stays masked.
	for _, want := range []string{"请核对", "老人身份证：110105********002X", "联系电话：13812345678", "类型：咨询政策", "1. 确认提交", "2. 修改", "3. 取消"} {
		if !strings.Contains(got, want) {
			t.Errorf("confirmation %q lacks %q", got, want)
		}
	}
	if strings.Contains(got, "19491231") {
		t.Errorf("confirmation %q shows the ID number in full", got)
	}
}

func TestBack(t *testing.T) {
	s := defaultSet(t)
	tests := []struct {
		name     string
		ins      []Input
		wantStep string
		wantSaid string
		wantBack int
	}{
		{"back one step", answers("1", "返回"), "matter", "请问是哪方面的事", 0},
		{"back at the first step", answers("返回"), "matter", "已经是第一个问题", 0},
		{"back twice", answers("3", "1", "返回", "返回"), "matter", "请问是哪方面的事", 0},
		{"back with voice punctuation", []Input{text("1"), text("2"), voice("上一步。")}, "inquiry", "请问您是想", 1},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := converse(t, s, "relief", tt.ins...)
			if r.State.Step != tt.wantStep || len(r.State.Back) != tt.wantBack || !strings.Contains(said(r), tt.wantSaid) {
				t.Errorf("after %d inputs: step %q back %v said %q, want step %q back %d saying %q",
					len(tt.ins), r.State.Step, r.State.Back, said(r), tt.wantStep, tt.wantBack, tt.wantSaid)
			}
		})
	}
}

func TestBackDropsAbandonedBranch(t *testing.T) {
	s := defaultSet(t)
	// 临时救助 asks how urgent; going back and choosing 低保申请 skips that.
	r := converse(t, s, "relief", answers("3", "1", "返回", "返回", "1", "2", "城关街道", "想申请低保", "1", "1", "13812345678", "1")...)
	if r.Outcome == nil {
		t.Fatalf("no outcome; said %q", said(r))
	}
	if _, ok := r.Outcome.Fields["urgency"]; ok || r.Outcome.Fields["matter"] != "低保申请" {
		t.Errorf("fields = %v, want matter 低保申请 and no urgency from the abandoned branch", r.Outcome.Fields)
	}
}

func TestCancel(t *testing.T) {
	s := defaultSet(t)
	for _, word := range []string{"取消", "退出", "算了", "菜单", "0"} {
		t.Run(word, func(t *testing.T) {
			r := converse(t, s, "relief", text("1"), text("2"), text(word))
			if !r.Done || r.Outcome != nil || r.State.Flow != "" {
				t.Fatalf("result = %+v, want the flow ended with nothing submitted", r)
			}
			if !strings.Contains(said(r), "已取消") || !strings.Contains(said(r), "1. 低保") {
				t.Errorf("said %q, want the cancellation and the menu", said(r))
			}
		})
	}
}

// toConfirm are relief answers up to the confirmation.
func toConfirm() []Input {
	return answers("1", "2", "城关街道", "想申请低保", "1", "王阿姨", "13812345678")
}

func TestConfirmEdit(t *testing.T) {
	s := defaultSet(t)
	tests := []struct {
		name   string
		edit   []Input
		fields map[string]string
		phone  string
	}{
		{
			name:   "change the phone",
			edit:   answers("2", "联系电话", "13900001111", "1"),
			fields: map[string]string{"matter": "低保申请", "town": "城关街道", "detail": "想申请低保"},
			phone:  "13900001111",
		},
		{
			name:   "change the town by number",
			edit:   answers("2", "3", "东门街道", "1"),
			fields: map[string]string{"matter": "低保申请", "town": "东门街道", "detail": "想申请低保"},
			phone:  "13812345678",
		},
		{
			name:   "change the matter into a branch",
			edit:   answers("2", "1", "临时救助", "很急", "1"),
			fields: map[string]string{"matter": "临时救助", "urgency": "很急", "town": "城关街道", "detail": "想申请低保"},
			phone:  "13812345678",
		},
		{
			name:   "back from the picked question to the confirmation",
			edit:   answers("2", "联系电话", "返回", "1"),
			fields: map[string]string{"matter": "低保申请", "town": "城关街道", "detail": "想申请低保"},
			phone:  "13812345678",
		},
		{
			name:   "back from the list to the confirmation",
			edit:   answers("2", "返回", "1"),
			fields: map[string]string{"matter": "低保申请", "town": "城关街道", "detail": "想申请低保"},
			phone:  "13812345678",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			r := converse(t, s, "relief", append(toConfirm(), tt.edit...)...)
			if r.Outcome == nil {
				t.Fatalf("no outcome; said %q", said(r))
			}
			if !maps.Equal(r.Outcome.Fields, tt.fields) || r.Outcome.Phone != tt.phone {
				t.Errorf("fields %v phone %s, want %v phone %s", r.Outcome.Fields, r.Outcome.Phone, tt.fields, tt.phone)
			}
		})
	}
}

func TestConfirmEditReturnsToConfirmation(t *testing.T) {
	s := defaultSet(t)
	r := converse(t, s, "relief", append(toConfirm(), answers("2", "联系电话", "13900001111")...)...)
	if r.State.Step != "confirm" || !strings.Contains(said(r), "13900001111") {
		t.Errorf("step %q said %q, want the confirmation again with the new phone", r.State.Step, said(r))
	}
}

func TestConfirmCancel(t *testing.T) {
	s := defaultSet(t)
	r := converse(t, s, "relief", append(toConfirm(), text("3"))...)
	if !r.Done || r.Outcome != nil || !strings.Contains(said(r), "已取消") {
		t.Errorf("result %+v said %q, want cancelled without an outcome", r, said(r))
	}
}

func TestInvalidInputIsAskedAgain(t *testing.T) {
	long := strings.Repeat("长", 10000)
	tests := []struct {
		name   string
		flow   string
		before []Input // answers that lead to the question
		in     Input
		want   string // a part of the reason
	}{
		{"phone too short", "relief", append(toConfirm()[:6], text(agree)), text("1381234567"), "11位手机号"},
		{"phone in words", "relief", append(toConfirm()[:6], text(agree)), text("就是刚才那个"), "手机号码好像不对"},
		{"ID with a wrong check digit", "elderly", answers("1", agree), text("440308199001011234"), "校验不通过"},
		{"ID of 17 digits", "elderly", answers("1", agree), text("44030819900101123"), "您发的是17位"},
		{"impossible date", "marriage", answers("1"), text("2026年2月30日"), "没看懂这个日期"},
		{"date already past", "marriage", answers("1"), text("2026年10月1日"), "已经过去"},
		{"choice out of range", "relief", nil, text("9"), "请回复数字1到6"},
		{"choice unknown", "relief", nil, text("随便说说"), "请回复数字1到6"},
		{"emoji only", "relief", answers("1", "2"), text("😀😀😀"), "请用文字或语音回答"},
		{"wechat expressions only", "relief", answers("1", "2"), text("[微笑][强]"), "请用文字或语音回答"},
		{"empty voice", "relief", answers("1", "2"), Input{Kind: KindVoice, At: arrival}, "没听清"},
		{"10000 characters at a text question", "relief", answers("1", "2", "城关街道"), text(long), "500个字以内"},
		{"10000 characters at a choice", "relief", nil, text(long), "请回复数字1到6"},
		{"10000 characters at a phone", "relief", append(toConfirm()[:6], text(agree)), text(long), "手机号码好像不对"},
		{"too short", "relief", answers("1", "2"), text("城"), "至少2个字"},
		{"text at an attach step", "relief", answers("1", "2", "城关街道", "想申请低保"), text("照片在家里"), "请发送图片或位置"},
		{"unknown click", "relief", nil, Input{Kind: KindClick, Key: "nope", At: arrival}, "请问是哪方面的事"},
	}
	s := defaultSet(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			before := converse(t, s, tt.flow, tt.before...)
			r := s.Step(before.State, tt.in)
			if r.Done || r.Outcome != nil {
				t.Fatalf("result %+v, want the flow to go on", r)
			}
			if r.State.Step != before.State.Step || !maps.Equal(r.State.Data, before.State.Data) || len(r.State.Back) != len(before.State.Back) {
				t.Errorf("state moved from %+v to %+v, want it unchanged", before.State, r.State)
			}
			got := said(r)
			if !strings.Contains(got, tt.want) {
				t.Errorf("said %q, want %q", got, tt.want)
			}
			if ask := before.Prompts[0].Text; !strings.Contains(got, lastLine(ask)) {
				t.Errorf("said %q, want the question %q again", got, lastLine(ask))
			}
			if len(got) > 600 {
				t.Errorf("re-ask has %d bytes, want at most 600", len(got))
			}
		})
	}
}

func lastLine(s string) string {
	lines := strings.Split(s, "\n")
	return lines[len(lines)-1]
}

func TestVoiceAnswers(t *testing.T) {
	s := defaultSet(t)
	r := converse(t, s, "relief",
		voice("第三个。"), voice("一"), voice("我要投诉。"), voice("城关街道。"), voice("救助金一直没有发下来。"),
		voice("没有。"), voice("王阿姨"), voice("幺三八一二三四五六七八。"), voice("确认。"))
	o := r.Outcome
	if o == nil {
		t.Fatalf("no outcome; said %q", said(r))
	}
	if o.Fields["matter"] != "临时救助" || o.Fields["urgency"] != "很急" || o.Inquiry != "complaint" || o.Phone != "13812345678" {
		t.Errorf("outcome %+v, want 临时救助, 很急, complaint, 13812345678", o)
	}
	r = converse(t, s, "marriage", voice("一"), voice("十一月二十七号。"))
	if got := r.State.Data["date"]; got != "2026-11-27" {
		t.Errorf("date from voice = %q, want 2026-11-27", got)
	}
}

func TestAttachments(t *testing.T) {
	s := defaultSet(t)
	image := Input{Kind: KindImage, MediaID: "m1", URL: "https://img.example/1.jpg", At: arrival}
	location := Input{Kind: KindLocation, Lat: 30.25, Lng: 120.16, Label: "城关街道东门社区", At: arrival}

	t.Run("image mid-flow is attached and the question repeated", func(t *testing.T) {
		before := converse(t, s, "relief", answers("1", "2")...)
		r := s.Step(before.State, image)
		if len(r.Attachments) != 1 || r.Attachments[0].MediaID != "m1" {
			t.Errorf("attachments = %+v, want the image", r.Attachments)
		}
		if r.State.Step != "town" || !strings.Contains(said(r), "已收到图片") || !strings.Contains(said(r), "哪个街道") {
			t.Errorf("step %q said %q, want the note and the same question", r.State.Step, said(r))
		}
		r = replay(t, s, r, answers("城关街道", "想申请低保", "1", "1", "13812345678")...)
		if !strings.Contains(said(r), "附件：图片1个") {
			t.Errorf("confirmation %q lacks the attachment", said(r))
		}
		r = replay(t, s, r, text("1"))
		if r.Outcome == nil || len(r.Outcome.Attachments) != 1 || r.Outcome.Attachments[0].URL != image.URL {
			t.Errorf("outcome %+v, want the image attached", r.Outcome)
		}
	})
	t.Run("attach step takes several until done", func(t *testing.T) {
		r := converse(t, s, "community", append(answers("3", "5", "城关街道东门社区", "路灯坏了"), image, location)...)
		if r.State.Step != "photos" || !strings.Contains(said(r), "已收到位置（共2个）") {
			t.Errorf("step %q said %q, want still at photos with 2 received", r.State.Step, said(r))
		}
		r = replay(t, s, r, answers("没有了", "1", "13600001111", "1")...)
		if r.Outcome == nil || len(r.Outcome.Attachments) != 2 || r.Outcome.Attachments[1].Label != "城关街道东门社区" {
			t.Errorf("outcome %+v, want the image and the location", r.Outcome)
		}
	})
	t.Run("at most nine", func(t *testing.T) {
		r := converse(t, s, "relief", answers("1", "2")...)
		for range 9 {
			r = s.Step(r.State, image)
		}
		r = s.Step(r.State, image)
		if len(r.Attachments) != 0 || len(attachments(r.State.Data)) != 9 || !strings.Contains(said(r), "最多") {
			t.Errorf("10th image: got %d new, %d kept, said %q; want it refused", len(r.Attachments), len(attachments(r.State.Data)), said(r))
		}
	})
	t.Run("image before any flow joins the next matter", func(t *testing.T) {
		r := s.Idle(image)
		if !strings.Contains(said(r), "已收到图片") || r.State.Flow != "" || len(attachments(r.State.Data)) != 1 {
			t.Fatalf("idle image: state %+v said %q", r.State, said(r))
		}
		r = direct(t, s, s.Step(r.State, text("5")))
		r = replay(t, s, r, answers("4", "3", "城关街道东门社区", "楼上漏水", "1", "1", "13600001111", "1")...)
		if r.Outcome == nil || len(r.Outcome.Attachments) != 1 {
			t.Errorf("outcome %+v, want the earlier image attached", r.Outcome)
		}
	})
}

func TestCommandsInsideFlow(t *testing.T) {
	s := defaultSet(t)
	before := converse(t, s, "relief", answers("1", "2")...)

	t.Run("human hands over with the answers so far", func(t *testing.T) {
		r := s.Step(before.State, text("转人工"))
		o := r.Outcome
		if o == nil || o.Kind != OutcomeHandover || o.Line != "relief" || o.Fields["matter"] != "低保申请" || o.Inquiry != "help" || !r.Done {
			t.Errorf("outcome %+v done %v, want a handover carrying matter and inquiry", o, r.Done)
		}
	})
	t.Run("status keeps the place", func(t *testing.T) {
		r := s.Step(before.State, text("进度"))
		if r.Command != CmdStatus || r.State.Step != before.State.Step || !strings.Contains(said(r), "哪个街道") {
			t.Errorf("result %+v, want the status command and the same question", r)
		}
	})
	t.Run("help explains and repeats the question", func(t *testing.T) {
		r := s.Step(before.State, text("帮助"))
		if len(r.Prompts) != 2 || !strings.Contains(r.Prompts[0].Text, "使用说明") || !strings.Contains(r.Prompts[1].Text, "哪个街道") {
			t.Errorf("prompts %+v, want help then the question", r.Prompts)
		}
	})
	t.Run("a status click keeps the place", func(t *testing.T) {
		r := s.Step(before.State, Input{Kind: KindClick, Key: "action:status", At: arrival})
		if r.Command != CmdStatus || r.State.Step != before.State.Step || r.Done {
			t.Errorf("result %+v, want the status command and the same question", r)
		}
	})
	t.Run("a human click hands over with the answers", func(t *testing.T) {
		r := s.Step(before.State, Input{Kind: KindClick, Key: "action:human", At: arrival})
		if r.Outcome == nil || r.Outcome.Kind != OutcomeHandover || r.Outcome.Fields["matter"] != "低保申请" {
			t.Errorf("outcome %+v, want a handover with matter", r.Outcome)
		}
	})
	t.Run("a menu click starts another flow", func(t *testing.T) {
		r := s.Step(before.State, Input{Kind: KindClick, Key: "flow:marriage", At: arrival})
		if r.State.Flow != "marriage" || !r.Done {
			t.Errorf("state %+v done %v, want marriage started and relief ended", r.State, r.Done)
		}
	})
}

func TestStepDoesNotChangeItsInput(t *testing.T) {
	s := defaultSet(t)
	before := converse(t, s, "relief", answers("1", "2")...)
	data := maps.Clone(before.State.Data)
	back := append([]string(nil), before.State.Back...)
	s.Step(before.State, text("城关街道"))
	s.Step(before.State, Input{Kind: KindImage, MediaID: "m"})
	if !maps.Equal(before.State.Data, data) || strings.Join(before.State.Back, ",") != strings.Join(back, ",") {
		t.Errorf("state changed to %+v, want %v %v", before.State, data, back)
	}
}

func TestAnswerAndHandoverEndings(t *testing.T) {
	s := defaultSet(t)
	t.Run("answer, then not solved", func(t *testing.T) {
		r := converse(t, s, "marriage", text("登记要带什么"))
		if r.Outcome == nil || r.Outcome.Kind != OutcomeAnswer || r.Done || !strings.Contains(said(r), "2. 没解决，转人工") {
			t.Fatalf("result %+v said %q, want an answer with feedback options", r, said(r))
		}
		h := s.Step(r.State, text("2"))
		if h.Outcome == nil || h.Outcome.Kind != OutcomeHandover || h.Outcome.Line != "marriage" || !h.Done {
			t.Errorf("after 2: %+v, want a handover on line marriage", h)
		}
		g := s.Step(r.State, text("已解决"))
		if g.Outcome != nil || !g.Done || !strings.Contains(said(g), "很高兴") {
			t.Errorf("after 已解决: %+v, want thanks and the end", g)
		}
		n := s.Step(r.State, text("3"))
		if n.State.Flow != "military" || !n.Done {
			t.Errorf("after 3: %+v, want the message taken as a menu choice", n.State)
		}
	})
	t.Run("handover ending", func(t *testing.T) {
		r := converse(t, s, "socialorg", text("4"))
		if r.Outcome == nil || r.Outcome.Kind != OutcomeHandover || r.Outcome.Line != "socialorg" || !r.Done {
			t.Errorf("result %+v, want a handover", r)
		}
	})
}

func TestStaleState(t *testing.T) {
	s := defaultSet(t)
	tests := []struct {
		st State
		in string
	}{
		{State{Flow: "removed", Step: "x"}, "1"},
		{State{Flow: "relief", Step: "removed"}, "1"},
		{State{Flow: "relief", Step: "town", Back: []string{"removed"}}, "返回"},
		{State{Flow: "relief", Step: "town", Data: map[string]string{dataEditing: "town", dataEdit: "removed"}}, "返回"},
	}
	for _, tt := range tests {
		t.Run(tt.st.Flow+"/"+tt.st.Step+"/"+tt.in, func(t *testing.T) {
			r := s.Step(tt.st, text(tt.in))
			if !r.Done || r.State.Flow != "" || !strings.Contains(said(r), "更新") {
				t.Errorf("result %+v said %q, want the menu with an apology", r, said(r))
			}
		})
	}
}
