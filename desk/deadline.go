package desk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"strings"
	"time"

	"huimin/store"
)

// timer is one timed step of a ticket, kept in the due-queue. Deadline is
// the deadline it was set for: after an extension the old timers find the
// ticket's deadline moved and do nothing.
type timer struct {
	Kind     string    `json:"kind"` // remind, last_day, overdue, leader
	Ticket   string    `json:"ticket"`
	Deadline time.Time `json:"deadline"`
	Fraction float64   `json:"fraction,omitempty"`
}

func (d *Desk) scheduleDeadline(ctx context.Context, t store.Ticket) error {
	now := d.now()
	var timers []store.DueItem
	add := func(kind string, at time.Time, f float64) {
		if !at.After(now) {
			return
		}
		p, _ := json.Marshal(timer{Kind: kind, Ticket: t.ID, Deadline: t.Deadline, Fraction: f})
		timers = append(timers, store.DueItem{ID: fmt.Sprintf("%s:%s:%d:%g", kind, t.ID, t.Deadline.Unix(), f), Due: at, Payload: p})
	}
	for _, f := range d.rules.RemindAt {
		add("remind", d.cal.Fraction(t.CreatedAt, t.Deadline, f), f)
	}
	if d.rules.RemindLastDay {
		add("last_day", d.cal.LastWorkingDayStart(t.Deadline), 0)
	}
	add("overdue", t.Deadline, 0)
	if d.rules.LeaderAfter > 0 {
		add("leader", d.cal.AddWorkingDays(t.Deadline, d.rules.LeaderAfter), 0)
	}
	for _, it := range timers {
		if _, err := d.st.Schedule(ctx, Queue, it); err != nil {
			return fmt.Errorf("schedule %s: %w", it.ID, err)
		}
	}
	return nil
}

// Sweep does the desk's timed work that is due: assignments held until the
// working day starts, reminders, escalations. Each item is claimed by one
// instance; its messages carry the item's ID, so a retry after a crash
// sends nothing twice. cron calls it.
func (d *Desk) Sweep(ctx context.Context) error {
	for {
		items, err := d.st.Claim(ctx, Queue, d.now(), 32, 2*time.Minute)
		if err != nil {
			return fmt.Errorf("claim desk timers: %w", err)
		}
		for _, it := range items {
			if err := d.HandleTimer(ctx, it); err != nil {
				// Left claimed: the lease runs out and it is tried again.
				d.log.ErrorContext(ctx, "desk timer failed", "item", it.ID, "err", err)
				continue
			}
			if err := d.st.Ack(ctx, Queue, it.ID, it.Attempt); err != nil && !errors.Is(err, store.ErrLeaseLost) {
				d.log.WarnContext(ctx, "ack desk timer failed", "item", it.ID, "err", err)
			}
		}
		if len(items) < 32 {
			return nil
		}
	}
}

// HandleTimer does one due desk timer: an assignment held until the
// working day starts, a reminder, an escalation. Doing it twice sends
// nothing twice: its messages carry the item's ID.
func (d *Desk) HandleTimer(ctx context.Context, it store.DueItem) error {
	if id, ok := strings.CutPrefix(it.ID, "assign:"); ok {
		t, err := d.st.GetTicket(ctx, id)
		if err != nil {
			return fmt.Errorf("get ticket %s: %w", id, err)
		}
		if t.State != store.StateReceived {
			return nil
		}
		_, err = d.assign(ctx, t, "", "")
		return err
	}
	var tm timer
	if err := json.Unmarshal(it.Payload, &tm); err != nil {
		d.log.ErrorContext(ctx, "undecodable desk timer dropped", "item", it.ID, "err", err)
		return nil
	}
	t, err := d.st.GetTicket(ctx, tm.Ticket)
	if err != nil {
		return fmt.Errorf("get ticket %s: %w", tm.Ticket, err)
	}
	if !t.State.Open() || !t.Deadline.Equal(tm.Deadline) {
		return nil // resolved, or the deadline moved
	}
	data := d.cardData(t)
	now := d.now()
	var event store.TicketEvent
	switch tm.Kind {
	case "remind":
		err = d.tellOfficer(ctx, t.Owner, it.ID, d.say("reminder", data), "reminder", map[string]string{"ticket": t.ID, "deadline": d.when(t.Deadline)})
		event = store.TicketEvent{At: now, Actor: "system", Action: "reminded", Detail: fmt.Sprintf("提醒%s（时限%s，已过%.0f%%）", d.dir.name(t.Owner), d.when(t.Deadline), tm.Fraction*100)}
	case "last_day":
		data["Time"] = t.Deadline.In(d.loc).Format("15:04")
		err = d.tellOfficer(ctx, t.Owner, it.ID, d.say("last_day", data), "reminder", map[string]string{"ticket": t.ID, "deadline": d.when(t.Deadline)})
		event = store.TicketEvent{At: now, Actor: "system", Action: "reminded", Detail: "到期当日提醒" + d.dir.name(t.Owner) + "（时限" + d.when(t.Deadline) + "）"}
	case "overdue":
		sup := d.dir.depts[t.Department].Supervisor
		err = errors.Join(
			d.tellOfficer(ctx, t.Owner, it.ID+":owner", d.say("overdue_owner", data), "reminder", map[string]string{"ticket": t.ID, "deadline": d.when(t.Deadline)}),
			d.tellOfficer(ctx, sup, it.ID+":sup", d.say("overdue_supervisor", data), "escalation", map[string]string{"ticket": t.ID, "deadline": d.when(t.Deadline)}))
		event = store.TicketEvent{At: now, Actor: "system", Action: "escalated", Detail: "超过时限" + d.when(t.Deadline) + "，报告科室负责人" + d.dir.name(sup)}
	case "leader":
		if d.dir.leader == "" {
			return nil
		}
		data["Days"] = d.rules.LeaderAfter
		err = d.tellOfficer(ctx, d.dir.leader, it.ID, d.say("overdue_leader", data), "escalation", map[string]string{"ticket": t.ID, "deadline": d.when(t.Deadline)})
		event = store.TicketEvent{At: now, Actor: "system", Action: "escalated", Detail: "超过时限" + d.when(t.Deadline) + "仍未办结，报告局领导" + d.dir.name(d.dir.leader)}
	default:
		return nil
	}
	if err != nil {
		return err
	}
	_, err = d.update(ctx, t.ID, func(t *store.Ticket) error {
		for _, h := range t.History {
			if h.Action == event.Action && h.Detail == event.Detail {
				return nil // recorded by an earlier try of this timer
			}
		}
		if event.Action == "escalated" {
			t.Escalation++
		}
		t.History = append(t.History, event)
		return nil
	})
	return err
}

// cancelTimers removes a ticket's pending timers for its current deadline.
func (d *Desk) cancelTimers(ctx context.Context, t store.Ticket) {
	ids := []string{fmt.Sprintf("overdue:%s:%d:0", t.ID, t.Deadline.Unix()), fmt.Sprintf("last_day:%s:%d:0", t.ID, t.Deadline.Unix()),
		fmt.Sprintf("leader:%s:%d:0", t.ID, t.Deadline.Unix())}
	for _, f := range d.rules.RemindAt {
		ids = append(ids, fmt.Sprintf("remind:%s:%d:%g", t.ID, t.Deadline.Unix(), f))
	}
	for _, id := range ids {
		if err := d.st.Cancel(ctx, Queue, id); err != nil {
			d.log.WarnContext(ctx, "cancel desk timer failed", "item", id, "err", err)
		}
	}
}
