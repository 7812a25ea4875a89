package intake

import (
	"huimin/chat"
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
func (bureauDays) Office(string) (chat.Office, bool) { return chat.Office{}, false }

// offices is a bureau that knows only offices.
type offices map[string]chat.Office

func (offices) IsWorkday(time.Time) bool                       { return true }
func (offices) Deadline(_, _ string, from time.Time) time.Time { return from.AddDate(0, 0, 7) }
func (o offices) Office(line string) (chat.Office, bool)       { v, ok := o[line]; return v, ok }

// TestAnswersNameTheirOffice checks 一次性告知: an answer that sends the
// citizen somewhere names the office and how to reach it, with only what
// the configuration gives.
func TestAnswersNameTheirOffice(t *testing.T) {
	tests := []struct {
		name      string
		office    chat.Office
		want, not []string
	}{
		{"full contact", chat.Office{Name: "社会救助科", Address: "人民路1号", Hours: "工作日8:30-17:30", Phone: "0000-0000000"},
			[]string{"办理部门：社会救助科", "地址：人民路1号", "办公时间：工作日8:30-17:30", "电话：0000-0000000"}, nil},
		{"only a phone", chat.Office{Name: "社会救助科", Phone: "0000-0000000"},
			[]string{"办理部门：社会救助科", "电话：0000-0000000"}, []string{"地址：", "办公时间："}},
		{"nothing configured", chat.Office{Name: "社会救助科"},
			[]string{"办理部门：社会救助科"}, []string{"地址：", "办公时间：", "电话："}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := defaultSet(t).WithBureau(offices{"relief": tt.office}, nil)
			got := said(s.Idle(text("低保怎么申请")))
			for _, w := range tt.want {
				if !strings.Contains(got, w) {
					t.Errorf("answer %q lacks %q", got, w)
				}
			}
			for _, n := range tt.not {
				if strings.Contains(got, n) {
					t.Errorf("answer %q has %q although nothing was configured", got, n)
				}
			}
		})
	}
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
	s := defaultSet(t).WithBureau(bureauDays{cal}, func() time.Time { return friday })
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
