package web

import (
	"bytes"
	"embed"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"

	"go.yaml.in/yaml/v3"
)

//go:embed templates/*.html static/* texts.yaml
var files embed.FS

// Office is one place citizens can go or call: a department of the bureau
// or an outside agency, with what it handles and its contact as
// configured. Empty fields are unknown and are not shown.
type Office struct {
	Name string
	// Lines are the service lines it handles, as people read them.
	Lines                 []string
	Address, Hours, Phone string
	// Agency marks an outside agency (退役军人事务局, 司法调解 …).
	Agency bool
}

// Options are what the pages show and how they log.
type Options struct {
	// Bureau is the bureau's name, shown in every page's header; empty
	// uses the texts' default.
	Bureau string
	// Offices are the departments and agencies, in the order to list them.
	Offices []Office
	Log     *slog.Logger
}

// Pages serves the web pages.
type Pages struct {
	opts  Options
	texts map[string]string
	pages map[string]*template.Template
}

// New parses the templates and texts; an error here is a bug in the
// embedded files, which the tests catch.
func New(opts Options) (*Pages, error) {
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	raw, err := files.ReadFile("texts.yaml")
	if err != nil {
		return nil, fmt.Errorf("web texts: %w", err)
	}
	var texts map[string]string
	if err := yaml.Unmarshal(raw, &texts); err != nil {
		return nil, fmt.Errorf("web texts: %w", err)
	}
	if opts.Bureau == "" {
		opts.Bureau = texts["bureau_default"]
	}
	p := &Pages{opts: opts, texts: texts, pages: map[string]*template.Template{}}
	funcs := template.FuncMap{"t": p.text}
	names, err := fs.Glob(files, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("web templates: %w", err)
	}
	for _, name := range names {
		if name == "templates/base.html" {
			continue
		}
		t, err := template.New("base.html").Funcs(funcs).ParseFS(files, "templates/base.html", name)
		if err != nil {
			return nil, fmt.Errorf("web template %s: %w", name, err)
		}
		p.pages[strings.TrimSuffix(strings.TrimPrefix(name, "templates/"), ".html")] = t
	}
	return p, nil
}

// text is a page text by key; a missing key shows as the key in brackets,
// which the tests catch.
func (p *Pages) text(key string) string {
	if s, ok := p.texts[key]; ok {
		return s
	}
	return "[" + key + "]"
}

// Register adds the pages' routes to mux.
func (p *Pages) Register(mux *http.ServeMux) {
	static, _ := fs.Sub(files, "static") // a fixed directory of the embedded files
	mux.Handle("GET /static/", secure(http.StripPrefix("/static/", cacheFor(http.FileServerFS(static)))))
	mux.Handle("GET /offices", secure(http.HandlerFunc(p.offices)))
}

// page is what every template gets: the page's own data and the header's.
type page struct {
	Bureau string
	Title  string
	Data   any
}

// render executes a page into a buffer first, so that a failure is a clean
// 500 rather than half a page.
func (p *Pages) render(w http.ResponseWriter, r *http.Request, name, title string, data any) {
	var b bytes.Buffer
	if err := p.pages[name].Execute(&b, page{Bureau: p.opts.Bureau, Title: title, Data: data}); err != nil {
		p.opts.Log.ErrorContext(r.Context(), "render page failed", "page", name, "err", err)
		http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	_, _ = b.WriteTo(w)
}

// secure sets the headers every page carries: no script, no framing by
// others, no sniffing, no referrer beyond the origin.
func secure(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", "default-src 'none'; style-src 'self'; img-src 'self' data:; base-uri 'none'; form-action 'self'; frame-ancestors 'self'")
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "strict-origin-when-cross-origin")
		next.ServeHTTP(w, r)
	})
}

// cacheFor lets browsers keep the embedded assets for an hour.
func cacheFor(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=3600")
		next.ServeHTTP(w, r)
	})
}
