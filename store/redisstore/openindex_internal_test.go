package redisstore

import (
	"context"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"huimin/store"
	"huimin/store/redisstore/redistest"
)

// commandLog is a go-redis hook that records every command sent, alone
// or in a pipeline, as its words joined by spaces.
type commandLog struct {
	mu   sync.Mutex
	cmds []string
}

func (l *commandLog) DialHook(next goredis.DialHook) goredis.DialHook { return next }

func (l *commandLog) ProcessHook(next goredis.ProcessHook) goredis.ProcessHook {
	return func(ctx context.Context, cmd goredis.Cmder) error {
		l.record(cmd)
		return next(ctx, cmd)
	}
}

func (l *commandLog) ProcessPipelineHook(next goredis.ProcessPipelineHook) goredis.ProcessPipelineHook {
	return func(ctx context.Context, cmds []goredis.Cmder) error {
		for _, c := range cmds {
			l.record(c)
		}
		return next(ctx, cmds)
	}
}

func (l *commandLog) record(cmd goredis.Cmder) {
	words := make([]string, len(cmd.Args()))
	for i, a := range cmd.Args() {
		words[i] = fmt.Sprint(a)
	}
	l.mu.Lock()
	defer l.mu.Unlock()
	l.cmds = append(l.cmds, strings.Join(words, " "))
}

// take returns the commands recorded since the last take.
func (l *commandLog) take() []string {
	l.mu.Lock()
	defer l.mu.Unlock()
	out := l.cmds
	l.cmds = nil
	return out
}

// TestOpenReadsNoFinishedTicket proves that counting an officer's open
// tickets is one ZCARD of their open index, and that neither counting nor
// listing them reads a finished ticket: those are made unreadable, and
// only a read of every ticket trips on them. Before the open indexes,
// ListTickets with OpenOnly read (ZRANGE, then MGET) and decoded every
// ticket of the owner and kept the open ones, so routing read an
// officer's whole history for each assignment.
func TestOpenReadsNoFinishedTicket(t *testing.T) {
	rdb := redistest.StartStandalone(t).Client(t)
	log := &commandLog{}
	rdb.AddHook(log)
	s := New(rdb, Options{Prefix: "oi:"})
	t.Cleanup(func() { _ = s.Close() })
	ctx := t.Context()
	// A fresh server: building finds nothing to do but set the markers.
	if n, err := s.BuildIndexes(ctx); err != nil || n != 0 {
		t.Fatalf("BuildIndexes = %d, %v; want 0, nil", n, err)
	}
	t0 := time.Date(2026, 3, 1, 9, 0, 0, 0, time.UTC)
	finished := []string{"T-1", "T-2", "T-4"}
	for i, st := range []store.TicketState{store.StateClosed, store.StateResolved, store.StateInProgress, store.StateTransferredOut, store.StateReopened} {
		tk := store.Ticket{ID: fmt.Sprintf("T-%d", i+1), Owner: "o1", Department: "relief", CitizenOpenID: "c1", State: st, CreatedAt: t0.Add(time.Duration(i) * time.Hour)}
		if err := s.CreateTicket(ctx, tk); err != nil {
			t.Fatalf("CreateTicket: %v", err)
		}
	}
	for _, id := range finished {
		if err := rdb.Set(ctx, s.keys.ticket(id), "{not a ticket", 0).Err(); err != nil {
			t.Fatalf("spoil %s: %v", id, err)
		}
	}
	if _, err := s.ListTickets(ctx, store.TicketFilter{Owner: "o1"}); err == nil {
		t.Fatal("ListTickets(o1) read the spoiled tickets without error: the test proves nothing")
	}
	log.take()

	f := store.TicketFilter{Owner: "o1", OpenOnly: true}
	if n, err := s.CountTickets(ctx, f); err != nil || n != 2 {
		t.Errorf("CountTickets(%+v) = %d, %v; want 2, nil", f, n, err)
	}
	if got, want := log.take(), []string{"zcard oi:{t}:open:owner:o1"}; !slices.Equal(got, want) {
		t.Errorf("CountTickets(%+v) sent %q, want %q", f, got, want)
	}
	for _, f := range []store.TicketFilter{
		{Owner: "o1", OpenOnly: true},
		{Department: "relief", OpenOnly: true},
		{Citizen: "c1", OpenOnly: true},
	} {
		if n, err := s.CountTickets(ctx, f); err != nil || n != 2 {
			t.Errorf("CountTickets(%+v) = %d, %v; want 2, nil", f, n, err)
		}
		ts, err := s.ListTickets(ctx, f)
		if err != nil || len(ts) != 2 || ts[0].ID != "T-3" || ts[1].ID != "T-5" {
			t.Errorf("ListTickets(%+v) = %+v, %v; want T-3 and T-5", f, ts, err)
		}
	}
	log.take()
	if n, err := s.CountTickets(ctx, store.TicketFilter{Owner: "o1"}); err != nil || n != 5 {
		t.Errorf("CountTickets(o1) = %d, %v; want 5, nil", n, err)
	}
	if got, want := log.take(), []string{"zcard oi:{t}:idx:owner:o1"}; !slices.Equal(got, want) {
		t.Errorf("CountTickets(o1) sent %q, want %q", got, want)
	}
}
