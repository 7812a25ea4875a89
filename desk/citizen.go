package desk

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"time"

	"huimin/store"
)

// Progress lists a citizen's tickets and where they are.
func (d *Desk) Progress(ctx context.Context, openID string) (string, error) {
	ts, err := d.st.ListTickets(ctx, store.TicketFilter{Citizen: openID})
	if err != nil {
		return "", fmt.Errorf("list citizen tickets: %w", err)
	}
	if len(ts) == 0 {
		return "您还没有办理中的事项。回复“菜单”开始办理。", nil
	}
	slices.Reverse(ts) // newest first
	var b strings.Builder
	b.WriteString("您的事项：\n")
	for i, t := range ts {
		if i == 5 {
			fmt.Fprintf(&b, "……共%d件", len(ts))
			break
		}
		fmt.Fprintf(&b, "%s %s：%s", t.ID, d.lineName(t.Line), stateNames[t.State])
		if t.State.Open() {
			fmt.Fprintf(&b, "，%s前办结", d.when(t.Deadline))
		}
		b.WriteString("\n")
	}
	return strings.TrimRight(b.String(), "\n"), nil
}

// relayWindow is how long after an officer's last message a citizen's
// free text is taken as an answer to it.
const relayWindow = 7 * 24 * time.Hour

// Relay adds what a citizen sent to the open ticket an officer is talking
// to them about, and tells the officer. ok is false when no such ticket
// exists (the message is then a new conversation).
func (d *Desk) Relay(ctx context.Context, openID, text string, att *store.Attachment) (string, bool, error) {
	ts, err := d.st.ListTickets(ctx, store.TicketFilter{Citizen: openID, OpenOnly: true})
	if err != nil {
		return "", false, fmt.Errorf("list citizen tickets: %w", err)
	}
	now := d.now()
	var target *store.Ticket
	for i := range ts {
		t := &ts[i]
		if t.Owner == "" || len(t.Transcript) == 0 {
			continue
		}
		last := t.Transcript[len(t.Transcript)-1]
		asked := t.State == store.StateWaiting
		talking := last.From != "citizen" && last.From != "bot" && now.Sub(last.At) < relayWindow
		if (asked || talking) && (target == nil || last.At.After(target.Transcript[len(target.Transcript)-1].At)) {
			target = t
		}
	}
	if target == nil {
		return "", false, nil
	}
	if text == "" && att != nil {
		text = "［" + attachmentName(att.Kind) + "］"
	}
	text = cut(text, 1000)
	t, err := d.update(ctx, target.ID, func(t *store.Ticket) error {
		t.Transcript = append(t.Transcript, store.Utterance{At: now, From: "citizen", Text: text})
		if att != nil {
			t.Attachments = append(t.Attachments, *att)
		}
		if t.State == store.StateWaiting {
			t.State = store.StateInProgress
		}
		t.History = append(t.History, store.TicketEvent{At: now, Actor: "citizen", Action: "citizen_replied", Detail: cut(text, 60)})
		return nil
	})
	if err != nil {
		return "", false, err
	}
	if err := d.tellOfficer(ctx, t.Owner, fmt.Sprintf("citizen:%s:%d", t.ID, t.Version), d.say("officer_citizen_said", map[string]any{"ID": t.ID, "Text": text}),
		"ticket_update", map[string]string{"ticket": t.ID, "text": cut(text, 100)}); err != nil {
		return "", false, err
	}
	return d.say("relayed", map[string]any{"ID": t.ID}), true, nil
}

func attachmentName(kind string) string {
	switch kind {
	case "image":
		return "图片"
	case "location":
		return "位置"
	case "voice":
		return "语音"
	case "video", "shortvideo":
		return "视频"
	}
	return "附件"
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}
