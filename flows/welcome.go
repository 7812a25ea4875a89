package flows

import (
	"context"
	_ "embed"
	"fmt"
	"strings"

	"go.yaml.in/yaml/v3"
)

//go:embed texts/welcome.yaml
var welcomeYAML []byte

// welcomeTexts is the copy of the Welcome responder.
type welcomeTexts struct {
	Greeting  string `yaml:"greeting"`
	MenuHead  string `yaml:"menu_head"`
	MenuTail  string `yaml:"menu_tail"`
	Help      string `yaml:"help"`
	Unknown   string `yaml:"unknown"`
	LineReply string `yaml:"line_reply"`
	Lines     []struct {
		ID    string `yaml:"id"`
		Name  string `yaml:"name"`
		About string `yaml:"about"`
	} `yaml:"lines"`
}

// Welcome is the first responder: it greets followers, answers text with
// the service menu, and answers what it cannot handle politely. The
// intake flows take over from it.
type Welcome struct {
	t welcomeTexts
}

// NewWelcome loads the embedded texts.
func NewWelcome() (*Welcome, error) {
	var t welcomeTexts
	if err := yaml.Unmarshal(welcomeYAML, &t); err != nil {
		return nil, fmt.Errorf("load welcome texts: %w", err)
	}
	return &Welcome{t: t}, nil
}

// Menu is the service menu as a reply.
func (w *Welcome) Menu() Reply {
	r := Reply{Kind: ReplyMenu, Text: w.t.MenuHead, Tail: w.t.MenuTail}
	for _, l := range w.t.Lines {
		r.Options = append(r.Options, Option{ID: l.ID, Text: l.Name})
	}
	return r
}

// Dispatch answers one event.
func (w *Welcome) Dispatch(ctx context.Context, ev Event) ([]Reply, error) {
	switch ev.Kind {
	case KindSubscribe:
		return []Reply{{Kind: ReplyText, Text: w.t.Greeting}, w.Menu()}, nil
	case KindText, KindVoice, KindClick:
		return w.answer(ev), nil
	case KindImage, KindVideo, KindShortVideo, KindLocation, KindLink:
		return []Reply{{Kind: ReplyText, Text: w.t.Unknown}}, nil
	default:
		// Unfollows, template receipts and other events need no answer.
		return nil, nil
	}
}

func (w *Welcome) answer(ev Event) []Reply {
	choice := strings.TrimSpace(ev.Text)
	if ev.Key != "" && ev.Kind != KindClick {
		choice = ev.Key
	}
	if ev.Kind == KindClick {
		choice = strings.TrimPrefix(ev.Key, "line_")
	}
	switch choice {
	case "帮助", "?", "？":
		return []Reply{{Kind: ReplyText, Text: w.t.Help}}
	}
	for _, l := range w.t.Lines {
		if choice == l.ID {
			text := strings.NewReplacer("{name}", l.Name, "{about}", l.About).Replace(w.t.LineReply)
			return []Reply{{Kind: ReplyText, Text: text}}
		}
	}
	return []Reply{w.Menu()}
}
