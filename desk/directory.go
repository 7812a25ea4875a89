package desk

import (
	"fmt"
	"slices"
	"strings"
	"time"
)

// Officer is a member of staff who works tickets.
type Officer struct {
	ID         string
	Name       string
	Department string
	// OpenID binds the officer's WeChat account from configuration; a
	// one-time code binds it at run time instead.
	OpenID string
	// WeComUser, when set, makes WeCom the officer's channel.
	WeComUser string
	// MaxOpen caps the officer's open tickets (0: no cap).
	MaxOpen    int
	Supervisor bool
	// Leader is the bureau leader who receives second-level escalations.
	Leader bool
}

// Department is a section (科室) that owns service lines.
type Department struct {
	ID, Name   string
	Lines      []string
	Supervisor string // officer ID
	Contact
}

// Contact is how citizens reach an office; empty fields are left out.
type Contact struct {
	Address, Hours, Phone string
}

// Agency is an outside agency a ticket can be transferred to (转外单位).
type Agency struct {
	ID, Name string
	Lines    []string
	Contact
}

// Window is a service window (窗口单位) that tickets count under in the
// published results. Every department is a window of its own; configured
// windows add street offices' 民政办 and the like: a ticket of one of its
// Departments (any, when none is listed) counts under it when the
// citizen's 街道（镇） answer names one of its Towns, or always when it
// lists no towns.
type Window struct {
	ID, Name    string
	Departments []string
	Towns       []string
	Contact
}

// Limit is a deadline: working days, or working hours for urgent matters.
type Limit struct {
	Days  int
	Hours int
}

// Rules are the bureau's configurable desk rules.
type Rules struct {
	// TicketPrefix starts every ticket number (MZ → MZ20261128-0042).
	TicketPrefix string
	// Deadlines by service line, then inquiry type; "*" is the default at
	// either level.
	Deadlines map[string]map[string]Limit
	// RemindAt lists fractions of the working time at which the owner is
	// reminded (e.g. 0.75), besides the last working day.
	RemindAt []float64
	// RemindLastDay reminds the owner at the start of the deadline's day.
	RemindLastDay bool
	// LeaderAfter is how many working days after the deadline an unresolved
	// ticket goes to the bureau leader (after the supervisor at the deadline).
	LeaderAfter int
	// MaxExtensionDays caps one extension request.
	MaxExtensionDays int
	// Urgent is the deadline of urgent matters by service line ("*" for
	// any); default one working day.
	Urgent map[string]Limit
	// Survey configures return visits and the 好差评 loop.
	Survey SurveyRules
	// LoginURL is the supervisors' login page without the token
	// (https://…/desk/login/); empty when the bureau has no web address.
	LoginURL string
	// Supervision is the department of the bureau's supervision office:
	// complaints and reports go to its chief, and only its members may see
	// a reporter's identity. Empty: complaints go to the chief of the
	// department concerned, and only the bureau leader may see reporters.
	Supervision string
	// HelpLines are the 24-hour help numbers told at once to a citizen in
	// urgent need.
	HelpLines []HelpLine
	// Response is how soon a ticket must be accepted, counted for the
	// 响应率 of the published results; zero counts none.
	Response Limit
}

// HelpLine is a round-the-clock help number (救助管理站, 110, 120).
type HelpLine struct {
	Name, Phone string
}

// Directory is who works where, from configuration.
type Directory struct {
	Departments []Department
	Officers    []Officer
	Agencies    []Agency
	Windows     []Window
}

// directory indexes a Directory.
type directory struct {
	depts    map[string]Department
	byLine   map[string]string // line → department ID
	officers map[string]Officer
	byName   map[string]string // officer name → ID
	members  map[string][]string
	leader   string
	order    []string
	agencies []Agency
	// windows are the configured windows, then one per department.
	windows   []Window
	windowIDs map[string]bool
}

func newDirectory(d Directory) (*directory, error) {
	dir := &directory{
		depts: map[string]Department{}, byLine: map[string]string{}, officers: map[string]Officer{},
		byName: map[string]string{}, members: map[string][]string{},
	}
	for _, dp := range d.Departments {
		if _, dup := dir.depts[dp.ID]; dup {
			return nil, fmt.Errorf("department %s listed twice", dp.ID)
		}
		dir.depts[dp.ID] = dp
		dir.order = append(dir.order, dp.ID)
		for _, l := range dp.Lines {
			if other, dup := dir.byLine[l]; dup {
				return nil, fmt.Errorf("service line %s belongs to both %s and %s", l, other, dp.ID)
			}
			dir.byLine[l] = dp.ID
		}
	}
	for _, o := range d.Officers {
		if _, dup := dir.officers[o.ID]; dup {
			return nil, fmt.Errorf("officer %s listed twice", o.ID)
		}
		if _, ok := dir.depts[o.Department]; !ok && !o.Leader {
			return nil, fmt.Errorf("officer %s: unknown department %q", o.ID, o.Department)
		}
		dir.officers[o.ID] = o
		dir.byName[o.Name] = o.ID
		dir.members[o.Department] = append(dir.members[o.Department], o.ID)
		if o.Leader {
			dir.leader = o.ID
		}
	}
	for _, a := range d.Agencies {
		if _, dup := dir.depts[a.ID]; dup {
			return nil, fmt.Errorf("agency %s is also a department", a.ID)
		}
		dir.agencies = append(dir.agencies, a)
	}
	seen := map[string]bool{}
	for _, w := range d.Windows {
		if _, dup := dir.depts[w.ID]; dup || seen[w.ID] {
			return nil, fmt.Errorf("window %s listed twice or also a department", w.ID)
		}
		seen[w.ID] = true
		for _, dp := range w.Departments {
			if _, ok := dir.depts[dp]; !ok {
				return nil, fmt.Errorf("window %s: unknown department %q", w.ID, dp)
			}
		}
		dir.windows = append(dir.windows, w)
	}
	for _, id := range dir.order {
		dp := dir.depts[id]
		dir.windows = append(dir.windows, Window{ID: dp.ID, Name: dp.Name, Departments: []string{dp.ID}, Contact: dp.Contact})
	}
	dir.windowIDs = map[string]bool{}
	for _, w := range dir.windows {
		dir.windowIDs[w.ID] = true
	}
	for _, dp := range d.Departments {
		if dp.Supervisor == "" {
			continue // tickets nobody can take wait unassigned (and are logged)
		}
		if _, ok := dir.officers[dp.Supervisor]; !ok {
			return nil, fmt.Errorf("department %s: supervisor %s is not an officer", dp.ID, dp.Supervisor)
		}
	}
	return dir, nil
}

// FieldTown is the intake flows' field of the citizen's 街道（镇） answer.
const FieldTown = "town"

// windowOf is the window a ticket of department dept counts under, given
// the citizen's 街道（镇） answer: the configured window whose town the
// answer names (the longest such town, so that 城关镇 wins over 城关),
// else a configured window of the department without towns, else the
// department's own.
func (d *directory) windowOf(dept, town string) string {
	town = strings.TrimSpace(town)
	best, bestLen := "", 0
	for _, w := range d.windows {
		if len(w.Departments) > 0 && !slices.Contains(w.Departments, dept) {
			continue
		}
		if len(w.Towns) == 0 {
			if best == "" {
				best = w.ID
			}
			continue
		}
		for _, t := range w.Towns {
			if t = strings.TrimSpace(t); t != "" && town != "" && strings.Contains(town, t) && len(t) > bestLen {
				best, bestLen = w.ID, len(t)
			}
		}
	}
	if best == "" {
		return dept
	}
	return best
}

// Windows lists the service windows: the configured ones, then one per
// department, in configuration order.
func (d *Desk) Windows() []Window { return slices.Clone(d.dir.windows) }

// Window finds a service window by ID.
func (d *Desk) Window(id string) (Window, bool) {
	for _, w := range d.dir.windows {
		if w.ID == id {
			return w, true
		}
	}
	return Window{}, false
}

// OfficerName is the name of the officer with ID id; false for an ID not
// on the staff list.
func (d *Desk) OfficerName(id string) (string, bool) {
	o, ok := d.dir.officers[id]
	return o.Name, ok
}

// RespondBy is when a ticket received at created must be accepted
// (desk.response_limit); ok is false when the bureau set no limit.
func (d *Desk) RespondBy(created time.Time) (time.Time, bool) {
	if d.rules.Response == (Limit{}) {
		return time.Time{}, false
	}
	return d.deadline(created, d.rules.Response), true
}

// sorted lists the departments in configuration order.
func (d *directory) sorted() []Department {
	out := make([]Department, 0, len(d.order))
	for _, id := range d.order {
		out = append(out, d.depts[id])
	}
	return out
}

// agency finds an outside agency by ID or name.
func (d *directory) agency(s string) (Agency, bool) {
	for _, a := range d.agencies {
		if a.ID == s || a.Name == s {
			return a, true
		}
	}
	return Agency{}, false
}

// department finds a department by ID or name.
func (d *directory) department(s string) (Department, bool) {
	if dp, ok := d.depts[s]; ok {
		return dp, true
	}
	for _, dp := range d.depts {
		if dp.Name == s {
			return dp, true
		}
	}
	return Department{}, false
}

// officer finds an officer by ID or name.
func (d *directory) officer(s string) (Officer, bool) {
	if o, ok := d.officers[s]; ok {
		return o, true
	}
	if id, ok := d.byName[s]; ok {
		return d.officers[id], true
	}
	return Officer{}, false
}

func (d *directory) name(officerID string) string {
	if o, ok := d.officers[officerID]; ok {
		return o.Name
	}
	return officerID
}

func (r Rules) limit(line, inquiry string) Limit {
	for _, l := range []string{line, "*"} {
		m, ok := r.Deadlines[l]
		if !ok {
			continue
		}
		for _, q := range []string{inquiry, "*"} {
			if lim, ok := m[q]; ok {
				return lim
			}
		}
	}
	return Limit{Days: 7} // the published general rule
}

func (r Rules) urgentLimit(line string) Limit {
	for _, l := range []string{line, "*"} {
		if lim, ok := r.Urgent[l]; ok {
			return lim
		}
	}
	return Limit{Days: 1}
}

// workingDay is the calendar the desk counts deadlines on.
type workingDay interface {
	InWorkingHours(t time.Time) bool
	NextWorkingStart(t time.Time) time.Time
	NextWorkdayStart(t time.Time) time.Time
	AddWorkingDays(t time.Time, n int) time.Time
	AddWorkingDuration(t time.Time, d time.Duration) time.Time
	Fraction(start, deadline time.Time, f float64) time.Time
	LastWorkingDayStart(deadline time.Time) time.Time
}
