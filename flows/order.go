package flows

import (
	"context"
	"sync"
)

// arrivals makes the messages of one person that reach this process take
// their turn in the order they arrived. The store lock keeps instances
// from handling one person's messages at once; it does not say who goes
// next, and without this queue two messages that arrive together could
// swap places while both wait for it.
type arrivals struct {
	mu    sync.Mutex
	tails map[string]chan struct{}
}

func newArrivals() *arrivals { return &arrivals{tails: map[string]chan struct{}{}} }

// tryEnter takes key's turn when no other message of key is here, and
// reports false, taking nothing, otherwise.
func (a *arrivals) tryEnter(key string) (func(), bool) {
	a.mu.Lock()
	defer a.mu.Unlock()
	if a.tails[key] != nil {
		return nil, false
	}
	mine := make(chan struct{})
	a.tails[key] = mine
	return a.leaver(key, mine), true
}

// leaver lets the next message of key in once mine's is done.
func (a *arrivals) leaver(key string, mine chan struct{}) func() {
	return func() {
		a.mu.Lock()
		if a.tails[key] == mine {
			delete(a.tails, key)
		}
		a.mu.Unlock()
		close(mine)
	}
}

// enter waits until every earlier message of key has left, and returns
// the function that lets the next one in. When ctx ends first, the turn is
// still handed on in order, in the background.
func (a *arrivals) enter(ctx context.Context, key string) (func(), error) {
	a.mu.Lock()
	prev := a.tails[key]
	mine := make(chan struct{})
	a.tails[key] = mine
	a.mu.Unlock()
	leave := a.leaver(key, mine)
	if prev == nil {
		return leave, nil
	}
	select {
	case <-prev:
		return leave, nil
	case <-ctx.Done():
		go func() {
			<-prev
			leave()
		}()
		return nil, ctx.Err()
	}
}
