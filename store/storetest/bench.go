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

// Bench runs the store's benchmarks: the operations on every message's
// path and the due-queue's. Each backend calls it with a fresh store.
func Bench(b *testing.B, newStore func(b *testing.B) Store) {
	for _, bm := range []struct {
		name string
		f    func(b *testing.B, s Store)
	}{
		{"Schedule", benchSchedule},
		{"ScheduleParallel", benchScheduleParallel},
		{"Claim", benchClaim},
		{"AckParallel", benchAckParallel},
		{"BeginDelivery", benchBeginDelivery},
		{"BeginDeliveryParallel", benchBeginDeliveryParallel},
		{"SessionGetPut", benchSessionGetPut},
		{"SessionLockSaveParallel", benchSessionLockSaveParallel},
	} {
		b.Run(bm.name, func(b *testing.B) { bm.f(b, newStore(b)) })
	}
}

func benchSchedule(b *testing.B, s Store) {
	ctx := b.Context()
	due := time.Now()
	payload := []byte(`{"ticket_id":"T-000001","kind":"return_visit"}`)
	b.ResetTimer()
	for i := range b.N {
		it := store.DueItem{ID: strconv.Itoa(i), Due: due.Add(time.Duration(i%1000) * time.Second), Payload: payload}
		if _, err := s.Schedule(ctx, "bench", it); err != nil {
			b.Fatal(err)
		}
	}
}

// benchScheduleParallel enqueues from 64 concurrent callers, as a sweep
// scheduling return visits or the outbox under load does, with 200-byte
// payloads.
func benchScheduleParallel(b *testing.B, s Store) {
	ctx := b.Context()
	due := time.Now()
	payload := make([]byte, 200)
	var n atomic.Int64
	b.SetParallelism(32) // 64 goroutines on two CPUs
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			it := store.DueItem{ID: strconv.FormatInt(i, 10), Due: due.Add(time.Duration(i%1000) * time.Second), Payload: payload}
			if _, err := s.Schedule(ctx, "bench", it); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// benchAckParallel acknowledges claimed items from 64 concurrent callers.
func benchAckParallel(b *testing.B, s Store) {
	ctx := b.Context()
	now := time.Now()
	for i := range b.N {
		if _, err := s.Schedule(ctx, "bench", store.DueItem{ID: strconv.Itoa(i), Due: now, Payload: []byte("p")}); err != nil {
			b.Fatal(err)
		}
	}
	var claimed []store.DueItem
	for len(claimed) < b.N {
		got, err := s.Claim(ctx, "bench", now, 1000, time.Hour)
		if err != nil || len(got) == 0 {
			b.Fatalf("Claim = %d items, %v", len(got), err)
		}
		claimed = append(claimed, got...)
	}
	var n atomic.Int64
	b.SetParallelism(32)
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			it := claimed[n.Add(1)-1]
			if err := s.Ack(ctx, "bench", it.ID, it.Attempt); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// BenchmarkClaim claims one item per operation from a queue of b.N due items.
func benchClaim(b *testing.B, s Store) {
	ctx := b.Context()
	now := time.Now()
	for i := range b.N {
		it := store.DueItem{ID: strconv.Itoa(i), Due: now.Add(-time.Duration(i%1000) * time.Second), Payload: []byte("p")}
		if _, err := s.Schedule(ctx, "bench", it); err != nil {
			b.Fatal(err)
		}
	}
	b.ResetTimer()
	for range b.N {
		got, err := s.Claim(ctx, "bench", now, 1, time.Minute)
		if err != nil || len(got) != 1 {
			b.Fatalf("Claim = %d items, %v; want 1 item", len(got), err)
		}
	}
}

func benchBeginDelivery(b *testing.B, s Store) {
	ctx := b.Context()
	b.ResetTimer()
	for i := range b.N {
		k := strconv.Itoa(i)
		if _, _, err := s.BeginDelivery(ctx, k, "1700000000:"+k, time.Hour); err != nil {
			b.Fatal(err)
		}
	}
}

// benchBeginDeliveryParallel shows what batching buys under a burst of
// concurrent webhook requests (bolt: one commit and fsync for many
// callers; Redis: one pipeline).
func benchBeginDeliveryParallel(b *testing.B, s Store) {
	ctx := b.Context()
	b.SetParallelism(16)
	var n atomic.Int64
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			k := strconv.FormatInt(n.Add(1), 10)
			if _, _, err := s.BeginDelivery(ctx, k, "1700000000:"+k, time.Hour); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// benchSessionGetPut reads then writes a session.
func benchSessionGetPut(b *testing.B, s Store) {
	ctx := b.Context()
	sess := store.Session{OpenID: "o1", Flow: "intake", Step: "details", Data: map[string]string{"category": "低保", "phone": "13800000000"}, LastInbound: time.Now()}
	if err := s.PutSession(ctx, sess, time.Hour); err != nil {
		b.Fatal(err)
	}
	b.ResetTimer()
	for range b.N {
		got, err := s.GetSession(ctx, "o1")
		if err != nil {
			b.Fatal(err)
		}
		got.UpdatedAt = time.Now()
		if err := s.PutSession(ctx, got, time.Hour); err != nil {
			b.Fatal(err)
		}
	}
}

// benchSessionLockSaveParallel takes and saves sessions of many people at
// once, as the engine does for every message.
func benchSessionLockSaveParallel(b *testing.B, s Store) {
	ctx := b.Context()
	b.SetParallelism(16)
	var n atomic.Int64
	b.ResetTimer()
	b.RunParallel(func(pb *testing.PB) {
		for pb.Next() {
			i := n.Add(1)
			openID, owner := "o"+strconv.FormatInt(i%1000, 10), strconv.FormatInt(i, 10)
			sess, _, locked, err := s.LockSession(ctx, openID, owner, time.Minute)
			if err != nil {
				b.Error(err)
				return
			}
			if !locked {
				continue
			}
			sess.OpenID, sess.UpdatedAt = openID, time.Now()
			if err := s.SaveSessionUnlock(ctx, sess, time.Hour, owner); err != nil {
				b.Error(err)
				return
			}
		}
	})
}

// FactsMonths are the twelve months FillFacts spreads its tickets over,
// as the thirteen bounds [FactsMonths()[i], FactsMonths()[i+1]).
func FactsMonths() []time.Time {
	out := make([]time.Time, 13)
	for i := range out {
		out[i] = time.Date(2026, time.Month(1+i), 1, 0, 0, 0, 0, time.UTC)
	}
	return out
}

// FillFacts creates n tickets spread evenly over FactsMonths, from
// workers goroutines, shaped like a year's real ones: a dozen windows,
// forty officers, most closed with an answered survey, one in twenty
// with a rectification. It returns how many fall in each month.
func FillFacts(b *testing.B, s Store, n, workers int) []int {
	b.Helper()
	months := FactsMonths()
	start, end := months[0], months[len(months)-1]
	step := end.Sub(start) / time.Duration(n)
	perMonth := make([]int, len(months)-1)
	for i := range n {
		at := start.Add(time.Duration(i) * step)
		for m := range perMonth {
			if at.Before(months[m+1]) {
				perMonth[m]++
				break
			}
		}
	}
	var (
		next      atomic.Int64
		failed    atomic.Bool
		wg        sync.WaitGroup
		windows   = []string{"street-1", "street-2", "street-3", "street-4", "street-5", "street-6", "town-1", "town-2", "town-3", "relief", "veterans", "affairs"}
		depts     = []string{"relief", "veterans", "elderly", "children", "affairs", "disability"}
		inquiries = []string{"consult", "help", "complaint", "report", "suggestion"}
	)
	for range workers {
		wg.Go(func() {
			for !failed.Load() {
				i := int(next.Add(1) - 1)
				if i >= n {
					return
				}
				at := start.Add(time.Duration(i) * step)
				officer := "officer-" + strconv.Itoa(i%40)
				tk := store.Ticket{
					ID:            fmt.Sprintf("MZ%s-%05d", at.Format("20060102"), i),
					CitizenOpenID: "o-citizen-" + strconv.Itoa(i%20000),
					Line:          depts[i%len(depts)], Inquiry: inquiries[i%len(inquiries)],
					Summary: "咨询低保年审需要哪些材料，家里有两位老人", Phone: "13800000000", Name: "张三",
					State: store.StateClosed, Department: depts[i%len(depts)], Window: windows[i%len(windows)],
					Owner: officer, FirstResponsible: officer, CreatedAt: at,
					AssignedAt: at.Add(5 * time.Minute), AcceptedAt: at.Add(20 * time.Minute), ResolvedAt: at.Add(30 * time.Hour),
					ClosedAt: at.Add(80 * time.Hour), Deadline: at.Add(72 * time.Hour), Resolution: "已办结",
					Surveys: []store.Survey{{Round: 1, Officer: officer, Due: at.Add(31 * time.Hour), SentAt: at.Add(31 * time.Hour),
						Channel: "chat", Level: 1 + i%5, Via: "chat", AnsweredAt: at.Add(33 * time.Hour)}},
					History: []store.TicketEvent{{At: at, Actor: "citizen", Kind: "created"}},
				}
				if i%5 == 0 {
					tk.State = store.StateInProgress
					tk.ResolvedAt, tk.ClosedAt, tk.Surveys = time.Time{}, time.Time{}, nil
				}
				if i%20 == 3 {
					tk.Rectifications = []store.Rectification{{Round: 1, Assignee: "chief-1", VerifyBy: at.Add(50 * time.Hour),
						Due: at.Add(100 * time.Hour), Outcome: "immediate", RecordedAt: at.Add(60 * time.Hour)}}
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
	return perMonth
}

// BenchTicketFacts times TicketFacts over one month (March) and over all
// twelve of a store FillFacts filled, perMonth being what it returned.
func BenchTicketFacts(b *testing.B, s Store, perMonth []int) {
	months := FactsMonths()
	total := 0
	for _, n := range perMonth {
		total += n
	}
	for _, r := range []struct {
		name     string
		from, to time.Time
		want     int
	}{
		{"OneMonth", months[2], months[3], perMonth[2]},
		{"TwelveMonths", months[0], months[12], total},
	} {
		b.Run(r.name, func(b *testing.B) {
			for b.Loop() {
				n := 0
				err := s.TicketFacts(b.Context(), r.from, r.to, func(store.Facts) error {
					n++
					return nil
				})
				if err != nil || n != r.want {
					b.Fatalf("TicketFacts = %d facts, %v; want %d", n, err, r.want)
				}
			}
			b.ReportMetric(float64(r.want), "facts/op")
			b.ReportMetric(float64(b.Elapsed().Nanoseconds())/float64(b.N)/float64(r.want), "ns/fact")
		})
	}
}
