package intake

import (
	"cmp"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"huimin/chat"
)

// kbMatch is one knowledge-base entry or guide that matched a question.
type kbMatch struct {
	entry int  // index into Set.kb, or into Set.guides for a guide
	guide bool // a service guide rather than an entry
	cover int  // characters of the question covered by matched keywords
	best  int  // characters of the longest keyword matched
}

// kbRank finds the entries and guides whose keywords occur in text, best
// first: the one whose matched keywords cover more of the question wins,
// then the one with the longer keyword, then a guide before an entry (it
// tells everything at once). A keyword "低保+材料" needs both parts.
func (s *Set) kbRank(text string) []kbMatch {
	t := fold(text)
	var ms []kbMatch
	for i, e := range s.kb {
		if m, ok := keywordMatch(t, e.parts); ok {
			m.entry = i
			ms = append(ms, m)
		}
	}
	for i, keys := range s.guideKeys {
		if m, ok := keywordMatch(t, keys); ok {
			m.entry, m.guide = i, true
			ms = append(ms, m)
		}
	}
	slices.SortStableFunc(ms, func(a, b kbMatch) int {
		return cmp.Or(cmp.Compare(b.cover, a.cover), cmp.Compare(b.best, a.best), compareBool(b.guide, a.guide))
	})
	return ms
}

func compareBool(a, b bool) int {
	switch {
	case a == b:
		return 0
	case a:
		return 1
	default:
		return -1
	}
}

// keywordMatch measures how the keywords (each split into parts that must
// all occur) match the folded text t.
func keywordMatch(t string, keys [][]string) (kbMatch, bool) {
	var m kbMatch
	var covered []bool
	for _, parts := range keys {
		length := 0
		for _, part := range parts {
			if !strings.Contains(t, part) {
				length = 0
				break
			}
			length += utf8.RuneCountInString(part)
		}
		if length == 0 {
			continue
		}
		m.best = max(m.best, length)
		if covered == nil {
			covered = make([]bool, len(t))
		}
		for _, part := range parts {
			for from := 0; ; {
				at := strings.Index(t[from:], part)
				if at < 0 {
					break
				}
				for b := from + at; b < from+at+len(part); b++ {
					covered[b] = true
				}
				from += at + len(part)
			}
		}
	}
	for _, c := range covered {
		if c {
			m.cover++
		}
	}
	return m, m.best > 0
}

// kbSearch answers text from the knowledge base: at once when one entry
// matches best, or by asking which of up to three equally good ones was
// meant. It reports false when nothing matches.
func (s *Set) kbSearch(text string, carry map[string]string) (Result, bool) {
	ms := s.kbRank(text)
	if len(ms) == 0 {
		return Result{}, false
	}
	asked := chat.Cut(strings.TrimSpace(text), maxAsked)
	if ms[0].guide {
		// A guide that matches as well as any entry answers with
		// everything at once (一次性告知).
		return s.guideAnswer(ms[0].entry, asked, carry), true
	}
	if len(ms) == 1 || ms[0].cover > ms[1].cover || ms[0].best > ms[1].best {
		return s.kbAnswer(ms[0].entry, asked, carry), true
	}
	var ids []string
	p := Prompt{Text: s.texts.KBPick, Tail: s.texts.StepTail}
	for _, m := range ms {
		if m.cover != ms[0].cover || m.best != ms[0].best || len(ids) == 3 {
			break
		}
		ids = append(ids, s.kb[m.entry].ID)
		p.Options = append(p.Options, Choice{ID: strconv.Itoa(len(ids)), Text: s.kb[m.entry].Question})
	}
	st := State{Flow: kbFlow, Step: kbPick, Data: keepAttachments(carry)}
	st.Data = withData(st.Data, dataCandidates, strings.Join(ids, ","), dataAsked, asked)
	return Result{State: st, Prompts: []Prompt{p}}, true
}

// kbAnswer gives entry i's answer with 1. 已解决 2. 没解决，转人工.
func (s *Set) kbAnswer(i int, asked string, carry map[string]string) Result {
	e := s.kb[i]
	st := State{Flow: kbFlow, Step: stepFeedback, Data: keepAttachments(carry)}
	st.Data = withData(st.Data, dataAnswer, "kb:"+e.ID, dataAsked, asked)
	answer := s.withOffice(e.Answer, e.office())
	return Result{
		State:   st,
		Prompts: []Prompt{s.feedbackPrompt(answer)},
		Outcome: &Outcome{Kind: OutcomeAnswer, Line: e.Line, Summary: e.Question, Text: answer},
	}
}

// office is who the entry's answer sends the citizen to: its office, or
// whoever answers for its line.
func (e kbEntry) office() string {
	return cmpOr(e.Office, e.Line)
}

// kbStep continues a conversation with the knowledge base.
func (s *Set) kbStep(st State, in Input) Result {
	if st.Step == stepFeedback {
		return s.feedback(st, in)
	}
	carry := keepAttachments(st.Data)
	text := answerText(in)
	kind := kindOf(in.Kind)
	if kind == KindText || kind == KindVoice {
		if s.Command(text) == "" && meaningful(text) {
			switch st.Step {
			case kbList:
				names := make([][]string, len(s.featured))
				for i, k := range s.featured {
					names[i] = []string{s.kb[k].Question}
				}
				if i, ok := matchChoice(text, names, false); ok {
					return s.kbAnswer(s.featured[i], "", carry)
				}
				if r, ok := s.kbSearch(text, carry); ok {
					return r
				}
				p := Prompt{Text: s.texts.KBNone, Options: numbered(s.texts.KBNoneOptions)}
				asked := chat.Cut(strings.TrimSpace(text), maxAsked)
				return Result{State: State{Flow: kbFlow, Step: kbNone, Data: withData(carry, dataAsked, asked)}, Prompts: []Prompt{p}}
			case kbPick:
				ids := strings.Split(st.Data[dataCandidates], ",")
				var names [][]string
				var idx []int
				for _, id := range ids {
					if i := slices.IndexFunc(s.kb, func(e kbEntry) bool { return e.ID == id }); i >= 0 {
						names = append(names, []string{s.kb[i].Question})
						idx = append(idx, i)
					}
				}
				if i, ok := matchChoice(text, names, false); ok {
					return s.kbAnswer(idx[i], st.Data[dataAsked], carry)
				}
			case kbNone:
				if i, ok := matchChoice(text, wordsOf(s.texts.KBNoneOptions), true); ok {
					if i == 0 {
						o := &Outcome{Kind: OutcomeHandover, Text: s.texts.Handover, Attachments: attachments(carry)}
						if asked := st.Data[dataAsked]; asked != "" {
							o.Summary = s.texts.AskedLabel + "：" + asked
							o.Fields = map[string]string{"asked": asked}
						}
						return Result{Outcome: o}
					}
					return Result{State: State{Data: carry}, Prompts: []Prompt{s.Menu()}}
				}
			}
		}
	}
	return s.idle(State{Data: carry}, in)
}

// withData returns data with the key-value pairs set, allocating if needed.
func withData(data map[string]string, kv ...string) map[string]string {
	if data == nil {
		data = make(map[string]string)
	}
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] != "" {
			data[kv[i]] = kv[i+1]
		}
	}
	return data
}
