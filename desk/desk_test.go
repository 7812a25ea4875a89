package desk

import (
	"context"
	"errors"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"huimin/desk/calendar"
	"huimin/store"
	"huimin/store/boltstore"
	"huimin/store/redisstore"
)

// recorder is the Notifier of the tests: it keeps what would be sent.
type recorder struct {
	mu   sync.Mutex
	msgs []Message
	ids  map[string]bool
	// ends are how messages went, by ID, as the outbox would report them;
	// a message not in it is still on its way.
	ends map[string]Delivery
}

func (r *recorder) Delivery(_ context.Context, m Message) (Delivery, error) {
	r.mu.Lock()
	defer r.mu.Unlock()
	return r.ends[m.ID], nil
}

// ended records how a message went.
func (r *recorder) ended(id string, dl Delivery) {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ends == nil {
		r.ends = map[string]Delivery{}
	}
	r.ends[id] = dl
}

func (r *recorder) Notify(_ context.Context, msgs ...Message) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.ids == nil {
		r.ids = map[string]bool{}
	}
	for _, m := range msgs {
		if r.ids[m.ID] {
			continue // the outbox sends an ID once
		}
		r.ids[m.ID] = true
		r.msgs = append(r.msgs, m)
	}
	return nil
}

// take returns and forgets what was sent to user.
func (r *recorder) take(user string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	var out []string
	keep := r.msgs[:0]
	for _, m := range r.msgs {
		if m.To == user {
			out = append(out, m.Text)
		} else {
			keep = append(keep, m)
		}
	}
	r.msgs = keep
	return out
}

type testClock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *testClock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *testClock) Set(t time.Time) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = t
}

var shanghai = func() *time.Location {
	l, err := time.LoadLocation("Asia/Shanghai")
	if err != nil {
		panic(err)
	}
	return l
}()

func at(s string) time.Time {
	t, err := time.ParseInLocation("2006-01-02 15:04", s, shanghai)
	if err != nil {
		panic(err)
	}
	return t
}

type deskRig struct {
	desk  *Desk
	st    testStore
	note  *recorder
	clock *testClock
	off   map[string]Officer
	// talking is each citizen's conversation with an officer, as the
	// engine keeps it in the session.
	talking map[string]string
}

var testDirectory = Directory{
	Departments: []Department{
		{ID: "relief", Name: "社会救助科", Lines: []string{"relief"}, Supervisor: "zhao", Contact: Contact{Phone: "0755-0000"}},
		{ID: "veterans", Name: "优抚安置科", Lines: []string{"veterans"}, Supervisor: "qian"},
		{ID: "community", Name: "基层政权和社区建设科", Lines: []string{"community"}, Supervisor: "zhao"},
		{ID: "orphans", Name: "无人科", Lines: []string{"socialorg"}},
	},
	Agencies: []Agency{{ID: "veterans-bureau", Name: "退役军人事务局", Contact: Contact{Phone: "0755-1111"}}},
	Windows:  []Window{{ID: "w-chengguan", Name: "城关街道民政办", Departments: []string{"relief"}, Towns: []string{"城关街道"}}},
	Officers: []Officer{
		{ID: "wang", Name: "王明", Department: "relief", OpenID: "oWang"},
		{ID: "li", Name: "李华", Department: "relief", OpenID: "oLi", MaxOpen: 2},
		{ID: "zhao", Name: "赵科长", Department: "relief", OpenID: "oZhao", Supervisor: true},
		{ID: "sun", Name: "孙丽", Department: "veterans", WeComUser: "sun.li"},
		{ID: "qian", Name: "钱科长", Department: "veterans", OpenID: "oQian", Supervisor: true},
		{ID: "zhou", Name: "周局长", Department: "relief", OpenID: "oZhou", Leader: true},
		{ID: "chen", Name: "陈静", Department: "community"},
	},
}

// testStore is the desk's store plus the claims the runner makes.
type testStore interface {
	Store
	Claim(ctx context.Context, queue string, now time.Time, limit int, lease time.Duration) ([]store.DueItem, error)
	Ack(ctx context.Context, queue, id string, attempt int) error
}

// storeMaker makes a fresh, empty store for one test.
type storeMaker func(t *testing.T) testStore

// eachStore runs f on the embedded store and on Redis.
func eachStore(t *testing.T, f func(t *testing.T, mk storeMaker)) {
	t.Run("bolt", func(t *testing.T) {
		f(t, func(t *testing.T) testStore {
			st, err := boltstore.New(filepath.Join(t.TempDir(), "desk.db"), boltstore.Options{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = st.Close() })
			return st
		})
	})
	t.Run("redis", func(t *testing.T) {
		f(t, func(t *testing.T) testStore {
			addr := os.Getenv("HUIMIN_TEST_REDIS_ADDR")
			if addr == "" {
				addr = "127.0.0.1:6379"
			}
			client := goredis.NewClient(&goredis.Options{Addr: addr})
			if err := client.Ping(t.Context()).Err(); err != nil {
				t.Fatalf("redis at %s: %v (start redis-server)", addr, err)
			}
			prefix := fmt.Sprintf("huimintest:desk:%d:", time.Now().UnixNano())
			t.Cleanup(func() {
				ctx := context.Background()
				iter := client.Scan(ctx, 0, prefix+"*", 1000).Iterator()
				for iter.Next(ctx) {
					client.Del(ctx, iter.Val())
				}
				_ = client.Close()
			})
			return redisstore.New(client, redisstore.Options{Prefix: prefix})
		})
	})
}

func newDesk(t *testing.T, mk storeMaker, now time.Time) *deskRig {
	t.Helper()
	return newDeskWith(t, mk, now, testDirectory, nil)
}

// newDeskWith is newDesk with another directory, and rules changed by edit.
func newDeskWith(t *testing.T, mk storeMaker, now time.Time, dir Directory, edit func(*Rules)) *deskRig {
	t.Helper()
	st := mk(t)
	cal, err := calendar.New(calendar.Options{})
	if err != nil {
		t.Fatal(err)
	}
	clk := &testClock{t: now}
	note := &recorder{}
	rules := Rules{
		TicketPrefix:  "MZ",
		Deadlines:     map[string]map[string]Limit{"*": {"*": {Days: 3}, "complaint": {Days: 13}}, "relief": {"urgent": {Hours: 2}}},
		RemindAt:      []float64{0.75},
		RemindLastDay: true,
		LeaderAfter:   2,
		Survey: SurveyRules{QuietStart: 21 * time.Hour, QuietEnd: 8 * time.Hour, RemindAfter: 24 * time.Hour,
			PageURL: "https://huimin.test/survey/", Secret: []byte("test secret")},
		LoginURL: "https://huimin.test/desk/login/",
	}
	if edit != nil {
		edit(&rules)
	}
	d, err := New(st, cal, note, dir, rules, Options{Now: clk.Now, Location: shanghai,
		LineNames: map[string]string{"relief": "低保、特困、临时救助", "veterans": "优抚安置"}})
	if err != nil {
		t.Fatal(err)
	}
	off := map[string]Officer{}
	for _, o := range dir.Officers {
		off[o.ID] = o
	}
	return &deskRig{desk: d, st: st, note: note, clock: clk, off: off, talking: map[string]string{}}
}

func (r *deskRig) open(t *testing.T, citizen, line, inquiry string) store.Ticket {
	t.Helper()
	tk, err := r.desk.Open(t.Context(), OpenRequest{Citizen: citizen, Line: line, Inquiry: inquiry, Summary: "家里老人生病，想申请临时救助", Phone: "13812345678",
		Transcript: []store.Utterance{{At: r.clock.Now(), From: "citizen", Text: "我要申请临时救助"}}})
	if err != nil {
		t.Fatalf("Open: %v", err)
	}
	ack := r.desk.Acknowledgement(tk)
	if !strings.Contains(ack, tk.ID) {
		t.Fatalf("acknowledgement %q lacks the ticket number %s", ack, tk.ID)
	}
	return tk
}

// sweep does the desk's due timers as the service's runner does: claim,
// HandleTimer, acknowledge.
func (r *deskRig) sweep(ctx context.Context) error {
	for _, q := range []string{Queue, VisitQueue} {
		if err := r.sweepQueue(ctx, q); err != nil {
			return err
		}
	}
	return nil
}

func (r *deskRig) sweepQueue(ctx context.Context, queue string) error {
	for {
		items, err := r.st.Claim(ctx, queue, r.clock.Now(), 32, 2*time.Minute)
		if err != nil {
			return err
		}
		for _, it := range items {
			if err := r.desk.HandleTimer(ctx, it); errors.Is(err, errNotYet) {
				continue // back when its lease ends, as the runner retries it
			} else if err != nil {
				return err
			}
			if err := r.st.Ack(ctx, queue, it.ID, it.Attempt); err != nil {
				return err
			}
		}
		if len(items) < 32 {
			return nil
		}
	}
}

// relay passes what a citizen sent to the ticket they are talking about,
// as the conversation does; "" when there is none.
func (r *deskRig) relay(t *testing.T, citizen, text string, att *store.Attachment) string {
	t.Helper()
	id, err := r.desk.TalkingTo(t.Context(), citizen, r.talking[citizen])
	if err != nil || id == "" {
		t.Fatalf("TalkingTo(%s) = %q, %v", citizen, id, err)
	}
	r.talking[citizen] = id
	reply, err := r.desk.Relay(t.Context(), citizen, id, CitizenMessage{Text: text, Attachment: att})
	if err != nil {
		t.Fatalf("Relay: %v", err)
	}
	return reply
}

func (r *deskRig) cmd(t *testing.T, officer, text string) string {
	t.Helper()
	reply, err := r.desk.Command(t.Context(), r.off[officer], text)
	if err != nil {
		t.Fatalf("%s: %q: %v", officer, text, err)
	}
	return reply
}

func (r *deskRig) ticket(t *testing.T, id string) store.Ticket {
	t.Helper()
	tk, err := r.st.GetTicket(t.Context(), id)
	if err != nil {
		t.Fatal(err)
	}
	return tk
}

func TestNumbersAndRouting(t *testing.T) {
	eachStore(t, func(t *testing.T, mk storeMaker) {
		r := newDesk(t, mk, at("2026-11-30 10:00")) // a Monday
		// wang and li share the work; li's cap is 2; the supervisor is last.
		var owners []string
		for i := range 6 {
			tk := r.open(t, "oCitizen", "relief", "help")
			if want := "MZ20261130-000" + string(rune('1'+i)); tk.ID != want {
				t.Errorf("ticket %d number = %s, want %s", i, tk.ID, want)
			}
			if tk.State != store.StateAssigned || tk.Department != "relief" {
				t.Errorf("ticket %s = %s in %s, want assigned in relief", tk.ID, tk.State, tk.Department)
			}
			owners = append(owners, tk.Owner)
		}
		count := map[string]int{}
		for _, o := range owners {
			count[o]++
		}
		if count["li"] != 2 || count["wang"] != 4 || count["zhao"] != 0 {
			t.Errorf("owners = %v, want li 2 (cap), wang 4, supervisor 0", owners)
		}
		if owners[0] == owners[1] {
			t.Errorf("first two tickets both went to %s; ties should alternate", owners[0])
		}
		// The officer is told at once, with the masked phone.
		msgs := r.note.take("oWang")
		if len(msgs) != 4 || !strings.Contains(msgs[0], "138****5678") || strings.Contains(msgs[0], "13812345678") {
			t.Errorf("wang's assignments = %q, want 4 cards with the masked phone", msgs)
		}
		// Nobody free: wang off duty, li at cap → the supervisor.
		r.cmd(t, "wang", "下班")
		if tk := r.open(t, "oCitizen", "relief", "help"); tk.Owner != "zhao" {
			t.Errorf("with nobody free the ticket went to %s, want the supervisor zhao", tk.Owner)
		}
		r.cmd(t, "wang", "上班")
		if tk := r.open(t, "oCitizen", "relief", "help"); tk.Owner != "wang" {
			t.Errorf("after 上班 the ticket went to %s, want wang", tk.Owner)
		}
	})
}

func TestAfterHoursTicketWaitsForTheWorkingDay(t *testing.T) {
	eachStore(t, func(t *testing.T, mk storeMaker) {
		r := newDesk(t, mk, at("2026-11-28 20:00")) // Saturday evening
		tk, err := r.desk.Open(t.Context(), OpenRequest{Citizen: "oNight", Line: "veterans", Inquiry: "consult", Summary: "抚恤金什么时候发"})
		if err != nil {
			t.Fatal(err)
		}
		ack := r.desk.Acknowledgement(tk)
		if tk.State != store.StateReceived || tk.Owner != "" {
			t.Fatalf("after-hours ticket = %s owner %q, want received and unassigned", tk.State, tk.Owner)
		}
		if !strings.Contains(ack, "非工作时间") || !strings.Contains(ack, "11月30日08:30") {
			t.Errorf("acknowledgement = %q, want it to say work starts 11月30日08:30", ack)
		}
		if got, want := tk.Deadline, at("2026-12-02 17:30"); !got.Equal(want) {
			t.Errorf("deadline = %s, want %s (3 working days from Monday)", got, want)
		}
		r.clock.Set(at("2026-11-30 08:29"))
		if err := r.sweep(t.Context()); err != nil {
			t.Fatal(err)
		}
		if got := r.ticket(t, tk.ID); got.State != store.StateReceived {
			t.Fatalf("assigned before the working day started")
		}
		r.clock.Set(at("2026-11-30 08:30"))
		if err := r.sweep(t.Context()); err != nil {
			t.Fatal(err)
		}
		if got := r.ticket(t, tk.ID); got.State != store.StateAssigned || got.Owner != "sun" {
			t.Fatalf("at 08:30 the ticket is %s owned by %q, want assigned to sun", got.State, got.Owner)
		}
		if msgs := r.note.take("sun.li"); len(msgs) != 1 {
			t.Errorf("sun (WeCom) got %d messages, want the assignment", len(msgs))
		}
	})
}

func TestOfficerWorksTicketFromChat(t *testing.T) {
	eachStore(t, func(t *testing.T, mk storeMaker) {
		r := newDesk(t, mk, at("2026-11-30 10:00"))
		tk := r.open(t, "oCitizen", "relief", "help")
		owner := tk.Owner
		other := map[string]string{"wang": "li", "li": "wang"}[owner]
		r.note.take("oCitizen")

		if got := r.cmd(t, "sun", "接单 "+tk.ID); !strings.Contains(got, "无权") {
			t.Errorf("officer of another department accepting: %q, want a refusal", got)
		}
		if got := r.cmd(t, other, "接单 "+tk.ID); !strings.Contains(got, "无权") {
			t.Errorf("colleague accepting an assigned ticket: %q, want a refusal", got)
		}
		if got := r.cmd(t, owner, "回复 "+tk.ID+" 您好"); !strings.Contains(got, "先接单") {
			t.Errorf("reply before accepting: %q, want 请先接单", got)
		}
		if got := r.cmd(t, owner, "接单 "+strings.ToLower(tk.ID)); !strings.Contains(got, "已接单") {
			t.Fatalf("accept: %q", got)
		}
		if got := r.ticket(t, tk.ID); got.State != store.StateInProgress || got.FirstResponsible != owner {
			t.Fatalf("after 接单: %s, first responsible %q", got.State, got.FirstResponsible)
		}
		if msgs := r.note.take("oCitizen"); len(msgs) != 1 || !strings.Contains(msgs[0], "接单") {
			t.Errorf("citizen told %q, want one 已接单 notice", msgs)
		}

		r.cmd(t, owner, "回复 "+tk.ID+" 您好，请问老人住院了吗？")
		if msgs := r.note.take("oCitizen"); len(msgs) != 1 || !strings.Contains(msgs[0], "请问老人住院了吗") {
			t.Errorf("relayed reply = %q", msgs)
		}
		r.note.take(r.off[owner].OpenID)
		reply := r.relay(t, "oCitizen", "住院三天了", nil)
		if !strings.Contains(reply, tk.ID) {
			t.Fatalf("citizen answer relayed = %q", reply)
		}
		if msgs := r.note.take(r.off[owner].OpenID); len(msgs) != 1 || !strings.Contains(msgs[0], "住院三天了") {
			t.Errorf("officer got %q, want the citizen's answer", msgs)
		}

		r.cmd(t, owner, "补充 "+tk.ID+" 请发送住院证明照片")
		if got := r.ticket(t, tk.ID); got.State != store.StateWaiting {
			t.Errorf("after 补充 the state is %s, want waiting_citizen", got.State)
		}
		r.note.take("oCitizen")
		if reply := r.relay(t, "oCitizen", "", &store.Attachment{Kind: "image", MediaID: "m1", At: r.clock.Now()}); reply == "" {
			t.Fatal("image not relayed")
		}
		if got := r.ticket(t, tk.ID); got.State != store.StateInProgress || len(got.Attachments) != 1 {
			t.Errorf("after the picture: %s with %d attachments, want in_progress with 1", got.State, len(got.Attachments))
		}

		// Transfer to another department: the first-responsible officer stays.
		if got := r.cmd(t, owner, "转办 "+tk.ID+" 优抚安置科"); !strings.Contains(got, "原因") {
			t.Errorf("transfer without a reason: %q, want to be asked for one", got)
		}
		if got := r.cmd(t, owner, "转办 "+tk.ID+" 优抚安置科 申请人是退役军人"); !strings.Contains(got, "已转办") {
			t.Fatalf("transfer: %q", got)
		}
		got := r.ticket(t, tk.ID)
		if got.Department != "veterans" || got.Owner != "sun" || got.FirstResponsible != owner || got.State != store.StateAssigned {
			t.Fatalf("after transfer: dept %s owner %s first %s state %s", got.Department, got.Owner, got.FirstResponsible, got.State)
		}
		if got := r.cmd(t, owner, "回复 "+tk.ID+" 还在吗"); !strings.Contains(got, "无权") {
			t.Errorf("former owner still acts after transfer: %q", got)
		}
		if got := r.cmd(t, owner, "查看 "+tk.ID); !strings.Contains(got, tk.ID) || strings.Contains(got, "无权") {
			t.Errorf("the first responsible officer lost read access after the transfer: %q", got)
		}
		r.cmd(t, "sun", "接单 "+tk.ID)
		if got := r.ticket(t, tk.ID); got.FirstResponsible != owner {
			t.Errorf("first responsible changed to %s on the new officer's 接单", got.FirstResponsible)
		}

		// Extension: asked by the owner, decided by the supervisor.
		if got := r.cmd(t, "sun", "延期 "+tk.ID+" 99 需要调查"); !strings.Contains(got, "1-15") {
			t.Errorf("too long an extension: %q", got)
		}
		r.cmd(t, "sun", "延期 "+tk.ID+" 5 需要入户调查")
		if msgs := r.note.take("oQian"); len(msgs) != 1 || !strings.Contains(msgs[0], "同意 "+tk.ID) {
			t.Errorf("supervisor got %q, want the request", msgs)
		}
		if got := r.cmd(t, "sun", "同意 "+tk.ID); !strings.Contains(got, "负责人") {
			t.Errorf("owner approving own extension: %q, want a refusal", got)
		}
		old := r.ticket(t, tk.ID).Deadline
		if got := r.cmd(t, "qian", "同意 "+tk.ID); !strings.Contains(got, "已同意延期") {
			t.Fatalf("approve: %q", got)
		}
		if got := r.ticket(t, tk.ID); !got.Deadline.Equal(at("2026-12-10 17:30")) || !old.Equal(at("2026-12-03 17:30")) {
			t.Errorf("deadline %s → %s, want 12-03 17:30 → 12-10 17:30", old, got.Deadline)
		}

		if got := r.cmd(t, "sun", "办结 "+tk.ID); !strings.Contains(got, "办理结果") {
			t.Errorf("resolve without a result: %q", got)
		}
		r.note.take("oCitizen")
		r.cmd(t, "sun", "办结 "+tk.ID+" 已按临时救助政策发放救助金2000元")
		final := r.ticket(t, tk.ID)
		if final.State != store.StateResolved || final.Resolution == "" {
			t.Errorf("after 办结: %s %q", final.State, final.Resolution)
		}
		if msgs := r.note.take("oCitizen"); len(msgs) != 1 || !strings.Contains(msgs[0], "2000元") {
			t.Errorf("citizen told %q, want the result", msgs)
		}
		var actions []string
		for _, h := range final.History {
			actions = append(actions, string(h.Kind))
		}
		want := "created assigned accepted replied citizen_replied asked_more citizen_replied transferred assigned accepted extension_requested extension_approved resolved"
		if strings.Join(actions, " ") != want {
			t.Errorf("history = %v\nwant       %s", actions, want)
		}
	})
}

func TestOfficerBadInput(t *testing.T) {
	eachStore(t, func(t *testing.T, mk storeMaker) {
		r := newDesk(t, mk, at("2026-11-30 10:00"))
		tk := r.open(t, "oCitizen", "relief", "help")
		o := tk.Owner
		r.cmd(t, o, "接单 "+tk.ID)
		tests := []struct{ officer, text, want string }{
			{o, "随便说点什么", "没有看懂"},
			{o, "接单", "请写上工单号"},
			{o, "接单 MZ00000000-9999", "没有找到"},
			{"sun", "查看 " + tk.ID, "无权"},
			{o, "延期 " + tk.ID + " 三天 太忙", "延期天数"},
			{o, "回复 " + tk.ID, "回复内容"},
			{o, "转办 " + tk.ID + " 不存在的科 原因", "没有找到"},
			{o, "同意 " + tk.ID, "负责人"},
			{o, "接单 " + tk.ID, "已接单"},
			{o, "帮助", "接单 号"},
			{o, "🙂🙂🙂", "没有看懂"},
			{o, strings.Repeat("长", 10000), "没有看懂"},
		}
		before := r.ticket(t, tk.ID)
		for _, tt := range tests {
			t.Run(tt.text, func(t *testing.T) {
				got := r.cmd(t, tt.officer, tt.text)
				if tt.want != "" && !strings.Contains(got, tt.want) {
					t.Errorf("%s %q = %q, want it to contain %q", tt.officer, tt.text, got, tt.want)
				}
			})
		}
		if after := r.ticket(t, tk.ID); after.Version != before.Version {
			t.Errorf("refused commands changed the ticket (version %d → %d)", before.Version, after.Version)
		}
	})
}

func TestRemindersAndEscalation(t *testing.T) {
	eachStore(t, func(t *testing.T, mk storeMaker) {
		r := newDesk(t, mk, at("2026-11-30 09:00"))
		tk := r.open(t, "oCitizen", "relief", "help") // 3 working days: Thu 3 Dec 17:30
		owner := r.off[tk.Owner].OpenID
		r.note.take(owner)
		sweep := func(now string) {
			r.clock.Set(at(now))
			if err := r.sweep(t.Context()); err != nil {
				t.Fatal(err)
			}
		}
		sweep("2026-12-02 09:00")
		if msgs := r.note.take(owner); len(msgs) != 0 {
			t.Errorf("reminded too early: %q", msgs)
		}
		sweep("2026-12-03 08:30") // the deadline's day begins
		sweep("2026-12-03 10:00") // 75% of 3 days has passed
		msgs := r.note.take(owner)
		if len(msgs) != 2 {
			t.Fatalf("owner got %d reminders, want 2 (last day, 75%%): %q", len(msgs), msgs)
		}
		sweep("2026-12-03 11:00")
		if msgs := r.note.take(owner); len(msgs) != 0 {
			t.Errorf("reminded again: %q", msgs)
		}
		sweep("2026-12-03 17:31")
		if m := r.note.take("oZhao"); len(m) != 1 || !strings.Contains(m[0], "超期") {
			t.Errorf("supervisor got %q, want the overdue warning", m)
		}
		if m := r.note.take(owner); len(m) != 1 {
			t.Errorf("owner got %q, want the overdue notice", m)
		}
		sweep("2026-12-07 17:31") // two working days later (Fri, Mon)
		if m := r.note.take("oZhou"); len(m) != 1 || !strings.Contains(m[0], "超期") {
			t.Errorf("leader got %q, want the report", m)
		}
		got := r.ticket(t, tk.ID)
		if got.Escalation != 2 {
			t.Errorf("escalations = %d, want 2", got.Escalation)
		}
		n := 0
		for _, h := range got.History {
			if h.Kind == EventReminded || h.Kind == EventEscalated {
				n++
			}
		}
		if n != 4 {
			t.Errorf("history has %d reminder/escalation entries, want 4", n)
		}
	})
}

func TestResolvedTicketIsNotReminded(t *testing.T) {
	eachStore(t, func(t *testing.T, mk storeMaker) {
		r := newDesk(t, mk, at("2026-11-30 09:00"))
		tk := r.open(t, "oCitizen", "relief", "help")
		r.cmd(t, tk.Owner, "接单 "+tk.ID)
		r.cmd(t, tk.Owner, "办结 "+tk.ID+" 已办理")
		r.note.take(r.off[tk.Owner].OpenID)
		r.clock.Set(at("2026-12-10 09:00"))
		if err := r.sweep(t.Context()); err != nil {
			t.Fatal(err)
		}
		if m := r.note.take(r.off[tk.Owner].OpenID); len(m) != 0 {
			t.Errorf("resolved ticket reminded: %q", m)
		}
		if m := r.note.take("oZhao"); len(m) != 0 {
			t.Errorf("resolved ticket escalated: %q", m)
		}
	})
}

func TestBindWithOneTimeCode(t *testing.T) {
	eachStore(t, func(t *testing.T, mk storeMaker) {
		r := newDesk(t, mk, at("2026-11-30 09:00"))
		ctx := t.Context()
		code, err := r.desk.IssueCode(ctx, "li", time.Hour)
		if err != nil || len(code) != 6 {
			t.Fatalf("IssueCode = %q, %v", code, err)
		}
		if _, ok, _ := r.desk.OfficerFor(ctx, "wechat", "oNewPhone", true); ok {
			t.Fatal("unbound account recognised as an officer")
		}
		reply, err := r.desk.Bind(ctx, "wechat", "oNewPhone", code)
		if err != nil || !strings.Contains(reply, "李华") {
			t.Fatalf("Bind = %q, %v", reply, err)
		}
		if o, ok, _ := r.desk.OfficerFor(ctx, "wechat", "oNewPhone", true); !ok || o.ID != "li" {
			t.Errorf("OfficerFor after binding = %v, %v", o, ok)
		}
		if reply, _ := r.desk.Bind(ctx, "wechat", "oOther", code); !strings.Contains(reply, "无效") {
			t.Errorf("second use of a code: %q, want a refusal", reply)
		}
		if o, ok, _ := r.desk.OfficerFor(ctx, "wecom", "sun.li", true); !ok || o.ID != "sun" {
			t.Errorf("configured WeCom account not recognised: %v %v", o, ok)
		}
	})
}

func TestProgress(t *testing.T) {
	eachStore(t, func(t *testing.T, mk storeMaker) {
		r := newDesk(t, mk, at("2026-11-30 09:00"))
		if got, _ := r.desk.Progress(t.Context(), "oNobody"); !strings.Contains(got, "还没有") {
			t.Errorf("no tickets: %q", got)
		}
		tk := r.open(t, "oCitizen", "relief", "help")
		got, err := r.desk.Progress(t.Context(), "oCitizen")
		if err != nil || !strings.Contains(got, tk.ID) || !strings.Contains(got, "已分派") {
			t.Errorf("progress = %q, %v", got, err)
		}
	})
}
