package intake

import (
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode/utf8"

	"huimin/chat"
)

// ErrUnknownFlow is returned by [Set.Start] for a flow ID the Set lacks.
var ErrUnknownFlow = errors.New("unknown flow")

// The interpreter's own states and data keys. Flow and step IDs from files
// cannot start with "_", so these never clash with them.
const (
	kbFlow       = "_kb"       // the knowledge base, as a pseudo-flow
	kbList       = "_list"     // showing the featured questions
	kbPick       = "_pick"     // asking which of several matches was meant
	kbNone       = "_none"     // nothing matched: a person, or the menu
	stepFeedback = "_feedback" // an answer was given: solved, or a person

	dataAttachments = "_att"     // JSON list of Attachment
	dataEdit        = "_edit"    // old path steps to skip while editing, comma-separated
	dataPick        = "_pick"    // at confirm: choosing which answer to change
	dataEditing     = "_editing" // the step picked for a change, until it is answered
	dataAnswer      = "_answer"  // what was answered: kb:<id> or a flow ending
	dataAsked       = "_asked"   // the citizen's words that found an answer
	dataCandidates  = "_cands"   // knowledge-base IDs offered, comma-separated
)

// maxAsked is how much of a citizen's question is kept for the officer.
const maxAsked = 200

// Start begins the flow at its first step. It knows of no earlier
// consent: a flow whose first step asks for a phone or ID number begins
// with the consent notice.
func (s *Set) Start(flowID string) (Result, error) {
	f, ok := s.flows[flowID]
	if !ok {
		return Result{}, fmt.Errorf("start flow %q: %w", flowID, ErrUnknownFlow)
	}
	return s.gate(s.start(f, nil), false), nil
}

// start begins f, keeping the attachments of carry (sent before any flow).
func (s *Set) start(f *flow, carry map[string]string) Result {
	st := State{Flow: f.ID, Step: f.Steps[0].ID, Data: make(map[string]string)}
	if a := carry[dataAttachments]; a != "" {
		st.Data[dataAttachments] = a
	}
	if len(s.flowGuides(f)) > 0 {
		// 一次性告知 before any question: the guide is offered first.
		st.Step = stepGuideOffer
		return Result{State: st, Prompts: []Prompt{s.offer(f, f.Intro)}}
	}
	p := s.ask(f, st, &f.Steps[0])
	p.Text = joinLines(f.Intro, p.Text)
	return Result{State: st, Prompts: []Prompt{p}}
}

// StartByKey starts what a CLICK key of the account menu names (see
// [Set.Buttons]); a bare flow ID is accepted too. It reports false for an
// unknown key.
func (s *Set) StartByKey(clickKey string) (Result, bool) {
	r, ok := s.startByKey(clickKey, nil)
	return s.gate(r, false), ok
}

func (s *Set) startByKey(key string, carry map[string]string) (Result, bool) {
	if a, ok := strings.CutPrefix(key, keyAction); ok {
		if !slices.Contains(menuActions(), a) {
			return Result{}, false
		}
		return s.action(a, carry), true
	}
	f, ok := s.flows[strings.TrimPrefix(key, keyFlow)]
	if !ok {
		return Result{}, false
	}
	return s.start(f, carry), true
}

// action runs a menu action.
func (s *Set) action(name string, carry map[string]string) Result {
	idle := State{Data: keepAttachments(carry)}
	switch name {
	case actionKB:
		p := Prompt{Text: s.texts.KBHead, Tail: s.texts.KBTail}
		for i, k := range s.featured {
			p.Options = append(p.Options, Choice{ID: strconv.Itoa(i + 1), Text: s.kb[k].Question})
		}
		if len(p.Options) == 0 {
			p = Prompt{Text: s.texts.KBTail}
		}
		idle.Flow, idle.Step = kbFlow, kbList
		return Result{State: idle, Prompts: []Prompt{p}}
	case actionStatus:
		return Result{State: idle, Command: CmdStatus}
	case actionHuman:
		return Result{Outcome: &Outcome{Kind: OutcomeHandover, Text: s.texts.Handover, Attachments: attachments(carry)}}
	case actionHelp:
		return Result{State: idle, Prompts: []Prompt{s.Help()}}
	default:
		return Result{State: idle, Prompts: []Prompt{s.Menu()}}
	}
}

// Idle answers a message when no flow is running: a menu number or name
// starts that flow or action, a command is obeyed, a question the
// knowledge base knows is answered at once (with 1. 已解决 2. 没解决，转人工),
// and anything else gets the menu. It is Step with a zero State.
func (s *Set) Idle(in Input) Result {
	return s.Step(State{}, in)
}

// Step takes the citizen's next message in state st and says what follows.
// It handles the global commands, re-asks the same question with the
// reason and an example when an answer is invalid, attaches images and
// locations, and never changes st itself. Before the first question for a
// phone or ID number it asks for consent (see consent.go).
func (s *Set) Step(st State, in Input) Result {
	if st.Data[dataConsent] == consentAsking {
		return s.consentAnswer(st.clone(), in)
	}
	if s.unconsented(st, in) {
		// A conversation saved at the question before the notice existed:
		// the notice, not the answer.
		st = st.clone()
		return s.gate(Result{State: st, Prompts: []Prompt{{}}}, false)
	}
	return s.gate(s.step(st, in), in.Consented)
}

// step is Step without the consent notice.
func (s *Set) step(st State, in Input) Result {
	st = st.clone()
	switch st.Flow {
	case "":
		return s.idle(st, in)
	case kbFlow:
		return s.kbStep(st, in)
	}
	f, ok := s.flows[st.Flow]
	if !ok {
		return s.gone(st)
	}
	if st.Step == stepFeedback {
		return s.feedback(st, in)
	}
	if st.Step == stepGuideOffer || st.Step == stepGuidePick {
		return s.offerStep(f, st, in)
	}
	step, ok := f.step(st.Step)
	if !ok {
		return s.gone(st)
	}
	kind := kindOf(in.Kind)
	if kind == KindClick {
		// Status, help and a person keep (or carry) the matter in hand;
		// another flow or the knowledge base starts afresh.
		switch in.Key {
		case keyAction + actionStatus, keyAction + actionHelp, keyAction + actionHuman, keyAction + actionMenu:
			return s.command(f, st, step, strings.TrimPrefix(in.Key, keyAction))
		}
		// What was attached goes with whatever the citizen picks now: the
		// bot promised to submit it (defect 16).
		if r, ok := s.startByKey(in.Key, keepAttachments(st.Data)); ok {
			r.Done = true
			return r
		}
		return s.reask(f, st, step, "")
	}
	if attachable(kind) {
		return s.attach(f, st, step, in, kind)
	}
	text := answerText(in)
	if cmd := s.Command(text); cmd != "" {
		return s.command(f, st, step, cmd)
	}
	if !meaningful(text) {
		return s.reask(f, st, step, s.emptyNote(kind, text))
	}
	if _, picking := st.Data[dataPick]; picking {
		return s.pickEdit(f, st, step, text)
	}
	if step.Type == typeChoice {
		i, ok := matchChoice(text, optionNames(step), true)
		if !ok {
			return s.reask(f, st, step, fill(s.texts.InvalidChoice, "{n}", strconv.Itoa(len(step.Options))))
		}
		st.Data[step.Field] = step.Options[i].value()
		next := step.Options[i].Next
		if next == "" {
			next = f.following(step)
		}
		return s.advance(f, st, step, next)
	}
	if step.Type == typeConfirm {
		i, ok := matchChoice(text, wordsOf(s.texts.ConfirmOptions), true)
		if !ok && slices.ContainsFunc(s.texts.YesWords, func(w string) bool { return clean(w) == clean(text) }) {
			i, ok = 0, true
		}
		switch {
		case !ok:
			return s.reask(f, st, step, fill(s.texts.InvalidChoice, "{n}", strconv.Itoa(len(s.texts.ConfirmOptions))))
		case i == 0:
			return s.advance(f, st, step, f.following(step))
		case i == 1:
			st.Data[dataPick] = "1"
			return s.reask(f, st, step, "")
		default:
			return s.cancel()
		}
	}
	if step.Type == typeAttach {
		if !s.isSkip(text, s.texts.AttachDone) {
			return s.reask(f, st, step, s.texts.AttachNeed)
		}
		return s.advance(f, st, step, f.following(step))
	}
	if step.Optional && s.isSkip(text, s.texts.SkipLabel) {
		st.Data[step.Field] = ""
		return s.advance(f, st, step, f.following(step))
	}
	var value, note string
	if step.Type == typeDate {
		value, note = s.checkDate(f, st, step, text, in.At)
	} else {
		value, note = s.check(step, text, in)
	}
	if note != "" {
		return s.reask(f, st, step, note)
	}
	st.Data[step.Field] = value
	return s.advance(f, st, step, f.following(step))
}

// check validates a text, phone or ID answer and returns the value
// to save, or the reason to re-ask.
func (s *Set) check(step *stepDef, text string, in Input) (string, string) {
	t := s.texts
	switch step.Type {
	case typePhone:
		if v, ok := ValidPhone(cnNumerals(clean(text))); ok {
			return v, ""
		}
		return "", t.InvalidPhone
	case typeIDCard:
		v, err := CheckIDCard(cnNumerals(clean(text)), in.At)
		switch {
		case err == nil:
			return v, ""
		case errors.Is(err, ErrIDLength):
			n := utf8.RuneCountInString(strings.Join(strings.Fields(halfWidth(cnNumerals(text))), ""))
			return "", fill(t.IDLength, "{n}", strconv.Itoa(n))
		default:
			return "", t.InvalidID
		}
	default: // text
		v := strings.TrimSpace(text)
		limit := step.Max
		if limit == 0 {
			limit = maxText
		}
		if n := utf8.RuneCountInString(v); n > limit {
			return "", fill(t.TooLong, "{max}", strconv.Itoa(limit))
		} else if n < step.Min {
			return "", fill(t.TooShort, "{min}", strconv.Itoa(step.Min))
		}
		return v, ""
	}
}

// advance records that step was answered and moves to target: the next
// question, or the outcome. While the citizen edits one answer from the
// confirmation, the steps they had answered after it are passed over.
func (s *Set) advance(f *flow, st State, step *stepDef, target string) Result {
	st.Back = append(st.Back, step.ID)
	delete(st.Data, dataEditing)
	for { // each pass drops a step from the edit list, so this ends
		if o, isEnd := f.ending(target); isEnd {
			return s.finish(f, st, target, o)
		}
		next, _ := f.step(target) // checked at load
		old := strings.Split(st.Data[dataEdit], ",")
		if next.Type == typeConfirm || !slices.Contains(old, next.ID) {
			break
		}
		skipTo, ok := f.answered(next, st.Data)
		if !ok {
			break
		}
		st.Data[dataEdit] = strings.Join(slices.DeleteFunc(old, func(id string) bool { return id == next.ID }), ",")
		st.Back = append(st.Back, next.ID)
		target = skipTo
	}
	next, _ := f.step(target)
	if next.Type == typeConfirm {
		delete(st.Data, dataEdit)
	}
	st.Step = next.ID
	return Result{State: st, Prompts: []Prompt{s.ask(f, st, next)}}
}

// answered reports whether st still holds an answer to step, and where
// that answer leads.
func (f *flow) answered(st *stepDef, data map[string]string) (string, bool) {
	if st.Type == typeAttach {
		return f.following(st), true
	}
	v, ok := data[st.Field]
	if !ok {
		return "", false
	}
	if st.Type != typeChoice {
		return f.following(st), true
	}
	for _, o := range st.Options {
		if o.value() == v {
			if o.Next != "" {
				return o.Next, true
			}
			return f.following(st), true
		}
	}
	return "", false
}

// finish ends the flow with outcome o, reached through target.
func (s *Set) finish(f *flow, st State, target string, o outcomeDef) Result {
	out := s.outcome(f, st, o.Kind)
	switch o.Kind {
	case OutcomeAnswer:
		out.Text = s.withOffice(o.Text, cmpOr(o.Office, f.Line))
		st.Step = stepFeedback
		st.Data[dataAnswer] = target
		delete(st.Data, dataEdit)
		return Result{State: st, Outcome: out, Prompts: []Prompt{s.feedbackPrompt(out.Text)}}
	case OutcomeHandover:
		out.Text = cmpOr(o.Text, s.texts.Handover)
	default:
		out.Text = cmpOr(o.Text, s.texts.TicketDone)
	}
	return Result{Outcome: out, Done: true}
}

func cmpOr(a, b string) string {
	if strings.TrimSpace(a) != "" {
		return a
	}
	return b
}

// outcome gathers the answers on the path taken.
func (s *Set) outcome(f *flow, st State, kind string) *Outcome {
	o := &Outcome{Kind: kind, Flow: f.ID, Line: f.Line, Inquiry: f.Inquiry, Fields: make(map[string]string),
		Labels: make(map[string]string), Attachments: attachments(st.Data)}
	var parts []string
	for _, id := range st.Back {
		step, ok := f.step(id)
		if !ok || step.Field == "" {
			continue
		}
		v, ok := st.Data[step.Field]
		switch {
		case !ok:
			continue
		case step.Field == "inquiry":
			o.Inquiry = v
			continue
		case step.Field == fieldLine && v != "":
			o.Line = v // a flow that asks which service line the matter is
			continue
		case step.Type == typePhone && o.Phone == "":
			o.Phone = v
			continue
		case step.Type == typeIDCard && o.IDNumber == "":
			o.IDNumber = v
			continue
		case step.Field == "name" && o.Name == "":
			o.Name = v
			continue
		case v == "":
			continue
		}
		if step.Type == typeChoice && slices.ContainsFunc(step.Options, func(opt optionDef) bool { return opt.Urgent && opt.value() == v }) {
			o.Urgent = true
		}
		o.Fields[step.Field] = v
		o.Labels[step.Field] = step.Label
		parts = append(parts, step.Label+"："+display(step, v, 0))
	}
	o.Summary = strings.Join(parts, "；")
	return o
}

// fieldLine is the field of a step that asks for the service line (the
// handover flow's first question); its value replaces the flow's line.
const fieldLine = "line"

// display shows an answer: a choice by its label, a phone or ID number
// masked, a text cut to n characters (0: in full).
func display(step *stepDef, v string, n int) string {
	switch step.Type {
	case typeChoice:
		for _, o := range step.Options {
			if o.value() == v {
				return o.Label
			}
		}
	case typePhone:
		return chat.MaskPhone(v)
	case typeIDCard:
		return chat.MaskID(v)
	}
	if n > 0 {
		return chat.Cut(v, n)
	}
	return v
}

// summaryWidth is how much of a text answer the confirmation shows.
const summaryWidth = 20

// withOffice ends an answer with the office ref names and how to reach it
// (一次性告知: who, where, when, which number), rendered from the office
// text: a line whose field the bureau did not configure is left out, so
// with no contact at all the office's name stands alone. Nothing is
// guessed: an office nobody configured adds nothing.
func (s *Set) withOffice(answer, ref string) string {
	o, ok := s.office(ref)
	if !ok {
		return answer
	}
	return joinLines(answer, s.officeBlock(o))
}

// officeBlock is the office text filled in for o, without the lines whose
// field is empty.
func (s *Set) officeBlock(o Office) string {
	fields := []string{"{name}", o.Name, "{address}", o.Address, "{hours}", o.Hours, "{phone}", o.Phone}
	var lines []string
	for line := range strings.SplitSeq(s.texts.Office, "\n") {
		if !lacksField(line, fields) {
			lines = append(lines, fill(line, fields...))
		}
	}
	return strings.Join(lines, "\n")
}

// lacksField reports whether line names a placeholder of kv (placeholder,
// value pairs) whose value is empty.
func lacksField(line string, kv []string) bool {
	for i := 0; i+1 < len(kv); i += 2 {
		if kv[i+1] == "" && strings.Contains(line, kv[i]) {
			return true
		}
	}
	return false
}

// whenWorkday is a date step's rule for appointments: a working day from
// today up to the matter's deadline, on the bureau's calendar.
const whenWorkday = "workday"

// checkDate validates a date answer against the step's rule and returns
// the value to save, or the reason to re-ask with the dates to send
// instead. at is when the message arrived (zero: now).
func (s *Set) checkDate(f *flow, st State, step *stepDef, text string, at time.Time) (string, string) {
	t := s.texts
	now := s.now()
	if !at.IsZero() {
		now = s.local(at)
	}
	today := dayOf(now)
	ex := s.dayExamples(f, st, step, now, 2)
	days := []string{"{example}", ex[0], "{examples}", strings.Join(ex, "、")}
	d, err := ParseDate(text, now)
	if err != nil {
		return "", fill(t.InvalidDate, days...)
	}
	switch step.When {
	case "past":
		if d.After(today) {
			return "", t.DateFuture
		}
	case "future", whenWorkday:
		if d.Before(today) {
			return "", fill(t.DatePast, days...)
		}
	}
	if step.When != whenWorkday {
		return d.Format(time.DateOnly), ""
	}
	if !s.isWorkday(d) {
		return "", fill(t.DateNotWorkday, append(days, "{date}", dateText(d))...)
	}
	if latest, ok := s.latest(f, st, now); ok && d.After(latest) {
		return "", fill(t.DateTooLate, append(days, "{deadline}", dateText(latest))...)
	}
	return d.Format(time.DateOnly), ""
}

// latest is the last day an appointment may take: the day of the deadline
// the matter would have if received now. It reports false when the bureau
// gave no deadlines.
func (s *Set) latest(f *flow, st State, now time.Time) (time.Time, bool) {
	if s.opts.Deadline == nil {
		return time.Time{}, false
	}
	deadline := s.opts.Deadline(f.Line, cmpOr(st.Data["inquiry"], f.Inquiry), now)
	return dayOf(deadline.In(now.Location())), true
}

// dayExamples are up to n dates the step accepts, as citizens write them,
// never fewer than one. For an appointment they are the working days
// after today up to the deadline (the deadline's own day when none is
// left); for a future date tomorrow; else today.
func (s *Set) dayExamples(f *flow, st State, step *stepDef, now time.Time, n int) []string {
	today := dayOf(now)
	switch step.When {
	case whenWorkday:
	case "future":
		return []string{dateText(today.AddDate(0, 0, 1))}
	default:
		return []string{dateText(today)}
	}
	latest, bounded := s.latest(f, st, now)
	var out []string
	for d, i := today.AddDate(0, 0, 1), 0; len(out) < n && i < 366 && (!bounded || !d.After(latest)); d, i = d.AddDate(0, 0, 1), i+1 {
		if s.isWorkday(d) {
			out = append(out, dateText(d))
		}
	}
	if len(out) == 0 && bounded {
		out = append(out, dateText(latest))
	}
	if len(out) == 0 {
		out = append(out, dateText(today))
	}
	return out
}

// dayOf is the start of t's day, in t's location.
func dayOf(t time.Time) time.Time {
	y, m, d := t.Date()
	return time.Date(y, m, d, 0, 0, 0, 0, t.Location())
}

// dateText writes a date as citizens do: 2026年12月7日.
func dateText(t time.Time) string {
	return t.Format("2006年1月2日")
}

// ask is the question of step, with its options.
func (s *Set) ask(f *flow, st State, step *stepDef) Prompt {
	p := Prompt{Text: step.Ask, Tail: s.texts.StepTail}
	if step.Type == typeDate {
		// The example is a date the step accepts: computed, never stale.
		p.Text = fill(p.Text, "{example}", s.dayExamples(f, st, step, s.now(), 1)[0])
	}
	switch step.Type {
	case typeChoice:
		for i, o := range step.Options {
			p.Options = append(p.Options, Choice{ID: strconv.Itoa(i + 1), Text: o.Label})
		}
	case typeConfirm:
		if _, picking := st.Data[dataPick]; picking {
			p.Text = s.texts.EditHead
			for i, id := range f.editable(st) {
				q, _ := f.step(id)
				p.Options = append(p.Options, Choice{ID: strconv.Itoa(i + 1), Text: q.Label + "：" + display(q, st.Data[q.Field], 8)})
			}
			return p
		}
		p.Text = joinLines(cmpOr(step.Ask, s.texts.ConfirmHead), s.summary(f, st))
		p.Options = numbered(s.texts.ConfirmOptions)
	case typeAttach:
		p.Options = numbered([]string{s.texts.AttachDone})
	default:
		if step.Optional {
			p.Options = numbered([]string{s.texts.SkipLabel})
		}
	}
	return p
}

// summary lists the answers for the citizen to check.
func (s *Set) summary(f *flow, st State) string {
	var lines []string
	for _, id := range st.Back {
		step, ok := f.step(id)
		if !ok || step.Field == "" || st.Data[step.Field] == "" {
			continue
		}
		v := st.Data[step.Field]
		if step.Type == typePhone {
			// The citizen checks their own number: in full, so that a typo
			// shows (only in their private chat).
			lines = append(lines, step.Label+"："+v)
			continue
		}
		lines = append(lines, step.Label+"："+display(step, v, summaryWidth))
	}
	if as := attachments(st.Data); len(as) > 0 {
		lines = append(lines, s.texts.AttachLabel+"："+s.describe(as))
	}
	return strings.Join(lines, "\n")
}

// editable lists the answered steps the citizen may change at the
// confirmation, in the order answered.
func (f *flow) editable(st State) []string {
	var ids []string
	for _, id := range st.Back {
		if q, ok := f.step(id); ok && q.Field != "" {
			ids = append(ids, id)
		}
	}
	return ids
}

// pickEdit takes the number of the answer to change and goes back to that
// question; the answers after it are kept and passed over unless the new
// answer leads elsewhere.
func (s *Set) pickEdit(f *flow, st State, confirm *stepDef, text string) Result {
	ids := f.editable(st)
	names := make([][]string, len(ids))
	for i, id := range ids {
		q, _ := f.step(id)
		names[i] = []string{q.Label}
	}
	i, ok := matchChoice(text, names, true)
	if !ok {
		return s.reask(f, st, confirm, fill(s.texts.InvalidChoice, "{n}", strconv.Itoa(len(ids))))
	}
	k := slices.Index(st.Back, ids[i])
	old := append(slices.Clone(st.Back[k+1:]), confirm.ID)
	st.Back = st.Back[:k]
	st.Step = ids[i]
	st.Data[dataEdit] = strings.Join(old, ",")
	st.Data[dataEditing] = ids[i]
	delete(st.Data, dataPick)
	q, _ := f.step(ids[i])
	return Result{State: st, Prompts: []Prompt{s.ask(f, st, q)}}
}

// reask repeats the current question after a note saying what was wrong.
func (s *Set) reask(f *flow, st State, step *stepDef, note string) Result {
	p := s.ask(f, st, step)
	p.Text = joinLines(note, p.Text)
	return Result{State: st, Prompts: []Prompt{p}}
}

// command obeys a global command inside a flow.
func (s *Set) command(f *flow, st State, step *stepDef, cmd string) Result {
	switch cmd {
	case CmdBack:
		if _, picking := st.Data[dataPick]; picking {
			delete(st.Data, dataPick)
			return s.reask(f, st, step, "")
		}
		if st.Data[dataEditing] == st.Step {
			// Changed their mind about changing this answer: back to the
			// confirmation, with every answer as it was.
			old := strings.Split(st.Data[dataEdit], ",")
			st.Back = append(append(st.Back, st.Step), old[:len(old)-1]...)
			st.Step = old[len(old)-1]
			delete(st.Data, dataEdit)
			delete(st.Data, dataEditing)
			q, ok := f.step(st.Step)
			if !ok {
				return s.gone(st) // a reload removed the step
			}
			return Result{State: st, Prompts: []Prompt{s.ask(f, st, q)}}
		}
		if len(st.Back) == 0 {
			return s.reask(f, st, step, s.texts.FirstStep)
		}
		prev := st.Back[len(st.Back)-1]
		st.Back = st.Back[:len(st.Back)-1]
		st.Step = prev
		delete(st.Data, dataEdit)
		delete(st.Data, dataEditing)
		q, ok := f.step(prev)
		if !ok {
			return s.gone(st) // a reload removed the step
		}
		return Result{State: st, Prompts: []Prompt{s.ask(f, st, q)}}
	case CmdHelp:
		r := s.reask(f, st, step, "")
		r.Prompts = append([]Prompt{s.Help()}, r.Prompts...)
		return r
	case CmdStatus:
		r := s.reask(f, st, step, "")
		r.Command = CmdStatus
		return r
	case CmdHuman:
		out := s.outcome(f, st, OutcomeHandover)
		out.Text = s.texts.Handover
		return Result{Outcome: out, Done: true}
	default: // cancel, menu
		return s.cancel()
	}
}

// cancel ends the flow without submitting anything.
func (s *Set) cancel() Result {
	return Result{Prompts: []Prompt{s.menuWith(s.texts.Cancelled)}, Done: true}
}

// gone answers a state whose flow or step a reload removed.
func (s *Set) gone(st State) Result {
	return Result{State: State{Data: keepAttachments(st.Data)}, Prompts: []Prompt{s.menuWith(s.texts.FlowGone)}, Done: true}
}

// idle handles a message when no flow runs; st.Data may carry attachments.
func (s *Set) idle(st State, in Input) Result {
	carry := keepAttachments(st.Data)
	idle := State{Data: carry}
	kind := kindOf(in.Kind)
	if kind == KindClick {
		if r, ok := s.startByKey(in.Key, carry); ok {
			return r
		}
		return Result{State: idle, Prompts: []Prompt{s.Menu()}}
	}
	if attachable(kind) {
		a := attachmentOf(in, kind)
		list := attachments(carry)
		note := fill(s.texts.AttachIdle, "{what}", s.texts.Kinds[kind])
		if len(list) >= maxAttachments {
			return Result{State: idle, Prompts: []Prompt{s.menuWith(fill(s.texts.AttachLimit, "{max}", strconv.Itoa(maxAttachments)))}}
		}
		idle.Data = setAttachments(carry, append(list, a))
		return Result{State: idle, Prompts: []Prompt{s.menuWith(note)}, Attachments: []Attachment{a}}
	}
	text := answerText(in)
	switch s.Command(text) {
	case "":
	case CmdHelp:
		return s.action(actionHelp, carry)
	case CmdHuman:
		return s.action(actionHuman, carry)
	case CmdStatus:
		return s.action(actionStatus, carry)
	default:
		return s.action(actionMenu, carry)
	}
	if !meaningful(text) {
		return Result{State: idle, Prompts: []Prompt{s.menuWith(s.emptyNote(kind, text))}}
	}
	if utf8.RuneCountInString(text) > maxText {
		return Result{State: idle, Prompts: []Prompt{s.menuWith(s.texts.TooLongIdle)}}
	}
	if i, ok := matchCleaned(text, s.menuNames, false); ok {
		it := s.menu.Items[i]
		if it.Flow != "" {
			return s.start(s.flows[it.Flow], carry)
		}
		return s.action(it.Action, carry)
	}
	if it, ok := s.intent(text); ok {
		// The front door: a complaint, a report, a suggestion, praise or
		// urgent need is understood before the common questions.
		return s.startIntent(it, text, carry)
	}
	if r, ok := s.kbSearch(text, carry); ok {
		return r
	}
	return Result{State: idle, Prompts: []Prompt{s.menuWith(s.texts.NotUnderstood)}}
}

// attach keeps an image, video, location or link with the matter. At an
// attach step it answers the step; elsewhere the question is repeated.
func (s *Set) attach(f *flow, st State, step *stepDef, in Input, kind string) Result {
	list := attachments(st.Data)
	if len(list) >= maxAttachments {
		return s.reask(f, st, step, fill(s.texts.AttachLimit, "{max}", strconv.Itoa(maxAttachments)))
	}
	a := attachmentOf(in, kind)
	st.Data = setAttachments(st.Data, append(list, a))
	what := s.texts.Kinds[kind]
	var r Result
	if step.Type == typeAttach {
		p := s.ask(f, st, step)
		p.Text = fill(s.texts.AttachReceived, "{what}", what, "{n}", strconv.Itoa(len(list)+1))
		r = Result{State: st, Prompts: []Prompt{p}}
	} else {
		r = s.reask(f, st, step, fill(s.texts.AttachNoted, "{what}", what))
	}
	r.Attachments = []Attachment{a}
	return r
}

// feedback takes the answer to 1. 已解决 2. 没解决，转人工 after an answer.
// Anything else is taken as a new message with no flow running.
func (s *Set) feedback(st State, in Input) Result {
	text := answerText(in)
	carry := keepAttachments(st.Data)
	cmd := s.Command(text)
	i, ok := matchChoice(text, wordsOf(s.texts.FeedbackOptions), true)
	switch {
	case cmd == CmdHuman || cmd == "" && ok && i == 1:
		return Result{Outcome: s.unsolved(st), Done: true}
	case cmd == "" && ok && i == 0:
		return Result{Prompts: []Prompt{{Text: s.texts.Glad}}, Done: true}
	}
	r := s.idle(State{Data: carry}, in)
	r.Done = true
	return r
}

// unsolved is the handover after an answer that did not help.
func (s *Set) unsolved(st State) *Outcome {
	asked := st.Data[dataAsked]
	if id, ok := strings.CutPrefix(st.Data[dataAnswer], "kb:"); ok {
		o := &Outcome{Kind: OutcomeHandover, Text: s.texts.Handover, Fields: make(map[string]string),
			Attachments: attachments(st.Data)}
		if i := slices.IndexFunc(s.kb, func(e kbEntry) bool { return e.ID == id }); i >= 0 {
			e := s.kb[i]
			o.Line = e.Line
			o.Fields["question"] = e.Question
			o.Summary = fill(s.texts.KBUnsolved, "{q}", e.Question)
		}
		if asked != "" {
			o.Fields["asked"] = asked
			o.Summary = joinSummary(o.Summary, s.texts.AskedLabel+"："+asked)
		}
		return o
	}
	if id, ok := strings.CutPrefix(st.Data[dataAnswer], guidePrefix); ok {
		o := &Outcome{Kind: OutcomeHandover, Text: s.texts.Handover, Fields: make(map[string]string),
			Attachments: attachments(st.Data)}
		if g, ok := s.Guide(id); ok {
			o.Line = g.Line
			o.Fields["question"] = g.Title
			o.Summary = fill(s.texts.KBUnsolved, "{q}", g.Title)
		}
		if asked != "" {
			o.Fields["asked"] = asked
			o.Summary = joinSummary(o.Summary, s.texts.AskedLabel+"："+asked)
		}
		return o
	}
	f := s.flows[st.Flow]
	if f == nil {
		return &Outcome{Kind: OutcomeHandover, Text: s.texts.Handover}
	}
	o := s.outcome(f, st, OutcomeHandover)
	o.Summary = joinSummary(fill(s.texts.KBUnsolved, "{q}", f.Title), o.Summary)
	o.Text = s.texts.Handover
	return o
}

func joinSummary(a, b string) string {
	if a == "" || b == "" {
		return a + b
	}
	return a + "；" + b
}

// feedbackPrompt is an answer with 1. 已解决 2. 没解决，转人工.
func (s *Set) feedbackPrompt(answer string) Prompt {
	return Prompt{Text: answer, Options: numbered(s.texts.FeedbackOptions)}
}

// emptyNote says why a message without words is not an answer.
func (s *Set) emptyNote(kind, text string) string {
	if kind == KindVoice && strings.TrimSpace(text) == "" {
		return s.texts.VoiceEmpty
	}
	return s.texts.EmojiOnly
}

// isSkip reports whether text skips an optional question: 1, the skip
// option's label, or a skip word.
func (s *Set) isSkip(text, label string) bool {
	if ordinal(text) == 1 {
		return true
	}
	c := clean(text)
	if c == clean(label) || strings.HasPrefix(clean(label), c) && utf8.RuneCountInString(c) >= 2 {
		return true
	}
	return slices.ContainsFunc(s.texts.SkipWords, func(w string) bool { return clean(w) == c })
}

// kindOf normalises an input kind.
func kindOf(kind string) string {
	switch kind {
	case "", KindText:
		return KindText
	case "shortvideo":
		return KindVideo
	}
	return kind
}

func attachable(kind string) bool {
	return kind == KindImage || kind == KindVideo || kind == KindLocation || kind == KindLink
}

// answerText is the text of a message, or the msgmenu key when a tapped
// option came without text.
func answerText(in Input) string {
	if strings.TrimSpace(in.Text) == "" && in.Key != "" {
		return in.Key
	}
	return in.Text
}

func attachmentOf(in Input, kind string) Attachment {
	return Attachment{Kind: kind, MediaID: in.MediaID, URL: in.URL, Label: in.Label, Lat: in.Lat, Lng: in.Lng, At: in.At}
}

// attachments reads the attachments kept in a state's data.
func attachments(data map[string]string) []Attachment {
	var as []Attachment
	if raw := data[dataAttachments]; raw != "" {
		if err := json.Unmarshal([]byte(raw), &as); err != nil {
			return nil // only this package writes the key; a damaged value loses the list
		}
	}
	return as
}

// setAttachments returns data with the attachment list replaced.
func setAttachments(data map[string]string, as []Attachment) map[string]string {
	raw, err := json.Marshal(as)
	if err != nil {
		return data // plain strings and numbers always marshal
	}
	if data == nil {
		data = make(map[string]string)
	}
	data[dataAttachments] = string(raw)
	return data
}

// keepAttachments is data reduced to its attachments, or nil.
func keepAttachments(data map[string]string) map[string]string {
	if a := data[dataAttachments]; a != "" {
		return map[string]string{dataAttachments: a}
	}
	return nil
}

// describe counts attachments by kind: 图片2个、位置1个.
func (s *Set) describe(as []Attachment) string {
	var parts []string
	for _, k := range []string{KindImage, KindVideo, KindLocation, KindLink} {
		n := 0
		for _, a := range as {
			if a.Kind == k {
				n++
			}
		}
		if n > 0 {
			parts = append(parts, fill(s.texts.AttachCount, "{what}", s.texts.Kinds[k], "{n}", strconv.Itoa(n)))
		}
	}
	return strings.Join(parts, "、")
}

// optionNames are the words naming each option of a choice: label and value.
func optionNames(step *stepDef) [][]string {
	names := make([][]string, len(step.Options))
	for i, o := range step.Options {
		names[i] = []string{o.Label, o.value()}
	}
	return names
}

func wordsOf(labels []string) [][]string {
	names := make([][]string, len(labels))
	for i, l := range labels {
		names[i] = []string{l}
	}
	return names
}

func numbered(labels []string) []Choice {
	cs := make([]Choice, len(labels))
	for i, l := range labels {
		cs[i] = Choice{ID: strconv.Itoa(i + 1), Text: l}
	}
	return cs
}
