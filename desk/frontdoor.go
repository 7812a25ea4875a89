package desk

import (
	"context"
	"errors"
	"fmt"
	"strings"
	"time"

	"huimin/store"
)

// The inquiry types the front door treats apart (flows/intake/defaults).
const (
	inquiryComplaint = "complaint"
	inquiryReport    = "report"
)

// FieldOfficer is the intake flows' field naming an officer: the one a
// complaint is about, or the one praised.
const FieldOfficer = "officer"

// toChief reports whether a ticket goes to a chief rather than to an
// officer: a complaint (never to whom it is about) and a report.
func toChief(t store.Ticket) bool {
	return t.Inquiry == inquiryComplaint || t.Inquiry == inquiryReport
}

// namedOfficer finds the officer a citizen named in a free answer ("王明",
// "窗口的王明同志"): the longest officer name the answer contains; "" when
// it names nobody of the bureau.
func (d *Desk) namedOfficer(answer string) string {
	answer = strings.TrimSpace(answer)
	best := ""
	for name, id := range d.dir.byName {
		if name != "" && strings.Contains(answer, name) && len(name) > len(d.dir.name(best)) {
			best = id
		}
	}
	return best
}

// knowsReporter reports whether o may see who made a report (举报): a
// member of the supervision office, or the bureau leader where the bureau
// has none.
func (d *Desk) knowsReporter(o Officer) bool {
	if o.ID == "" {
		return false
	}
	if d.rules.Supervision != "" {
		return o.Department == d.rules.Supervision
	}
	return o.Leader
}

// intakeDepartment is the department a new matter is handled by: the
// supervision office for complaints and reports where the bureau has one,
// else the department of its line.
func (d *Desk) intakeDepartment(inquiry, lineDept string) string {
	if (inquiry == inquiryComplaint || inquiry == inquiryReport) && d.rules.Supervision != "" {
		return d.rules.Supervision
	}
	return lineDept
}

// chiefFor is who takes a complaint or a report: the department's chief,
// else the bureau leader — never the officer a complaint is about — on
// duty if one is, else whoever can be reached; "" when nobody can.
func (d *Desk) chiefFor(ctx context.Context, t store.Ticket) string {
	var cands []string
	for _, id := range []string{d.dir.depts[t.Department].Supervisor, d.dir.leader} {
		if id != "" && id != t.Against {
			cands = append(cands, id)
		}
	}
	return d.firstReachable(ctx, cands)
}

// firstReachable is the first of the officers who is on duty and can be
// reached, else the first who can be reached, else "".
func (d *Desk) firstReachable(ctx context.Context, ids []string) string {
	for _, id := range ids {
		if d.reachable(ctx, id) && d.onDuty(ctx, id) {
			return id
		}
	}
	for _, id := range ids {
		if d.reachable(ctx, id) {
			return id
		}
	}
	return ""
}

// recordPraise files praise (表扬) at once: nothing is left to handle. It
// is recorded for the officer named, whose department it then belongs to,
// counted in the results, and told to the officer and their chief.
func (d *Desk) recordPraise(ctx context.Context, t store.Ticket) (store.Ticket, error) {
	now := t.CreatedAt
	if o, ok := d.dir.officers[d.namedOfficer(t.Fields[FieldOfficer])]; ok {
		t.Owner, t.FirstResponsible = o.ID, o.ID
		if o.Department != "" {
			t.Department = o.Department
		}
	}
	t.State, t.ClosedAt, t.Deadline = next(OpPraise, ""), now, time.Time{}
	t.History = []store.TicketEvent{{At: now, Actor: actorCitizen, Kind: eventOf[OpPraise], Officer: t.Owner}}
	if err := d.st.CreateTicket(ctx, t); err != nil {
		return store.Ticket{}, fmt.Errorf("create ticket: %w", err)
	}
	t.Version = 1
	d.log.InfoContext(ctx, "praise recorded", "ticket_id", t.ID, "officer_id", t.Owner, "department", t.Department)
	data := d.ticketData(t)
	var errs []error
	for _, id := range uniq(t.Owner, d.dir.depts[t.Department].Supervisor) {
		if d.reachable(ctx, id) {
			errs = append(errs, d.tellOfficer(ctx, id, "praise:"+t.ID+":"+id, d.officer.Say("praised", data), "ticket_update",
				map[string]string{"ticket": t.ID, "state": d.stateName(t.State)}))
		}
	}
	return t, errors.Join(errs...)
}
