package web

import (
	"bytes"
	"context"
	"crypto/sha256"
	"embed"
	"encoding/hex"
	"errors"
	"fmt"
	"html/template"
	"io/fs"
	"log/slog"
	"net/http"
	"strings"
	"time"

	"go.yaml.in/yaml/v3"
)

// files holds the templates, the stylesheet and the texts; embed needs a
// package-level variable, and it is read-only.
//
//go:embed templates/*.html static/* texts.yaml
var files embed.FS

// Options are the pages' data sources and knobs; the zero value serves no
// page but the assets.
type Options struct {
	// Bureau is the bureau's name in every page's header (城关区民政局);
	// empty shows the site's name alone.
	Bureau string
	// Offices feeds /offices; nil leaves the page out.
	Offices OfficeLister
	// Guides feeds /guide and /guide/{id}, the service guides and the
	// bureau's commitments (服务承诺); nil leaves them out.
	Guides GuideLister
	// Surveys feeds the return-visit survey page, /survey/{token}; nil
	// leaves it out.
	Surveys SurveyDesk
	// OAuth, when set, makes the survey page ask WeChat who opens it (web
	// authorisation, snsapi_base) and answer only for the ticket's
	// citizen; nil leaves the token alone to decide. It needs BaseURL and
	// Secret.
	OAuth SurveyOAuth
	// Results feeds the public results, /results and /results.json; nil
	// leaves them out. Levels names the five levels there (*desk.Desk);
	// nil takes Surveys'.
	Results ResultsSource
	Levels  LevelNamer
	// Supervisor feeds the supervisors' pages under /desk (login by a
	// link from chat); nil leaves them out. Sessions keeps their sessions
	// for SessionTTL (web.session_ttl).
	Supervisor SupervisorDesk
	Sessions   WebSessions
	SessionTTL time.Duration
	// BaseURL is where citizens reach the pages (web.base_url,
	// https://huimin.example.gov.cn): WeChat sends the browser back to the
	// survey page there.
	BaseURL string
	// Secret keys the signature of the survey page's viewer cookie (a key
	// is derived from it for that alone).
	Secret []byte
	// Location is the bureau's time zone for the dates pages show; nil is
	// time.Local.
	Location *time.Location
	// Log receives failed pages and refused survey answers; nil discards.
	Log *slog.Logger
}

// Pages serves the web pages. It is safe for concurrent use.
type Pages struct {
	opts  Options
	texts map[string]string
	pages map[string]*template.Template
	// cssPath is the stylesheet's URL, versioned by its content so that
	// browsers may keep it long.
	cssPath string
	// With OAuth: the survey pages' address (web.base_url, no trailing
	// slash) and path there, whether their cookies are Secure, and the
	// viewer cookie's key.
	surveyBase, surveyPath string
	secureCookies          bool
	viewerKey              []byte
}

// New parses the embedded templates and texts. An error is a defect of the
// embedded files, which the package's tests catch.
func New(opts Options) (*Pages, error) {
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.Location == nil {
		opts.Location = time.Local
	}
	raw, err := files.ReadFile("texts.yaml")
	if err != nil {
		return nil, fmt.Errorf("read web texts: %w", err)
	}
	p := &Pages{opts: opts, pages: map[string]*template.Template{}}
	if opts.OAuth != nil {
		if err := p.setupOAuth(); err != nil {
			return nil, err
		}
	}
	if opts.Levels == nil && opts.Surveys != nil {
		p.opts.Levels = opts.Surveys
	}
	if opts.Supervisor != nil && (opts.Sessions == nil || opts.SessionTTL <= 0) {
		return nil, errors.New("web pages: the supervisors' pages need Sessions and a SessionTTL")
	}
	if (opts.Results != nil || opts.Supervisor != nil) && p.opts.Levels == nil {
		return nil, errors.New("web pages: the results need the levels' names (Options.Levels)")
	}
	if err := yaml.Unmarshal(raw, &p.texts); err != nil {
		return nil, fmt.Errorf("parse web texts: %w", err)
	}
	css, err := files.ReadFile("static/style.css")
	if err != nil {
		return nil, fmt.Errorf("read stylesheet: %w", err)
	}
	sum := sha256.Sum256(css)
	p.cssPath = "/static/style.css?v=" + hex.EncodeToString(sum[:6])

	funcs := template.FuncMap{"t": p.text, "tel": telURI, "list": func(v ...string) []string { return v }}
	names, err := fs.Glob(files, "templates/*.html")
	if err != nil {
		return nil, fmt.Errorf("list templates: %w", err)
	}
	for _, name := range names {
		if name == "templates/base.html" {
			continue
		}
		t, err := template.New("base.html").Funcs(funcs).ParseFS(files, "templates/base.html", name)
		if err != nil {
			return nil, fmt.Errorf("parse template %s: %w", name, err)
		}
		p.pages[strings.TrimSuffix(strings.TrimPrefix(name, "templates/"), ".html")] = t
	}
	return p, nil
}

// Register adds the pages' routes to mux (bot.Routes).
func (p *Pages) Register(mux *http.ServeMux) {
	static, _ := fs.Sub(files, "static") // "static" is embedded above; Sub cannot fail
	mux.Handle("GET /static/", secure(cacheLong(http.StripPrefix("/static/", http.FileServerFS(static)))))
	if p.opts.Offices != nil {
		mux.Handle("GET /offices", secure(p.handle(p.offices)))
	}
	if p.opts.Guides != nil {
		mux.Handle("GET /guide", secure(p.handle(p.guides)))
		mux.Handle("GET /guide/{id}", secure(p.handle(p.guide)))
	}
	if p.opts.Results != nil {
		mux.Handle("GET /results", secure(p.handle(p.results)))
		mux.Handle("GET /results.json", secure(p.handle(p.resultsJSON)))
	}
	if p.opts.Supervisor != nil {
		p.registerSupervisor(mux)
	}
	if p.opts.Surveys != nil {
		mux.Handle("GET /survey/{token}", secure(surveyHeaders(p.handle(p.surveyPage))))
		mux.Handle("POST /survey/{token}", secure(surveyHeaders(p.handle(p.surveyAnswer))))
	}
}

// text is a page text by key. A missing key fails the page (and the tests)
// rather than showing a key to a citizen.
func (p *Pages) text(key string) (string, error) {
	s, ok := p.texts[key]
	if !ok {
		return "", fmt.Errorf("no web text %q", key)
	}
	return s, nil
}

// handlerFunc is a page handler: it renders the page or returns an error
// for handle to answer.
type handlerFunc func(w http.ResponseWriter, r *http.Request) error

// handle is the one place a failed page is logged and answered.
func (p *Pages) handle(h handlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		err := h(w, r)
		if err == nil {
			return
		}
		if errors.Is(err, context.Canceled) {
			return // the browser went away
		}
		// The route, not the path: a survey's path holds its token.
		p.opts.Log.ErrorContext(r.Context(), "page failed", "route", r.Pattern, "err", err)
		w.Header().Set("Cache-Control", "no-store")
		if rerr := p.render(w, http.StatusInternalServerError, "error", "error_title", nil); rerr != nil {
			http.Error(w, http.StatusText(http.StatusInternalServerError), http.StatusInternalServerError)
		}
	})
}

// view is what every template gets: the layout's fields and the page's own
// data.
type view struct {
	Bureau   string
	TitleKey string
	CSS      string
	Data     any
}

// render executes a page into a buffer first, so that a failure is a clean
// error page rather than half a page.
func (p *Pages) render(w http.ResponseWriter, status int, name, titleKey string, data any) error {
	t, ok := p.pages[name]
	if !ok {
		return fmt.Errorf("no page template %q", name)
	}
	var b bytes.Buffer
	if err := t.Execute(&b, view{Bureau: p.opts.Bureau, TitleKey: titleKey, CSS: p.cssPath, Data: data}); err != nil {
		return fmt.Errorf("render page %s: %w", name, err)
	}
	w.Header().Set("Content-Type", "text/html; charset=utf-8")
	w.WriteHeader(status)
	_, _ = b.WriteTo(w) // the browser went away; nothing to do
	return nil
}

// contentSecurityPolicy allows the page's own stylesheet and images and
// nothing else: no script, no plugins, no framing, forms posting only here.
const contentSecurityPolicy = "default-src 'none'; style-src 'self'; img-src 'self' data:; " +
	"form-action 'self'; base-uri 'none'; frame-ancestors 'none'"

// secure sets the headers every page and asset carries. No Referer leaves
// the pages: supervisors' login links will carry a token in the URL.
func secure(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		h := w.Header()
		h.Set("Content-Security-Policy", contentSecurityPolicy)
		h.Set("X-Content-Type-Options", "nosniff")
		h.Set("Referrer-Policy", "no-referrer")
		h.Set("X-Frame-Options", "DENY") // for browsers without frame-ancestors
		next.ServeHTTP(w, r)
	})
}

// cacheLong lets browsers keep the assets: their URLs change with their
// content.
func cacheLong(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Cache-Control", "public, max-age=31536000, immutable")
		next.ServeHTTP(w, r)
	})
}
