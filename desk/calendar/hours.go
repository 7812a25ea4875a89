package calendar

import (
	"fmt"
	"time"
)

// Hours are the office hours of every working day, as "15:04" clock times in
// the calendar's location. The lunch break is optional: set both LunchStart
// and LunchEnd, or neither.
type Hours struct {
	Start, End           string // e.g. "08:30" and "17:30"
	LunchStart, LunchEnd string // e.g. "12:00" and "13:30"; empty for no break
}

// DefaultHours returns the hours used when [Options].Hours is the zero value:
// 08:30 to 17:30 with a lunch break from 12:00 to 13:30.
func DefaultHours() Hours {
	return Hours{Start: "08:30", End: "17:30", LunchStart: "12:00", LunchEnd: "13:30"}
}

// clock is a time of day in minutes after midnight.
type clock int

// clockSpan is a half-open working period [from, to) within a day.
type clockSpan struct{ from, to clock }

// spans checks h and returns its working periods in order: one, or two around
// the lunch break.
func (h Hours) spans() ([]clockSpan, error) {
	start, err := parseClock("start", h.Start)
	if err != nil {
		return nil, err
	}
	end, err := parseClock("end", h.End)
	if err != nil {
		return nil, err
	}
	if start >= end {
		return nil, fmt.Errorf("working hours: start %s is not before end %s", h.Start, h.End)
	}
	if h.LunchStart == "" && h.LunchEnd == "" {
		return []clockSpan{{start, end}}, nil
	}
	if h.LunchStart == "" || h.LunchEnd == "" {
		return nil, fmt.Errorf("working hours: set both lunch start and lunch end, or neither")
	}
	ls, err := parseClock("lunch start", h.LunchStart)
	if err != nil {
		return nil, err
	}
	le, err := parseClock("lunch end", h.LunchEnd)
	if err != nil {
		return nil, err
	}
	if start >= ls || ls >= le || le >= end {
		return nil, fmt.Errorf("working hours: lunch %s–%s must lie strictly within %s–%s",
			h.LunchStart, h.LunchEnd, h.Start, h.End)
	}
	return []clockSpan{{start, ls}, {le, end}}, nil
}

func parseClock(what, s string) (clock, error) {
	t, err := time.Parse("15:04", s)
	if err != nil || t.Format("15:04") != s { // Parse also takes "8:30"
		return 0, fmt.Errorf("working hours: %s %q: want HH:MM such as 08:30", what, s)
	}
	return clock(t.Hour()*60 + t.Minute()), nil
}
