package intake

import (
	"huimin/chat"
	"slices"
	"strings"
	"time"
)

// Set is one loaded, checked set of definitions: the menu, the texts, the
// flows and the knowledge base. It is immutable, so one Set may serve any
// number of goroutines; a [Watcher] swaps in a new one on reload.
type Set struct {
	menu     menuFile
	texts    texts
	flows    map[string]*flow
	order    []string // flow IDs by file name, defaults first
	kb       []kbEntry
	featured []int             // indexes into kb, in file order
	commands map[string]string // cleaned command word → command
	// menuOptions are the main menu's options; menuNames the cleaned
	// words that pick each (see matchCleaned).
	menuOptions []Choice
	menuNames   [][]string
	// bureau is what the bureau's configuration says of days and offices:
	// appointment dates and the offices answers send people to; now is the
	// clock date examples are computed from.
	bureau Bureau
	now    func() time.Time
}

// Bureau is what the desk knows that the flows need: which days are
// working days on the bureau's calendar, the deadline a matter received at
// from would have, and the office that answers for a service line, with
// its contact as configured.
type Bureau interface {
	IsWorkday(t time.Time) bool
	Deadline(line, inquiry string, from time.Time) time.Time
	Office(line string) (chat.Office, bool)
}

// WithBureau returns a copy of the Set that checks appointment dates and
// names offices from b, and computes date examples from now (nil: time.Now).
func (s *Set) WithBureau(b Bureau, now func() time.Time) *Set {
	c := *s
	c.bureau, c.now = b, now
	if c.now == nil {
		c.now = time.Now
	}
	return &c
}

// flow is a checked flow definition with its step index.
type flow struct {
	flowFile
	index map[string]int // step ID → position in Steps
}

func (o optionDef) value() string {
	if o.Value != "" {
		return o.Value
	}
	return o.Label
}

// step returns the step with the ID, if any.
func (f *flow) step(id string) (*stepDef, bool) {
	i, ok := f.index[id]
	if !ok {
		return nil, false
	}
	return &f.Steps[i], true
}

// following is where a step goes by default: its next, or the step after
// it, or the end.
func (f *flow) following(st *stepDef) string {
	if st.Next != "" {
		return st.Next
	}
	if i := f.index[st.ID]; i+1 < len(f.Steps) {
		return f.Steps[i+1].ID
	}
	return endTarget
}

// targets lists every step or ending a step can lead to.
func (f *flow) targets(st *stepDef) []string {
	if st.Type != typeChoice {
		return []string{f.following(st)}
	}
	var ts []string
	for _, o := range st.Options {
		if o.Next != "" {
			ts = append(ts, o.Next)
		} else {
			ts = append(ts, f.following(st))
		}
	}
	return ts
}

// ending returns the outcome a target names, if it is not a step.
func (f *flow) ending(target string) (outcomeDef, bool) {
	if target == endTarget {
		return *f.Outcome, true
	}
	o, ok := f.Endings[target]
	return o, ok
}

// trapped returns the positions of the steps, reachable from the first,
// from which no path leads to an outcome: a loop without an exit.
func (f *flow) trapped() []int {
	reach := map[string]bool{f.Steps[0].ID: true}
	queue := []string{f.Steps[0].ID}
	for len(queue) > 0 {
		st, _ := f.step(queue[0])
		queue = queue[1:]
		for _, t := range f.targets(st) {
			if _, isStep := f.index[t]; isStep && !reach[t] {
				reach[t] = true
				queue = append(queue, t)
			}
		}
	}
	exits := make(map[string]bool)
	for changed := true; changed; {
		changed = false
		for i := range f.Steps {
			st := &f.Steps[i]
			if exits[st.ID] {
				continue
			}
			for _, t := range f.targets(st) {
				if _, isEnd := f.ending(t); isEnd || exits[t] {
					exits[st.ID] = true
					changed = true
					break
				}
			}
		}
	}
	var bad []int
	for i, st := range f.Steps {
		if reach[st.ID] && !exits[st.ID] {
			bad = append(bad, i)
		}
	}
	return bad
}

// FlowInfo describes one flow of a Set.
type FlowInfo struct {
	ID, Title, Line string
}

// Flows lists the flows by file name, the default files first.
func (s *Set) Flows() []FlowInfo {
	out := make([]FlowInfo, 0, len(s.order))
	for _, id := range s.order {
		f := s.flows[id]
		out = append(out, FlowInfo{ID: f.ID, Title: f.Title, Line: f.Line})
	}
	return out
}

// Lines lists the service lines, each with the title of its flow, in flow
// order. A flow that asks which line the matter is (the handover flow)
// names no line of its own.
func (s *Set) Lines() []FlowInfo {
	var out []FlowInfo
	seen := map[string]bool{}
	for _, id := range s.order {
		f := s.flows[id]
		if seen[f.Line] || slices.ContainsFunc(f.Steps, func(st stepDef) bool { return st.Field == fieldLine }) {
			continue
		}
		seen[f.Line] = true
		out = append(out, FlowInfo{ID: f.ID, Title: f.Title, Line: f.Line})
	}
	return out
}

// Greeting is the welcome for a new follower, to send before the menu.
func (s *Set) Greeting() Prompt {
	return Prompt{Text: s.menu.Greeting}
}

// Menu is the main menu: the service lines and the other entries, numbered.
func (s *Set) Menu() Prompt {
	return s.menuWith("")
}

// menuWith is the main menu after a note such as "已取消".
func (s *Set) menuWith(note string) Prompt {
	// Capped, so that appending to one prompt's options copies them.
	opts := s.menuOptions[:len(s.menuOptions):len(s.menuOptions)]
	return Prompt{Text: joinLines(note, s.menu.Head), Tail: s.menu.Tail, Options: opts}
}

// Help is the short guide to using the service.
func (s *Set) Help() Prompt {
	return Prompt{Text: s.texts.Help}
}

// Command reports which global command a message is: CmdBack, CmdCancel,
// CmdHuman, CmdHelp, CmdStatus or CmdMenu, or "" for none. The message
// must be the command word alone (trailing punctuation, as voice
// recognition adds, is ignored).
func (s *Set) Command(text string) string {
	return s.commands[clean(text)]
}

// Button is one button of the account's custom menu, in the shape the
// WeChat menu API wants: Type is "click" (with Key), "view" (with URL), or
// empty for a button that only opens its Sub buttons.
type Button struct {
	Name string
	Type string
	Key  string
	URL  string
	Sub  []Button
}

// Click keys: a flow or an action of the main menu.
const (
	keyFlow   = "flow:"
	keyAction = "action:"
)

// Buttons is the account's custom menu from menu.yaml, for publishing.
// CLICK keys are "flow:<id>" and "action:<name>"; [Set.StartByKey]
// understands them.
func (s *Set) Buttons() []Button {
	var conv func(bs []buttonDef) []Button
	conv = func(bs []buttonDef) []Button {
		var out []Button
		for _, b := range bs {
			btn := Button{Name: b.Name}
			switch {
			case len(b.Sub) > 0:
				btn.Sub = conv(b.Sub)
			case b.URL != "":
				btn.Type, btn.URL = "view", b.URL
			case b.Flow != "":
				btn.Type, btn.Key = "click", keyFlow+b.Flow
			default:
				btn.Type, btn.Key = "click", keyAction+b.Action
			}
			out = append(out, btn)
		}
		return out
	}
	return conv(s.menu.Buttons)
}

// joinLines joins the non-empty parts with line breaks.
func joinLines(parts ...string) string {
	var kept []string
	for _, p := range parts {
		if p = strings.TrimSpace(p); p != "" {
			kept = append(kept, p)
		}
	}
	return strings.Join(kept, "\n")
}

// fill replaces {name} placeholders in a text.
func fill(text string, kv ...string) string {
	return strings.NewReplacer(kv...).Replace(text)
}
