package desk

import (
	"context"
	"fmt"
	"slices"

	"huimin/chat"
	"huimin/store"
)

// tellOfficer queues a chat message to an officer; the ID makes it sent
// once. An officer nobody can reach is recorded on the ticket by the
// caller's routing; here it is logged.
func (d *Desk) tellOfficer(ctx context.Context, officerID, id, text, tpl string, fields map[string]string) error {
	if officerID == "" {
		return nil
	}
	ch, user, ok := d.address(ctx, officerID)
	if !ok {
		d.log.WarnContext(ctx, "officer has no chat account bound", "officer_id", officerID)
		return nil
	}
	// fields["ticket"] is the ticket a message concerns, as templates show it.
	m := Message{ID: id, Channel: ch, To: user, Text: text, Template: tpl, Fields: fields, Officer: officerID, Ticket: fields["ticket"]}
	if err := d.note.Notify(ctx, m); err != nil {
		return fmt.Errorf("notify officer %s: %w", officerID, err)
	}
	return nil
}

// NotDelivered hands on a message to an officer that no channel could
// deliver (WeChat refused the customer-service message and its template
// too, or WeCom refused it): the chief of the ticket's department is told,
// or the bureau leader when the officer is that chief, and the ticket's
// history records it, so that the supervisor's list shows it. A message
// for the leader that fails has nobody left to go to and is logged.
func (d *Desk) NotDelivered(ctx context.Context, m Message) error {
	if m.Officer == "" {
		return nil // a citizen's message: the outbox's outcome is the record
	}
	dept := d.dir.officers[m.Officer].Department
	var t store.Ticket
	if m.Ticket != "" {
		var err error
		if t, err = d.st.GetTicket(ctx, m.Ticket); err != nil {
			return fmt.Errorf("get ticket %s: %w", m.Ticket, err)
		}
		dept = t.Department
	}
	// Up the chain, never down: the chief, or the leader when the chief
	// is the one missed; nobody above the leader.
	next := ""
	if m.Officer != d.dir.leader {
		next = d.chiefOf(ctx, dept)
		if next == m.Officer {
			next = ""
			if d.dir.leader != "" && d.reachable(ctx, d.dir.leader) {
				next = d.dir.leader
			}
		}
	}
	if next == "" {
		d.log.ErrorContext(ctx, "notice undeliverable and nobody left to tell", "officer_id", m.Officer, "ticket_id", m.Ticket, "message_id", m.ID)
		return nil
	}
	text := d.officer.Say("not_delivered", map[string]any{"Officer": d.dir.name(m.Officer), "Text": chat.Cut(m.Text, 600)})
	if err := d.tellOfficer(ctx, next, "notdelivered:"+m.ID, text, "escalation", map[string]string{"ticket": m.Ticket, "text": chat.Cut(m.Text, 100)}); err != nil {
		return err
	}
	ref := "notdelivered:" + m.ID
	if m.Ticket == "" || slices.ContainsFunc(t.History, func(e store.TicketEvent) bool { return e.Ref == ref }) {
		return nil
	}
	_, err := d.apply(ctx, t.ID, OpNotDelivered, actorSystem, nil, func(_ *store.Ticket, ev *store.TicketEvent) error {
		ev.Officer, ev.Detail, ev.Ref = m.Officer, d.dir.name(next), ref
		return nil
	})
	return err
}

// tellCitizen queues a message to the ticket's citizen, with the ticket
// update template for when WeChat's 48-hour window has closed.
func (d *Desk) tellCitizen(ctx context.Context, t store.Ticket, id, text string) error {
	err := d.note.Notify(ctx, Message{ID: id, Channel: chat.ChannelWeChat, To: t.CitizenOpenID, Text: text, Template: "ticket_update",
		Fields: map[string]string{"ticket": t.ID, "state": d.stateName(t.State), "text": chat.Cut(text, 100)}})
	if err != nil {
		return fmt.Errorf("notify citizen of %s: %w", t.ID, err)
	}
	return nil
}

// tellFirstResponsible tells the first responsible officer (首问负责) how a
// ticket they handed on ended, unless they did it themselves.
func (d *Desk) tellFirstResponsible(ctx context.Context, t store.Ticket, by Officer, key string, data map[string]any) error {
	fr := t.FirstResponsible
	if fr == "" || fr == by.ID {
		return nil
	}
	return d.tellOfficer(ctx, fr, key+":"+t.ID+":"+fmt.Sprint(t.Version), d.officer.Say(key, data), "ticket_update",
		map[string]string{"ticket": t.ID, "state": d.stateName(t.State)})
}

// alertUrgent tells the department's chief of an urgent matter at once, at
// any hour, and records it.
func (d *Desk) alertUrgent(ctx context.Context, t store.Ticket) error {
	chief := d.chiefOf(ctx, t.Department)
	if chief == "" {
		_, err := d.undeliverable(ctx, t, d.dir.depts[t.Department].Supervisor)
		return err
	}
	if err := d.tellOfficer(ctx, chief, "urgent:"+t.ID, d.officer.Say("urgent_alert", d.ticketData(t)), "escalation", d.templateFields(t)); err != nil {
		return err
	}
	_, err := d.apply(ctx, t.ID, OpUrgentAlert, actorSystem, nil, func(_ *store.Ticket, ev *store.TicketEvent) error {
		ev.Officer = chief
		return nil
	})
	return err
}

// templateFields are the values a template message may show of a ticket.
func (d *Desk) templateFields(t store.Ticket) map[string]string {
	return map[string]string{"ticket": t.ID, "line": d.lineName(t.Line), "deadline": d.when(t.Deadline), "state": d.stateName(t.State)}
}

// ticketData is what texts may say of a ticket; the phone is masked.
func (d *Desk) ticketData(t store.Ticket) map[string]any {
	dept := d.dir.depts[t.Department]
	data := map[string]any{
		"ID": t.ID, "Line": d.lineName(t.Line), "Inquiry": d.inquiryName(t.Inquiry), "Summary": chat.Cut(t.Summary, 300),
		"Phone": chat.MaskPhone(t.Phone), "Name": t.Name, "Deadline": d.when(t.Deadline), "Dept": dept.Name,
		"DeptContact": d.contactText(dept.Contact), "DeptPhone": dept.Phone,
		"Owner": d.dir.name(t.Owner), "FirstResponsible": d.dir.name(t.FirstResponsible), "Urgent": t.Urgent,
		"State": d.stateName(t.State), "Confidential": t.Confidential,
	}
	if t.Confidential {
		// A report: who made it is not said to the officers who handle it.
		data["Name"], data["Phone"] = d.officer.Say("reporter_hidden", nil), ""
	}
	return data
}

// contactText renders an office's address, hours and phone, leaving out
// what is not configured.
func (d *Desk) contactText(c Contact) string {
	return d.citizen.Say("contact", c)
}

func (d *Desk) stateName(s store.TicketState) string {
	return d.citizen.Say("state_"+string(s), nil)
}

func (d *Desk) inquiryName(q string) string {
	if q == "" || !d.citizen.Has("inquiry_"+q) {
		return q
	}
	return d.citizen.Say("inquiry_"+q, nil)
}
