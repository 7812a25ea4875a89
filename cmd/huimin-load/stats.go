package main

import (
	"slices"
	"time"
)

// percentile returns the nearest-rank percentile of sorted (ascending), with p
// in tenths of a percent: 500 is the median, 999 is p99.9, 1000 the maximum.
// Integer ranks avoid float rounding picking the next sample (0.999*1000 is
// not exactly 999 in floating point).
func percentile(sorted []time.Duration, tenths int) time.Duration {
	n := len(sorted)
	if n == 0 {
		return 0
	}
	rank := (tenths*n + 999) / 1000 // ceil(tenths/1000 * n)
	rank = max(1, min(rank, n))
	return sorted[rank-1]
}

// latencies summarises request durations.
type latencies struct {
	Mean, P50, P90, P99, P999, Max time.Duration
}

// summarise sorts d in place and reads the percentiles off it. Sorting all
// samples is exact, and at a few hundred thousand requests it takes
// milliseconds, so there is no need for a histogram.
func summarise(d []time.Duration) latencies {
	if len(d) == 0 {
		return latencies{}
	}
	slices.Sort(d)
	var sum time.Duration
	for _, v := range d {
		sum += v
	}
	return latencies{
		Mean: sum / time.Duration(len(d)),
		P50:  percentile(d, 500),
		P90:  percentile(d, 900),
		P99:  percentile(d, 990),
		P999: percentile(d, 999),
		Max:  d[len(d)-1],
	}
}
