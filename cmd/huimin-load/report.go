package main

import (
	"encoding/json"
	"fmt"
	"io"
	"maps"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// report is the outcome of one run; its JSON form is what scripts read.
// Latency covers every measured request, failed ones included.
type report struct {
	Label        string            `json:"label,omitempty"`
	URL          string            `json:"url"`
	Mode         string            `json:"mode"`
	Concurrency  int               `json:"concurrency"`
	OpenIDs      int               `json:"openids"`
	Spread       string            `json:"spread"`
	Requests     int               `json:"requests"`
	Errors       int               `json:"errors"`
	ErrorKinds   map[string]int    `json:"error_kinds"`
	ErrorSamples map[string]string `json:"error_samples,omitempty"`
	Replies      map[string]int    `json:"replies"`
	DurationS    float64           `json:"duration_s"`
	Throughput   float64           `json:"throughput_rps"`
	LatencyMS    latencyMS         `json:"latency_ms"`
	PrepareS     float64           `json:"prepare_s"`
	Warmup       int               `json:"warmup_requests"`
	WarmupErrors int               `json:"warmup_errors"`
}

// latencyMS is latencies in milliseconds, for JSON.
type latencyMS struct {
	Mean float64 `json:"mean"`
	P50  float64 `json:"p50"`
	P90  float64 `json:"p90"`
	P99  float64 `json:"p99"`
	P999 float64 `json:"p99_9"`
	Max  float64 `json:"max"`
}

func ms(d time.Duration) float64 { return float64(d) / float64(time.Millisecond) }

// fill copies a measurement into the report.
func (r *report) fill(m measurement) {
	r.Requests = len(m.latency)
	r.ErrorKinds = m.tally.errors
	r.ErrorSamples = m.tally.first
	r.Replies = m.tally.replies
	for _, v := range m.tally.errors {
		r.Errors += v
	}
	r.DurationS = m.elapsed.Seconds()
	if m.elapsed > 0 {
		r.Throughput = float64(r.Requests) / m.elapsed.Seconds()
	}
	l := summarise(m.latency)
	r.LatencyMS = latencyMS{Mean: ms(l.Mean), P50: ms(l.P50), P90: ms(l.P90), P99: ms(l.P99), P999: ms(l.P999), Max: ms(l.Max)}
}

func (r *report) writeJSON(w io.Writer) error {
	if err := json.NewEncoder(w).Encode(r); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}

func (r *report) writeText(w io.Writer) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	if r.Label != "" {
		fmt.Fprintf(tw, "label\t%s\n", r.Label)
	}
	fmt.Fprintf(tw, "target\t%s (%s mode)\n", r.URL, r.Mode)
	fmt.Fprintf(tw, "load\t%d connections, %d openids (%s), prepared in %.2fs\n", r.Concurrency, r.OpenIDs, r.Spread, r.PrepareS)
	fmt.Fprintf(tw, "warmup\t%d requests, %d errors\n", r.Warmup, r.WarmupErrors)
	fmt.Fprintf(tw, "requests\t%d in %.3fs\n", r.Requests, r.DurationS)
	fmt.Fprintf(tw, "errors\t%d%s\n", r.Errors, counts(r.ErrorKinds))
	fmt.Fprintf(tw, "throughput\t%.1f req/s\n", r.Throughput)
	l := r.LatencyMS
	fmt.Fprintf(tw, "latency\tmean %.2fms  p50 %.2fms  p90 %.2fms  p99 %.2fms  p99.9 %.2fms  max %.2fms\n",
		l.Mean, l.P50, l.P90, l.P99, l.P999, l.Max)
	fmt.Fprintf(tw, "replies\t%d%s\n", r.Requests-r.Errors, counts(r.Replies))
	for _, k := range slices.Sorted(maps.Keys(r.ErrorSamples)) {
		fmt.Fprintf(tw, "first %s\t%s\n", k, r.ErrorSamples[k])
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("write report: %w", err)
	}
	return nil
}

// counts renders {"a": 1, "b": 2} as " (a 1, b 2)", sorted by key.
func counts(m map[string]int) string {
	if len(m) == 0 {
		return ""
	}
	parts := make([]string, 0, len(m))
	for _, k := range slices.Sorted(maps.Keys(m)) {
		parts = append(parts, fmt.Sprintf("%s %d", k, m[k]))
	}
	return " (" + strings.Join(parts, ", ") + ")"
}
