package sim

import (
	"bytes"
	"embed"
	"html/template"
	"io/fs"
	"net/http"
)

// pageFiles holds the chat page: HTML template, plain JavaScript and CSS, no build step and
// no CDN (the simulator runs on machines without internet). embed needs a package-level
// variable; it is read-only.
//
//go:embed page
var pageFiles embed.FS

// Preset is a ready-made simulated user offered by the chat page.
type Preset struct {
	OpenID string `json:"openid"`
	Label  string `json:"label"`
}

// pagePresets returns the configured ready-made users, or the defaults.
func (s *Simulator) pagePresets() []Preset {
	if len(s.presets) > 0 {
		return s.presets
	}
	return presets()
}

// presets returns the page's default ready-made users: citizens and officers.
func presets() []Preset {
	return []Preset{
		{OpenID: "citizen-001", Label: "居民 citizen-001"},
		{OpenID: "citizen-002", Label: "居民 citizen-002"},
		{OpenID: "citizen-003", Label: "居民 citizen-003"},
		{OpenID: "officer-001", Label: "工作人员 officer-001"},
		{OpenID: "officer-002", Label: "工作人员 officer-002"},
	}
}

// weComPresets labels the corp's members for the chat page's WeCom mode:
// with the label given in Options.WeComPresets (the demo's come from the
// bureau's configuration), else as a member of staff. The simulator names
// no one's department itself: it would not know it.
func weComPresets(userids []string, labels map[string]string) []Preset {
	out := make([]Preset, 0, len(userids))
	for _, id := range userids {
		label := "工作人员 " + id
		if l, ok := labels[id]; ok {
			label = l
		}
		out = append(out, Preset{OpenID: id, Label: label})
	}
	return out
}

// modeLabel names a posting mode in the console's words.
func modeLabel(mode string) string {
	switch mode {
	case ModeSafe:
		return "安全模式"
	case ModeCompatible:
		return "兼容模式"
	default:
		return "明文模式"
	}
}

// pageData is what index.html renders.
type pageData struct {
	Mode       string
	ModeLabel  string
	OriginalID string
	Presets    []Preset
	ConfigErr  string
	// WeCom is set when the simulated WeCom is on: the page offers the officers' mode.
	WeCom *weComPage
}

// weComPage is what index.html shows of the simulated WeCom.
type weComPage struct {
	CorpID    string
	AgentID   int
	Members   []Preset
	ConfigErr string
}

// pageRoutes serves the chat page at / and its assets under /static/.
func (s *Simulator) pageRoutes(mux *http.ServeMux) {
	tmpl := template.Must(template.ParseFS(pageFiles, "page/index.html")) // embedded: fails only in development
	static, err := fs.Sub(pageFiles, "page")
	if err != nil {
		panic(err) // "page" is embedded above; Sub cannot fail
	}
	mux.HandleFunc("GET /{$}", func(w http.ResponseWriter, r *http.Request) {
		data := pageData{Mode: s.mode, ModeLabel: modeLabel(s.mode), OriginalID: s.originalID, Presets: s.pagePresets()}
		if s.cfgErr != nil {
			data.ConfigErr = s.cfgErr.Error()
		}
		if st := s.weComState(); st.Enabled {
			data.WeCom = &weComPage{CorpID: st.CorpID, AgentID: st.AgentID, Members: st.Members, ConfigErr: st.ConfigError}
		}
		var buf bytes.Buffer
		if err := tmpl.Execute(&buf, data); err != nil {
			s.log.ErrorContext(r.Context(), "render chat page", "err", err)
			http.Error(w, "render page failed", http.StatusInternalServerError)
			return
		}
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		w.Header().Set("Cache-Control", "no-store")
		_, _ = w.Write(buf.Bytes()) // the browser went away; nothing to do
	})
	mux.Handle("GET /static/", http.StripPrefix("/static/", http.FileServerFS(static)))
}
