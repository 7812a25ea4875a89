package flows

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"time"

	"huimin/chat"

	"huimin/chat/texts"
	"huimin/desk"
	"huimin/flows/intake"
	"huimin/store"
)

// Sessions keeps conversation state under a per-person lock, so that a
// person's messages run one at a time across instances; taking the lock
// reads the session and saving it frees the lock, one round trip each.
type Sessions interface {
	LockSession(ctx context.Context, openID, owner string, ttl time.Duration) (s store.Session, found, locked bool, err error)
	SaveSessionUnlock(ctx context.Context, s store.Session, ttl time.Duration, owner string) error
	UnlockSession(ctx context.Context, openID, owner string) error
}

// Desk is the service desk the engine hands matters and officer commands to.
type Desk interface {
	Open(ctx context.Context, req desk.OpenRequest) (store.Ticket, error)
	OpenedBy(ctx context.Context, source string) (store.Ticket, bool, error)
	Acknowledgement(t store.Ticket) string
	Progress(ctx context.Context, openID string) (string, error)
	Identify(channel chat.Channel, userID, boundOfficer string) (desk.Officer, bool)
	TalkingTo(ctx context.Context, openID, sticky string) (string, error)
	Relay(ctx context.Context, openID, ticketID string, msg desk.CitizenMessage) (string, error)
	Handover(ctx context.Context, openID, said string) (store.Ticket, bool, error)
	HandoverText(t store.Ticket) string
	OfficerFor(ctx context.Context, channel chat.Channel, userID string, bindings bool) (desk.Officer, bool, error)
	Bind(ctx context.Context, channel chat.Channel, userID, code string) (string, error)
	Command(ctx context.Context, o desk.Officer, text string) (string, error)
	OpenSurvey(ctx context.Context, openID string) (string, error)
	RateInChat(ctx context.Context, openID, ticket string, level int) (string, error)
	Comment(ctx context.Context, openID, ticket, text string) (string, error)
	LevelName(level int) string
	Window(id string) (desk.Window, bool)
}

// FlowSet gives the current flow definitions (they reload at run time).
type FlowSet interface {
	Current() *intake.Set
}

// EngineOptions are the engine's optional knobs.
type EngineOptions struct {
	// ResumeWindow is how long a conversation can be resumed (default 30m).
	ResumeWindow time.Duration
	// HandoverLine is the service line of matters handed to a person
	// without a line of their own (default "community").
	HandoverLine string
	// Consents records agreements to the personal-information notice
	// (default: the Sessions store, when it keeps them).
	Consents Consents
	// Reminders, when set, offers and keeps reminder campaigns (reminders.go).
	Reminders Reminders
	Now       func() time.Time
	Log       *slog.Logger
}

// Engine is the conversation engine: it tells officers from citizens, runs
// the citizens' flows, and turns their outcomes into tickets.
type Engine struct {
	citizenTexts *texts.Book
	officerTexts *texts.Book
	// bindVerbs are the words that start a binding code (绑定), read from
	// the officer texts once: every message is checked for them.
	bindVerbs   []string
	ownerPrefix string
	owners      atomic.Uint64
	arrivals    *arrivals
	sessions    Sessions
	flows       FlowSet
	desk        Desk
	opts        EngineOptions

	// remindWords are the reminder words of the citizen texts, read once
	// (reminders.go).
	remindOnce  sync.Once
	remindWords map[string][]string
	// withdrawWords withdraw the consent to the personal-information
	// notice (撤回同意), read once from the citizen texts.
	withdrawOnce  sync.Once
	withdrawWords []string
}

// NewEngine returns an engine.
func NewEngine(sessions Sessions, flows FlowSet, d Desk, opts EngineOptions) *Engine {
	if opts.ResumeWindow <= 0 {
		opts.ResumeWindow = 30 * time.Minute
	}
	if opts.HandoverLine == "" {
		opts.HandoverLine = "community"
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if c, ok := sessions.(Consents); ok && opts.Consents == nil {
		opts.Consents = c
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails (Go 1.24+)
	officer := texts.MustLoad(texts.Officer)
	return &Engine{citizenTexts: texts.MustLoad(texts.Citizen), officerTexts: officer, bindVerbs: strings.Fields(officer.Say("verb_bind", nil)),
		ownerPrefix: hex.EncodeToString(b[:]) + ":", arrivals: newArrivals(), sessions: sessions, flows: flows, desk: d, opts: opts}
}

// lockTTL bounds a conversation lock that its holder never frees (its
// process died): the person's next message waits no longer.
const lockTTL = 10 * time.Second

// sessionKeep is how long a session record outlives the resume window, so
// that a person coming back late is told the old conversation ended.
const sessionKeep = 24 * time.Hour

// Dispatch answers one event.
func (e *Engine) Dispatch(ctx context.Context, ev chat.Event) ([]chat.Reply, error) {
	if ev.Kind == chat.KindSubscribeNotice {
		return e.noticeChoice(ctx, ev)
	}
	if !conversational(ev.Kind) {
		return nil, nil // nothing to say
	}
	if ev.Channel == chat.ChannelWeCom {
		// Only officers use WeCom, and they have no conversation state.
		o, ok, err := e.desk.OfficerFor(ctx, ev.Channel, ev.From, true)
		if err != nil {
			return nil, err
		}
		if !ok {
			return textReply(e.officerTexts.Say("wecom_unknown", nil)), nil
		}
		return e.officer(ctx, o, ev)
	}
	return e.conversation(ctx, ev)
}

// bindCode finds an officer's one-time code: “绑定 123456”, or a QR code
// with scene bind_123456.
func (e *Engine) bindCode(ev chat.Event) (string, bool) {
	if ev.Kind == chat.KindSubscribe || ev.Kind == chat.KindScan {
		code, ok := strings.CutPrefix(ev.Scene, "bind_")
		return code, ok && code != ""
	}
	if ev.Kind != chat.KindText {
		return "", false
	}
	text := strings.TrimSpace(ev.Text)
	for _, verb := range e.bindVerbs {
		if code, ok := strings.CutPrefix(text, verb); ok {
			code = strings.TrimSpace(code)
			return code, code != "" && strings.Trim(code, "0123456789") == ""
		}
	}
	return "", false
}

func (e *Engine) officer(ctx context.Context, o desk.Officer, ev chat.Event) ([]chat.Reply, error) {
	switch ev.Kind {
	case chat.KindText, chat.KindVoice:
		text, err := e.desk.Command(ctx, o, ev.Text)
		return textReply(text), err
	case chat.KindSubscribe, chat.KindScan, chat.KindClick:
		return textReply(e.officerTexts.Say("officer_hello", o)), nil
	default:
		return textReply(e.officerTexts.Say("officer_media", nil)), nil
	}
}

// conversation handles a WeChat account's message under its session lock:
// an officer's command, a binding code, or a citizen's conversation.
func (e *Engine) conversation(ctx context.Context, ev chat.Event) ([]chat.Reply, error) {
	leave, err := e.arrivals.enter(ctx, ev.From)
	if err != nil {
		return nil, err
	}
	defer leave()
	return e.locked(ctx, ev, e.newOwner(), store.Session{}, false, false, nil)
}

// conversationBeginner is a Sessions store that records a delivery and
// takes the sender's conversation in one round trip (both stores do).
type conversationBeginner interface {
	BeginConversation(ctx context.Context, key, replay string, dedupTTL time.Duration, openID, owner string, lockTTL time.Duration) (store.Begun, error)
}

// conversationEnder is a Sessions store that saves a conversation and
// finishes the delivery that began it in one round trip (both stores do).
type conversationEnder interface {
	EndConversation(ctx context.Context, s store.Session, ttl time.Duration, owner string, d store.Delivery, dedupTTL time.Duration) error
}

// A Seal renders a message's replies as the passive reply that answers its
// delivery, when that reply is all there is to send (ok false otherwise).
type Seal = func(replies []chat.Reply) (reply []byte, ok bool)

// Begin records ev's delivery (see bot.Deliveries) together with the
// sender's conversation lock, session and facts, in one store round trip
// where a conversation follows: the message's only one before its flow
// runs. For a first delivery, dispatch answers ev with what Begin read
// (the caller calls it once); a delivery seen before leaves the
// conversation as it was. ok is false when Begin did nothing — another
// message of the sender's is still in hand here, the event is not a
// conversation's, or the store cannot — and the caller records the
// delivery and dispatches as usual.
//
// dispatch offers its replies to seal, when not nil, before it saves the
// conversation: when seal renders them, the delivery is finished with that
// reply in the same round trip as the session is saved (the message's
// second and last), and the caller must not finish it again.
func (e *Engine) Begin(ctx context.Context, ev chat.Event, key, replay string, dedupTTL time.Duration) (d store.Delivery, first bool, dispatch func(context.Context, Seal) ([]chat.Reply, error), ok bool, err error) {
	sb, can := e.sessions.(conversationBeginner)
	if !can || ev.Channel == chat.ChannelWeCom || !conversational(ev.Kind) {
		return d, false, nil, false, nil
	}
	// Only when the sender has nothing else in hand here: their earlier
	// message goes first, and this one waits its turn as usual.
	leave, entered := e.arrivals.tryEnter(ev.From)
	if !entered {
		return d, false, nil, false, nil
	}
	owner := e.newOwner()
	b, err := sb.BeginConversation(ctx, key, replay, dedupTTL, ev.From, owner, lockTTL)
	if err != nil || !b.First {
		leave()
		return b.Delivery, false, nil, true, err
	}
	return b.Delivery, true, func(ctx context.Context, seal Seal) ([]chat.Reply, error) {
		defer leave()
		var end *ending
		if seal != nil {
			end = &ending{d: b.Delivery, dedupTTL: dedupTTL, seal: seal}
		}
		return e.locked(ctx, ev, owner, b.Session, b.Found, b.Locked, end)
	}, true, nil
}

// ending is how a conversation Begin took ends: with its delivery finished
// when seal renders the replies.
type ending struct {
	d        store.Delivery
	dedupTTL time.Duration
	seal     Seal
}

// save saves sess and frees owner's lock; with end, a store that can,
// and replies seal renders, the delivery is finished with them in the
// same round trip.
func (e *Engine) save(ctx context.Context, sess store.Session, owner string, replies []chat.Reply, end *ending) error {
	ttl := e.opts.ResumeWindow + sessionKeep
	if ender, ok := e.sessions.(conversationEnder); ok && end != nil {
		if reply, ok := end.seal(replies); ok {
			d := end.d
			d.Reply = reply
			return ender.EndConversation(ctx, sess, ttl, owner, d, end.dedupTTL)
		}
	}
	return e.sessions.SaveSessionUnlock(ctx, sess, ttl, owner)
}

// conversational reports whether Dispatch takes an event of kind to the
// sender's conversation.
func conversational(k chat.EventKind) bool {
	switch k {
	case chat.KindSubscribeNotice, chat.KindUnsubscribe, chat.KindTemplateSent, chat.KindView, chat.KindReportLocation, chat.KindOther:
		return false
	}
	return true
}

// locked runs a message in its sender's conversation, taking the lock
// first unless held (locked: sess and found are what taking it read), and
// saves it (see save for end).
func (e *Engine) locked(ctx context.Context, ev chat.Event, owner string, sess store.Session, found, held bool, end *ending) ([]chat.Reply, error) {
	if !held {
		var err error
		sess, found, err = e.lock(ctx, ev.From, owner)
		if errors.Is(err, errBusy) {
			return textReply(e.citizenTexts.Say("busy", nil)), nil
		}
		if err != nil {
			return nil, err
		}
	}
	var err error
	saved := false
	defer func() {
		if !saved {
			if err := e.sessions.UnlockSession(context.WithoutCancel(ctx), ev.From, owner); err != nil {
				e.opts.Log.WarnContext(ctx, "release conversation lock failed", "err", err)
			}
		}
	}()
	now := e.opts.Now()
	sess.OpenID = ev.From
	var (
		o         desk.Officer
		isOfficer bool
	)
	if !found {
		// A new (or long expired) conversation learns once whether this is
		// an officer, and whether the person has tickets an officer may
		// talk to them about; the store read both with the session.
		o, isOfficer = e.desk.Identify(ev.Channel, ev.From, sess.BoundOfficer)
		sess.NoBinding = !isOfficer
	} else if o, isOfficer, err = e.desk.OfficerFor(ctx, ev.Channel, ev.From, !sess.NoBinding); err != nil {
		return nil, err
	}

	var replies []chat.Reply
	if code, ok := e.bindCode(ev); ok {
		text, err := e.desk.Bind(ctx, ev.Channel, ev.From, code)
		if err != nil {
			return nil, err
		}
		sess.NoBinding = false
		replies = textReply(text)
	} else if isOfficer {
		if replies, err = e.officer(ctx, o, ev); err != nil {
			return nil, err
		}
	} else {
		sess.NoBinding = true
		e.noteSeen(ctx, &sess, now)
		if replies, err = e.citizen(ctx, &sess, ev, now); err != nil {
			return nil, err
		}
	}
	sess.LastInbound, sess.UpdatedAt = now, now
	saved = true
	if err := e.save(ctx, sess, owner, replies, end); err != nil {
		return nil, fmt.Errorf("save session: %w", err)
	}
	return replies, nil
}

// citizen runs a citizen's message through their conversation.
func (e *Engine) citizen(ctx context.Context, sess *store.Session, ev chat.Event, now time.Time) ([]chat.Reply, error) {
	var prefix []chat.Reply
	if sess.Flow != "" && now.Sub(sess.UpdatedAt) > e.opts.ResumeWindow {
		sess.Flow, sess.Step, sess.Data, sess.Back = "", "", nil, nil
		prefix = textReply(e.citizenTexts.Say("expired", nil))
	}
	if sess.OpenedBy != "" && sess.OpenedBy == ev.Source() {
		// The message that opened a ticket, delivered again: its answer was
		// lost (a crash between saving the conversation and answering).
		// Its ticket's number again, not a new choice from the menu.
		t, ok, err := e.desk.OpenedBy(ctx, sess.OpenedBy)
		if err != nil {
			return nil, err
		}
		if ok {
			return textReply(e.desk.Acknowledgement(t)), nil
		}
	}
	st := intake.State{Flow: sess.Flow, Step: sess.Step, Data: sess.Data, Back: sess.Back}
	replies, st, opened, err := e.converse(ctx, e.flows.Current(), st, ev, sess)
	if err != nil {
		return nil, err
	}
	if opened {
		sess.OpenedBy = ev.Source()
	}
	sess.HasTickets = sess.HasTickets || opened
	sess.Flow, sess.Step, sess.Data, sess.Back = st.Flow, st.Step, st.Data, st.Back
	return append(prefix, replies...), nil
}

// converse runs one event through the flows; opened reports a new ticket.
// Between flows, what a citizen with tickets sends goes to the officer
// talking with them (sess.Talking names that ticket once a message went
// there), until the ticket is finished or the citizen picks something from
// the menu.
func (e *Engine) converse(ctx context.Context, set *intake.Set, st intake.State, ev chat.Event, sess *store.Session) (replies []chat.Reply, next intake.State, opened bool, err error) {
	in := input(ev)
	if ev.Kind == chat.KindSubscribe || ev.Kind == chat.KindScan {
		if id, ok := strings.CutPrefix(ev.Scene, WindowScene); ok {
			if w, ok := e.desk.Window(id); ok {
				// A service window's QR code: its greeting, and the matters
				// the person opens from here on count under it.
				sess.Window = w.ID
				greeting := intake.Prompt{Text: e.citizenTexts.Say("window_greeting", w)}
				return prompts(greeting, set.Menu()), intake.State{}, false, nil
			}
		}
		return prompts(set.Greeting(), set.Menu()), intake.State{}, false, nil
	}
	command := set.Command(ev.Text)
	if ev.Kind == chat.KindClick || command != "" && command != intake.CmdHuman && command != intake.CmdStatus {
		sess.Talking = "" // the citizen turns to something else
	}
	if replies, ok, err := e.withdrawConsent(ctx, ev, &st, sess); ok || err != nil {
		return replies, st, false, err
	}
	if replies, ok, err := e.reminders(ctx, ev, sess); ok || err != nil {
		return replies, st, false, err
	}
	if replies, ok, err := e.survey(ctx, st, ev, command, sess); ok || err != nil {
		return replies, st, false, err
	}
	// A complaint, a report or urgent need is never relayed to the officer
	// the citizen is talking with: it may be about them, or cannot wait.
	if st.Flow == "" && ev.Kind != chat.KindClick && sess.HasTickets && command == "" && !set.Interrupts(in.Text) {
		id, err := e.desk.TalkingTo(ctx, ev.From, sess.Talking)
		if err != nil {
			return nil, st, false, err
		}
		if id != "" {
			text, err := e.desk.Relay(ctx, ev.From, id, desk.CitizenMessage{Text: in.Text, Attachment: attachment(ev)})
			if err != nil {
				return nil, st, false, err
			}
			sess.Talking = id
			return textReply(text + "\n" + e.citizenTexts.Say("relay_hint", nil)), st, false, nil
		}
		sess.Talking = ""
	}
	var res intake.Result
	if ev.Kind == chat.KindClick {
		// A menu click starts afresh, keeping what was attached before.
		res, err = e.step(ctx, set, intake.State{Data: st.Data}, in, sess)
	} else {
		// With no flow running, st still carries the pictures sent before
		// a line was chosen: they go with the matter (defect 16).
		res, err = e.step(ctx, set, st, in, sess)
	}
	if err != nil {
		return nil, st, false, err
	}
	var out []chat.Reply
	if res.Command == intake.CmdStatus {
		text, err := e.desk.Progress(ctx, ev.From)
		if err != nil {
			return nil, st, false, err
		}
		out = append(out, textReply(text)...)
	}
	if oc := res.Outcome; oc != nil && oc.Kind == intake.OutcomeHandover {
		return e.handover(ctx, set, ev, oc, sess)
	}
	if res.Outcome != nil && res.Outcome.Kind == intake.OutcomeTicket {
		text, err := e.open(ctx, ev, res.Outcome, sess.Window)
		if err != nil {
			return nil, st, false, err
		}
		out = append(out, textReply(text)...)
		out = append(out, e.offerReminders(sess, res.Outcome)...)
		opened = true
	}
	for _, p := range res.Prompts {
		out = append(out, prompt(p))
	}
	return out, res.State, opened, nil
}

// handover gives a citizen who asks for a person (人工) to the officer of
// their open or most recent ticket; a citizen with none is asked what it is
// about and for a phone number (the handover flow), and a ticket is opened.
func (e *Engine) handover(ctx context.Context, set *intake.Set, ev chat.Event, oc *intake.Outcome, sess *store.Session) ([]chat.Reply, intake.State, bool, error) {
	if sess.HasTickets {
		t, ok, err := e.desk.Handover(ctx, ev.From, oc.Summary)
		if err != nil {
			return nil, intake.State{}, false, err
		}
		if ok {
			sess.Talking = t.ID
			return textReply(e.desk.HandoverText(t)), intake.State{}, false, nil
		}
	}
	res, err := set.Start(handoverFlow)
	if err != nil {
		return nil, intake.State{}, false, fmt.Errorf("start %s flow: %w", handoverFlow, err)
	}
	var out []chat.Reply
	for _, p := range res.Prompts {
		out = append(out, prompt(p))
	}
	return out, res.State, false, nil
}

// WindowScene starts the QR scene of a service window's code
// (window_w-chengguan): `huimin window qr` makes them.
const WindowScene = "window_"

// handoverFlow asks a citizen with no matter on file what it is about and
// for a phone number before a person takes it (flows/intake/defaults).
const handoverFlow = "handover"

// open turns a flow's outcome into a ticket and returns what to tell the citizen.
// window is the service window whose QR code the citizen scanned, if any.
func (e *Engine) open(ctx context.Context, ev chat.Event, oc *intake.Outcome, window string) (string, error) {
	req := desk.OpenRequest{
		Citizen: ev.From, Line: oc.Line, Inquiry: oc.Inquiry, Summary: oc.Summary, Fields: oc.Fields, Labels: oc.Labels,
		Name: oc.Name, Phone: oc.Phone, IDNumber: oc.IDNumber, Urgent: oc.Urgent, Source: ev.Source(), Window: window,
	}
	for _, a := range oc.Attachments {
		req.Attachments = append(req.Attachments, store.Attachment{Kind: a.Kind, MediaID: a.MediaID, URL: a.URL, Lat: a.Lat, Lng: a.Lng, Label: a.Label, At: a.At})
	}
	req.Transcript = []store.Utterance{{At: e.opts.Now(), From: "citizen", Text: oc.Summary}}
	t, err := e.desk.Open(ctx, req)
	if err != nil {
		return "", err
	}
	e.opts.Log.InfoContext(ctx, "matter submitted", "ticket_id", t.ID, "flow", oc.Flow, "kind", oc.Kind)
	ack := e.desk.Acknowledgement(t)
	if oc.Text != "" {
		return oc.Text + "\n" + ack, nil
	}
	return ack, nil
}

var errBusy = errors.New("conversation busy")

// newOwner names one message's hold on a conversation lock: unique across
// instances (a random process prefix) and cheap (a counter).
func (e *Engine) newOwner() string {
	return e.ownerPrefix + strconv.FormatUint(e.owners.Add(1), 36)
}

// lock takes the person's conversation lock and reads their session,
// waiting a little for a message of theirs that is still being handled;
// errBusy when the wait runs out.
func (e *Engine) lock(ctx context.Context, openID, owner string) (store.Session, bool, error) {
	var wait *time.Ticker // only when the lock is taken: most messages find it free
	deadline := time.Now().Add(2 * time.Second)
	for {
		sess, found, locked, err := e.sessions.LockSession(ctx, openID, owner, lockTTL)
		if err != nil {
			return sess, false, fmt.Errorf("lock conversation: %w", err)
		}
		if locked {
			return sess, found, nil
		}
		if time.Now().After(deadline) {
			return sess, false, errBusy
		}
		if wait == nil {
			wait = time.NewTicker(15 * time.Millisecond)
			defer wait.Stop()
		}
		select {
		case <-ctx.Done():
			return sess, false, ctx.Err()
		case <-wait.C:
		}
	}
}

func input(ev chat.Event) intake.Input {
	in := intake.Input{Text: ev.Text, Key: ev.Key, MediaID: ev.MediaID, URL: ev.PicURL, Label: ev.Label, Lat: ev.Lat, Lng: ev.Lng, At: ev.At}
	switch ev.Kind {
	case chat.KindVoice:
		in.Kind = intake.KindVoice
	case chat.KindImage:
		in.Kind = intake.KindImage
	case chat.KindVideo, chat.KindShortVideo:
		in.Kind = intake.KindVideo
	case chat.KindLocation:
		in.Kind = intake.KindLocation
	case chat.KindLink:
		in.Kind, in.URL, in.Text = intake.KindLink, ev.URL, ev.Title
	case chat.KindClick:
		in.Kind = intake.KindClick
	default:
		in.Kind = intake.KindText
	}
	return in
}

func attachment(ev chat.Event) *store.Attachment {
	switch ev.Kind {
	case chat.KindImage, chat.KindVideo, chat.KindShortVideo, chat.KindVoice:
		if ev.Kind == chat.KindVoice && ev.Text != "" {
			return nil // the recognised text is relayed instead
		}
		return &store.Attachment{Kind: string(ev.Kind), MediaID: ev.MediaID, URL: ev.PicURL, At: ev.At}
	case chat.KindLocation:
		return &store.Attachment{Kind: "location", Lat: ev.Lat, Lng: ev.Lng, Label: ev.Label, At: ev.At}
	}
	return nil
}

func textReply(text string) []chat.Reply {
	if text == "" {
		return nil
	}
	return []chat.Reply{{Kind: chat.ReplyText, Text: text}}
}

func prompt(p intake.Prompt) chat.Reply {
	if len(p.Options) == 0 {
		return chat.Reply{Kind: chat.ReplyText, Text: joinNonEmpty(p.Text, p.Tail)}
	}
	r := chat.Reply{Kind: chat.ReplyMenu, Text: p.Text, Tail: p.Tail, Options: make([]chat.Option, len(p.Options))}
	for i, o := range p.Options {
		r.Options[i] = chat.Option{ID: o.ID, Text: o.Text}
	}
	return r
}

func prompts(ps ...intake.Prompt) []chat.Reply {
	out := make([]chat.Reply, 0, len(ps))
	for _, p := range ps {
		if p.Text == "" && len(p.Options) == 0 {
			continue
		}
		out = append(out, prompt(p))
	}
	return out
}

func joinNonEmpty(parts ...string) string {
	var keep []string
	for _, p := range parts {
		if p != "" {
			keep = append(keep, p)
		}
	}
	return strings.Join(keep, "\n")
}

// survey answers a return visit in chat: a digit (typed, or a tapped
// choice) while the citizen's survey is open is their rating, and the
// message after it their comment ("1": none). Anything else, and a
// rating the desk refuses (the survey closed meanwhile), goes on to the
// conversation; ok reports that the message was the survey's.
func (e *Engine) survey(ctx context.Context, st intake.State, ev chat.Event, command string, sess *store.Session) (replies []chat.Reply, ok bool, err error) {
	if ev.Kind != chat.KindText && ev.Kind != chat.KindVoice {
		return nil, false, nil
	}
	if id := sess.SurveyComment; id != "" {
		sess.SurveyComment = ""
		if command != "" {
			return nil, false, nil
		}
		text := strings.TrimSpace(ev.Text)
		if text == "1" || text == "１" {
			return textReply(e.citizenTexts.Say("no_comment", nil)), true, nil
		}
		reply, err := e.desk.Comment(ctx, ev.From, id, text)
		if errors.Is(err, desk.ErrWrongState) || errors.Is(err, desk.ErrNotYours) {
			return nil, false, nil
		}
		return textReply(reply), err == nil, err
	}
	level := e.surveyLevel(ev)
	if level == 0 || st.Flow != "" || !sess.HasTickets {
		return nil, false, nil
	}
	id, err := e.desk.OpenSurvey(ctx, ev.From)
	if err != nil || id == "" {
		return nil, false, err
	}
	reply, err := e.desk.RateInChat(ctx, ev.From, id, level)
	if errors.Is(err, desk.ErrWrongState) || errors.Is(err, desk.ErrNotYours) || errors.Is(err, desk.ErrNotFound) {
		return nil, false, nil
	}
	if err != nil {
		return nil, false, err
	}
	sess.SurveyComment = id
	return textReply(reply), true, nil
}

// surveyLevel reads a rating: a tapped choice's ID, a digit 1–5 (also
// full-width), or a level's name; 0 if the message is none of these.
func (e *Engine) surveyLevel(ev chat.Event) int {
	text := strings.TrimSpace(ev.Text)
	for l := desk.LevelVerySatisfied; l <= desk.LevelVeryDissatisfied; l++ {
		digit := strconv.Itoa(l)
		if ev.Key == digit || text == digit || text == string(rune('０'+l)) || text == e.desk.LevelName(l) {
			return l
		}
	}
	return 0
}
