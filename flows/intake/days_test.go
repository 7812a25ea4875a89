package intake

import (
	"strings"
	"testing"
	"time"

	"huimin/desk/calendar"
)

// shanghai is the bureau's time zone in these tests.
func shanghai(t *testing.T) *time.Location {
	t.Helper()
	loc, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	return loc
}

// bureauDays is a Set on the built-in 2026 calendar whose matters are due
// within the given working days, asked at now.
func bureauDays(t *testing.T, days int, now time.Time) *Set {
	t.Helper()
	cal, err := calendar.New(calendar.Options{Location: shanghai(t)})
	if err != nil {
		t.Fatal(err)
	}
	return defaultSet(t).WithOptions(Options{
		Now:      func() time.Time { return now },
		Location: shanghai(t),
		Calendar: cal,
		Deadline: func(_, _ string, from time.Time) time.Time { return cal.AddWorkingDays(from, days) },
	})
}

// atDate starts the marriage appointment and returns the date question.
func atDate(t *testing.T, s *Set) Result {
	t.Helper()
	r, err := s.Start("marriage")
	if err != nil {
		t.Fatal(err)
	}
	r = direct(t, s, r)
	r = s.Step(r.State, Input{Text: "1"}) // 预约结婚登记
	if r.State.Step != "date" {
		t.Fatalf("after 预约结婚登记 at step %q, want date", r.State.Step)
	}
	return r
}

// TestAppointmentDates checks the marriage line's appointment date (defect
// 5) on the 2026 calendar, asked on Friday 18 September: a weekend day, a
// holiday, a past day and a day after the matter's deadline (three working
// days: Sun 20 Sep is a make-up working day, so Tue 22 Sep) are asked again
// saying why and offering working days; the make-up Sunday and the
// deadline's day are taken.
func TestAppointmentDates(t *testing.T) {
	friday := time.Date(2026, 9, 18, 10, 0, 0, 0, shanghai(t))
	s := bureauDays(t, 3, friday)
	q := atDate(t, s)
	if got := said(q); !strings.Contains(got, "比如：2026年9月20日。") || strings.Contains(got, "明天") {
		t.Errorf("question = %q, want the make-up Sunday as the example and no 明天 (a Saturday)", got)
	}
	const offer = "2026年9月20日、2026年9月21日"
	tests := []struct {
		name, date string
		want       []string
	}{
		{"a Saturday", "2026年9月19日", []string{"2026年9月19日不是工作日", offer}},
		{"tomorrow, a Saturday", "明天", []string{"2026年9月19日不是工作日", offer}},
		{"the Mid-Autumn holiday", "9月26日", []string{"2026年9月26日不是工作日", offer}},
		{"National Day", "2026年10月2日", []string{"2026年10月2日不是工作日", offer}},
		{"the past", "2026年9月1日", []string{"已经过去", offer}},
		{"after the deadline", "2026年9月23日", []string{"晚于本事项的办结时限（2026年9月22日）", offer}},
		{"not a date", "2026年2月30日", []string{"没看懂这个日期，请按这样发：2026年9月20日。"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := s.Step(q.State, Input{Text: tt.date, At: friday})
			if got.State.Step != "date" {
				t.Fatalf("%s taken: at step %q, want the date asked again", tt.date, got.State.Step)
			}
			for _, w := range tt.want {
				if !strings.Contains(said(got), w) {
					t.Errorf("%s: said %q, want %q", tt.date, said(got), w)
				}
			}
		})
	}
	for _, ok := range []struct{ text, saved string }{
		{"2026年9月20日", "2026-09-20"}, {"后天", "2026-09-20"}, {"9月22日", "2026-09-22"},
	} {
		got := s.Step(q.State, Input{Text: ok.text, At: friday})
		if got.State.Step == "date" || got.State.Data["date"] != ok.saved {
			t.Errorf("%s: step %q date %q said %q, want %s taken", ok.text, got.State.Step, got.State.Data["date"], said(got), ok.saved)
		}
	}
}

// TestAppointmentExamples checks that the example in the question is the
// next working day on the calendar, from the day it is asked, skipping the
// 25th–27th September and 1–7 October holidays and taking the make-up
// working days (Sun 20 Sep, Sat 10 Oct).
func TestAppointmentExamples(t *testing.T) {
	tests := []struct {
		asked time.Time
		want  string
	}{
		{time.Date(2026, 9, 18, 10, 0, 0, 0, shanghai(t)), "2026年9月20日"},
		{time.Date(2026, 9, 24, 10, 0, 0, 0, shanghai(t)), "2026年9月28日"},
		{time.Date(2026, 9, 30, 16, 0, 0, 0, shanghai(t)), "2026年10月8日"},
		{time.Date(2026, 10, 9, 9, 0, 0, 0, shanghai(t)), "2026年10月10日"},
	}
	for _, tt := range tests {
		t.Run(tt.asked.Format(time.DateOnly), func(t *testing.T) {
			if got := said(atDate(t, bureauDays(t, 15, tt.asked))); !strings.Contains(got, "比如："+tt.want+"。") {
				t.Errorf("asked on %s: %q, want the example %s", tt.asked.Format(time.DateOnly), got, tt.want)
			}
		})
	}
}

// TestAppointmentExamplesEndAtTheDeadline checks that no example offered is
// a day the step would refuse as too late.
func TestAppointmentExamplesEndAtTheDeadline(t *testing.T) {
	friday := time.Date(2026, 9, 18, 10, 0, 0, 0, shanghai(t))
	s := bureauDays(t, 1, friday) // due Sunday 20 September, a make-up working day
	got := said(s.Step(atDate(t, s).State, Input{Text: "2026年9月19日", At: friday}))
	if !strings.Contains(got, "比如：2026年9月20日。") || strings.Contains(got, "9月21日") {
		t.Errorf("said %q, want only 2026年9月20日 offered", got)
	}
}

// TestAppointmentDayInTheBureausZone checks that "today" is the bureau's:
// 17:00 UTC on Friday 18 September is already Saturday in Beijing, so 明天
// is the make-up Sunday, a working day.
func TestAppointmentDayInTheBureausZone(t *testing.T) {
	at := time.Date(2026, 9, 18, 17, 0, 0, 0, time.UTC)
	s := bureauDays(t, 3, at)
	got := s.Step(atDate(t, s).State, Input{Text: "明天", At: at})
	if got.State.Data["date"] != "2026-09-20" {
		t.Errorf("明天 at %s saved %q (said %q), want 2026-09-20", at, got.State.Data["date"], said(got))
	}
}

// TestAppointmentWithoutCalendar checks the zero Options: Monday to Friday
// are the working days, so a Saturday is refused even before the bureau's
// calendar is wired.
func TestAppointmentWithoutCalendar(t *testing.T) {
	s := defaultSet(t).WithOptions(Options{Now: func() time.Time { return arrival }})
	got := s.Step(atDate(t, s).State, text("2026年11月28日"))
	if got.State.Step != "date" || !strings.Contains(said(got), "不是工作日") || !strings.Contains(said(got), "2026年11月3日") {
		t.Errorf("Saturday 28 Nov: step %q said %q, want it refused with Tue 3 Nov offered", got.State.Step, said(got))
	}
}
