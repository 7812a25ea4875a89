package desk

import (
	"context"
	"fmt"
	"slices"

	"huimin/store"
)

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
		if phoneTaskWaiting(&t) {
			out = append(out, t)
		}
	}
	return out, true, nil
}

// phoneTaskWaiting reports whether the ticket's return visit reached the
// citizen by no channel and still waits for a phone call's answer.
func phoneTaskWaiting(t *store.Ticket) bool {
	s := latestSurvey(t)
	return s != nil && s.Channel == ChannelPhone && !s.Answered() && t.State == store.StateResolved
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
