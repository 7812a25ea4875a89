package bot

import (
	"context"
	"fmt"

	"huimin/bot/wechat"
	"huimin/chat"
	"huimin/desk"
	"huimin/store"
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
		o := Outgoing{ID: "n:" + m.ID, To: m.To, Text: m.Text, Ref: m.ID, Officer: m.Officer, Ticket: m.Ticket}
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

// Undelivered returns the desk notice a message was, when the message has
// reached the end of every channel without being delivered: refused or
// failed for good, or refused for the 48-hour window with no template to
// fall back on. ok is false for a message sent, one whose template
// fallback is on its way, and a message that was not a notice to an
// officer.
func Undelivered(m Outgoing, o store.Outcome) (desk.Message, bool) {
	if m.Officer == "" {
		return desk.Message{}, false
	}
	switch o.Status {
	case store.OutcomeRejected, store.OutcomeFailed:
	case store.OutcomeOutOfWindow:
		if m.Fallback != nil {
			return desk.Message{}, false
		}
	default:
		return desk.Message{}, false
	}
	return desk.Message{ID: m.Ref, To: m.To, Text: m.Text, Officer: m.Officer, Ticket: m.Ticket}, true
}
