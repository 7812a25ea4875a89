package bot

import (
	"context"
	"errors"
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
			if len(m.Options) > 0 {
				o.Text = RenderText(chat.Reply{Kind: chat.ReplyMenu, Text: m.Text, Options: m.Options, Tail: m.Tail})
			}
		case m.Form == desk.FormNotice:
			o.Kind = OutNotice
			if spec, ok := n.templates[m.Template]; ok && spec.ID != "" {
				o.Notice = &wechat.Notice{TemplateID: spec.ID, Page: m.URL, Data: spec.data(m.Fields)}
			}
		default:
			o.Kind = OutText
			if len(m.Options) > 0 {
				// A msgmenu: tapping a choice sends its text with its ID
				// as bizmsgmenuid; the tail asks for the digit, for
				// WeChat versions that do not show the choices.
				o.Kind, o.Tail = OutMenu, m.Tail
				for _, opt := range m.Options {
					o.Items = append(o.Items, wechat.MenuItem{ID: opt.ID, Text: opt.Text})
				}
			}
			if spec, ok := n.templates[m.Template]; ok && spec.ID != "" {
				o.Fallback = &wechat.Template{TemplateID: spec.ID, URL: m.URL, Data: spec.data(m.Fields)}
			}
		}
		out = append(out, o)
	}
	if err := n.out.Enqueue(ctx, out...); err != nil {
		return fmt.Errorf("queue notices: %w", err)
	}
	return nil
}

func (s TemplateSpec) data(fields map[string]string) map[string]string {
	data := make(map[string]string, len(s.Fields))
	for key, field := range s.Fields {
		data[key] = fields[field]
	}
	return data
}

// Delivery implements desk.Deliveries from the outbox's outcomes: how a
// notice went, through its chat message and then its template fallback
// (or as a subscribe notice).
func (n *Notifier) Delivery(ctx context.Context, m desk.Message) (desk.Delivery, error) {
	oc, done, err := n.outcome(ctx, "n:"+m.ID)
	if err != nil || !done {
		return desk.Delivery{}, err
	}
	switch {
	case oc.Status == store.OutcomeSent && m.Form == desk.FormNotice:
		return desk.Delivery{Done: true, Channel: desk.ChannelNotice}, nil
	case oc.Status == store.OutcomeSent:
		return desk.Delivery{Done: true, Channel: desk.ChannelChat}, nil
	case oc.Status != store.OutcomeOutOfWindow || m.Form == desk.FormNotice:
		return desk.Delivery{Done: true}, nil
	}
	if spec, ok := n.templates[m.Template]; !ok || spec.ID == "" {
		return desk.Delivery{Done: true, OutOfWindow: true}, nil // no template to fall back on
	}
	oc, done, err = n.outcome(ctx, "n:"+m.ID+":template")
	if err != nil || !done {
		return desk.Delivery{}, err
	}
	if oc.Status == store.OutcomeSent {
		return desk.Delivery{Done: true, Channel: desk.ChannelTemplate}, nil
	}
	return desk.Delivery{Done: true}, nil
}

func (n *Notifier) outcome(ctx context.Context, id string) (store.Outcome, bool, error) {
	oc, err := n.out.out.GetOutcome(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return oc, false, nil
	}
	if err != nil {
		return oc, false, fmt.Errorf("outcome of %s: %w", id, err)
	}
	return oc, true, nil
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
