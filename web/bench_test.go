package web

import (
	"bufio"
	"context"
	"encoding/csv"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"testing"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"huimin/desk"
	"huimin/desk/calendar"
	"huimin/results"
	"huimin/store/redisstore"
	"huimin/store/storetest"
)

// benchStore is a production store (Redis) holding a year of 100,000
// tickets (storetest.FillFacts), shared by the benchmarks of one run.
func benchStore(b *testing.B) *redisstore.Store {
	b.Helper()
	addr := os.Getenv("HUIMIN_TEST_REDIS_ADDR")
	if addr == "" {
		addr = "127.0.0.1:6379"
	}
	client := goredis.NewClient(&goredis.Options{Addr: addr, PoolSize: 32})
	if err := client.Ping(b.Context()).Err(); err != nil {
		b.Fatalf("redis at %s: %v (start redis-server)", addr, err)
	}
	prefix := fmt.Sprintf("huiminbench:web:%d:", time.Now().UnixNano())
	b.Cleanup(func() {
		ctx := context.Background()
		iter := client.Scan(ctx, 0, prefix+"*", 1000).Iterator()
		for iter.Next(ctx) {
			client.Del(ctx, iter.Val())
		}
		_ = client.Close()
	})
	st := redisstore.New(client, redisstore.Options{Prefix: prefix})
	storetest.FillFacts(b, st, 100_000, 16)
	return st
}

// BenchmarkResultsPage measures the public results with a year of
// 100,000 tickets: Refresh computes them from the store (on the cron
// schedule, not per request), Page serves /results from that computation,
// and Baseline serves a fixed page of similar size through the same
// headers, for the ratio.
//
//	go test -run '^$' -bench ResultsPage -benchtime 200x ./web/
func BenchmarkResultsPage(b *testing.B) {
	st := benchStore(b)
	windows := []results.Window{}
	for _, id := range []string{"street-1", "street-2", "street-3", "street-4", "street-5", "street-6", "town-1", "town-2", "town-3", "relief", "veterans", "affairs"} {
		windows = append(windows, results.Window{ID: id, Name: id + "民政办"})
	}
	now := time.Date(2026, 12, 20, 10, 0, 0, 0, cst)
	pub := results.NewPublisher(st, results.PublishOptions{Windows: windows, Months: 12, MinAnswers: 10,
		Counter: results.Counter{Location: cst}, Now: func() time.Time { return now }})
	b.Run("Refresh", func(b *testing.B) {
		for b.Loop() {
			if _, err := pub.Refresh(b.Context()); err != nil {
				b.Fatal(err)
			}
		}
	})
	p, err := New(Options{Results: pub, Levels: nationalLevels{}, Location: cst, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	mux := http.NewServeMux()
	p.Register(mux)
	page := serveOnce(b, mux, "/results?month=2026-11")
	fixed := []byte(page)
	mux.Handle("GET /baseline", secure(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("Content-Type", "text/html; charset=utf-8")
		_, _ = w.Write(fixed)
	})))
	var pageNs, baseNs float64
	b.Run("Page", func(b *testing.B) {
		for b.Loop() {
			serveOnce(b, mux, "/results?month=2026-11")
		}
		pageNs = float64(b.Elapsed().Nanoseconds()) / float64(b.N)
		b.ReportMetric(pageNs/1e6, "ms/page")
	})
	b.Run("Baseline", func(b *testing.B) {
		for b.Loop() {
			serveOnce(b, mux, "/baseline")
		}
		baseNs = float64(b.Elapsed().Nanoseconds()) / float64(b.N)
	})
	if baseNs > 0 {
		b.Logf("page %.3f ms, baseline %.3f ms, ratio %.1f, page %d bytes", pageNs/1e6, baseNs/1e6, pageNs/baseNs, len(fixed))
	}
}

func serveOnce(b *testing.B, h http.Handler, target string) string {
	rec := httptest.NewRecorder()
	h.ServeHTTP(rec, httptest.NewRequest(http.MethodGet, target, nil))
	if rec.Code != http.StatusOK {
		b.Fatalf("GET %s = %d", target, rec.Code)
	}
	return rec.Body.String()
}

// BenchmarkExportCSV streams the export of the whole year of 100,000
// tickets as the leader and reports rows per second; Baseline writes the
// same number of fixed rows through the same CSV writer, for the ratio.
//
//	go test -run '^$' -bench ExportCSV -benchtime 3x ./web/
func BenchmarkExportCSV(b *testing.B) {
	st := benchStore(b)
	cal, err := calendar.New(calendar.Options{Location: cst})
	if err != nil {
		b.Fatal(err)
	}
	d, err := desk.New(st, cal, &notes{}, desk.Directory{
		Departments: []desk.Department{{ID: "relief", Name: "社会救助科", Lines: []string{"relief"}}},
		Officers:    []desk.Officer{{ID: "boss", Name: "局长", Department: "relief", Leader: true}},
	}, desk.Rules{TicketPrefix: "MZ"}, desk.Options{Location: cst, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	p, err := New(Options{Supervisor: d, Sessions: st, SessionTTL: time.Hour, Levels: d, Location: cst, Log: slog.New(slog.DiscardHandler)})
	if err != nil {
		b.Fatal(err)
	}
	leader, _ := d.Officer("boss")
	s := session{id: "bench", csrf: "bench", officer: leader}
	var rows int
	b.Run("Export", func(b *testing.B) {
		for b.Loop() {
			rec := &countingWriter{header: http.Header{}}
			req := httptest.NewRequest(http.MethodGet, "/desk/export.csv?from=2026-01-01&to=2026-12-31", nil)
			if err := p.exportCSV(rec, req, s); err != nil {
				b.Fatal(err)
			}
			rows = rec.lines - 1
		}
		perSec := float64(rows) * float64(b.N) / b.Elapsed().Seconds()
		b.ReportMetric(perSec, "rows/s")
		b.ReportMetric(float64(rows), "rows")
	})
	b.Run("Baseline", func(b *testing.B) {
		row := []string{"MZ20260101-00001", "street-1民政办", "relief", "求助", "2026-01-01 08:00", "2026-01-04 08:00", "2026-01-02 14:00",
			"是", "officer-1", "officer-1", "满意", "", ""}
		for b.Loop() {
			w := csv.NewWriter(bufio.NewWriterSize(&countingWriter{header: http.Header{}}, 32<<10))
			for range rows {
				_ = w.Write(row)
			}
			w.Flush()
		}
		b.ReportMetric(float64(rows)*float64(b.N)/b.Elapsed().Seconds(), "rows/s")
	})
}

// countingWriter is a ResponseWriter that counts lines and keeps nothing.
type countingWriter struct {
	header http.Header
	lines  int
}

func (w *countingWriter) Header() http.Header { return w.header }
func (w *countingWriter) WriteHeader(int)     {}
func (w *countingWriter) Write(p []byte) (int, error) {
	for _, c := range p {
		if c == '\n' {
			w.lines++
		}
	}
	return len(p), nil
}

var _ io.Writer = (*countingWriter)(nil)
