package bot

import (
	"context"
	"fmt"

	"huimin/bot/wechat"
	"huimin/chat"
	"huimin/desk"
)

// TemplateSpec maps a kind of notice to a WeChat template message: its ID
// and which template field shows which of the desk's fields.
type TemplateSpec struct {
	ID string
	// Fields maps template keys (keyword1, thing2, …) to desk field names
	// (ticket, line, deadline, state, text, days).
	Fields map[string]string
}

// Notifier sends the desk's notices through the outbox: WeCom application
// messages to staff who use WeCom, otherwise customer-service messages,
// with a template message as the fallback outside the 48-hour window.
type Notifier struct {
	out       *Outbox
	templates map[string]TemplateSpec
}

// NewNotifier returns a Notifier; templates may be empty (no fallback).
func NewNotifier(out *Outbox, templates map[string]TemplateSpec) *Notifier {
	return &Notifier{out: out, templates: templates}
}

// Notify implements desk.Notifier.
func (n *Notifier) Notify(ctx context.Context, msgs ...desk.Message) error {
	out := make([]Outgoing, 0, len(msgs))
	for _, m := range msgs {
		o := Outgoing{ID: "n:" + m.ID, To: m.To, Text: m.Text, Ref: m.ID}
		switch {
		case m.Image != nil && m.Channel == chat.ChannelWeCom:
			// WeCom cannot show a WeChat media ID: a card opens the picture.
			o.Kind, o.URL = OutWeComCard, m.Image.URL
		case m.Image != nil:
			o.Kind, o.MediaID = OutImage, m.Image.MediaID
		case m.Channel == chat.ChannelWeCom:
			o.Kind = OutWeComText
		default:
			o.Kind = OutText
			if spec, ok := n.templates[m.Template]; ok && spec.ID != "" {
				data := make(map[string]string, len(spec.Fields))
				for key, field := range spec.Fields {
					data[key] = m.Fields[field]
				}
				o.Fallback = &wechat.Template{TemplateID: spec.ID, Data: data}
			}
		}
		out = append(out, o)
	}
	if err := n.out.Enqueue(ctx, out...); err != nil {
		return fmt.Errorf("queue notices: %w", err)
	}
	return nil
}
