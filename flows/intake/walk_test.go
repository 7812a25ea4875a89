package intake

import (
	"math/rand/v2"
	"slices"
	"strings"
	"testing"
)

// walkInputs are the kinds of thing citizens send, good and bad.
func walkInputs() []Input {
	ins := []Input{
		{Kind: KindImage, MediaID: "m"}, {Kind: KindLocation, Lat: 30, Lng: 120}, {Kind: KindVideo, MediaID: "v"},
		{Kind: KindLink, URL: "https://example.org"}, {Kind: KindVoice}, {Kind: KindClick, Key: "flow:relief"},
		{Kind: KindClick, Key: "action:kb"}, {Kind: KindClick, Key: "action:status"}, {Kind: KindClick, Key: "bogus"},
		{Text: strings.Repeat("长", 10000)}, {Text: "2", Key: "2"}, {Key: "1"},
	}
	for _, t := range []string{"1", "2", "3", "4", "5", "6", "7", "8", "9", "0", "10", "一", "第二个", "返回", "取消",
		"人工", "帮助", "进度", "菜单", "确认", "修改", "没有", "跳过", "😀", "[微笑]", "", "城关街道", "低保怎么申请",
		"13812345678", "1381234", "11010519491231002X", "440308199001011234", "明天", "2026年2月30日", "2026年12月1日",
		"好的", "没解决", "已解决", "投诉", "电话"} {
		ins = append(ins, Input{Text: t})
	}
	for i := range ins {
		ins[i].At = arrival
	}
	return ins
}

// TestRandomWalk feeds random messages to the interpreter from every start
// and checks that it never panics, never loses track of its state, and
// keeps every prompt numbered and short.
func TestRandomWalk(t *testing.T) {
	s := defaultSet(t)
	ins := walkInputs()
	rng := rand.New(rand.NewPCG(1, 2))
	starts := []State{{}}
	for _, f := range s.Flows() {
		r, _ := s.Start(f.ID)
		starts = append(starts, r.State)
	}
	for _, start := range starts {
		st := start
		for i := range 800 {
			in := ins[rng.IntN(len(ins))]
			r := s.Step(st, in)
			for _, p := range r.Prompts {
				if isGuide(s, p) {
					checkGuidePrompt(t, "walk", p)
				} else {
					checkPrompt(t, "walk", p)
				}
			}
			if r.Outcome == nil && len(r.Prompts) == 0 && r.Command == "" {
				t.Fatalf("step %d from %+v with %+v: nothing to say", i, st, in)
			}
			if f := r.State.Flow; f != "" && f != kbFlow && s.flows[f] == nil {
				t.Fatalf("step %d: unknown flow %q", i, f)
			}
			if r.State.Flow != "" && r.State.Step != stepFeedback && r.State.Flow != kbFlow &&
				r.State.Step != stepGuideOffer && r.State.Step != stepGuidePick {
				if _, ok := s.flows[r.State.Flow].step(r.State.Step); !ok {
					t.Fatalf("step %d: unknown step %q in %q", i, r.State.Step, r.State.Flow)
				}
			}
			// A matter needs a phone to call back, except a report (which
			// may be anonymous), a suggestion or praise (answered if the
			// citizen wants), and urgent need (answered in chat at once).
			if o := r.Outcome; o != nil && o.Kind == OutcomeTicket && (o.Inquiry == "" ||
				o.Phone == "" && o.Intent != IntentUrgent && !slices.Contains([]string{"report", "suggestion", "praise"}, o.Inquiry)) {
				t.Fatalf("step %d: ticket without phone or inquiry: %+v", i, r.Outcome)
			}
			st = r.State
			if st.Flow == "" && rng.IntN(4) == 0 {
				st = starts[rng.IntN(len(starts))]
			}
		}
	}
}

func FuzzStep(f *testing.F) {
	s, err := Load(Defaults(), "")
	if err != nil {
		f.Fatal(err)
	}
	for _, in := range walkInputs() {
		if in.Kind == "" {
			f.Add("relief", "town", in.Text)
			f.Add("", "", in.Text)
		}
	}
	f.Add("marriage", "date", "二〇二六年十一月二十八日")
	f.Add("elderly", "elder_id", "４４０３０８１９９００１０１１２３９")
	f.Fuzz(func(t *testing.T, flow, step, text string) {
		st := State{Flow: flow, Step: step, Back: []string{"matter"}, Data: map[string]string{"matter": "低保申请"}}
		r := s.Step(st, Input{Text: text, At: arrival})
		for _, p := range r.Prompts {
			if len(p.String()) > 2048 {
				t.Errorf("prompt of %d bytes exceeds a WeChat text", len(p.String()))
			}
		}
	})
}
