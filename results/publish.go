package results

import (
	"context"
	"fmt"
	"log/slog"
	"slices"
	"sync/atomic"
	"time"

	"huimin/store"
)

// Window names a service window for the published results.
type Window struct {
	ID, Name string
}

// PublishOptions are what the public results show.
type PublishOptions struct {
	// Windows are listed in this order; a ticket counted under a window
	// not listed (removed from the configuration) is left out.
	Windows []Window
	// Months is how many months are published, the current one included.
	Months int
	// MinAnswers is how many a rate needs to be shown (样本不足 below).
	MinAnswers int
	// Officers names the officers (results.show_officers); nil counts
	// them under their window without naming them.
	Officers func(id string) (name string, ok bool)
	// Counter carries the bureau's rules (time zone, response limit);
	// its By and Keep are set per table.
	Counter Counter
	// Now is the clock (default time.Now).
	Now func() time.Time
	Log *slog.Logger
}

// Published is one computation of the public results: safe to share, never
// changed once made.
type Published struct {
	At time.Time
	// Months are the published months, oldest first ("2006-01").
	Months     []string
	MinAnswers int
	// Response is set when the bureau has a response limit, so that the
	// 响应率 is counted.
	Response bool
	Windows  []WindowResults
}

// WindowResults are one window's figures per month.
type WindowResults struct {
	Window
	ByMonth map[string]Figures
	// Officers are named only where the bureau publishes officers' names.
	Officers []OfficerResults
}

// OfficerResults are one named officer's figures within a window.
type OfficerResults struct {
	Name    string
	ByMonth map[string]Figures
}

// Shown reports whether a rate over base counts is published: with fewer
// than MinAnswers it reads 样本不足.
func (p *Published) Shown(base int) bool { return base >= p.MinAnswers }

// HasMonth reports whether month is published.
func (p *Published) HasMonth(month string) bool { return slices.Contains(p.Months, month) }

// Publisher keeps the published results, computed again on each Refresh
// (on a cron schedule): the public page reads the last computation and
// never the store.
type Publisher struct {
	src  Source
	opts PublishOptions
	cur  atomic.Pointer[Published]
}

// NewPublisher returns a publisher with nothing computed yet.
func NewPublisher(src Source, opts PublishOptions) *Publisher {
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.Months < 1 {
		opts.Months = 12
	}
	if opts.Counter.Location == nil {
		opts.Counter.Location = time.Local
	}
	return &Publisher{src: src, opts: opts}
}

// Current returns the last computation, or computes one if there is none
// yet.
func (p *Publisher) Current(ctx context.Context) (*Published, error) {
	if cur := p.cur.Load(); cur != nil {
		return cur, nil
	}
	return p.Refresh(ctx)
}

// Refresh computes the results again and publishes them.
func (p *Publisher) Refresh(ctx context.Context) (*Published, error) {
	start := p.opts.Now()
	months, from, to := Months(start, p.opts.Counter.Location, p.opts.Months)
	c := p.opts.Counter
	c.Now, c.By, c.Keep = start, ByWindow, nil
	counters := []Counter{c}
	if p.opts.Officers != nil {
		for _, w := range p.opts.Windows {
			oc := c
			oc.By = ByOfficer
			oc.Keep = func(f store.Facts) bool { return WindowOf(f) == w.ID }
			counters = append(counters, oc)
		}
	}
	tables, err := Count(ctx, p.src, from, to, counters...)
	if err != nil {
		return nil, fmt.Errorf("publish results: %w", err)
	}
	pub := &Published{At: start, Months: months, MinAnswers: p.opts.MinAnswers, Response: c.RespondBy != nil}
	for i, w := range p.opts.Windows {
		wr := WindowResults{Window: w, ByMonth: byMonth(tables[0], w.ID)}
		if p.opts.Officers != nil {
			officers := tables[1+i].Rows()
			ids := make([]string, 0, len(officers))
			for id := range officers {
				ids = append(ids, id)
			}
			slices.Sort(ids)
			for _, id := range ids {
				name, ok := p.opts.Officers(id)
				if !ok {
					continue // not assigned yet, or no longer on the staff list
				}
				wr.Officers = append(wr.Officers, OfficerResults{Name: name, ByMonth: byMonth(tables[1+i], id)})
			}
		}
		pub.Windows = append(pub.Windows, wr)
	}
	p.cur.Store(pub)
	p.opts.Log.InfoContext(ctx, "results published", "windows", len(pub.Windows), "months", len(months),
		"took_ms", p.opts.Now().Sub(start).Milliseconds())
	return pub, nil
}

// byMonth is one row's figures per month.
func byMonth(t Table, row string) map[string]Figures {
	out := map[string]Figures{}
	for c, f := range t {
		if c.Row == row {
			out[c.Month] = *f
		}
	}
	return out
}

// WindowOf is the window a ticket counts under (ByWindow's row): its
// window, or its department's for a ticket from before windows.
func WindowOf(f store.Facts) string {
	return Counter{By: ByWindow}.row(f, "")
}
