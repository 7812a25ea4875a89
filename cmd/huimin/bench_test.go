package main

import (
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"runtime/debug"
	"strconv"
	"strings"
	"sync/atomic"
	"syscall"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/silenceper/wechat/v2/util"

	"huimin/bot"
	"huimin/config"
)

// BenchmarkWebhook measures the whole service in process: a signed text
// message through the handler, the engine and the store, from many
// citizens at once (most of them new, as under the load generator).
// It shows the CPU and allocations per message without HTTP's network
// work; cmd/huimin-load measures the rest.
func BenchmarkWebhook(b *testing.B) {
	for _, driver := range []string{"bolt", "redis"} {
		b.Run(driver, func(b *testing.B) {
			const token = "benchtoken"
			env := map[string]string{
				"HUIMIN_WECHAT_APP_ID":       "wxbench0000000000",
				"HUIMIN_WECHAT_APP_SECRET":   "s",
				"HUIMIN_WECHAT_TOKEN":        token,
				"HUIMIN_WECHAT_API_BASE_URL": "http://127.0.0.1:1",
				"HUIMIN_STORE_DRIVER":        driver,
				"HUIMIN_STORE_PATH":          filepath.Join(b.TempDir(), "bench.db"),
				"HUIMIN_REDIS_ADDR":          testRedisAddr(),
				"HUIMIN_REDIS_PREFIX":        fmt.Sprintf("huiminbench:%d:", time.Now().UnixNano()),
			}
			cfg, err := config.Load("", func(k string) string { return env[k] })
			if err != nil {
				b.Fatal(err)
			}
			st, _, err := openStore(b.Context(), cfg)
			if err != nil {
				b.Skipf("store: %v", err)
			}
			if driver == "redis" {
				b.Cleanup(func() { deleteRedisPrefix(cfg.Redis.Addr, cfg.Redis.Prefix) })
			}
			b.Cleanup(func() { _ = st.Close() })
			log := slog.New(slog.DiscardHandler)
			reg := prometheus.NewRegistry()
			a, err := newApp(cfg, st, bot.NewMetrics(reg), log)
			if err != nil {
				b.Fatal(err)
			}
			h := bot.NewHandler(st, reg, log, a.webhook)
			b.Cleanup(a.webhook.Wait)

			defer debug.SetGCPercent(debug.SetGCPercent(serveGCPercent))
			ts := strconv.FormatInt(time.Now().Unix(), 10)
			var seq atomic.Int64
			b.ReportAllocs()
			cpu0 := processCPU(b)
			b.SetParallelism(64) // 128 goroutines on two CPUs
			b.RunParallel(func(pb *testing.PB) {
				for pb.Next() {
					i := seq.Add(1)
					from := fmt.Sprintf("o%027d", i%100000)
					nonce := strconv.FormatInt(i, 10)
					body := "<xml><ToUserName><![CDATA[gh_bench]]></ToUserName><FromUserName><![CDATA[" + from +
						"]]></FromUserName><CreateTime>" + ts + "</CreateTime><MsgType><![CDATA[text]]></MsgType><Content><![CDATA[你好]]></Content><MsgId>" +
						strconv.FormatInt(1<<60+i, 10) + "</MsgId></xml>"
					target := "/wechat?signature=" + util.Signature(token, ts, nonce) + "&timestamp=" + ts + "&nonce=" + nonce + "&openid=" + from
					req, err := http.NewRequest(http.MethodPost, target, strings.NewReader(body))
					if err != nil {
						b.Error(err)
						return
					}
					w := httptest.NewRecorder()
					h.ServeHTTP(w, req)
					if w.Code != http.StatusOK || !strings.Contains(w.Body.String(), "<xml>") {
						b.Errorf("answer %d %q", w.Code, w.Body.String())
						return
					}
				}
			})
			b.ReportMetric(float64(processCPU(b)-cpu0)/float64(b.N), "cpu-ns/op")
		})
	}
}

// processCPU is the CPU time this process has used, user and system, in ns.
func processCPU(tb testing.TB) int64 {
	var ru syscall.Rusage
	if err := syscall.Getrusage(syscall.RUSAGE_SELF, &ru); err != nil {
		tb.Fatal(err)
	}
	return ru.Utime.Nano() + ru.Stime.Nano()
}
