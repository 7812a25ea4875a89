package desk

import (
	"context"
	"errors"
	"fmt"

	"huimin/chat"
	"huimin/store"
)

// Actors that are not officers, as recorded in a ticket's history.
const (
	actorCitizen = "citizen"
	actorSystem  = "system"
)

// assign routes a received ticket to an officer of its department who can
// be reached (or to the officer named by a transfer) and sends them the
// assignment card. A ticket that is no longer received is left alone, so a
// retried timer does nothing twice.
func (d *Desk) assign(ctx context.Context, id, to string) (store.Ticket, error) {
	t, err := d.st.GetTicket(ctx, id)
	if err != nil {
		return store.Ticket{}, fmt.Errorf("get ticket %s: %w", id, err)
	}
	if t.State != store.StateReceived {
		return t, nil
	}
	owner := to
	switch {
	case owner != "":
	case toChief(t):
		owner = d.chiefFor(ctx, t)
	default:
		if owner, err = d.pick(ctx, t.Department); err != nil {
			return t, err
		}
	}
	if owner == "" {
		return d.undeliverable(ctx, t, "")
	}
	t, err = d.apply(ctx, id, OpAssign, actorSystem, nil, func(t *store.Ticket, ev *store.TicketEvent) error {
		t.Owner, t.AssignedAt = owner, d.now()
		ev.Officer = owner
		return nil
	})
	if errors.Is(err, ErrWrongState) {
		// Assigned meanwhile (the timer and the request at once): that
		// assignment stands and has told its officer.
		return d.st.GetTicket(ctx, id)
	}
	if err != nil {
		return t, err
	}
	d.log.InfoContext(ctx, "ticket assigned", "ticket_id", t.ID, "officer_id", owner)
	key, data := "assignment", d.ticketData(t)
	if tr, ok := lastEvent(t, EventTransferred); ok {
		key, data["From"], data["Reason"] = "transferred_in", d.dir.name(tr.Actor), tr.Detail
	}
	if t.Urgent {
		data["Urgent"] = true
	}
	err = d.tellOfficer(ctx, owner, fmt.Sprintf("assign:%s:%s:%d", t.ID, owner, t.Version), d.officer.Say(key, data), "assignment", d.templateFields(t))
	return t, err
}

// pick chooses the owner of a new ticket of a department: the on-duty
// officer who can be reached with the fewest open tickets under their cap
// (ties in turn), else the department's chief, else the bureau leader —
// whoever can be reached. "" when nobody can.
func (d *Desk) pick(ctx context.Context, deptID string) (string, error) {
	dept := d.dir.depts[deptID]
	type cand struct {
		id   string
		open int
	}
	var best []cand
	for _, id := range d.dir.members[dept.ID] {
		o := d.dir.officers[id]
		if o.Supervisor || o.Leader || o.ID == dept.Supervisor || !d.onDuty(ctx, id) || !d.reachable(ctx, id) {
			continue
		}
		// A count from the store's open index: an officer's finished
		// tickets, a year of them, are not read.
		open, err := d.st.CountTickets(ctx, store.TicketFilter{Owner: id, OpenOnly: true})
		if err != nil {
			return "", fmt.Errorf("count open tickets of %s: %w", id, err)
		}
		if o.MaxOpen > 0 && open >= o.MaxOpen {
			continue
		}
		switch {
		case len(best) == 0 || open < best[0].open:
			best = []cand{{id, open}}
		case open == best[0].open:
			best = append(best, cand{id, open})
		}
	}
	switch len(best) {
	case 0:
		return d.chiefOf(ctx, dept.ID), nil
	case 1:
		return best[0].id, nil
	}
	n, err := d.st.NextSeq(ctx, "round_robin:"+dept.ID, 0)
	if err != nil {
		return "", fmt.Errorf("round robin: %w", err)
	}
	return best[int(n%int64(len(best)))].id, nil
}

// chiefOf is who answers for a department when its officers cannot: its
// chief, else the bureau leader — on duty if one is, else whoever can be
// reached; "" when nobody can.
func (d *Desk) chiefOf(ctx context.Context, deptID string) string {
	return d.firstReachable(ctx, uniq(d.dir.depts[deptID].Supervisor, d.dir.leader))
}

func (d *Desk) onDuty(ctx context.Context, officerID string) bool {
	_, err := d.st.GetCache(ctx, "off_duty:"+officerID)
	return errors.Is(err, store.ErrNotFound)
}

func (d *Desk) reachable(ctx context.Context, officerID string) bool {
	_, _, ok := d.address(ctx, officerID)
	return ok
}

// address is where an officer receives chat messages: WeCom or WeChat from
// the configuration, else the WeChat account bound with a code.
func (d *Desk) address(ctx context.Context, officerID string) (chat.Channel, string, bool) {
	o, ok := d.dir.officers[officerID]
	if !ok {
		return "", "", false
	}
	if o.WeComUser != "" {
		return chat.ChannelWeCom, o.WeComUser, true
	}
	if o.OpenID != "" {
		return chat.ChannelWeChat, o.OpenID, true
	}
	u, err := d.st.UserOfOfficer(ctx, officerID)
	if err != nil {
		return "", "", false
	}
	return chat.ChannelWeChat, u, true
}

// undeliverable records that nobody reachable could be told of a ticket and
// logs it loudly; the ticket stays received and the assignment timer tries
// again when it is next due.
func (d *Desk) undeliverable(ctx context.Context, t store.Ticket, officerID string) (store.Ticket, error) {
	d.log.WarnContext(ctx, "nobody reachable for a ticket: configure an openid or wecom_user, or bind an officer of its department",
		"ticket_id", t.ID, "department", t.Department, "officer_id", officerID)
	if ev, ok := lastEvent(t, EventUndeliverable); ok && ev.Officer == officerID {
		return t, nil // recorded once
	}
	return d.apply(ctx, t.ID, OpUndeliverable, actorSystem, nil, func(_ *store.Ticket, ev *store.TicketEvent) error {
		ev.Officer, ev.Department = officerID, t.Department
		return nil
	})
}

// Unreachable lists the departments that no officer or chief with a
// configured chat account serves: their tickets go to the bureau leader,
// or reach nobody, until someone binds an account with a code. Start-up
// warns about them.
func (d *Desk) Unreachable() []Department {
	var out []Department
	for _, dp := range d.dir.sorted() {
		ok := false
		ids := append(append([]string{}, d.dir.members[dp.ID]...), dp.Supervisor)
		for _, id := range ids {
			if o, found := d.dir.officers[id]; found && (o.OpenID != "" || o.WeComUser != "") {
				ok = true
				break
			}
		}
		if !ok {
			out = append(out, dp)
		}
	}
	return out
}

// update re-reads and changes a ticket until no concurrent change intervenes.
func (d *Desk) update(ctx context.Context, id string, change func(t *store.Ticket) error) (store.Ticket, error) {
	for range 8 {
		t, err := d.st.GetTicket(ctx, id)
		if errors.Is(err, store.ErrNotFound) {
			return store.Ticket{}, refusal("", ErrNotFound, "not_found", id, "", nil)
		}
		if err != nil {
			return store.Ticket{}, fmt.Errorf("get ticket %s: %w", id, err)
		}
		if err := change(&t); err != nil {
			return t, err
		}
		t, err = d.st.UpdateTicket(ctx, t)
		if errors.Is(err, store.ErrConflict) {
			continue
		}
		if err != nil {
			return store.Ticket{}, fmt.Errorf("update ticket %s: %w", id, err)
		}
		return t, nil
	}
	return store.Ticket{}, fmt.Errorf("update ticket %s: %w", id, store.ErrConflict)
}

// apply runs one operation on a ticket: it checks the transition table,
// lets change check the rest and fill in the details, moves the state and
// appends exactly one history event. A refusal changes nothing.
//
// check, when set, says first whether the actor may do this to the ticket
// at all, so that an officer who may not is told so whatever the state.
func (d *Desk) apply(ctx context.Context, id string, op Op, actor string, check func(t store.Ticket) error, change func(t *store.Ticket, ev *store.TicketEvent) error) (store.Ticket, error) {
	t, err := d.update(ctx, id, func(t *store.Ticket) error {
		if check != nil {
			if err := check(*t); err != nil {
				if r, ok := errors.AsType[*Refusal](err); ok && r.Op == "" {
					r.Op, r.Ticket, r.State = op, t.ID, t.State
				}
				return err
			}
		}
		if !allowed(op, t.State) {
			return refusal(op, ErrWrongState, "state", t.ID, t.State, nil)
		}
		ev := store.TicketEvent{At: d.now(), Actor: actor, Kind: eventOf[op]}
		if change != nil {
			if err := change(t, &ev); err != nil {
				if r, ok := errors.AsType[*Refusal](err); ok && r.Op == "" {
					r.Op, r.Ticket, r.State = op, t.ID, t.State
				}
				return err
			}
		}
		t.State = next(op, t.State)
		t.History = append(t.History, ev)
		return nil
	})
	if r, ok := errors.AsType[*Refusal](err); ok && r.Op == "" {
		r.Op = op
	}
	return t, err
}

// lastEvent is the latest history event of a kind.
func lastEvent(t store.Ticket, kind store.EventKind) (store.TicketEvent, bool) {
	for i := len(t.History) - 1; i >= 0; i-- {
		if t.History[i].Kind == kind {
			return t.History[i], true
		}
	}
	return store.TicketEvent{}, false
}
