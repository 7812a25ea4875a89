package desk

import (
	"context"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"huimin/chat"
	"huimin/store"
)

// Progress lists a citizen's tickets and where they are.
func (d *Desk) Progress(ctx context.Context, openID string) (string, error) {
	ts, err := d.st.ListTickets(ctx, store.TicketFilter{Citizen: openID})
	if err != nil {
		return "", fmt.Errorf("list citizen tickets: %w", err)
	}
	if len(ts) == 0 {
		return d.citizen.Say("progress_none", nil), nil
	}
	slices.Reverse(ts) // newest first
	var lines []string
	for i, t := range ts {
		if i == 5 {
			lines = append(lines, d.citizen.Say("progress_more", map[string]any{"N": len(ts)}))
			break
		}
		data := d.ticketData(t)
		data["Open"] = t.State.Open()
		data["Timeline"] = d.timeline(t)
		lines = append(lines, d.citizen.Say("progress_line", data))
	}
	return d.citizen.Say("progress_head", nil) + "\n" + strings.Join(lines, "\n"), nil
}

// relayWindow is how long after an officer's last message a citizen's
// words are taken as an answer to it.
const relayWindow = 7 * 24 * time.Hour

// CitizenMessage is what a citizen sent: words, or an attachment (a
// picture, a location …), or both.
type CitizenMessage struct {
	Text       string
	Attachment *store.Attachment
}

// TalkingTo finds the ticket whose officer a citizen's words answer: the
// ticket named by the conversation (sticky, once a message went to it) while
// its conversation lasts, else an open ticket waiting for the citizen or
// whose officer wrote to them last, within a week. "" when none.
func (d *Desk) TalkingTo(ctx context.Context, openID, sticky string) (string, error) {
	if sticky != "" {
		t, err := d.st.GetTicket(ctx, sticky)
		if err == nil && t.CitizenOpenID == openID && conversing(t) {
			return t.ID, nil
		}
	}
	ts, err := d.st.ListTickets(ctx, store.TicketFilter{Citizen: openID, OpenOnly: true})
	if err != nil {
		return "", fmt.Errorf("list citizen tickets: %w", err)
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
		talking := last.From != actorCitizen && last.From != "bot" && now.Sub(last.At) < relayWindow
		if (asked || talking) && (target == nil || last.At.After(target.Transcript[len(target.Transcript)-1].At)) {
			target = t
		}
	}
	if target == nil {
		return "", nil
	}
	return target.ID, nil
}

// conversing reports whether a ticket's conversation with its citizen is
// still on: the ticket is open, or the citizen asked for a person about it
// after it was finished.
func conversing(t store.Ticket) bool {
	if t.State.Open() {
		return true
	}
	h, ok := lastEvent(t, EventHandover)
	return ok && !h.At.Before(t.ResolvedAt) && !h.At.Before(t.ClosedAt)
}

// Relay adds what a citizen sent to a ticket and passes it to its officer:
// text as text, a picture as a picture. It returns the acknowledgement
// for the citizen.
func (d *Desk) Relay(ctx context.Context, openID, ticketID string, msg CitizenMessage) (string, error) {
	text := chat.Cut(strings.TrimSpace(msg.Text), 1000)
	if text == "" && msg.Attachment != nil {
		text = d.officer.Say("attachment_"+msg.Attachment.Kind, nil)
	}
	now := d.now()
	t, err := d.apply(ctx, ticketID, OpCitizenReply, actorCitizen, nil, func(t *store.Ticket, ev *store.TicketEvent) error {
		if t.CitizenOpenID != openID {
			return refusal("", ErrNotYours, "not_yours", "", "", nil)
		}
		t.Transcript = append(t.Transcript, store.Utterance{At: now, From: actorCitizen, Text: text})
		if msg.Attachment != nil {
			t.Attachments = append(t.Attachments, *msg.Attachment)
		}
		ev.Detail = chat.Cut(text, 60)
		return nil
	})
	if err != nil {
		return "", err
	}
	to := t.Owner
	if to == "" || !d.reachable(ctx, to) {
		to = d.chiefOf(ctx, t.Department)
	}
	id := fmt.Sprintf("citizen:%s:%d", t.ID, t.Version)
	data := map[string]any{"ID": t.ID, "Text": text, "Name": t.Name}
	err = d.tellOfficer(ctx, to, id, d.officer.Say("citizen_said", data), "ticket_update", map[string]string{"ticket": t.ID, "text": chat.Cut(text, 100)})
	if err == nil && msg.Attachment != nil && msg.Attachment.Kind == "image" {
		err = d.forwardImage(ctx, to, id+":image", *msg.Attachment)
	}
	if err != nil {
		return "", err
	}
	return d.citizen.Say("relayed", d.ticketData(t)), nil
}

// forwardImage passes a citizen's picture on to an officer as a picture.
func (d *Desk) forwardImage(ctx context.Context, officerID, id string, a store.Attachment) error {
	ch, user, ok := d.address(ctx, officerID)
	if !ok {
		return nil
	}
	text := d.officer.Say("picture_card", nil)
	if err := d.note.Notify(ctx, Message{ID: id, Channel: ch, To: user, Text: text, Image: &Image{MediaID: a.MediaID, URL: a.URL}}); err != nil {
		return fmt.Errorf("forward picture to %s: %w", officerID, err)
	}
	return nil
}

// Handover hands a citizen who asks for a person (人工) to the officer of
// their open ticket, or of their most recent one, and tells that officer.
// ok is false when the citizen has no ticket: the conversation then asks
// what it is about and for a phone number, and opens one.
func (d *Desk) Handover(ctx context.Context, openID, said string) (t store.Ticket, ok bool, err error) {
	ts, err := d.st.ListTickets(ctx, store.TicketFilter{Citizen: openID})
	if err != nil {
		return t, false, fmt.Errorf("list citizen tickets: %w", err)
	}
	if len(ts) == 0 {
		return t, false, nil
	}
	pick := ts[len(ts)-1] // the most recent …
	for i := len(ts) - 1; i >= 0; i-- {
		if ts[i].State.Open() { // … unless one is still open
			pick = ts[i]
			break
		}
	}
	t, err = d.apply(ctx, pick.ID, OpHandover, actorCitizen, nil, func(_ *store.Ticket, ev *store.TicketEvent) error {
		ev.Detail = chat.Cut(strings.TrimSpace(said), 200)
		return nil
	})
	if err != nil {
		return t, false, err
	}
	to := t.Owner
	if to == "" || !d.reachable(ctx, to) {
		to = d.chiefOf(ctx, t.Department)
	}
	data := d.ticketData(t)
	data["Said"] = t.History[len(t.History)-1].Detail
	if err := d.tellOfficer(ctx, to, fmt.Sprintf("handover:%s:%d", t.ID, t.Version), d.officer.Say("handover", data), "ticket_update", d.templateFields(t)); err != nil {
		return t, false, err
	}
	return t, true, nil
}

// HandoverText tells the citizen what happens now that a person has their
// matter: who, and when they will answer here.
func (d *Desk) HandoverText(t store.Ticket) string {
	data := d.ticketData(t)
	now := d.now()
	if !d.cal.InWorkingHours(now) {
		data["Start"] = d.when(d.cal.NextWorkingStart(now))
	}
	return d.citizen.Say("handover", data)
}

// timelineSteps is how many of a ticket's latest steps 进度 shows.
const timelineSteps = 12

// timeline renders a ticket's steps for its citizen, oldest first, with
// dates: received, assigned, answered, resolved, visited, rated,
// rectified … (the kinds with a timeline_ text; officers' internal steps
// are left out, and repeats of one step in a row shown once).
func (d *Desk) timeline(t store.Ticket) string {
	var steps []string
	var last store.EventKind
	for _, h := range t.History {
		key := "timeline_" + string(h.Kind)
		if !d.citizen.Has(key) || h.Kind == last {
			continue
		}
		last = h.Kind
		data := map[string]any{"At": h.At.In(d.loc).Format("1月2日")}
		switch h.Kind {
		case EventRated, EventVisitExpired:
			level, _ := strconv.Atoi(h.Outcome)
			data["Level"] = d.LevelName(level)
		case EventRectified:
			data["Outcome"] = d.citizen.Say("rectify_outcome_"+h.Outcome, nil)
		}
		steps = append(steps, d.citizen.Say(key, data))
	}
	if len(steps) > timelineSteps {
		steps = append([]string{"…"}, steps[len(steps)-timelineSteps:]...)
	}
	return strings.Join(steps, d.citizen.Say("timeline_sep", nil))
}
