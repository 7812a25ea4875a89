package intake

import (
	"slices"
	"strconv"
	"time"
)

// The consent notice (个人信息保护法): before a flow asks for a phone or ID
// number for the first time, the citizen is told why it is asked, who sees
// it and how long it is kept, and agrees once. The engine passes what it
// knows in [Input.Consented] and records an agreement when
// [Result.Consented] says one was given. While the notice waits for an
// answer the state stays at the step it guards, marked in Data, so that a
// reload or a lost session can never skip it; refusing ends the flow and
// keeps nothing of it.

// Data keys of the notice.
const (
	dataConsent   = "_consent"   // consentAsking while the notice waits for an answer
	dataConsented = "_consented" // agreed during this flow: no second notice in it
	consentAsking = "asking"
)

// defaultRetention is the retention the notice names when Options gives
// none: three years, the desk's default (desk.retention).
const defaultRetention = 3 * 365 * 24 * time.Hour

// needsConsent reports whether step asks for data the notice covers.
func needsConsent(step *stepDef) bool {
	return step.Type == typePhone || step.Type == typeIDCard
}

// gate shows the notice in place of the question r ends with, when that
// question asks for a phone or ID number and the citizen has not agreed:
// neither before (consented) nor earlier in this flow.
func (s *Set) gate(r Result, consented bool) Result {
	st := r.State
	if consented || st.Data[dataConsented] != "" || len(r.Prompts) == 0 {
		return r
	}
	f, ok := s.flows[st.Flow]
	if !ok {
		return r
	}
	step, ok := f.step(st.Step)
	if !ok || !needsConsent(step) {
		return r
	}
	r.State.Data[dataConsent] = consentAsking
	r.Prompts[len(r.Prompts)-1] = s.consentNotice()
	r.Notice = true
	return r
}

// unconsented reports an answer to a phone or ID question that no
// agreement covers: only a state saved before the notice existed is there
// without one.
func (s *Set) unconsented(st State, in Input) bool {
	if in.Consented || st.Data[dataConsented] != "" {
		return false
	}
	if k := kindOf(in.Kind); k != KindText && k != KindVoice || s.Command(answerText(in)) != "" {
		return false
	}
	f, ok := s.flows[st.Flow]
	if !ok {
		return false
	}
	step, ok := f.step(st.Step)
	return ok && needsConsent(step)
}

// consentNotice is the notice with its two options.
func (s *Set) consentNotice() Prompt {
	return Prompt{Text: fill(s.texts.ConsentNotice, "{retention}", s.retentionText()), Options: numbered(s.texts.ConsentOptions)}
}

// retentionText writes the retention as the notice says it: whole years
// (3年) when it is a number of 365-day years, else days, rounded up.
func (s *Set) retentionText() string {
	d := s.opts.Retention
	if d <= 0 {
		d = defaultRetention
	}
	const day, year = 24 * time.Hour, 365 * 24 * time.Hour
	if d%year == 0 {
		return fill(s.texts.RetentionYears, "{n}", strconv.FormatInt(int64(d/year), 10))
	}
	return fill(s.texts.RetentionDays, "{n}", strconv.FormatInt(int64((d+day-1)/day), 10))
}

// consentAnswer takes the answer to the notice: 同意 (or a yes word) asks
// the question it guarded; 不同意 ends the flow with nothing submitted or
// kept and says the knowledge base and the office still answer. 返回 goes
// to the question before, 取消 cancels, 人工 hands over as anywhere; any
// other answer repeats the notice.
func (s *Set) consentAnswer(st State, in Input) Result {
	f, ok := s.flows[st.Flow]
	if !ok {
		return s.gone(st)
	}
	step, ok := f.step(st.Step)
	if !ok {
		return s.gone(st)
	}
	again := func(note string) Result {
		p := s.consentNotice()
		p.Text = joinLines(note, p.Text)
		return Result{State: st, Prompts: []Prompt{p}, Notice: true}
	}
	if in.Consented {
		// Agreed before, as the engine found out only now: the question.
		delete(st.Data, dataConsent)
		st.Data[dataConsented] = "1"
		return Result{State: st, Prompts: []Prompt{s.ask(f, st, step)}}
	}
	kind := kindOf(in.Kind)
	switch {
	case kind == KindClick:
		delete(st.Data, dataConsent)
		return s.gate(s.step(st, in), in.Consented)
	case attachable(kind):
		list := attachments(st.Data)
		if len(list) >= maxAttachments {
			return again(fill(s.texts.AttachLimit, "{max}", strconv.Itoa(maxAttachments)))
		}
		a := attachmentOf(in, kind)
		st.Data = setAttachments(st.Data, append(list, a))
		r := again(fill(s.texts.AttachNoted, "{what}", s.texts.Kinds[kind]))
		r.Attachments = []Attachment{a}
		return r
	}
	text := answerText(in)
	switch cmd := s.Command(text); cmd {
	case "":
	case CmdHelp:
		r := again("")
		r.Prompts = append([]Prompt{s.Help()}, r.Prompts...)
		return r
	case CmdStatus:
		r := again("")
		r.Command = CmdStatus
		return r
	default: // back, cancel, menu, human: as at the question itself
		delete(st.Data, dataConsent)
		return s.gate(s.command(f, st, step, cmd), in.Consented)
	}
	i, ok := matchChoice(text, wordsOf(s.texts.ConsentOptions), false)
	if !ok && slices.ContainsFunc(s.texts.YesWords, func(w string) bool { return clean(w) == clean(text) }) {
		i, ok = 0, true
	}
	switch {
	case !ok:
		return again(fill(s.texts.InvalidChoice, "{n}", strconv.Itoa(len(s.texts.ConsentOptions))))
	case i == 0:
		delete(st.Data, dataConsent)
		st.Data[dataConsented] = "1"
		return Result{State: st, Prompts: []Prompt{s.ask(f, st, step)}, Consented: true}
	default:
		// Nothing of the flow is kept, the pictures sent during it
		// included: the citizen said no to giving their data.
		return Result{Prompts: []Prompt{s.menuWith(s.texts.ConsentRefused)}, Done: true}
	}
}
