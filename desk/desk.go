package desk

import (
	"context"
	_ "embed"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"strconv"
	"time"

	"huimin/chat"
	"huimin/chat/texts"

	"huimin/store"
)

// Store is what the desk keeps in the store.
type Store interface {
	NextSeq(ctx context.Context, name string, ttl time.Duration) (int64, error)
	CreateTicket(ctx context.Context, t store.Ticket) error
	GetTicket(ctx context.Context, id string) (store.Ticket, error)
	UpdateTicket(ctx context.Context, t store.Ticket) (store.Ticket, error)
	ListTickets(ctx context.Context, f store.TicketFilter) ([]store.Ticket, error)
	CountTickets(ctx context.Context, f store.TicketFilter) (int, error)
	TicketFacts(ctx context.Context, from, to time.Time, fn func(store.Facts) error) error
	BindOfficer(ctx context.Context, userID, officerID string) error
	OfficerByUser(ctx context.Context, userID string) (string, error)
	UserOfOfficer(ctx context.Context, officerID string) (string, error)
	PutBindCode(ctx context.Context, code, officerID string, ttl time.Duration) error
	TakeBindCode(ctx context.Context, code string) (string, error)
	GetCache(ctx context.Context, key string) (string, error)
	TakeCache(ctx context.Context, key string) (string, error)
	SetCache(ctx context.Context, key, value string, ttl time.Duration) error
	DeleteCache(ctx context.Context, key string) error
	Schedule(ctx context.Context, queue string, it store.DueItem) (bool, error)
	Cancel(ctx context.Context, queue, id string) error
}

// Message is one notice the desk sends outside the reply to the current
// message: an assignment to an officer, an officer's answer to a citizen.
type Message struct {
	// ID makes sending idempotent: the same ID is sent once.
	ID string
	// Channel is where To, a user ID there, is reached.
	Channel chat.Channel
	To      string
	Text    string
	// Template names the template message to send instead when WeChat
	// refuses the chat message (outside the 48-hour window), with its fields.
	Template string
	Fields   map[string]string
	// Image, when set, is a picture to pass on instead of Text.
	Image *Image
	// Options and Tail make a chat message a menu of tappable choices
	// (the survey's levels); URL is the link of its template or notice.
	Options []chat.Option
	Tail    string
	URL     string
	// Form is FormNotice for a subscribe notice (订阅通知) of Template,
	// instead of a chat message.
	Form string
	// Officer is the officer the message is for (empty for a citizen), and
	// Ticket the ticket it concerns (may be empty): what NotDelivered
	// needs to hand the message on when no channel can deliver it.
	Officer, Ticket string
}

// Image is a picture a citizen sent: WeChat's media ID (valid for three
// days) and its link.
type Image struct {
	MediaID, URL string
}

// FormNotice sends a Message as a subscribe notice.
const FormNotice = "notice"

// Notifier sends messages and says how they went; bot's notifier, on the
// outbox, satisfies it.
type Notifier interface {
	Notify(ctx context.Context, msgs ...Message) error
	Deliveries
}

// Queue is the due-queue the desk's timers live in; the service's runner
// claims them and calls HandleTimer.
const Queue = "desk"

// VisitQueue holds the return visits (TimerVisit) apart from the desk's
// other timers: a morning's visits fall due together and are claimed in
// large batches and paced, which must hold back no reminder or
// assignment.
const VisitQueue = "visit"

// queueOf is the due-queue a timer kind lives in.
func queueOf(k TimerKind) string {
	if k == TimerVisit {
		return VisitQueue
	}
	return Queue
}

// Desk applies the service-desk rules.
type Desk struct {
	st      Store
	cal     workingDay
	note    Notifier
	dir     *directory
	rules   Rules
	lines   map[string]string // line key → display name
	citizen *texts.Book
	officer *texts.Book
	// levels are the survey levels' names, 0 (未评价) to 5, said once:
	// every citizen's message is checked against them.
	levels [LevelVeryDissatisfied + 1]string
	// commands maps the officers' command words to commands; commandList
	// is the words, longest first.
	commands    map[string]string
	commandList []string
	now         func() time.Time
	loc         *time.Location
	log         *slog.Logger
	guides      GuideBook // nil: no guides to send
}

// Options are the desk's optional knobs.
type Options struct {
	Now func() time.Time
	Log *slog.Logger
	// LineNames maps service-line keys to the names people read.
	LineNames map[string]string
	// Location is the bureau's time zone for ticket numbers and dates.
	Location *time.Location
	// Guides are the service guides officers send with 指南; nil: none.
	Guides GuideBook
}

// New returns a desk.
func New(st Store, cal workingDay, note Notifier, dir Directory, rules Rules, opts Options) (*Desk, error) {
	d, err := newDirectory(dir)
	if err != nil {
		return nil, fmt.Errorf("desk directory: %w", err)
	}
	citizen, err := texts.Load(texts.Citizen)
	if err != nil {
		return nil, err
	}
	officer, err := texts.Load(texts.Officer)
	if err != nil {
		return nil, err
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.Log == nil {
		opts.Log = slog.New(slog.DiscardHandler)
	}
	if opts.Location == nil {
		opts.Location = time.Local
	}
	if rules.TicketPrefix == "" {
		rules.TicketPrefix = "MZ"
	}
	rules.Survey.defaults()
	if rules.MaxExtensionDays <= 0 {
		rules.MaxExtensionDays = 15
	}
	if _, ok := d.depts[rules.Supervision]; rules.Supervision != "" && !ok {
		return nil, fmt.Errorf("desk supervision office: unknown department %q", rules.Supervision)
	}
	commands, commandList := commandWords(officer)
	out := &Desk{st: st, cal: cal, note: note, dir: d, rules: rules, lines: opts.LineNames, citizen: citizen, officer: officer,
		commands: commands, commandList: commandList, now: opts.Now, loc: opts.Location, log: opts.Log, guides: opts.Guides}
	for l := range out.levels {
		out.levels[l] = citizen.Say("level_"+strconv.Itoa(l), nil)
	}
	return out, nil
}

func (d *Desk) when(t time.Time) string {
	return t.In(d.loc).Format("1月2日15:04")
}

func (d *Desk) lineName(line string) string {
	if n, ok := d.lines[line]; ok {
		return n
	}
	return line
}

// OpenRequest is a citizen's matter, as the intake flow collected it.
type OpenRequest struct {
	Citizen string
	Line    string
	Inquiry string
	Summary string
	Fields  map[string]string
	// Labels names each field as the flow asked for it.
	Labels      map[string]string
	Name        string
	Phone       string
	IDNumber    string
	Urgent      bool
	Attachments []store.Attachment
	Transcript  []store.Utterance
	// Window is the service window whose QR code the citizen scanned to
	// begin; empty (or unknown) counts the matter by department and town.
	Window string
	// Source identifies the message that confirmed the matter (see
	// chat.Event.Source): WeChat's retry of that message, or its replay
	// after a crash, finds the ticket it opened instead of opening another.
	Source string
}

// sourceTTL is how long the message that opened a ticket is remembered:
// far longer than WeChat retries a message or the inbox replays one.
const sourceTTL = 24 * time.Hour

// Open creates a ticket and routes it: at once in working hours, else at
// the start of the next working period. An urgent matter gets the urgent
// deadline and its department's chief is told at once, at any hour.
//
// A crash anywhere in it loses nothing and doubles nothing: the ticket's
// number and its assignment timer are recorded before the ticket itself,
// so a ticket never exists without the timer that routes it (a timer
// whose ticket was never written does nothing), and the same Source
// opening again finishes the same ticket.
func (d *Desk) Open(ctx context.Context, req OpenRequest) (store.Ticket, error) {
	now := d.now()
	deptID, ok := d.dir.byLine[req.Line]
	if !ok {
		return store.Ticket{}, refusal(OpOpen, ErrInvalid, "unknown_line", "", "", map[string]any{"Line": req.Line})
	}
	id, err := d.openedBy(ctx, req.Source)
	if err != nil {
		return store.Ticket{}, err
	}
	if id != "" {
		t, err := d.st.GetTicket(ctx, id)
		if err == nil {
			// The message was handled before and its answer lost: the
			// ticket stands; finish what a crash may have cut short.
			return d.routeNew(ctx, t)
		}
		if !errors.Is(err, store.ErrNotFound) {
			return store.Ticket{}, fmt.Errorf("get ticket %s: %w", id, err)
		}
		// Numbered, never written: write it now, under that number.
	} else {
		day := now.In(d.loc).Format("20060102")
		seq, err := d.st.NextSeq(ctx, "ticket:"+day, 72*time.Hour)
		if err != nil {
			return store.Ticket{}, fmt.Errorf("number ticket: %w", err)
		}
		id = fmt.Sprintf("%s%s-%04d", d.rules.TicketPrefix, day, seq)
		if req.Source != "" {
			if err := d.st.SetCache(ctx, sourceKey(req.Source), id, sourceTTL); err != nil {
				return store.Ticket{}, fmt.Errorf("record source of %s: %w", id, err)
			}
		}
	}
	window := req.Window
	if !d.dir.windowIDs[window] {
		window = d.dir.windowOf(deptID, req.Fields[FieldTown])
	}
	// A complaint or a report counts under the window it concerns but
	// is handled by the supervision office where the bureau has one.
	lineDept := deptID
	deptID = d.intakeDepartment(req.Inquiry, deptID)
	limit := d.rules.limit(req.Line, req.Inquiry)
	if req.Urgent {
		limit = d.rules.urgentLimit(req.Line)
	}
	t := store.Ticket{
		ID:            id,
		CitizenOpenID: req.Citizen, Line: req.Line, Inquiry: req.Inquiry, Summary: req.Summary,
		Fields: req.Fields, Labels: req.Labels, Name: req.Name, Phone: req.Phone, IDNumber: req.IDNumber, Urgent: req.Urgent,
		Attachments: req.Attachments, Transcript: req.Transcript,
		State: next(OpOpen, ""), Department: deptID, Window: window, CreatedAt: now,
		Deadline: d.deadline(now, limit),
		History:  []store.TicketEvent{{At: now, Actor: actorCitizen, Kind: eventOf[OpOpen], Deadline: d.deadline(now, limit)}},
	}
	switch req.Inquiry {
	case store.InquiryPraise:
		t.Department = lineDept
		return d.recordPraise(ctx, t)
	case inquiryComplaint:
		t.Against = d.namedOfficer(req.Fields[FieldOfficer])
	case inquiryReport:
		t.Confidential = true
	}
	// The assignment is scheduled before the ticket is written: a crash
	// in between leaves a timer that finds no ticket, never a ticket
	// nobody was told of. In working hours it is done at once as well;
	// the timer, due a little later, then finds the ticket assigned and
	// does nothing.
	at := now.Add(assignSafetyNet)
	if !d.cal.InWorkingHours(now) {
		at = d.cal.NextWorkingStart(now)
	}
	if err := d.schedule(ctx, timer{Kind: TimerAssign, Ticket: t.ID}, at); err != nil {
		return store.Ticket{}, err
	}
	if err := d.st.CreateTicket(ctx, t); err != nil {
		return store.Ticket{}, fmt.Errorf("create ticket: %w", err)
	}
	t.Version = 1
	d.log.InfoContext(ctx, "ticket created", "ticket_id", t.ID, "line", t.Line, "department", t.Department, "urgent", t.Urgent)
	return d.routeNew(ctx, t)
}

// routeNew does what follows a ticket's creation, each step safe to
// repeat: its deadline's timers, the chief's alert for an urgent matter,
// and in working hours the assignment.
func (d *Desk) routeNew(ctx context.Context, t store.Ticket) (store.Ticket, error) {
	if t.State != store.StateReceived {
		return t, nil // routed already
	}
	if err := d.scheduleDeadline(ctx, t); err != nil {
		return t, err
	}
	alerted := slices.ContainsFunc(t.History, func(e store.TicketEvent) bool { return e.Kind == eventOf[OpUrgentAlert] })
	if t.Urgent && !alerted {
		if err := d.alertUrgent(ctx, t); err != nil {
			return t, err
		}
	}
	if !d.cal.InWorkingHours(d.now()) {
		return t, nil
	}
	return d.assign(ctx, t.ID, "")
}

// OpenedBy returns the ticket that the message source opened, if any: a
// redelivered message (its answer lost in a crash) is answered with it.
func (d *Desk) OpenedBy(ctx context.Context, source string) (store.Ticket, bool, error) {
	id, err := d.openedBy(ctx, source)
	if err != nil || id == "" {
		return store.Ticket{}, false, err
	}
	t, err := d.st.GetTicket(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return store.Ticket{}, false, nil
	}
	if err != nil {
		return store.Ticket{}, false, fmt.Errorf("get ticket %s: %w", id, err)
	}
	return t, true, nil
}

// openedBy returns the ticket a source opened, or "" for none.
func (d *Desk) openedBy(ctx context.Context, source string) (string, error) {
	if source == "" {
		return "", nil
	}
	id, err := d.st.GetCache(ctx, sourceKey(source))
	if errors.Is(err, store.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("look up source: %w", err)
	}
	return id, nil
}

func sourceKey(source string) string { return "opened_by:" + source }

// assignSafetyNet is how long after a ticket is received its assignment
// timer falls due in working hours: the assignment itself is immediate,
// the timer only catches a crash in between.
const assignSafetyNet = time.Minute

// Acknowledgement is what the citizen is told when their matter is received.
func (d *Desk) Acknowledgement(t store.Ticket) string {
	data := d.ticketData(t)
	if t.Inquiry == store.InquiryPraise {
		return d.citizen.Say("praise_ack", data)
	}
	if t.Urgent {
		data["HelpLines"] = d.rules.HelpLines
	}
	if !d.cal.InWorkingHours(t.CreatedAt) {
		data["Start"] = d.when(d.cal.NextWorkingStart(t.CreatedAt))
	}
	return d.citizen.Say("ack", data)
}

// Limit is the time limit (限时办结) of a matter of the service line and
// inquiry type, as the bureau configured it (desk.deadlines).
func (d *Desk) Limit(line, inquiry string) Limit {
	return d.rules.limit(line, inquiry)
}

// Deadline is when a matter of this service line and inquiry type,
// received at from, must be resolved.
func (d *Desk) Deadline(line, inquiry string, from time.Time) time.Time {
	return d.deadline(from, d.rules.limit(line, inquiry))
}

// deadline counts the limit from the moment a ticket is received.
func (d *Desk) deadline(from time.Time, l Limit) time.Time {
	if l.Hours > 0 {
		return d.cal.AddWorkingDuration(from, time.Duration(l.Hours)*time.Hour)
	}
	return d.cal.AddWorkingDays(from, l.Days)
}

// Identify tells a new conversation whether the account is an officer's:
// one named in the configuration, or the one bound to it (boundOfficer,
// which the session store reads along with a new session).
func (d *Desk) Identify(channel chat.Channel, userID, boundOfficer string) (Officer, bool) {
	if o, ok := d.configured(channel, userID); ok {
		return o, true
	}
	o, ok := d.dir.officers[boundOfficer]
	return o, ok
}

// configured returns the officer the configuration names for a chat account.
func (d *Desk) configured(channel chat.Channel, userID string) (Officer, bool) {
	for _, o := range d.dir.officers {
		if (channel == chat.ChannelWeCom && o.WeComUser == userID) || (channel != chat.ChannelWeCom && o.OpenID != "" && o.OpenID == userID) {
			return o, true
		}
	}
	return Officer{}, false
}

func bindingKey(channel chat.Channel, userID string) string {
	if channel == chat.ChannelWeCom {
		return "wecom:" + userID
	}
	return userID
}

// OfficerFor returns the officer behind a chat account, if any: one named
// in the configuration, or, when bindings is true, one bound with a code.
func (d *Desk) OfficerFor(ctx context.Context, channel chat.Channel, userID string, bindings bool) (Officer, bool, error) {
	if o, ok := d.configured(channel, userID); ok {
		return o, true, nil
	}
	if !bindings {
		return Officer{}, false, nil
	}
	id, err := d.st.OfficerByUser(ctx, bindingKey(channel, userID))
	if errors.Is(err, store.ErrNotFound) {
		return Officer{}, false, nil
	}
	if err != nil {
		return Officer{}, false, fmt.Errorf("look up officer: %w", err)
	}
	o, ok := d.dir.officers[id]
	return o, ok, nil
}
