package storetest

import (
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"huimin/store"
)

func testSubscription(t *testing.T, h Harness) {
	t0 := refTime()
	t.Run("NotFound", func(t *testing.T) {
		s := h.New(t)
		_, err := s.Subscription(t.Context(), "o1")
		wantErr(t, "Subscription(o1)", err, store.ErrNotFound)
		removed, err := s.Unsubscribe(t.Context(), "o1")
		check(t, "Unsubscribe(o1)", err)
		if len(removed) != 0 {
			t.Errorf("Unsubscribe of nobody removed %v, want nothing", removed)
		}
		// Seen records nothing for someone not subscribed.
		check(t, "Seen(o1)", s.Seen(t.Context(), "o1", t0))
		_, err = s.Subscription(t.Context(), "o1")
		wantErr(t, "Subscription(o1) after Seen", err, store.ErrNotFound)
	})

	t.Run("SubscribeKeepsFirstTimeAndName", func(t *testing.T) {
		s := h.New(t)
		ctx := t.Context()
		got, err := s.Subscribe(ctx, "o1", "王阿姨", []string{"elderly", "dibao"}, t0)
		check(t, "Subscribe", err)
		want := store.Subscriber{OpenID: "o1", Name: "王阿姨", LastSeen: t0,
			Campaigns: map[string]time.Time{"elderly": t0, "dibao": t0}}
		assertSubscriber(t, "Subscribe", got, want)
		// Again later, with one more campaign and no name: the first
		// opt-in times and the name stay.
		t1 := t0.Add(time.Hour)
		got, err = s.Subscribe(ctx, "o1", "", []string{"dibao", "winter"}, t1)
		check(t, "Subscribe again", err)
		want = store.Subscriber{OpenID: "o1", Name: "王阿姨", LastSeen: t1,
			Campaigns: map[string]time.Time{"elderly": t0, "dibao": t0, "winter": t1}}
		assertSubscriber(t, "Subscribe again", got, want)
		read, err := s.Subscription(ctx, "o1")
		check(t, "Subscription", err)
		assertSubscriber(t, "Subscription", read, want)
	})

	t.Run("SeenOnlyMovesForward", func(t *testing.T) {
		s := h.New(t)
		ctx := t.Context()
		_, err := s.Subscribe(ctx, "o1", "", []string{"c1"}, t0)
		check(t, "Subscribe", err)
		check(t, "Seen later", s.Seen(ctx, "o1", t0.Add(3*time.Hour)))
		check(t, "Seen earlier", s.Seen(ctx, "o1", t0.Add(time.Hour)))
		got, err := s.Subscription(ctx, "o1")
		check(t, "Subscription", err)
		if !got.LastSeen.Equal(t0.Add(3 * time.Hour)) {
			t.Errorf("LastSeen = %v, want %v", got.LastSeen, t0.Add(3*time.Hour))
		}
	})

	t.Run("UnsubscribeRemovesEverything", func(t *testing.T) {
		s := h.New(t)
		ctx := t.Context()
		for _, id := range []string{"o1", "o2"} {
			_, err := s.Subscribe(ctx, id, "", []string{"c1", "c2"}, t0)
			check(t, "Subscribe "+id, err)
		}
		removed, err := s.Unsubscribe(ctx, "o1")
		check(t, "Unsubscribe", err)
		if !slices.Equal(removed, []string{"c1", "c2"}) {
			t.Errorf("Unsubscribe removed %v, want [c1 c2]", removed)
		}
		_, err = s.Subscription(ctx, "o1")
		wantErr(t, "Subscription after Unsubscribe", err, store.ErrNotFound)
		for _, c := range []string{"c1", "c2"} {
			assertSubscribers(t, s, c, []string{"o2"})
		}
		removed, err = s.Unsubscribe(ctx, "o1")
		check(t, "Unsubscribe again", err)
		if len(removed) != 0 {
			t.Errorf("second Unsubscribe removed %v, want nothing", removed)
		}
		// Subscribing again starts afresh.
		_, err = s.Subscribe(ctx, "o1", "", []string{"c2"}, t0.Add(time.Hour))
		check(t, "Subscribe again", err)
		assertSubscribers(t, s, "c1", []string{"o2"})
		assertSubscribers(t, s, "c2", []string{"o1", "o2"})
	})

	t.Run("SubscribersPages", func(t *testing.T) {
		s := h.New(t)
		ctx := t.Context()
		var all []string
		for i := range 25 {
			id := fmt.Sprintf("o%02d", i)
			all = append(all, id)
			_, err := s.Subscribe(ctx, id, "", []string{"c1"}, t0)
			check(t, "Subscribe "+id, err)
		}
		_, err := s.Subscribe(ctx, "x", "", []string{"c2"}, t0)
		check(t, "Subscribe x", err)
		var got []string
		after := ""
		for {
			page, err := s.Subscribers(ctx, "c1", after, 10)
			check(t, "Subscribers", err)
			if len(page) > 10 {
				t.Fatalf("page of %d, want at most 10", len(page))
			}
			if len(page) == 0 {
				break
			}
			for _, sub := range page {
				if _, ok := sub.Campaigns["c1"]; !ok {
					t.Errorf("subscriber %s of c1 without c1: %+v", sub.OpenID, sub)
				}
				got = append(got, sub.OpenID)
			}
			after = page[len(page)-1].OpenID
			// Someone leaving before the cursor does not move it.
			if after == "o09" {
				_, err := s.Unsubscribe(ctx, "o03")
				check(t, "Unsubscribe o03", err)
			}
		}
		if !slices.Equal(got, all) {
			t.Errorf("Subscribers(c1) = %v, want %v", got, all)
		}
		assertSubscribers(t, s, "none", nil)
	})
}

// assertSubscribers checks every subscriber of a campaign, in order.
func assertSubscribers(t *testing.T, s Store, campaign string, want []string) {
	t.Helper()
	page, err := s.Subscribers(t.Context(), campaign, "", 1000)
	check(t, "Subscribers("+campaign+")", err)
	var got []string
	for _, sub := range page {
		got = append(got, sub.OpenID)
	}
	if !slices.Equal(got, want) {
		t.Errorf("Subscribers(%s) = %v, want %v", campaign, got, want)
	}
}

func assertSubscriber(t *testing.T, what string, got, want store.Subscriber) {
	t.Helper()
	same := got.OpenID == want.OpenID && got.Name == want.Name && got.LastSeen.Equal(want.LastSeen) && len(got.Campaigns) == len(want.Campaigns)
	for c, at := range want.Campaigns {
		if g, ok := got.Campaigns[c]; !ok || !g.Equal(at) {
			same = false
		}
	}
	if !same {
		t.Errorf("%s = %+v, want %+v", what, got, want)
	}
}

func testTally(t *testing.T, h Harness) {
	s := h.New(t)
	ctx := t.Context()
	counts, first, err := s.Tally(ctx, "run1", "o1", "sent", 1, time.Hour)
	check(t, "Tally o1", err)
	if !first || counts["sent"] != 1 {
		t.Errorf("first Tally = %v, %v; want first and sent 1", counts, first)
	}
	counts, first, err = s.Tally(ctx, "run1", "o1", "sent", 1, time.Hour)
	check(t, "Tally o1 again", err)
	if first || counts["sent"] != 1 {
		t.Errorf("repeated Tally = %v, %v; want not first and sent still 1", counts, first)
	}
	_, _, err = s.Tally(ctx, "run1", "total", "total", 7, time.Hour)
	check(t, "Tally total", err)
	// Racing callers of one key: one counts.
	var wg sync.WaitGroup
	var mu sync.Mutex
	firsts := 0
	for range 8 {
		wg.Go(func() {
			_, f, err := s.Tally(ctx, "run1", "o2", "skipped", 1, time.Hour)
			if err != nil {
				t.Errorf("Tally o2: %v", err)
			}
			if f {
				mu.Lock()
				firsts++
				mu.Unlock()
			}
		})
	}
	wg.Wait()
	counts, _, err = s.Tally(ctx, "run1", "o3", "failed", 1, time.Hour)
	check(t, "Tally o3", err)
	want := map[string]int64{"sent": 1, "total": 7, "skipped": 1, "failed": 1}
	if firsts != 1 || len(counts) != len(want) {
		t.Errorf("after the race: %d firsts, counts %v; want 1 and %v", firsts, counts, want)
	}
	for k, v := range want {
		if counts[k] != v {
			t.Errorf("counts[%s] = %d, want %d", k, counts[k], v)
		}
	}
	other, _, err := s.Tally(ctx, "run2", "o1", "sent", 1, time.Hour)
	check(t, "Tally run2", err)
	if len(other) != 1 || other["sent"] != 1 {
		t.Errorf("another tally = %v, want its own sent 1", other)
	}
	h.Advance(t, s, 2*time.Hour)
	counts, first, err = s.Tally(ctx, "run1", "o1", "sent", 1, time.Hour)
	check(t, "Tally after expiry", err)
	if !first || len(counts) != 1 || counts["sent"] != 1 {
		t.Errorf("Tally after expiry = %v, %v; want a fresh tally", counts, first)
	}
}
