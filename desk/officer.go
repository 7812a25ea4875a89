package desk

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"
	"unicode"

	"huimin/store"
)

// errRefused carries a polite refusal back to the officer; it changes nothing.
type errRefused struct{ msg string }

func (e errRefused) Error() string { return e.msg }

func refuse(format string, args ...any) error { return errRefused{fmt.Sprintf(format, args...)} }

// Command handles one chat message from an officer and returns the answer.
// A refused command changes nothing and says why.
func (d *Desk) Command(ctx context.Context, o Officer, text string) (string, error) {
	verb, rest := splitWord(strings.TrimSpace(text))
	var (
		reply string
		err   error
	)
	switch verb {
	case "帮助", "help", "?", "？", "菜单":
		return d.say("officer_help", nil), nil
	case "我的工单", "工单":
		return d.mine(ctx, o)
	case "上班":
		return "已设为在岗，新工单会分派给您。", d.st.DeleteCache(ctx, "off_duty:"+o.ID)
	case "下班":
		until := d.cal.NextWorkingStart(d.now().Add(time.Minute))
		if err := d.st.SetCache(ctx, "off_duty:"+o.ID, "1", until.Sub(d.now())); err != nil {
			return "", fmt.Errorf("set off duty: %w", err)
		}
		return "已设为离岗，" + d.when(until) + "前不再给您分派新工单；已分派的工单仍请按时办理。", nil
	case "查看":
		reply, err = d.view(ctx, o, rest)
	case "接单":
		reply, err = d.accept(ctx, o, rest)
	case "回复":
		reply, err = d.relayToCitizen(ctx, o, rest, false)
	case "补充":
		reply, err = d.relayToCitizen(ctx, o, rest, true)
	case "转办":
		reply, err = d.transfer(ctx, o, rest)
	case "延期":
		reply, err = d.extend(ctx, o, rest)
	case "同意":
		reply, err = d.decide(ctx, o, rest, true)
	case "不同意":
		reply, err = d.decide(ctx, o, rest, false)
	case "办结":
		reply, err = d.resolve(ctx, o, rest)
	default:
		return "没有看懂这条命令。回复“帮助”查看可用的命令。", nil
	}
	if r, ok := errors.AsType[errRefused](err); ok {
		return r.msg, nil
	}
	return reply, err
}

// splitWord splits off the first word (up to a space, or a known verb glued
// to its argument as in “接单MZ…”).
func splitWord(s string) (string, string) {
	i := strings.IndexFunc(s, unicode.IsSpace)
	if i < 0 {
		for _, v := range []string{"不同意", "我的工单", "接单", "回复", "补充", "转办", "延期", "同意", "办结", "查看"} {
			if rest, ok := strings.CutPrefix(s, v); ok {
				return v, rest
			}
		}
		return s, ""
	}
	return s[:i], strings.TrimSpace(s[i:])
}

// ticketArg reads the ticket number at the start of s (case-insensitive).
func ticketArg(s string) (string, string, error) {
	id, rest := splitWord(s)
	if id == "" {
		return "", "", refuse("请写上工单号，例如：接单 MZ20261128-0042")
	}
	return strings.ToUpper(id), rest, nil
}

// load fetches a ticket the officer may act on: their own, an unowned one
// of their department, any of their department for its supervisor, any
// for the bureau leader.
func (d *Desk) load(ctx context.Context, o Officer, id string) (store.Ticket, error) {
	t, err := d.st.GetTicket(ctx, id)
	if errors.Is(err, store.ErrNotFound) {
		return t, refuse("没有找到工单%s，请核对工单号。", id)
	}
	if err != nil {
		return t, fmt.Errorf("get ticket %s: %w", id, err)
	}
	if !d.may(o, t) {
		return t, refuse("工单%s不是您或您科室的工单，无权操作。", id)
	}
	return t, nil
}

func (d *Desk) may(o Officer, t store.Ticket) bool {
	switch {
	case o.Leader, t.Owner == o.ID:
		return true
	case t.Department != o.Department:
		return false
	case o.Supervisor || d.dir.depts[t.Department].Supervisor == o.ID:
		return true
	default:
		return t.Owner == ""
	}
}

func (d *Desk) isSupervisor(o Officer, t store.Ticket) bool {
	return o.Leader || (t.Department == o.Department && (o.Supervisor || d.dir.depts[t.Department].Supervisor == o.ID))
}

// working reports whether o may work t now: its owner after accepting it,
// or a supervisor of its department at any time.
func (d *Desk) working(o Officer, t store.Ticket) bool {
	if d.isSupervisor(o, t) {
		return true
	}
	return t.Owner == o.ID && t.State != store.StateAssigned && t.State != store.StateReceived
}

func (d *Desk) event(o Officer, action, detail string) store.TicketEvent {
	return store.TicketEvent{At: d.now(), Actor: o.ID, Action: action, Detail: detail}
}

func (d *Desk) accept(ctx context.Context, o Officer, args string) (string, error) {
	id, _, err := ticketArg(args)
	if err != nil {
		return "", err
	}
	if _, err := d.load(ctx, o, id); err != nil {
		return "", err
	}
	t, err := d.update(ctx, id, func(t *store.Ticket) error {
		switch t.State {
		case store.StateReceived, store.StateAssigned, store.StateReopened:
		case store.StateInProgress, store.StateWaiting:
			if t.Owner == o.ID {
				return refuse("工单%s您已接单，正在办理中。", t.ID)
			}
			return refuse("工单%s已由%s接单办理。", t.ID, d.dir.name(t.Owner))
		default:
			return refuse("工单%s已办结，不能再接单。", t.ID)
		}
		now := d.now()
		t.Owner, t.State, t.AcceptedAt = o.ID, store.StateInProgress, now
		if t.FirstResponsible == "" {
			t.FirstResponsible = o.ID // 首问负责: stays on record after transfers
		}
		t.History = append(t.History, d.event(o, "accepted", o.Name+"接单"))
		return nil
	})
	if err != nil {
		return "", err
	}
	if err := d.tellCitizen(ctx, t, fmt.Sprintf("accepted:%s:%d", t.ID, t.Version), d.say("citizen_accepted", d.cardData(t))); err != nil {
		return "", err
	}
	return fmt.Sprintf("已接单：%s，办结时限%s前。回复“查看 %s”看详情。", t.ID, d.when(t.Deadline), t.ID), nil
}

func (d *Desk) relayToCitizen(ctx context.Context, o Officer, args string, askMore bool) (string, error) {
	id, text, err := ticketArg(args)
	if err != nil {
		return "", err
	}
	if strings.TrimSpace(text) == "" {
		if askMore {
			return "", refuse("请写上需要群众补充的内容，例如：补充 %s 请提供身份证正反面照片", id)
		}
		return "", refuse("请写上回复内容，例如：回复 %s 您的申请材料已收到", id)
	}
	text = cut(text, 600)
	if _, err := d.load(ctx, o, id); err != nil {
		return "", err
	}
	t, err := d.update(ctx, id, func(t *store.Ticket) error {
		if !t.State.Open() {
			return refuse("工单%s已办结，不能再回复。", t.ID)
		}
		if !d.working(o, *t) {
			return refuse("请先接单：接单 %s", t.ID)
		}
		now := d.now()
		t.Transcript = append(t.Transcript, store.Utterance{At: now, From: o.ID, Text: text})
		if askMore {
			t.State = store.StateWaiting
			t.History = append(t.History, d.event(o, "asked_more", text))
		} else {
			t.History = append(t.History, d.event(o, "replied", text))
		}
		return nil
	})
	if err != nil {
		return "", err
	}
	name := "citizen_reply"
	if askMore {
		name = "citizen_ask_more"
	}
	if err := d.tellCitizen(ctx, t, fmt.Sprintf("msg:%s:%d", t.ID, t.Version), d.say(name, map[string]any{"ID": t.ID, "Text": text})); err != nil {
		return "", err
	}
	if askMore {
		return "已请群众补充，群众回复后会转给您。", nil
	}
	return "已回复群众。", nil
}

func (d *Desk) transfer(ctx context.Context, o Officer, args string) (string, error) {
	id, rest, err := ticketArg(args)
	if err != nil {
		return "", err
	}
	target, reason := splitWord(rest)
	if target == "" || strings.TrimSpace(reason) == "" {
		return "", refuse("请写上转给哪个部门或哪位同事，以及原因，例如：转办 %s 优抚安置科 属于优抚政策", id)
	}
	t, err := d.load(ctx, o, id)
	if err != nil {
		return "", err
	}
	if !t.State.Open() {
		return "", refuse("工单%s已办结，不能转办。", id)
	}
	if t.Owner != o.ID && !d.isSupervisor(o, t) {
		return "", refuse("只有承办人或科室负责人可以转办工单%s。", id)
	}
	var toOfficer Officer
	dept, ok := d.dir.department(target)
	if !ok {
		toOfficer, ok = d.dir.officer(target)
		if !ok {
			return "", refuse("没有找到“%s”这个部门或同事，请核对名称。", target)
		}
		if toOfficer.ID == t.Owner {
			return "", refuse("工单%s已经由%s承办。", id, toOfficer.Name)
		}
		dept = d.dir.depts[toOfficer.Department]
	}
	from, oldDept := o.Name, t.Department
	t, err = d.update(ctx, id, func(t *store.Ticket) error {
		t.Department = dept.ID
		t.Owner, t.State = "", store.StateReceived
		t.History = append(t.History, d.event(o, "transferred", fmt.Sprintf("转办至%s：%s（首问负责人%s）", dept.Name+officerSuffix(toOfficer), reason, d.dir.name(t.FirstResponsible))))
		return nil
	})
	if err != nil {
		return "", err
	}
	if toOfficer.ID != "" {
		now := d.now()
		t, err = d.update(ctx, id, func(t *store.Ticket) error {
			t.Owner, t.State, t.AssignedAt = toOfficer.ID, store.StateAssigned, now
			return nil
		})
		if err != nil {
			return "", err
		}
		data := d.cardData(t)
		data["From"], data["Reason"] = from, reason
		if err := d.tellOfficer(ctx, toOfficer.ID, fmt.Sprintf("assign:%s:%s:%d", t.ID, toOfficer.ID, t.Version), d.say("transferred_in", data), "assignment",
			map[string]string{"ticket": t.ID, "line": d.lineName(t.Line), "deadline": d.when(t.Deadline)}); err != nil {
			return "", err
		}
	} else if t, err = d.assign(ctx, t, from, reason); err != nil {
		return "", err
	}
	if dept.ID != oldDept { // a colleague in the same section is no news to the citizen
		if err := d.tellCitizen(ctx, t, fmt.Sprintf("transferred:%s:%d", t.ID, t.Version), d.say("citizen_transferred", map[string]any{"ID": t.ID, "Dept": dept.Name})); err != nil {
			return "", err
		}
	}
	return fmt.Sprintf("已转办：%s → %s（%s）。首问负责人仍为%s。", t.ID, dept.Name, d.dir.name(t.Owner), d.dir.name(t.FirstResponsible)), nil
}

func officerSuffix(o Officer) string {
	if o.ID == "" {
		return ""
	}
	return "（" + o.Name + "）"
}

func (d *Desk) extend(ctx context.Context, o Officer, args string) (string, error) {
	id, rest, err := ticketArg(args)
	if err != nil {
		return "", err
	}
	daysText, reason := splitWord(rest)
	days, convErr := strconv.Atoi(daysText)
	if convErr != nil || days < 1 || days > d.rules.MaxExtensionDays || strings.TrimSpace(reason) == "" {
		return "", refuse("请写上延期天数（1-%d个工作日）和原因，例如：延期 %s 5 需要入户调查", d.rules.MaxExtensionDays, id)
	}
	if _, err := d.load(ctx, o, id); err != nil {
		return "", err
	}
	now := d.now()
	t, err := d.update(ctx, id, func(t *store.Ticket) error {
		switch {
		case t.Owner != o.ID:
			return refuse("只有承办人可以为工单%s申请延期。", t.ID)
		case !t.State.Open():
			return refuse("工单%s已办结，无需延期。", t.ID)
		case !now.Before(t.Deadline):
			return refuse("工单%s已超过办结时限，延期须在到期前申请，请联系科室负责人。", t.ID)
		case t.Extension != nil && t.Extension.Status == "pending":
			return refuse("工单%s已有一个延期申请在等待审批。", t.ID)
		}
		t.Extension = &store.Extension{Days: days, Reason: reason, RequestedBy: o.ID, RequestedAt: now, Status: "pending"}
		t.History = append(t.History, d.event(o, "extension_requested", fmt.Sprintf("申请延期%d个工作日：%s", days, reason)))
		return nil
	})
	if err != nil {
		return "", err
	}
	sup := d.dir.depts[t.Department].Supervisor
	data := d.cardData(t)
	data["Days"], data["Reason"] = days, reason
	if err := d.tellOfficer(ctx, sup, fmt.Sprintf("extension:%s:%d", t.ID, t.Version), d.say("extension_request", data), "approval",
		map[string]string{"ticket": t.ID, "days": strconv.Itoa(days)}); err != nil {
		return "", err
	}
	return fmt.Sprintf("延期申请已提交给%s审批。", d.dir.name(sup)), nil
}

func (d *Desk) decide(ctx context.Context, o Officer, args string, approve bool) (string, error) {
	id, reason, err := ticketArg(args)
	if err != nil {
		return "", err
	}
	t, err := d.load(ctx, o, id)
	if err != nil {
		return "", err
	}
	if !d.isSupervisor(o, t) {
		return "", refuse("只有科室负责人可以审批工单%s的延期。", id)
	}
	old := t.Deadline
	now := d.now()
	t, err = d.update(ctx, id, func(t *store.Ticket) error {
		if t.Extension == nil || t.Extension.Status != "pending" {
			return refuse("工单%s没有待审批的延期申请。", t.ID)
		}
		ext := *t.Extension
		ext.DecidedBy, ext.DecidedAt = o.ID, now
		if approve {
			ext.Status, ext.OldDeadline = "approved", t.Deadline
			t.Deadline = d.cal.AddWorkingDays(t.Deadline, ext.Days)
			t.History = append(t.History, d.event(o, "extension_approved", fmt.Sprintf("同意延期%d个工作日，新时限%s", ext.Days, d.when(t.Deadline))))
		} else {
			ext.Status = "rejected"
			t.History = append(t.History, d.event(o, "extension_rejected", "不同意延期："+reason))
		}
		t.Extension = &ext
		return nil
	})
	if err != nil {
		return "", err
	}
	data := d.cardData(t)
	if !approve {
		if reason != "" {
			reason = "（" + reason + "）"
		}
		data["Reason"] = reason
		if err := d.tellOfficer(ctx, t.Owner, fmt.Sprintf("decision:%s:%d", t.ID, t.Version), d.say("extension_rejected", data), "approval", map[string]string{"ticket": t.ID}); err != nil {
			return "", err
		}
		return "已通知承办人：不同意延期。", nil
	}
	d.cancelTimers(ctx, store.Ticket{ID: t.ID, Deadline: old})
	if err := d.scheduleDeadline(ctx, t); err != nil {
		return "", err
	}
	data["Reason"] = t.Extension.Reason
	err = errors.Join(
		d.tellOfficer(ctx, t.Owner, fmt.Sprintf("decision:%s:%d", t.ID, t.Version), d.say("extension_approved", data), "approval", map[string]string{"ticket": t.ID}),
		d.tellCitizen(ctx, t, fmt.Sprintf("extended:%s:%d", t.ID, t.Version), d.say("citizen_extended", data)))
	if err != nil {
		return "", err
	}
	return fmt.Sprintf("已同意延期，工单%s新的办结时限：%s。", t.ID, d.when(t.Deadline)), nil
}

func (d *Desk) resolve(ctx context.Context, o Officer, args string) (string, error) {
	id, result, err := ticketArg(args)
	if err != nil {
		return "", err
	}
	if strings.TrimSpace(result) == "" {
		return "", refuse("请写上办理结果，例如：办结 %s 已为您办理低保申请，将于下月发放", id)
	}
	result = cut(result, 600)
	if _, err := d.load(ctx, o, id); err != nil {
		return "", err
	}
	t, err := d.update(ctx, id, func(t *store.Ticket) error {
		if !t.State.Open() {
			return refuse("工单%s已办结。", t.ID)
		}
		if !d.working(o, *t) {
			return refuse("请先接单：接单 %s", t.ID)
		}
		now := d.now()
		t.State, t.Resolution, t.ResolvedAt = store.StateResolved, result, now
		t.Transcript = append(t.Transcript, store.Utterance{At: now, From: o.ID, Text: result})
		t.History = append(t.History, d.event(o, "resolved", result))
		return nil
	})
	if err != nil {
		return "", err
	}
	d.cancelTimers(ctx, t)
	if err := d.tellCitizen(ctx, t, fmt.Sprintf("resolved:%s", t.ID), d.say("citizen_resolved", map[string]any{"ID": t.ID, "Text": result})); err != nil {
		return "", err
	}
	late := ""
	if t.ResolvedAt.After(t.Deadline) {
		late = "（已超期）"
	}
	return fmt.Sprintf("工单%s已办结%s，已告知群众。", t.ID, late), nil
}

func (d *Desk) mine(ctx context.Context, o Officer) (string, error) {
	f := store.TicketFilter{Owner: o.ID, OpenOnly: true}
	title := "您的在办工单"
	if o.Supervisor || d.dir.depts[o.Department].Supervisor == o.ID {
		f, title = store.TicketFilter{Department: o.Department, OpenOnly: true}, "本科室在办工单"
	}
	ts, err := d.st.ListTickets(ctx, f)
	if err != nil {
		return "", fmt.Errorf("list tickets: %w", err)
	}
	if len(ts) == 0 {
		return title + "：暂无。", nil
	}
	var b strings.Builder
	fmt.Fprintf(&b, "%s（%d件）：\n", title, len(ts))
	now := d.now()
	for i, t := range ts {
		if i == 20 {
			fmt.Fprintf(&b, "……另有%d件", len(ts)-20)
			break
		}
		flag := ""
		if now.After(t.Deadline) {
			flag = "【超期】"
		}
		fmt.Fprintf(&b, "%s%s %s %s前", flag, t.ID, stateNames[t.State], d.when(t.Deadline))
		if f.Department != "" {
			fmt.Fprintf(&b, " %s", d.dir.name(t.Owner))
		}
		b.WriteString("\n")
	}
	return strings.TrimRight(b.String(), "\n"), nil
}

func (d *Desk) view(ctx context.Context, o Officer, args string) (string, error) {
	id, _, err := ticketArg(args)
	if err != nil {
		return "", err
	}
	t, err := d.load(ctx, o, id)
	if err != nil {
		return "", err
	}
	var b strings.Builder
	fmt.Fprintf(&b, "工单%s　%s\n", t.ID, stateNames[t.State])
	fmt.Fprintf(&b, "事项：%s／%s\n", d.lineName(t.Line), inquiryName(t.Inquiry))
	fmt.Fprintf(&b, "诉求：%s\n", cut(t.Summary, 200))
	for _, k := range sortedKeys(t.Fields) {
		fmt.Fprintf(&b, "%s：%s\n", k, cut(t.Fields[k], 50))
	}
	if t.Phone != "" {
		fmt.Fprintf(&b, "电话：%s\n", MaskPhone(t.Phone))
	}
	if t.IDNumber != "" {
		fmt.Fprintf(&b, "身份证：%s\n", MaskID(t.IDNumber))
	}
	if len(t.Attachments) > 0 {
		fmt.Fprintf(&b, "附件：%d个\n", len(t.Attachments))
	}
	fmt.Fprintf(&b, "部门：%s　承办人：%s　首问负责：%s\n", d.dir.depts[t.Department].Name, d.dir.name(t.Owner), d.dir.name(t.FirstResponsible))
	fmt.Fprintf(&b, "时限：%s前\n", d.when(t.Deadline))
	from := max(0, len(t.History)-5)
	b.WriteString("最近记录：\n")
	for _, h := range t.History[from:] {
		fmt.Fprintf(&b, "%s %s %s\n", d.when(h.At), d.actor(h.Actor), cut(h.Detail, 60))
	}
	return strings.TrimRight(b.String(), "\n"), nil
}

func (d *Desk) actor(a string) string {
	switch a {
	case "citizen":
		return "群众"
	case "system":
		return "系统"
	}
	return d.dir.name(a)
}
