package intake

import (
	"strings"
	"testing"
	"time"

	"huimin/desk/calendar"
)

// bureauDays is the 2026 calendar with a three-working-day deadline, as the
// desk gives them.
type bureauDays struct{ cal *calendar.Calendar }

func (b bureauDays) IsWorkday(t time.Time) bool { return b.cal.IsWorkday(t) }
func (b bureauDays) Deadline(_, _ string, from time.Time) time.Time {
	return b.cal.AddWorkingDays(from, 3)
}

// TestAppointmentDatesAreWorkingDaysBeforeTheDeadline checks the marriage
// line's appointment date (defect 5): a day off or a day after the matter's
// deadline is asked again with working days to choose, and the example in
// the question is computed from today.
func TestAppointmentDatesAreWorkingDaysBeforeTheDeadline(t *testing.T) {
	shanghai, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		t.Fatal(err)
	}
	cal, err := calendar.New(calendar.Options{Location: shanghai})
	if err != nil {
		t.Fatal(err)
	}
	friday := time.Date(2026, 9, 18, 10, 0, 0, 0, shanghai) // before 中秋 (25–27 Sep) and 国庆 (1–7 Oct)
	s := defaultSet(t).WithDays(bureauDays{cal}, func() time.Time { return friday })
	at := func(text string) Input { return Input{Text: text, At: friday} }

	r, err := s.Start("marriage")
	if err != nil {
		t.Fatal(err)
	}
	r = s.Step(r.State, at("1")) // 预约结婚登记
	// Saturday the 19th is off; Sunday the 20th is a make-up working day.
	if q := said(r); !strings.Contains(q, "2026年9月20日") || strings.Contains(q, "2026年11月28日") {
		t.Errorf("question = %q, want the next working day (Sun 20 Sep, a make-up day) as the example", q)
	}
	tests := []struct {
		name, date, want string
	}{
		{"a Saturday", "2026年9月19日", "不是工作日"},
		{"a holiday", "2026年10月2日", "不是工作日"},
		{"the past", "2026年9月1日", "已经过去"},
		{"after the deadline", "2026年9月23日", "晚于本事项的办结时限"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := s.Step(r.State, at(tt.date))
			if got.State.Step != "date" || !strings.Contains(said(got), tt.want) {
				t.Errorf("%s: step %q said %q, want it asked again with %q", tt.date, got.State.Step, said(got), tt.want)
			}
			if tt.want != "已经过去" && !strings.Contains(said(got), "2026年9月20日") {
				t.Errorf("%s: %q offers no working day", tt.date, said(got))
			}
		})
	}
	// The make-up Sunday is accepted, and so is the deadline's own day.
	for _, ok := range []string{"2026年9月20日", "2026年9月22日"} {
		if got := s.Step(r.State, at(ok)); got.State.Step == "date" {
			t.Errorf("%s refused: %q", ok, said(got))
		}
	}
}
