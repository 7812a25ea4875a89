package bot

import (
	"context"
	"net"
	"net/http"
	"strings"
	"sync"
	"testing"

	goredis "github.com/redis/go-redis/v9"
)

// roundTrips records the Redis round trips that touch any of the keys
// containing one of marks: for each, the commands it carried.
type roundTrips struct {
	mu    sync.Mutex
	marks []string
	trips [][]string
}

func (r *roundTrips) DialHook(next goredis.DialHook) goredis.DialHook {
	return func(ctx context.Context, network, addr string) (net.Conn, error) { return next(ctx, network, addr) }
}

func (r *roundTrips) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		r.note([]goredis.Cmder{cmd})
		return next(ctx, cmd)
	}
}

func (r *roundTrips) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []goredis.Cmder) error {
		r.note(cmds)
		return next(ctx, cmds)
	}
}

// note keeps the commands of one round trip that touch a marked key.
func (r *roundTrips) note(cmds []goredis.Cmder) {
	var mine []string
	for _, c := range cmds {
		args := c.Args()
		for _, a := range args[1:] {
			if s, ok := a.(string); ok && r.marked(s) {
				mine = append(mine, c.Name()+" "+s)
				break
			}
		}
	}
	if len(mine) == 0 {
		return
	}
	r.mu.Lock()
	r.trips = append(r.trips, mine)
	r.mu.Unlock()
}

func (r *roundTrips) marked(s string) bool {
	for _, m := range r.marks {
		if strings.Contains(s, m) {
			return true
		}
	}
	return false
}

func (r *roundTrips) take() [][]string {
	r.mu.Lock()
	defer r.mu.Unlock()
	t := r.trips
	r.trips = nil
	return t
}

// A citizen's message costs two round trips to Redis: one before its flow
// runs (the delivery's record, the conversation lock, the session and the
// account's facts together), and one that saves the session, frees the
// lock and records the answer for WeChat's retries together, before the
// answer leaves.
func TestMessageCostsOneRoundTripBeforeItsFlow(t *testing.T) {
	trips := &roundTrips{marks: []string{"dlv:m:4711", "{s:oRoundTrip}"}}
	r := newRig(t, rigOptions{store: storeRedis, redisHook: trips})
	// Another person's message first: the store's scripts get loaded.
	if status, _ := post(t, r.url, plainQuery(rigToken), textMessage("oWarmUp", 4710, "你好")); status != http.StatusOK {
		t.Fatalf("warm-up message: status %d", status)
	}
	r.webhook.Wait()
	trips.take()

	status, body := post(t, r.url, plainQuery(rigToken), textMessage("oRoundTrip", 4711, "你好"))
	if status != http.StatusOK || !strings.Contains(string(body), "请回复数字") {
		t.Fatalf("message: status %d, answer %q; want the menu", status, body)
	}
	got := trips.take() // before Wait: nothing is left to write after the answer
	r.webhook.Wait()
	if late := trips.take(); len(late) > 0 {
		t.Errorf("round trips after the answer: %q, want none", late)
	}
	if len(got) != 2 {
		t.Fatalf("round trips touching the message's keys = %d, want 2 (begin; save with finish): %q", len(got), got)
	}
	first := strings.Join(got[0], "; ")
	for _, want := range []string{"dlv:m:4711", "{s:oRoundTrip}:lock", "{s:oRoundTrip}:sess"} {
		if !strings.Contains(first, want) {
			t.Errorf("first round trip = %q, want it to carry %q", first, want)
		}
	}
	second := strings.Join(got[1], "; ")
	for _, want := range []string{"evalsha", "{s:oRoundTrip}:lock", "set", "dlv:m:4711"} {
		if !strings.Contains(second, want) {
			t.Errorf("second round trip = %q, want it to carry %q", second, want)
		}
	}
}
