package storetest

import (
	"fmt"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"huimin/store"
)

// PickOfficer is the officer FillPick gives its tickets to.
const PickOfficer = "officer-busy"

// FillPick gives PickOfficer closed finished tickets and open ones still
// being worked, created from workers goroutines, shaped like real ones (a
// transcript, a history, an answered survey): what routing finds when it
// weighs an officer who has served for a year.
func FillPick(b *testing.B, s Store, closed, open, workers int) {
	b.Helper()
	t0 := time.Date(2025, 1, 1, 9, 0, 0, 0, time.UTC)
	total := closed + open
	var (
		next   atomic.Int64
		failed atomic.Bool
		wg     sync.WaitGroup
	)
	for range workers {
		wg.Go(func() {
			for !failed.Load() {
				i := int(next.Add(1) - 1)
				if i >= total {
					return
				}
				at := t0.Add(time.Duration(i) * 50 * time.Minute)
				tk := pickTicket(fmt.Sprintf("MZ%s-%05d", at.Format("20060102"), i), at)
				if i >= closed {
					tk.State, tk.ResolvedAt, tk.ClosedAt, tk.Surveys = store.StateInProgress, time.Time{}, time.Time{}, nil
				}
				if err := s.CreateTicket(b.Context(), tk); err != nil {
					b.Errorf("CreateTicket: %v", err)
					failed.Store(true)
				}
			}
		})
	}
	wg.Wait()
	if failed.Load() {
		b.FailNow()
	}
}

// pickTicket is a closed ticket of PickOfficer received at at.
func pickTicket(id string, at time.Time) store.Ticket {
	return store.Ticket{
		ID: id, CitizenOpenID: "o-citizen-" + strconv.Itoa(int(at.Unix()%5000)), Line: "relief", Inquiry: "help",
		Summary: "家里老人生病，想申请临时救助，请问需要准备哪些材料", Phone: "13800000000", Name: "张三",
		Fields: map[string]string{"town": "城关街道", "address": "幸福街 3 号"},
		Transcript: []store.Utterance{
			{At: at, From: "citizen", Text: "我要申请临时救助"},
			{At: at.Add(time.Second), From: "bot", Text: "请描述您的问题"},
			{At: at.Add(time.Minute), From: "citizen", Text: "家里老人生病，想申请临时救助"},
			{At: at.Add(2 * time.Hour), From: PickOfficer, Text: "请带身份证和户口本到街道民政办"},
		},
		State: store.StateClosed, Department: "relief", Window: "street-1", Owner: PickOfficer, FirstResponsible: PickOfficer,
		CreatedAt: at, AssignedAt: at.Add(5 * time.Minute), AcceptedAt: at.Add(20 * time.Minute),
		ResolvedAt: at.Add(30 * time.Hour), ClosedAt: at.Add(80 * time.Hour), Deadline: at.Add(72 * time.Hour), Resolution: "已办结",
		Surveys: []store.Survey{{Round: 1, Officer: PickOfficer, Due: at.Add(31 * time.Hour), SentAt: at.Add(31 * time.Hour),
			Channel: "chat", Level: 1, Via: "chat", AnsweredAt: at.Add(33 * time.Hour)}},
		History: []store.TicketEvent{
			{At: at, Actor: "citizen", Kind: "created"},
			{At: at.Add(5 * time.Minute), Actor: "system", Kind: "assigned", Officer: PickOfficer},
			{At: at.Add(20 * time.Minute), Actor: PickOfficer, Kind: "accepted"},
			{At: at.Add(2 * time.Hour), Actor: PickOfficer, Kind: "replied", Detail: "请带身份证和户口本到街道民政办"},
			{At: at.Add(30 * time.Hour), Actor: PickOfficer, Kind: "resolved", Detail: "已办结"},
			{At: at.Add(33 * time.Hour), Actor: "citizen", Kind: "rated", Outcome: "1"},
			{At: at.Add(80 * time.Hour), Actor: "system", Kind: "closed"},
		},
	}
}

// BenchPick times what routing asks of the store for each candidate
// officer, on a store FillPick filled with open of PickOfficer's tickets
// open. Before is the work ListTickets with OpenOnly did before the open
// indexes, and so routing's count: every ticket of the owner read and
// decoded, the open ones kept. After is routing's count now,
// CountTickets; ListOpen is ListTickets with OpenOnly now (我的工单).
func BenchPick(b *testing.B, s Store, open int) {
	owner := store.TicketFilter{Owner: PickOfficer}
	openOnly := store.TicketFilter{Owner: PickOfficer, OpenOnly: true}
	b.Run("Before", func(b *testing.B) {
		for b.Loop() {
			all, err := s.ListTickets(b.Context(), owner)
			if err != nil {
				b.Fatal(err)
			}
			n := 0
			for _, t := range all {
				if t.State.Open() {
					n++
				}
			}
			if n != open {
				b.Fatalf("%d open tickets, want %d", n, open)
			}
		}
	})
	b.Run("After", func(b *testing.B) {
		for b.Loop() {
			n, err := s.CountTickets(b.Context(), openOnly)
			if err != nil || n != open {
				b.Fatalf("CountTickets = %d, %v; want %d", n, err, open)
			}
		}
	})
	b.Run("ListOpen", func(b *testing.B) {
		for b.Loop() {
			got, err := s.ListTickets(b.Context(), openOnly)
			if err != nil || len(got) != open {
				b.Fatalf("ListTickets = %d tickets, %v; want %d", len(got), err, open)
			}
		}
	})
}
