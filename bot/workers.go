package bot

import "sync"

// workers runs dispatches on long-lived goroutines. A flow runs deep call
// stacks; on a fresh goroutine per message the runtime grows and copies
// the stack every time, which profiling showed at about 5% of the CPU per
// message. Parked workers keep their grown stacks. When every worker is
// busy a job gets a goroutine of its own, so no job ever waits here.
type workers struct {
	jobs chan func()
	quit chan struct{}
	wg   sync.WaitGroup
	once sync.Once
}

func newWorkers(n int) *workers {
	w := &workers{jobs: make(chan func()), quit: make(chan struct{})}
	for range n {
		w.wg.Go(func() {
			for {
				select {
				case job := <-w.jobs:
					job()
				case <-w.quit:
					return
				}
			}
		})
	}
	return w
}

// run starts job on an idle worker, or on a new goroutine.
func (w *workers) run(job func()) {
	select {
	case w.jobs <- job:
	default:
		go job()
	}
}

// stop lets the workers end once their jobs in hand are done; later jobs
// get goroutines of their own.
func (w *workers) stop() {
	w.once.Do(func() { close(w.quit) })
	w.wg.Wait()
}
