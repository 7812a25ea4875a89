package intake

import (
	"slices"
	"strconv"
	"strings"

	"huimin/chat"
)

// guideFile is guides.yaml or guides-*.yaml: the service guides (办事指南).
type guideFile struct {
	Guides []guideDef `yaml:"guides"`
}

// guideDef is the guide of one typical matter of a service line. It holds
// only what national rules state in general words; where and when come
// from the configured office of its line, the time limit from the desk's
// deadlines, and a field left empty is left out of what citizens read.
type guideDef struct {
	ID    string `yaml:"id"`
	Line  string `yaml:"line"`
	Title string `yaml:"title"`
	// Who is who may apply (申请对象/条件).
	Who string `yaml:"who"`
	// Materials are the documents to bring, one per entry.
	Materials []string `yaml:"materials"`
	// Basis names the national instruments the matter rests on.
	Basis []string `yaml:"basis"`
	// Fee is stated only where a national rule says so.
	Fee string `yaml:"fee"`
	// Office is who answers for the matter: a department or agency ID, or
	// a service line; default the guide's line.
	Office string `yaml:"office"`
	// Inquiry is the inquiry type whose deadline is the matter's time
	// limit; default help (an application).
	Inquiry  string   `yaml:"inquiry"`
	Keywords []string `yaml:"keywords"`
}

// guideInquiry is the inquiry type of a guide that names none: citizens
// apply for the matter.
const guideInquiry = "help"

func isGuideFile(name string) bool {
	return name == "guides.yaml" || strings.HasPrefix(name, "guides-") && strings.HasSuffix(name, ".yaml")
}

// Guide is one service guide as the bureau publishes it, with its office
// and time limit resolved from the configuration. Empty fields are unknown
// and are left out wherever it is shown.
type Guide struct {
	ID, Line, Title, Who string
	Materials, Basis     []string
	Fee                  string
	// Inquiry is the inquiry type whose deadline is the time limit.
	Inquiry string
	// Office is who answers for it, when one is configured (HasOffice).
	Office    Office
	HasOffice bool
	// LimitDays and LimitHours are the desk's deadline for the matter
	// (working days, or working hours); both zero when not configured.
	LimitDays, LimitHours int
}

// Limit is a deadline as the desk counts it: working days, or working
// hours when Hours is set.
type Limit struct {
	Days, Hours int
}

// guide resolves guide i for citizens.
func (s *Set) guide(i int) Guide {
	g := s.guides[i]
	out := Guide{ID: g.ID, Line: g.Line, Title: g.Title, Who: strings.TrimSpace(g.Who), Fee: strings.TrimSpace(g.Fee),
		Inquiry: cmpOr(g.Inquiry, guideInquiry)}
	for _, m := range g.Materials {
		if m = strings.TrimSpace(m); m != "" {
			out.Materials = append(out.Materials, m)
		}
	}
	for _, b := range g.Basis {
		if b = strings.TrimSpace(b); b != "" {
			out.Basis = append(out.Basis, b)
		}
	}
	out.Office, out.HasOffice = s.office(cmpOr(g.Office, g.Line))
	if s.opts.Limit != nil {
		l := s.opts.Limit(g.Line, out.Inquiry)
		out.LimitDays, out.LimitHours = l.Days, l.Hours
	}
	return out
}

// Guides lists the service guides in file order, defaults first.
func (s *Set) Guides() []Guide {
	out := make([]Guide, len(s.guides))
	for i := range s.guides {
		out[i] = s.guide(i)
	}
	return out
}

// Guide returns the guide with the ID.
func (s *Set) Guide(id string) (Guide, bool) {
	i := slices.IndexFunc(s.guides, func(g guideDef) bool { return g.ID == id })
	if i < 0 {
		return Guide{}, false
	}
	return s.guide(i), true
}

// FindGuide finds the guide ref names: its ID, its title, or words its
// keywords or title occur in (高龄津贴). With ref empty it is the first
// guide of line. It reports false when nothing fits.
func (s *Set) FindGuide(ref, line string) (Guide, bool) {
	ref = strings.TrimSpace(ref)
	if ref == "" {
		i := slices.IndexFunc(s.guides, func(g guideDef) bool { return g.Line == line })
		if i < 0 {
			return Guide{}, false
		}
		return s.guide(i), true
	}
	if g, ok := s.Guide(ref); ok {
		return g, true
	}
	c := clean(ref)
	for i, g := range s.guides {
		if clean(g.Title) == c {
			return s.guide(i), true
		}
	}
	// Words: the guide whose title holds them, or with the most of its
	// keywords' parts in them (an officer writes 年检, not a question);
	// the guide of the line wins a tie.
	best, bestScore := -1, 0
	f := fold(ref)
	for i, g := range s.guides {
		score := 0
		if strings.Contains(fold(g.Title), f) {
			score = len(f)
		}
		for _, parts := range s.guideKeys[i] {
			n := 0
			for _, p := range parts {
				if strings.Contains(f, p) {
					n += len(p)
				}
			}
			score = max(score, n)
		}
		if score > bestScore || score > 0 && score == bestScore && g.Line == line && s.guides[best].Line != line {
			best, bestScore = i, score
		}
	}
	if best < 0 {
		return Guide{}, false
	}
	return s.guide(best), true
}

// guideBytes caps a guide's text: with the feedback options or a question
// after it, a reply stays within WeChat's 2048 bytes.
const guideBytes = 1800

// GuideText is the guide as one message (一次性告知): who may apply, the
// materials, the time limit, the fee and the legal basis, then the office
// with its address, hours and phone as configured. A line whose field is
// empty is left out; the text is cut to fit a WeChat message.
func (s *Set) GuideText(g Guide) string {
	t := s.texts
	var materials []string
	for i, m := range g.Materials {
		materials = append(materials, fill(t.GuideMaterial, "{n}", strconv.Itoa(i+1), "{item}", m))
	}
	limit := ""
	switch {
	case g.LimitHours > 0:
		limit = fill(t.GuideLimitHours, "{n}", strconv.Itoa(g.LimitHours))
	case g.LimitDays > 0:
		limit = fill(t.GuideLimitDays, "{n}", strconv.Itoa(g.LimitDays))
	}
	list := ""
	if len(materials) > 0 {
		list = "\n" + strings.Join(materials, "\n") // one a line, under the label
	}
	fields := []string{"{title}", g.Title, "{who}", g.Who, "{materials}", list,
		"{limit}", limit, "{fee}", g.Fee, "{basis}", strings.Join(g.Basis, t.GuideBasisSep)}
	var lines []string
	for line := range strings.SplitSeq(t.Guide, "\n") {
		if !lacksField(line, fields) {
			lines = append(lines, fill(line, fields...))
		}
	}
	text := strings.Join(lines, "\n")
	if g.HasOffice {
		text = joinLines(text, s.officeBlock(g.Office))
	}
	return chat.CutBytes(text, guideBytes)
}

// guideAnswer gives guide i at once, with 1. 已解决 2. 没解决，转人工.
func (s *Set) guideAnswer(i int, asked string, carry map[string]string) Result {
	g := s.guide(i)
	st := State{Flow: kbFlow, Step: stepFeedback, Data: keepAttachments(carry)}
	st.Data = withData(st.Data, dataAnswer, guidePrefix+g.ID, dataAsked, asked)
	text := s.GuideText(g)
	return Result{
		State:   st,
		Prompts: []Prompt{s.feedbackPrompt(text)},
		Outcome: &Outcome{Kind: OutcomeAnswer, Line: g.Line, Summary: g.Title, Text: text},
	}
}

// guidePrefix marks a guide in the answer given (dataAnswer) and in the
// knowledge base's candidates.
const guidePrefix = "guide:"

// flowGuides are the guides a flow offers before its questions: the one
// it names, else those of its line. A flow that asks which line the
// matter is (the handover flow) offers none unless it names one.
func (s *Set) flowGuides(f *flow) []int {
	if f.Guide != "" {
		if i := slices.IndexFunc(s.guides, func(g guideDef) bool { return g.ID == f.Guide }); i >= 0 {
			return []int{i}
		}
		return nil
	}
	if slices.ContainsFunc(f.Steps, func(st stepDef) bool { return st.Field == fieldLine }) {
		return nil
	}
	var out []int
	for i, g := range s.guides {
		if g.Line == f.Line {
			out = append(out, i)
		}
	}
	if len(out) > 9 {
		out = out[:9]
	}
	return out
}

// The steps of the guide offer, before a flow's first question.
const (
	stepGuideOffer = "_guide"      // 办理前先看办事指南？ 1. 看指南 2. 直接办理
	stepGuidePick  = "_guide_pick" // which of the line's guides
)

// offer asks whether to read f's guide first, after note (the flow's
// intro, or why it is asked again).
func (s *Set) offer(f *flow, note string) Prompt {
	return Prompt{Text: joinLines(note, fill(s.texts.GuideOffer, "{title}", f.Title)), Options: numbered(s.texts.GuideOfferOptions),
		Tail: s.texts.StepTail}
}

// pickPrompt lists the guides to choose from.
func (s *Set) pickPrompt(idx []int, note string) Prompt {
	p := Prompt{Text: joinLines(note, s.texts.GuidePick), Tail: s.texts.StepTail}
	for n, i := range idx {
		p.Options = append(p.Options, Choice{ID: strconv.Itoa(n + 1), Text: s.guides[i].Title})
	}
	return p
}

// offerStep takes the answer to the guide offer (or to which guide): the
// guide is shown and the first question follows; 直接办理 goes straight
// to it. Commands work as at any question.
func (s *Set) offerStep(f *flow, st State, in Input) Result {
	idx := s.flowGuides(f)
	first := &f.Steps[0]
	// begin asks the first question, after the guide when one was shown
	// (the guide and the question go as two messages: the guide may take
	// most of one).
	begin := func(guide ...Prompt) Result {
		st.Step = first.ID
		q := s.ask(f, st, first)
		if len(guide) > 0 {
			q.Text = joinLines(s.texts.GuideThen, q.Text)
		}
		return Result{State: st, Prompts: append(guide, q)}
	}
	if len(idx) == 0 {
		return begin() // a reload took the guides away
	}
	again := func(note string) Result {
		if st.Step == stepGuidePick {
			return Result{State: st, Prompts: []Prompt{s.pickPrompt(idx, note)}}
		}
		return Result{State: st, Prompts: []Prompt{s.offer(f, note)}}
	}
	show := func(i int) Result {
		return begin(Prompt{Text: s.GuideText(s.guide(i))})
	}
	kind := kindOf(in.Kind)
	if kind == KindClick {
		if r, ok := s.startByKey(in.Key, keepAttachments(st.Data)); ok {
			r.Done = true
			return r
		}
		return again("")
	}
	if attachable(kind) {
		list := attachments(st.Data)
		if len(list) >= maxAttachments {
			return again(fill(s.texts.AttachLimit, "{max}", strconv.Itoa(maxAttachments)))
		}
		st.Data = setAttachments(st.Data, append(list, attachmentOf(in, kind)))
		r := again(fill(s.texts.AttachNoted, "{what}", s.texts.Kinds[kind]))
		r.Attachments = []Attachment{attachmentOf(in, kind)}
		return r
	}
	text := answerText(in)
	switch s.Command(text) {
	case "":
	case CmdBack:
		if st.Step == stepGuidePick {
			st.Step = stepGuideOffer
			return again("")
		}
		return again(s.texts.FirstStep)
	case CmdHelp:
		r := again("")
		r.Prompts = append([]Prompt{s.Help()}, r.Prompts...)
		return r
	case CmdStatus:
		r := again("")
		r.Command = CmdStatus
		return r
	case CmdHuman:
		out := s.outcome(f, st, OutcomeHandover)
		out.Text = s.texts.Handover
		return Result{Outcome: out, Done: true}
	default:
		return s.cancel()
	}
	if !meaningful(text) {
		return again(s.emptyNote(kind, text))
	}
	if st.Step == stepGuidePick {
		names := make([][]string, len(idx))
		for n, i := range idx {
			names[n] = []string{s.guides[i].Title}
		}
		n, ok := matchChoice(text, names, true)
		if !ok {
			return again(fill(s.texts.InvalidChoice, "{n}", strconv.Itoa(len(idx))))
		}
		return show(idx[n])
	}
	n, ok := matchChoice(text, wordsOf(s.texts.GuideOfferOptions), true)
	switch {
	case !ok && ordinal(text) == 0:
		// Not an answer to the offer: the citizen went straight on, and
		// this answers the first question.
		st.Step = first.ID
		return s.Step(st, in)
	case !ok:
		return again(fill(s.texts.InvalidChoice, "{n}", strconv.Itoa(len(s.texts.GuideOfferOptions))))
	case n == 1:
		return begin()
	case len(idx) == 1:
		return show(idx[0])
	default:
		st.Step = stepGuidePick
		return again("")
	}
}
