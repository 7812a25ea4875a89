package desk

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"huimin/chat"
	"huimin/store"
)

// The longest texts an officer's words may have in a ticket.
const (
	maxReply  = 600
	maxReason = 200
)

// supervises reports whether o answers for a department: its chief (also a
// chief whose own desk is in another department), a chief of it, or the
// bureau leader.
func (d *Desk) supervises(o Officer, deptID string) bool {
	if o.ID == "" {
		return false
	}
	return o.Leader || d.dir.depts[deptID].Supervisor == o.ID || (o.Supervisor && o.Department == deptID)
}

// chiefDepartments lists the departments o answers for.
func (d *Desk) chiefDepartments(o Officer) []string {
	var out []string
	for _, dp := range d.dir.sorted() {
		if d.supervises(o, dp.ID) {
			out = append(out, dp.ID)
		}
	}
	return out
}

// canSee reports whether o may read a ticket: its owner, its first
// responsible officer (首问负责, also after a transfer), a chief of its
// department, the leader, or a colleague of its department while nobody
// owns it.
func (d *Desk) canSee(o Officer, t store.Ticket) bool {
	switch {
	case o.ID == "", t.Against == o.ID: // a complaint is not read by whom it is about
		return false
	case t.Owner == o.ID, t.FirstResponsible == o.ID, d.supervises(o, t.Department):
		return true
	case t.Confidential && d.knowsReporter(o): // the supervision office follows its reports
		return true
	}
	return t.Owner == "" && t.Department == o.Department
}

// canWork reports whether o may work a ticket: its owner or a chief.
func (d *Desk) canWork(o Officer, t store.Ticket) bool {
	return t.Against != o.ID && (t.Owner == o.ID || d.supervises(o, t.Department))
}

// mayWork is the check of operations only the owner or a chief may do.
func (d *Desk) mayWork(o Officer) func(store.Ticket) error {
	return func(t store.Ticket) error {
		if !d.canWork(o, t) {
			return refusal("", ErrNotYours, "not_yours", "", "", nil)
		}
		return nil
	}
}

// mayChief is the check of operations only a chief may do; a zero Officer
// is the system (a timer, a survey), which may.
func (d *Desk) mayChief(o Officer) func(store.Ticket) error {
	return func(t store.Ticket) error {
		if o.ID != "" && !d.supervises(o, t.Department) {
			if d.canSee(o, t) {
				return refusal("", ErrNotYours, "chief_only", "", "", nil)
			}
			return refusal("", ErrNotYours, "not_yours", "", "", nil)
		}
		return nil
	}
}

// Ticket returns a ticket the officer may read.
func (d *Desk) Ticket(ctx context.Context, o Officer, id string) (store.Ticket, error) {
	t, err := d.st.GetTicket(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return t, refusal("", ErrNotFound, "not_found", id, "", nil)
	}
	if err != nil {
		return t, fmt.Errorf("get ticket %s: %w", id, err)
	}
	if !d.canSee(o, t) {
		return store.Ticket{}, refusal("", ErrNotYours, "not_yours", id, t.State, nil)
	}
	return t, nil
}

// firstResponsible keeps the first officer who acted on a ticket as its
// first responsible (首问负责): set once, kept through every transfer.
func firstResponsible(t *store.Ticket, o Officer) {
	if t.FirstResponsible == "" && t.Owner == o.ID {
		t.FirstResponsible = o.ID
	}
}

// Accept makes o the owner of a ticket and starts the work (接单).
func (d *Desk) Accept(ctx context.Context, o Officer, id string) (store.Ticket, error) {
	t, err := d.apply(ctx, id, OpAccept, o.ID, func(t store.Ticket) error {
		if !d.canSee(o, t) {
			return refusal("", ErrNotYours, "not_yours", "", "", nil)
		}
		if t.State == store.StateAssigned && t.Owner != o.ID && !d.supervises(o, t.Department) {
			return refusal("", ErrNotYours, "assigned_to_other", "", "", map[string]any{"Owner": d.dir.name(t.Owner)})
		}
		return nil
	}, func(t *store.Ticket, _ *store.TicketEvent) error {
		t.Owner, t.AcceptedAt = o.ID, d.now()
		firstResponsible(t, o)
		return nil
	})
	if err != nil {
		return t, d.explainState(err, t, o)
	}
	return t, d.tellCitizen(ctx, t, fmt.Sprintf("accepted:%s:%d", t.ID, t.Version), d.citizen.Say("accepted", d.ticketData(t)))
}

// explainState gives a wrong-state refusal the facts that explain it.
func (d *Desk) explainState(err error, t store.Ticket, o Officer) error {
	r, ok := errors.AsType[*Refusal](err)
	if !ok || !errors.Is(err, ErrWrongState) {
		return err
	}
	r.Facts = map[string]any{"Owner": d.dir.name(t.Owner), "Mine": t.Owner == o.ID, "State": d.stateName(t.State)}
	return r
}

// Reply sends the officer's words to the citizen (回复); AskMore asks the
// citizen for more (补充) and the ticket waits for them.
func (d *Desk) Reply(ctx context.Context, o Officer, id, text string) (store.Ticket, error) {
	return d.say(ctx, o, id, text, OpReply, maxReply)
}

// AskMore asks the citizen for more material; the ticket waits for them.
func (d *Desk) AskMore(ctx context.Context, o Officer, id, text string) (store.Ticket, error) {
	return d.say(ctx, o, id, text, OpAskMore, maxReply)
}

// say sends the officer's text, cut to limit characters, to the citizen and
// records it.
func (d *Desk) say(ctx context.Context, o Officer, id, text string, op Op, limit int) (store.Ticket, error) {
	text = strings.TrimSpace(text)
	if text == "" {
		return store.Ticket{}, refusal(op, ErrInvalid, "empty_text", id, "", nil)
	}
	text = chat.Cut(text, limit)
	t, err := d.apply(ctx, id, op, o.ID, d.mayWork(o), func(t *store.Ticket, ev *store.TicketEvent) error {
		firstResponsible(t, o)
		t.Transcript = append(t.Transcript, store.Utterance{At: d.now(), From: o.ID, Text: text})
		ev.Detail = text
		return nil
	})
	if err != nil {
		return t, d.explainState(err, t, o)
	}
	key := "officer_reply"
	if op == OpAskMore {
		key = "ask_more"
	}
	return t, d.tellCitizen(ctx, t, fmt.Sprintf("msg:%s:%d", t.ID, t.Version), d.citizen.Say(key, map[string]any{"ID": t.ID, "Text": text}))
}

// TransferRequest hands a ticket on (转办): To names a department, an
// officer or an outside agency (by ID or name); Reason is required.
type TransferRequest struct {
	Ticket, To, Reason string
}

// Transfer hands a ticket to another department, a colleague, or an
// outside agency. The first responsible officer stays on record and keeps
// read access; nobody may refuse a matter without handing it on.
func (d *Desk) Transfer(ctx context.Context, o Officer, req TransferRequest) (store.Ticket, error) {
	req.Reason = strings.TrimSpace(req.Reason)
	if req.To == "" || req.Reason == "" {
		return store.Ticket{}, refusal(OpTransfer, ErrInvalid, "transfer_usage", req.Ticket, "", nil)
	}
	req.Reason = chat.Cut(req.Reason, maxReason)
	if a, ok := d.dir.agency(req.To); ok {
		return d.transferOut(ctx, o, req, a)
	}
	var to Officer
	dept, ok := d.dir.department(req.To)
	if !ok {
		if to, ok = d.dir.officer(req.To); !ok || to.Leader && to.Department == "" {
			return store.Ticket{}, refusal(OpTransfer, ErrInvalid, "unknown_target", req.Ticket, "", map[string]any{"Target": req.To})
		}
		if !d.reachable(ctx, to.ID) {
			return store.Ticket{}, refusal(OpTransfer, ErrInvalid, "unreachable_target", req.Ticket, "", map[string]any{"Target": to.Name})
		}
		dept = d.dir.depts[to.Department]
	}
	before, err := d.Ticket(ctx, o, req.Ticket)
	if err != nil {
		return before, err
	}
	t, err := d.apply(ctx, req.Ticket, OpTransfer, o.ID, d.mayWork(o), func(t *store.Ticket, ev *store.TicketEvent) error {
		if to.ID != "" && to.ID == t.Owner {
			return refusal("", ErrInvalid, "same_owner", "", "", map[string]any{"Target": to.Name})
		}
		if to.ID != "" && to.ID == t.Against {
			return refusal("", ErrInvalid, "against_target", "", "", map[string]any{"Target": to.Name})
		}
		firstResponsible(t, o)
		t.Department, t.Owner = dept.ID, ""
		ev.Department, ev.Officer, ev.Detail = dept.ID, to.ID, req.Reason
		return nil
	})
	if err != nil {
		return t, d.explainState(err, t, o)
	}
	if t, err = d.assign(ctx, t.ID, to.ID); err != nil {
		return t, err
	}
	if dept.ID != before.Department { // a colleague in the same section is no news to the citizen
		data := d.ticketData(t)
		if err := d.tellCitizen(ctx, t, fmt.Sprintf("transferred:%s:%d", t.ID, t.Version), d.citizen.Say("transferred", data)); err != nil {
			return t, err
		}
	}
	return t, nil
}

// transferOut sends a matter to an outside agency: the ticket ends as 转外单位
// (still counted), the citizen learns where it went and how to reach them.
func (d *Desk) transferOut(ctx context.Context, o Officer, req TransferRequest, a Agency) (store.Ticket, error) {
	t, err := d.apply(ctx, req.Ticket, OpTransferOut, o.ID, d.mayWork(o), func(t *store.Ticket, ev *store.TicketEvent) error {
		firstResponsible(t, o)
		t.Agency, t.ClosedAt = a.ID, d.now()
		ev.Agency, ev.Detail = a.ID, req.Reason
		return nil
	})
	if err != nil {
		return t, d.explainState(err, t, o)
	}
	d.cancelTimers(ctx, t)
	data := d.ticketData(t)
	data["Agency"], data["Reason"] = a.Name, req.Reason
	data["Contact"] = d.contactText(a.Contact)
	return t, errors.Join(
		d.tellCitizen(ctx, t, "transferred_out:"+t.ID, d.citizen.Say("transferred_out", data)),
		d.tellFirstResponsible(ctx, t, o, "outcome_transferred_out", data))
}

// ExtensionRequest asks for more working days (延期), before the deadline.
type ExtensionRequest struct {
	Ticket string
	Days   int
	Reason string
}

// RequestExtension sends an extension request to the department's chief.
func (d *Desk) RequestExtension(ctx context.Context, o Officer, req ExtensionRequest) (store.Ticket, error) {
	req.Reason = strings.TrimSpace(req.Reason)
	if req.Days < 1 || req.Days > d.rules.MaxExtensionDays || req.Reason == "" {
		return store.Ticket{}, refusal(OpRequestExtension, ErrInvalid, "extension_usage", req.Ticket, "", map[string]any{"Max": d.rules.MaxExtensionDays})
	}
	req.Reason = chat.Cut(req.Reason, maxReason)
	now := d.now()
	t, err := d.apply(ctx, req.Ticket, OpRequestExtension, o.ID, func(t store.Ticket) error {
		if t.Owner != o.ID {
			if d.canSee(o, t) {
				return refusal("", ErrNotYours, "owner_only", "", "", nil)
			}
			return refusal("", ErrNotYours, "not_yours", "", "", nil)
		}
		return nil
	}, func(t *store.Ticket, ev *store.TicketEvent) error {
		switch {
		case !now.Before(t.Deadline):
			return refusal("", ErrWrongState, "past_deadline", "", "", nil)
		case t.Extension != nil && t.Extension.Status == "pending":
			return refusal("", ErrWrongState, "extension_pending", "", "", nil)
		}
		t.Extension = &store.Extension{Days: req.Days, Reason: req.Reason, RequestedBy: o.ID, RequestedAt: now, Status: "pending"}
		ev.Days, ev.Detail = req.Days, req.Reason
		return nil
	})
	if err != nil {
		return t, d.explainState(err, t, o)
	}
	chief := d.chiefOf(ctx, t.Department)
	data := d.ticketData(t)
	data["Days"], data["Reason"] = req.Days, req.Reason
	return t, d.tellOfficer(ctx, chief, fmt.Sprintf("extension:%s:%d", t.ID, t.Version), d.officer.Say("extension_request", data), "approval",
		map[string]string{"ticket": t.ID, "days": strconv.Itoa(req.Days)})
}

// Decision answers a pending extension request.
type Decision struct {
	Ticket  string
	Approve bool
	Reason  string
}

// DecideExtension approves or refuses a pending extension (a chief only).
func (d *Desk) DecideExtension(ctx context.Context, o Officer, dec Decision) (store.Ticket, error) {
	op := OpRefuseExtension
	if dec.Approve {
		op = OpApproveExtension
	}
	now := d.now()
	var old time.Time
	t, err := d.apply(ctx, dec.Ticket, op, o.ID, d.mayChief(o), func(t *store.Ticket, ev *store.TicketEvent) error {
		if t.Extension == nil || t.Extension.Status != "pending" {
			return refusal("", ErrWrongState, "no_pending_extension", "", "", nil)
		}
		ext := *t.Extension
		ext.DecidedBy, ext.DecidedAt = o.ID, now
		old = t.Deadline
		if dec.Approve {
			ext.Status, ext.OldDeadline = "approved", t.Deadline
			t.Deadline = d.cal.AddWorkingDays(t.Deadline, ext.Days)
			ev.Days, ev.Deadline = ext.Days, t.Deadline
		} else {
			ext.Status = "rejected"
			ev.Detail = chat.Cut(strings.TrimSpace(dec.Reason), maxReason)
		}
		t.Extension = &ext
		return nil
	})
	if err != nil {
		return t, d.explainState(err, t, o)
	}
	data := d.ticketData(t)
	if !dec.Approve {
		data["Reason"] = t.History[len(t.History)-1].Detail
		return t, d.tellOfficer(ctx, t.Owner, fmt.Sprintf("decision:%s:%d", t.ID, t.Version), d.officer.Say("extension_rejected", data), "approval", map[string]string{"ticket": t.ID})
	}
	d.cancelTimers(ctx, store.Ticket{ID: t.ID, Deadline: old})
	if err := d.scheduleDeadline(ctx, t); err != nil {
		return t, err
	}
	data["Reason"] = t.Extension.Reason
	return t, errors.Join(
		d.tellOfficer(ctx, t.Owner, fmt.Sprintf("decision:%s:%d", t.ID, t.Version), d.officer.Say("extension_approved", data), "approval", map[string]string{"ticket": t.ID}),
		d.tellCitizen(ctx, t, fmt.Sprintf("extended:%s:%d", t.ID, t.Version), d.citizen.Say("extended", data)))
}

// Resolve finishes a ticket with its result (办结); the citizen gets the
// result, the first responsible officer learns the outcome, and the
// return visit (回访) is scheduled.
func (d *Desk) Resolve(ctx context.Context, o Officer, id, result string) (store.Ticket, error) {
	return d.resolve(ctx, o, id, result, "resolved")
}

// resolve is Resolve, telling the citizen with the text key (a
// rectification's outcome says what was done about the complaint).
func (d *Desk) resolve(ctx context.Context, o Officer, id, result, key string) (store.Ticket, error) {
	result = strings.TrimSpace(result)
	if result == "" {
		return store.Ticket{}, refusal(OpResolve, ErrInvalid, "resolve_usage", id, "", nil)
	}
	result = chat.Cut(result, maxReply)
	// The visit is scheduled before the resolution is written: a crash in
	// between leaves a timer that finds no survey, never a resolution
	// nobody visits.
	visit, err := d.scheduleVisit(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return store.Ticket{}, refusal(OpResolve, ErrNotFound, "not_found", id, "", nil)
	}
	if err != nil {
		return store.Ticket{}, err
	}
	t, err := d.apply(ctx, id, OpResolve, o.ID, d.mayWork(o), func(t *store.Ticket, ev *store.TicketEvent) error {
		firstResponsible(t, o)
		now := d.now()
		t.Resolution, t.ResolvedAt = result, now
		t.Transcript = append(t.Transcript, store.Utterance{At: now, From: o.ID, Text: result})
		s := visit
		s.Round = len(t.Surveys) + 1 // as scheduled, unless resolved and reopened meanwhile
		t.Surveys = append(t.Surveys, s)
		ev.Detail = result
		return nil
	})
	if err != nil {
		return t, d.explainState(err, t, o)
	}
	if s := latestSurvey(&t); s.Round != visit.Round {
		if err := d.schedule(ctx, timer{Kind: TimerVisit, Ticket: t.ID, Round: s.Round}, s.Due); err != nil {
			return t, err
		}
	}
	d.cancelTimers(ctx, t)
	data := d.ticketData(t)
	data["Text"] = result
	return t, errors.Join(
		d.tellCitizen(ctx, t, "resolved:"+t.ID+":"+strconv.FormatInt(t.Version, 10), d.citizen.Say(key, data)),
		d.tellFirstResponsible(ctx, t, o, "outcome_resolved", data))
}

// Reopen reopens a resolved ticket for rectification (整改), for its chief
// or, with a zero Officer, for the system (a bad review). The owner works it
// again under a new deadline.
func (d *Desk) Reopen(ctx context.Context, o Officer, id, reason string) (store.Ticket, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return store.Ticket{}, refusal(OpReopen, ErrInvalid, "reopen_usage", id, "", nil)
	}
	actor := actorSystem
	if o.ID != "" {
		actor = o.ID
	}
	now := d.now()
	t, err := d.apply(ctx, id, OpReopen, actor, d.mayChief(o), func(t *store.Ticket, ev *store.TicketEvent) error {
		t.Deadline = d.deadline(now, d.rules.limit(t.Line, t.Inquiry))
		t.Extension = nil
		ev.Detail, ev.Deadline = chat.Cut(reason, maxReason), t.Deadline
		return nil
	})
	if err != nil {
		return t, d.explainState(err, t, o)
	}
	if err := d.scheduleDeadline(ctx, t); err != nil {
		return t, err
	}
	data := d.ticketData(t)
	data["Reason"] = t.History[len(t.History)-1].Detail
	return t, d.tellOfficer(ctx, t.Owner, fmt.Sprintf("reopened:%s:%d", t.ID, t.Version), d.officer.Say("reopened", data), "assignment", d.templateFields(t))
}

// Close archives a resolved ticket (归档): a chief, or the system after the
// return visit.
func (d *Desk) Close(ctx context.Context, o Officer, id string) (store.Ticket, error) {
	actor := actorSystem
	if o.ID != "" {
		actor = o.ID
	}
	t, err := d.apply(ctx, id, OpClose, actor, d.mayChief(o), func(t *store.Ticket, _ *store.TicketEvent) error {
		t.ClosedAt = d.now()
		return nil
	})
	return t, d.explainState(err, t, o)
}

// RevealPhone gives the citizen's full phone number to the owner or a chief
// and records who saw it, when and why (reason may be empty in chat).
func (d *Desk) RevealPhone(ctx context.Context, o Officer, id, reason string) (store.Ticket, error) {
	return d.reveal(ctx, o, id, reason, OpRevealPhone, func(t *store.Ticket) bool { return t.Phone != "" }, "no_phone")
}

// RevealIDNumber gives the citizen's full ID number to the owner or a
// chief and records who saw it, when and why.
func (d *Desk) RevealIDNumber(ctx context.Context, o Officer, id, reason string) (store.Ticket, error) {
	return d.reveal(ctx, o, id, reason, OpRevealID, func(t *store.Ticket) bool { return t.IDNumber != "" }, "no_id_number")
}

func (d *Desk) reveal(ctx context.Context, o Officer, id, reason string, op Op, has func(*store.Ticket) bool, missing string) (store.Ticket, error) {
	reason = chat.Cut(strings.TrimSpace(reason), maxReason)
	// A report's reporter is unmasked by the supervision office only,
	// whoever works the ticket.
	may := func(t store.Ticket) error {
		switch {
		case !t.Confidential:
			return d.mayWork(o)(t)
		case !d.knowsReporter(o):
			return refusal("", ErrNotYours, "reporter_confidential", "", "", nil)
		}
		return nil
	}
	t, err := d.apply(ctx, id, op, o.ID, may, func(t *store.Ticket, ev *store.TicketEvent) error {
		if !has(t) {
			return refusal("", ErrInvalid, missing, "", "", nil)
		}
		ev.Detail = reason
		return nil
	})
	if err == nil {
		d.log.InfoContext(ctx, "personal data unmasked", "ticket_id", t.ID, "officer_id", o.ID, "what", string(op))
	}
	return t, d.explainState(err, t, o)
}

// SetDuty puts an officer on duty or off duty. Off duty lasts until the
// start of the next working day (or until they come back on duty); it
// returns that moment. Tickets already assigned stay theirs.
func (d *Desk) SetDuty(ctx context.Context, o Officer, on bool) (time.Time, error) {
	if on {
		if err := d.st.DeleteCache(ctx, "off_duty:"+o.ID); err != nil {
			return time.Time{}, fmt.Errorf("set on duty: %w", err)
		}
		return time.Time{}, nil
	}
	now := d.now()
	until := d.cal.NextWorkdayStart(now)
	if err := d.st.SetCache(ctx, "off_duty:"+o.ID, "1", until.Sub(now)); err != nil {
		return time.Time{}, fmt.Errorf("set off duty: %w", err)
	}
	return until, nil
}

// Open tickets of an officer: their own, or for a chief those of every
// department they answer for.
func (d *Desk) OpenTickets(ctx context.Context, o Officer) ([]store.Ticket, bool, error) {
	depts := d.chiefDepartments(o)
	if o.Leader {
		depts = d.dir.order
	}
	if len(depts) == 0 {
		ts, err := d.st.ListTickets(ctx, store.TicketFilter{Owner: o.ID, OpenOnly: true})
		if err != nil {
			return nil, false, fmt.Errorf("list tickets: %w", err)
		}
		return ts, false, nil
	}
	var all []store.Ticket
	for _, dp := range depts {
		ts, err := d.st.ListTickets(ctx, store.TicketFilter{Department: dp, OpenOnly: true})
		if err != nil {
			return nil, true, fmt.Errorf("list tickets: %w", err)
		}
		all = append(all, ts...)
	}
	return all, true, nil
}
