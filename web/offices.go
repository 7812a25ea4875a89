package web

import "net/http"

// offices serves 办事指南·联系方式: every department and outside agency,
// what it handles, and how to reach it, as configured.
func (p *Pages) offices(w http.ResponseWriter, r *http.Request) {
	var own, agencies []Office
	for _, o := range p.opts.Offices {
		if o.Agency {
			agencies = append(agencies, o)
		} else {
			own = append(own, o)
		}
	}
	p.render(w, r, "offices", p.text("offices_title"), struct{ Own, Agencies []Office }{own, agencies})
}
