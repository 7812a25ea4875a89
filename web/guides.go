package web

import (
	"context"
	"fmt"
	"net/http"
)

// Guide is one service guide (办事指南) as the page shows it: the matter,
// who may apply, the materials, the legal basis, the time limit the
// bureau configured, a fee only where a national rule sets one, and the
// office that answers for it. Empty fields are unknown and are not shown.
type Guide struct {
	ID, Title string
	// Line is the title of its service line.
	Line             string
	Who              string
	Materials, Basis []string
	Fee              string
	// LimitDays or LimitHours is the time limit (限时办结) in working days
	// or working hours; both zero when none is configured.
	LimitDays, LimitHours int
	// Office is who answers for it, with its contact as configured; nil
	// when no office is configured for it.
	Office *Office
}

// LineLimit is a service line's time limits by inquiry type, as the bureau
// configured them (desk.deadlines).
type LineLimit struct {
	// Line is the title of the service line.
	Line   string
	Limits []TypeLimit
}

// TypeLimit is the time limit of one inquiry type (consult, help,
// complaint, report, suggestion) in working days, or working hours.
type TypeLimit struct {
	Type        string
	Days, Hours int
}

// GuideLister feeds /guide: the guides in the order the bureau keeps them,
// and each service line's time limits.
type GuideLister interface {
	Guides(ctx context.Context) ([]Guide, error)
	Limits(ctx context.Context) ([]LineLimit, error)
}

// limitGroup is the inquiry types of a line that share one limit, shown
// on one row (咨询、求助：3个工作日).
type limitGroup struct {
	Types       []string
	Days, Hours int
}

// lineLimits is a line's limits as guide.html shows them.
type lineLimits struct {
	Line   string
	Groups []limitGroup
}

// guidePage is what guide.html renders: the bureau's service commitments
// (服务承诺) with every line's limits and every guide, or one guide alone.
type guidePage struct {
	Single bool
	Limits []lineLimits
	Guides []Guide
}

// guides serves /guide: 首问负责制, 一次性告知, 限时办结 with each line's
// limits, and every service guide with its office's contact.
func (p *Pages) guides(w http.ResponseWriter, r *http.Request) error {
	gs, err := p.opts.Guides.Guides(r.Context())
	if err != nil {
		return fmt.Errorf("list guides: %w", err)
	}
	ls, err := p.opts.Guides.Limits(r.Context())
	if err != nil {
		return fmt.Errorf("list limits: %w", err)
	}
	page := guidePage{Guides: gs}
	for _, l := range ls {
		page.Limits = append(page.Limits, lineLimits{Line: l.Line, Groups: groupLimits(l.Limits)})
	}
	return p.render(w, http.StatusOK, "guide", "guide_title", page)
}

// guide serves /guide/{id}: one guide, or a 404 page saying it is not
// there.
func (p *Pages) guide(w http.ResponseWriter, r *http.Request) error {
	gs, err := p.opts.Guides.Guides(r.Context())
	if err != nil {
		return fmt.Errorf("list guides: %w", err)
	}
	for _, g := range gs {
		if g.ID == r.PathValue("id") {
			return p.render(w, http.StatusOK, "guide", "guide_one_title", guidePage{Single: true, Guides: []Guide{g}})
		}
	}
	return p.render(w, http.StatusNotFound, "guide_missing", "guide_missing_title", nil)
}

// groupLimits puts together the inquiry types that share a limit, in the
// order the first of each comes.
func groupLimits(ls []TypeLimit) []limitGroup {
	var out []limitGroup
	for _, l := range ls {
		found := false
		for i := range out {
			if out[i].Days == l.Days && out[i].Hours == l.Hours {
				out[i].Types = append(out[i].Types, l.Type)
				found = true
				break
			}
		}
		if !found {
			out = append(out, limitGroup{Types: []string{l.Type}, Days: l.Days, Hours: l.Hours})
		}
	}
	return out
}
