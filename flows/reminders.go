package flows

import (
	"context"
	"slices"
	"strings"
	"time"

	"huimin/chat"
	"huimin/flows/intake"
	"huimin/store"
)

// Reminders are the reminder campaigns (事前主动服务) a citizen opts in to
// and out of in chat; the campaigns package satisfies it.
type Reminders interface {
	// LineCampaigns names the campaigns of a service line (none: no offer).
	LineCampaigns(line string) []string
	// Subscribe opts openID in to the campaigns of line ("" for all) and
	// names them.
	Subscribe(ctx context.Context, openID, name, line string) ([]string, error)
	// Unsubscribe stops every campaign for openID and names them.
	Unsubscribe(ctx context.Context, openID string) ([]string, error)
	// Seen records that openID wrote at at.
	Seen(ctx context.Context, openID string, at time.Time) error
	// NoticeChoice applies the person's choice on the account's subscribe
	// notices: accepting a campaign's notice opts in to it, refusing or
	// turning one off stops every campaign. It names what changed.
	NoticeChoice(ctx context.Context, openID string, notices []chat.Notice) (subscribed, stopped []string, err error)
}

// noticeChoice answers a subscribe-notice event (the popup's choice, or a
// notice turned off in the settings) with what it changed, if anything.
func (e *Engine) noticeChoice(ctx context.Context, ev chat.Event) ([]chat.Reply, error) {
	if e.opts.Reminders == nil || ev.Channel != chat.ChannelWeChat || len(ev.Notices) == 0 {
		return nil, nil
	}
	subscribed, stopped, err := e.opts.Reminders.NoticeChoice(ctx, ev.From, ev.Notices)
	switch {
	case err != nil:
		return nil, err
	case len(subscribed) > 0:
		return textReply(e.citizenTexts.Say("remind_subscribed", map[string]any{"Names": e.names(subscribed)})), nil
	case len(stopped) > 0:
		return textReply(e.citizenTexts.Say("remind_unsubscribed", map[string]any{"Names": e.names(stopped)})), nil
	}
	return nil, nil
}

// seenEvery is how often at most a person's LastSeen is written.
const seenEvery = time.Hour

// noteSeen records, at most once an hour per person, that a citizen wrote:
// a reminder campaign's preview tells from it who is inside WeChat's
// 48-hour window. A failure is logged and costs nothing else.
func (e *Engine) noteSeen(ctx context.Context, sess *store.Session, now time.Time) {
	if e.opts.Reminders == nil || now.Sub(sess.SeenSaved) < seenEvery {
		return
	}
	if err := e.opts.Reminders.Seen(ctx, sess.OpenID, now); err != nil {
		e.opts.Log.WarnContext(ctx, "record last seen failed", "err", err)
		return
	}
	sess.SeenSaved = now
}

// offerReminders asks, after the acknowledgement of a matter whose line
// has campaigns, whether the citizen wants its reminders.
func (e *Engine) offerReminders(sess *store.Session, oc *intake.Outcome) []chat.Reply {
	if e.opts.Reminders == nil {
		return nil
	}
	names := e.opts.Reminders.LineCampaigns(oc.Line)
	if len(names) == 0 {
		return nil
	}
	sess.RemindOffer, sess.RemindName = oc.Line, oc.Name
	t := e.citizenTexts
	return []chat.Reply{{Kind: chat.ReplyMenu, Text: t.Say("remind_offer", map[string]any{"Names": e.names(names)}),
		Options: []chat.Option{{ID: "1", Text: t.Say("remind_yes", nil)}, {ID: "2", Text: t.Say("remind_no", nil)}},
		Tail:    t.Say("remind_tail", nil)}}
}

// reminders answers the offer (需要 / 不用, or 1 / 2) and the words that
// subscribe to every campaign (订阅提醒) or stop them all (退订); ok
// reports that the message was one of these. Any other answer to the
// offer drops it and goes on to the conversation.
func (e *Engine) reminders(ctx context.Context, ev chat.Event, sess *store.Session) (replies []chat.Reply, ok bool, err error) {
	r := e.opts.Reminders
	if r == nil || (ev.Kind != chat.KindText && ev.Kind != chat.KindVoice) {
		return nil, false, nil
	}
	t := e.citizenTexts
	e.remindOnce.Do(func() {
		e.remindWords = map[string][]string{}
		for _, k := range []string{"remind_yes_words", "remind_no_words", "remind_subscribe_words", "remind_unsubscribe_words"} {
			e.remindWords[k] = strings.Fields(t.Say(k, nil))
		}
	})
	text := strings.Trim(strings.TrimSpace(ev.Text), "。.!！")
	is := func(key string) bool { return slices.Contains(e.remindWords[key], text) }
	line, name := sess.RemindOffer, sess.RemindName
	sess.RemindOffer, sess.RemindName = "", ""
	switch {
	case is("remind_unsubscribe_words"):
		names, err := r.Unsubscribe(ctx, ev.From)
		if err != nil || len(names) == 0 {
			return textReply(t.Say("remind_not_subscribed", nil)), true, err
		}
		return textReply(t.Say("remind_unsubscribed", map[string]any{"Names": e.names(names)})), true, nil
	case is("remind_subscribe_words"):
		return e.subscribe(ctx, ev.From, name, "")
	case line == "":
		return nil, false, nil
	case ev.Key == "1" || is("remind_yes_words"):
		return e.subscribe(ctx, ev.From, name, line)
	case ev.Key == "2" || is("remind_no_words"):
		return textReply(t.Say("remind_declined", nil)), true, nil
	}
	return nil, false, nil
}

func (e *Engine) subscribe(ctx context.Context, openID, name, line string) ([]chat.Reply, bool, error) {
	names, err := e.opts.Reminders.Subscribe(ctx, openID, name, line)
	if err != nil {
		return nil, true, err
	}
	if len(names) == 0 {
		return textReply(e.citizenTexts.Say("remind_none", nil)), true, nil
	}
	return textReply(e.citizenTexts.Say("remind_subscribed", map[string]any{"Names": e.names(names)})), true, nil
}

func (e *Engine) names(names []string) string {
	return strings.Join(names, e.citizenTexts.Say("remind_names_sep", nil))
}
