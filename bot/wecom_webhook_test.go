package bot

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"net/url"
	"path/filepath"
	"strconv"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/silenceper/wechat/v2/util"

	"huimin/bot/wechat"
	"huimin/bot/wecom"
	"huimin/chat"
	"huimin/store"
	"huimin/store/boltstore"
)

// refusingInbox is the real store whose inbox refuses to schedule while
// refuse is set, as a store outage would.
type refusingInbox struct {
	*boltstore.Store
	refuse atomic.Bool
}

func (r *refusingInbox) Schedule(ctx context.Context, queue string, it store.DueItem) (bool, error) {
	if r.refuse.Load() {
		return false, errors.New("store unavailable")
	}
	return r.Store.Schedule(ctx, queue, it)
}

// silent is a dispatcher with nothing to say; this test never runs the inbox.
type silent struct{}

func (silent) Dispatch(context.Context, chat.Event) ([]chat.Reply, error) { return nil, nil }

// TestWeComRefusedMessageIsHandledOnRetry checks that a WeCom message the
// service could not park (503) is taken as new when WeCom retries it,
// not as a duplicate of the refused delivery.
func TestWeComRefusedMessageIsHandledOnRetry(t *testing.T) {
	const (
		token  = "wecomtoken"
		corpID = "wwhuimintest000001"
	)
	log := slog.New(slog.NewTextHandler(t.Output(), &slog.HandlerOptions{Level: slog.LevelError}))
	st, err := boltstore.New(filepath.Join(t.TempDir(), "huimin.db"), boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	inbox := &refusingInbox{Store: st}
	metrics := NewMetrics(prometheus.NewRegistry())
	wh := NewWebhook(wechat.NewCodec(rigToken, rigAppID, "", nil), silent{}, st, NewRunner(inbox, 0, nil, log), nil, metrics, log, WebhookOptions{})
	hook := NewWeComWebhook(wecom.NewCodec(token, corpID, rigAESKey, nil), wh, log)
	h := NewHandler(st, prometheus.NewRegistry(), log, hook)

	plain := fmt.Sprintf("<xml><ToUserName><![CDATA[%s]]></ToUserName><FromUserName><![CDATA[li.na]]></FromUserName>"+
		"<CreateTime>%d</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[我的工单]]></Content>"+
		"<MsgId>7000000000000000001</MsgId><AgentID>1000002</AgentID></xml>", corpID, time.Now().Unix())
	post := func() int {
		enc, err := util.EncryptMsg([]byte("abcdefghijklmnop"), []byte(plain), corpID, rigAESKey)
		if err != nil {
			t.Fatal(err)
		}
		// Each delivery is a new request, with a nonce of its own.
		ts, nonce := strconv.FormatInt(time.Now().Unix(), 10), strconv.FormatUint(rand.Uint64N(1e10), 10)
		q := url.Values{"msg_signature": {util.Signature(token, ts, nonce, string(enc))}, "timestamp": {ts}, "nonce": {nonce}}
		body := "<xml><ToUserName><![CDATA[" + corpID + "]]></ToUserName><Encrypt><![CDATA[" + string(enc) + "]]></Encrypt><AgentID><![CDATA[1000002]]></AgentID></xml>"
		w := httptest.NewRecorder()
		h.ServeHTTP(w, httptest.NewRequest(http.MethodPost, "/wecom?"+q.Encode(), strings.NewReader(body)))
		return w.Code
	}

	inbox.refuse.Store(true)
	if code := post(); code != http.StatusServiceUnavailable {
		t.Fatalf("delivery while the inbox refuses: status %d, want 503", code)
	}
	inbox.refuse.Store(false)
	if code := post(); code != http.StatusOK {
		t.Fatalf("WeCom's retry: status %d, want 200", code)
	}
	stats, err := st.QueueStats(t.Context(), InboxQueue, time.Now())
	if err != nil {
		t.Fatal(err)
	}
	if stats.Total != 1 {
		t.Errorf("inbox holds %d items after the retry, want the message parked once (0: the retry was taken for a duplicate)", stats.Total)
	}
}

// TestQueuedWeComMessageLogsNoWarning checks that handling a WeCom message
// from the inbox, as every WeCom message is, logs no warning (defect 6),
// while an event left behind by a dead process still does.
func TestQueuedWeComMessageLogsNoWarning(t *testing.T) {
	st, err := boltstore.New(filepath.Join(t.TempDir(), "huimin.db"), boltstore.Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = st.Close() })
	var logs strings.Builder
	log := slog.New(slog.NewTextHandler(&logs, &slog.HandlerOptions{Level: slog.LevelInfo}))
	metrics := NewMetrics(prometheus.NewRegistry())
	runner := NewRunner(st, 0, nil, log)
	outbox := NewOutbox(runner, st, nil, metrics, log, OutboxOptions{})
	wh := NewWebhook(wechat.NewCodec(rigToken, rigAppID, "", time.Now), silent{}, st, runner, outbox, metrics, log, WebhookOptions{})
	ctx := t.Context()
	ev := chat.Event{Kind: chat.KindText, Channel: chat.ChannelWeCom, From: "li.na", Text: "我的工单"}
	if !wh.queue(ctx, log, ev, "wecom:1") {
		t.Fatal("queue failed")
	}
	items, err := st.Claim(ctx, InboxQueue, time.Now().Add(time.Second), 10, time.Minute)
	if err != nil || len(items) != 1 {
		t.Fatalf("claim = %v, %v", items, err)
	}
	if err := wh.replay(ctx, items[0]); err != nil {
		t.Fatal(err)
	}
	if err := st.Ack(ctx, InboxQueue, items[0].ID, items[0].Attempt); err != nil {
		t.Fatal(err)
	}
	if strings.Contains(logs.String(), "level=WARN") {
		t.Errorf("a queued WeCom message logged a warning:\n%s", logs.String())
	}
	logs.Reset()
	if !wh.park(ctx, log, ev, "wechat:2") {
		t.Fatal("park failed")
	}
	items, err = st.Claim(ctx, InboxQueue, time.Now().Add(time.Hour), 10, time.Minute)
	if err != nil || len(items) != 1 {
		t.Fatalf("claim = %v, %v", items, err)
	}
	if err := wh.replay(ctx, items[0]); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(logs.String(), "level=WARN") {
		t.Errorf("an event left behind by an overrun logged no warning:\n%s", logs.String())
	}
}
