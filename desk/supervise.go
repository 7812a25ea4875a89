package desk

import (
	"context"
	"crypto/rand"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"errors"
	"fmt"
	"slices"
	"time"

	"huimin/chat"
	"huimin/results"
	"huimin/store"
)

// LoginTTL is how long a login link to the supervisors' pages works; it
// works once.
const LoginTTL = 10 * time.Minute

// loginKey is where a login link's token is kept: its hash, so that the
// store never holds a working link.
func loginKey(token string) string {
	sum := sha256.Sum256([]byte(token))
	return "login:" + hex.EncodeToString(sum[:])
}

// Supervises reports whether o may use the supervisors' pages: a chief
// of a department, or the leader.
func (d *Desk) Supervises(o Officer) bool {
	return o.Leader || len(d.chiefDepartments(o)) > 0
}

// IssueLogin makes a one-time login link to the supervisors' pages for a
// chief or the leader (登录 in chat). ErrNotYours for anyone else;
// ErrInvalid when the bureau has no address for its pages (web.base_url).
func (d *Desk) IssueLogin(ctx context.Context, o Officer) (string, error) {
	if !d.Supervises(o) {
		return "", refusal("", ErrNotYours, "login_chief_only", "", "", nil)
	}
	if d.rules.LoginURL == "" {
		return "", refusal("", ErrInvalid, "login_no_url", "", "", nil)
	}
	b := make([]byte, 24)
	_, _ = rand.Read(b) // never fails (crypto/rand)
	token := base64.RawURLEncoding.EncodeToString(b)
	if err := d.st.SetCache(ctx, loginKey(token), o.ID, LoginTTL); err != nil {
		return "", fmt.Errorf("issue login link: %w", err)
	}
	d.log.InfoContext(ctx, "login link issued", "officer_id", o.ID)
	return d.rules.LoginURL + token, nil
}

// Login takes a login link's token and returns the officer it was issued
// to: once, within LoginTTL, and only while they are still a chief or the
// leader. ErrNotFound for a token used, expired or never issued.
func (d *Desk) Login(ctx context.Context, token string) (Officer, error) {
	id, err := d.st.TakeCache(ctx, loginKey(token))
	if errors.Is(err, store.ErrNotFound) {
		return Officer{}, refusal("", ErrNotFound, "login_link_spent", "", "", nil)
	}
	if err != nil {
		return Officer{}, fmt.Errorf("take login link: %w", err)
	}
	o, ok := d.dir.officers[id]
	if !ok || !d.Supervises(o) {
		return Officer{}, refusal("", ErrNotYours, "login_chief_only", "", "", nil)
	}
	d.log.InfoContext(ctx, "logged in by link", "officer_id", o.ID)
	return o, nil
}

// Officer returns the officer with ID id, if on the staff list.
func (d *Desk) Officer(id string) (Officer, bool) {
	o, ok := d.dir.officers[id]
	return o, ok
}

// Board is what a chief (or the leader) watches: the open matters of
// their departments that need them, each list oldest first.
type Board struct {
	// Overdue are open tickets past their deadline; DueSoon those whose
	// deadline falls before the end of the next working day.
	Overdue, DueSoon []store.Ticket
	// Extensions wait for the chief's decision; Appeals too.
	Extensions, Appeals []store.Ticket
	// Rectifications are the 整改 not yet recorded as done.
	Rectifications []store.Ticket
	// PhoneTasks are the return visits no channel delivered (电话回访).
	PhoneTasks []store.Ticket
}

// Board lists what needs a chief's attention in the departments they
// answer for (the leader: all). ErrNotYours for an officer who is
// neither.
func (d *Desk) Board(ctx context.Context, o Officer) (Board, error) {
	ts, chief, err := d.departmentTickets(ctx, o)
	if err != nil {
		return Board{}, err
	}
	if !chief {
		return Board{}, refusal("", ErrNotYours, "login_chief_only", "", "", nil)
	}
	now := d.now()
	soon := d.cal.NextWorkdayStart(d.cal.NextWorkdayStart(now))
	var b Board
	for _, t := range ts {
		if t.State.Open() && !t.Deadline.IsZero() {
			switch {
			case now.After(t.Deadline):
				b.Overdue = append(b.Overdue, t)
			case t.Deadline.Before(soon):
				b.DueSoon = append(b.DueSoon, t)
			}
		}
		if t.Extension != nil && t.Extension.Status == "pending" && t.State.Open() {
			b.Extensions = append(b.Extensions, t)
		}
		for _, s := range t.Surveys {
			if s.Appeal != nil && s.Appeal.Status == "pending" {
				b.Appeals = append(b.Appeals, t)
				break
			}
		}
		for _, r := range t.Rectifications {
			if r.Outcome == "" {
				b.Rectifications = append(b.Rectifications, t)
				break
			}
		}
		if phoneTaskWaiting(&t) {
			b.PhoneTasks = append(b.PhoneTasks, t)
		}
	}
	return b, nil
}

// DepartmentName returns a department's name by ID.
func (d *Desk) DepartmentName(id string) string {
	if dp, ok := d.dir.depts[id]; ok {
		return dp.Name
	}
	return id
}

// Colleagues lists the officers a ticket of department dept can be
// handed to, in configuration order.
func (d *Desk) Colleagues(dept string) []Officer {
	var out []Officer
	for _, id := range d.dir.members[dept] {
		out = append(out, d.dir.officers[id])
	}
	return out
}

// TicketView is a ticket as the supervisors' pages show it: names for
// people in place of IDs, personal numbers masked.
type TicketView struct {
	ID, Line, Inquiry, State, Department, Window string
	Owner, FirstResponsible                      string
	// Name is how the citizen asked to be called; Phone and IDNumber are
	// masked (ID 6+4, phone 3+4).
	Name, Phone, IDNumber string
	Summary               string
	Fields                []Field
	Created, Deadline     string
	Resolved              string
	Overdue, Urgent       bool
	// Confidential marks a report (举报): the reporter is not shown.
	Confidential bool
	// Extension is a pending extension request, if any.
	Extension *store.Extension
	// Rectifying is the open 整改 (its person and due time), if any.
	Rectifying *RectificationView
	// Appeal is a pending appeal of a rating, if any.
	Appeal *AppealView
	// PhoneTask is set when the return visit reached the citizen by no
	// channel and waits for a phone call's answer (电话回访).
	PhoneTask bool
	History   []HistoryLine
}

// RectificationView is an open 整改 for people.
type RectificationView struct {
	Assignee, VerifyBy, Due, Level string
}

// AppealView is a pending appeal for people.
type AppealView struct {
	RequestedBy, Reason, Level string
}

// Field is one answer of the intake flow under its label.
type Field struct{ Label, Value string }

// fields are the intake flow's answers under the labels the flow asked
// them with, in key order.
func (d *Desk) fields(t store.Ticket) []Field {
	var out []Field
	for _, k := range sortedKeys(t.Fields) {
		label := t.Labels[k]
		if label == "" {
			label = d.officer.Say("field_other", nil)
		}
		out = append(out, Field{Label: label, Value: t.Fields[k]})
	}
	return out
}

// HistoryLine is one history event for people.
type HistoryLine struct{ At, Text string }

// Describe renders a ticket for the supervisors' pages.
// A report's reporter is not named; the masked numbers are shown to the
// supervision office only, who may unmask them with a reason, recorded.
func (d *Desk) Describe(o Officer, t store.Ticket) TicketView {
	v := TicketView{
		ID: t.ID, Line: d.lineName(t.Line), Inquiry: d.inquiryName(t.Inquiry), State: d.stateName(t.State),
		Department: d.DepartmentName(t.Department), Owner: d.dir.name(t.Owner), FirstResponsible: d.dir.name(t.FirstResponsible),
		Name: t.Name, Summary: t.Summary, Created: d.when(t.CreatedAt), Urgent: t.Urgent,
		Overdue: t.State.Open() && !t.Deadline.IsZero() && d.now().After(t.Deadline),
	}
	if w, ok := d.Window(t.Window); ok {
		v.Window = w.Name
	}
	if t.Confidential {
		v.Name, v.Confidential = d.officer.Say("reporter_hidden", nil), true
	}
	if !t.Confidential || d.knowsReporter(o) {
		if t.Phone != "" {
			v.Phone = chat.MaskPhone(t.Phone)
		}
		if t.IDNumber != "" {
			v.IDNumber = chat.MaskID(t.IDNumber)
		}
	}
	if !t.Deadline.IsZero() {
		v.Deadline = d.when(t.Deadline)
	}
	if !t.ResolvedAt.IsZero() {
		v.Resolved = d.when(t.ResolvedAt)
	}
	if t.Extension != nil && t.Extension.Status == "pending" {
		ext := *t.Extension
		v.Extension = &ext
	}
	if n := len(t.Rectifications); n > 0 && t.Rectifications[n-1].Outcome == "" {
		r := t.Rectifications[n-1]
		rv := &RectificationView{Assignee: d.dir.name(r.Assignee), VerifyBy: d.when(r.VerifyBy), Due: d.when(r.Due)}
		if s := survey(&t, r.Round); s != nil {
			rv.Level = d.LevelName(s.Level)
		}
		v.Rectifying = rv
	}
	for _, s := range t.Surveys {
		if s.Appeal != nil && s.Appeal.Status == "pending" {
			v.Appeal = &AppealView{RequestedBy: d.dir.name(s.Appeal.RequestedBy), Reason: s.Appeal.Reason, Level: d.LevelName(s.Level)}
		}
	}
	v.PhoneTask = phoneTaskWaiting(&t)
	v.Fields = d.fields(t)
	for _, h := range t.History {
		v.History = append(v.History, HistoryLine{At: d.when(h.At), Text: d.History(h)})
	}
	return v
}

// Explain is the sentence an officer reads for a refused operation; false
// when err is no refusal (a failure of the service).
func (d *Desk) Explain(err error, ticket string) (string, bool) {
	r, ok := errors.AsType[*Refusal](err)
	if !ok {
		return "", false
	}
	return d.refusalText(r, ticket), true
}

// ExportRow is one ticket of the export (导出): what a chief's
// spreadsheet holds, with names for people and the comment's numbers
// masked. Nothing else personal: no phone, no ID number, no citizen's name.
type ExportRow struct {
	ID, Window, Line, Inquiry string
	Received, Deadline        time.Time
	Resolved                  time.Time
	// OnTime is set once it is known: resolved (by the deadline or not),
	// or open past the deadline.
	OnTime                  *bool
	Owner, FirstResponsible string
	// Level is the latest counted rating (0: none); Comment its words.
	Level   int
	Comment string
	// Rectification is the latest rectification's outcome (immediate,
	// scheduled, explained), "pending" while open, "" for none.
	Rectification string
}

// Export calls fn with a row per ticket received in [from, to) in the
// departments o answers for (the leader: all), oldest first. It reads the
// store's results index, and a ticket itself only for a comment, so that
// a year of tickets streams without being held.
func (d *Desk) Export(ctx context.Context, o Officer, from, to time.Time, fn func(ExportRow) error) error {
	if !d.Supervises(o) {
		return refusal("", ErrNotYours, "login_chief_only", "", "", nil)
	}
	now := d.now()
	return d.st.TicketFacts(ctx, from, to, func(f store.Facts) error {
		if !d.supervises(o, f.Department) {
			return nil
		}
		row := ExportRow{
			ID: f.ID, Line: d.lineName(f.Line), Inquiry: d.inquiryName(f.Inquiry),
			Received: f.CreatedAt, Deadline: f.Deadline, Resolved: f.ResolvedAt,
			Owner: d.dir.name(f.Owner), FirstResponsible: d.dir.name(f.FirstResponsible),
		}
		if w, ok := d.Window(f.Window); ok {
			row.Window = w.Name
		}
		resolved := f.State == store.StateResolved || f.State == store.StateClosed
		switch {
		case f.Deadline.IsZero():
		case resolved:
			v := !f.ResolvedAt.After(f.Deadline)
			row.OnTime = &v
		case f.State.Open() && now.After(f.Deadline):
			v := false
			row.OnTime = &v
		}
		var commented int
		for _, s := range f.Surveys {
			if s.Level > 0 && !s.Excluded {
				row.Level, commented = s.Level, 0
				if s.Commented {
					commented = s.Round
				}
			}
		}
		if n := len(f.Rectifications); n > 0 {
			row.Rectification = cmpOr(f.Rectifications[n-1].Outcome, "pending")
		}
		if commented > 0 {
			t, err := d.st.GetTicket(ctx, f.ID)
			if err != nil {
				return fmt.Errorf("export %s: %w", f.ID, err)
			}
			for _, s := range t.Surveys {
				if s.Round == commented {
					row.Comment = chat.MaskNumbers(s.Comment)
				}
			}
		}
		return fn(row)
	})
}

// ResultsQuery asks the supervisors' results: the tickets received in
// [From, To), and a drill-down: all windows, one window's officers, or one
// officer's tickets in a window.
type ResultsQuery struct {
	From, To        time.Time
	Window, Officer string
	// By is what the top level's rows are (default ByWindow); a window's
	// rows are always its officers.
	By results.Dimension
}

// ResultsRow is one row of the supervisors' results: a window or an
// officer, by ID and name, and its figures.
type ResultsRow struct {
	ID, Name string
	results.Figures
}

// ResultsTable is the answer to a ResultsQuery: rows (windows, or a
// window's officers), the total, and at the last level the tickets.
type ResultsTable struct {
	Rows    []ResultsRow
	Total   results.Figures
	Tickets []ResultsTicket
	// Response is set when the bureau counts the 响应率.
	Response bool
}

// ResultsTicket is one ticket at the bottom of the drill-down.
type ResultsTicket struct {
	ID, Line, State string
	Received        time.Time
	// Level is the latest counted rating, 0 none.
	Level int
}

// maxResultsDays bounds one query's period.
const maxResultsDays = 366

// Results counts the tickets of the departments o answers for (the leader:
// all) as the published results do, for any period and drill-down.
// ErrInvalid for a period upside down or longer than a year; ErrNotYours
// for an officer who is neither chief nor leader.
func (d *Desk) Results(ctx context.Context, o Officer, q ResultsQuery) (ResultsTable, error) {
	if !d.Supervises(o) {
		return ResultsTable{}, refusal("", ErrNotYours, "login_chief_only", "", "", nil)
	}
	if !q.To.After(q.From) || q.To.Sub(q.From) > maxResultsDays*24*time.Hour {
		return ResultsTable{}, refusal("", ErrInvalid, "bad_period", "", "", nil)
	}
	keep := func(f store.Facts) bool {
		return d.supervises(o, f.Department) && (q.Window == "" || results.WindowOf(f) == q.Window)
	}
	c := results.Counter{Location: d.loc, Now: d.now(), Keep: keep, By: results.ByWindow}
	if _, ok := d.RespondBy(q.From); ok {
		c.RespondBy = func(t time.Time) time.Time { by, _ := d.RespondBy(t); return by }
	}
	switch {
	case q.Window != "":
		c.By = results.ByOfficer
	case q.By != results.ByWindow:
		c.By = q.By
	}
	table := results.Table{}
	var tickets []ResultsTicket
	err := d.st.TicketFacts(ctx, q.From, q.To, func(f store.Facts) error {
		c.Add(table, f)
		if q.Officer == "" || !keep(f) {
			return nil
		}
		level, mine := 0, f.Owner == q.Officer
		for _, s := range f.Surveys {
			if s.Officer == q.Officer {
				mine = true
			}
			if s.Level > 0 && !s.Excluded {
				level = s.Level
			}
		}
		if mine {
			tickets = append(tickets, ResultsTicket{ID: f.ID, Line: d.lineName(f.Line), State: d.stateName(f.State), Received: f.CreatedAt, Level: level})
		}
		return nil
	})
	if err != nil {
		return ResultsTable{}, fmt.Errorf("supervisors' results: %w", err)
	}
	out := ResultsTable{Total: table.Total(), Tickets: tickets, Response: c.RespondBy != nil}
	rows := table.Rows()
	if q.Window == "" && c.By == results.ByWindow {
		for _, w := range d.dir.windows {
			if f, ok := rows[w.ID]; ok {
				out.Rows = append(out.Rows, ResultsRow{ID: w.ID, Name: w.Name, Figures: f})
			}
		}
		return out, nil
	}
	ids := make([]string, 0, len(rows))
	for id := range rows {
		ids = append(ids, id)
	}
	slices.Sort(ids)
	for _, id := range ids {
		var name string
		switch c.By {
		case results.ByDepartment:
			name = d.DepartmentName(id)
		case results.ByLine:
			name = d.lineName(id)
		default:
			name = d.dir.name(id)
			if id == "" {
				name = d.officer.Say("results_unassigned", nil)
			}
		}
		out.Rows = append(out.Rows, ResultsRow{ID: id, Name: name, Figures: rows[id]})
	}
	return out, nil
}
