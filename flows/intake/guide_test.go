package intake

import (
	"regexp"
	"strings"
	"testing"
)

// guideOffices is a bureau as a configuration could give it; the contact
// data is test data, not any real office's.
var guideOffices = []Office{
	{ID: "relief", Name: "社会救助科", Lines: []string{"relief"}, Address: "测试路1号", Hours: "工作日上午至下午", Phone: "0000-0000001"},
	{ID: "affairs", Name: "社会事务科", Lines: []string{"elderly", "marriage"}, Phone: "0000-0000002"},
}

// guideSet is the default set with offices and the desk's default limits.
func guideSet(t *testing.T) *Set {
	t.Helper()
	return defaultSet(t).WithOptions(Options{Offices: guideOffices, Limit: func(line, inquiry string) Limit {
		if inquiry == "consult" || inquiry == "help" {
			return Limit{Days: 3}
		}
		return Limit{Days: 7}
	}})
}

func TestLoadGuideErrors(t *testing.T) {
	tests := []struct {
		name, file, body, want string
	}{
		{"unknown line", "guides.yaml", "guides:\n  - id: a\n    line: relief\n    title: 甲\n  - id: b\n    line: lottery\n    title: 乙\n",
			`guides.yaml:6: guide "b": unknown line "lottery"`},
		{"missing title", "guides.yaml", "guides:\n  - id: a\n    line: relief\n    who: 谁都可以\n",
			`guides.yaml:2: guide "a": missing title`},
		{"duplicate id in one file", "guides.yaml", "guides:\n  - id: a\n    line: relief\n    title: 甲\n  - id: a\n    line: elderly\n    title: 乙\n",
			`guides.yaml:5: guide id "a" is already used in`},
		{"duplicate id of a default guide", "guides-local.yaml", "guides:\n  - id: dibao\n    line: relief\n    title: 低保\n",
			`guides-local.yaml:2: guide id "dibao" is already used in defaults/guides.yaml`},
		{"empty material", "guides.yaml", "guides:\n  - id: a\n    line: relief\n    title: 甲\n    materials: [身份证, ' ']\n",
			`guides.yaml:5: guide "a": empty material`},
		{"unknown key", "guides.yaml", "guides:\n  - id: a\n    line: relief\n    title: 甲\n    amount: 很多\n",
			`guides.yaml:5: unknown key "amount"`},
		{"flow names a guide that is not there", "extra.yaml", strings.Replace(goodFlow, "inquiry: help\n", "inquiry: help\nguide: nope\n", 1),
			`extra.yaml:5: guide "nope": no guide has that id`},
		{"flow names a guide of another line", "extra.yaml", strings.Replace(goodFlow, "inquiry: help\n", "inquiry: help\nguide: gaoling\n", 1),
			`extra.yaml:5: guide "gaoling" is of line "elderly"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			writeFiles(t, dir, map[string]string{tt.file: tt.body})
			_, err := Load(Defaults(), dir)
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Load() = %v, want an error containing %q", err, tt.want)
			}
			if !strings.Contains(err.Error(), dir) {
				t.Errorf("error %q does not name the bureau's file", err)
			}
		})
	}
}

// TestDefaultGuidesCoverTheSevenLines checks that every service line has
// a guide, each with what a citizen needs to come once.
func TestDefaultGuidesCoverTheSevenLines(t *testing.T) {
	lines := map[string]int{}
	for _, g := range defaultSet(t).Guides() {
		lines[g.Line]++
		if g.Title == "" || g.Who == "" || len(g.Materials) == 0 {
			t.Errorf("guide %s lacks who may apply or the materials: %+v", g.ID, g)
		}
	}
	for _, l := range []string{"relief", "veterans", "military", "elderly", "community", "marriage", "socialorg"} {
		if lines[l] == 0 {
			t.Errorf("line %s has no guide", l)
		}
	}
	if lines["relief"] < 3 {
		t.Errorf("relief has %d guides, want 低保, 特困 and 临时救助", lines["relief"])
	}
}

// TestGuidesStateNoLocalFigures scans every field of every guide: no
// amount, age or percentage with a figure, and no phone number — those
// are local and come from the bureau's configuration.
func TestGuidesStateNoLocalFigures(t *testing.T) {
	bad := []*regexp.Regexp{
		regexp.MustCompile(`[0-9０-９]+\s*(元|块|岁|周岁|%|％)`),
		regexp.MustCompile(`[零一二三四五六七八九十百千万两]+\s*(元|块|岁|%|％)`),
		regexp.MustCompile(`百分之`),
		regexp.MustCompile(`1[3-9][0-9]{9}|[0-9]{3,4}-?[0-9]{7,8}|[0-9]{5,}`),
	}
	// National wording that may stand: 《社会救助暂行办法》 on 特困人员.
	allowed := strings.NewReplacer("未满16周岁", "")
	s := defaultSet(t)
	for _, g := range s.guides {
		fields := append([]string{g.Title, g.Who, g.Fee, g.Office}, g.Materials...)
		fields = append(append(fields, g.Basis...), g.Keywords...)
		for _, f := range fields {
			for _, re := range bad {
				if m := re.FindString(allowed.Replace(f)); m != "" {
					t.Errorf("guide %s states %q in %q: local figures and contacts come from configuration", g.ID, m, f)
				}
			}
		}
	}
}

func TestKnowledgeBaseAnswersWithTheWholeGuide(t *testing.T) {
	s := guideSet(t)
	tests := []struct {
		ask, guide string
		want       []string
	}{
		{"高龄津贴要带什么材料", "gaoling", []string{"【办事指南】高龄津贴申请", "申请对象：达到当地规定年龄", "所需材料：\n1. 老年人有效身份证件、户口簿\n2. ",
			"办结时限：受理后3个工作日内办结", "办理依据：《中华人民共和国老年人权益保障法》", "办理部门：社会事务科\n电话：0000-0000002"}},
		{"怎么办低保", "dibao", []string{"【办事指南】最低生活保障（低保）申请", "办理依据：《社会救助暂行办法》、《最低生活保障审核确认办法》",
			"办理部门：社会救助科\n地址：测试路1号\n办公时间：工作日上午至下午\n电话：0000-0000001"}},
		{"低保要带什么", "dibao", []string{"所需材料："}},
		{"结婚登记要带什么材料", "jiehun", []string{"《婚姻登记条例》", "办理部门：社会事务科"}},
	}
	for _, tt := range tests {
		t.Run(tt.ask, func(t *testing.T) {
			r := s.Idle(text(tt.ask))
			if got := r.State.Data[dataAnswer]; got != guidePrefix+tt.guide {
				t.Fatalf("Idle(%q) answered %q (said %q), want the guide %s", tt.ask, got, said(r), tt.guide)
			}
			if r.Outcome == nil || r.Outcome.Kind != OutcomeAnswer || len(r.Prompts) != 1 || len(r.Prompts[0].Options) != 2 {
				t.Fatalf("result %+v, want one answer with the two feedback options", r)
			}
			got := said(r)
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("answer lacks %q:\n%s", w, got)
				}
			}
			// The office comes last, then 已解决 / 没解决，转人工.
			if i, j := strings.Index(got, "办理部门"), strings.Index(got, "办理依据"); i < j {
				t.Errorf("office at %d before the basis at %d: the contact ends the guide", i, j)
			}
			if strings.Contains(got, "收费") || strings.Contains(got, "{") {
				t.Errorf("answer %q shows a fee no national rule sets, or a placeholder", got)
			}
			if n := len(got); n > 2048 {
				t.Errorf("answer is %d bytes, over WeChat's 2048", n)
			}
		})
	}

	// Not solved: a person takes it with the guide's title and the words.
	r := s.Step(s.Idle(text("怎么办低保")).State, text("2"))
	if o := r.Outcome; o == nil || o.Kind != OutcomeHandover || o.Line != "relief" || o.Fields["asked"] != "怎么办低保" ||
		!strings.Contains(o.Summary, "最低生活保障（低保）申请") {
		t.Errorf("not solved: outcome %+v, want a handover of the relief line with the guide and the words", r.Outcome)
	}
}

// TestGuideLeavesOutEmptyFields checks that a guide says only what it
// has: no empty 所需材料, 收费, 办理依据 or 办结时限 line, and no office
// nobody configured; a fee and an office named by the guide show.
func TestGuideLeavesOutEmptyFields(t *testing.T) {
	dir := t.TempDir()
	writeFiles(t, dir, map[string]string{"guides-local.yaml": `guides:
  - id: bare
    line: community
    title: 最简指南
    who: 本社区居民。
    keywords: [最简指南]
  - id: priced
    line: community
    title: 有费用的指南
    fee: 不收费
    office: affairs
    keywords: [有费用的指南]
`})
	set, err := Load(Defaults(), dir)
	if err != nil {
		t.Fatal(err)
	}
	bare := said(set.Idle(text("最简指南")))
	if !strings.Contains(bare, "【办事指南】最简指南\n申请对象：本社区居民。") {
		t.Errorf("bare guide %q lacks its title and who", bare)
	}
	for _, n := range []string{"所需材料", "收费", "办理依据", "办结时限", "办理部门", "{"} {
		if strings.Contains(bare, n) {
			t.Errorf("bare guide %q shows %q although it has none", bare, n)
		}
	}
	s := set.WithOptions(Options{Offices: guideOffices, Limit: func(string, string) Limit { return Limit{Hours: 2} }})
	priced := said(s.Idle(text("有费用的指南")))
	for _, w := range []string{"收费：不收费", "办结时限：受理后2个工作小时内办结", "办理部门：社会事务科\n电话：0000-0000002"} {
		if !strings.Contains(priced, w) {
			t.Errorf("guide %q lacks %q", priced, w)
		}
	}
	if strings.Contains(priced, "申请对象") {
		t.Errorf("guide %q shows who may apply although it says nothing of it", priced)
	}
}

func TestFlowOffersTheGuideFirst(t *testing.T) {
	s := guideSet(t)
	start := func(t *testing.T, flowID string) Result {
		t.Helper()
		r, err := s.Start(flowID)
		if err != nil {
			t.Fatal(err)
		}
		if r.State.Step != stepGuideOffer || !strings.Contains(said(r), "办理前先看办事指南？") ||
			len(r.Prompts[0].Options) != 2 || r.Prompts[0].Options[0].Text != "看指南" || r.Prompts[0].Options[1].Text != "直接办理" {
			t.Fatalf("Start(%s) = %+v said %q, want the offer 1. 看指南 2. 直接办理", flowID, r.State, said(r))
		}
		return r
	}
	t.Run("看指南 on a line with one guide shows it, then the first question", func(t *testing.T) {
		r := s.Step(start(t, "veterans").State, text("1"))
		if r.State.Step != "matter" || len(r.Prompts) != 2 || !strings.HasPrefix(r.Prompts[1].Text, "以上是办事指南。下面开始登记您的事情：\n请问是") {
			t.Fatalf("state %+v with %d prompts, want the guide and the first question", r.State, len(r.Prompts))
		}
		for _, w := range []string{"【办事指南】优抚对象抚恤补助申请", "《军人抚恤优待条例》", "办结时限：受理后3个工作日内办结", "以上是办事指南", "请问是"} {
			if !strings.Contains(said(r), w) {
				t.Errorf("said %q, want %q", said(r), w)
			}
		}
		// The flow goes on as if the guide had not been asked for.
		if r = s.Step(r.State, text("1")); r.State.Step == "matter" || r.State.Flow != "veterans" {
			t.Errorf("after the first answer at %+v, want the next question", r.State)
		}
	})
	t.Run("看指南 on a line with several guides asks which", func(t *testing.T) {
		r := s.Step(start(t, "relief").State, text("看指南"))
		if r.State.Step != stepGuidePick || !strings.Contains(said(r), "1. 最低生活保障（低保）申请\n2. 特困人员救助供养申请\n3. 临时救助申请") {
			t.Fatalf("state %+v said %q, want the relief guides to pick from", r.State, said(r))
		}
		back := s.Step(r.State, text("返回"))
		if back.State.Step != stepGuideOffer {
			t.Errorf("返回 from the list went to %q, want the offer", back.State.Step)
		}
		r = s.Step(r.State, text("2"))
		if r.State.Step != "matter" || !strings.Contains(said(r), "【办事指南】特困人员救助供养申请") || !strings.Contains(said(r), "《特困人员认定办法》") {
			t.Errorf("state %+v said %q, want the 特困 guide and the first question", r.State, said(r))
		}
	})
	t.Run("直接办理 asks the first question at once", func(t *testing.T) {
		r := s.Step(start(t, "elderly").State, text("2"))
		if r.State.Step != "matter" || len(r.Prompts) != 1 || strings.Contains(said(r), "办事指南") || !strings.Contains(said(r), "1. 高龄津贴") {
			t.Errorf("state %+v said %q, want only the first question", r.State, said(r))
		}
	})
	t.Run("an answer to the first question skips the offer", func(t *testing.T) {
		r := s.Step(start(t, "elderly").State, text("养老院"))
		if r.State.Data["matter"] == "" || r.State.Step == "matter" {
			t.Errorf("state %+v said %q, want 养老院 taken as the matter", r.State, said(r))
		}
	})
	t.Run("取消 and 人工 work at the offer", func(t *testing.T) {
		if r := s.Step(start(t, "relief").State, text("取消")); !r.Done || r.State.Flow != "" {
			t.Errorf("取消: %+v, want the flow ended", r)
		}
		if r := s.Step(start(t, "relief").State, text("人工")); r.Outcome == nil || r.Outcome.Kind != OutcomeHandover || r.Outcome.Line != "relief" {
			t.Errorf("人工: outcome %+v, want a handover of the line", r.Outcome)
		}
	})
	t.Run("a digit out of range is asked again", func(t *testing.T) {
		if r := s.Step(start(t, "relief").State, text("5")); r.State.Step != stepGuideOffer || !strings.Contains(said(r), "请回复数字1到2") {
			t.Errorf("state %+v said %q, want the offer again", r.State, said(r))
		}
	})
	t.Run("the handover flow asks at once", func(t *testing.T) {
		r, _ := s.Start("handover")
		if r.State.Step == stepGuideOffer {
			t.Errorf("handover starts with the offer %q, want its question", said(r))
		}
	})
}

// TestFindGuide checks how an officer's words name a guide.
func TestFindGuide(t *testing.T) {
	s := defaultSet(t)
	tests := []struct{ ref, line, want string }{
		{"gaoling", "", "gaoling"},
		{"高龄津贴", "", "gaoling"},
		{"结婚登记", "", "jiehun"},
		{"", "relief", "dibao"},
		{"", "socialorg", "shetuan-dengji"},
		{"年检", "socialorg", "nianjian"},
	}
	for _, tt := range tests {
		g, ok := s.FindGuide(tt.ref, tt.line)
		if !ok || g.ID != tt.want {
			t.Errorf("FindGuide(%q, %q) = %s, %v; want %s", tt.ref, tt.line, g.ID, ok, tt.want)
		}
	}
	if g, ok := s.FindGuide("彩票", ""); ok {
		t.Errorf("FindGuide(彩票) = %s, want none", g.ID)
	}
}

// TestGuidePromptsFit checks the offer and the list of guides as any
// prompt (numbered, short), and every guide with the longest contact a
// bureau might configure within one WeChat message, nothing cut.
func TestGuidePromptsFit(t *testing.T) {
	long := Office{Name: strings.Repeat("很长的科室名", 4), Address: strings.Repeat("很长的地址", 12), Hours: strings.Repeat("很长的时间", 8), Phone: "0000-0000000 转 0000"}
	var offices []Office
	for _, l := range []string{"relief", "veterans", "military", "elderly", "community", "marriage", "socialorg"} {
		o := long
		o.ID, o.Lines = l, []string{l}
		offices = append(offices, o)
	}
	s := defaultSet(t).WithOptions(Options{Offices: offices, Limit: func(string, string) Limit { return Limit{Days: 13} }})
	for _, f := range s.Flows() {
		r, _ := s.Start(f.ID)
		checkPrompt(t, f.ID+" offer", r.Prompts[0])
		if idx := s.flowGuides(s.flows[f.ID]); len(idx) > 1 {
			checkPrompt(t, f.ID+" guide list", s.pickPrompt(idx, s.texts.InvalidChoice))
		}
	}
	for _, g := range s.Guides() {
		text := s.GuideText(g)
		if strings.HasSuffix(text, "…") || !strings.HasSuffix(text, long.Phone) {
			t.Errorf("guide %s was cut:\n%s", g.ID, text)
		}
		checkGuidePrompt(t, g.ID, s.feedbackPrompt(text))
	}
}
