package desk

import (
	"context"
	"strings"

	"huimin/chat"
	"huimin/store"
)

// GuideBook is the service guides (办事指南) an officer can send, as the
// flows keep them (flows/intake): the desk only passes them on.
type GuideBook interface {
	// Guide finds the guide ref names (its ID, its title or words of it),
	// or with ref empty the first guide of line, and returns its title
	// and its whole text as citizens read it.
	Guide(ref, line string) (title, text string, ok bool)
	// GuideIndex lists the guides, in the order the bureau keeps them.
	GuideIndex() []GuideInfo
}

// GuideInfo names one guide.
type GuideInfo struct {
	ID, Title string
}

// maxGuide is how much of a guide goes to the citizen, in bytes: with the
// reply's own lines around it, one WeChat message (2048 bytes).
const maxGuide = 1800

// SendGuide sends the citizen of ticket id the guide ref names (with ref
// empty, the guide of the matter the citizen chose, else of the ticket's
// line) as the officer's reply (回复): the
// same rules, the same channel, and recorded in the ticket's history. It
// returns the ticket and the guide's title.
func (d *Desk) SendGuide(ctx context.Context, o Officer, id, ref string) (store.Ticket, string, error) {
	t, err := d.Ticket(ctx, o, id)
	if err != nil {
		return t, "", err
	}
	if d.guides == nil {
		return store.Ticket{}, "", refusal(OpReply, ErrInvalid, "unknown_guide", id, "", map[string]any{"Guide": ref})
	}
	ref = strings.TrimSpace(ref)
	title, text, ok := "", "", false
	if ref == "" && t.Fields["matter"] != "" {
		// The matter the citizen chose (临时救助) names the guide better
		// than the line, which may have several.
		title, text, ok = d.guides.Guide(t.Fields["matter"], t.Line)
	}
	if !ok {
		title, text, ok = d.guides.Guide(ref, t.Line)
	}
	if !ok {
		return store.Ticket{}, "", refusal(OpReply, ErrInvalid, "unknown_guide", id, "", map[string]any{"Guide": ref})
	}
	// Cut in bytes, as WeChat counts: a guide is longer than a typed reply.
	t, err = d.say(ctx, o, id, chat.CutBytes(text, maxGuide), OpReply, maxGuide)
	return t, title, err
}

// guideList lists the guides an officer can send.
func (d *Desk) guideList() string {
	var list []GuideInfo
	if d.guides != nil {
		list = d.guides.GuideIndex()
	}
	if len(list) == 0 {
		return d.officer.Say("guide_none", nil)
	}
	return d.officer.Say("guide_list", map[string]any{"Guides": list})
}
