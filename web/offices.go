package web

import (
	"context"
	"fmt"
	"html/template"
	"net/http"
	"strings"
)

// Office is a place citizens can go to or call: a department of the bureau
// or an outside agency, what it handles, and its contact as the bureau
// configured it. Empty fields are unknown and are not shown.
type Office struct {
	Name string
	// Lines are the titles of the service lines it handles.
	Lines []string
	// Address, Hours and Phone are as configured; empty ones are left out.
	Address, Hours, Phone string
	// Agency marks an outside agency (退役军人事务局, 司法调解 …).
	Agency bool
}

// OfficeLister lists the offices in the order the page shows them.
type OfficeLister interface {
	Offices(ctx context.Context) ([]Office, error)
}

// OfficeList is a fixed list of offices.
type OfficeList []Office

// Offices returns the list.
func (l OfficeList) Offices(context.Context) ([]Office, error) { return l, nil }

// officesPage is what offices.html renders.
type officesPage struct {
	Departments, Agencies []Office
}

// offices serves 办事指南·联系方式: the bureau's departments, then the
// outside agencies, each with the service lines it handles and how to reach
// it.
func (p *Pages) offices(w http.ResponseWriter, r *http.Request) error {
	all, err := p.opts.Offices.Offices(r.Context())
	if err != nil {
		return fmt.Errorf("list offices: %w", err)
	}
	var page officesPage
	for _, o := range all {
		if o.Agency {
			page.Agencies = append(page.Agencies, o)
		} else {
			page.Departments = append(page.Departments, o)
		}
	}
	return p.render(w, http.StatusOK, "offices", "offices_title", page)
}

// telURI is a phone number as a tel: URI, or "" when the configured text is
// not one plain number (two numbers, an extension in words): those are shown
// but not linked, since a phone would dial something else. The result holds
// only "tel:", digits and a leading "+", so it is safe as a URL.
func telURI(phone string) template.URL {
	var b strings.Builder
	b.WriteString("tel:")
	digits := 0
	for i, c := range strings.TrimSpace(phone) {
		switch {
		case c >= '0' && c <= '9':
			b.WriteRune(c)
			digits++
		case c == '+' && i == 0:
			b.WriteRune(c)
		case c == '-' || c == ' ' || c == '(' || c == ')':
			// separators a phone ignores
		default:
			return ""
		}
	}
	if digits < 3 {
		return ""
	}
	return template.URL(b.String())
}
