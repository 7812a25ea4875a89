package calendar_test

import (
	"errors"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"huimin/desk/calendar"
)

// writeFiles writes name → content into a fresh directory and returns it.
func writeFiles(t *testing.T, files map[string]string) string {
	t.Helper()
	dir := t.TempDir()
	for name, content := range files {
		if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
			t.Fatal(err)
		}
	}
	return dir
}

func TestLoadOverride(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		// Test data, not the real arrangement: 2026 reduced to one day off,
		// and a 2027 file, which the embedded data must never have.
		"2026.yaml": "source: test\nholidays:\n  - {date: 2026-03-02, name: 测试}\nworkdays: []\n",
		"2027.yaml": "holidays:\n  - {date: 2027-01-04, name: 测试}\nworkdays:\n  - {date: 2027-01-09, name: 测试}\n",
		"README.md": "not a year file",
	})
	c, err := calendar.Load(dir, calendar.Options{})
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	embedded := newCalendar(t)
	tests := []struct {
		name string
		c    *calendar.Calendar
		day  string
		want bool
	}{
		{"override: listed day off", c, "2026-03-02", false},
		{"override: Spring Festival no longer listed", c, "2026-02-16", true},
		{"override: 14 Feb no longer a make-up day", c, "2026-02-14", false},
		{"added 2027: day off", c, "2027-01-04", false},
		{"added 2027: make-up Saturday", c, "2027-01-09", true},
		{"added 2027: ordinary Friday", c, "2027-01-08", true},
		{"embedded unchanged: Spring Festival", embedded, "2026-02-16", false},
		{"embedded unchanged: 2 Mar", embedded, "2026-03-02", true},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			d := cst(t, tt.day+" 10:00")
			if got := tt.c.IsWorkday(d); got != tt.want {
				t.Errorf("IsWorkday(%s) = %v, want %v", show(d), got, tt.want)
			}
		})
	}
	if got, want := c.Years(), []int{2026, 2027}; !slices.Equal(got, want) {
		t.Errorf("Years() = %v, want %v", got, want)
	}
	if got := c.MissingYears(cst(t, "2026-01-01 00:00"), cst(t, "2027-12-31 00:00")); len(got) != 0 {
		t.Errorf("MissingYears(2026, 2027) = %v, want none", got)
	}
	// Mon 4 Jan 2027 is a day off in the test file.
	if got, want := c.AddWorkingDays(cst(t, "2027-01-01 10:00"), 2), cst(t, "2027-01-06 17:30"); !got.Equal(want) {
		t.Errorf("AddWorkingDays(Fri 2027-01-01, 2) = %s, want %s", show(got), show(want))
	}
}

func TestLoadEmptyDirectoryKeepsDefaults(t *testing.T) {
	for _, dir := range []string{"", t.TempDir()} {
		c, err := calendar.Load(dir, calendar.Options{})
		if err != nil {
			t.Fatalf("Load(%q): %v", dir, err)
		}
		if got := c.IsWorkday(cst(t, "2026-02-14 10:00")); !got {
			t.Errorf("Load(%q): IsWorkday(Sat 2026-02-14) = %v, want true", dir, got)
		}
	}
}

func TestLoadMissingDirectory(t *testing.T) {
	dir := filepath.Join(t.TempDir(), "absent")
	_, err := calendar.Load(dir, calendar.Options{})
	if !errors.Is(err, os.ErrNotExist) {
		t.Errorf("Load(%s) error = %v, want one wrapping os.ErrNotExist", dir, err)
	}
}

func TestLoadReportsFileAndLine(t *testing.T) {
	tests := []struct {
		name, file, content string
		wantLine            int
		wantReason          string
	}{
		{
			name: "syntax error", file: "2026.yaml",
			content:  "holidays: []\nworkdays: []\nsource 国务院\nnote: x\n",
			wantLine: 3, wantReason: "could not find expected ':'",
		},
		{
			name: "duplicate holiday", file: "2026.yaml",
			content:  "holidays:\n  - {date: 2026-01-01, name: 元旦}\n  - {date: 2026-01-01, name: 元旦}\nworkdays: []\n",
			wantLine: 3, wantReason: "holiday 2026-01-01 repeats line 2",
		},
		{
			name: "duplicate workday", file: "2026.yaml",
			content:  "holidays: []\nworkdays:\n  - {date: 2026-02-14}\n  - {date: 2026-02-14}\n",
			wantLine: 4, wantReason: "workday 2026-02-14 repeats line 3",
		},
		{
			name: "both holiday and workday", file: "2026.yaml",
			content:  "holidays:\n  - {date: 2026-02-14, name: 春节}\nworkdays:\n  - {date: 2026-02-14, name: 春节}\n",
			wantLine: 4, wantReason: "2026-02-14 is both a holiday (line 2) and a workday",
		},
		{
			name: "both, on a weekday", file: "2026.yaml",
			content:  "holidays:\n  - {date: 2026-01-01, name: 元旦}\nworkdays:\n  - {date: 2026-01-01}\n",
			wantLine: 4, wantReason: "2026-01-01 is both a holiday (line 2) and a workday",
		},
		{
			name: "date outside the file's year", file: "2026.yaml",
			content:  "holidays:\n  - {date: 2027-01-01, name: 元旦}\nworkdays: []\n",
			wantLine: 2, wantReason: "holiday 2027-01-01 is outside 2026",
		},
		{
			name: "impossible date", file: "2026.yaml",
			content:  "holidays:\n  - {date: 2026-02-30, name: 春节}\nworkdays: []\n",
			wantLine: 2, wantReason: `invalid date "2026-02-30"`,
		},
		{
			name: "date without zero padding", file: "2026.yaml",
			content:  "holidays: []\nworkdays:\n  - date: 2026-2-14\n",
			wantLine: 3, wantReason: `invalid date "2026-2-14"`,
		},
		{
			name: "holiday without a name", file: "2026.yaml",
			content:  "holidays:\n  - {date: 2026-01-01}\nworkdays: []\n",
			wantLine: 2, wantReason: "missing the festival name",
		},
		{
			name: "workday on a weekday", file: "2026.yaml",
			content:  "holidays: []\nworkdays:\n  - {date: 2026-02-13, name: 春节}\n",
			wantLine: 3, wantReason: "workday 2026-02-13 is a Friday",
		},
		{
			name: "unknown key", file: "2026.yaml",
			content:  "holidays: []\nworkday: []\n",
			wantLine: 2, wantReason: `unknown key "workday"`,
		},
		{
			name: "unknown entry key", file: "2026.yaml",
			content:  "holidays:\n  - {date: 2026-01-01, name: 元旦, off: true}\nworkdays: []\n",
			wantLine: 2, wantReason: `unknown key "off"`,
		},
		{
			name: "missing workdays", file: "2026.yaml",
			content:  "holidays: []\n",
			wantLine: 1, wantReason: `missing key "workdays"`,
		},
		{
			name: "holidays not a list", file: "2026.yaml",
			content:  "workdays: []\nholidays: 2026-01-01\n",
			wantLine: 2, wantReason: "want a list",
		},
		{
			name: "not a mapping", file: "2026.yaml",
			content:  "- 2026-01-01\n",
			wantLine: 1, wantReason: "want a mapping",
		},
		{
			name: "empty file", file: "2026.yaml",
			content:  "",
			wantLine: 1, wantReason: "empty",
		},
		{
			name: "file not named after a year", file: "holidays.yaml",
			content:  "holidays: []\nworkdays: []\n",
			wantLine: 0, wantReason: "file name must be the year",
		},
		{
			name: ".yml extension", file: "2027.yml",
			content:  "holidays: []\nworkdays: []\n",
			wantLine: 0, wantReason: "2027.yaml",
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := writeFiles(t, map[string]string{tt.file: tt.content})
			_, err := calendar.Load(dir, calendar.Options{})
			e, ok := errors.AsType[*calendar.DataError](err)
			if !ok {
				t.Fatalf("Load error = %v, want a *DataError", err)
			}
			if want := filepath.Join(dir, tt.file); e.File != want {
				t.Errorf("File = %q, want %q", e.File, want)
			}
			if e.Line != tt.wantLine {
				t.Errorf("Line = %d, want %d (%v)", e.Line, tt.wantLine, e)
			}
			if !strings.Contains(e.Reason, tt.wantReason) {
				t.Errorf("Reason = %q, want it to contain %q", e.Reason, tt.wantReason)
			}
			if !strings.Contains(err.Error(), tt.file) {
				t.Errorf("error %q does not name the file %s", err, tt.file)
			}
		})
	}
}

func TestLoadReportsEveryProblem(t *testing.T) {
	dir := writeFiles(t, map[string]string{
		"2026.yaml": "holidays:\n  - {date: 2026-01-01, name: 元旦}\n  - {date: 2025-12-31, name: 元旦}\n" +
			"workdays:\n  - {date: 2026-01-01}\n",
		"2027.yaml": "holidays: [\n",
	})
	_, err := calendar.Load(dir, calendar.Options{})
	if err == nil {
		t.Fatal("Load error = nil, want problems in both files")
	}
	for _, want := range []string{"2026.yaml:3:", "2026.yaml:5:", "2027.yaml:"} {
		if !strings.Contains(err.Error(), want) {
			t.Errorf("error %q does not contain %q", err, want)
		}
	}
}
