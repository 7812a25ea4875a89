package desk

import (
	"testing"
)

func TestWindowOf(t *testing.T) {
	d := testDirectory
	d.Windows = []Window{
		{ID: "w-chengguan", Name: "城关街道民政办", Departments: []string{"relief", "community"}, Towns: []string{"城关街道", "城关"}},
		{ID: "w-chengguan-town", Name: "城关镇民政办", Departments: []string{"relief"}, Towns: []string{"城关镇"}},
		{ID: "w-veterans", Name: "退役军人服务站", Departments: []string{"veterans"}},
	}
	dir, err := newDirectory(d)
	if err != nil {
		t.Fatal(err)
	}
	for _, c := range []struct{ dept, town, want string }{
		{"relief", "城关街道", "w-chengguan"},
		{"relief", " 我住城关街道幸福小区 ", "w-chengguan"},
		{"relief", "城关镇", "w-chengguan-town"}, // the longer town wins over 城关
		{"community", "城关镇", "w-chengguan"},   // 城关镇's window does not take community matters
		{"relief", "东湖街道", "relief"},          // no window of its town: the department's own
		{"relief", "", "relief"},
		{"veterans", "城关街道", "w-veterans"}, // a window without towns takes its departments' matters
		{"orphans", "城关街道", "orphans"},
	} {
		if got := dir.windowOf(c.dept, c.town); got != c.want {
			t.Errorf("windowOf(%s, %q) = %s, want %s", c.dept, c.town, got, c.want)
		}
	}
	// Every department is a window; the configured ones come first.
	if len(dir.windows) != 3+4 || dir.windows[0].ID != "w-chengguan" || dir.windows[3].ID != "relief" {
		t.Errorf("windows = %+v", dir.windows)
	}
}

func TestWindowConfigurationRefused(t *testing.T) {
	for name, w := range map[string]Window{
		"department's id": {ID: "relief", Name: "x"},
		"unknown dept":    {ID: "w", Name: "x", Departments: []string{"nope"}},
	} {
		d := testDirectory
		d.Windows = []Window{w}
		if _, err := newDirectory(d); err == nil {
			t.Errorf("%s: accepted", name)
		}
	}
}

// TestOpenCountsUnderWindow: a ticket counts under the street window its
// town answer names, under the window whose QR code the citizen scanned,
// else under its department.
func TestOpenCountsUnderWindow(t *testing.T) {
	eachStore(t, func(t *testing.T, mk storeMaker) {
		r := newDesk(t, mk, at("2026-11-24 10:00"))
		for _, c := range []struct {
			town, scanned, want string
		}{
			{"城关街道", "", "w-chengguan"},
			{"东湖街道", "", "relief"},
			{"东湖街道", "w-chengguan", "w-chengguan"},
			{"城关街道", "no-such-window", "w-chengguan"},
		} {
			tk, err := r.desk.Open(t.Context(), OpenRequest{Citizen: "oCitizen", Line: "relief", Inquiry: "help", Summary: "想申请临时救助",
				Fields: map[string]string{FieldTown: c.town}, Window: c.scanned})
			if err != nil {
				t.Fatal(err)
			}
			stored, err := r.st.GetTicket(t.Context(), tk.ID)
			if err != nil {
				t.Fatal(err)
			}
			if tk.Window != c.want || stored.Window != c.want {
				t.Errorf("town %s scanned %q: window %s (stored %s), want %s", c.town, c.scanned, tk.Window, stored.Window, c.want)
			}
		}
	})
}
