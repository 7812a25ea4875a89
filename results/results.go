// Package results computes the service desk's published results: per
// service window (窗口), department, officer or service line and per month,
// the counts per satisfaction level and the 满意率, the 响应率, the 解决率,
// the on-time rate, and the 差评 with the state of their rectification. It
// reads the ticket facts the store keeps as tickets change (store.Facts),
// never the tickets themselves, so a result holds nothing personal.
//
// The definitions are written once, here, and shown on the pages from the
// web texts:
//
//   - a ticket counts in the month it was received (受理), in the bureau's
//     time zone;
//   - 满意率: 非常满意 + 满意 + 基本满意 over the rated surveys; a rating
//     removed on appeal (申诉复核) is not counted, an unanswered survey
//     (未评价) neither, unless the bureau counts no answer as a level;
//   - 响应率: tickets accepted within the response limit over the tickets
//     accepted or whose limit has passed (transferred out of the bureau:
//     not counted);
//   - 解决率: tickets resolved (办结 or 归档) over those received, but
//     those transferred out;
//   - 按时办结率: tickets resolved by their deadline (a granted extension
//     moves it) over those resolved or overdue;
//   - 差评: ratings 不满意 and 非常不满意 not removed on appeal; each
//     rectification is 已整改 once its outcome is recorded, else 整改中, or
//     逾期 past its due time.
//
// A rating is credited to the officer the survey was sent for (the owner
// then); everything else to the ticket's owner.
package results

import (
	"context"
	"fmt"
	"time"

	"huimin/store"
)

// Dimension is what a table's rows are.
type Dimension int

// The dimensions results are grouped by.
const (
	ByWindow Dimension = iota
	ByDepartment
	ByOfficer
	ByLine
)

// Figures are the counts of one row and period; the rates derive from
// them.
type Figures struct {
	Received int `json:"received"`
	// Levels counts the ratings per level: Levels[1] 非常满意 …
	// Levels[5] 非常不满意 (Levels[0] is unused).
	Levels [6]int `json:"-"`
	// Rated counts the ratings counted (Levels' sum); NoAnswer the
	// surveys that expired unanswered (未评价); Excluded the ratings
	// removed on appeal.
	Rated    int `json:"rated"`
	NoAnswer int `json:"no_answer"`
	Excluded int `json:"excluded"`
	// RespondBase and RespondedInTime make the 响应率.
	RespondBase     int `json:"-"`
	RespondedInTime int `json:"-"`
	// ResolveBase and Resolved make the 解决率.
	ResolveBase int `json:"-"`
	Resolved    int `json:"resolved"`
	// DueBase and OnTime make the on-time rate; Overdue counts the open
	// tickets past their deadline.
	DueBase int `json:"-"`
	OnTime  int `json:"-"`
	Overdue int `json:"overdue"`
	// Bad counts the 差评; Rectified, Rectifying and RectifyOverdue their
	// rectifications by state.
	Bad            int `json:"bad"`
	Rectified      int `json:"rectified"`
	Rectifying     int `json:"rectifying"`
	RectifyOverdue int `json:"rectify_overdue"`
	// Praise counts the praise (表扬) citizens left, under the officer
	// named; it is no matter received and counts in no rate.
	Praise int `json:"praise"`
}

// Satisfied counts the ratings 非常满意, 满意 and 基本满意.
func (f Figures) Satisfied() int { return f.Levels[1] + f.Levels[2] + f.Levels[3] }

// Satisfaction is the 满意率; ok is false with no rating.
func (f Figures) Satisfaction() (rate float64, ok bool) { return ratio(f.Satisfied(), f.Rated) }

// Response is the 响应率; ok is false when nothing counts.
func (f Figures) Response() (float64, bool) { return ratio(f.RespondedInTime, f.RespondBase) }

// Resolution is the 解决率.
func (f Figures) Resolution() (float64, bool) { return ratio(f.Resolved, f.ResolveBase) }

// Timeliness is the on-time rate (按时办结率).
func (f Figures) Timeliness() (float64, bool) { return ratio(f.OnTime, f.DueBase) }

func ratio(n, d int) (float64, bool) {
	if d == 0 {
		return 0, false
	}
	return float64(n) / float64(d), true
}

// Add adds g's counts to f.
func (f *Figures) Add(g Figures) {
	f.Received += g.Received
	for i := range f.Levels {
		f.Levels[i] += g.Levels[i]
	}
	f.Rated += g.Rated
	f.NoAnswer += g.NoAnswer
	f.Excluded += g.Excluded
	f.RespondBase += g.RespondBase
	f.RespondedInTime += g.RespondedInTime
	f.ResolveBase += g.ResolveBase
	f.Resolved += g.Resolved
	f.DueBase += g.DueBase
	f.OnTime += g.OnTime
	f.Overdue += g.Overdue
	f.Bad += g.Bad
	f.Rectified += g.Rectified
	f.Rectifying += g.Rectifying
	f.RectifyOverdue += g.RectifyOverdue
	f.Praise += g.Praise
}

// Cell is one row of one month: the row's key (a window, department,
// officer or line ID; "" for a ticket without one, such as an officer
// not yet assigned) and the month, "2006-01" in the bureau's time zone.
type Cell struct {
	Row   string
	Month string
}

// Table holds the figures per cell.
type Table map[Cell]*Figures

// Rows sums the table per row over every month.
func (t Table) Rows() map[string]Figures {
	out := map[string]Figures{}
	for c, f := range t {
		g := out[c.Row]
		g.Add(*f)
		out[c.Row] = g
	}
	return out
}

// Month sums the table's rows of one month.
func (t Table) Month(month string) map[string]Figures {
	out := map[string]Figures{}
	for c, f := range t {
		if c.Month == month {
			g := out[c.Row]
			g.Add(*f)
			out[c.Row] = g
		}
	}
	return out
}

// Total sums every cell.
func (t Table) Total() Figures {
	var out Figures
	for _, f := range t {
		out.Add(*f)
	}
	return out
}

// Source is where the facts come from: the store.
type Source interface {
	TicketFacts(ctx context.Context, from, to time.Time, fn func(store.Facts) error) error
}

// Counter counts facts into a table. Its fields are the bureau's rules the
// definitions need.
type Counter struct {
	// By is what the rows are.
	By Dimension
	// Location is the bureau's time zone, for the months.
	Location *time.Location
	// Now is the moment the figures are for: a deadline or a limit after
	// it has not passed yet.
	Now time.Time
	// RespondBy is when a ticket received at created must be accepted; nil
	// leaves the 响应率 out (RespondBase stays 0).
	RespondBy func(created time.Time) time.Time
	// Keep, when set, counts only the facts it keeps (a chief's
	// departments, one window).
	Keep func(store.Facts) bool
}

// Count reads the facts of the tickets received in [from, to) once and
// counts them with each counter, into a table each.
func Count(ctx context.Context, src Source, from, to time.Time, cs ...Counter) ([]Table, error) {
	tables := make([]Table, len(cs))
	for i := range tables {
		tables[i] = Table{}
	}
	err := src.TicketFacts(ctx, from, to, func(f store.Facts) error {
		for i, c := range cs {
			c.Add(tables[i], f)
		}
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("count results: %w", err)
	}
	return tables, nil
}

// Add counts one ticket's facts into t.
func (c Counter) Add(t Table, f store.Facts) {
	if c.Keep != nil && !c.Keep(f) {
		return
	}
	loc := c.Location
	if loc == nil {
		loc = time.Local
	}
	month := f.CreatedAt.In(loc).Format("2006-01")
	cell := func(officer string) *Figures {
		k := Cell{Row: c.row(f, officer), Month: month}
		g := t[k]
		if g == nil {
			g = &Figures{}
			t[k] = g
		}
		return g
	}
	g := cell(f.Owner)
	if f.Inquiry == store.InquiryPraise {
		g.Praise++
		return
	}
	g.Received++
	if f.State != store.StateTransferredOut {
		resolved := f.State == store.StateResolved || f.State == store.StateClosed
		g.ResolveBase++
		if resolved {
			g.Resolved++
		}
		if c.RespondBy != nil {
			by := c.RespondBy(f.CreatedAt)
			switch {
			case !f.AcceptedAt.IsZero():
				g.RespondBase++
				if !f.AcceptedAt.After(by) {
					g.RespondedInTime++
				}
			case c.Now.After(by):
				g.RespondBase++
			}
		}
		if !f.Deadline.IsZero() {
			switch {
			case resolved:
				g.DueBase++
				if !f.ResolvedAt.After(f.Deadline) {
					g.OnTime++
				}
			case f.State.Open() && c.Now.After(f.Deadline):
				g.DueBase++
				g.Overdue++
			}
		}
	}
	for _, s := range f.Surveys {
		sg := cell(s.Officer)
		switch {
		case s.Excluded:
			sg.Excluded++
		case s.Level >= 1 && s.Level <= 5:
			sg.Rated++
			sg.Levels[s.Level]++
			if s.Level >= 4 {
				sg.Bad++
				c.rectification(sg, f, s.Round)
			}
		case s.Via != "":
			sg.NoAnswer++
		}
	}
}

// rectification counts the state of the rectification a bad rating of
// round started.
func (c Counter) rectification(g *Figures, f store.Facts, round int) {
	for _, r := range f.Rectifications {
		if r.Round != round {
			continue
		}
		switch {
		case r.Outcome != "":
			g.Rectified++
		case !r.Due.IsZero() && c.Now.After(r.Due):
			g.RectifyOverdue++
		default:
			g.Rectifying++
		}
		return
	}
	g.Rectifying++ // started, its person not yet named
}

func (c Counter) row(f store.Facts, officer string) string {
	switch c.By {
	case ByDepartment:
		return f.Department
	case ByOfficer:
		return officer
	case ByLine:
		return f.Line
	}
	if f.Window == "" {
		return f.Department // recorded before windows existed
	}
	return f.Window
}

// Months lists the n months ending with the one holding now, oldest first,
// as "2006-01" in loc, with the moment the first begins and the one after
// the last ends.
func Months(now time.Time, loc *time.Location, n int) (months []string, from, to time.Time) {
	now = now.In(loc)
	first := time.Date(now.Year(), now.Month()-time.Month(n-1), 1, 0, 0, 0, 0, loc)
	for i := range n {
		months = append(months, first.AddDate(0, i, 0).Format("2006-01"))
	}
	return months, first, first.AddDate(0, n, 0)
}
