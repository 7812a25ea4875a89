package main

import (
	"cmp"
	"context"
	"crypto/hmac"
	"crypto/sha256"
	"fmt"
	"log/slog"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"huimin/bot"
	"huimin/bot/wechat"
	"huimin/bot/wecom"
	"huimin/campaigns"
	"huimin/config"
	"huimin/desk"
	"huimin/desk/calendar"
	"huimin/flows"
	"huimin/flows/intake"
	"huimin/results"
	"huimin/store"
	"huimin/web"
)

// app is the service's parts, wired.
type app struct {
	client  *wechat.Client
	outbox  *bot.Outbox
	desk    *desk.Desk
	flows   *intake.Watcher
	webhook *bot.Webhook
	wecom   *bot.WeComWebhook // nil without WeCom
	pages   *web.Pages
	runner  *bot.Runner
	results *results.Publisher
	metrics *bot.Metrics
	// campaigns runs the reminder campaigns; campaignMessages counts their
	// messages by campaign and outcome (serve registers it).
	campaigns        *campaigns.Service
	campaignMessages *prometheus.CounterVec
}

// newApp builds the service on st.
func newApp(cfg config.Config, st backend, metrics *bot.Metrics, log *slog.Logger) (*app, error) {
	loc, err := time.LoadLocation(cfg.Desk.Timezone)
	if err != nil {
		return nil, fmt.Errorf("desk.timezone: %w", err)
	}
	cal, err := calendar.Load(cfg.Desk.CalendarDir, calendar.Options{Location: loc, EveryDay: cfg.Desk.EveryDay, Hours: calendar.Hours{
		Start: cfg.Desk.Hours.Start, End: cfg.Desk.Hours.End, LunchStart: cfg.Desk.Hours.LunchStart, LunchEnd: cfg.Desk.Hours.LunchEnd,
	}})
	if err != nil {
		return nil, fmt.Errorf("load calendar: %w", err)
	}
	now := time.Now()
	if missing := cal.MissingYears(now, now.AddDate(1, 0, 0)); len(missing) > 0 && !cfg.Desk.EveryDay {
		log.Warn("no holiday calendar for these years: counting Monday to Friday as working days until a year file is added to desk.calendar_dir",
			"years", missing)
	}
	// The flows' service lines configure the desk, whose deadlines the
	// flows then check appointment dates against (the Watcher below).
	flowSet, err := intake.Load(intake.Defaults(), cfg.Desk.FlowsDir)
	if err != nil {
		return nil, fmt.Errorf("load flows: %w", err)
	}

	host, _ := os.Hostname()
	owner := fmt.Sprintf("%s:%d", host, os.Getpid())
	client := wechat.NewClient(wechat.ClientOptions{
		AppID: cfg.WeChat.AppID, AppSecret: cfg.WeChat.AppSecret, Owner: owner, Log: log, OnTokenFetch: metrics.TokenFetched,
	}, st)
	outOpts := bot.OutboxOptions{
		Workers: cfg.Outbox.Workers, MaxAttempts: cfg.Outbox.MaxAttempts, Lease: cfg.Outbox.Lease,
		Poll: cfg.Outbox.PollInterval, MaxBackoff: cfg.Outbox.MaxBackoff,
	}
	var wecomCodec *wecom.Codec
	if cfg.WeCom.CorpID != "" {
		outOpts.WeCom = wecom.NewClient(wecom.ClientOptions{
			CorpID: cfg.WeCom.CorpID, Secret: cfg.WeCom.Secret, AgentID: cfg.WeCom.AgentID, Owner: owner, Log: log,
		}, st)
		wecomCodec = wecom.NewCodec(cfg.WeCom.Token, cfg.WeCom.CorpID, cfg.WeCom.AESKey, time.Now)
		wecomCodec.SetMaxClockSkew(cfg.WeChat.MaxClockSkew)
	}
	// The process's one runner for timed work: the outbox, the inbox and
	// the desk register their queues and kinds on it.
	runner := bot.NewRunner(st, cfg.Outbox.PollInterval, nil, log)
	// A notice that no channel delivers goes to the officer's chief (issue
	// 12 item 8). The desk is made below, with the outbox; the runner
	// starts, and outcomes arrive, only once both exist.
	var d *desk.Desk
	outOpts.OnOutcome = func(ctx context.Context, m bot.Outgoing, o store.Outcome) {
		if dm, ok := bot.Undelivered(m, o); ok {
			if err := d.NotDelivered(ctx, dm); err != nil {
				log.ErrorContext(ctx, "hand on undelivered notice failed", "message_id", m.ID, "err", err)
			}
		}
	}
	outbox := bot.NewOutbox(runner, st, client, metrics, log, outOpts)

	templates := map[string]bot.TemplateSpec{}
	for kind, t := range cfg.Desk.Templates {
		templates[kind] = bot.TemplateSpec{ID: t.ID, Fields: t.Fields}
	}
	lineNames := lineTitles(flowSet)
	var lines []string
	for _, f := range flowSet.Lines() {
		if f.Line != "" {
			lines = append(lines, f.Line)
		}
	}
	dir, rules, err := deskConfig(cfg.Desk, lines, log)
	if err != nil {
		return nil, err
	}
	rules.Survey = surveyRules(cfg)
	if cfg.Web.BaseURL != "" {
		rules.LoginURL = strings.TrimRight(cfg.Web.BaseURL, "/") + "/desk/login/"
	}
	rules.Survey.Notice = templates["survey_notice"].ID != ""
	// Officers send the flows' guides (指南); the flows, made below, take
	// the desk's deadlines as the guides' time limits.
	guides := &guideBook{}
	d, err = desk.New(deskStore{st, runner}, cal, bot.NewNotifier(outbox, templates), dir, rules,
		desk.Options{Log: log, LineNames: lineNames, Location: loc, Guides: guides})
	if err != nil {
		return nil, err
	}
	fopts := flowOptions(dir, cal, loc, d)
	fopts.Retention = cfg.Desk.Retention // the consent notice says how long
	watcher, err := intake.Watch(intake.Defaults(), cfg.Desk.FlowsDir, log, fopts)
	if err != nil {
		return nil, fmt.Errorf("load flows: %w", err)
	}
	guides.flows = watcher
	for _, dp := range d.Unreachable() {
		log.Warn("nobody can receive this department's tickets: give an officer, its chief or the leader an openid or wecom_user in desk.officers, or bind one with `huimin officer add`",
			"department", dp.ID, "name", dp.Name)
	}
	campaignMessages := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "huimin_campaign_messages_total",
		Help: "Reminder campaign messages by campaign and outcome (sent, fallback, skipped, failed), each person counted once per run.",
	}, []string{"campaign", "outcome"})
	reminders, err := campaigns.New(campaignStore{st, runner}, bot.NewNotifier(outbox, templates), campaignList(cfg.Campaigns), campaigns.Options{
		Rate: cfg.Campaigns.Rate, Location: loc, Log: log,
		Usable:     func(name string) bool { return templates[name].ID != "" },
		NoticeID:   func(name string) string { return templates[name].ID },
		Counted:    func(c, outcome string) { campaignMessages.WithLabelValues(c, outcome).Inc() },
		AfterQuiet: d.AfterQuiet,
	})
	if err != nil {
		return nil, err
	}
	engineOpts := flows.EngineOptions{ResumeWindow: cfg.Bot.SessionTTL, Consents: st, Log: log}
	if len(cfg.Campaigns.List) > 0 {
		engineOpts.Reminders = reminders
	}
	engine := flows.NewEngine(st, watcher, d, engineOpts)
	codec := wechat.NewCodec(cfg.WeChat.Token, cfg.WeChat.AppID, cfg.WeChat.AESKey, time.Now)
	codec.SetMaxClockSkew(cfg.WeChat.MaxClockSkew)
	if cfg.WeChat.AESKey == "" {
		log.Warn("plain mode: the signature does not cover the message, so a leaked request URL lets anyone post as any openid within wechat.max_clock_skew; set wechat.aes_key and choose safe mode (安全模式) in the console for production")
	}
	wh := bot.NewWebhook(codec, engine, st, runner, outbox, metrics, log, bot.WebhookOptions{
		MaxBody: cfg.HTTP.MaxBodyBytes, Budget: cfg.WeChat.ReplyBudget, DedupTTL: cfg.WeChat.DedupTTL,
	})
	runner.Register(deskQueue(cfg.Desk.SweepInterval, cfg.Desk.TimerWorkers), deskTimers(d)...)
	runner.Register(visitQueue(cfg.Desk.SweepInterval, cfg.Desk.TimerWorkers, cfg.Survey.PerSecond), visitTimers(d, cfg.Survey.PerSecond))
	runner.Register(campaignQueue(cfg.Desk.SweepInterval, cfg.Outbox.Lease, cfg.Desk.TimerWorkers), campaignHandlers(reminders)...)
	published := results.NewPublisher(st, publishOptions(cfg, d, loc, log))
	pageOpts := web.Options{Bureau: cfg.Web.Bureau, Offices: officeDirectory{dir, watcher}, Guides: guidePages{watcher, d},
		Surveys: d, Results: published,
		Supervisor: d, Sessions: st, SessionTTL: cfg.Web.SessionTTL, BaseURL: cfg.Web.BaseURL, Location: loc, Log: log}
	if cfg.Survey.OAuth {
		pageOpts.OAuth = surveyOAuth{wechat.NewOAuth(wechat.OAuthOptions{
			AppID: cfg.WeChat.AppID, AppSecret: cfg.WeChat.AppSecret, AuthorizeBase: cfg.WeChat.OAuthBaseURL,
		})}
		pageOpts.Secret = rules.Survey.Secret
	}
	pages, err := web.New(pageOpts)
	if err != nil {
		return nil, err
	}
	a := &app{client: client, outbox: outbox, desk: d, flows: watcher, webhook: wh, metrics: metrics, pages: pages, runner: runner,
		results: published, campaigns: reminders, campaignMessages: campaignMessages}
	if wecomCodec != nil {
		a.wecom = bot.NewWeComWebhook(wecomCodec, wh, log)
	}
	return a, nil
}

// surveyOAuth is WeChat's web authorisation as the survey page takes it:
// a code WeChat refused is the page's ErrOAuthCode (a reloaded or kept
// address), anything else the service's failure.
type surveyOAuth struct{ *wechat.OAuth }

func (o surveyOAuth) OpenID(ctx context.Context, code string) (string, error) {
	id, err := o.OAuth.OpenID(ctx, code)
	if wechat.CodeRefused(err) {
		return "", fmt.Errorf("%w: %w", web.ErrOAuthCode, err)
	}
	return id, err
}

// deskQueue is the runner's queue of the desk's timers, looked at every
// poll for timers other instances scheduled. Its items without a kind
// (scheduled before kinds were stored) go to the handler of any desk kind:
// HandleTimer reads the timer's kind from its payload.
func deskQueue(poll time.Duration, workers int) bot.Queue {
	// Timers of different tickets run side by side, one ticket's in order.
	return bot.Queue{Name: desk.Queue, Batch: 64, Lease: 2 * time.Minute, Poll: poll, Workers: workers,
		Serial: desk.TimerTicket, Default: bot.Kind(desk.TimerAssign)}
}

// visitQueue is the runner's queue of return visits. A morning's visits
// are scheduled one after another from 10:00 at survey.per_second across
// instances (desk.SurveyRules.PerSecond); the queue is looked at once a
// second at most (Coalesce), so that each look claims a second's worth
// rather than every instance claiming every visit as it falls due. An
// instance holds at most what its pacing
// (perSecond, 0: none) works through in 30 s (3,000 visits unpaced), well
// within the lease, so that no visit's lease runs out while it waits for
// its turn; it claims them in batches of 200, one after another, so that
// no claim holds Redis long enough to delay the webhook's commands
// behind it (TestVisitBatchesFitTheLease, BenchmarkVisitSweep,
// BenchmarkWebhookDuringVisitSweep).
func visitQueue(poll time.Duration, workers, perSecond int) bot.Queue {
	held := 3000
	if perSecond > 0 {
		held = min(held, max(32, 30*perSecond))
	}
	batch := min(200, held)
	return bot.Queue{Name: desk.VisitQueue, Batch: batch, Batches: (held + batch - 1) / batch, Lease: 2 * time.Minute,
		Poll: poll, Coalesce: time.Second, Workers: workers, Serial: desk.TimerTicket}
}

// deskTimers are the handlers of the desk's timer kinds but the visits'. A
// failed timer is retried with backoff until it succeeds (an assignment
// nobody can yet receive, a store outage); the desk makes a retried timer
// do nothing twice.
func deskTimers(d *desk.Desk) []bot.Handler {
	var hs []bot.Handler
	for _, k := range desk.TimerKinds() {
		if k != desk.TimerVisit {
			hs = append(hs, bot.Handler{Kind: bot.Kind(k), Do: d.HandleTimer})
		}
	}
	return hs
}

// visitTimers is the handler of return visits, paced to perSecond in this
// process (0: not paced): a morning's visits are worked through beside
// the webhook and within WeChat's rate limits.
func visitTimers(d *desk.Desk, perSecond int) bot.Handler {
	h := bot.Handler{Kind: bot.Kind(desk.TimerVisit), Do: d.HandleTimer}
	if perSecond > 0 {
		h.Every = time.Second / time.Duration(perSecond)
	}
	return h
}

// campaignList turns the configured campaigns into the service's.
func campaignList(c config.Campaigns) []campaigns.Campaign {
	out := make([]campaigns.Campaign, 0, len(c.List))
	for _, cp := range c.List {
		out = append(out, campaigns.Campaign{ID: cp.ID, Name: cp.Name, Text: cp.Text, Lines: cp.Lines, TicketHolders: cp.TicketHolders,
			Spec: cp.Schedule, Template: cp.Template, Notice: cp.Notice})
	}
	return out
}

// campaignQueue is the runner's queue of campaign runs and sends. Sends
// are spaced at campaigns.rate across instances by their due times; the
// queue is looked at once a second at most, so that each look claims a
// second's worth. Its items take no longer than the outbox's (a send
// queues a message and looks at its outcome; a run saves its cursor after
// each page, so a run taken over after its lease goes on from there), so
// they share the outbox's lease: what a dead instance held is taken up
// as soon as the outbox's messages are.
func campaignQueue(poll, lease time.Duration, workers int) bot.Queue {
	return bot.Queue{Name: campaigns.Queue, Batch: 64, Lease: lease, Poll: poll, Coalesce: time.Second, Workers: workers}
}

// campaignHandlers do a campaign's run (retried until it has scheduled
// every send) and its sends (looked at again, every few seconds, until
// the outbox has the message's end).
func campaignHandlers(svc *campaigns.Service) []bot.Handler {
	return []bot.Handler{
		{Kind: campaigns.KindRun, Do: svc.HandleRun},
		{Kind: campaigns.KindSend, Do: svc.HandleSend, Retry: bot.Retry{First: time.Second, Max: 30 * time.Second}},
	}
}

// campaignStore is the store as campaigns use it, scheduling through the
// runner like deskStore.
type campaignStore struct {
	backend
	runner *bot.Runner
}

func (s campaignStore) Schedule(ctx context.Context, queue string, it store.DueItem) (bool, error) {
	return s.runner.Schedule(ctx, queue, it)
}

// deskStore is the store as the desk uses it, scheduling through the
// runner: a timer this process sets is done when it falls due, not at the
// next look for other instances' timers.
type deskStore struct {
	desk.Store
	runner *bot.Runner
}

func (s deskStore) Schedule(ctx context.Context, queue string, it store.DueItem) (bool, error) {
	return s.runner.Schedule(ctx, queue, it)
}

// deskConfig turns the configuration into the desk's directory and rules.
// With no departments configured, one general window takes every line, so
// tickets are numbered and wait for staff to be configured.
func deskConfig(c config.Desk, lines []string, log *slog.Logger) (desk.Directory, desk.Rules, error) {
	var dir desk.Directory
	for _, dp := range c.Departments {
		dir.Departments = append(dir.Departments, desk.Department{ID: dp.ID, Name: dp.Name, Lines: dp.Lines, Supervisor: dp.Supervisor,
			Contact: desk.Contact(dp.Contact)})
	}
	for _, o := range c.Officers {
		dir.Officers = append(dir.Officers, desk.Officer{ID: o.ID, Name: o.Name, Department: o.Department, OpenID: o.OpenID,
			WeComUser: o.WeComUser, MaxOpen: o.MaxOpen, Supervisor: o.Supervisor, Leader: o.Leader})
	}
	for _, a := range c.Agencies {
		dir.Agencies = append(dir.Agencies, desk.Agency{ID: a.ID, Name: a.Name, Lines: a.Lines, Contact: desk.Contact(a.Contact)})
	}
	for _, w := range c.Windows {
		dir.Windows = append(dir.Windows, desk.Window{ID: w.ID, Name: w.Name, Departments: w.Departments, Towns: w.Towns,
			Contact: desk.Contact(w.Contact)})
	}
	covered := map[string]bool{}
	for _, dp := range dir.Departments {
		for _, l := range dp.Lines {
			covered[l] = true
		}
	}
	var uncovered []string
	for _, l := range lines {
		if !covered[l] {
			uncovered = append(uncovered, l)
		}
	}
	if len(uncovered) > 0 {
		log.Warn("service lines without a department go to the general window; configure desk.departments", "lines", uncovered)
		dir.Departments = append(dir.Departments, desk.Department{ID: "general", Name: "综合受理窗口", Lines: uncovered})
	}
	rules := desk.Rules{
		TicketPrefix: c.TicketPrefix, RemindAt: c.RemindAt, RemindLastDay: c.RemindLastDay,
		LeaderAfter: c.LeaderAfterDays, MaxExtensionDays: c.MaxExtensionDays,
		Deadlines: map[string]map[string]desk.Limit{}, Supervision: c.Supervision,
	}
	for _, h := range c.HelpLines {
		rules.HelpLines = append(rules.HelpLines, desk.HelpLine{Name: h.Name, Phone: h.Phone})
	}
	for line, m := range c.Deadlines {
		rules.Deadlines[line] = map[string]desk.Limit{}
		for q, v := range m {
			days, hours, err := config.ParseLimit(v)
			if err != nil {
				return dir, rules, fmt.Errorf("desk.deadlines.%s.%s: %w", line, q, err)
			}
			rules.Deadlines[line][q] = desk.Limit{Days: days, Hours: hours}
		}
	}
	if c.ResponseLimit != "" {
		days, hours, err := config.ParseLimit(c.ResponseLimit)
		if err != nil {
			return dir, rules, fmt.Errorf("desk.response_limit: %w", err)
		}
		rules.Response = desk.Limit{Days: days, Hours: hours}
	}
	rules.Urgent = map[string]desk.Limit{}
	for line, v := range c.UrgentDeadlines {
		days, hours, err := config.ParseLimit(v)
		if err != nil {
			return dir, rules, fmt.Errorf("desk.urgent_deadlines.%s: %w", line, err)
		}
		rules.Urgent[line] = desk.Limit{Days: days, Hours: hours}
	}
	return dir, rules, nil
}

// officeDirectory feeds the offices page from the desk's directory (the
// configured departments, the general window when lines are left over, the
// outside agencies) and names the service lines with the flows' current
// titles, so that a reloaded flow renames its line on the page too.
type officeDirectory struct {
	dir   desk.Directory
	flows *intake.Watcher
}

// Offices lists the departments, then the agencies; lines without a flow
// are left out, as people could not read their ids.
func (o officeDirectory) Offices(context.Context) ([]web.Office, error) {
	titles := lineTitles(o.flows.Current())
	names := func(lines []string) []string {
		var out []string
		for _, l := range lines {
			if t := titles[l]; t != "" {
				out = append(out, t)
			}
		}
		return out
	}
	out := make([]web.Office, 0, len(o.dir.Departments)+len(o.dir.Agencies))
	for _, dp := range o.dir.Departments {
		out = append(out, web.Office{Name: dp.Name, Lines: names(dp.Lines), Address: dp.Address, Hours: dp.Hours, Phone: dp.Phone})
	}
	for _, a := range o.dir.Agencies {
		out = append(out, web.Office{Name: a.Name, Lines: names(a.Lines), Address: a.Address, Hours: a.Hours, Phone: a.Phone, Agency: true})
	}
	return out, nil
}

// lineTitles maps each service line to its flow's title (低保、特困、临时救助).
func lineTitles(set *intake.Set) map[string]string {
	titles := map[string]string{}
	for _, f := range set.Lines() {
		if f.Line != "" {
			titles[f.Line] = f.Title
		}
	}
	return titles
}

var _ web.OfficeLister = officeDirectory{}

// guideBook gives officers the flows' current guides (a reload changes
// them too). flows is set once the flows are loaded, before the service
// takes any message.
type guideBook struct {
	flows *intake.Watcher
}

// Guide finds the guide ref names, or the first of line, with its text.
func (g *guideBook) Guide(ref, line string) (string, string, bool) {
	set := g.flows.Current()
	gd, ok := set.FindGuide(ref, line)
	if !ok {
		return "", "", false
	}
	return gd.Title, set.GuideText(gd), true
}

// GuideIndex lists the guides' IDs and titles.
func (g *guideBook) GuideIndex() []desk.GuideInfo {
	var out []desk.GuideInfo
	for _, gd := range g.flows.Current().Guides() {
		out = append(out, desk.GuideInfo{ID: gd.ID, Title: gd.Title})
	}
	return out
}

var _ desk.GuideBook = (*guideBook)(nil)

// guidePages feeds /guide from the flows' current guides (each with the
// office that answers for it and the desk's time limit) and the desk's
// limits for each service line by inquiry type.
type guidePages struct {
	flows *intake.Watcher
	desk  *desk.Desk
}

// Guides lists the guides, naming their lines with the flows' titles.
func (g guidePages) Guides(context.Context) ([]web.Guide, error) {
	set := g.flows.Current()
	titles := lineTitles(set)
	var out []web.Guide
	for _, gd := range set.Guides() {
		wg := web.Guide{ID: gd.ID, Title: gd.Title, Line: titles[gd.Line], Who: gd.Who, Materials: gd.Materials, Basis: gd.Basis,
			Fee: gd.Fee, LimitDays: gd.LimitDays, LimitHours: gd.LimitHours}
		if gd.HasOffice {
			o := gd.Office
			wg.Office = &web.Office{Name: o.Name, Address: o.Address, Hours: o.Hours, Phone: o.Phone, Agency: o.Outside}
		}
		out = append(out, wg)
	}
	return out, nil
}

// Limits lists each service line's time limits by inquiry type, as
// desk.deadlines configures them.
func (g guidePages) Limits(context.Context) ([]web.LineLimit, error) {
	set := g.flows.Current()
	// The lines in the order of the guides below them on the page, then
	// any line without a guide.
	rank := map[string]int{}
	for i, gd := range set.Guides() {
		if _, ok := rank[gd.Line]; !ok {
			rank[gd.Line] = i
		}
	}
	lines := slices.DeleteFunc(set.Lines(), func(f intake.FlowInfo) bool { return f.Line == "" })
	slices.SortStableFunc(lines, func(a, b intake.FlowInfo) int {
		ra, oka := rank[a.Line]
		rb, okb := rank[b.Line]
		switch {
		case oka && okb:
			return cmp.Compare(ra, rb)
		case oka:
			return -1
		case okb:
			return 1
		}
		return 0
	})
	var out []web.LineLimit
	for _, f := range lines {
		ll := web.LineLimit{Line: f.Title}
		for _, q := range intake.TimedInquiryTypes() {
			l := g.desk.Limit(f.Line, q)
			ll.Limits = append(ll.Limits, web.TypeLimit{Type: q, Days: l.Days, Hours: l.Hours})
		}
		out = append(out, ll)
	}
	return out, nil
}

var _ web.GuideLister = guidePages{}

// flowOptions is what the conversation flows need from the bureau: its
// working-day calendar and time zone, the deadlines the desk gives matters
// (no appointment after one), and the offices answers send citizens to,
// with their contacts as configured (the general window too, when it
// takes lines no department has).
func flowOptions(dir desk.Directory, cal *calendar.Calendar, loc *time.Location, d *desk.Desk) intake.Options {
	opts := intake.Options{Location: loc, Calendar: cal, Deadline: d.Deadline}
	if d != nil {
		opts.Limit = func(line, inquiry string) intake.Limit {
			l := d.Limit(line, inquiry)
			return intake.Limit{Days: l.Days, Hours: l.Hours}
		}
	}
	for _, dp := range dir.Departments {
		opts.Offices = append(opts.Offices, intake.Office{ID: dp.ID, Name: dp.Name, Lines: dp.Lines,
			Address: dp.Address, Hours: dp.Hours, Phone: dp.Phone})
	}
	for _, a := range dir.Agencies {
		opts.Offices = append(opts.Offices, intake.Office{ID: a.ID, Name: a.Name, Lines: a.Lines, Outside: true,
			Address: a.Address, Hours: a.Hours, Phone: a.Phone})
	}
	return opts
}

// run does the app's background work — the runner's timed work (outbox,
// inbox, desk timers) and the flows' reloads — until ctx ends and the work
// in hand is done.
func (a *app) run(ctx context.Context) {
	var wg sync.WaitGroup
	wg.Go(func() { a.runner.Run(ctx) })
	wg.Go(func() { a.flows.Run(ctx, 5*time.Second) })
	wg.Wait()
}

// publishOptions are the public results' windows (every department's and
// the configured ones), what they show and the bureau's rules they count
// by.
func publishOptions(cfg config.Config, d *desk.Desk, loc *time.Location, log *slog.Logger) results.PublishOptions {
	opts := results.PublishOptions{
		Months: cfg.Results.Months, MinAnswers: cfg.Results.MinAnswers, Log: log,
		Counter: results.Counter{Location: loc},
	}
	for _, w := range d.Windows() {
		opts.Windows = append(opts.Windows, results.Window{ID: w.ID, Name: w.Name})
	}
	if _, ok := d.RespondBy(time.Now()); ok {
		opts.Counter.RespondBy = func(created time.Time) time.Time { t, _ := d.RespondBy(created); return t }
	}
	if cfg.Results.ShowOfficers {
		opts.Officers = d.OfficerName
	}
	return opts
}

// surveyRules turns the survey configuration into the desk's rules (the
// configuration was validated on load). The page links are signed with
// survey.secret, or with a key derived from the WeChat secrets, which
// every instance of one account shares.
func surveyRules(cfg config.Config) desk.SurveyRules {
	sc := cfg.Survey
	visitAt, _ := config.ParseClock(sc.VisitAt)
	qs, qe, _ := sc.Quiet()
	secret := []byte(sc.Secret)
	if len(secret) == 0 {
		m := hmac.New(sha256.New, []byte(cfg.WeChat.AppSecret+"\x00"+cfg.WeChat.Token+"\x00"+cfg.WeChat.AESKey))
		m.Write([]byte("huimin survey links"))
		secret = m.Sum(nil)
	}
	page := ""
	if cfg.Web.BaseURL != "" {
		page = strings.TrimRight(cfg.Web.BaseURL, "/") + "/survey/"
	}
	return desk.SurveyRules{
		Delay: sc.Delay, VisitAt: visitAt, QuietStart: qs, QuietEnd: qe, Expire: sc.Expire, RemindAfter: sc.RemindAfter,
		NoAnswerLevel: sc.NoAnswerLevel, VerifyDays: sc.VerifyDays, RectifyDays: sc.RectifyDays, PageURL: page, Secret: secret,
		PerSecond: sc.PerSecond,
	}
}
