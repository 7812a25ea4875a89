package desk

import (
	"context"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"huimin/chat"
	"huimin/store"
)

// rectify reopens a ticket after a 差评 (整改): a named person — the owner
// credited, else the chief — verifies it within VerifyDays and rectifies
// within RectifyDays; the chief and the named person are told, and after
// a second 差评 the bureau leader too.
func (d *Desk) rectify(ctx context.Context, t store.Ticket, s store.Survey) error {
	now := d.now()
	chief := d.chiefOf(ctx, t.Department)
	assignee := s.Officer
	if assignee == "" || !d.reachable(ctx, assignee) {
		assignee = chief
	}
	sr := d.rules.Survey
	r := store.Rectification{Round: s.Round, Assignee: assignee, VerifyBy: d.cal.AddWorkingDays(now, sr.VerifyDays), Due: d.cal.AddWorkingDays(now, sr.RectifyDays)}
	t, err := d.apply(ctx, t.ID, OpReopen, actorSystem, nil, func(t *store.Ticket, ev *store.TicketEvent) error {
		t.Owner, t.Deadline, t.Extension = assignee, r.Due, nil
		t.Rectifications = append(t.Rectifications, r)
		ev.Officer, ev.Deadline, ev.Days, ev.Detail = assignee, r.Due, s.Round, d.LevelName(s.Level)
		return nil
	})
	if err != nil {
		return err
	}
	if err := d.scheduleDeadline(ctx, t); err != nil {
		return err
	}
	if err := d.schedule(ctx, timer{Kind: TimerVerify, Ticket: t.ID, Round: s.Round}, r.VerifyBy); err != nil {
		return err
	}
	data := d.ticketData(t)
	data["Level"], data["Comment"], data["Assignee"] = d.LevelName(s.Level), s.Comment, d.dir.name(assignee)
	data["VerifyBy"], data["Due"], data["Second"] = d.when(r.VerifyBy), d.when(r.Due), s.Round > 1
	key := "rectify:" + t.ID + ":" + strconv.Itoa(s.Round)
	told := uniq(assignee, chief)
	if s.Round > 1 {
		told = uniq(assignee, chief, d.dir.leader)
	}
	var errs []error
	for _, o := range told {
		errs = append(errs, d.tellOfficer(ctx, o, key+":"+o, d.officer.Say("rectify_start", data), "escalation", d.templateFields(t)))
	}
	errs = append(errs, d.tellCitizen(ctx, t, key, d.citizen.Say("rectify_start", data)))
	return errors.Join(errs...)
}

// handleVerify tells the chief when a 差评's named person has not recorded
// the verification's outcome by its deadline (回访核实).
func (d *Desk) handleVerify(ctx context.Context, it store.DueItem, tm timer) error {
	t, err := d.st.GetTicket(ctx, tm.Ticket)
	if errors.Is(err, store.ErrNotFound) {
		return nil
	}
	if err != nil {
		return fmt.Errorf("get ticket %s: %w", tm.Ticket, err)
	}
	r := rectification(&t, tm.Round)
	if r == nil || r.Outcome != "" || t.State != store.StateReopened {
		return nil
	}
	if slices.ContainsFunc(t.History, func(h store.TicketEvent) bool { return h.Ref == it.ID }) {
		return nil
	}
	chief := d.chiefOf(ctx, t.Department)
	to := chief
	if tm.Round > 1 && d.dir.leader != "" {
		to = d.dir.leader
	}
	data := d.ticketData(t)
	data["Assignee"], data["VerifyBy"] = d.dir.name(r.Assignee), d.when(r.VerifyBy)
	if err := d.tellOfficer(ctx, to, it.ID, d.officer.Say("verify_overdue", data), "escalation", d.templateFields(t)); err != nil {
		return err
	}
	_, err = d.apply(ctx, t.ID, OpEscalate, actorSystem, nil, func(t *store.Ticket, ev *store.TicketEvent) error {
		if slices.ContainsFunc(t.History, func(h store.TicketEvent) bool { return h.Ref == it.ID }) {
			return errRecorded
		}
		ev.Officer, ev.Deadline, ev.Ref = to, r.VerifyBy, it.ID
		return nil
	})
	if errors.Is(err, errRecorded) {
		return nil
	}
	return err
}

func rectification(t *store.Ticket, round int) *store.Rectification {
	for i := len(t.Rectifications) - 1; i >= 0; i-- {
		if t.Rectifications[i].Round == round {
			return &t.Rectifications[i]
		}
	}
	return nil
}

// RectifyRequest records how a 差评 was dealt with: Outcome is
// RectifyImmediate (fixed now), RectifyScheduled (by Promised) or
// RectifyExplained (the request has no legal basis, explained).
type RectifyRequest struct {
	Ticket   string
	Outcome  string
	Promised time.Time
	Note     string
}

// Rectify records a rectification's outcome, by its named person or a
// chief. The citizen is told in plain words; fixed or explained, the
// ticket is resolved again and a second return visit follows; scheduled,
// the ticket's deadline becomes the promised day.
func (d *Desk) Rectify(ctx context.Context, o Officer, req RectifyRequest) (store.Ticket, error) {
	req.Note = strings.TrimSpace(req.Note)
	valid := req.Outcome == RectifyImmediate || req.Outcome == RectifyExplained || req.Outcome == RectifyScheduled && !req.Promised.IsZero()
	if !valid || req.Note == "" {
		return store.Ticket{}, refusal(OpRectify, ErrInvalid, "rectify_usage", req.Ticket, "", nil)
	}
	req.Note = chat.Cut(req.Note, maxReply)
	now := d.now()
	if req.Outcome == RectifyScheduled && !req.Promised.After(now) {
		return store.Ticket{}, refusal(OpRectify, ErrInvalid, "promise_past", req.Ticket, "", nil)
	}
	var old time.Time
	t, err := d.apply(ctx, req.Ticket, OpRectify, o.ID, d.mayWork(o), func(t *store.Ticket, ev *store.TicketEvent) error {
		if len(t.Rectifications) == 0 {
			return refusal("", ErrWrongState, "no_rectification", "", "", nil)
		}
		r := &t.Rectifications[len(t.Rectifications)-1]
		if r.Outcome != "" && r.Outcome != RectifyScheduled {
			return refusal("", ErrWrongState, "rectified", "", "", nil)
		}
		r.Outcome, r.Note, r.RecordedBy, r.RecordedAt = req.Outcome, req.Note, o.ID, now
		old = t.Deadline
		if req.Outcome == RectifyScheduled {
			r.Promised = req.Promised
			t.Deadline = req.Promised
			ev.Deadline = req.Promised
		}
		ev.Outcome, ev.Detail, ev.Days = req.Outcome, req.Note, r.Round
		return nil
	})
	if err != nil {
		return t, d.explainState(err, t, o)
	}
	data := d.ticketData(t)
	data["Text"], data["Promised"] = req.Note, d.when(req.Promised)
	msgID := fmt.Sprintf("rectified:%s:%d", t.ID, t.Version)
	if req.Outcome == RectifyScheduled {
		d.cancelTimers(ctx, store.Ticket{ID: t.ID, CreatedAt: t.CreatedAt, Deadline: old})
		if err := d.scheduleDeadline(ctx, t); err != nil {
			return t, err
		}
		return t, d.tellCitizen(ctx, t, msgID, d.citizen.Say("rectify_"+req.Outcome, data))
	}
	return d.resolve(ctx, o, t.ID, req.Note, "rectify_"+req.Outcome)
}

// Appeal asks to take a mistaken or malicious rating out of the statistics
// (申诉复核), with a reason: by the ticket's owner, its first responsible
// officer or a chief of its department. The chief decides, or the bureau
// leader when the chief asked.
func (d *Desk) Appeal(ctx context.Context, o Officer, id, reason string) (store.Ticket, error) {
	reason = strings.TrimSpace(reason)
	if reason == "" {
		return store.Ticket{}, refusal(OpAppeal, ErrInvalid, "appeal_usage", id, "", nil)
	}
	reason = chat.Cut(reason, maxReason)
	now := d.now()
	t, err := d.apply(ctx, id, OpAppeal, o.ID, func(t store.Ticket) error {
		if !d.canSee(o, t) {
			return refusal("", ErrNotYours, "not_yours", "", "", nil)
		}
		return nil
	}, func(t *store.Ticket, ev *store.TicketEvent) error {
		s := ratedSurvey(t)
		switch {
		case s == nil:
			return refusal("", ErrWrongState, "no_rating", "", "", nil)
		case s.Excluded:
			return refusal("", ErrWrongState, "appeal_done", "", "", nil)
		case s.Appeal != nil && s.Appeal.Status == "pending":
			return refusal("", ErrWrongState, "appeal_pending", "", "", nil)
		}
		s.Appeal = &store.Appeal{Reason: reason, RequestedBy: o.ID, RequestedAt: now, Status: "pending"}
		ev.Detail, ev.Days = reason, s.Round
		return nil
	})
	if err != nil {
		return t, d.explainState(err, t, o)
	}
	to := d.chiefOf(ctx, t.Department)
	if to == o.ID || to == "" {
		to = d.dir.leader
	}
	data := d.ticketData(t)
	s := ratedSurvey(&t)
	data["Level"], data["Reason"], data["By"] = d.LevelName(s.Level), reason, o.Name
	return t, d.tellOfficer(ctx, to, fmt.Sprintf("appeal:%s:%d", t.ID, t.Version), d.officer.Say("appeal_request", data), "approval", map[string]string{"ticket": t.ID})
}

// ratedSurvey is the ticket's latest survey with a rating, nil if none.
func ratedSurvey(t *store.Ticket) *store.Survey {
	for i := len(t.Surveys) - 1; i >= 0; i-- {
		if t.Surveys[i].Level > 0 && t.Surveys[i].Via != ViaExpired {
			return &t.Surveys[i]
		}
	}
	return nil
}

// DecideAppeal approves an appeal (the rating leaves the statistics and
// stays in the history) or refuses it: a chief of the department or the
// leader, never the officer who asked.
func (d *Desk) DecideAppeal(ctx context.Context, o Officer, dec Decision) (store.Ticket, error) {
	op := OpRefuseAppeal
	if dec.Approve {
		op = OpApproveAppeal
	}
	now := d.now()
	var requester string
	t, err := d.apply(ctx, dec.Ticket, op, o.ID, d.mayChief(o), func(t *store.Ticket, ev *store.TicketEvent) error {
		s := ratedSurvey(t)
		if s == nil || s.Appeal == nil || s.Appeal.Status != "pending" {
			return refusal("", ErrWrongState, "no_pending_appeal", "", "", nil)
		}
		if s.Appeal.RequestedBy == o.ID {
			return refusal("", ErrNotYours, "own_appeal", "", "", nil)
		}
		a := *s.Appeal
		a.DecidedBy, a.DecidedAt, a.Note = o.ID, now, chat.Cut(strings.TrimSpace(dec.Reason), maxReason)
		a.Status = "rejected"
		if dec.Approve {
			a.Status, s.Excluded = "approved", true
		}
		s.Appeal, requester = &a, a.RequestedBy
		ev.Detail, ev.Days = a.Note, s.Round
		return nil
	})
	if err != nil {
		return t, d.explainState(err, t, o)
	}
	data := d.ticketData(t)
	data["Approved"], data["Reason"] = dec.Approve, ratedSurvey(&t).Appeal.Note
	return t, d.tellOfficer(ctx, requester, fmt.Sprintf("appeal_decision:%s:%d", t.ID, t.Version), d.officer.Say("appeal_decided", data), "approval", map[string]string{"ticket": t.ID})
}

// NameRectifier names the person who verifies and rectifies a 差评 instead
// of the owner (a chief only); they are told at once.
func (d *Desk) NameRectifier(ctx context.Context, o Officer, id, who string) (store.Ticket, error) {
	to, ok := d.dir.officer(strings.TrimSpace(who))
	if !ok {
		return store.Ticket{}, refusal(OpNameRectifier, ErrInvalid, "unknown_target", id, "", map[string]any{"Target": who})
	}
	if !d.reachable(ctx, to.ID) {
		return store.Ticket{}, refusal(OpNameRectifier, ErrInvalid, "unreachable_target", id, "", map[string]any{"Target": to.Name})
	}
	t, err := d.apply(ctx, id, OpNameRectifier, o.ID, d.mayChief(o), func(t *store.Ticket, ev *store.TicketEvent) error {
		if len(t.Rectifications) == 0 || t.Rectifications[len(t.Rectifications)-1].Outcome != "" {
			return refusal("", ErrWrongState, "no_rectification", "", "", nil)
		}
		r := &t.Rectifications[len(t.Rectifications)-1]
		r.Assignee, t.Owner = to.ID, to.ID
		ev.Officer, ev.Days = to.ID, r.Round
		return nil
	})
	if err != nil {
		return t, d.explainState(err, t, o)
	}
	r := t.Rectifications[len(t.Rectifications)-1]
	data := d.ticketData(t)
	data["Level"], data["Assignee"], data["VerifyBy"], data["Due"] = d.LevelName(survey(&t, r.Round).Level), to.Name, d.when(r.VerifyBy), d.when(r.Due)
	data["Comment"] = survey(&t, r.Round).Comment
	return t, d.tellOfficer(ctx, to.ID, fmt.Sprintf("rectify_named:%s:%d", t.ID, t.Version), d.officer.Say("rectify_start", data), "escalation", d.templateFields(t))
}
