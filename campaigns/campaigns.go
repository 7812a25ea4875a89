package campaigns

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/robfig/cron/v3"

	"huimin/chat"
	"huimin/desk"
	"huimin/store"
)

// Store is what campaigns keep in the store.
type Store interface {
	Subscribe(ctx context.Context, openID, name string, campaigns []string, at time.Time) (store.Subscriber, error)
	Unsubscribe(ctx context.Context, openID string) ([]string, error)
	Subscription(ctx context.Context, openID string) (store.Subscriber, error)
	Subscribers(ctx context.Context, campaign, after string, limit int) ([]store.Subscriber, error)
	Seen(ctx context.Context, openID string, at time.Time) error
	Tally(ctx context.Context, name, key, field string, n int64, ttl time.Duration) (map[string]int64, bool, error)
	NextSeq(ctx context.Context, name string, ttl time.Duration) (int64, error)
	Schedule(ctx context.Context, queue string, it store.DueItem) (bool, error)
	GetCache(ctx context.Context, key string) (string, error)
	SetCache(ctx context.Context, key, value string, ttl time.Duration) error
	ListTickets(ctx context.Context, f store.TicketFilter) ([]store.Ticket, error)
}

// Campaign is one reminder campaign, as configured.
type Campaign struct {
	ID, Name string
	// Text is the message; {name} becomes the person's 称呼, or nothing.
	Text string
	// Lines are the service lines it relates to: a matter of one of them
	// ends with the offer to subscribe.
	Lines []string
	// TicketHolders sends only to subscribers with a ticket of Lines.
	TicketHolders bool
	// Spec is the cron schedule (robfig/cron standard syntax).
	Spec string
	// Template and Notice name the desk.templates entries of the fallback
	// outside the 48-hour window and of the subscribe notice; empty: none.
	Template, Notice string

	schedule cron.Schedule
}

// Queue is the due-queue of campaign runs and sends.
const Queue = "campaign"

// Kinds of the campaign queue's items.
const (
	KindRun  = "campaign.run"
	KindSend = "campaign.send"
)

// Outcomes a person's message is counted under.
const (
	OutcomeSent     = "sent"     // a customer-service message, inside the 48-hour window
	OutcomeFallback = "fallback" // the template or the subscribe notice
	OutcomeSkipped  = "skipped"  // outside the window with nothing to fall back on, or no longer eligible
	OutcomeFailed   = "failed"   // refused, or every retry failed
)

// outcomes lists the outcomes in the order the end of a run names them.
var outcomes = []string{OutcomeSent, OutcomeFallback, OutcomeSkipped, OutcomeFailed}

// csWindow is WeChat's customer-service window.
const csWindow = 48 * time.Hour

// keep is how long a run's state and counts are kept.
const keep = 30 * 24 * time.Hour

// pageSize is how many subscribers a run reads at a time; its cursor is
// saved after each page.
const pageSize = 200

// Options are the service's optional knobs.
type Options struct {
	// Rate is how many messages the bureau sends a second across its
	// instances (default 20).
	Rate int
	// Location is the time zone of the schedules (default time.Local).
	Location *time.Location
	// Usable reports whether a desk.templates entry can be sent (it has a
	// template ID); nil: all can. Preview counts with it.
	Usable func(template string) bool
	// Counted is told of each person counted in a run (metrics).
	Counted func(campaign, outcome string)
	// NoticeID is the WeChat template ID of a desk.templates entry (the
	// subscribe notice a campaign sends), to recognise the person's
	// choice on it; nil: no notice is recognised.
	NoticeID func(template string) string
	// AfterQuiet is t, or the end of the quiet hours t falls in
	// (survey.quiet_hours): no message is placed in them, a run that
	// reaches them goes on in the morning. Nil: no quiet hours.
	AfterQuiet func(t time.Time) time.Time
	Now        func() time.Time
	Log        *slog.Logger
}

// Service runs the campaigns and keeps the subscriptions.
type Service struct {
	st   Store
	note desk.Notifier
	list []Campaign
	byID map[string]*Campaign
	opts Options
}

// New returns the service of the campaigns in list; it refuses a bad
// schedule or a duplicate ID (the configuration checks both first).
func New(st Store, note desk.Notifier, list []Campaign, opts Options) (*Service, error) {
	if opts.Rate <= 0 {
		opts.Rate = 20
	}
	if opts.Location == nil {
		opts.Location = time.Local
	}
	if opts.Usable == nil {
		opts.Usable = func(string) bool { return true }
	}
	if opts.Counted == nil {
		opts.Counted = func(string, string) {}
	}
	if opts.NoticeID == nil {
		opts.NoticeID = func(string) string { return "" }
	}
	if opts.AfterQuiet == nil {
		opts.AfterQuiet = func(t time.Time) time.Time { return t }
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	s := &Service{st: st, note: note, list: slices.Clone(list), byID: map[string]*Campaign{}, opts: opts}
	for i := range s.list {
		c := &s.list[i]
		if _, dup := s.byID[c.ID]; dup || c.ID == "" {
			return nil, fmt.Errorf("campaign %q: empty or duplicate id", c.ID)
		}
		sched, err := parseSchedule(c.Spec, opts.Location)
		if err != nil {
			return nil, fmt.Errorf("campaign %s: schedule %q: %w", c.ID, c.Spec, err)
		}
		c.schedule = sched
		s.byID[c.ID] = c
	}
	return s, nil
}

// parseSchedule parses a cron spec in loc. An @every schedule is aligned
// to whole multiples of its interval since the Unix epoch, so that every
// instance fires it at the same moments and names the same runs.
func parseSchedule(spec string, loc *time.Location) (cron.Schedule, error) {
	if !strings.HasPrefix(spec, "TZ=") && !strings.HasPrefix(spec, "CRON_TZ=") {
		spec = "CRON_TZ=" + loc.String() + " " + spec
	}
	sched, err := cron.ParseStandard(spec)
	if err != nil {
		return nil, err
	}
	if every, ok := sched.(cron.ConstantDelaySchedule); ok {
		return aligned{every.Delay}, nil
	}
	return sched, nil
}

// aligned fires every d, at whole multiples of d since the Unix epoch.
type aligned struct{ d time.Duration }

func (a aligned) Next(t time.Time) time.Time { return t.Truncate(a.d).Add(a.d) }

// Campaigns lists the campaigns, as configured.
func (s *Service) Campaigns() []Campaign { return slices.Clone(s.list) }

// Schedule is the cron schedule of a campaign (nil for an unknown one).
func (s *Service) Schedule(id string) cron.Schedule {
	if c, ok := s.byID[id]; ok {
		return c.schedule
	}
	return nil
}

// Fired is the scheduled time of the firing of a campaign's schedule that
// the cron runs at now: the latest moment of the schedule at or before
// now (a cron job starts a little after it).
func (s *Service) Fired(id string, now time.Time) time.Time {
	c, ok := s.byID[id]
	if !ok {
		return now.Truncate(time.Second)
	}
	if a, ok := c.schedule.(aligned); ok {
		return now.Truncate(a.d)
	}
	// Cron schedules have second resolution: look back second by second.
	t := now.Truncate(time.Second)
	for range 120 {
		if c.schedule.Next(t.Add(-time.Second)).Equal(t) {
			return t
		}
		t = t.Add(-time.Second)
	}
	return now.Truncate(time.Second)
}

// runID names a campaign's run of a scheduled time.
func runID(campaign string, at time.Time) string {
	return campaign + ":" + at.UTC().Format("20060102T150405Z")
}

type runPayload struct {
	Campaign string    `json:"campaign"`
	Run      string    `json:"run"`
	At       time.Time `json:"at"`
}

type sendPayload struct {
	Campaign string `json:"campaign"`
	Run      string `json:"run"`
	OpenID   string `json:"openid"`
}

// Start schedules the run of a campaign for its scheduled time at (every
// instance's cron calls it; the run is scheduled once) and returns the
// run's ID.
func (s *Service) Start(ctx context.Context, id string, at time.Time) (string, error) {
	if _, ok := s.byID[id]; !ok {
		return "", fmt.Errorf("start campaign %q: no such campaign", id)
	}
	run := runID(id, at)
	payload, err := json.Marshal(runPayload{Campaign: id, Run: run, At: at})
	if err != nil {
		return "", fmt.Errorf("start campaign %s: %w", id, err)
	}
	added, err := s.st.Schedule(ctx, Queue, store.DueItem{ID: KindRun + ":" + run, Kind: KindRun, Due: s.opts.Now(), Payload: payload})
	if err != nil {
		return "", fmt.Errorf("start campaign %s: %w", id, err)
	}
	if added {
		s.opts.Log.InfoContext(ctx, "campaign run scheduled", "campaign", id, "run", run)
	}
	return run, nil
}

// runState is a run's progress, saved after each page of subscribers.
type runState struct {
	// After is the last openid scheduled (the cursor).
	After string `json:"after,omitempty"`
	// Scheduled counts the send items scheduled.
	Scheduled int64 `json:"scheduled"`
	// Second is the second (unix) whose slots the run was taking last.
	Second int64 `json:"second,omitempty"`
	Done   bool  `json:"done,omitempty"`
}

func runKey(run string) string { return "campaign_run:" + run }

func (s *Service) loadRun(ctx context.Context, run string) (runState, error) {
	var st runState
	v, err := s.st.GetCache(ctx, runKey(run))
	if errors.Is(err, store.ErrNotFound) {
		return st, nil
	}
	if err != nil {
		return st, fmt.Errorf("read run %s: %w", run, err)
	}
	if err := json.Unmarshal([]byte(v), &st); err != nil {
		return st, fmt.Errorf("decode run %s: %w", run, err)
	}
	return st, nil
}

func (s *Service) saveRun(ctx context.Context, run string, st runState) error {
	v, err := json.Marshal(st)
	if err == nil {
		err = s.st.SetCache(ctx, runKey(run), string(v), keep)
	}
	if err != nil {
		return fmt.Errorf("save run %s: %w", run, err)
	}
	return nil
}

// HandleRun does a run item: it schedules a send item per subscriber,
// page by page, from where the run's saved cursor stands.
func (s *Service) HandleRun(ctx context.Context, it store.DueItem) error {
	var p runPayload
	if err := json.Unmarshal(it.Payload, &p); err != nil {
		s.opts.Log.ErrorContext(ctx, "undecodable campaign run dropped", "item", it.ID, "err", err)
		return nil
	}
	c, ok := s.byID[p.Campaign]
	if !ok {
		s.opts.Log.WarnContext(ctx, "campaign run of a campaign no longer configured dropped", "campaign", p.Campaign, "run", p.Run)
		return nil
	}
	st, err := s.loadRun(ctx, p.Run)
	if err != nil || st.Done {
		return err
	}
	if st.Scheduled == 0 && st.After == "" {
		s.opts.Log.InfoContext(ctx, "campaign run started", "campaign", c.ID, "run", p.Run)
	}
	for {
		page, err := s.st.Subscribers(ctx, c.ID, st.After, pageSize)
		if err != nil {
			return err
		}
		if len(page) == 0 {
			break
		}
		for _, sub := range page {
			due, err := s.slot(ctx, &st.Second)
			if err != nil {
				return err
			}
			payload, err := json.Marshal(sendPayload{Campaign: c.ID, Run: p.Run, OpenID: sub.OpenID})
			if err != nil {
				return err
			}
			if _, err := s.st.Schedule(ctx, Queue, store.DueItem{ID: KindSend + ":" + p.Run + ":" + sub.OpenID, Kind: KindSend, Due: due, Payload: payload}); err != nil {
				return fmt.Errorf("schedule campaign send: %w", err)
			}
			st.Scheduled++
		}
		st.After = page[len(page)-1].OpenID
		if err := s.saveRun(ctx, p.Run, st); err != nil {
			return err
		}
	}
	counts, first, err := s.st.Tally(ctx, tallyName(p.Run), "\x00total", fieldTotal, st.Scheduled, keep)
	if err != nil {
		return fmt.Errorf("count run %s: %w", p.Run, err)
	}
	st.Done = true
	if err := s.saveRun(ctx, p.Run, st); err != nil {
		return err
	}
	s.opts.Log.InfoContext(ctx, "campaign run scheduled its messages", "campaign", c.ID, "run", p.Run, "recipients", st.Scheduled)
	if first {
		s.ended(ctx, c.ID, p.Run, counts)
	}
	return nil
}

// slot gives the next message its place in line at the bureau's rate,
// across instances and campaigns, never in the quiet hours: a counter per
// second in the store hands out that second's Rate places; a full second
// sends the message on to the next. second is where the caller's last
// place was (a hint).
func (s *Service) slot(ctx context.Context, second *int64) (time.Time, error) {
	now := s.opts.Now()
	if *second < now.Unix() {
		*second = now.Unix()
	}
	rate := int64(s.opts.Rate)
	for {
		// A second in the quiet hours is passed over for the morning's.
		if at := s.opts.AfterQuiet(time.Unix(*second, 0)); at.Unix() > *second {
			*second = at.Unix()
		}
		ttl := max(time.Unix(*second, 0).Sub(now), 0) + time.Hour
		n, err := s.st.NextSeq(ctx, "campaign_slot:"+strconv.FormatInt(*second, 10), ttl)
		if err != nil {
			return time.Time{}, fmt.Errorf("place campaign message in line: %w", err)
		}
		if n <= rate {
			return time.Unix(*second, 0).Add(time.Duration(n-1) * time.Second / time.Duration(rate)), nil
		}
		*second++
	}
}

const fieldTotal = "total"

func tallyName(run string) string { return "campaign:" + run }

// ended logs the end of a run when counts show every person counted.
func (s *Service) ended(ctx context.Context, campaign, run string, counts map[string]int64) {
	total, ok := counts[fieldTotal]
	if !ok {
		return
	}
	var sum int64
	for _, o := range outcomes {
		sum += counts[o]
	}
	if sum != total {
		return
	}
	s.opts.Log.InfoContext(ctx, "campaign run finished", "campaign", campaign, "run", run, "recipients", total,
		OutcomeSent, counts[OutcomeSent], OutcomeFallback, counts[OutcomeFallback], OutcomeSkipped, counts[OutcomeSkipped], OutcomeFailed, counts[OutcomeFailed])
}

// notYet keeps a send item until its message has its end.
type notYet struct{}

func (notYet) Error() string { return "not yet: the campaign message is on its way" }

// NotYet tells the runner this is no failure.
func (notYet) NotYet() bool { return true }

// message is what a person is sent: the text with their 称呼, and the
// fields of the template fallback.
func (s *Service) message(c *Campaign, run, openID, name string) desk.Message {
	text := strings.TrimSpace(strings.ReplaceAll(c.Text, "{name}", name))
	return desk.Message{
		ID: "campaign:" + run + ":" + openID, Channel: chat.ChannelWeChat, To: openID, Text: text, Template: c.Template,
		Fields: map[string]string{"campaign": c.Name, "name": name, "text": chat.Cut(text, 100)},
	}
}

func queuedKey(run, openID string) string { return "campaign_queued:" + run + ":" + openID }

// HandleSend does a send item: the person's message is queued if they
// are still subscribed (and eligible), then looked at until it has its
// end, and the person counted once.
func (s *Service) HandleSend(ctx context.Context, it store.DueItem) error {
	var p sendPayload
	if err := json.Unmarshal(it.Payload, &p); err != nil {
		s.opts.Log.ErrorContext(ctx, "undecodable campaign send dropped", "item", it.ID, "err", err)
		return nil
	}
	c, ok := s.byID[p.Campaign]
	if !ok {
		return nil // no longer configured
	}
	m := s.message(c, p.Run, p.OpenID, "")
	dl, err := s.note.Delivery(ctx, m)
	if err != nil {
		return err
	}
	if !dl.Done {
		_, err := s.st.GetCache(ctx, queuedKey(p.Run, p.OpenID))
		switch {
		case err == nil:
			return notYet{} // queued: on its way
		case !errors.Is(err, store.ErrNotFound):
			return fmt.Errorf("look up campaign message: %w", err)
		}
		sub, ok, err := s.eligible(ctx, c, p.OpenID)
		if err != nil {
			return err
		}
		if !ok {
			return s.count(ctx, c, p.Run, p.OpenID, OutcomeSkipped)
		}
		m = s.message(c, p.Run, p.OpenID, sub.Name)
		if err := s.note.Notify(ctx, m); err != nil {
			return fmt.Errorf("queue campaign message: %w", err)
		}
		if err := s.st.SetCache(ctx, queuedKey(p.Run, p.OpenID), "1", keep); err != nil {
			return fmt.Errorf("note campaign message queued: %w", err)
		}
		return notYet{}
	}
	if dl.Channel == "" && c.Notice != "" {
		notice := desk.Message{ID: m.ID + ":notice", Channel: chat.ChannelWeChat, To: p.OpenID, Form: desk.FormNotice,
			Template: c.Notice, Fields: m.Fields}
		if err := s.note.Notify(ctx, notice); err != nil {
			return fmt.Errorf("queue campaign notice: %w", err)
		}
		if dl, err = s.note.Delivery(ctx, notice); err != nil {
			return err
		}
		if !dl.Done {
			return notYet{}
		}
	}
	outcome := OutcomeFailed
	switch {
	case dl.Channel == desk.ChannelChat:
		outcome = OutcomeSent
	case dl.Channel != "":
		outcome = OutcomeFallback
	case dl.OutOfWindow:
		outcome = OutcomeSkipped
	}
	return s.count(ctx, c, p.Run, p.OpenID, outcome)
}

// eligible reads the person's subscription at send time: still subscribed
// to the campaign, and, for a campaign of ticket holders, with a ticket of
// one of its lines.
func (s *Service) eligible(ctx context.Context, c *Campaign, openID string) (store.Subscriber, bool, error) {
	sub, err := s.st.Subscription(ctx, openID)
	if errors.Is(err, store.ErrNotFound) {
		return sub, false, nil
	}
	if err != nil {
		return sub, false, fmt.Errorf("read subscription: %w", err)
	}
	if _, ok := sub.Campaigns[c.ID]; !ok {
		return sub, false, nil
	}
	ok, err := s.holds(ctx, c, openID)
	return sub, ok, err
}

// holds reports whether a person may receive a campaign of ticket holders.
func (s *Service) holds(ctx context.Context, c *Campaign, openID string) (bool, error) {
	if !c.TicketHolders {
		return true, nil
	}
	ts, err := s.st.ListTickets(ctx, store.TicketFilter{Citizen: openID})
	if err != nil {
		return false, fmt.Errorf("list tickets: %w", err)
	}
	return slices.ContainsFunc(ts, func(t store.Ticket) bool { return slices.Contains(c.Lines, t.Line) }), nil
}

// count counts a person once in a run; the count that completes the run
// logs its end.
func (s *Service) count(ctx context.Context, c *Campaign, run, openID, outcome string) error {
	counts, first, err := s.st.Tally(ctx, tallyName(run), openID, outcome, 1, keep)
	if err != nil {
		return fmt.Errorf("count campaign message: %w", err)
	}
	if !first {
		return nil
	}
	s.opts.Counted(c.ID, outcome)
	s.opts.Log.DebugContext(ctx, "campaign message counted", "campaign", c.ID, "run", run, "openid", openID, "outcome", outcome)
	s.ended(ctx, c.ID, run, counts)
	return nil
}
