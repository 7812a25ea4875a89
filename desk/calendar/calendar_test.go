package calendar_test

import (
	"slices"
	"strings"
	"testing"
	"time"

	"huimin/desk/calendar"
)

// newCalendar returns a calendar on the embedded data with the default options.
func newCalendar(tb testing.TB) *calendar.Calendar {
	tb.Helper()
	c, err := calendar.New(calendar.Options{})
	if err != nil {
		tb.Fatalf("New: %v", err)
	}
	return c
}

// cst parses "2006-01-02 15:04" or "2006-01-02 15:04:05" in Asia/Shanghai.
func cst(tb testing.TB, s string) time.Time {
	tb.Helper()
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		tb.Fatal(err)
	}
	layout := "2006-01-02 15:04"
	if strings.Count(s, ":") == 2 {
		layout = "2006-01-02 15:04:05"
	}
	t, err := time.ParseInLocation(layout, s, loc)
	if err != nil {
		tb.Fatal(err)
	}
	return t
}

// show formats a time for failure messages, with the weekday.
func show(t time.Time) string { return t.Format("Mon 2006-01-02 15:04:05.999999999 MST") }

func TestNewDefaults(t *testing.T) {
	c := newCalendar(t)
	if got, want := c.Location().String(), "Asia/Shanghai"; got != want {
		t.Errorf("Location() = %s, want %s", got, want)
	}
	if got, want := c.Years(), []int{2026}; !slices.Equal(got, want) {
		t.Errorf("Years() = %v, want %v", got, want)
	}
}

// TestEmbedded2026MatchesDomain checks every day of 2026 against the State
// Council arrangement as DOMAIN.md states it.
func TestEmbedded2026MatchesDomain(t *testing.T) {
	off := [][2]string{
		{"2026-01-01", "2026-01-03"},
		{"2026-02-15", "2026-02-23"},
		{"2026-04-04", "2026-04-06"},
		{"2026-05-01", "2026-05-05"},
		{"2026-06-19", "2026-06-21"},
		{"2026-09-25", "2026-09-27"},
		{"2026-10-01", "2026-10-07"},
	}
	makeUp := []string{"2026-01-04", "2026-02-14", "2026-02-28", "2026-05-09", "2026-09-20", "2026-10-10"}
	c := newCalendar(t)
	days, holidays := 0, 0
	for d := cst(t, "2026-01-01 10:00"); d.Year() == 2026; d = d.AddDate(0, 0, 1) {
		day := d.Format(time.DateOnly)
		isOff := slices.ContainsFunc(off, func(r [2]string) bool { return r[0] <= day && day <= r[1] })
		want := slices.Contains(makeUp, day) ||
			(!isOff && d.Weekday() != time.Saturday && d.Weekday() != time.Sunday)
		if got := c.IsWorkday(d); got != want {
			t.Errorf("IsWorkday(%s) = %v, want %v", show(d), got, want)
		}
		if _, ok := c.Holiday(d); ok != isOff {
			t.Errorf("Holiday(%s) ok = %v, want %v", show(d), ok, isOff)
		}
		if want {
			days++
		}
		if isOff {
			holidays++
		}
	}
	// 261 weekdays in 2026, 19 of them off, plus 6 make-up weekend days.
	if days != 248 || holidays != 33 {
		t.Errorf("2026 has %d working days and %d days off, want 248 and 33", days, holidays)
	}
}

func TestIsWorkday(t *testing.T) {
	c := newCalendar(t)
	tests := []struct {
		name string
		t    time.Time
		want bool
	}{
		{"ordinary Monday", cst(t, "2026-03-02 10:00"), true},
		{"ordinary Saturday", cst(t, "2026-03-07 10:00"), false},
		{"ordinary Sunday", cst(t, "2026-03-08 10:00"), false},
		{"New Year's Day, Thursday", cst(t, "2026-01-01 10:00"), false},
		{"New Year holiday, Friday", cst(t, "2026-01-02 10:00"), false},
		{"New Year make-up Sunday 4 Jan", cst(t, "2026-01-04 10:00"), true},
		{"Friday before Spring Festival", cst(t, "2026-02-13 10:00"), true},
		{"Spring Festival make-up Saturday 14 Feb", cst(t, "2026-02-14 10:00"), true},
		{"Spring Festival first day off, Sunday 15 Feb", cst(t, "2026-02-15 10:00"), false},
		{"Spring Festival Monday 16 Feb", cst(t, "2026-02-16 10:00"), false},
		{"Spring Festival last day off, Monday 23 Feb", cst(t, "2026-02-23 10:00"), false},
		{"after Spring Festival, Tuesday 24 Feb", cst(t, "2026-02-24 10:00"), true},
		{"Spring Festival make-up Saturday 28 Feb", cst(t, "2026-02-28 10:00"), true},
		{"Qingming Monday 6 Apr", cst(t, "2026-04-06 10:00"), false},
		{"Labour Day Tuesday 5 May", cst(t, "2026-05-05 10:00"), false},
		{"Labour Day make-up Saturday 9 May", cst(t, "2026-05-09 10:00"), true},
		{"Dragon Boat Friday 19 Jun", cst(t, "2026-06-19 10:00"), false},
		{"National Day make-up Sunday 20 Sep", cst(t, "2026-09-20 10:00"), true},
		{"Mid-Autumn Friday 25 Sep", cst(t, "2026-09-25 10:00"), false},
		{"National Day Monday 5 Oct", cst(t, "2026-10-05 10:00"), false},
		{"National Day Wednesday 7 Oct", cst(t, "2026-10-07 10:00"), false},
		{"after National Day, Thursday 8 Oct", cst(t, "2026-10-08 10:00"), true},
		{"National Day make-up Saturday 10 Oct", cst(t, "2026-10-10 10:00"), true},
		{"Sunday 11 Oct", cst(t, "2026-10-11 10:00"), false},
		{"2025 has no data: Wednesday 31 Dec", cst(t, "2025-12-31 10:00"), true},
		{"2027 has no data: Friday 1 Jan is a working day", cst(t, "2027-01-01 10:00"), true},
		{"2027 has no data: Saturday 2 Jan", cst(t, "2027-01-02 10:00"), false},
		{"UTC Friday 17:00 is Shanghai Saturday 14 Feb 01:00", time.Date(2026, 2, 13, 17, 0, 0, 0, time.UTC), true},
		{"UTC Saturday 16:30 is Shanghai Sunday 15 Feb 00:30", time.Date(2026, 2, 14, 16, 30, 0, 0, time.UTC), false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := c.IsWorkday(tt.t); got != tt.want {
				t.Errorf("IsWorkday(%s) = %v, want %v", show(tt.t), got, tt.want)
			}
		})
	}
}

func TestHoliday(t *testing.T) {
	c := newCalendar(t)
	tests := []struct {
		name   string
		t      time.Time
		want   string
		wantOK bool
	}{
		{"Spring Festival", cst(t, "2026-02-17 10:00"), "春节", true},
		{"National Day", cst(t, "2026-10-01 10:00"), "国庆节", true},
		{"make-up working day", cst(t, "2026-02-14 10:00"), "", false},
		{"ordinary weekend", cst(t, "2026-03-07 10:00"), "", false},
		{"year without data", cst(t, "2027-01-01 10:00"), "", false},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got, ok := c.Holiday(tt.t)
			if got != tt.want || ok != tt.wantOK {
				t.Errorf("Holiday(%s) = %q, %v, want %q, %v", show(tt.t), got, ok, tt.want, tt.wantOK)
			}
		})
	}
}

func TestInWorkingHours(t *testing.T) {
	c := newCalendar(t)
	noLunch, err := calendar.New(calendar.Options{Hours: calendar.Hours{Start: "09:00", End: "17:00"}})
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		c    *calendar.Calendar
		t    time.Time
		want bool
	}{
		{"before opening", c, cst(t, "2026-03-02 08:29:59"), false},
		{"opening", c, cst(t, "2026-03-02 08:30"), true},
		{"late morning", c, cst(t, "2026-03-02 11:59:59"), true},
		{"lunch starts", c, cst(t, "2026-03-02 12:00"), false},
		{"lunch", c, cst(t, "2026-03-02 12:45"), false},
		{"lunch ends", c, cst(t, "2026-03-02 13:30"), true},
		{"just before closing", c, cst(t, "2026-03-02 17:29:59"), true},
		{"closing", c, cst(t, "2026-03-02 17:30"), false},
		{"night", c, cst(t, "2026-03-02 22:00"), false},
		{"ordinary Saturday", c, cst(t, "2026-03-07 10:00"), false},
		{"make-up Saturday 14 Feb", c, cst(t, "2026-02-14 10:00"), true},
		{"Spring Festival", c, cst(t, "2026-02-16 10:00"), false},
		{"2027 fallback weekday", c, cst(t, "2027-01-01 10:00"), true},
		{"no lunch break: 12:30", noLunch, cst(t, "2026-03-02 12:30"), true},
		{"no lunch break: 08:30", noLunch, cst(t, "2026-03-02 08:30"), false},
		{"no lunch break: 17:00", noLunch, cst(t, "2026-03-02 17:00"), false},
		{"UTC input", c, time.Date(2026, 3, 2, 1, 0, 0, 0, time.UTC), true}, // 09:00 in Shanghai
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := tt.c.InWorkingHours(tt.t); got != tt.want {
				t.Errorf("InWorkingHours(%s) = %v, want %v", show(tt.t), got, tt.want)
			}
		})
	}
}

func TestNewRejectsBadHours(t *testing.T) {
	tests := []struct {
		name  string
		hours calendar.Hours
		want  string
	}{
		{"no leading zero", calendar.Hours{Start: "8:30", End: "17:30"}, `start "8:30"`},
		{"missing end", calendar.Hours{Start: "08:30"}, `end ""`},
		{"end before start", calendar.Hours{Start: "17:30", End: "08:30"}, "not before"},
		{"lunch start only", calendar.Hours{Start: "08:30", End: "17:30", LunchStart: "12:00"}, "both"},
		{"lunch outside hours", calendar.Hours{Start: "08:30", End: "17:30", LunchStart: "17:00", LunchEnd: "18:00"}, "within"},
		{"empty lunch", calendar.Hours{Start: "08:30", End: "17:30", LunchStart: "12:00", LunchEnd: "12:00"}, "within"},
		{"bad lunch end", calendar.Hours{Start: "08:30", End: "17:30", LunchStart: "12:00", LunchEnd: "25:00"}, `lunch end "25:00"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := calendar.New(calendar.Options{Hours: tt.hours})
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("New(%+v) error = %v, want one containing %q", tt.hours, err, tt.want)
			}
		})
	}
}

func TestOptionsLocation(t *testing.T) {
	c, err := calendar.New(calendar.Options{Location: time.UTC})
	if err != nil {
		t.Fatal(err)
	}
	// 01:00 UTC on Saturday 14 Feb is 09:00 in Shanghai, but this calendar reads UTC.
	if got := c.InWorkingHours(time.Date(2026, 2, 14, 1, 0, 0, 0, time.UTC)); got {
		t.Errorf("InWorkingHours(01:00 UTC) = %v, want false", got)
	}
	got := c.NextWorkingStart(time.Date(2026, 2, 14, 1, 0, 0, 0, time.UTC))
	if want := time.Date(2026, 2, 14, 8, 30, 0, 0, time.UTC); !got.Equal(want) {
		t.Errorf("NextWorkingStart = %s, want %s", show(got), show(want))
	}
}

func TestMissingYears(t *testing.T) {
	c := newCalendar(t)
	tests := []struct {
		name     string
		from, to time.Time
		want     []int
	}{
		{"2026 only", cst(t, "2026-01-01 00:00"), cst(t, "2026-12-31 23:59"), nil},
		{"into 2027", cst(t, "2026-06-01 10:00"), cst(t, "2027-03-01 10:00"), []int{2027}},
		{"2025 to 2027", cst(t, "2025-12-01 10:00"), cst(t, "2027-01-05 10:00"), []int{2025, 2027}},
		{"to before from", cst(t, "2027-01-01 10:00"), cst(t, "2026-01-01 10:00"), nil},
		{"UTC new year's eve is 2027 in Shanghai", cst(t, "2026-06-01 10:00"), time.Date(2026, 12, 31, 17, 0, 0, 0, time.UTC), []int{2027}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := c.MissingYears(tt.from, tt.to); !slices.Equal(got, tt.want) {
				t.Errorf("MissingYears(%s, %s) = %v, want %v", show(tt.from), show(tt.to), got, tt.want)
			}
		})
	}
}

func TestEveryDay(t *testing.T) {
	c, err := calendar.New(calendar.Options{EveryDay: true, Hours: calendar.Hours{Start: "00:00", End: "23:59"}})
	if err != nil {
		t.Fatalf("New: %v", err)
	}
	sat := time.Date(2026, 11, 28, 22, 0, 0, 0, c.Location())
	if !c.InWorkingHours(sat) {
		t.Errorf("Saturday 22:00 is not working time with EveryDay and 24-hour days")
	}
	if got, want := c.AddWorkingDays(sat, 1), time.Date(2026, 11, 29, 23, 59, 0, 0, c.Location()); !got.Equal(want) {
		t.Errorf("AddWorkingDays(Sat, 1) = %s, want %s", got, want)
	}
}
