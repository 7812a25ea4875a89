package flows_test

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"huimin/chat"
	"huimin/desk"
	"huimin/desk/calendar"
	"huimin/flows"
	"huimin/flows/intake"
	"huimin/store"
	"huimin/store/boltstore"
	"huimin/store/redisstore"
)

// backend is what the engine and the desk need from a store.
type backend interface {
	flows.Sessions
	flows.Consents
	desk.Store
	GetSession(ctx context.Context, openID string) (store.Session, error)
	DeleteSession(ctx context.Context, openID string) error
}

// stores runs f on the embedded store and on Redis.
func stores(t *testing.T, f func(t *testing.T, newStore func(t *testing.T) backend)) {
	t.Run("bolt", func(t *testing.T) {
		f(t, func(t *testing.T) backend {
			st, err := boltstore.New(filepath.Join(t.TempDir(), "engine.db"), boltstore.Options{})
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = st.Close() })
			return st
		})
	})
	t.Run("redis", func(t *testing.T) {
		addr := os.Getenv("HUIMIN_TEST_REDIS_ADDR")
		if addr == "" {
			addr = "127.0.0.1:6379"
		}
		client := goredis.NewClient(&goredis.Options{Addr: addr})
		if err := client.Ping(t.Context()).Err(); err != nil {
			t.Fatalf("redis at %s: %v (start redis-server)", addr, err)
		}
		prefix := fmt.Sprintf("huimintest:engine:%d:", time.Now().UnixNano())
		t.Cleanup(func() {
			ctx := context.Background()
			keys, _ := client.Keys(ctx, prefix+"*").Result()
			if len(keys) > 0 {
				client.Del(ctx, keys...)
			}
			_ = client.Close()
		})
		f(t, func(t *testing.T) backend { return redisstore.New(client, redisstore.Options{Prefix: prefix}) })
	})
}

// recorder is the desk's Notifier in these tests: it keeps what would be sent.
type recorder struct {
	mu   sync.Mutex
	msgs map[string][]string
}

// Delivery says every message is still on its way: the engine's tests
// do not follow a message past the outbox.
func (r *recorder) Delivery(context.Context, desk.Message) (desk.Delivery, error) {
	return desk.Delivery{}, nil
}

func (r *recorder) Notify(_ context.Context, msgs ...desk.Message) error {
	r.mu.Lock()
	defer r.mu.Unlock()
	if r.msgs == nil {
		r.msgs = map[string][]string{}
	}
	for _, m := range msgs {
		text := m.Text
		if m.Image != nil {
			text = "image:" + m.Image.MediaID // a picture passed on as a picture
		}
		r.msgs[m.To] = append(r.msgs[m.To], text)
	}
	return nil
}

func (r *recorder) take(to string) []string {
	r.mu.Lock()
	defer r.mu.Unlock()
	out := r.msgs[to]
	delete(r.msgs, to)
	return out
}

// countingSessions checks that no two messages of one person are handled
// at once: it counts overlapping holds of the session lock per person.
type countingSessions struct {
	backend
	mu       sync.Mutex
	inFlight map[string]int
	overlap  atomic.Int64
}

func (c *countingSessions) LockSession(ctx context.Context, openID, owner string, ttl time.Duration) (store.Session, bool, bool, error) {
	sess, found, locked, err := c.backend.LockSession(ctx, openID, owner, ttl)
	if locked {
		c.mu.Lock()
		c.inFlight[openID]++
		if c.inFlight[openID] > 1 {
			c.overlap.Add(1)
		}
		c.mu.Unlock()
	}
	return sess, found, locked, err
}

func (c *countingSessions) SaveSessionUnlock(ctx context.Context, s store.Session, ttl time.Duration, owner string) error {
	c.mu.Lock()
	c.inFlight[s.OpenID]--
	c.mu.Unlock()
	return c.backend.SaveSessionUnlock(ctx, s, ttl, owner)
}

type clock struct {
	mu sync.Mutex
	t  time.Time
}

func (c *clock) Now() time.Time { c.mu.Lock(); defer c.mu.Unlock(); return c.t }
func (c *clock) Advance(d time.Duration) {
	c.mu.Lock()
	defer c.mu.Unlock()
	c.t = c.t.Add(d)
}

type engineRig struct {
	msgIDs   atomic.Int64 // WeChat gives every message (not event) an ID
	engine   *flows.Engine
	desk     *desk.Desk
	st       backend
	sessions *countingSessions
	note     *recorder
	clock    *clock
}

func newRig(t *testing.T, st backend) *engineRig {
	t.Helper()
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelWarn}))
	set, err := intake.NewWatcher(intake.Defaults(), "", log)
	if err != nil {
		t.Fatal(err)
	}
	cal, err := calendar.New(calendar.Options{})
	if err != nil {
		t.Fatal(err)
	}
	var lines []string
	for _, f := range set.Current().Lines() {
		lines = append(lines, f.Line)
	}
	dir := desk.Directory{
		Departments: []desk.Department{{ID: "all", Name: "综合受理窗口", Lines: lines, Supervisor: "zhao"}},
		Officers: []desk.Officer{
			{ID: "zhao", Name: "赵科长", Department: "all", Supervisor: true, OpenID: "oZhao"},
			{ID: "wang", Name: "王明", Department: "all", OpenID: "oWang"},
			{ID: "li", Name: "李华", Department: "all"},
		},
		Windows: []desk.Window{
			{ID: "w-chengguan", Name: "城关街道民政办", Towns: []string{"城关街道"}},
			{ID: "w-east", Name: "东湖街道民政办", Towns: []string{"东湖街道"}, Contact: desk.Contact{Address: "东湖路1号（测试）"}},
		},
	}
	clk := &clock{t: time.Date(2026, 11, 30, 9, 0, 0, 0, cal.Location())} // a Monday morning
	note := &recorder{}
	rules := desk.Rules{Survey: desk.SurveyRules{Delay: time.Minute}}
	d, err := desk.New(st, cal, note, dir, rules, desk.Options{Now: clk.Now, Log: log, Location: cal.Location()})
	if err != nil {
		t.Fatal(err)
	}
	cs := &countingSessions{backend: st, inFlight: map[string]int{}}
	e := flows.NewEngine(cs, set, d, flows.EngineOptions{Now: clk.Now, Log: log})
	return &engineRig{engine: e, desk: d, st: st, sessions: cs, note: note, clock: clk}
}

// say sends a text from openid and returns the replies as text.
func (r *engineRig) say(t *testing.T, openid, text string) string {
	t.Helper()
	return r.send(t, chat.Event{Kind: chat.KindText, Channel: chat.ChannelWeChat, From: openid, Text: text})
}

func (r *engineRig) send(t *testing.T, ev chat.Event) string {
	t.Helper()
	if ev.Channel == "" {
		ev.Channel = chat.ChannelWeChat
	}
	ev.At = r.clock.Now()
	switch ev.Kind {
	case chat.KindText, chat.KindVoice, chat.KindImage, chat.KindVideo, chat.KindShortVideo, chat.KindLocation, chat.KindLink:
		if ev.MsgID == "" {
			ev.MsgID = strconv.FormatInt(24938173591234567+r.msgIDs.Add(1), 10)
		}
	}
	replies, err := r.engine.Dispatch(t.Context(), ev)
	if err != nil {
		t.Fatalf("Dispatch(%q): %v", ev.Text, err)
	}
	var parts []string
	for _, rp := range replies {
		parts = append(parts, rp.Text)
		for _, o := range rp.Options {
			parts = append(parts, o.ID+". "+o.Text)
		}
		if rp.Tail != "" {
			parts = append(parts, rp.Tail)
		}
	}
	return strings.Join(parts, "\n")
}

// exchange is one message of a citizen's and a word the answer must contain.
type exchange struct{ say, want string }

// walk sends the messages in turn, checking each answer, and returns the
// last answer.
func (r *engineRig) walk(t *testing.T, openid string, steps []exchange) string {
	t.Helper()
	var last string
	for _, s := range steps {
		if last = r.say(t, openid, s.say); !strings.Contains(last, s.want) {
			t.Fatalf("after %q the bot said %q, want it to mention %q", s.say, last, s.want)
		}
	}
	return last
}

// reliefMatter walks a citizen through the 低保 flow to a ticket and
// returns the last answer (the acknowledgement and what follows it).
func (r *engineRig) reliefMatter(t *testing.T, openid string) string {
	t.Helper()
	steps := []exchange{
		{"1", "办理前先看办事指南"},
		{"直接办理", "哪方面"},
		{"2", "您是想"}, // 特困供养
		{"2", "街道"},  // 申请帮助
		{"城关街道", "情况"},
		{"家里老人生病住院，生活困难，想申请临时救助", "照片"},
		{"1", "称呼"},
		{"王阿姨", "手机"},
		{"13812345678", "核对"},
		{"1", "工单号"},
	}
	// A citizen who never agreed to the personal-information notice sees
	// it before the phone question, and agrees; one who did, never again.
	_, err := r.st.ConsentOf(t.Context(), openid)
	if errors.Is(err, store.ErrNotFound) {
		steps[7].want = "1. 同意"
		steps = slices.Insert(steps, 8, exchange{agree, "手机"})
	} else if err != nil {
		t.Fatal(err)
	}
	return r.walk(t, openid, steps)
}

// reliefTicket walks a citizen through the 低保 flow to a ticket and
// returns the ticket number.
func (r *engineRig) reliefTicket(t *testing.T, openid string) string {
	t.Helper()
	last := r.reliefMatter(t, openid)
	i := strings.Index(last, "MZ")
	if i < 0 {
		t.Fatalf("no ticket number in %q", last)
	}
	return last[i : i+len("MZ20261130-0001")]
}

func TestCitizenToOfficerAndBack(t *testing.T) {
	stores(t, func(t *testing.T, newStore func(t *testing.T) backend) {
		r := newRig(t, newStore(t))
		id := r.reliefTicket(t, "oCitizen")
		tk, err := r.st.GetTicket(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		if tk.Line != "relief" || tk.Inquiry != "help" || tk.Phone != "13812345678" || tk.Name != "王阿姨" || tk.State != store.StateAssigned {
			t.Fatalf("ticket = line %s inquiry %s phone %s name %s state %s", tk.Line, tk.Inquiry, tk.Phone, tk.Name, tk.State)
		}
		owner := map[string]string{"wang": "oWang", "li": ""}[tk.Owner]
		if owner == "" {
			// li has no chat account: reassign the test to wang by transfer.
			r.say(t, "oZhao", "转办 "+id+" 王明 李华不在岗")
			owner = "oWang"
		}
		if cards := r.note.take(owner); len(cards) == 0 || !strings.Contains(cards[len(cards)-1], id) || strings.Contains(cards[len(cards)-1], "13812345678") {
			t.Fatalf("officer cards = %q, want the assignment with a masked phone", cards)
		}
		// A citizen typing an officer command is a citizen.
		if got := r.say(t, "oCitizen", "接单 "+id); strings.Contains(got, "已接单") {
			t.Fatalf("citizen's 接单 was obeyed: %q", got)
		}
		if tk2, _ := r.st.GetTicket(t.Context(), id); tk2.State != store.StateAssigned {
			t.Fatalf("citizen's 接单 changed the ticket to %s", tk2.State)
		}
		if got := r.say(t, owner, "接单 "+id); !strings.Contains(got, "已接单") {
			t.Fatalf("officer's 接单: %q", got)
		}
		r.say(t, owner, "补充 "+id+" 请发送住院证明照片")
		if got := r.note.take("oCitizen"); len(got) != 2 || !strings.Contains(got[1], "住院证明") {
			t.Fatalf("citizen told %q, want 接单 and the request for more", got)
		}
		got := r.send(t, chat.Event{Kind: chat.KindImage, From: "oCitizen", MediaID: "m1", PicURL: "http://p/1.jpg"})
		if !strings.Contains(got, "已转给工单") {
			t.Fatalf("citizen's picture answer: %q, want it relayed", got)
		}
		if m := r.note.take(owner); len(m) != 2 || !strings.Contains(m[0], "图片") || m[1] != "image:m1" {
			t.Errorf("officer told %q, want a note and the citizen's picture itself (defect 11)", m)
		}
		// Everything the citizen sends reaches the officer until the ticket
		// is finished (defect 8): a second picture and a text as well.
		r.send(t, chat.Event{Kind: chat.KindImage, From: "oCitizen", MediaID: "m2", PicURL: "http://p/2.jpg"})
		if got := r.say(t, "oCitizen", "还有一张出院小结"); !strings.Contains(got, "已转给工单") {
			t.Errorf("citizen's second message: %q, want it relayed", got)
		}
		if m := r.note.take(owner); len(m) != 3 || m[1] != "image:m2" || !strings.Contains(m[2], "出院小结") {
			t.Errorf("officer told %q, want the second picture and the text", m)
		}
		if got := r.say(t, "oCitizen", "进度"); !strings.Contains(got, id) || !strings.Contains(got, "办理中") {
			t.Errorf("进度 = %q", got)
		}
		r.say(t, owner, "办结 "+id+" 已为您办理临时救助，救助金三个工作日内到账")
		if m := r.note.take("oCitizen"); len(m) != 1 || !strings.Contains(m[0], "已办结") {
			t.Errorf("citizen told %q, want the result", m)
		}
	})
}

func TestCommandsAndBadInput(t *testing.T) {
	stores(t, func(t *testing.T, newStore func(t *testing.T) backend) {
		r := newRig(t, newStore(t))
		tests := []struct{ name, say, want string }{
			{"menu on hello", "你好", "1. 低保"},
			{"help", "帮助", "返回"},
			{"no tickets yet", "进度", "还没有"},
			{"emoji only", "🙂🙂🙂", "文字或语音"},
			{"start a flow", "1", "办理前先看办事指南"},
			{"the guides of the line", "看指南", "2. 特困人员救助供养申请"},
			{"a guide, then the first question", "1", "【办事指南】最低生活保障（低保）申请"},
			{"emoji mid-flow", "👍", "哪方面"},
			{"10000 characters", strings.Repeat("啊", 10000), "哪方面"},
			{"back at the first step", "返回", "1. 低保"},
			{"start again", "4", "返回"},
			{"cancel", "取消", "1. 低保"},
			{"faq", "高龄津贴怎么领", "转人工"},
		}
		for _, tt := range tests {
			got := r.say(t, "oCmd", tt.say)
			if !strings.Contains(got, tt.want) {
				t.Errorf("%s: %q → %q, want it to contain %q", tt.name, chat.Cut(tt.say, 11), got, tt.want)
			}
			if len(got) > 2048*2 {
				t.Errorf("%s: reply of %d bytes", tt.name, len(got))
			}
		}
		// 人工 with no matter on file asks what it is about and for a phone
		// number before a person takes it (defect 12).
		if got := r.say(t, "oCmd", "人工"); !strings.Contains(got, "哪方面") || strings.Contains(got, "工单号") {
			t.Errorf("人工 → %q, want to be asked what it is about, no ticket yet", got)
		}
		r.say(t, "oCmd", "4")
		if got := r.say(t, "oCmd", "想问问养老院怎么申请"); !strings.Contains(got, "1. 同意") {
			t.Errorf("before the phone question: %q, want the consent notice", got)
		}
		r.say(t, "oCmd", agree)
		if got := r.say(t, "oCmd", "13800001111"); !strings.Contains(got, "13800001111") {
			t.Errorf("confirmation = %q, want the citizen's own number in full", got)
		}
		if got := r.say(t, "oCmd", "1"); !strings.Contains(got, "工单号") {
			t.Errorf("confirm 人工 → %q, want a ticket for a person", got)
		}
		if got := r.say(t, "oCmd", "进度"); !strings.Contains(got, "MZ20261130-") {
			t.Errorf("进度 after 人工 = %q, want the handover ticket listed", got)
		}
	})
}

func TestSessionExpiresPolitely(t *testing.T) {
	stores(t, func(t *testing.T, newStore func(t *testing.T) backend) {
		r := newRig(t, newStore(t))
		r.say(t, "oSlow", "1")
		r.say(t, "oSlow", "直接办理")
		r.clock.Advance(10 * time.Minute)
		if got := r.say(t, "oSlow", "3"); !strings.Contains(got, "急不急") {
			t.Fatalf("resumed within the window: %q", got)
		}
		r.clock.Advance(31 * time.Minute)
		got := r.say(t, "oSlow", "2")
		if !strings.Contains(got, "已超过时间") || !strings.Contains(got, "办理前先看办事指南") {
			t.Fatalf("after the window: %q, want a polite restart (and 2 read from the menu)", got)
		}
		if got := r.say(t, "oSlow", "看指南"); !strings.Contains(got, "抚恤补助") {
			t.Fatalf("the guide after the restart: %q, want the veterans' line (2 of the menu)", got)
		}
	})
}

func TestOfficerBindsWithCode(t *testing.T) {
	stores(t, func(t *testing.T, newStore func(t *testing.T) backend) {
		st := newStore(t)
		r := newRig(t, st)
		code, err := r.desk.IssueCode(t.Context(), "li", time.Hour)
		if err != nil {
			t.Fatal(err)
		}
		if got := r.say(t, "oLiPhone", "我的工单"); strings.Contains(got, "在办工单") {
			t.Fatalf("unbound account treated as an officer: %q", got)
		}
		if got := r.send(t, chat.Event{Kind: chat.KindScan, From: "oLiPhone", Scene: "bind_" + code}); !strings.Contains(got, "绑定成功") {
			t.Fatalf("scan with the code: %q", got)
		}
		if got := r.say(t, "oLiPhone", "我的工单"); !strings.Contains(got, "在办工单") {
			t.Errorf("bound officer's 我的工单: %q", got)
		}
		// A new conversation (the old one expired) still knows the binding:
		// the store reads it along with the missing session.
		if err := st.DeleteSession(t.Context(), "oLiPhone"); err != nil {
			t.Fatal(err)
		}
		if got := r.say(t, "oLiPhone", "我的工单"); !strings.Contains(got, "在办工单") {
			t.Errorf("bound officer's 我的工单 in a new conversation: %q", got)
		}
		if got := r.say(t, "oOther", "绑定 "+code); !strings.Contains(got, "无效") {
			t.Errorf("reused code: %q", got)
		}
		if got := r.send(t, chat.Event{Kind: chat.KindText, Channel: chat.ChannelWeCom, From: "stranger", Text: "帮助"}); !strings.Contains(got, "没有登记") {
			t.Errorf("unknown WeCom user: %q", got)
		}
	})
}

// TestOneMessageAtATime sends a citizen's messages all at once, to one
// engine and to two engines on the same store (two instances): they are
// handled one at a time and none is lost.
func TestOneMessageAtATime(t *testing.T) {
	stores(t, func(t *testing.T, newStore func(t *testing.T) backend) {
		st := newStore(t)
		a, b := newRig(t, st), newRig(t, st)
		b.sessions = a.sessions // one overlap counter for both instances
		b.engine = flows.NewEngine(a.sessions, mustWatcher(t), b.desk, flows.EngineOptions{Now: b.clock.Now})
		var wg sync.WaitGroup
		answers := make([]string, 12)
		for i := range answers {
			wg.Go(func() {
				r := a
				if i%2 == 1 {
					r = b
				}
				answers[i] = r.say(t, "oBurst", "你好")
			})
		}
		wg.Wait()
		if n := a.sessions.overlap.Load(); n != 0 {
			t.Errorf("%d messages of one person were handled at the same time", n)
		}
		for i, got := range answers {
			if !strings.Contains(got, "1. 低保") {
				t.Errorf("message %d answered %q, want the menu", i, got)
			}
		}
	})
}

func mustWatcher(t *testing.T) *intake.Watcher {
	w, err := intake.NewWatcher(intake.Defaults(), "", slog.New(slog.DiscardHandler))
	if err != nil {
		t.Fatal(err)
	}
	return w
}

func TestEveryLineStartsFromTheAccountMenu(t *testing.T) {
	r := newRig(t, func() backend {
		st, err := boltstore.New(filepath.Join(t.TempDir(), "e.db"), boltstore.Options{})
		if err != nil {
			t.Fatal(err)
		}
		t.Cleanup(func() { _ = st.Close() })
		return st
	}())
	for _, f := range mustWatcher(t).Current().Flows() {
		t.Run(f.ID, func(t *testing.T) {
			got := r.send(t, chat.Event{Kind: chat.KindClick, From: "oClick" + f.ID, Key: "flow:" + f.ID})
			if !strings.Contains(got, "登记") {
				t.Errorf("CLICK flow:%s → %q, want the flow's first question", f.ID, got)
			}
			s, err := r.st.GetSession(t.Context(), "oClick"+f.ID)
			if err != nil || s.Flow != f.ID {
				t.Errorf("session after CLICK = %+v, %v; want flow %s", s, err, f.ID)
			}
		})
	}
}

// TestPictureBeforeTheLineGoesWithTheMatter checks that a picture sent
// before choosing a service line ("会一起提交") is submitted with the matter
// (defect 16), whether the line is picked by number or by the menu.
func TestPictureBeforeTheLineGoesWithTheMatter(t *testing.T) {
	stores(t, func(t *testing.T, newStore func(t *testing.T) backend) {
		r := newRig(t, newStore(t))
		if got := r.send(t, chat.Event{Kind: chat.KindImage, From: "oPic", MediaID: "m-before", PicURL: "http://p/0.jpg"}); !strings.Contains(got, "图片") {
			t.Fatalf("picture before a line: %q", got)
		}
		for _, say := range []string{"1", "直接办理", "3", "1", "2", "城关街道", "家里失火，生活有困难", "1", "王阿姨", agree, "13812345678", "1"} {
			r.say(t, "oPic", say)
		}
		ts, err := r.st.ListTickets(t.Context(), store.TicketFilter{Citizen: "oPic"})
		if err != nil || len(ts) != 1 {
			t.Fatalf("tickets = %v, %v; want one", ts, err)
		}
		if len(ts[0].Attachments) != 1 || ts[0].Attachments[0].MediaID != "m-before" {
			t.Errorf("ticket attachments = %+v, want the picture sent before the line was chosen", ts[0].Attachments)
		}
	})
}

// TestHumanAfterAResolvedMatterGoesToItsOfficer checks defect 3: after a
// matter was resolved, 人工 reaches the officer of that matter (and the
// conversation with them reopens) instead of opening a new, empty ticket
// in another department.
func TestHumanAfterAResolvedMatterGoesToItsOfficer(t *testing.T) {
	stores(t, func(t *testing.T, newStore func(t *testing.T) backend) {
		r := newRig(t, newStore(t))
		id := r.reliefTicket(t, "oAgain")
		tk, err := r.st.GetTicket(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		officer := map[string]string{"wang": "oWang", "zhao": "oZhao"}[tk.Owner]
		if officer == "" {
			t.Fatalf("ticket went to %q, who cannot be reached", tk.Owner)
		}
		r.say(t, officer, "接单 "+id)
		r.say(t, officer, "办结 "+id+" 已发放临时救助金")
		r.note.take(officer)
		got := r.say(t, "oAgain", "人工")
		if !strings.Contains(got, id) || strings.Contains(got, "工单号：") {
			t.Errorf("人工 after the result = %q, want the officer of %s told, no new ticket", got, id)
		}
		if m := r.note.take(officer); len(m) != 1 || !strings.Contains(m[0], "请求人工") {
			t.Errorf("officer told %q, want the citizen's request", m)
		}
		r.say(t, "oAgain", "钱还没到账")
		if m := r.note.take(officer); len(m) != 1 || !strings.Contains(m[0], "钱还没到账") {
			t.Errorf("officer got %q, want the citizen's words after 人工", m)
		}
		ts, err := r.st.ListTickets(t.Context(), store.TicketFilter{Citizen: "oAgain"})
		if err != nil || len(ts) != 1 {
			t.Errorf("citizen has %d tickets (%v), want still the one", len(ts), err)
		}
	})
}

// TestRedeliveredConfirmationGetsTheSameTicket checks issue 12 item 1 from
// the citizen's side: when the answer to the message that opened a ticket
// was lost (the service died after saving the conversation), WeChat's
// retry of that message gets the ticket's number again, not the menu's
// first line, and no second ticket.
func TestRedeliveredConfirmationGetsTheSameTicket(t *testing.T) {
	stores(t, func(t *testing.T, newStore func(t *testing.T) backend) {
		r := newRig(t, newStore(t))
		for _, s := range []string{"1", "直接办理", "2", "2", "城关街道", "家里老人生病住院，生活困难，想申请临时救助", "1", "王阿姨", agree, "13812345678"} {
			r.say(t, "oRetry", s)
		}
		confirm := chat.Event{Kind: chat.KindText, From: "oRetry", Text: "1", MsgID: "24938173599999999"}
		first := r.send(t, confirm)
		i := strings.Index(first, "MZ")
		if i < 0 {
			t.Fatalf("confirmation answered %q, want a ticket number", first)
		}
		id := first[i : i+len("MZ20261130-0001")]
		again := r.send(t, confirm)
		if !strings.Contains(again, id) {
			t.Errorf("the redelivered confirmation answered %q, want ticket %s again", again, id)
		}
		all, err := r.st.ListTickets(t.Context(), store.TicketFilter{Citizen: "oRetry"})
		if err != nil {
			t.Fatal(err)
		}
		if len(all) != 1 {
			t.Errorf("the citizen has %d tickets, want 1", len(all))
		}
		// A new "1" is a new choice from the menu.
		if got := r.say(t, "oRetry", "1"); strings.Contains(got, id) {
			t.Errorf("a new 1 answered %q, want the menu's first line", got)
		}
	})
}

// visitDue does the desk's timers due at the rig's time, as the runner
// does (the survey's own are sent by then).
func (r *engineRig) visitDue(t *testing.T) {
	t.Helper()
	q, ok := r.st.(interface {
		Claim(ctx context.Context, queue string, now time.Time, limit int, lease time.Duration) ([]store.DueItem, error)
		Ack(ctx context.Context, queue, id string, attempt int) error
	})
	if !ok {
		t.Fatal("the store cannot claim timers")
	}
	for _, queue := range []string{desk.Queue, desk.VisitQueue} {
		items, err := q.Claim(t.Context(), queue, r.clock.Now(), 100, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		for _, it := range items {
			if err := r.desk.HandleTimer(t.Context(), it); err == nil {
				_ = q.Ack(t.Context(), queue, it.ID, it.Attempt)
			}
		}
	}
}

// resolvedTicket takes a citizen's relief matter to resolved, by wang.
func (r *engineRig) resolvedTicket(t *testing.T, openid string) string {
	t.Helper()
	id := r.reliefTicket(t, openid)
	if tk, _ := r.st.GetTicket(t.Context(), id); tk.Owner != "wang" {
		r.say(t, "oZhao", "转办 "+id+" 王明 测试")
	}
	r.say(t, "oWang", "接单 "+id)
	if got := r.say(t, "oWang", "办结 "+id+" 已为您办理"); !strings.Contains(got, "已办结") {
		t.Fatalf("办结: %q", got)
	}
	r.note.take(openid)
	return id
}

// TestSurveyAnsweredInChat: while a citizen's survey is open, a digit (or
// a tapped choice) is their rating and the next message their comment;
// anything else, and a digit from someone without a survey, goes to the
// conversation as before.
func TestSurveyAnsweredInChat(t *testing.T) {
	stores(t, func(t *testing.T, newStore func(t *testing.T) backend) {
		r := newRig(t, newStore(t))
		id := r.resolvedTicket(t, "oCitizen")
		// Before the visit, "2" is a choice from the menu.
		if got := r.say(t, "oCitizen", "2"); strings.Contains(got, "评价") {
			t.Fatalf("a digit before the survey was sent: %q", got)
		}
		r.say(t, "oCitizen", "菜单")
		r.clock.Advance(2 * time.Minute)
		r.visitDue(t)
		if got := r.note.take("oCitizen"); len(got) != 1 || !strings.Contains(got[0], "回访") {
			t.Fatalf("survey message = %q", got)
		}
		// Someone else's "2" is theirs to the menu.
		if got := r.say(t, "oOther", "2"); strings.Contains(got, "评价") {
			t.Errorf("another citizen's digit rated: %q", got)
		}
		// While it is open, other messages work as before.
		if got := r.say(t, "oCitizen", "进度"); !strings.Contains(got, id) || !strings.Contains(got, "回访") {
			t.Errorf("进度 with a survey open: %q", got)
		}
		if got := r.say(t, "oCitizen", "菜单"); strings.Contains(got, "评价") || !strings.Contains(got, "低保") {
			t.Errorf("菜单 with a survey open: %q", got)
		}
		got := r.say(t, "oCitizen", "2")
		if !strings.Contains(got, "感谢您的评价：满意") || !strings.Contains(got, "没有请回复1") {
			t.Fatalf("rating reply = %q", got)
		}
		if got := r.say(t, "oCitizen", "工作人员很耐心"); !strings.Contains(got, "已记录您的意见") {
			t.Errorf("comment reply = %q", got)
		}
		tk, err := r.st.GetTicket(t.Context(), id)
		if err != nil {
			t.Fatal(err)
		}
		if s := tk.Surveys[0]; s.Level != 2 || s.Comment != "工作人员很耐心" || tk.State != store.StateClosed {
			t.Errorf("survey = %+v, state %s", s, tk.State)
		}
		// Answered: a digit is the menu's again.
		if got := r.say(t, "oCitizen", "2"); strings.Contains(got, "评价") {
			t.Errorf("a digit after the answer: %q", got)
		}
	})
}

// TestSurveyTappedChoiceAndNoComment: a tapped msgmenu choice (its text,
// with its ID as bizmsgmenuid) rates; "1" after it means no comment; a
// 差评 by tap reopens the ticket.
func TestSurveyTappedChoiceAndNoComment(t *testing.T) {
	stores(t, func(t *testing.T, newStore func(t *testing.T) backend) {
		r := newRig(t, newStore(t))
		id := r.resolvedTicket(t, "oTap")
		r.clock.Advance(2 * time.Minute)
		r.visitDue(t)
		got := r.send(t, chat.Event{Kind: chat.KindText, From: "oTap", Text: "非常不满意", Key: "5"})
		if !strings.Contains(got, "整改") {
			t.Fatalf("tapped 非常不满意: %q", got)
		}
		if got := r.say(t, "oTap", "1"); !strings.Contains(got, "感谢") {
			t.Errorf("no comment: %q", got)
		}
		tk, _ := r.st.GetTicket(t.Context(), id)
		if s := tk.Surveys[0]; s.Level != 5 || s.Comment != "" || tk.State != store.StateReopened {
			t.Errorf("survey = %+v, state %s; want 5 without comment, reopened", s, tk.State)
		}
	})
}

// TestWindowQRCode: scanning a service window's QR code greets the citizen
// with that window and counts the matters they open under it; without a
// scan their town's window counts it, and an unknown window's code gets
// the general greeting.
func TestWindowQRCode(t *testing.T) {
	stores(t, func(t *testing.T, newStore func(t *testing.T) backend) {
		r := newRig(t, newStore(t))
		got := r.send(t, chat.Event{Kind: chat.KindSubscribe, From: "oScanned", Scene: flows.WindowScene + "w-east"})
		for _, want := range []string{"东湖街道民政办", "东湖路1号（测试）", "1. "} {
			if !strings.Contains(got, want) {
				t.Errorf("greeting %q lacks %q", got, want)
			}
		}
		window := func(id string) string {
			t.Helper()
			tk, err := r.st.GetTicket(t.Context(), id)
			if err != nil {
				t.Fatal(err)
			}
			return tk.Window
		}
		if w := window(r.reliefTicket(t, "oScanned")); w != "w-east" {
			t.Errorf("ticket of a scanned window counts under %q, want w-east", w)
		}
		if w := window(r.reliefTicket(t, "oWalkIn")); w != "w-chengguan" {
			t.Errorf("ticket without a scan counts under %q, want its town's w-chengguan", w)
		}
		got = r.send(t, chat.Event{Kind: chat.KindScan, From: "oOther", Scene: flows.WindowScene + "w-nowhere"})
		if strings.Contains(got, "民政办") || !strings.Contains(got, "1. ") {
			t.Errorf("an unknown window's code got %q, want the general greeting and menu", got)
		}
		if w := window(r.reliefTicket(t, "oOther")); w != "w-chengguan" {
			t.Errorf("after an unknown window's code the ticket counts under %q", w)
		}
	})
}
