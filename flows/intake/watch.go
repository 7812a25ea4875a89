package intake

import (
	"context"
	"fmt"
	"io/fs"
	"log/slog"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"sync/atomic"
	"time"
)

// Watcher keeps the current Set and reloads it when the override directory
// changes. A bad reload keeps the last good Set.
type Watcher struct {
	defaults fs.FS
	dir      string
	log      *slog.Logger

	cur  atomic.Pointer[Set]
	opts Options    // given to every Set loaded
	mu   sync.Mutex // serialises reloads
	sig  string     // the directory's state at the last reload attempt
}

// NewWatcher loads the defaults overridden by dir (empty for none) and
// returns a Watcher serving them, with zero [Options]. The first load must
// succeed: a definition error stops the start-up with file:line and reason.
func NewWatcher(defaults fs.FS, dir string, log *slog.Logger) (*Watcher, error) {
	return Watch(defaults, dir, log, Options{})
}

// Watch is [NewWatcher] for a bureau: every Set loaded, now and after
// reloads, checks dates against its calendar and deadlines and names its
// offices as opts say. An answer naming an office nobody configured is
// logged at Warn at every load.
func Watch(defaults fs.FS, dir string, log *slog.Logger, opts Options) (*Watcher, error) {
	w := &Watcher{defaults: defaults, dir: dir, log: log, opts: opts}
	w.sig = w.signature()
	set, err := Load(defaults, dir)
	if err != nil {
		return nil, fmt.Errorf("load flows: %w", err)
	}
	w.use(set)
	return w, nil
}

// Current is the Set in force. It is safe to call from any goroutine; a
// caller should use one Set for one message.
func (w *Watcher) Current() *Set {
	return w.cur.Load()
}

// Reload loads the files again. On error the current Set stays in force and
// the error, naming file, line and reason, is returned.
func (w *Watcher) Reload() error {
	w.mu.Lock()
	defer w.mu.Unlock()
	w.sig = w.signature()
	set, err := Load(w.defaults, w.dir)
	if err != nil {
		return fmt.Errorf("reload flows: %w", err)
	}
	w.use(set)
	return nil
}

// use puts set in force with the Watcher's options.
func (w *Watcher) use(set *Set) {
	set = set.WithOptions(w.opts)
	if missing := set.UnknownOffices(); len(missing) > 0 && len(w.opts.Offices) > 0 {
		w.log.Warn("answers name an office nobody configured, so they say no address, hours or phone: add it to desk.departments or desk.agencies",
			"offices", missing)
	}
	w.cur.Store(set)
}

// Run checks the directory every interval and reloads when a file was
// added, removed or changed (by size or modification time), until ctx is
// done. A failed reload is logged at Warn with the reason, and tried again
// at the next change. With no directory it returns at once; an interval
// of zero or less means 5 seconds.
func (w *Watcher) Run(ctx context.Context, interval time.Duration) {
	if w.dir == "" {
		return
	}
	if interval <= 0 {
		interval = 5 * time.Second
	}
	t := time.NewTicker(interval)
	defer t.Stop()
	for {
		select {
		case <-ctx.Done():
			return
		case <-t.C:
		}
		w.mu.Lock()
		changed := w.signature() != w.sig
		w.mu.Unlock()
		if !changed {
			continue
		}
		if err := w.Reload(); err != nil {
			w.log.WarnContext(ctx, "flows reload failed, keeping the last good flows", "dir", w.dir, "err", err)
			continue
		}
		w.log.InfoContext(ctx, "flows reloaded", "dir", w.dir, "flows", len(w.Current().flows))
	}
}

// signature describes the directory's YAML files by name, size and
// modification time; an unreadable directory has its own signature.
func (w *Watcher) signature() string {
	if w.dir == "" {
		return ""
	}
	entries, err := os.ReadDir(w.dir)
	if err != nil {
		return "error: " + err.Error()
	}
	var parts []string
	for _, e := range entries {
		if ext := filepath.Ext(e.Name()); e.IsDir() || ext != ".yaml" && ext != ".yml" {
			continue
		}
		info, err := e.Info()
		if err != nil {
			parts = append(parts, e.Name()+" ?")
			continue
		}
		parts = append(parts, fmt.Sprintf("%s %d %d", e.Name(), info.Size(), info.ModTime().UnixNano()))
	}
	sort.Strings(parts)
	return strings.Join(parts, "\n")
}
