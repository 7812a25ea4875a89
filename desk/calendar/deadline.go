package calendar

import "time"

// The loops below walk forward or backward one day at a time until they find
// working time. They always end: a year without data has working days every
// week, and only finitely many years have data.

// NextWorkingStart returns t itself if it is working time, and otherwise the
// start of the next working period: Friday 18:00 gives Monday 08:30, 12:10
// gives 13:30 the same day. The result is in the calendar's location.
func (c *Calendar) NextWorkingStart(t time.Time) time.Time {
	t = t.In(c.loc)
	for d := dateOf(t); ; d = d.addDays(1) {
		for _, p := range c.periods(d) {
			if t.Before(p.start) {
				return p.start
			}
			if t.Before(p.end) {
				return t
			}
		}
	}
}

// AddWorkingDays returns the deadline of n working days counted from t, as
// the 12345 hotline rules count them: the end of office hours on the n-th
// working day after the day of t, whatever the time of t. A matter received
// on Monday with 3 working days is due on Thursday at 17:30; one received on
// Saturday is due on Wednesday at 17:30 if Monday to Wednesday are working
// days.
//
// n <= 0 means the same working day: the end of office hours on the day of
// NextWorkingStart(t), so a matter received after hours is due the next
// working day.
func (c *Calendar) AddWorkingDays(t time.Time, n int) time.Time {
	t = t.In(c.loc)
	if n <= 0 {
		return c.dayEnd(dateOf(c.NextWorkingStart(t)))
	}
	d := dateOf(t)
	for counted := 0; ; {
		d = d.addDays(1)
		if c.isWorkday(d) {
			counted++
			if counted == n {
				return c.dayEnd(d)
			}
		}
	}
}

// AddWorkingDuration returns the instant at which dur of working time has
// elapsed after t, skipping nights, lunch breaks, weekends and holidays: 2
// hours from Friday 16:30 is Monday 09:30. It is the earliest such instant,
// so it may be the end of a period (17:30). dur <= 0 returns t.
func (c *Calendar) AddWorkingDuration(t time.Time, dur time.Duration) time.Time {
	t = t.In(c.loc)
	if dur <= 0 {
		return t
	}
	for d := dateOf(t); ; d = d.addDays(1) {
		for _, p := range c.periods(d) {
			from := later(p.start, t)
			if !from.Before(p.end) {
				continue
			}
			if left := p.end.Sub(from); dur > left {
				dur -= left
				continue
			}
			return from.Add(dur)
		}
	}
}

// WorkingDurationBetween returns the working time from a to b, or 0 if b is
// not after a. For d >= 0, WorkingDurationBetween(t, AddWorkingDuration(t, d))
// is d.
func (c *Calendar) WorkingDurationBetween(a, b time.Time) time.Duration {
	a, b = a.In(c.loc), b.In(c.loc)
	if !b.After(a) {
		return 0
	}
	var total time.Duration
	last := dateOf(b)
	for d := dateOf(a); !d.after(last); d = d.addDays(1) {
		for _, p := range c.periods(d) {
			if from, to := later(p.start, a), earlier(p.end, b); from.Before(to) {
				total += to.Sub(from)
			}
		}
	}
	return total
}

// Fraction returns the instant at which fraction f (clamped to [0, 1]) of the
// working time from start to deadline has elapsed, for reminders such as
// "75% of the time has passed". Working time does not elapse outside office
// hours, so of the instants that qualify it returns the first one in working
// hours: if 75% is reached at 17:30, the reminder is due at 08:30 on the next
// working day rather than in the evening. For 0 < f < 1 the result is
// therefore working time, never after the deadline; f = 1 returns the
// deadline. If deadline is not after start, Fraction returns start.
func (c *Calendar) Fraction(start, deadline time.Time, f float64) time.Time {
	start, deadline = start.In(c.loc), deadline.In(c.loc)
	if !deadline.After(start) {
		return start
	}
	if !(f > 0) { // also NaN
		f = 0
	}
	if f >= 1 {
		return deadline
	}
	part := time.Duration(float64(c.WorkingDurationBetween(start, deadline)) * f)
	return earlier(c.NextWorkingStart(c.AddWorkingDuration(start, part)), deadline)
}

// LastWorkingDayStart returns the start of office hours on the last working
// day that has working time before deadline: for a deadline at Thursday
// 17:30, Thursday 08:30. A deadline at or before the start of its day's
// office hours, or on a day off, gives the previous working day.
func (c *Calendar) LastWorkingDayStart(deadline time.Time) time.Time {
	deadline = deadline.In(c.loc)
	for d := dateOf(deadline); ; d = d.addDays(-1) {
		if !c.isWorkday(d) {
			continue
		}
		if s := c.dayStart(d); s.Before(deadline) {
			return s
		}
	}
}

func later(a, b time.Time) time.Time {
	if a.After(b) {
		return a
	}
	return b
}

func earlier(a, b time.Time) time.Time {
	if a.Before(b) {
		return a
	}
	return b
}

// NextWorkdayStart returns the start of office hours on the first working
// day after the day of t: what "off duty until the next working day" means.
func (c *Calendar) NextWorkdayStart(t time.Time) time.Time {
	t = t.In(c.loc)
	for d := dateOf(t).addDays(1); ; d = d.addDays(1) {
		if c.isWorkday(d) {
			return c.dayStart(d)
		}
	}
}
