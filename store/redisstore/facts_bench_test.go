package redisstore_test

import (
	"context"
	"fmt"
	"math/rand/v2"
	"strconv"
	"strings"
	"testing"

	goredis "github.com/redis/go-redis/v9"

	"huimin/store/redisstore"
	"huimin/store/storetest"
)

// factsBenchTickets is a year of tickets at thirty times a district
// bureau's volume.
const factsBenchTickets = 100_000

// BenchmarkTicketFacts fills a store with 100,000 tickets over twelve
// months and times TicketFacts over one month and over the twelve; Memory
// reports what a ticket's facts cost in Redis (MEMORY USAGE of the month
// hashes, SAMPLES 0: every field counted); MonthHGETALL and MonthHSCAN
// compare the two ways to read a month's hash, with the Redis main
// thread's time per read (INFO commandstats) as redis-µs/op. Run it with
//
//	go test -run '^$' -bench TicketFacts -benchtime 10x ./store/redisstore/
//
// The keys live under a prefix of the benchmark's own and are UNLINKed
// at the end.
func BenchmarkTicketFacts(b *testing.B) {
	rdb := newClient(b)
	ctx := context.Background()
	prefix := fmt.Sprintf("huimintest:facts:%016x:", rand.Uint64())
	b.Cleanup(func() {
		if err := unlinkPrefix(context.Background(), rdb, prefix); err != nil {
			b.Errorf("unlink %s*: %v", prefix, err)
		}
	})
	if err := markIndexesBuilt(ctx, rdb, prefix); err != nil {
		b.Fatal(err)
	}
	s := redisstore.New(rdb, redisstore.Options{Prefix: prefix})
	b.Cleanup(func() { _ = s.Close() })
	perMonth := storetest.FillFacts(b, s, factsBenchTickets, 64)
	months := storetest.FactsMonths()
	monthKey := func(i int) string { return prefix + "{t}:facts:" + months[i].Format("2006-01") }

	b.Run("Memory", func(b *testing.B) {
		var bytes int64
		for b.Loop() {
			bytes = 0
			for i := range 12 {
				n, err := rdb.MemoryUsage(ctx, monthKey(i), 0).Result()
				if err != nil {
					b.Fatal(err)
				}
				bytes += n
			}
		}
		b.ReportMetric(float64(bytes)/factsBenchTickets, "B/fact")
	})
	storetest.BenchTicketFacts(b, s, perMonth)
	b.Run("MonthHGETALL", func(b *testing.B) {
		calls, usec := commandStats(b, rdb, "hgetall")
		for b.Loop() {
			if n, err := rdb.HGetAll(ctx, monthKey(2)).Result(); err != nil || len(n) != perMonth[2] {
				b.Fatalf("HGETALL = %d fields, %v", len(n), err)
			}
		}
		reportRedisTime(b, rdb, "hgetall", calls, usec)
	})
	b.Run("MonthHSCAN", func(b *testing.B) {
		calls, usec := commandStats(b, rdb, "hscan")
		rounds := 0
		for b.Loop() {
			var cursor uint64
			seen := make(map[string]struct{}, perMonth[2])
			for {
				kv, next, err := rdb.HScan(ctx, monthKey(2), cursor, "", 1000).Result()
				if err != nil {
					b.Fatal(err)
				}
				rounds++
				for i := 0; i < len(kv); i += 2 {
					seen[kv[i]] = struct{}{}
				}
				if cursor = next; cursor == 0 {
					break
				}
			}
			if len(seen) != perMonth[2] {
				b.Fatalf("HSCAN saw %d fields, want %d", len(seen), perMonth[2])
			}
		}
		reportRedisTime(b, rdb, "hscan", calls, usec)
		b.ReportMetric(float64(rounds)/float64(b.N), "round-trips/op")
	})
}

// commandStats returns the calls of cmd Redis counted and the µs it spent
// on them (INFO commandstats).
func commandStats(b *testing.B, rdb goredis.UniversalClient, cmd string) (calls, usec int64) {
	b.Helper()
	info, err := rdb.Info(context.Background(), "commandstats").Result()
	if err != nil {
		b.Fatal(err)
	}
	for line := range strings.Lines(info) {
		rest, ok := strings.CutPrefix(strings.TrimSpace(line), "cmdstat_"+cmd+":")
		if !ok {
			continue
		}
		for f := range strings.SplitSeq(rest, ",") {
			k, v, _ := strings.Cut(f, "=")
			switch k {
			case "calls":
				calls, _ = strconv.ParseInt(v, 10, 64)
			case "usec":
				usec, _ = strconv.ParseInt(v, 10, 64)
			}
		}
	}
	return calls, usec
}

// reportRedisTime reports the µs Redis spent on cmd per operation of the
// benchmark and per call, from its commandstats since calls0 and usec0.
func reportRedisTime(b *testing.B, rdb goredis.UniversalClient, cmd string, calls0, usec0 int64) {
	b.Helper()
	calls, usec := commandStats(b, rdb, cmd)
	if calls == calls0 {
		return
	}
	b.ReportMetric(float64(usec-usec0)/float64(b.N), "redis-µs/op")
	b.ReportMetric(float64(usec-usec0)/float64(calls-calls0), "redis-µs/call")
}
