package desk

import (
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"encoding/base64"
	"errors"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"time"

	"huimin/chat"
	"huimin/store"
)

// SurveyRules configure return visits (回访) and the 好差评 loop.
type SurveyRules struct {
	// Delay, when set, is how long after a resolution the visit is sent
	// (demos, tests); else the next working day at VisitAt.
	Delay time.Duration
	// VisitAt is the time of day of a visit, from midnight (default 10:00).
	VisitAt time.Duration
	// QuietStart and QuietEnd bound the quiet hours, from midnight (e.g.
	// 21:00–08:00): no citizen is messaged then. Equal means none.
	QuietStart, QuietEnd time.Duration
	// Expire closes an unanswered survey (default 7 days); RemindAfter
	// sends its one reminder (default 1 day; 0 or past Expire: none).
	Expire, RemindAfter time.Duration
	// NoAnswerLevel is recorded for a survey that expired unanswered where
	// the province counts it (3 基本满意); 0 records 未评价.
	NoAnswerLevel int
	// VerifyDays and RectifyDays are the working days a bad review's named
	// person has to verify it (回访核实) and to rectify it (整改).
	VerifyDays, RectifyDays int
	// PageURL is the survey page's address without the token (…/survey/);
	// empty: the template message carries no link.
	PageURL string
	// Secret signs the survey page's tokens.
	Secret []byte
	// Notice sends a subscribe notice ("survey_notice") when neither the
	// chat message nor the template reached the citizen.
	Notice bool
	// PerSecond is how many return visits the bureau sends a second,
	// whatever the number of instances (0: as they fall due): visits
	// falling due at one moment (a morning's, at VisitAt) are scheduled
	// one after another at this rate, so that they go out beside the
	// webhook and within WeChat's limits, which are per account.
	PerSecond int
}

func (r *SurveyRules) defaults() {
	if r.VisitAt == 0 {
		r.VisitAt = 10 * time.Hour
	}
	if r.Expire <= 0 {
		r.Expire = 7 * 24 * time.Hour
	}
	if r.VerifyDays <= 0 {
		r.VerifyDays = 1
	}
	if r.RectifyDays <= 0 {
		r.RectifyDays = 5
	}
}

// The national five levels (政务服务“好差评”), by digit.
const (
	LevelVerySatisfied    = 1 // 非常满意
	LevelSatisfied        = 2 // 满意
	LevelBasicSatisfied   = 3 // 基本满意
	LevelDissatisfied     = 4 // 不满意
	LevelVeryDissatisfied = 5 // 非常不满意
)

// Ways a survey is answered (store.Survey.Via).
const (
	ViaChat    = "chat"
	ViaPage    = "page"
	ViaPhone   = "phone"
	ViaExpired = "expired"
)

// Channels a survey reaches the citizen by (store.Survey.Channel).
const (
	ChannelChat     = "chat"
	ChannelTemplate = "template"
	ChannelNotice   = "notice"
	ChannelPhone    = "phone"
)

// Rectification outcomes (store.Rectification.Outcome).
const (
	RectifyImmediate = "immediate" // 立行立改
	RectifyScheduled = "scheduled" // 限期整改
	RectifyExplained = "explained" // 解释说明
)

// Delivery is how a desk message went: Done once it has its end, Channel
// the one that delivered it ("" when none did).
type Delivery struct {
	Done    bool
	Channel string
	// OutOfWindow, with Done and no Channel, says why nothing reached the
	// person: WeChat's 48-hour window was closed and there was no template
	// to fall back on (not a failure: the message was skipped).
	OutOfWindow bool
}

// Deliveries tells the desk how its messages went; bot's notifier reads
// the outbox's outcomes.
type Deliveries interface {
	Delivery(ctx context.Context, m Message) (Delivery, error)
}

// visitDue is when the return visit of a ticket resolved at now is sent:
// after Delay, or the next working day at VisitAt; never in quiet hours.
func (d *Desk) visitDue(now time.Time) time.Time {
	sr := d.rules.Survey
	if sr.Delay > 0 {
		return d.afterQuiet(now.Add(sr.Delay))
	}
	day := d.cal.NextWorkdayStart(now).In(d.loc)
	at := time.Date(day.Year(), day.Month(), day.Day(), 0, 0, 0, 0, d.loc).Add(sr.VisitAt)
	return d.afterQuiet(at)
}

// quiet reports whether t falls in the quiet hours.
func (d *Desk) quiet(t time.Time) bool {
	s, e := d.rules.Survey.QuietStart, d.rules.Survey.QuietEnd
	if s == e {
		return false
	}
	lt := t.In(d.loc)
	tod := time.Duration(lt.Hour())*time.Hour + time.Duration(lt.Minute())*time.Minute + time.Duration(lt.Second())*time.Second
	if s < e {
		return tod >= s && tod < e
	}
	return tod >= s || tod < e
}

// AfterQuiet is t, or the end of the quiet hours (survey.quiet_hours) t
// falls in: when a citizen may be messaged unasked (return visits,
// reminder campaigns).
func (d *Desk) AfterQuiet(t time.Time) time.Time { return d.afterQuiet(t) }

// afterQuiet is t, or the end of the quiet hours t falls in.
func (d *Desk) afterQuiet(t time.Time) time.Time {
	if !d.quiet(t) {
		return t
	}
	lt := t.In(d.loc)
	end := time.Date(lt.Year(), lt.Month(), lt.Day(), 0, 0, 0, 0, d.loc).Add(d.rules.Survey.QuietEnd)
	if !end.After(lt) {
		end = end.AddDate(0, 0, 1)
	}
	return end
}

// survey returns a pointer to the ticket's survey of a round, nil if none.
func survey(t *store.Ticket, round int) *store.Survey {
	for i := range t.Surveys {
		if t.Surveys[i].Round == round {
			return &t.Surveys[i]
		}
	}
	return nil
}

// latestSurvey is the ticket's latest survey, nil if none.
func latestSurvey(t *store.Ticket) *store.Survey {
	if len(t.Surveys) == 0 {
		return nil
	}
	return &t.Surveys[len(t.Surveys)-1]
}

// scheduleVisit schedules the return visit of a resolution, before the
// resolution is written (a visit timer whose survey was never recorded
// does nothing, as an assignment timer whose ticket was never written).
// It returns the survey to record.
func (d *Desk) scheduleVisit(ctx context.Context, id string) (store.Survey, error) {
	t, err := d.st.GetTicket(ctx, id)
	if err != nil {
		return store.Survey{}, fmt.Errorf("get ticket %s: %w", id, err)
	}
	due, err := d.spreadVisit(ctx, d.visitDue(d.now()))
	if err != nil {
		return store.Survey{}, err
	}
	s := store.Survey{Round: len(t.Surveys) + 1, Due: due}
	if err := d.schedule(ctx, timer{Kind: TimerVisit, Ticket: id, Round: s.Round}, s.Due); err != nil {
		return store.Survey{}, err
	}
	return s, nil
}

// spreadVisit gives a visit due at due its place in the line of visits
// due at that second, across instances (a counter in the store): the n-th
// is due (n-1)/PerSecond later, never in the quiet hours.
func (d *Desk) spreadVisit(ctx context.Context, due time.Time) (time.Time, error) {
	per := d.rules.Survey.PerSecond
	if per <= 0 {
		return due, nil
	}
	due = due.Truncate(time.Second)
	keep := max(due.Sub(d.now()), 0) + 24*time.Hour
	n, err := d.st.NextSeq(ctx, "visit_slot:"+strconv.FormatInt(due.Unix(), 10), keep)
	if err != nil {
		return time.Time{}, fmt.Errorf("place the visit in line: %w", err)
	}
	return d.afterQuiet(due.Add(time.Duration(n-1) * time.Second / time.Duration(per))), nil
}

// errNotYet keeps a timer that came before what it waits for (a message
// still on its way, a resolution being written): the runner looks again
// with its backoff, and logs it as waiting, not failing.
var errNotYet error = notYet{}

// errNoVisit and errQuiet stop a visit's update: nothing to send, or not
// in the quiet hours.
var (
	errNoVisit = errors.New("no visit to send")
	errQuiet   = errors.New("quiet hours")
)

type notYet struct{}

func (notYet) Error() string { return "not yet: what the timer waits for has not happened" }

// NotYet tells the runner this is no failure.
func (notYet) NotYet() bool { return true }

// visitMessageID names a survey round's message (and its reminder's).
func visitMessageID(t string, round int) string { return "visit:" + t + ":" + strconv.Itoa(round) }

// handleVisit sends a survey: recorded as sent (crediting the owner), its
// check, reminder and expiry timers scheduled, the citizen's open survey
// noted, and the message queued — each step safe to repeat.
func (d *Desk) handleVisit(ctx context.Context, it store.DueItem, tm timer) error {
	// One read: the check decides, on the ticket the update reads, whether
	// there is a visit to send.
	now := d.now()
	t, err := d.apply(ctx, tm.Ticket, OpVisit, actorSystem, func(t store.Ticket) error {
		s := survey(&t, tm.Round)
		switch {
		case s == nil && t.State.Open() && now.Sub(it.Due) < 10*time.Minute:
			return errNotYet // the resolution is being written
		case s == nil || s.Answered() || t.State != store.StateResolved:
			return errNoVisit // never written, answered, or reopened or archived by a chief
		case !s.SentAt.IsZero():
			return errRecorded // sent before: finish what followed it
		case d.quiet(now):
			return errQuiet
		}
		return nil
	}, func(t *store.Ticket, ev *store.TicketEvent) error {
		s := survey(t, tm.Round)
		s.SentAt, s.Officer = now, t.Owner
		ev.Officer, ev.Days, ev.Ref = t.Owner, tm.Round, it.ID
		return nil
	})
	switch {
	case errors.Is(err, errNoVisit), errors.Is(err, ErrNotFound):
		return nil
	case errors.Is(err, errQuiet):
		// Fell due in the quiet hours (a restart, a backlog): the morning.
		return d.schedule(ctx, timer{Kind: TimerVisit, Ticket: tm.Ticket, Round: tm.Round, Deadline: d.afterQuiet(now)}, d.afterQuiet(now))
	case errors.Is(err, errRecorded):
		// t is the ticket as the update read it.
	case err != nil:
		return err
	}
	s := survey(&t, tm.Round)
	sr := d.rules.Survey
	timers := map[timer]time.Time{
		{Kind: TimerVisitCheck, Ticket: t.ID, Round: tm.Round}:  s.SentAt.Add(visitCheckAfter),
		{Kind: TimerVisitExpire, Ticket: t.ID, Round: tm.Round}: s.SentAt.Add(sr.Expire),
	}
	if sr.RemindAfter > 0 && sr.RemindAfter < sr.Expire {
		timers[timer{Kind: TimerVisitRemind, Ticket: t.ID, Round: tm.Round}] = d.afterQuiet(s.SentAt.Add(sr.RemindAfter))
	}
	if err := d.scheduleAll(ctx, timers); err != nil {
		return err
	}
	if err := d.st.SetCache(ctx, openSurveyKey(t.CitizenOpenID), t.ID, sr.Expire); err != nil {
		return fmt.Errorf("note open survey: %w", err)
	}
	return d.sendSurvey(ctx, t, *s, visitMessageID(t.ID, tm.Round), "survey")
}

// visitCheckAfter is when a sent survey's delivery is first looked at
// (then again with the runner's backoff until the outbox has its end).
const visitCheckAfter = 10 * time.Second

func openSurveyKey(openID string) string { return "survey_open:" + openID }

// sendSurvey queues a survey (or its reminder, key "survey_reminder") to
// the citizen: the five levels as tappable choices with “回复数字” for
// those whose WeChat does not show them, and the survey template with the
// page's link for when WeChat's 48-hour window has closed.
func (d *Desk) sendSurvey(ctx context.Context, t store.Ticket, s store.Survey, id, key string) error {
	if err := d.note.Notify(ctx, d.surveyMessage(t, s, id, key)); err != nil {
		return fmt.Errorf("queue survey of %s: %w", t.ID, err)
	}
	return nil
}

func (d *Desk) surveyMessage(t store.Ticket, s store.Survey, id, key string) Message {
	head := d.citizen.Say(key, d.ticketData(t))
	return Message{
		ID: id, Channel: chat.ChannelWeChat, To: t.CitizenOpenID, Text: head,
		Options: d.levelOptions(), Tail: d.citizen.Say("survey_tail", nil),
		Template: "survey", URL: d.surveyURL(t, s.Round),
		Fields: map[string]string{"ticket": t.ID, "line": d.lineName(t.Line), "state": d.stateName(store.StateResolved), "text": chat.Cut(head, 100)},
	}
}

// levelOptions are the five levels as menu choices, digits first to last.
func (d *Desk) levelOptions() []chat.Option {
	out := make([]chat.Option, 0, 5)
	for l := LevelVerySatisfied; l <= LevelVeryDissatisfied; l++ {
		out = append(out, chat.Option{ID: strconv.Itoa(l), Text: d.LevelName(l)})
	}
	return out
}

// LevelName is a level's name (非常满意 …), or 未评价 for 0.
func (d *Desk) LevelName(l int) string {
	if l >= 0 && l < len(levelKeys) {
		return d.citizen.Say(levelKeys[l], nil)
	}
	return d.citizen.Say("level_"+strconv.Itoa(l), nil)
}

// levelKeys are the texts' keys of the levels' names, written out: the
// engine reads all five names on every citizen's message (is it a
// rating?), and building the keys cost five allocations a message.
var levelKeys = [...]string{"level_0", "level_1", "level_2", "level_3", "level_4", "level_5"}

// handleVisitCheck looks at how a survey went: the channel that delivered
// it is recorded; when neither the chat message nor the template did, a
// subscribe notice is tried where configured, else the visit becomes a
// phone task for the department's chief. While a message is still on its
// way the check is retried.
func (d *Desk) handleVisitCheck(ctx context.Context, it store.DueItem, tm timer) error {
	t, s, err := d.sentSurvey(ctx, tm)
	if err != nil || s == nil || s.Channel != "" {
		return err
	}
	m := d.surveyMessage(t, *s, visitMessageID(t.ID, tm.Round), "survey")
	dl, err := d.note.Delivery(ctx, m)
	if err != nil {
		return err
	}
	if dl.Done && dl.Channel == "" && d.rules.Survey.Notice {
		notice := Message{ID: m.ID + ":notice", Channel: chat.ChannelWeChat, To: t.CitizenOpenID, Form: FormNotice,
			Template: "survey_notice", URL: m.URL, Fields: m.Fields}
		if err := d.note.Notify(ctx, notice); err != nil {
			return fmt.Errorf("queue survey notice of %s: %w", t.ID, err)
		}
		if dl, err = d.note.Delivery(ctx, notice); err != nil {
			return err
		}
	}
	if !dl.Done {
		return errNotYet
	}
	channel := dl.Channel
	if channel == "" && (s.Answered() || t.State != store.StateResolved) {
		return nil // answered, expired or taken on by a chief: no phone task
	}
	if channel == "" {
		channel = ChannelPhone
	}
	t, err = d.apply(ctx, t.ID, OpVisitChannel, actorSystem, nil, func(t *store.Ticket, ev *store.TicketEvent) error {
		s := survey(t, tm.Round)
		if s.Channel != "" {
			return errRecorded
		}
		s.Channel = channel
		ev.Outcome, ev.Days, ev.Ref = channel, tm.Round, it.ID
		return nil
	})
	switch {
	case errors.Is(err, errRecorded):
		return nil
	case err != nil || channel != ChannelPhone:
		return err
	}
	chief := d.chiefOf(ctx, t.Department)
	return d.tellOfficer(ctx, chief, "phonetask:"+t.ID+":"+strconv.Itoa(tm.Round), d.officer.Say("phone_task", d.ticketData(t)), "escalation", d.templateFields(t))
}

// sentSurvey reads the ticket and survey of a survey timer; s is nil when
// there is nothing to do (no ticket, no survey, or not sent).
func (d *Desk) sentSurvey(ctx context.Context, tm timer) (store.Ticket, *store.Survey, error) {
	t, err := d.st.GetTicket(ctx, tm.Ticket)
	if errors.Is(err, store.ErrNotFound) {
		return t, nil, nil
	}
	if err != nil {
		return t, nil, fmt.Errorf("get ticket %s: %w", tm.Ticket, err)
	}
	s := survey(&t, tm.Round)
	if s == nil || s.SentAt.IsZero() {
		return t, nil, nil
	}
	return t, s, nil
}

// handleVisitRemind sends the one reminder of an unanswered survey.
func (d *Desk) handleVisitRemind(ctx context.Context, it store.DueItem, tm timer) error {
	t, s, err := d.sentSurvey(ctx, tm)
	if err != nil || s == nil || s.Answered() || s.Channel == ChannelPhone || t.State != store.StateResolved {
		return err
	}
	now := d.now()
	if d.quiet(now) {
		return d.schedule(ctx, timer{Kind: TimerVisitRemind, Ticket: t.ID, Round: tm.Round, Deadline: d.afterQuiet(now)}, d.afterQuiet(now))
	}
	if err := d.sendSurvey(ctx, t, *s, visitMessageID(t.ID, tm.Round)+":remind", "survey_reminder"); err != nil {
		return err
	}
	_, err = d.apply(ctx, t.ID, OpVisitRemind, actorSystem, nil, func(t *store.Ticket, ev *store.TicketEvent) error {
		s := survey(t, tm.Round)
		if !s.RemindedAt.IsZero() {
			return errRecorded
		}
		s.RemindedAt = now
		ev.Days, ev.Ref = tm.Round, it.ID
		return nil
	})
	if errors.Is(err, errRecorded) {
		return nil
	}
	return err
}

// handleVisitExpire ends an unanswered survey at its expiry: 未评价, or
// the configured no-answer level; the ticket is archived. A survey that
// was answered but whose ticket a crash left unfinished is finished here.
func (d *Desk) handleVisitExpire(ctx context.Context, it store.DueItem, tm timer) error {
	t, s, err := d.sentSurvey(ctx, tm)
	if err != nil || s == nil {
		return err
	}
	if !s.Answered() && t.State != store.StateResolved {
		return nil // a chief reopened or archived it meanwhile
	}
	if !s.Answered() {
		level := d.rules.Survey.NoAnswerLevel
		t, err = d.apply(ctx, t.ID, OpVisitExpire, actorSystem, nil, func(t *store.Ticket, ev *store.TicketEvent) error {
			s := survey(t, tm.Round)
			if s.Answered() {
				return errRecorded
			}
			s.Via, s.Level, s.AnsweredAt = ViaExpired, level, d.now()
			ev.Days, ev.Outcome, ev.Ref = tm.Round, strconv.Itoa(level), it.ID
			return nil
		})
		// On errRecorded t is the ticket as the update read it.
		if err != nil && !errors.Is(err, errRecorded) {
			return err
		}
		if err := d.st.DeleteCache(ctx, openSurveyKey(t.CitizenOpenID)); err != nil {
			d.log.WarnContext(ctx, "forget open survey failed", "ticket_id", t.ID, "err", err)
		}
	}
	return d.afterRating(ctx, t, tm.Round)
}

// RateRequest is an answer to a survey.
type RateRequest struct {
	Ticket string
	// Citizen is the openid the answer came from (chat, page); By the
	// chief who recorded a phone visit's answer.
	Citizen string
	By      Officer
	Level   int
	Comment string
	Via     string
	// Round, when set, is the survey the answer is for (the page's
	// token names it); else the latest.
	Round int
}

// Rate records a survey's answer: only from the ticket's citizen (or, for
// a phone visit, from a chief who is not the officer credited), only while
// the survey is open, once. A good rating archives the ticket; a 差评
// starts the rectification.
func (d *Desk) Rate(ctx context.Context, req RateRequest) (store.Ticket, error) {
	if req.Level < LevelVerySatisfied || req.Level > LevelVeryDissatisfied {
		return store.Ticket{}, refusal(OpRate, ErrInvalid, "rate_usage", req.Ticket, "", nil)
	}
	comment := chat.Cut(strings.TrimSpace(req.Comment), maxReason)
	now := d.now()
	var round int
	t, err := d.apply(ctx, req.Ticket, OpRate, d.rater(req), func(t store.Ticket) error {
		if req.Via == ViaPhone {
			return d.mayChief(req.By)(t)
		}
		if t.CitizenOpenID != req.Citizen {
			return refusal("", ErrNotYours, "not_yours", "", "", nil)
		}
		return nil
	}, func(t *store.Ticket, ev *store.TicketEvent) error {
		s := latestSurvey(t)
		if req.Round != 0 {
			s = survey(t, req.Round)
		}
		switch {
		case s == nil || s.SentAt.IsZero() || s != latestSurvey(t):
			return refusal("", ErrWrongState, "no_open_survey", "", "", nil)
		case s.Answered():
			return refusal("", ErrWrongState, "survey_answered", "", "", nil)
		case !now.Before(s.SentAt.Add(d.rules.Survey.Expire)):
			return refusal("", ErrWrongState, "survey_expired", "", "", nil)
		case req.Via == ViaPhone && req.By.ID == s.Officer:
			return refusal("", ErrNotYours, "rated_officer", "", "", nil)
		}
		round = s.Round
		s.Level, s.Via, s.AnsweredAt, s.Comment = req.Level, req.Via, now, comment
		ev.Days, ev.Outcome, ev.Detail = s.Round, strconv.Itoa(req.Level), comment
		return nil
	})
	if err != nil {
		return t, err
	}
	if err := d.st.DeleteCache(ctx, openSurveyKey(t.CitizenOpenID)); err != nil {
		d.log.WarnContext(ctx, "forget open survey failed", "ticket_id", t.ID, "err", err)
	}
	d.log.InfoContext(ctx, "survey answered", "ticket_id", t.ID, "round", round, "via", req.Via)
	if err := d.afterRating(ctx, t, round); err != nil {
		return t, err
	}
	return d.st.GetTicket(ctx, t.ID)
}

func (d *Desk) rater(req RateRequest) string {
	if req.Via == ViaPhone {
		return req.By.ID
	}
	return actorCitizen
}

// afterRating finishes a rated (or expired) survey's ticket, each step
// safe to repeat: the owner and the first responsible officer learn the
// outcome; a 差评 reopens the ticket for rectification, anything else
// archives it.
func (d *Desk) afterRating(ctx context.Context, t store.Ticket, round int) error {
	s := survey(&t, round)
	if s == nil || !s.Answered() || t.State != store.StateResolved || s != latestSurvey(&t) {
		return nil
	}
	data := d.ticketData(t)
	data["Level"], data["Round"], data["Bad"] = d.LevelName(s.Level), round, s.Bad()
	key := "visit_outcome:" + t.ID + ":" + strconv.Itoa(round)
	for _, o := range uniq(s.Officer, t.FirstResponsible) {
		if err := d.tellOfficer(ctx, o, key+":"+o, d.officer.Say("visit_outcome", data), "ticket_update", d.templateFields(t)); err != nil {
			return err
		}
	}
	if s.Bad() {
		return d.rectify(ctx, t, *s)
	}
	_, err := d.apply(ctx, t.ID, OpClose, actorSystem, nil, func(t *store.Ticket, _ *store.TicketEvent) error {
		t.ClosedAt = d.now()
		return nil
	})
	if errors.Is(err, ErrWrongState) {
		return nil
	}
	return err
}

func uniq(ids ...string) []string {
	var out []string
	for _, id := range ids {
		if id != "" && !slices.Contains(out, id) {
			out = append(out, id)
		}
	}
	return out
}

// surveyURL is the survey page's link for a round, "" without a page.
func (d *Desk) surveyURL(t store.Ticket, round int) string {
	if d.rules.Survey.PageURL == "" {
		return ""
	}
	return d.rules.Survey.PageURL + d.SurveyToken(t.ID, round, t.CitizenOpenID)
}

// SurveyToken is the survey page's token for a ticket's round: the ticket
// and round, signed with the survey secret over them and the citizen's
// openid, so that it cannot be guessed, names one survey, and fails for a
// ticket whose citizen is someone else.
func (d *Desk) SurveyToken(ticket string, round int, openID string) string {
	body := ticket + "." + strconv.Itoa(round)
	return body + "." + d.tokenMAC(body, openID)
}

func (d *Desk) tokenMAC(body, openID string) string {
	m := hmac.New(sha256.New, d.rules.Survey.Secret)
	m.Write([]byte(body + "\x00" + openID))
	return base64.RawURLEncoding.EncodeToString(m.Sum(nil)[:18])
}

// SurveyPage is what the survey page shows and answers.
type SurveyPage struct {
	Ticket store.Ticket
	Survey store.Survey
	// Line is the service line's name.
	Line string
}

// SurveyByToken finds the survey a page token names; a token that does not
// verify, or names no sent survey, is ErrNotFound (nothing to tell a
// guesser apart); an answered, expired or superseded survey is
// ErrWrongState with its reason.
func (d *Desk) SurveyByToken(ctx context.Context, token string) (SurveyPage, error) {
	id, round, ok := d.parseToken(token)
	if !ok {
		return SurveyPage{}, refusal(OpRate, ErrNotFound, "bad_token", "", "", nil)
	}
	t, err := d.st.GetTicket(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return SurveyPage{}, refusal(OpRate, ErrNotFound, "bad_token", "", "", nil)
	}
	if err != nil {
		return SurveyPage{}, fmt.Errorf("get ticket %s: %w", id, err)
	}
	if !hmac.Equal([]byte(d.SurveyToken(id, round, t.CitizenOpenID)), []byte(token)) {
		return SurveyPage{}, refusal(OpRate, ErrNotFound, "bad_token", "", "", nil)
	}
	s := survey(&t, round)
	switch {
	case s == nil || s.SentAt.IsZero():
		return SurveyPage{}, refusal(OpRate, ErrNotFound, "bad_token", "", "", nil)
	case s.Answered():
		return SurveyPage{}, refusal(OpRate, ErrWrongState, "survey_answered", id, t.State, nil)
	case s != latestSurvey(&t):
		return SurveyPage{}, refusal(OpRate, ErrWrongState, "survey_answered", id, t.State, nil)
	case !d.now().Before(s.SentAt.Add(d.rules.Survey.Expire)):
		return SurveyPage{}, refusal(OpRate, ErrWrongState, "survey_expired", id, t.State, nil)
	}
	return SurveyPage{Ticket: t, Survey: *s, Line: d.lineName(t.Line)}, nil
}

func (d *Desk) parseToken(token string) (string, int, bool) {
	i := strings.LastIndexByte(token, '.')
	if i < 0 {
		return "", 0, false
	}
	body := token[:i]
	j := strings.LastIndexByte(body, '.')
	if j < 0 {
		return "", 0, false
	}
	round, err := strconv.Atoi(body[j+1:])
	if err != nil || round < 1 {
		return "", 0, false
	}
	return body[:j], round, true
}

// RateByToken records a survey answered on the page. viewer, when the page
// knows it (WeChat OAuth), is the openid of whoever answers: an officer's
// never answers.
func (d *Desk) RateByToken(ctx context.Context, token, viewer string, level int, comment string) (store.Ticket, error) {
	p, err := d.SurveyByToken(ctx, token)
	if err != nil {
		return store.Ticket{}, err
	}
	if viewer != "" && viewer != p.Ticket.CitizenOpenID {
		return store.Ticket{}, refusal(OpRate, ErrNotYours, "not_yours", p.Ticket.ID, p.Ticket.State, nil)
	}
	return d.Rate(ctx, RateRequest{Ticket: p.Ticket.ID, Citizen: p.Ticket.CitizenOpenID, Level: level, Comment: comment, Via: ViaPage, Round: p.Survey.Round})
}

// OpenSurvey returns the ticket whose survey waits for this citizen's
// answer, "" for none.
func (d *Desk) OpenSurvey(ctx context.Context, openID string) (string, error) {
	id, err := d.st.GetCache(ctx, openSurveyKey(openID))
	if errors.Is(err, store.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("look up open survey: %w", err)
	}
	return id, nil
}

// RateInChat records a digit a citizen sent as their answer to the open
// survey of a ticket, and returns what to tell them (thanks, and the
// question for a comment).
func (d *Desk) RateInChat(ctx context.Context, openID, ticket string, level int) (string, error) {
	t, err := d.Rate(ctx, RateRequest{Ticket: ticket, Citizen: openID, Level: level, Via: ViaChat})
	if err != nil {
		return "", err
	}
	data := d.ticketData(t)
	data["Level"], data["Bad"] = d.LevelName(level), level >= LevelDissatisfied
	return d.citizen.Say("rated", data), nil
}

// Comment adds what a citizen wrote after rating to the latest survey of
// a ticket (once), and passes it to the named person of a rectification.
// It returns the thanks.
func (d *Desk) Comment(ctx context.Context, openID, ticket, text string) (string, error) {
	text = chat.Cut(strings.TrimSpace(text), maxReason)
	t, err := d.apply(ctx, ticket, OpSurveyComment, actorCitizen, func(t store.Ticket) error {
		if t.CitizenOpenID != openID {
			return refusal("", ErrNotYours, "not_yours", "", "", nil)
		}
		return nil
	}, func(t *store.Ticket, ev *store.TicketEvent) error {
		s := latestSurvey(t)
		if s == nil || !s.Answered() || s.Comment != "" {
			return refusal("", ErrWrongState, "no_open_survey", "", "", nil)
		}
		s.Comment = text
		ev.Detail, ev.Days = text, s.Round
		return nil
	})
	if err != nil {
		return "", err
	}
	if len(t.Rectifications) > 0 && t.State == store.StateReopened {
		data := d.ticketData(t)
		data["Text"] = text
		if err := d.tellOfficer(ctx, t.Owner, fmt.Sprintf("survey_comment:%s:%d", t.ID, t.Version), d.officer.Say("survey_comment", data), "ticket_update", d.templateFields(t)); err != nil {
			return "", err
		}
	}
	return d.citizen.Say("commented", nil), nil
}
