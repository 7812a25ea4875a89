package desk

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"maps"
	"slices"
	"strconv"
	"strings"
	"sync"
	"time"

	"huimin/store"
)

// TimerKind is a kind of the desk's timed work in the due-queue.
type TimerKind string

// The desk's timers.
const (
	// TimerAssign routes a received ticket: at once, or when the working
	// day starts. Scheduled with the ticket, so a crash cannot leave a
	// ticket nobody is told of.
	TimerAssign TimerKind = "desk.assign"
	// TimerRemind reminds the owner at a fraction of the working time.
	TimerRemind TimerKind = "desk.remind"
	// TimerLastDay reminds the owner when the deadline's working day starts.
	TimerLastDay TimerKind = "desk.last_day"
	// TimerOverdue tells the owner and the chief at the deadline.
	TimerOverdue TimerKind = "desk.overdue"
	// TimerLeader tells the bureau leader some working days later.
	TimerLeader TimerKind = "desk.leader"
	// TimerVisit sends a resolution's return visit (回访); TimerVisitCheck
	// looks at how it went (and makes it a phone task when nothing
	// reached the citizen); TimerVisitRemind sends its one reminder;
	// TimerVisitExpire ends it unanswered.
	TimerVisit       TimerKind = "desk.visit"
	TimerVisitCheck  TimerKind = "desk.visit_check"
	TimerVisitRemind TimerKind = "desk.visit_remind"
	TimerVisitExpire TimerKind = "desk.visit_expire"
	// TimerVerify tells the chief when a 差评 was not verified in time.
	TimerVerify TimerKind = "desk.verify"
)

// TimerKinds lists the desk's timer kinds, for the runner.
func TimerKinds() []TimerKind {
	return []TimerKind{TimerAssign, TimerRemind, TimerLastDay, TimerOverdue, TimerLeader,
		TimerVisit, TimerVisitCheck, TimerVisitRemind, TimerVisitExpire, TimerVerify}
}

// timer is one timed step of a ticket, kept in the due-queue. Deadline is
// the deadline it was set for: after an extension the old timers find the
// ticket's deadline moved and do nothing.
type timer struct {
	Kind     TimerKind `json:"kind"`
	Ticket   string    `json:"ticket"`
	Deadline time.Time `json:"deadline,omitzero"`
	Fraction float64   `json:"fraction,omitempty"`
	// Round is a survey timer's survey (and rectification) round.
	Round int `json:"round,omitempty"`
}

// id names the timer's due item; the same timer always has the same ID, so
// scheduling it twice keeps one.
func (tm timer) id() string {
	id := string(tm.Kind) + ":" + tm.Ticket
	if tm.Round != 0 {
		id += ":" + strconv.Itoa(tm.Round)
	}
	if !tm.Deadline.IsZero() {
		id += ":" + strconv.FormatInt(tm.Deadline.Unix(), 10)
	}
	if tm.Fraction != 0 {
		id += ":" + strconv.FormatFloat(tm.Fraction, 'g', -1, 64)
	}
	return id
}

// TimerTicket is the ticket a desk timer's due item is about, read from
// its ID: the runner does one ticket's timers one after another, and
// different tickets' side by side.
func TimerTicket(it store.DueItem) string {
	_, rest, _ := strings.Cut(it.ID, ":")
	t, _, _ := strings.Cut(rest, ":")
	return t
}

func (d *Desk) schedule(ctx context.Context, tm timer, at time.Time) error {
	p, err := json.Marshal(tm)
	if err != nil {
		return fmt.Errorf("encode timer: %w", err)
	}
	if _, err := d.st.Schedule(ctx, queueOf(tm.Kind), store.DueItem{ID: tm.id(), Kind: string(tm.Kind), Due: at, Payload: p}); err != nil {
		return fmt.Errorf("schedule %s: %w", tm.id(), err)
	}
	return nil
}

// deadlineTimers are a ticket's reminders and escalations with their times.
func (d *Desk) deadlineTimers(t store.Ticket) map[timer]time.Time {
	out := map[timer]time.Time{}
	for _, f := range d.rules.RemindAt {
		out[timer{Kind: TimerRemind, Ticket: t.ID, Deadline: t.Deadline, Fraction: f}] = d.cal.Fraction(t.CreatedAt, t.Deadline, f)
	}
	if d.rules.RemindLastDay {
		out[timer{Kind: TimerLastDay, Ticket: t.ID, Deadline: t.Deadline}] = d.cal.LastWorkingDayStart(t.Deadline)
	}
	out[timer{Kind: TimerOverdue, Ticket: t.ID, Deadline: t.Deadline}] = t.Deadline
	if d.rules.LeaderAfter > 0 {
		out[timer{Kind: TimerLeader, Ticket: t.ID, Deadline: t.Deadline}] = d.cal.AddWorkingDays(t.Deadline, d.rules.LeaderAfter)
	}
	return out
}

func (d *Desk) scheduleDeadline(ctx context.Context, t store.Ticket) error {
	now := d.now()
	timers := d.deadlineTimers(t)
	maps.DeleteFunc(timers, func(_ timer, at time.Time) bool { return !at.After(now) })
	return d.scheduleAll(ctx, timers)
}

// scheduleAll schedules timers side by side: the store sends what arrives
// together in one round trip, so a ticket's four or five timers cost one
// wait, not five.
func (d *Desk) scheduleAll(ctx context.Context, timers map[timer]time.Time) error {
	errs := make(chan error, len(timers))
	var wg sync.WaitGroup
	for tm, at := range timers {
		wg.Go(func() { errs <- d.schedule(ctx, tm, at) })
	}
	wg.Wait()
	close(errs)
	var all []error
	for err := range errs {
		all = append(all, err)
	}
	return errors.Join(all...)
}

// cancelTimers removes a ticket's pending timers for its current deadline.
func (d *Desk) cancelTimers(ctx context.Context, t store.Ticket) {
	for tm := range d.deadlineTimers(t) {
		if err := d.st.Cancel(ctx, Queue, tm.id()); err != nil {
			d.log.WarnContext(ctx, "cancel desk timer failed", "item", tm.id(), "err", err)
		}
	}
}

// HandleTimer does one due desk timer: an assignment, a reminder, an
// escalation. Doing it twice sends nothing twice: its messages carry the
// item's ID, and its history event is recorded once by that ID.
func (d *Desk) HandleTimer(ctx context.Context, it store.DueItem) error {
	var tm timer
	if err := json.Unmarshal(it.Payload, &tm); err != nil || tm.Kind == "" {
		d.log.ErrorContext(ctx, "undecodable desk timer dropped", "item", it.ID, "err", err)
		return nil
	}
	switch tm.Kind {
	case TimerVisit:
		return d.handleVisit(ctx, it, tm)
	case TimerVisitCheck:
		return d.handleVisitCheck(ctx, it, tm)
	case TimerVisitRemind:
		return d.handleVisitRemind(ctx, it, tm)
	case TimerVisitExpire:
		return d.handleVisitExpire(ctx, it, tm)
	case TimerVerify:
		return d.handleVerify(ctx, it, tm)
	}
	if tm.Kind == TimerAssign {
		t, err := d.assign(ctx, tm.Ticket, "")
		if errors.Is(err, store.ErrNotFound) {
			// Open scheduled the timer and stopped before writing the
			// ticket; opening it again schedules a new one.
			d.log.WarnContext(ctx, "assignment timer for a ticket never written", "ticket_id", tm.Ticket)
			return nil
		}
		if err == nil && t.State == store.StateReceived {
			// Nobody can be reached yet (recorded on the ticket): try again
			// later, with the runner's backoff, until someone can.
			return errNobodyReachable
		}
		return err
	}
	t, err := d.st.GetTicket(ctx, tm.Ticket)
	if err != nil {
		return fmt.Errorf("get ticket %s: %w", tm.Ticket, err)
	}
	if !t.State.Open() || !t.Deadline.Equal(tm.Deadline) {
		return nil // finished, or the deadline moved
	}
	if slices.ContainsFunc(t.History, func(h store.TicketEvent) bool { return h.Ref == it.ID }) {
		return nil // done by an earlier try
	}
	data := d.ticketData(t)
	reminder := map[string]string{"ticket": t.ID, "deadline": d.when(t.Deadline)}
	op, told := OpRemind, t.Owner
	switch tm.Kind {
	case TimerRemind:
		err = d.tellOfficer(ctx, t.Owner, it.ID, d.officer.Say("reminder", data), "reminder", reminder)
	case TimerLastDay:
		data["Time"] = t.Deadline.In(d.loc).Format("15:04")
		err = d.tellOfficer(ctx, t.Owner, it.ID, d.officer.Say("last_day", data), "reminder", reminder)
	case TimerOverdue:
		op, told = OpEscalate, d.chiefOf(ctx, t.Department)
		err = errors.Join(
			d.tellOfficer(ctx, t.Owner, it.ID+":owner", d.officer.Say("overdue_owner", data), "reminder", reminder),
			d.tellOfficer(ctx, told, it.ID+":chief", d.officer.Say("overdue_supervisor", data), "escalation", reminder))
	case TimerLeader:
		if d.dir.leader == "" {
			return nil
		}
		op, told = OpEscalate, d.dir.leader
		data["Days"] = d.rules.LeaderAfter
		err = d.tellOfficer(ctx, told, it.ID, d.officer.Say("overdue_leader", data), "escalation", reminder)
	default:
		d.log.ErrorContext(ctx, "unknown desk timer dropped", "item", it.ID, "kind", tm.Kind)
		return nil
	}
	if err != nil {
		return err
	}
	_, err = d.apply(ctx, t.ID, op, actorSystem, nil, func(t *store.Ticket, ev *store.TicketEvent) error {
		if slices.ContainsFunc(t.History, func(h store.TicketEvent) bool { return h.Ref == it.ID }) {
			return errRecorded
		}
		ev.Officer, ev.Deadline, ev.Ref = told, t.Deadline, it.ID
		if op == OpEscalate {
			t.Escalation++
		}
		return nil
	})
	if errors.Is(err, errRecorded) {
		return nil
	}
	return err
}

// errNobodyReachable keeps an assignment timer until an officer of the
// ticket's department, its chief or the leader can be reached.
var errNobodyReachable = errors.New("nobody reachable for the ticket yet")

// errRecorded stops an update whose event an earlier try already recorded.
var errRecorded = errors.New("already recorded")
