package campaigns

import (
	"bytes"
	"context"
	"errors"
	"log/slog"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"huimin/desk"
	"huimin/store"
	"huimin/store/boltstore"
)

// fakeNotifier stands for the outbox on WeChat: people in inWindow get the
// chat message; the others the template when the campaign has one, else
// nothing (45015). Messages are delivered when deliver is called.
type fakeNotifier struct {
	mu       sync.Mutex
	inWindow map[string]bool
	queued   map[string]desk.Message
	done     map[string]desk.Delivery
	sent     []desk.Message // in the order they were delivered
}

func newFakeNotifier(inWindow ...string) *fakeNotifier {
	n := &fakeNotifier{inWindow: map[string]bool{}, queued: map[string]desk.Message{}, done: map[string]desk.Delivery{}}
	for _, id := range inWindow {
		n.inWindow[id] = true
	}
	return n
}

func (n *fakeNotifier) Notify(_ context.Context, msgs ...desk.Message) error {
	n.mu.Lock()
	defer n.mu.Unlock()
	for _, m := range msgs {
		if _, done := n.done[m.ID]; !done {
			n.queued[m.ID] = m // one ID is sent once
		}
	}
	return nil
}

func (n *fakeNotifier) Delivery(_ context.Context, m desk.Message) (desk.Delivery, error) {
	n.mu.Lock()
	defer n.mu.Unlock()
	return n.done[m.ID], nil
}

// deliver sends what is queued.
func (n *fakeNotifier) deliver() {
	n.mu.Lock()
	defer n.mu.Unlock()
	for id, m := range n.queued {
		dl := desk.Delivery{Done: true}
		switch {
		case m.Form == desk.FormNotice:
			dl.Channel = desk.ChannelNotice
		case n.inWindow[m.To]:
			dl.Channel = desk.ChannelChat
		case m.Template != "":
			dl.Channel = desk.ChannelTemplate
		default:
			dl.OutOfWindow = true
		}
		n.done[id] = dl
		n.sent = append(n.sent, m)
		delete(n.queued, id)
	}
}

func (n *fakeNotifier) received(openID string) []desk.Message {
	n.mu.Lock()
	defer n.mu.Unlock()
	var out []desk.Message
	for _, m := range n.sent {
		if m.To == openID {
			out = append(out, m)
		}
	}
	return out
}

type rig struct {
	st     *boltstore.Store
	note   *fakeNotifier
	svc    *Service
	now    time.Time
	logs   *bytes.Buffer
	counts map[string]int
	mu     sync.Mutex
}

var t0 = time.Date(2026, 3, 2, 10, 0, 0, 0, time.UTC)

func newRig(t *testing.T, note *fakeNotifier, list ...Campaign) *rig {
	t.Helper()
	st, err := boltstore.New(filepath.Join(t.TempDir(), "c.db"), boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { st.Close() })
	r := &rig{st: st, note: note, now: t0, logs: &bytes.Buffer{}, counts: map[string]int{}}
	log := slog.New(slog.NewTextHandler(syncWriter{r}, nil))
	r.svc, err = New(st, note, list, Options{Rate: 2, Location: time.UTC, Log: log, Now: func() time.Time { return r.now },
		Usable: func(name string) bool { return name != "unusable" },
		Counted: func(c, o string) {
			r.mu.Lock()
			r.counts[c+"/"+o]++
			r.mu.Unlock()
		}})
	if err != nil {
		t.Fatal(err)
	}
	return r
}

type syncWriter struct{ r *rig }

func (w syncWriter) Write(p []byte) (int, error) {
	w.r.mu.Lock()
	defer w.r.mu.Unlock()
	return w.r.logs.Write(p)
}

// work claims and does every item of the campaign queue due by the rig's
// clock, the way the runner does (an error keeps the item), until none is
// left due; deliver runs between rounds.
func (r *rig) work(t *testing.T) []store.DueItem {
	t.Helper()
	var done []store.DueItem
	for range 20 {
		items, err := r.st.Claim(t.Context(), Queue, r.now, 100, time.Minute)
		if err != nil {
			t.Fatal(err)
		}
		if len(items) == 0 {
			return done
		}
		for _, it := range items {
			var err error
			switch it.Kind {
			case KindRun:
				err = r.svc.HandleRun(t.Context(), it)
			case KindSend:
				err = r.svc.HandleSend(t.Context(), it)
			}
			if errors.As(err, new(notYet)) {
				err = r.st.Retry(t.Context(), Queue, it.ID, it.Attempt, r.now)
			} else if err != nil {
				t.Fatalf("%s: %v", it.ID, err)
			} else {
				done = append(done, it)
				err = r.st.Ack(t.Context(), Queue, it.ID, it.Attempt)
			}
			if err != nil {
				t.Fatal(err)
			}
		}
		r.note.deliver()
		r.now = r.now.Add(10 * time.Second)
	}
	t.Fatal("the queue never emptied")
	return nil
}

func TestRunReachesSubscribersOncePerRun(t *testing.T) {
	note := newFakeNotifier("oChat")
	r := newRig(t, note,
		Campaign{ID: "cert", Name: "高龄津贴认证", Text: "{name}您好！认证开始了。", Lines: []string{"elderly"}, Spec: "@every 5s", Template: "reminder"},
		Campaign{ID: "winter", Name: "冬季救助", Text: "{name}您好！天冷了。", Spec: "@every 5s"})
	ctx := t.Context()
	sub := func(id, name, line string) {
		if _, err := r.svc.Subscribe(ctx, id, name, line); err != nil {
			t.Fatal(err)
		}
	}
	sub("oChat", "王阿姨", "elderly")
	sub("oTpl", "", "elderly")
	sub("oSkip", "", "") // every campaign
	sub("oGone", "", "") // leaves after the run starts
	if _, err := r.svc.Unsubscribe(ctx, "oSkip"); err != nil {
		t.Fatal(err)
	}
	sub("oSkip", "", "relief") // no campaign of relief: subscribed to none
	if _, err := r.st.Subscribe(ctx, "oSkip", "", []string{"winter"}, t0); err != nil {
		t.Fatal(err)
	}
	// The last message of everyone was long ago, but oChat's.
	at := r.svc.Fired("cert", t0.Add(700*time.Millisecond))
	if !at.Equal(t0) {
		t.Fatalf("Fired = %v, want %v", at, t0)
	}
	r.now = t0.Add(50 * time.Hour)
	if _, err := r.st.Subscribe(ctx, "oChat", "", nil, r.now); err != nil { // seen now
		t.Fatal(err)
	}
	p, err := r.svc.Preview(ctx, "cert")
	if err != nil {
		t.Fatal(err)
	}
	if p.Chat != 1 || p.Template != 2 || p.Skipped != 0 {
		t.Errorf("Preview(cert) = %+v, want chat 1 (oChat), template 2 (oTpl, oGone)", p)
	}
	for range 3 { // every instance's cron fires the run
		if _, err := r.svc.Start(ctx, "cert", r.svc.Fired("cert", r.now)); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := r.svc.Start(ctx, "winter", r.svc.Fired("winter", r.now)); err != nil {
		t.Fatal(err)
	}
	// The run is scheduled once; its sends are paced at two a second.
	items, err := r.st.Claim(ctx, Queue, r.now, 100, time.Minute)
	if err != nil || len(items) != 2 {
		t.Fatalf("claimed %d run items (%v), want one per campaign", len(items), err)
	}
	for _, it := range items {
		if err := r.svc.HandleRun(ctx, it); err != nil {
			t.Fatal(err)
		}
		if err := r.st.Ack(ctx, Queue, it.ID, it.Attempt); err != nil {
			t.Fatal(err)
		}
	}
	if _, err := r.svc.Unsubscribe(ctx, "oGone"); err != nil {
		t.Fatal(err)
	}
	stats, err := r.st.QueueStats(ctx, Queue, r.now.Add(999*time.Millisecond))
	if err != nil {
		t.Fatal(err)
	}
	// cert: oChat, oGone, oTpl; winter: oGone, oSkip — five places, two a
	// second: 2 due by now+1s (the first second's), all five within 3 s.
	if stats.Total != 5 || stats.Due != 2 {
		t.Errorf("queue after the runs = %+v, want 5 sends, 2 due in the first second", stats)
	}
	r.work(t)

	want := map[string][]string{"oChat": {"王阿姨您好！认证开始了。"}, "oTpl": {"您好！认证开始了。"}, "oSkip": {"您好！天冷了。"}, "oGone": nil}
	for id, texts := range want {
		got := note.received(id)
		if len(got) != len(texts) {
			t.Errorf("%s received %d messages, want %d", id, len(got), len(texts))
			continue
		}
		for i, m := range got {
			if m.Text != texts[i] {
				t.Errorf("%s received %q, want %q", id, m.Text, texts[i])
			}
		}
	}
	wantCounts := map[string]int{"cert/sent": 1, "cert/fallback": 1, "cert/skipped": 1, "winter/skipped": 2}
	for k, v := range wantCounts {
		if r.counts[k] != v {
			t.Errorf("count %s = %d, want %d (all: %v)", k, r.counts[k], v, r.counts)
		}
	}
	logs := r.logs.String()
	if n := strings.Count(logs, "campaign run finished"); n != 2 ||
		!strings.Contains(logs, "campaign=cert run=cert:20260304T120000Z recipients=3 sent=1 fallback=1 skipped=1 failed=0") {
		t.Errorf("want one end line per run with the counts:\n%s", logs)
	}
	if strings.Contains(logs, "认证开始了") || strings.Contains(logs, "王阿姨") {
		t.Errorf("the log shows a message's text or a name:\n%s", logs)
	}

	// Done again (a claim after a crash, another instance's late cron):
	// nobody receives a second copy, nothing is counted twice.
	if _, err := r.st.Schedule(ctx, Queue, store.DueItem{ID: items[0].ID, Kind: KindRun, Due: r.now, Payload: items[0].Payload}); err != nil {
		t.Fatal(err)
	}
	for _, id := range []string{"oChat", "oTpl"} {
		payload := []byte(`{"campaign":"cert","run":"cert:20260304T120000Z","openid":"` + id + `"}`)
		if _, err := r.st.Schedule(ctx, Queue, store.DueItem{ID: "again:" + id, Kind: KindSend, Due: r.now, Payload: payload}); err != nil {
			t.Fatal(err)
		}
	}
	r.work(t)
	if len(note.received("oChat")) != 1 || len(note.received("oTpl")) != 1 {
		t.Errorf("a second copy was sent: oChat %d, oTpl %d", len(note.received("oChat")), len(note.received("oTpl")))
	}
	for k, v := range wantCounts {
		if r.counts[k] != v {
			t.Errorf("after the repeat, count %s = %d, want %d", k, r.counts[k], v)
		}
	}
	if n := strings.Count(r.logs.String(), "campaign run finished"); n != 2 {
		t.Errorf("%d end lines after the repeat, want 2", n)
	}
}

func TestRunResumesFromItsCursor(t *testing.T) {
	note := newFakeNotifier()
	r := newRig(t, note, Campaign{ID: "c", Name: "n", Text: "t", Spec: "@daily", Template: "reminder"})
	ctx := t.Context()
	for _, id := range []string{"o1", "o2", "o3"} {
		if _, err := r.st.Subscribe(ctx, id, "", []string{"c"}, t0); err != nil {
			t.Fatal(err)
		}
	}
	// A crash after the first page: the state says o1 was scheduled.
	run := runID("c", t0)
	if err := r.svc.saveRun(ctx, run, runState{After: "o1", Scheduled: 1}); err != nil {
		t.Fatal(err)
	}
	if _, err := r.svc.Start(ctx, "c", t0); err != nil {
		t.Fatal(err)
	}
	r.work(t)
	if len(note.received("o1")) != 0 || len(note.received("o2")) != 1 || len(note.received("o3")) != 1 {
		t.Errorf("resumed run sent o1 %d, o2 %d, o3 %d; want 0, 1, 1", len(note.received("o1")), len(note.received("o2")), len(note.received("o3")))
	}
	if !strings.Contains(r.logs.String(), "recipients=3") {
		t.Errorf("the resumed run does not count the first page:\n%s", r.logs.String())
	}
}

func TestFiredAndAlignedSchedules(t *testing.T) {
	r := newRig(t, newFakeNotifier(),
		Campaign{ID: "every", Name: "n", Text: "t", Spec: "@every 5s"},
		Campaign{ID: "yearly", Name: "n", Text: "t", Spec: "0 10 1 3 *"})
	if got := r.svc.Schedule("every").Next(t0.Add(2 * time.Second)); !got.Equal(t0.Add(5 * time.Second)) {
		t.Errorf("@every 5s next after :02 = %v, want :05 (aligned)", got)
	}
	fired := time.Date(2026, 3, 1, 10, 0, 0, 400e6, time.UTC)
	if got := r.svc.Fired("yearly", fired); !got.Equal(fired.Truncate(time.Second)) {
		t.Errorf("Fired(yearly) = %v, want %v", got, fired.Truncate(time.Second))
	}
	if runID("yearly", fired.Truncate(time.Second)) != "yearly:20260301T100000Z" {
		t.Errorf("runID = %s", runID("yearly", fired.Truncate(time.Second)))
	}
}

func TestTicketHoldersOnly(t *testing.T) {
	note := newFakeNotifier("oHolder", "oOther")
	r := newRig(t, note, Campaign{ID: "review", Name: "低保年度复核", Text: "t", Lines: []string{"relief"}, TicketHolders: true, Spec: "@daily"})
	ctx := t.Context()
	for _, id := range []string{"oHolder", "oOther"} {
		if _, err := r.st.Subscribe(ctx, id, "", []string{"review"}, t0); err != nil {
			t.Fatal(err)
		}
	}
	for id, line := range map[string]string{"oHolder": "relief", "oOther": "elderly"} {
		tk := store.Ticket{ID: "MZ-" + id, CitizenOpenID: id, Line: line, State: store.StateReceived, CreatedAt: t0}
		if err := r.st.CreateTicket(ctx, tk); err != nil {
			t.Fatal(err)
		}
	}
	p, err := r.svc.Preview(ctx, "review")
	if err != nil || p.Chat != 1 || p.Skipped != 1 {
		t.Errorf("Preview = %+v, %v; want oHolder by chat, oOther skipped", p, err)
	}
	if _, err := r.svc.Start(ctx, "review", t0); err != nil {
		t.Fatal(err)
	}
	r.work(t)
	if len(note.received("oHolder")) != 1 || len(note.received("oOther")) != 0 {
		t.Errorf("oHolder received %d, oOther (no relief ticket) %d; want 1 and 0", len(note.received("oHolder")), len(note.received("oOther")))
	}
	if r.counts["review/sent"] != 1 || r.counts["review/skipped"] != 1 {
		t.Errorf("counts = %v, want 1 sent, 1 skipped", r.counts)
	}
}

func TestNoticeWhenNothingElseReaches(t *testing.T) {
	note := newFakeNotifier()
	r := newRig(t, note, Campaign{ID: "c", Name: "冬季救助", Text: "t", Spec: "@daily", Notice: "notice"})
	ctx := t.Context()
	if _, err := r.st.Subscribe(ctx, "oOut", "", []string{"c"}, t0); err != nil {
		t.Fatal(err)
	}
	if _, err := r.svc.Start(ctx, "c", t0); err != nil {
		t.Fatal(err)
	}
	r.work(t)
	got := note.received("oOut")
	if len(got) != 2 || got[1].Form != desk.FormNotice || got[1].Template != "notice" {
		t.Fatalf("oOut received %+v, want the chat message (refused) and then the notice", got)
	}
	if r.counts["c/fallback"] != 1 || len(r.counts) != 1 {
		t.Errorf("counts = %v, want the notice counted as a fallback", r.counts)
	}
}

func TestNoMessageInTheQuietHours(t *testing.T) {
	note := newFakeNotifier("o1", "o2", "o3")
	r := newRig(t, note, Campaign{ID: "c", Name: "n", Text: "t", Spec: "@daily", Template: "reminder"})
	// Quiet from 21:00 to 08:00; at rate 2/s, o1 and o2 fit in 20:59:59,
	// o3 waits for the morning.
	r.svc.opts.AfterQuiet = func(t time.Time) time.Time {
		day := time.Date(t.Year(), t.Month(), t.Day(), 0, 0, 0, 0, time.UTC)
		switch h := t.Hour(); {
		case h >= 21:
			return day.AddDate(0, 0, 1).Add(8 * time.Hour)
		case h < 8:
			return day.Add(8 * time.Hour)
		}
		return t
	}
	ctx := t.Context()
	for _, id := range []string{"o1", "o2", "o3"} {
		if _, err := r.st.Subscribe(ctx, id, "", []string{"c"}, t0); err != nil {
			t.Fatal(err)
		}
	}
	r.now = time.Date(2026, 3, 2, 20, 59, 59, 0, time.UTC)
	if _, err := r.svc.Start(ctx, "c", r.now); err != nil {
		t.Fatal(err)
	}
	r.work(t)
	if len(note.received("o1")) != 1 || len(note.received("o2")) != 1 || len(note.received("o3")) != 0 {
		t.Fatalf("by 21:03 sent o1 %d, o2 %d, o3 %d; want 1, 1 and o3 waiting for the morning",
			len(note.received("o1")), len(note.received("o2")), len(note.received("o3")))
	}
	r.now = time.Date(2026, 3, 3, 7, 59, 50, 0, time.UTC)
	if r.work(t); len(note.received("o3")) != 0 {
		t.Fatal("o3 was sent in the quiet hours")
	}
	r.now = time.Date(2026, 3, 3, 8, 0, 0, 0, time.UTC)
	if r.work(t); len(note.received("o3")) != 1 {
		t.Errorf("o3 received %d messages in the morning, want 1", len(note.received("o3")))
	}
}
