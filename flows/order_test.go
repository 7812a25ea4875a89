package flows

import (
	"context"
	"slices"
	"sync"
	"testing"
	"testing/synctest"
	"time"
)

func TestArrivalsKeepOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := newArrivals()
		ctx := t.Context()
		first, err := a.enter(ctx, "o1")
		if err != nil {
			t.Fatal(err)
		}
		var mu sync.Mutex
		var order []int
		for i := 1; i <= 4; i++ {
			go func() {
				leave, err := a.enter(ctx, "o1")
				if err != nil {
					t.Error(err)
					return
				}
				mu.Lock()
				order = append(order, i)
				mu.Unlock()
				leave()
			}()
			synctest.Wait() // message i is queued before i+1 arrives
		}
		// Another person is not held up.
		other, err := a.enter(ctx, "o2")
		if err != nil {
			t.Fatalf("another person waited: %v", err)
		}
		other()
		if len(order) != 0 {
			t.Fatalf("messages ran before the first left: %v", order)
		}
		first()
		synctest.Wait()
		if !slices.Equal(order, []int{1, 2, 3, 4}) {
			t.Errorf("order = %v, want 1 2 3 4", order)
		}
	})
}

func TestArrivalsGiveUpInOrder(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		a := newArrivals()
		first, _ := a.enter(t.Context(), "o1")
		ctx, cancel := context.WithTimeout(t.Context(), time.Second)
		defer cancel()
		if _, err := a.enter(ctx, "o1"); err == nil {
			t.Fatal("a waiter whose context ended got in")
		}
		third := make(chan struct{})
		go func() {
			leave, err := a.enter(t.Context(), "o1")
			if err == nil {
				leave()
			}
			close(third)
		}()
		synctest.Wait()
		select {
		case <-third:
			t.Fatal("the third message ran while the first still held its turn")
		default:
		}
		first()
		<-third
	})
}
