package web

import (
	"bufio"
	"encoding/csv"
	"fmt"
	"net/http"
	"time"

	"huimin/desk"
)

// exportColumns are the CSV's header, by text key.
var exportColumns = []string{"csv_id", "csv_window", "csv_line", "csv_inquiry", "csv_received", "csv_deadline", "csv_resolved",
	"csv_on_time", "csv_owner", "csv_first", "csv_level", "csv_comment", "csv_rectification"}

// maxExportDays bounds one export's period.
const maxExportDays = 366

// exportCSV serves GET /desk/export.csv?from=2026-11-01&to=2026-11-30: one
// row per ticket received in those days (both included) in the chief's
// departments, UTF-8 with a BOM so that Excel opens it, streamed as it is
// read. A period upside down, malformed or longer than a year is refused
// before anything is sent.
func (p *Pages) exportCSV(w http.ResponseWriter, r *http.Request, s session) error {
	loc := p.opts.Location
	from, errFrom := time.ParseInLocation(time.DateOnly, r.URL.Query().Get("from"), loc)
	to, errTo := time.ParseInLocation(time.DateOnly, r.URL.Query().Get("to"), loc)
	if errFrom != nil || errTo != nil || to.Before(from) || to.Sub(from) > maxExportDays*24*time.Hour {
		return p.message(w, http.StatusBadRequest, "desk_bad_period_title", p.texts["desk_bad_period"], "/desk")
	}
	end := to.AddDate(0, 0, 1)
	h := w.Header()
	h.Set("Content-Type", "text/csv; charset=utf-8")
	h.Set("Content-Disposition", fmt.Sprintf(`attachment; filename="tickets-%s-%s.csv"`, from.Format("20060102"), to.Format("20060102")))
	bw := bufio.NewWriterSize(w, 32<<10)
	_, _ = bw.WriteString("\uFEFF") // the BOM: Excel reads the file as UTF-8
	cw := csv.NewWriter(bw)
	header := make([]string, len(exportColumns))
	for i, k := range exportColumns {
		header[i] = p.texts[k]
	}
	_ = cw.Write(header) // a write error shows at Flush
	when := func(t time.Time) string {
		if t.IsZero() {
			return ""
		}
		return t.In(loc).Format("2006-01-02 15:04")
	}
	rows := 0
	err := p.opts.Supervisor.Export(r.Context(), s.officer, from, end, func(row desk.ExportRow) error {
		onTime := ""
		if row.OnTime != nil {
			onTime = p.texts["csv_no"]
			if *row.OnTime {
				onTime = p.texts["csv_yes"]
			}
		}
		level := ""
		if row.Level > 0 {
			level = p.levelName(row.Level)
		}
		rect := ""
		if row.Rectification != "" {
			rect = p.texts["csv_rectify_"+row.Rectification]
		}
		rows++
		return cw.Write([]string{row.ID, row.Window, row.Line, row.Inquiry, when(row.Received), when(row.Deadline), when(row.Resolved),
			onTime, row.Owner, row.FirstResponsible, level, csvSafe(row.Comment), rect})
	})
	cw.Flush()
	if ferr := bw.Flush(); err == nil {
		err = ferr
	}
	if err != nil {
		// The header went out: the download ends short, and the log says why.
		p.opts.Log.ErrorContext(r.Context(), "export cut short", "officer_id", s.officer.ID, "rows", rows, "err", err)
		return nil
	}
	p.opts.Log.InfoContext(r.Context(), "tickets exported", "officer_id", s.officer.ID, "rows", rows,
		"from", from.Format(time.DateOnly), "to", to.Format(time.DateOnly))
	return nil
}

// csvSafe keeps a citizen's words from being run as a formula when the
// file is opened in a spreadsheet (CSV injection): a cell that starts
// with = + - @ gets a leading apostrophe.
func csvSafe(s string) string {
	if s != "" && (s[0] == '=' || s[0] == '+' || s[0] == '-' || s[0] == '@' || s[0] == '\t' || s[0] == '\r') {
		return "'" + s
	}
	return s
}
