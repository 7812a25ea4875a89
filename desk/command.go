package desk

import (
	"context"
	"errors"
	"slices"
	"strconv"
	"strings"
	"time"
	"unicode"

	"huimin/chat"
	"huimin/store"
)

// The officers' commands. The words that name them are in the officer
// texts (verb_<command>, alternatives separated by spaces), next to the
// help that lists them.
const (
	cmdHelp     = "help"
	cmdMine     = "mine"
	cmdOnDuty   = "on_duty"
	cmdOffDuty  = "off_duty"
	cmdView     = "view"
	cmdPhone    = "phone"
	cmdAccept   = "accept"
	cmdReply    = "reply"
	cmdAskMore  = "ask_more"
	cmdTransfer = "transfer"
	cmdExtend   = "extend"
	cmdApprove  = "approve"
	cmdRefuse   = "refuse"
	cmdResolve  = "resolve"
	cmdReopen   = "reopen"
	cmdClose    = "close"
	// Return visits and 好差评.
	cmdVisitTasks    = "visit_tasks"
	cmdVisit         = "visit"
	cmdRectifier     = "rectifier"
	cmdAppeal        = "appeal"
	cmdApproveAppeal = "approve_appeal"
	cmdRefuseAppeal  = "refuse_appeal"
	cmdSuggestions   = "suggestions"
	cmdLogin         = "login"
	// Service guides (办事指南): send one to a ticket's citizen.
	cmdGuide = "guide"
)

// commandNames lists every command, for reading their words from the texts.
var commandNames = []string{cmdHelp, cmdMine, cmdOnDuty, cmdOffDuty, cmdView, cmdPhone, cmdAccept, cmdReply, cmdAskMore,
	cmdTransfer, cmdExtend, cmdApprove, cmdRefuse, cmdResolve, cmdReopen, cmdClose,
	cmdVisitTasks, cmdVisit, cmdRectifier, cmdAppeal, cmdApproveAppeal, cmdRefuseAppeal, cmdSuggestions, cmdLogin, cmdGuide}

// commandWords reads the officers' command words from the texts: word →
// command, and the words longest first, so that a word that starts with
// another (不同意, 同意) is tried first when glued to its argument.
func commandWords(b interface{ Say(string, any) string }) (map[string]string, []string) {
	words := map[string]string{}
	var list []string
	for _, c := range commandNames {
		for _, w := range strings.Fields(b.Say("verb_"+c, nil)) {
			words[w] = c
			list = append(list, w)
		}
	}
	slices.SortFunc(list, func(a, b string) int { return len(b) - len(a) })
	return words, list
}

// Command handles one chat message from an officer: it parses the words,
// calls the operation and renders the answer. A refused command changes
// nothing and says why.
func (d *Desk) Command(ctx context.Context, o Officer, text string) (string, error) {
	verb, rest := d.splitWord(strings.TrimSpace(text))
	id, args := d.ticketArg(rest)
	cmd := d.commands[verb]
	var (
		t     store.Ticket
		err   error
		guide string // the title of a guide sent
	)
	switch cmd {
	case cmdHelp:
		return d.officer.Say("help", map[string]any{"Chief": len(d.chiefDepartments(o)) > 0}), nil
	case cmdMine:
		return d.mine(ctx, o)
	case cmdOnDuty:
		_, err := d.SetDuty(ctx, o, true)
		return d.officer.Say("on_duty", nil), err
	case cmdOffDuty:
		until, err := d.SetDuty(ctx, o, false)
		return d.officer.Say("off_duty", map[string]any{"Until": d.when(until)}), err
	case cmdVisitTasks:
		return d.phoneTasks(ctx, o)
	case cmdSuggestions:
		return d.suggestions(ctx, o)
	case cmdLogin:
		url, err := d.IssueLogin(ctx, o)
		if r, ok := errors.AsType[*Refusal](err); ok {
			return d.refusalText(r, ""), nil
		}
		return d.officer.Say("login_link", map[string]any{"URL": url, "Minutes": int(LoginTTL / time.Minute)}), err
	case "":
		return d.officer.Say("unknown_command", nil), nil
	case cmdGuide:
		if id == "" {
			return d.guideList(), nil
		}
	}
	if id == "" {
		return d.officer.Say("need_ticket", map[string]any{"Verb": verb}), nil
	}
	key := ""
	switch cmd {
	case cmdView:
		if t, err = d.Ticket(ctx, o, id); err == nil {
			return d.view(o, t), nil
		}
	case cmdPhone:
		if t, err = d.RevealPhone(ctx, o, id, args); err == nil {
			return d.officer.Say("phone", map[string]any{"ID": t.ID, "Phone": t.Phone, "Name": t.Name}), nil
		}
	case cmdAccept:
		t, err = d.Accept(ctx, o, id)
		key = "accepted"
	case cmdReply:
		t, err = d.Reply(ctx, o, id, args)
		key = "replied"
	case cmdAskMore:
		t, err = d.AskMore(ctx, o, id, args)
		key = "asked_more"
	case cmdTransfer:
		target, reason := d.splitWord(args)
		t, err = d.Transfer(ctx, o, TransferRequest{Ticket: id, To: target, Reason: reason})
		key = "transferred"
		if t.State == store.StateTransferredOut {
			key = "transferred_out"
		}
	case cmdExtend:
		daysText, reason := d.splitWord(args)
		days, convErr := strconv.Atoi(daysText)
		if convErr != nil {
			days = 0
		}
		t, err = d.RequestExtension(ctx, o, ExtensionRequest{Ticket: id, Days: days, Reason: reason})
		key = "extension_requested"
	case cmdApprove, cmdRefuse:
		t, err = d.DecideExtension(ctx, o, Decision{Ticket: id, Approve: cmd == cmdApprove, Reason: args})
		key = "extension_approved"
		if cmd == cmdRefuse {
			key = "extension_refused"
		}
	case cmdResolve:
		t, err = d.Resolve(ctx, o, id, args)
		key = "resolved"
	case cmdReopen:
		if req, ok := d.rectifyArgs(id, args); ok {
			t, err = d.Rectify(ctx, o, req)
			key = "rectified_" + req.Outcome
			break
		}
		t, err = d.Reopen(ctx, o, id, args)
		key = "reopened_ok"
	case cmdRectifier:
		t, err = d.NameRectifier(ctx, o, id, args)
		key = "rectifier_named"
	case cmdVisit:
		levelText, comment := d.splitWord(args)
		level, convErr := strconv.Atoi(levelText)
		if convErr != nil {
			level = 0
		}
		t, err = d.Rate(ctx, RateRequest{Ticket: id, By: o, Level: level, Comment: comment, Via: ViaPhone})
		key = "visit_recorded"
	case cmdAppeal:
		t, err = d.Appeal(ctx, o, id, args)
		key = "appealed"
	case cmdApproveAppeal, cmdRefuseAppeal:
		t, err = d.DecideAppeal(ctx, o, Decision{Ticket: id, Approve: cmd == cmdApproveAppeal, Reason: args})
		key = "appeal_approved"
		if cmd == cmdRefuseAppeal {
			key = "appeal_refused"
		}
	case cmdClose:
		t, err = d.Close(ctx, o, id)
		key = "closed"
	case cmdGuide:
		t, guide, err = d.SendGuide(ctx, o, id, args)
		key = "guide_sent"
	}
	if r, ok := errors.AsType[*Refusal](err); ok {
		return d.refusalText(r, id), nil
	}
	if err != nil && t.ID == "" {
		return "", err
	}
	data := d.ticketData(t)
	if s := latestSurvey(&t); s != nil {
		data["Level"] = d.LevelName(s.Level)
	}
	data["Late"] = !t.ResolvedAt.IsZero() && t.ResolvedAt.After(t.Deadline)
	data["Chief"] = d.dir.name(d.chiefOf(ctx, t.Department))
	data["Guide"] = guide
	if t.Agency != "" {
		if a, ok := d.dir.agency(t.Agency); ok {
			data["Agency"] = a.Name
		}
	}
	// The change is made; a notice that could not be queued is an error
	// for the log, and the officer still learns what was done.
	return d.officer.Say("done_"+key, data), err
}

// refusalText says why an operation was refused, from the officer texts:
// refuse_<reason>, or for a state refusal refuse_state_<op>.
func (d *Desk) refusalText(r *Refusal, id string) string {
	data := map[string]any{"ID": cmpOr(r.Ticket, id), "State": d.stateName(r.State), "Max": d.rules.MaxExtensionDays, "Op": string(r.Op),
		"NotAccepted": r.State == store.StateAssigned || r.State == store.StateReceived}
	for k, v := range r.Facts {
		data[k] = v
	}
	key := "refuse_" + r.Reason
	if r.Reason == "state" {
		key = "refuse_state_" + string(r.Op)
		if !d.officer.Has(key) {
			key = "refuse_state"
		}
	}
	return d.officer.Say(key, data)
}

func cmpOr(a, b string) string {
	if a != "" {
		return a
	}
	return b
}

// splitWord splits off the first word (up to a space, or a command word
// glued to its argument as in “接单MZ…”).
func (d *Desk) splitWord(s string) (string, string) {
	i := strings.IndexFunc(s, unicode.IsSpace)
	if i < 0 {
		for _, v := range d.commandList {
			if rest, ok := strings.CutPrefix(s, v); ok {
				return v, rest
			}
		}
		return s, ""
	}
	return s[:i], strings.TrimSpace(s[i:])
}

// ticketArg reads the ticket number at the start of s (case-insensitive).
func (d *Desk) ticketArg(s string) (string, string) {
	id, rest := d.splitWord(s)
	return strings.ToUpper(id), rest
}

// mine lists the officer's open tickets, or a chief's departments'.
func (d *Desk) mine(ctx context.Context, o Officer) (string, error) {
	ts, chief, err := d.OpenTickets(ctx, o)
	if err != nil {
		return "", err
	}
	head := map[string]any{"Chief": chief, "N": len(ts)}
	if len(ts) == 0 {
		return d.officer.Say("mine_none", head), nil
	}
	lines := []string{d.officer.Say("mine_head", head)}
	now := d.now()
	for i, t := range ts {
		if i == 20 {
			lines = append(lines, d.officer.Say("mine_more", map[string]any{"N": len(ts) - 20}))
			break
		}
		data := d.ticketData(t)
		data["Overdue"], data["Chief"] = now.After(t.Deadline), chief
		data["NotDelivered"] = chief && ownerMissedNotice(t)
		lines = append(lines, d.officer.Say("mine_line", data))
	}
	return strings.Join(lines, "\n"), nil
}

// view shows a ticket to an officer: fields with the labels the flow asked
// them under, personal numbers masked, the latest history.
func (d *Desk) view(o Officer, t store.Ticket) string {
	head := d.ticketData(t)
	if len(t.Fields) > 0 {
		head["Summary"] = "" // the fields below say it, each under its label
	}
	lines := []string{d.officer.Say("view_head", head)}
	for _, f := range d.fields(t) {
		lines = append(lines, d.officer.Say("view_field", map[string]any{"Label": f.Label, "Value": chat.Cut(f.Value, 50)}))
	}
	data := d.ticketData(t)
	// A report's reporter is kept from all but the supervision office,
	// who unmask the numbers with 电话 (recorded).
	mayKnow := !t.Confidential || d.knowsReporter(o)
	data["IDNumber"] = ""
	if t.IDNumber != "" && mayKnow {
		data["IDNumber"] = chat.MaskID(t.IDNumber)
	}
	data["HasPhone"] = t.Phone != "" && mayKnow
	if data["HasPhone"] == true {
		data["Phone"] = chat.MaskPhone(t.Phone)
	}
	data["Attachments"] = len(t.Attachments)
	lines = append(lines, d.officer.Say("view_body", data))
	from := max(0, len(t.History)-5)
	for _, h := range t.History[from:] {
		lines = append(lines, d.officer.Say("view_history", map[string]any{"At": d.when(h.At), "Text": d.History(h)}))
	}
	return strings.Join(lines, "\n")
}

// ownerMissedNotice reports whether a notice to the ticket's owner could
// not be delivered since the ticket was last assigned: the chief should
// make sure the owner knows.
func ownerMissedNotice(t store.Ticket) bool {
	for i := len(t.History) - 1; i >= 0; i-- {
		switch e := t.History[i]; e.Kind {
		case EventNotDelivered:
			if e.Officer == t.Owner {
				return true
			}
		case EventAssigned, EventAccepted:
			return false
		}
	}
	return false
}

// History renders one history event for people.
func (d *Desk) History(h store.TicketEvent) string {
	data := map[string]any{
		"Actor": d.actor(h.Actor), "Officer": d.dir.name(h.Officer), "Detail": chat.Cut(h.Detail, 60), "Days": h.Days,
		"Deadline": "", "Dept": d.dir.depts[h.Department].Name, "Agency": h.Agency,
	}
	if !h.Deadline.IsZero() {
		data["Deadline"] = d.when(h.Deadline)
	}
	if a, ok := d.dir.agency(h.Agency); ok {
		data["Agency"] = a.Name
	}
	switch h.Kind {
	case EventRated, EventVisitExpired:
		level, _ := strconv.Atoi(h.Outcome)
		data["Level"] = d.LevelName(level)
	case EventVisitChannel:
		data["Channel"] = d.officer.Say("channel_"+h.Outcome, nil)
	case EventRectified:
		data["Outcome"] = d.officer.Say("outcome_"+h.Outcome, nil)
	}
	return d.officer.Say("history_"+string(h.Kind), data)
}

func (d *Desk) actor(a string) string {
	switch a {
	case actorCitizen:
		return d.officer.Say("actor_citizen", nil)
	case actorSystem:
		return d.officer.Say("actor_system", nil)
	}
	return d.dir.name(a)
}

func sortedKeys(m map[string]string) []string {
	keys := make([]string, 0, len(m))
	for k := range m {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	return keys
}

// rectifyArgs reads “整改 <工单号> 立行立改|解释说明 <说明>” and
// “整改 <工单号> 限期整改 <日期> <说明>”; ok is false for a plain reopening
// (“整改 <工单号> <原因>”).
func (d *Desk) rectifyArgs(id, args string) (RectifyRequest, bool) {
	word, rest := d.splitWord(args)
	for _, outcome := range []string{RectifyImmediate, RectifyScheduled, RectifyExplained} {
		if !slices.Contains(strings.Fields(d.officer.Say("rectify_word_"+outcome, nil)), word) {
			continue
		}
		req := RectifyRequest{Ticket: id, Outcome: outcome, Note: rest}
		if outcome == RectifyScheduled {
			date, note := d.splitWord(rest)
			req.Promised, req.Note = d.parseDay(date), note
		}
		return req, true
	}
	return RectifyRequest{}, false
}

// parseDay reads a day as 2027-01-15, 2027/1/15 or 1月15日 (the next such
// day), as the end of that day in the bureau's time zone; zero if none.
func (d *Desk) parseDay(s string) time.Time {
	now := d.now().In(d.loc)
	for _, layout := range []string{"2006-01-02", "2006-1-2", "2006/1/2", "1月2日", "1月2号", "1-2"} {
		t, err := time.ParseInLocation(layout, s, d.loc)
		if err != nil {
			continue
		}
		if t.Year() == 0 {
			t = t.AddDate(now.Year(), 0, 0)
			if t.Before(now.Truncate(24 * time.Hour)) {
				t = t.AddDate(1, 0, 0)
			}
		}
		return time.Date(t.Year(), t.Month(), t.Day(), 23, 59, 0, 0, d.loc)
	}
	return time.Time{}
}

// phoneTasks lists a chief's phone visits (回访任务).
func (d *Desk) phoneTasks(ctx context.Context, o Officer) (string, error) {
	ts, chief, err := d.PhoneTasks(ctx, o)
	if err != nil {
		return "", err
	}
	if !chief {
		return d.officer.Say("chiefs_only", nil), nil
	}
	if len(ts) == 0 {
		return d.officer.Say("visit_tasks_none", nil), nil
	}
	lines := []string{d.officer.Say("visit_tasks_head", map[string]any{"N": len(ts)})}
	for i, t := range ts {
		if i == 20 {
			lines = append(lines, d.officer.Say("mine_more", map[string]any{"N": len(ts) - 20}))
			break
		}
		data := d.ticketData(t)
		data["Resolved"], data["Officer"] = d.when(t.ResolvedAt), d.dir.name(latestSurvey(&t).Officer)
		lines = append(lines, d.officer.Say("visit_task_line", data))
	}
	return strings.Join(lines, "\n"), nil
}

// suggestions lists a chief's suggestion register (建议登记).
func (d *Desk) suggestions(ctx context.Context, o Officer) (string, error) {
	ss, chief, err := d.Suggestions(ctx, o)
	if err != nil {
		return "", err
	}
	if !chief {
		return d.officer.Say("chiefs_only", nil), nil
	}
	if len(ss) == 0 {
		return d.officer.Say("suggestions_none", nil), nil
	}
	lines := []string{d.officer.Say("suggestions_head", map[string]any{"N": len(ss)})}
	for i, s := range ss {
		if i == 20 {
			lines = append(lines, d.officer.Say("mine_more", map[string]any{"N": len(ss) - 20}))
			break
		}
		lines = append(lines, d.officer.Say("suggestion_line", map[string]any{
			"ID": s.Ticket.ID, "Line": d.lineName(s.Ticket.Line), "Text": chat.Cut(s.Text, 80), "Answer": chat.Cut(s.Answer, 60),
			"Comment": s.Comment, "At": d.when(s.Ticket.CreatedAt)}))
	}
	return strings.Join(lines, "\n"), nil
}
