package web

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"

	"huimin/desk"
	"huimin/results"
)

// ResultsSource is the published results (*results.Publisher): computed on
// a schedule, read here without touching the store.
type ResultsSource interface {
	Current(ctx context.Context) (*results.Published, error)
}

// resultsPage is what results.html renders. It holds no personal data:
// windows, officers' names where the bureau publishes them, and counts.
type resultsPage struct {
	Month      string
	Months     []monthLink
	Updated    string
	MinAnswers int
	Response   bool
	Windows    []windowView
	// Levels are the five levels' names, in order.
	Levels []string
}

type monthLink struct {
	Month, Label string
	Current      bool
}

type windowView struct {
	Name string
	results.Figures
	Counts                                         []int // the ratings per level, in Levels' order
	Satisfaction, Response, Resolution, Timeliness rate
	Chart                                          chart
	Officers                                       []officerView
}

type officerView struct {
	Name         string
	Rated        int
	Satisfaction rate
}

// rate is a published rate: its text, or why there is none.
type rate struct {
	Text string
	// Few is set when the sample is below results.min_answers (样本不足);
	// None when nothing counts at all.
	Few, None bool
}

// chart is a window's satisfaction by month as an SVG bar chart, drawn
// here so that the page needs no script.
type chart struct {
	// Axis is where the value axis stands, TickX where its labels end.
	Width, Height, Base, Axis, TickX int
	Bars                             []bar
	Label                            string
}

type bar struct {
	X, Y, W, H   int
	LabelX       int
	Month, Title string
	Few          bool
}

// Chart geometry, in SVG user units: a bar per month, 100% is barMax tall.
const (
	chartLeft = 42
	barStep   = 28
	barWidth  = 18
	barMax    = 100
	chartTop  = 10
)

// results serves GET /results: the published satisfaction results per
// window for one month (?month=2006-01, default the current one), with each
// window's last months as a chart. Public: no personal data at all.
func (p *Pages) results(w http.ResponseWriter, r *http.Request) error {
	pub, month, ok, err := p.publishedMonth(r)
	if err != nil {
		return err
	}
	if !ok {
		return p.resultsBadMonth(w, pub)
	}
	w.Header().Set("Cache-Control", "public, max-age=300")
	return p.render(w, http.StatusOK, "results", "results_title", p.resultsView(pub, month))
}

// resultsBadMonth answers a month that is not published with the page's
// list of months to choose from.
func (p *Pages) resultsBadMonth(w http.ResponseWriter, pub *results.Published) error {
	view := p.resultsView(pub, "")
	view.Windows = nil
	return p.render(w, http.StatusBadRequest, "results", "results_bad_month_title", view)
}

// publishedMonth reads the published results and the month asked for; ok
// is false for a month that is malformed or not published.
func (p *Pages) publishedMonth(r *http.Request) (*results.Published, string, bool, error) {
	pub, err := p.opts.Results.Current(r.Context())
	if err != nil {
		return nil, "", false, fmt.Errorf("published results: %w", err)
	}
	month := r.URL.Query().Get("month")
	if month == "" {
		return pub, pub.Months[len(pub.Months)-1], true, nil
	}
	return pub, month, pub.HasMonth(month), nil
}

func (p *Pages) resultsView(pub *results.Published, month string) resultsPage {
	view := resultsPage{Month: month, MinAnswers: pub.MinAnswers, Response: pub.Response, Updated: pub.At.In(p.opts.Location).Format(p.texts["results_time_layout"])}
	if month != "" {
		view.Month = p.monthLabel(month)
	}
	for l := desk.LevelVerySatisfied; l <= desk.LevelVeryDissatisfied; l++ {
		view.Levels = append(view.Levels, p.levelName(l))
	}
	for _, m := range pub.Months {
		view.Months = append(view.Months, monthLink{Month: m, Label: p.monthLabel(m), Current: m == month})
	}
	for _, wr := range pub.Windows {
		f := wr.ByMonth[month]
		wv := windowView{
			Name: wr.Name, Figures: f, Counts: f.Levels[1:],
			Satisfaction: p.rate(pub, f.Rated, f.Satisfaction),
			Response:     p.rate(pub, f.RespondBase, f.Response),
			Resolution:   p.rate(pub, f.ResolveBase, f.Resolution),
			Timeliness:   p.rate(pub, f.DueBase, f.Timeliness),
			Chart:        p.chart(pub, wr),
		}
		for _, o := range wr.Officers {
			of := o.ByMonth[month]
			if of.Rated == 0 && of.Received == 0 {
				continue
			}
			wv.Officers = append(wv.Officers, officerView{Name: o.Name, Rated: of.Rated, Satisfaction: p.rate(pub, of.Rated, of.Satisfaction)})
		}
		view.Windows = append(view.Windows, wv)
	}
	return view
}

// rate formats a rate over base counts: a percentage with one decimal,
// 样本不足 below the published minimum, — with nothing to count.
func (p *Pages) rate(pub *results.Published, base int, of func() (float64, bool)) rate {
	v, ok := of()
	switch {
	case !ok:
		return rate{Text: p.texts["results_none"], None: true}
	case !pub.Shown(base):
		return rate{Text: p.texts["results_few"], Few: true}
	}
	return rate{Text: percent(v)}
}

func percent(v float64) string { return strconv.FormatFloat(v*100, 'f', 1, 64) + "%" }

// chart draws a window's satisfaction per published month.
func (p *Pages) chart(pub *results.Published, wr results.WindowResults) chart {
	c := chart{Width: chartLeft + barStep*len(pub.Months) + 4, Height: chartTop + barMax + 28, Base: chartTop + barMax,
		Axis: chartLeft - 4, TickX: chartLeft - 6}
	c.Label = fmt.Sprintf(p.texts["results_chart_label"], wr.Name)
	for i, m := range pub.Months {
		f := wr.ByMonth[m]
		x := chartLeft + barStep*i + (barStep-barWidth)/2
		b := bar{X: x, W: barWidth, LabelX: x + barWidth/2, Month: p.shortMonth(m)}
		v, ok := f.Satisfaction()
		switch {
		case ok && pub.Shown(f.Rated):
			b.H = int(v*barMax + 0.5)
			b.Title = fmt.Sprintf(p.texts["results_bar_title"], p.monthLabel(m), percent(v), f.Rated)
		default:
			b.Few = true
			b.H = 2
			b.Title = fmt.Sprintf(p.texts["results_bar_few"], p.monthLabel(m), f.Rated)
		}
		b.Y = c.Base - b.H
		c.Bars = append(c.Bars, b)
	}
	return c
}

func (p *Pages) monthLabel(month string) string {
	t, err := time.Parse("2006-01", month)
	if err != nil {
		return month
	}
	return t.Format(p.texts["results_month_layout"])
}

func (p *Pages) shortMonth(month string) string {
	t, err := time.Parse("2006-01", month)
	if err != nil {
		return month
	}
	return t.Format(p.texts["results_short_month_layout"])
}

// LevelNamer names the satisfaction levels (*desk.Desk), 1 非常满意 …
// 5 非常不满意.
type LevelNamer interface {
	LevelName(level int) string
}

func (p *Pages) levelName(l int) string { return p.opts.Levels.LevelName(l) }

// The JSON of /results.json: what the page shows, for the bureau's
// website and anyone who wants the figures. Rates below the published
// minimum are null with "few": true.
type (
	resultsJSON struct {
		Month      string       `json:"month"`
		Months     []string     `json:"months"`
		UpdatedAt  time.Time    `json:"updated_at"`
		MinAnswers int          `json:"min_answers"`
		Windows    []windowJSON `json:"windows"`
		Levels     []levelJSON  `json:"levels"`
	}
	levelJSON struct {
		Level int    `json:"level"`
		Name  string `json:"name"`
	}
	windowJSON struct {
		ID   string `json:"id"`
		Name string `json:"name"`
		results.Figures
		// Ratings counts per level, 1 非常满意 … 5 非常不满意.
		Ratings      [5]int        `json:"ratings"`
		Satisfaction *float64      `json:"satisfaction_rate"`
		Response     *float64      `json:"response_rate"`
		Resolution   *float64      `json:"resolution_rate"`
		Timeliness   *float64      `json:"on_time_rate"`
		History      []monthJSON   `json:"history"`
		Officers     []officerJSON `json:"officers,omitempty"`
	}
	monthJSON struct {
		Month        string   `json:"month"`
		Rated        int      `json:"rated"`
		Satisfaction *float64 `json:"satisfaction_rate"`
	}
	officerJSON struct {
		Name         string   `json:"name"`
		Rated        int      `json:"rated"`
		Satisfaction *float64 `json:"satisfaction_rate"`
	}
)

// resultsJSON serves GET /results.json (?month= as the page).
func (p *Pages) resultsJSON(w http.ResponseWriter, r *http.Request) error {
	pub, month, ok, err := p.publishedMonth(r)
	if err != nil {
		return err
	}
	if !ok {
		w.Header().Set("Content-Type", "application/json; charset=utf-8")
		w.WriteHeader(http.StatusBadRequest)
		return json.NewEncoder(w).Encode(map[string]any{"error": p.texts["results_bad_month_title"], "months": pub.Months})
	}
	out := resultsJSON{Month: month, Months: pub.Months, UpdatedAt: pub.At, MinAnswers: pub.MinAnswers, Windows: []windowJSON{}}
	for l := desk.LevelVerySatisfied; l <= desk.LevelVeryDissatisfied; l++ {
		out.Levels = append(out.Levels, levelJSON{Level: l, Name: p.levelName(l)})
	}
	shown := func(base int, of func() (float64, bool)) *float64 {
		v, ok := of()
		if !ok || !pub.Shown(base) {
			return nil
		}
		v = float64(int(v*10000+0.5)) / 10000
		return &v
	}
	for _, wr := range pub.Windows {
		f := wr.ByMonth[month]
		wj := windowJSON{ID: wr.ID, Name: wr.Name, Figures: f,
			Satisfaction: shown(f.Rated, f.Satisfaction), Response: shown(f.RespondBase, f.Response),
			Resolution: shown(f.ResolveBase, f.Resolution), Timeliness: shown(f.DueBase, f.Timeliness)}
		copy(wj.Ratings[:], f.Levels[1:])
		for _, m := range pub.Months {
			mf := wr.ByMonth[m]
			wj.History = append(wj.History, monthJSON{Month: m, Rated: mf.Rated, Satisfaction: shown(mf.Rated, mf.Satisfaction)})
		}
		for _, o := range wr.Officers {
			of := o.ByMonth[month]
			if of.Rated == 0 && of.Received == 0 {
				continue
			}
			wj.Officers = append(wj.Officers, officerJSON{Name: o.Name, Rated: of.Rated, Satisfaction: shown(of.Rated, of.Satisfaction)})
		}
		out.Windows = append(out.Windows, wj)
	}
	w.Header().Set("Content-Type", "application/json; charset=utf-8")
	w.Header().Set("Cache-Control", "public, max-age=300")
	w.Header().Set("Access-Control-Allow-Origin", "*") // public figures, for the bureau's website
	return json.NewEncoder(w).Encode(out)
}
