package main

import (
	"testing"
	"time"
)

// msRange returns 1ms, 2ms, … n ms.
func msRange(n int) []time.Duration {
	d := make([]time.Duration, n)
	for i := range d {
		d[i] = time.Duration(i+1) * time.Millisecond
	}
	return d
}

func TestPercentile(t *testing.T) {
	tests := []struct {
		name   string
		sorted []time.Duration
		tenths int
		want   time.Duration
	}{
		{"empty", nil, 500, 0},
		{"one sample p50", msRange(1), 500, 1 * time.Millisecond},
		{"one sample p99.9", msRange(1), 999, 1 * time.Millisecond},
		{"ten p0 is the minimum", msRange(10), 0, 1 * time.Millisecond},
		{"ten p50", msRange(10), 500, 5 * time.Millisecond},
		{"ten p90", msRange(10), 900, 9 * time.Millisecond},
		{"ten p99 rounds up", msRange(10), 990, 10 * time.Millisecond},
		{"two p50 is the lower", msRange(2), 500, 1 * time.Millisecond},
		{"hundred p99", msRange(100), 990, 99 * time.Millisecond},
		{"thousand p99.9 is exact", msRange(1000), 999, 999 * time.Millisecond},
		{"thousand and one p99.9 rounds up", msRange(1001), 999, 1000 * time.Millisecond},
		{"p100 is the maximum", msRange(1000), 1000, 1000 * time.Millisecond},
		{"beyond p100 clamps", msRange(10), 2000, 10 * time.Millisecond},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if got := percentile(tt.sorted, tt.tenths); got != tt.want {
				t.Errorf("percentile(%d samples, %d) = %v, want %v", len(tt.sorted), tt.tenths, got, tt.want)
			}
		})
	}
}

func TestSummarise(t *testing.T) {
	d := msRange(1000)
	for i, j := 0, len(d)-1; i < j; i, j = i+1, j-1 { // reversed: summarise must sort
		d[i], d[j] = d[j], d[i]
	}
	got := summarise(d)
	want := latencies{
		Mean: 500500 * time.Microsecond,
		P50:  500 * time.Millisecond,
		P90:  900 * time.Millisecond,
		P99:  990 * time.Millisecond,
		P999: 999 * time.Millisecond,
		Max:  1000 * time.Millisecond,
	}
	if got != want {
		t.Errorf("summarise() = %+v, want %+v", got, want)
	}
}
