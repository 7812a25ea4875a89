package bot

import (
	"sync/atomic"
	"testing"
	"testing/synctest"
)

func TestWorkersRunEveryJob(t *testing.T) {
	synctest.Test(t, func(t *testing.T) {
		w := newWorkers(2)
		block := make(chan struct{})
		var ran atomic.Int64
		// More jobs than workers: the extra ones get their own goroutines
		// instead of waiting.
		for range 5 {
			w.run(func() {
				<-block
				ran.Add(1)
			})
		}
		synctest.Wait()
		close(block)
		synctest.Wait()
		if got := ran.Load(); got != 5 {
			t.Fatalf("ran %d jobs, want 5", got)
		}
		w.stop()
		// After stop, jobs still run.
		done := make(chan struct{})
		w.run(func() { close(done) })
		<-done
	})
}
