package calendar_test

import (
	"math"
	"testing"
	"time"
)

func TestNextWorkingStart(t *testing.T) {
	c := newCalendar(t)
	tests := []struct {
		name string
		t    time.Time
		want time.Time
	}{
		{"in working hours: itself", cst(t, "2026-03-02 10:15:07"), cst(t, "2026-03-02 10:15:07")},
		{"opening: itself", cst(t, "2026-03-02 08:30"), cst(t, "2026-03-02 08:30")},
		{"early morning", cst(t, "2026-03-02 06:00"), cst(t, "2026-03-02 08:30")},
		{"lunch", cst(t, "2026-03-02 12:10"), cst(t, "2026-03-02 13:30")},
		{"closing", cst(t, "2026-03-02 17:30"), cst(t, "2026-03-03 08:30")},
		{"Friday 18:00 to Monday", cst(t, "2026-03-06 18:00"), cst(t, "2026-03-09 08:30")},
		{"Sunday", cst(t, "2026-03-08 15:00"), cst(t, "2026-03-09 08:30")},
		{"Friday before Spring Festival to make-up Saturday", cst(t, "2026-02-13 18:00"), cst(t, "2026-02-14 08:30")},
		{"eve of Spring Festival to 24 Feb", cst(t, "2026-02-14 18:00"), cst(t, "2026-02-24 08:30")},
		{"during Spring Festival", cst(t, "2026-02-18 10:00"), cst(t, "2026-02-24 08:30")},
		{"eve of National Day to 8 Oct", cst(t, "2026-09-30 18:00"), cst(t, "2026-10-08 08:30")},
		{"Friday 9 Oct to make-up Saturday", cst(t, "2026-10-09 18:00"), cst(t, "2026-10-10 08:30")},
		{"New Year's Eve 2025 to make-up Sunday 4 Jan", cst(t, "2025-12-31 18:00"), cst(t, "2026-01-04 08:30")},
		{"into 2027 without data: Friday 1 Jan", cst(t, "2026-12-31 18:00"), cst(t, "2027-01-01 08:30")},
		{"UTC input, Shanghai result", time.Date(2026, 3, 6, 10, 0, 0, 0, time.UTC), cst(t, "2026-03-09 08:30")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := c.NextWorkingStart(tt.t)
			if !got.Equal(tt.want) || got.Location() != c.Location() {
				t.Errorf("NextWorkingStart(%s) = %s, want %s", show(tt.t), show(got), show(tt.want))
			}
		})
	}
}

func TestAddWorkingDays(t *testing.T) {
	c := newCalendar(t)
	tests := []struct {
		name string
		t    time.Time
		n    int
		want time.Time
	}{
		{"received Monday, 3 days", cst(t, "2026-03-02 10:00"), 3, cst(t, "2026-03-05 17:30")},
		{"received Monday after hours, 3 days", cst(t, "2026-03-02 20:00"), 3, cst(t, "2026-03-05 17:30")},
		{"received Saturday, 3 days", cst(t, "2026-03-07 10:00"), 3, cst(t, "2026-03-11 17:30")},
		{"received Friday, 1 day", cst(t, "2026-03-06 09:00"), 1, cst(t, "2026-03-09 17:30")},
		{"complaint, 13 days", cst(t, "2026-03-02 10:00"), 13, cst(t, "2026-03-19 17:30")},
		{"Spring Festival: 14 Feb, 24 Feb, 25 Feb", cst(t, "2026-02-13 10:00"), 3, cst(t, "2026-02-25 17:30")},
		{"received on make-up Saturday, 1 day", cst(t, "2026-02-14 10:00"), 1, cst(t, "2026-02-24 17:30")},
		{"received during Spring Festival, 1 day", cst(t, "2026-02-20 10:00"), 1, cst(t, "2026-02-24 17:30")},
		{"Spring Festival make-up Saturday 28 Feb counts", cst(t, "2026-02-26 10:00"), 2, cst(t, "2026-02-28 17:30")},
		{"National Day, 2 days", cst(t, "2026-09-30 10:00"), 2, cst(t, "2026-10-09 17:30")},
		{"National Day, make-up Saturday 10 Oct is day 3", cst(t, "2026-09-30 10:00"), 3, cst(t, "2026-10-10 17:30")},
		{"National Day, 4 days", cst(t, "2026-09-30 10:00"), 4, cst(t, "2026-10-12 17:30")},
		{"make-up Sunday 20 Sep", cst(t, "2026-09-19 10:00"), 1, cst(t, "2026-09-20 17:30")},
		{"New Year: make-up Sunday 4 Jan", cst(t, "2025-12-31 10:00"), 1, cst(t, "2026-01-04 17:30")},
		{"Qingming", cst(t, "2026-04-03 10:00"), 1, cst(t, "2026-04-07 17:30")},
		{"Labour Day", cst(t, "2026-04-30 10:00"), 1, cst(t, "2026-05-06 17:30")},
		{"into 2027 without data", cst(t, "2026-12-31 10:00"), 1, cst(t, "2027-01-01 17:30")},
		{"2027 without data: weekend skipped", cst(t, "2027-01-01 10:00"), 1, cst(t, "2027-01-04 17:30")},
		{"same day", cst(t, "2026-03-02 10:00"), 0, cst(t, "2026-03-02 17:30")},
		{"same day, received after hours", cst(t, "2026-03-02 18:00"), 0, cst(t, "2026-03-03 17:30")},
		{"same day, received on Saturday", cst(t, "2026-03-07 10:00"), 0, cst(t, "2026-03-09 17:30")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := c.AddWorkingDays(tt.t, tt.n); !got.Equal(tt.want) {
				t.Errorf("AddWorkingDays(%s, %d) = %s, want %s", show(tt.t), tt.n, show(got), show(tt.want))
			}
		})
	}
}

func TestAddWorkingDuration(t *testing.T) {
	c := newCalendar(t)
	tests := []struct {
		name string
		t    time.Time
		d    time.Duration
		want time.Time
	}{
		{"urgent, morning", cst(t, "2026-03-02 09:00"), 2 * time.Hour, cst(t, "2026-03-02 11:00")},
		{"urgent, up to lunch", cst(t, "2026-03-02 10:00"), 2 * time.Hour, cst(t, "2026-03-02 12:00")},
		{"urgent, across lunch", cst(t, "2026-03-02 11:00"), 2 * time.Hour, cst(t, "2026-03-02 14:30")},
		{"urgent, received at lunch", cst(t, "2026-03-02 12:30"), 2 * time.Hour, cst(t, "2026-03-02 15:30")},
		{"urgent, up to closing", cst(t, "2026-03-02 15:30"), 2 * time.Hour, cst(t, "2026-03-02 17:30")},
		{"urgent, overnight", cst(t, "2026-03-02 16:30"), 2 * time.Hour, cst(t, "2026-03-03 09:30")},
		{"urgent, received at night", cst(t, "2026-03-02 20:00"), 2 * time.Hour, cst(t, "2026-03-03 10:30")},
		{"urgent, over the weekend", cst(t, "2026-03-06 16:30"), 2 * time.Hour, cst(t, "2026-03-09 09:30")},
		{"urgent, received on Saturday", cst(t, "2026-03-07 10:00"), 2 * time.Hour, cst(t, "2026-03-09 10:30")},
		{"urgent, into make-up Saturday", cst(t, "2026-02-13 17:00"), 2 * time.Hour, cst(t, "2026-02-14 10:00")},
		{"urgent, over Spring Festival", cst(t, "2026-02-14 17:00"), 2 * time.Hour, cst(t, "2026-02-24 10:00")},
		{"urgent, over National Day", cst(t, "2026-09-30 17:00"), 2 * time.Hour, cst(t, "2026-10-08 10:00")},
		{"one working day", cst(t, "2026-03-02 08:30"), 7*time.Hour + 30*time.Minute, cst(t, "2026-03-02 17:30")},
		{"zero", cst(t, "2026-03-07 10:00"), 0, cst(t, "2026-03-07 10:00")},
		{"negative", cst(t, "2026-03-02 10:00"), -time.Hour, cst(t, "2026-03-02 10:00")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := c.AddWorkingDuration(tt.t, tt.d); !got.Equal(tt.want) {
				t.Errorf("AddWorkingDuration(%s, %s) = %s, want %s", show(tt.t), tt.d, show(got), show(tt.want))
			}
		})
	}
}

func TestWorkingDurationBetween(t *testing.T) {
	c := newCalendar(t)
	tests := []struct {
		name string
		a, b time.Time
		want time.Duration
	}{
		{"one working day", cst(t, "2026-03-02 08:30"), cst(t, "2026-03-02 17:30"), 7*time.Hour + 30*time.Minute},
		{"across lunch", cst(t, "2026-03-02 11:00"), cst(t, "2026-03-02 14:00"), 90 * time.Minute},
		{"within lunch", cst(t, "2026-03-02 12:10"), cst(t, "2026-03-02 13:20"), 0},
		{"over the weekend", cst(t, "2026-03-06 17:00"), cst(t, "2026-03-09 09:00"), time.Hour},
		{"ordinary weekend", cst(t, "2026-03-07 00:00"), cst(t, "2026-03-09 00:00"), 0},
		{"make-up Saturday and Spring Festival", cst(t, "2026-02-13 08:30"), cst(t, "2026-02-24 08:30"), 15 * time.Hour},
		{"National Day week", cst(t, "2026-10-01 00:00"), cst(t, "2026-10-08 00:00"), 0},
		{"2027 without data", cst(t, "2026-12-31 08:30"), cst(t, "2027-01-04 17:30"), 3 * (7*time.Hour + 30*time.Minute)},
		{"b equals a", cst(t, "2026-03-02 10:00"), cst(t, "2026-03-02 10:00"), 0},
		{"b before a", cst(t, "2026-03-03 10:00"), cst(t, "2026-03-02 10:00"), 0},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := c.WorkingDurationBetween(tt.a, tt.b); got != tt.want {
				t.Errorf("WorkingDurationBetween(%s, %s) = %s, want %s", show(tt.a), show(tt.b), got, tt.want)
			}
		})
	}
}

func TestWorkingDurationRoundTrip(t *testing.T) {
	c := newCalendar(t)
	starts := []time.Time{
		cst(t, "2026-03-02 08:30"),
		cst(t, "2026-03-02 12:00"),
		cst(t, "2026-03-02 12:45"),
		cst(t, "2026-03-06 17:29:59"),
		cst(t, "2026-02-13 16:00"),
		cst(t, "2026-02-14 09:00"),
		cst(t, "2026-02-15 10:00"),
		cst(t, "2026-09-30 11:11:11"),
		cst(t, "2025-12-31 23:00"),
		cst(t, "2026-12-31 16:00"),
		time.Date(2026, 5, 8, 23, 59, 59, 999999999, time.UTC),
	}
	durations := []time.Duration{
		time.Nanosecond, time.Minute, 2 * time.Hour, 210 * time.Minute, 450 * time.Minute,
		24 * time.Hour, 100*time.Hour + 7*time.Second, 13 * 450 * time.Minute,
	}
	for _, start := range starts {
		for _, d := range durations {
			end := c.AddWorkingDuration(start, d)
			if got := c.WorkingDurationBetween(start, end); got != d {
				t.Errorf("WorkingDurationBetween(%s, AddWorkingDuration(…, %s) = %s) = %s, want %s",
					show(start), d, show(end), got, d)
			}
		}
	}
}

func TestFraction(t *testing.T) {
	c := newCalendar(t)
	tests := []struct {
		name            string
		start, deadline time.Time
		f               float64
		want            time.Time
	}{
		{"75% inside a day", cst(t, "2026-03-02 10:00"), cst(t, "2026-03-05 17:30"), 0.75, cst(t, "2026-03-05 08:52:30")},
		{"75% at closing moves to next opening", cst(t, "2026-03-02 08:30"), cst(t, "2026-03-05 17:30"), 0.75, cst(t, "2026-03-05 08:30")},
		{"50% at lunch moves to 13:30", cst(t, "2026-03-02 08:30"), cst(t, "2026-03-02 17:00"), 0.5, cst(t, "2026-03-02 13:30")},
		{"75% over Spring Festival", cst(t, "2026-02-13 10:00"), cst(t, "2026-02-25 17:30"), 0.75, cst(t, "2026-02-25 08:52:30")},
		{"0 from outside hours", cst(t, "2026-03-07 10:00"), cst(t, "2026-03-11 17:30"), 0, cst(t, "2026-03-09 08:30")},
		{"1 is the deadline", cst(t, "2026-03-02 10:00"), cst(t, "2026-03-05 20:00"), 1, cst(t, "2026-03-05 20:00")},
		{"above 1 is the deadline", cst(t, "2026-03-02 10:00"), cst(t, "2026-03-05 17:30"), 1.5, cst(t, "2026-03-05 17:30")},
		{"NaN counts as 0", cst(t, "2026-03-02 10:00"), cst(t, "2026-03-05 17:30"), math.NaN(), cst(t, "2026-03-02 10:00")},
		{"deadline before start", cst(t, "2026-03-05 10:00"), cst(t, "2026-03-02 10:00"), 0.75, cst(t, "2026-03-05 10:00")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := c.Fraction(tt.start, tt.deadline, tt.f); !got.Equal(tt.want) {
				t.Errorf("Fraction(%s, %s, %v) = %s, want %s", show(tt.start), show(tt.deadline), tt.f, show(got), show(tt.want))
			}
		})
	}
}

// TestFractionLandsInWorkingHours checks the 75% reminder for every hour of
// a fortnight around Spring Festival and the deadlines the desk uses.
func TestFractionLandsInWorkingHours(t *testing.T) {
	c := newCalendar(t)
	for start := cst(t, "2026-02-07 00:00"); start.Before(cst(t, "2026-02-28 00:00")); start = start.Add(time.Hour) {
		deadlines := []time.Time{
			c.AddWorkingDuration(start, 2*time.Hour),
			c.AddWorkingDays(start, 0),
			c.AddWorkingDays(start, 3),
			c.AddWorkingDays(start, 13),
		}
		for _, deadline := range deadlines {
			got := c.Fraction(start, deadline, 0.75)
			total := c.WorkingDurationBetween(start, deadline)
			want := time.Duration(float64(total) * 0.75)
			if !c.InWorkingHours(got) || got.Before(start) || !got.Before(deadline) {
				t.Errorf("Fraction(%s, %s, 0.75) = %s, want working time in [start, deadline)",
					show(start), show(deadline), show(got))
			}
			if elapsed := c.WorkingDurationBetween(start, got); elapsed != want {
				t.Errorf("Fraction(%s, %s, 0.75): elapsed %s, want %s", show(start), show(deadline), elapsed, want)
			}
		}
	}
}

func TestLastWorkingDayStart(t *testing.T) {
	c := newCalendar(t)
	tests := []struct {
		name     string
		deadline time.Time
		want     time.Time
	}{
		{"Thursday closing", cst(t, "2026-03-05 17:30"), cst(t, "2026-03-05 08:30")},
		{"Thursday noon", cst(t, "2026-03-05 12:00"), cst(t, "2026-03-05 08:30")},
		{"Thursday opening: no time left that day", cst(t, "2026-03-05 08:30"), cst(t, "2026-03-04 08:30")},
		{"Monday early morning", cst(t, "2026-03-09 07:00"), cst(t, "2026-03-06 08:30")},
		{"Saturday", cst(t, "2026-03-07 10:00"), cst(t, "2026-03-06 08:30")},
		{"after Spring Festival", cst(t, "2026-02-25 17:30"), cst(t, "2026-02-25 08:30")},
		{"first morning after Spring Festival", cst(t, "2026-02-24 08:00"), cst(t, "2026-02-14 08:30")},
		{"during National Day", cst(t, "2026-10-05 10:00"), cst(t, "2026-09-30 08:30")},
		{"make-up Saturday 10 Oct", cst(t, "2026-10-10 17:30"), cst(t, "2026-10-10 08:30")},
		{"2027 without data", cst(t, "2027-01-04 09:00"), cst(t, "2027-01-04 08:30")},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := c.LastWorkingDayStart(tt.deadline); !got.Equal(tt.want) {
				t.Errorf("LastWorkingDayStart(%s) = %s, want %s", show(tt.deadline), show(got), show(tt.want))
			}
		})
	}
}

// FuzzWorkingDuration checks that AddWorkingDuration and WorkingDurationBetween
// agree for starts from 2025 to 2028 and durations up to 60 working days.
func FuzzWorkingDuration(f *testing.F) {
	f.Add(int64(0), int64(2*time.Hour))
	f.Add(int64(36_000), int64(time.Nanosecond))
	f.Add(int64(41*24*3600+16*3600), int64(2*time.Hour))         // Friday 13 Feb 2026, 16:00
	f.Add(int64(44*24*3600+17*3600), int64(450*time.Minute))     // make-up Saturday 14 Feb 2026, 17:00
	f.Add(int64(363*24*3600+12*3600), int64(13*450*time.Minute)) // 30 Dec 2026, into 2027
	f.Add(int64(-1), int64(-1))
	c := newCalendar(f)
	base := cst(f, "2025-12-01 00:00")
	const span = 4 * 365 * 24 * 3600 // seconds of start range
	const maxD = int64(60 * 450 * time.Minute)
	f.Fuzz(func(t *testing.T, offset, d int64) {
		start := base.Add(time.Duration(((offset%span)+span)%span) * time.Second).Add(time.Duration(((d % 1e9) + 1e9) % 1e9))
		dur := time.Duration(((d % maxD) + maxD) % maxD)
		end := c.AddWorkingDuration(start, dur)
		if end.Before(start) {
			t.Fatalf("AddWorkingDuration(%s, %s) = %s, before the start", show(start), dur, show(end))
		}
		if got := c.WorkingDurationBetween(start, end); got != dur {
			t.Fatalf("WorkingDurationBetween(%s, %s) = %s, want %s", show(start), show(end), got, dur)
		}
		if dur > 0 && !c.InWorkingHours(end.Add(-time.Nanosecond)) {
			t.Fatalf("AddWorkingDuration(%s, %s) = %s, not right after working time", show(start), dur, show(end))
		}
		mid := c.AddWorkingDuration(start, dur/2)
		if got := c.AddWorkingDuration(mid, dur-dur/2); !got.Equal(end) {
			t.Fatalf("AddWorkingDuration in two halves from %s = %s, want %s", show(start), show(got), show(end))
		}
		if dur > 0 {
			if got := c.Fraction(start, end, 0.75); !c.InWorkingHours(got) || got.Before(start) || !got.Before(end) {
				t.Fatalf("Fraction(%s, %s, 0.75) = %s, want working time in [start, end)", show(start), show(end), show(got))
			}
		}
	})
}
