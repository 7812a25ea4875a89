package desk

import (
	"context"
	"fmt"
	"slices"
	"strings"

	"huimin/chat"
	"huimin/store"
)

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

// departmentTickets lists every ticket of the departments a chief (or the
// leader) answers for, oldest first.
func (d *Desk) departmentTickets(ctx context.Context, o Officer) ([]store.Ticket, bool, error) {
	depts := d.chiefDepartments(o)
	if o.Leader {
		depts = d.dir.order
	}
	if len(depts) == 0 {
		return nil, false, nil
	}
	var all []store.Ticket
	for _, dp := range depts {
		ts, err := d.st.ListTickets(ctx, store.TicketFilter{Department: dp})
		if err != nil {
			return nil, true, fmt.Errorf("list tickets: %w", err)
		}
		all = append(all, ts...)
	}
	slices.SortFunc(all, func(a, b store.Ticket) int { return a.CreatedAt.Compare(b.CreatedAt) })
	return all, true, nil
}

// PhoneTasks lists the return visits no channel delivered (电话回访) that
// still wait for their answer, in the departments a chief answers for.
// The citizen's number is masked; 电话 <工单号> shows it and is recorded.
func (d *Desk) PhoneTasks(ctx context.Context, o Officer) ([]store.Ticket, bool, error) {
	ts, chief, err := d.departmentTickets(ctx, o)
	if err != nil || !chief {
		return nil, chief, err
	}
	var out []store.Ticket
	for _, t := range ts {
		if s := latestSurvey(&t); s != nil && s.Channel == ChannelPhone && !s.Answered() && t.State == store.StateResolved {
			out = append(out, t)
		}
	}
	return out, true, nil
}

// Suggestion is one entry of the suggestion register (建议登记): a ticket
// of the suggestion type with its answer, or a survey's comment.
type Suggestion struct {
	Ticket store.Ticket
	// Text is the suggestion; Answer the ticket's resolution ("" for a
	// comment, or while open).
	Text, Answer string
	Comment      bool
}

// Suggestions is the suggestion register of the departments a chief
// answers for, newest first.
func (d *Desk) Suggestions(ctx context.Context, o Officer) ([]Suggestion, bool, error) {
	ts, chief, err := d.departmentTickets(ctx, o)
	if err != nil || !chief {
		return nil, chief, err
	}
	var out []Suggestion
	for _, t := range slices.Backward(ts) {
		if t.Inquiry == "suggestion" {
			out = append(out, Suggestion{Ticket: t, Text: t.Summary, Answer: t.Resolution})
		}
		for _, s := range slices.Backward(t.Surveys) {
			if s.Comment != "" {
				out = append(out, Suggestion{Ticket: t, Text: s.Comment, Comment: true})
			}
		}
	}
	return out, true, nil
}
