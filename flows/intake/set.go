package intake

import (
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
	featured []int // indexes into kb, in file order
	// intents are the front door's (intents.yaml), in file order.
	intents []intentDef
	guides  []guideDef
	// guideKeys are each guide's keywords, normalised and split on "+".
	guideKeys [][][]string
	commands  map[string]string // cleaned command word → command
	// menuOptions are the main menu's options; menuNames the cleaned
	// words that pick each (see matchCleaned).
	menuOptions []Choice
	menuNames   [][]string
	// opts is what the bureau's configuration says of days and offices
	// (see [Set.WithOptions]).
	opts Options
}

// Options are what a Set needs from the bureau beyond its files. The zero
// value works: Monday to Friday are the working days, appointment dates
// have no latest day, the clock is time.Now and answers name no office.
type Options struct {
	// Now is the clock that "today" and the example dates are taken from
	// when a message carries no time.
	Now func() time.Time
	// Location is the bureau's time zone, in which "today" is counted
	// (nil: the location of the time at hand).
	Location *time.Location
	// Calendar says which days are working days (huimin/desk/calendar).
	Calendar Calendar
	// Deadline is when a matter of the service line and inquiry type,
	// received at from, must be resolved ((*desk.Desk).Deadline): no
	// appointment is made after it.
	Deadline func(line, inquiry string, from time.Time) time.Time
	// Offices are the bureau's departments and the outside agencies an
	// answer may send a citizen to, with their contacts as configured.
	Offices []Office
	// Limit is the deadline the desk gives a matter of the service line
	// and inquiry type ((*desk.Desk).Limit): a guide's time limit (限时办结).
	// Nil leaves the limit out of the guides.
	Limit func(line, inquiry string) Limit
	// Retention is how long the personal data of a finished matter is
	// kept (desk.retention), as the consent notice tells the citizen;
	// zero means the default, three years.
	Retention time.Duration
}

// Calendar is the working-day calendar, as the flows use it.
type Calendar interface {
	IsWorkday(t time.Time) bool
}

// Office is a place an answer sends citizens to: a department of the
// bureau or an outside agency (退役军人事务局 …), with its contact as the
// bureau configured it. Empty fields are unknown and left out of what
// citizens read; nothing is guessed.
type Office struct {
	// ID is the department or agency ID of the configuration.
	ID   string
	Name string
	// Lines are the service lines it answers for.
	Lines []string
	// Outside marks an outside agency: for a line it lists, it is named
	// rather than the department, as the matter now belongs to it.
	Outside               bool
	Address, Hours, Phone string
}

// WithOptions returns a copy of the Set that checks dates and names
// offices as opts say.
func (s *Set) WithOptions(opts Options) *Set {
	c := *s
	c.opts = opts
	return &c
}

// now is the current time in the bureau's time zone.
func (s *Set) now() time.Time {
	if s.opts.Now == nil {
		return s.local(time.Now())
	}
	return s.local(s.opts.Now())
}

// local is t in the bureau's time zone.
func (s *Set) local(t time.Time) time.Time {
	if s.opts.Location == nil {
		return t
	}
	return t.In(s.opts.Location)
}

// isWorkday reports whether the day of t is a working day: on the
// calendar, or Monday to Friday without one.
func (s *Set) isWorkday(t time.Time) bool {
	if s.opts.Calendar != nil {
		return s.opts.Calendar.IsWorkday(t)
	}
	return t.Weekday() != time.Saturday && t.Weekday() != time.Sunday
}

// office finds the office ref names: the office with that ID, else an
// outside agency listing ref as a line, else a department listing it.
func (s *Set) office(ref string) (Office, bool) {
	if ref == "" {
		return Office{}, false
	}
	for _, o := range s.opts.Offices {
		if o.ID == ref {
			return o, true
		}
	}
	for _, outside := range []bool{true, false} {
		for _, o := range s.opts.Offices {
			if o.Outside == outside && slices.Contains(o.Lines, ref) {
				return o, true
			}
		}
	}
	return Office{}, false
}

// UnknownOffices lists the offices the answers name (an office ID, or a
// service line) that no configured office answers for, sorted: those
// answers go out without saying where to go.
func (s *Set) UnknownOffices() []string {
	var refs []string
	for _, e := range s.kb {
		refs = append(refs, e.office())
	}
	for _, g := range s.guides {
		refs = append(refs, cmpOr(g.Office, g.Line))
	}
	for _, f := range s.flows {
		for _, o := range f.outcomes() {
			if o.Kind == OutcomeAnswer {
				refs = append(refs, cmpOr(o.Office, f.Line))
			}
		}
	}
	var missing []string
	for _, r := range refs {
		if _, ok := s.office(r); !ok && r != "" && !slices.Contains(missing, r) {
			missing = append(missing, r)
		}
	}
	slices.Sort(missing)
	return missing
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

// outcomes lists the flow's outcome and its endings.
func (f *flow) outcomes() []outcomeDef {
	os := []outcomeDef{*f.Outcome}
	for _, o := range f.Endings {
		os = append(os, o)
	}
	return os
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

// fill replaces {name} placeholders in a text. One placeholder, the usual
// case, is a plain ReplaceAll: a Replacer for a single pair builds a
// Boyer-Moore table of 2 KiB first, on every call.
func fill(text string, kv ...string) string {
	if len(kv) == 2 {
		return strings.ReplaceAll(text, kv[0], kv[1])
	}
	return strings.NewReplacer(kv...).Replace(text)
}
