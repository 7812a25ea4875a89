package desk

import (
	"bytes"
	"context"
	"crypto/rand"
	_ "embed"
	"errors"
	"fmt"
	"huimin/chat"
	"log/slog"
	"math/big"
	"strings"
	"text/template"
	"time"

	"go.yaml.in/yaml/v3"

	"huimin/store"
)

// Store is what the desk keeps in the store.
type Store interface {
	NextSeq(ctx context.Context, name string, ttl time.Duration) (int64, error)
	CreateTicket(ctx context.Context, t store.Ticket) error
	GetTicket(ctx context.Context, id string) (store.Ticket, error)
	UpdateTicket(ctx context.Context, t store.Ticket) (store.Ticket, error)
	ListTickets(ctx context.Context, f store.TicketFilter) ([]store.Ticket, error)
	BindOfficer(ctx context.Context, userID, officerID string) error
	OfficerByUser(ctx context.Context, userID string) (string, error)
	UserOfOfficer(ctx context.Context, officerID string) (string, error)
	PutBindCode(ctx context.Context, code, officerID string, ttl time.Duration) error
	TakeBindCode(ctx context.Context, code string) (string, error)
	GetCache(ctx context.Context, key string) (string, error)
	SetCache(ctx context.Context, key, value string, ttl time.Duration) error
	DeleteCache(ctx context.Context, key string) error
	Schedule(ctx context.Context, queue string, it store.DueItem) (bool, error)
	Claim(ctx context.Context, queue string, now time.Time, limit int, lease time.Duration) ([]store.DueItem, error)
	Ack(ctx context.Context, queue, id string, attempt int) error
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
}

// Notifier sends messages; bot's outbox satisfies it.
type Notifier interface {
	Notify(ctx context.Context, msgs ...Message) error
}

// Queue is the due-queue the desk's timed work runs on.
const Queue = "desk"

//go:embed texts.yaml
var textsYAML []byte

// Desk applies the service-desk rules.
type Desk struct {
	st    Store
	cal   workingDay
	note  Notifier
	dir   *directory
	rules Rules
	lines map[string]string // line key → display name
	texts map[string]*template.Template
	now   func() time.Time
	loc   *time.Location
	log   *slog.Logger
}

// Options are the desk's optional knobs.
type Options struct {
	Now func() time.Time
	Log *slog.Logger
	// LineNames maps service-line keys to the names people read.
	LineNames map[string]string
	// Location is the bureau's time zone for ticket numbers and dates.
	Location *time.Location
}

// New returns a desk.
func New(st Store, cal workingDay, note Notifier, dir Directory, rules Rules, opts Options) (*Desk, error) {
	d, err := newDirectory(dir)
	if err != nil {
		return nil, fmt.Errorf("desk directory: %w", err)
	}
	var raw map[string]string
	if err := yaml.Unmarshal(textsYAML, &raw); err != nil {
		return nil, fmt.Errorf("desk texts: %w", err)
	}
	texts := make(map[string]*template.Template, len(raw))
	for k, v := range raw {
		t, err := template.New(k).Option("missingkey=error").Parse(v)
		if err != nil {
			return nil, fmt.Errorf("desk text %s: %w", k, err)
		}
		texts[k] = t
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
	if rules.MaxExtensionDays <= 0 {
		rules.MaxExtensionDays = 15
	}
	return &Desk{st: st, cal: cal, note: note, dir: d, rules: rules, lines: opts.LineNames, texts: texts,
		now: opts.Now, loc: opts.Location, log: opts.Log}, nil
}

// say renders a text by name.
func (d *Desk) say(name string, data map[string]any) string {
	t, ok := d.texts[name]
	if !ok {
		return name
	}
	var b bytes.Buffer
	if err := t.Execute(&b, data); err != nil {
		d.log.Error("render desk text failed", "text", name, "err", err)
		return name
	}
	return b.String()
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

var inquiryNames = map[string]string{"consult": "咨询", "help": "求助", "complaint": "投诉", "report": "举报", "suggestion": "建议"}

func inquiryName(q string) string {
	if n, ok := inquiryNames[q]; ok {
		return n
	}
	return q
}

var stateNames = map[store.TicketState]string{
	store.StateReceived: "已受理，待分派", store.StateAssigned: "已分派，待接单", store.StateInProgress: "办理中",
	store.StateWaiting: "待您补充材料", store.StateResolved: "已办结", store.StateClosed: "已归档", store.StateReopened: "整改中",
}

// OpenRequest is a citizen's matter, as the intake flow collected it.
type OpenRequest struct {
	Citizen     string
	Line        string
	Inquiry     string
	Summary     string
	Fields      map[string]string
	Name        string
	Phone       string
	IDNumber    string
	Attachments []store.Attachment
	Transcript  []store.Utterance
}

// Open creates a ticket, routes it, and returns it with the citizen's acknowledgement.
func (d *Desk) Open(ctx context.Context, req OpenRequest) (store.Ticket, string, error) {
	now := d.now()
	dept, ok := d.dir.depts[d.dir.byLine[req.Line]]
	if !ok {
		return store.Ticket{}, "", fmt.Errorf("open ticket: no department for service line %q", req.Line)
	}
	day := now.In(d.loc).Format("20060102")
	seq, err := d.st.NextSeq(ctx, "ticket:"+day, 72*time.Hour)
	if err != nil {
		return store.Ticket{}, "", fmt.Errorf("number ticket: %w", err)
	}
	t := store.Ticket{
		ID:            fmt.Sprintf("%s%s-%04d", d.rules.TicketPrefix, day, seq),
		CitizenOpenID: req.Citizen, Line: req.Line, Inquiry: req.Inquiry, Summary: req.Summary,
		Fields: req.Fields, Name: req.Name, Phone: req.Phone, IDNumber: req.IDNumber,
		Attachments: req.Attachments, Transcript: req.Transcript,
		State: store.StateReceived, Department: dept.ID, CreatedAt: now,
		Deadline: d.deadline(now, d.rules.limit(req.Line, req.Inquiry)),
		History:  []store.TicketEvent{{At: now, Actor: "citizen", Action: "created", Detail: d.lineName(req.Line) + "／" + inquiryName(req.Inquiry)}},
	}
	if err := d.st.CreateTicket(ctx, t); err != nil {
		return store.Ticket{}, "", fmt.Errorf("create ticket: %w", err)
	}
	t.Version = 1
	d.log.InfoContext(ctx, "ticket created", "ticket_id", t.ID, "line", t.Line, "department", t.Department)
	if err := d.scheduleDeadline(ctx, t); err != nil {
		return t, "", err
	}
	data := map[string]any{"ID": t.ID, "Dept": dept.Name, "Deadline": d.when(t.Deadline)}
	if !d.cal.InWorkingHours(now) {
		start := d.cal.NextWorkingStart(now)
		if _, err := d.st.Schedule(ctx, Queue, store.DueItem{ID: "assign:" + t.ID, Due: start, Payload: []byte(t.ID)}); err != nil {
			return t, "", fmt.Errorf("schedule assignment: %w", err)
		}
		data["Start"] = d.when(start)
		return t, d.say("ack_after_hours", data), nil
	}
	t, err = d.assign(ctx, t, "", "")
	if err != nil {
		return t, "", err
	}
	return t, d.say("ack", data), nil
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

// assign routes t inside its department: to the on-duty officer with the
// fewest open tickets under their cap (ties in turn), else the supervisor.
// from and reason are set for a transfer.
func (d *Desk) assign(ctx context.Context, t store.Ticket, from, reason string) (store.Ticket, error) {
	dept := d.dir.depts[t.Department]
	owner, err := d.pick(ctx, dept)
	if err != nil {
		return t, err
	}
	if owner == "" {
		d.log.WarnContext(ctx, "ticket waits: its department has no officer and no supervisor", "ticket_id", t.ID, "department", dept.ID)
		return t, nil
	}
	now := d.now()
	t, err = d.update(ctx, t.ID, func(t *store.Ticket) error {
		t.Owner, t.State, t.AssignedAt = owner, store.StateAssigned, now
		detail := "分派给" + d.dir.name(owner)
		if from != "" {
			detail = from + "转办给" + d.dir.name(owner) + "：" + reason
		}
		t.History = append(t.History, store.TicketEvent{At: now, Actor: "system", Action: "assigned", Detail: detail})
		return nil
	})
	if err != nil {
		return t, err
	}
	d.log.InfoContext(ctx, "ticket assigned", "ticket_id", t.ID, "officer_id", owner)
	text := "assignment"
	data := d.cardData(t)
	if from != "" {
		text, data["From"], data["Reason"] = "transferred_in", from, reason
	}
	return t, d.tellOfficer(ctx, owner, "assign:"+t.ID+":"+owner+":"+fmt.Sprint(t.Version), d.say(text, data), "assignment", map[string]string{
		"ticket": t.ID, "line": d.lineName(t.Line), "deadline": d.when(t.Deadline),
	})
}

func (d *Desk) cardData(t store.Ticket) map[string]any {
	return map[string]any{
		"ID": t.ID, "Line": d.lineName(t.Line), "Inquiry": inquiryName(t.Inquiry), "Summary": cut(t.Summary, 300),
		"Phone": MaskPhone(t.Phone), "Deadline": d.when(t.Deadline), "Dept": d.dir.depts[t.Department].Name,
		"Owner": d.dir.name(t.Owner),
	}
}

func (d *Desk) pick(ctx context.Context, dept Department) (string, error) {
	type cand struct {
		id   string
		open int
	}
	var best []cand
	for _, id := range d.dir.members[dept.ID] {
		o := d.dir.officers[id]
		if o.Supervisor || o.Leader || o.ID == dept.Supervisor || !d.onDuty(ctx, id) {
			continue
		}
		open, err := d.st.ListTickets(ctx, store.TicketFilter{Owner: id, OpenOnly: true})
		if err != nil {
			return "", fmt.Errorf("count open tickets of %s: %w", id, err)
		}
		if o.MaxOpen > 0 && len(open) >= o.MaxOpen {
			continue
		}
		switch {
		case len(best) == 0 || len(open) < best[0].open:
			best = []cand{{id, len(open)}}
		case len(open) == best[0].open:
			best = append(best, cand{id, len(open)})
		}
	}
	if len(best) == 0 {
		return dept.Supervisor, nil
	}
	if len(best) == 1 {
		return best[0].id, nil
	}
	n, err := d.st.NextSeq(ctx, "round_robin:"+dept.ID, 0)
	if err != nil {
		return "", fmt.Errorf("round robin: %w", err)
	}
	return best[int(n%int64(len(best)))].id, nil
}

func (d *Desk) onDuty(ctx context.Context, officerID string) bool {
	_, err := d.st.GetCache(ctx, "off_duty:"+officerID)
	return errors.Is(err, store.ErrNotFound)
}

// update re-reads and changes a ticket until no concurrent change intervenes.
func (d *Desk) update(ctx context.Context, id string, change func(t *store.Ticket) error) (store.Ticket, error) {
	for range 8 {
		t, err := d.st.GetTicket(ctx, id)
		if err != nil {
			return store.Ticket{}, fmt.Errorf("get ticket %s: %w", id, err)
		}
		if err := change(&t); err != nil {
			return t, err
		}
		t, err = d.st.UpdateTicket(ctx, t)
		if errors.Is(err, store.ErrConflict) {
			continue
		}
		if err != nil {
			return store.Ticket{}, fmt.Errorf("update ticket %s: %w", id, err)
		}
		return t, nil
	}
	return store.Ticket{}, fmt.Errorf("update ticket %s: %w", id, store.ErrConflict)
}

// address is where an officer receives chat messages.
func (d *Desk) address(ctx context.Context, officerID string) (channel chat.Channel, user string, ok bool) {
	o := d.dir.officers[officerID]
	if o.WeComUser != "" {
		return chat.ChannelWeCom, o.WeComUser, true
	}
	if o.OpenID != "" {
		return chat.ChannelWeChat, o.OpenID, true
	}
	u, err := d.st.UserOfOfficer(ctx, officerID)
	if err != nil {
		return "", "", false
	}
	return chat.ChannelWeChat, u, true
}

func (d *Desk) tellOfficer(ctx context.Context, officerID, id, text, tpl string, fields map[string]string) error {
	ch, user, ok := d.address(ctx, officerID)
	if !ok {
		d.log.WarnContext(ctx, "officer has no chat account bound", "officer_id", officerID)
		return nil
	}
	if err := d.note.Notify(ctx, Message{ID: id, Channel: ch, To: user, Text: text, Template: tpl, Fields: fields}); err != nil {
		return fmt.Errorf("notify officer %s: %w", officerID, err)
	}
	return nil
}

func (d *Desk) tellCitizen(ctx context.Context, t store.Ticket, id, text string) error {
	err := d.note.Notify(ctx, Message{ID: id, Channel: chat.ChannelWeChat, To: t.CitizenOpenID, Text: text, Template: "ticket_update",
		Fields: map[string]string{"ticket": t.ID, "state": stateNames[t.State], "text": cut(text, 100)}})
	if err != nil {
		return fmt.Errorf("notify citizen of %s: %w", t.ID, err)
	}
	return nil
}

// IssueCode creates a one-time code with which an officer binds a chat
// account (valid for ttl).
func (d *Desk) IssueCode(ctx context.Context, officerID string, ttl time.Duration) (string, error) {
	if _, ok := d.dir.officers[officerID]; !ok {
		return "", fmt.Errorf("issue code: unknown officer %q", officerID)
	}
	for range 5 {
		n, err := rand.Int(rand.Reader, big.NewInt(900000))
		if err != nil {
			return "", fmt.Errorf("issue code: %w", err)
		}
		code := fmt.Sprint(100000 + n.Int64())
		err = d.st.PutBindCode(ctx, code, officerID, ttl)
		if errors.Is(err, store.ErrExists) {
			continue
		}
		if err != nil {
			return "", fmt.Errorf("issue code: %w", err)
		}
		return code, nil
	}
	return "", errors.New("issue code: no free code")
}

// Bind binds the chat account userID on channel to the officer whose code it is.
func (d *Desk) Bind(ctx context.Context, channel chat.Channel, userID, code string) (string, error) {
	officerID, err := d.st.TakeBindCode(ctx, strings.TrimSpace(code))
	if errors.Is(err, store.ErrNotFound) {
		return d.say("bad_code", nil), nil
	}
	if err != nil {
		return "", fmt.Errorf("take bind code: %w", err)
	}
	if err := d.st.BindOfficer(ctx, bindingKey(channel, userID), officerID); err != nil {
		return "", fmt.Errorf("bind officer: %w", err)
	}
	o := d.dir.officers[officerID]
	d.log.InfoContext(ctx, "officer bound", "officer_id", officerID, "channel", channel)
	return d.say("bound", map[string]any{"Name": o.Name, "Dept": d.dir.depts[o.Department].Name}), nil
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

func cut(s string, n int) string {
	r := []rune(s)
	if len(r) <= n {
		return s
	}
	return string(r[:n]) + "…"
}

// MaskPhone shows a phone number as 3+4 (138****5678).
func MaskPhone(p string) string {
	if len(p) < 7 {
		return strings.Repeat("*", len(p))
	}
	return p[:3] + strings.Repeat("*", len(p)-7) + p[len(p)-4:]
}

// MaskID shows a resident ID as 6+4 (440308********1234).
func MaskID(id string) string {
	if len(id) < 10 {
		return strings.Repeat("*", len(id))
	}
	return id[:6] + strings.Repeat("*", len(id)-10) + id[len(id)-4:]
}
