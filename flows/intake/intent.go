package intake

import (
	"fmt"
	"slices"
	"strings"

	"go.yaml.in/yaml/v3"
)

// intentsFileName holds the front door: what free text says a citizen
// wants before the menu is shown (intents.yaml).
const intentsFileName = "intents.yaml"

// Intent actions that are not flows.
const (
	// IntentUrgent is urgent need (no food, no shelter, a person in
	// danger): the engine opens an urgent matter at once and answers with
	// the 24-hour help numbers.
	IntentUrgent = "urgent"
)

// intentsFile is intents.yaml.
type intentsFile struct {
	Intents []intentDef `yaml:"intents"`
}

// intentDef is one intent: the words that show it and what it starts.
type intentDef struct {
	ID string `yaml:"id"`
	// Words match anywhere in a message; Exact only as the whole message.
	Words []string `yaml:"words"`
	Exact []string `yaml:"exact"`
	// Flow is the flow the intent starts; Action is IntentUrgent instead.
	Flow   string `yaml:"flow"`
	Action string `yaml:"action"`
	// Line is the service line of an urgent matter.
	Line string `yaml:"line"`
	// Interrupts makes the intent understood even while the citizen talks
	// with an officer about a ticket: a complaint or a report must not be
	// relayed to the officer it may be about, urgent need must not wait.
	Interrupts bool `yaml:"interrupts"`

	words, exact []string // folded
}

// checkIntents validates intents.yaml against the flows and lines.
func (l *loader) checkIntents(file string, root *yaml.Node, f *intentsFile, flows map[string]*flow, lines map[string]bool) []intentDef {
	var out []intentDef
	seen := map[string]bool{}
	for i, it := range f.Intents {
		at := node(root, "intents", i)
		what := fmt.Sprintf("intent %q", it.ID)
		switch {
		case strings.TrimSpace(it.ID) == "":
			l.fail(file, at, "intent %d: missing id", i+1)
			continue
		case seen[it.ID]:
			l.fail(file, node(at, "id"), "%s listed twice", what)
			continue
		}
		seen[it.ID] = true
		switch {
		case it.Flow != "" && it.Action != "":
			l.fail(file, at, "%s: give a flow or an action, not both", what)
		case it.Flow != "":
			if flows[it.Flow] == nil {
				l.fail(file, node(at, "flow"), "%s: unknown flow %q", what, it.Flow)
			}
		case it.Action == IntentUrgent:
			if !lines[it.Line] {
				l.fail(file, node(at, "line"), "%s: unknown service line %q (an urgent matter needs the line whose department takes it)", what, it.Line)
			}
		case it.Action != "":
			l.fail(file, node(at, "action"), "%s: unknown action %q; want %s", what, it.Action, IntentUrgent)
		default:
			l.fail(file, at, "%s: needs a flow or an action", what)
		}
		if len(it.Words) == 0 && len(it.Exact) == 0 {
			l.fail(file, at, "%s: needs words or exact words", what)
		}
		for _, w := range it.Words {
			if w = clean(w); w != "" {
				it.words = append(it.words, w)
			}
		}
		for _, w := range it.Exact {
			if w = clean(w); w != "" {
				it.exact = append(it.exact, w)
			}
		}
		out = append(out, it)
	}
	return out
}

// intent finds the first intent the text shows, in file order.
func (s *Set) intent(text string) (intentDef, bool) {
	if len(s.intents) == 0 {
		return intentDef{}, false
	}
	c := clean(text)
	for _, it := range s.intents {
		if slices.Contains(it.exact, c) || slices.ContainsFunc(it.words, func(w string) bool { return strings.Contains(c, w) }) {
			return it, true
		}
	}
	return intentDef{}, false
}

// Interrupts reports whether a message with no flow running shows an
// intent that must not be relayed to the officer the citizen is talking
// with (a complaint, a report, urgent need): the engine runs it through
// the flows instead.
func (s *Set) Interrupts(text string) bool {
	it, ok := s.intent(text)
	return ok && it.Interrupts
}

// startIntent starts what an intent names: its flow, or an urgent matter
// opened at once with the citizen's words.
func (s *Set) startIntent(it intentDef, text string, carry map[string]string) Result {
	if it.Action == IntentUrgent {
		text = strings.TrimSpace(text)
		o := &Outcome{
			Kind: OutcomeTicket, Intent: IntentUrgent, Line: it.Line, Inquiry: "help", Urgent: true,
			Fields: map[string]string{fieldDetail: text}, Labels: map[string]string{fieldDetail: s.texts.UrgentLabel},
			Summary: s.texts.UrgentLabel + "：" + text, Attachments: attachments(carry),
		}
		return Result{Outcome: o, Done: true}
	}
	return s.start(s.flows[it.Flow], carry)
}

// fieldDetail is the field of the citizen's own account of the matter.
const fieldDetail = "detail"
