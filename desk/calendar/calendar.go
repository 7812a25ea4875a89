package calendar

import (
	"fmt"
	"maps"
	"slices"
	"time"
	_ "time/tzdata" // Asia/Shanghai must load on hosts without a zoneinfo database.
)

// DefaultLocation is the name of the time zone used when [Options].Location is nil.
const DefaultLocation = "Asia/Shanghai"

// Options are the optional settings of a [Calendar]. The zero value means
// [DefaultHours] in Asia/Shanghai.
type Options struct {
	Hours    Hours          // office hours; the zero value means DefaultHours()
	Location *time.Location // where clock times and dates are read; nil means Asia/Shanghai
	// EveryDay makes every day a working day, holidays included: for the
	// demo and for training, where people try the desk at any time.
	EveryDay bool
}

// Calendar answers which instants are working time and computes deadlines.
// It is immutable and safe for concurrent use.
type Calendar struct {
	everyDay bool
	loc      *time.Location
	spans    []clockSpan // the working periods of a working day, in order
	years    map[int]year
}

// year is one year's arrangement, from one data file.
type year struct {
	holidays map[date]string // date off → festival name
	workdays map[date]string // weekend working day → festival it makes up for
}

// New returns a calendar on the embedded yearly data.
func New(opts Options) (*Calendar, error) {
	return Load("", opts)
}

// Load returns a calendar on the embedded yearly data, with every year file in
// dir replacing or adding that whole year. An empty dir means the embedded
// data only. Errors in files are [*DataError] values, joined when there are
// several.
func Load(dir string, opts Options) (*Calendar, error) {
	years, err := readYears(embedded, embeddedDir, embeddedDir)
	if err != nil {
		return nil, fmt.Errorf("load embedded calendar: %w", err)
	}
	if dir != "" {
		extra, err := readDir(dir)
		if err != nil {
			return nil, err
		}
		maps.Copy(years, extra)
	}
	return build(years, opts)
}

func build(years map[int]year, opts Options) (*Calendar, error) {
	h := opts.Hours
	if h == (Hours{}) {
		h = DefaultHours()
	}
	spans, err := h.spans()
	if err != nil {
		return nil, fmt.Errorf("new calendar: %w", err)
	}
	loc := opts.Location
	if loc == nil {
		loc, err = time.LoadLocation(DefaultLocation)
		if err != nil {
			return nil, fmt.Errorf("new calendar: load time zone: %w", err)
		}
	}
	return &Calendar{loc: loc, spans: spans, years: years, everyDay: opts.EveryDay}, nil
}

// Location returns the time zone in which the calendar reads dates and clock times.
func (c *Calendar) Location() *time.Location { return c.loc }

// Years returns the years that have data, in ascending order.
func (c *Calendar) Years() []int {
	return slices.Sorted(maps.Keys(c.years))
}

// MissingYears returns, in ascending order, the years from the year of from
// to the year of to (inclusive) that have no data and so count Monday to
// Friday as working days. The service calls it at start-up to warn until the
// bureau adds the file for the coming year.
func (c *Calendar) MissingYears(from, to time.Time) []int {
	var missing []int
	for y := from.In(c.loc).Year(); y <= to.In(c.loc).Year(); y++ {
		if _, ok := c.years[y]; !ok {
			missing = append(missing, y)
		}
	}
	return missing
}

// IsWorkday reports whether the day of t, in the calendar's location, is a
// working day: a make-up working day, or a Monday to Friday that is not a
// holiday.
func (c *Calendar) IsWorkday(t time.Time) bool {
	return c.isWorkday(dateOf(t.In(c.loc)))
}

// Holiday returns the name of the festival if the day of t is a listed day off.
func (c *Calendar) Holiday(t time.Time) (name string, ok bool) {
	d := dateOf(t.In(c.loc))
	name, ok = c.years[d.year].holidays[d]
	return name, ok
}

// InWorkingHours reports whether t is working time: within office hours, not
// in the lunch break, on a working day. Periods are half-open, so the start
// of a period is inside and its end is not.
func (c *Calendar) InWorkingHours(t time.Time) bool {
	t = t.In(c.loc)
	for _, s := range c.periods(dateOf(t)) {
		if s.contains(t) {
			return true
		}
	}
	return false
}

func (c *Calendar) isWorkday(d date) bool {
	if c.everyDay {
		return true
	}
	if y, ok := c.years[d.year]; ok {
		if _, off := y.holidays[d]; off {
			return false
		}
		if _, on := y.workdays[d]; on {
			return true
		}
	}
	return !d.weekend()
}

// period is one working period of one day, [start, end).
type period struct{ start, end time.Time }

func (p period) contains(t time.Time) bool { return !t.Before(p.start) && t.Before(p.end) }

// periods returns the working periods of day d in order, none on a day off.
func (c *Calendar) periods(d date) []period {
	if !c.isWorkday(d) {
		return nil
	}
	ps := make([]period, len(c.spans))
	for i, s := range c.spans {
		ps[i] = period{d.at(s.from, c.loc), d.at(s.to, c.loc)}
	}
	return ps
}

// dayStart and dayEnd are the start and end of office hours on day d.
func (c *Calendar) dayStart(d date) time.Time { return d.at(c.spans[0].from, c.loc) }
func (c *Calendar) dayEnd(d date) time.Time   { return d.at(c.spans[len(c.spans)-1].to, c.loc) }

// date is a civil date, independent of any time zone.
type date struct {
	year  int
	month time.Month
	day   int
}

func dateOf(t time.Time) date {
	y, m, d := t.Date()
	return date{y, m, d}
}

func (d date) noonUTC() time.Time { return time.Date(d.year, d.month, d.day, 12, 0, 0, 0, time.UTC) }

func (d date) addDays(n int) date { return dateOf(d.noonUTC().AddDate(0, 0, n)) }

func (d date) weekend() bool {
	wd := d.noonUTC().Weekday()
	return wd == time.Saturday || wd == time.Sunday
}

func (d date) after(o date) bool { return d.noonUTC().After(o.noonUTC()) }

func (d date) at(c clock, loc *time.Location) time.Time {
	return time.Date(d.year, d.month, d.day, int(c)/60, int(c)%60, 0, 0, loc)
}

func (d date) String() string { return d.noonUTC().Format(time.DateOnly) }
