package boltstore

import (
	"strconv"
	"testing"
	"time"
)

func TestSweepExpired(t *testing.T) {
	now := time.Unix(1764300000, 0)
	m := map[string]memLock{}
	for i := range minSweep {
		m["live"+strconv.Itoa(i)] = memLock{expires: now.Add(time.Minute)}
	}
	m["dead"] = memLock{expires: now}
	at := 0
	if n := sweepExpired(m, &at, now, false); n != 1 || len(m) != minSweep {
		t.Fatalf("sweep at %d entries dropped %d, left %d; want 1 dropped, %d left", minSweep+1, n, len(m), minSweep)
	}
	if at != 2*minSweep {
		t.Fatalf("next sweep at %d entries, want %d", at, 2*minSweep)
	}
	// Live entries alone do not make every insertion scan the map.
	m["dead2"] = memLock{expires: now}
	if n := sweepExpired(m, &at, now, false); n != 0 {
		t.Errorf("swept %d below the next threshold, want 0", n)
	}
	if n := sweepExpired(m, &at, now, true); n != 1 {
		t.Errorf("forced sweep dropped %d, want 1", n)
	}
}
