package intake

import "testing"

// TestPicturesGoWithTheLinePicked checks defect 16 through the
// interpreter: a picture the bot promised to submit ("会一起提交"), sent
// before a service line is chosen or while describing a matter, goes with
// the matter the citizen then picks from the account menu, the main menu
// or the knowledge base. Each step gets the state the one before returned,
// as the engine saves it.
func TestPicturesGoWithTheLinePicked(t *testing.T) {
	image := Input{Kind: KindImage, MediaID: "m-before", URL: "https://img.example/before.jpg", At: arrival}
	click := func(key string) Input { return Input{Kind: KindClick, Key: key, At: arrival} }
	community := answers("直接办理", "4", "3", "城关街道东门社区", "楼上漏水", "1", "1", "同意", "13600001111", "1")
	tests := []struct {
		name   string
		before []Input // from no flow running, up to and including the picture
		then   []Input // picking a line, and the matter to its end
	}{
		{"before a line, then the account menu", []Input{image},
			append([]Input{click("flow:community")}, community...)},
		{"before a line, then the main menu", []Input{image},
			append(answers("5"), community...)},
		{"while describing a matter, then the account menu", append(answers("1", "直接办理", "1", "2"), image),
			append([]Input{click("flow:community")}, community...)},
		{"while describing a matter, then the knowledge base", append(answers("1", "直接办理", "1", "2"), image),
			[]Input{click("action:kb"), text("低保怎么申请"), text("2")}},
		{"before a line, then a question and a person", []Input{image},
			[]Input{text("低保怎么申请"), text("没解决，转人工")}},
	}
	s := defaultSet(t)
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var st State
			var r Result
			for _, in := range append(tt.before, tt.then...) {
				r = s.Step(st, in)
				st = r.State
			}
			if r.Outcome == nil || r.Outcome.Kind == OutcomeAnswer {
				t.Fatalf("last result %+v (said %q), want a matter submitted", r, said(r))
			}
			if as := r.Outcome.Attachments; len(as) != 1 || as[0].MediaID != "m-before" {
				t.Errorf("%s matter attachments = %+v, want the picture sent before", r.Outcome.Kind, as)
			}
		})
	}
}
