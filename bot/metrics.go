package bot

import (
	"context"
	"log/slog"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the service's Prometheus metrics, registered on a registry
// the caller owns (never the global one).
type Metrics struct {
	messages      *prometheus.CounterVec
	replySeconds  prometheus.Histogram
	duplicates    prometheus.Counter
	outboxDone    *prometheus.CounterVec
	outboxRetries prometheus.Counter
	tokenFetches  prometheus.Counter
}

// NewMetrics registers the metrics on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		messages: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "huimin_messages_total",
			Help: "Inbound WeChat messages and events by type and outcome.",
		}, []string{"type", "outcome"}),
		replySeconds: prometheus.NewHistogram(prometheus.HistogramOpts{
			Name:    "huimin_reply_seconds",
			Help:    "Time from receiving a webhook POST to writing its answer.",
			Buckets: []float64{.001, .0025, .005, .01, .025, .05, .1, .25, .5, 1, 2.5, 5},
		}),
		duplicates: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "huimin_duplicate_deliveries_total",
			Help: "Repeated deliveries of a message already received (WeChat retries).",
		}),
		outboxDone: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "huimin_outbox_messages_total",
			Help: "Outbound messages by how they ended (sent, out_of_window, rejected, failed).",
		}, []string{"status"}),
		outboxRetries: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "huimin_outbox_retries_total",
			Help: "Failed sends of outbound messages that were rescheduled.",
		}),
		tokenFetches: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "huimin_wechat_token_fetches_total",
			Help: "Access-token fetches from WeChat by this process.",
		}),
	}
	reg.MustRegister(m.messages, m.replySeconds, m.duplicates, m.outboxDone, m.outboxRetries, m.tokenFetches)
	return m
}

// TokenFetched counts one access-token fetch.
func (m *Metrics) TokenFetched() { m.tokenFetches.Inc() }

// QueueDepthCollector reports due-queue depths, read from the store at
// scrape time so every instance reports the shared truth.
type QueueDepthCollector struct {
	q      DueQueue
	queues []string
	now    func() time.Time
	log    *slog.Logger
	total  *prometheus.Desc
	due    *prometheus.Desc
}

// NewQueueDepthCollector returns a collector for the named queues.
func NewQueueDepthCollector(q DueQueue, now func() time.Time, log *slog.Logger, queues ...string) *QueueDepthCollector {
	return &QueueDepthCollector{
		q: q, queues: queues, now: now, log: log,
		total: prometheus.NewDesc("huimin_queue_items", "Items in a due-queue (the outbox is the queue named outbox).", []string{"queue"}, nil),
		due:   prometheus.NewDesc("huimin_queue_due_items", "Items in a due-queue that are due now.", []string{"queue"}, nil),
	}
}

// Describe implements prometheus.Collector.
func (c *QueueDepthCollector) Describe(ch chan<- *prometheus.Desc) {
	ch <- c.total
	ch <- c.due
}

// Collect implements prometheus.Collector.
func (c *QueueDepthCollector) Collect(ch chan<- prometheus.Metric) {
	ctx, cancel := context.WithTimeout(context.Background(), time.Second)
	defer cancel()
	for _, q := range c.queues {
		st, err := c.q.QueueStats(ctx, q, c.now())
		if err != nil {
			c.log.WarnContext(ctx, "queue stats failed", "queue", q, "err", err)
			continue
		}
		ch <- prometheus.MustNewConstMetric(c.total, prometheus.GaugeValue, float64(st.Total), q)
		ch <- prometheus.MustNewConstMetric(c.due, prometheus.GaugeValue, float64(st.Due), q)
	}
}
