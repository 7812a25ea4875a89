package boltstore

import (
	"errors"
	"fmt"
	"path/filepath"
	"sync"
	"testing"

	bolt "go.etcd.io/bbolt"
	bolterrors "go.etcd.io/bbolt/errors"
)

func openBolt(t *testing.T) *bolt.DB {
	t.Helper()
	db, err := bolt.Open(filepath.Join(t.TempDir(), "g.db"), 0o600, nil)
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = db.Close() })
	if err := db.Update(func(tx *bolt.Tx) error { _, err := tx.CreateBucket([]byte("b")); return err }); err != nil {
		t.Fatal(err)
	}
	return db
}

func put(k string) func(*bolt.Tx) error {
	return func(tx *bolt.Tx) error { return tx.Bucket([]byte("b")).Put([]byte(k), []byte("v")) }
}

func keys(t *testing.T, db *bolt.DB) int {
	t.Helper()
	n := 0
	if err := db.View(func(tx *bolt.Tx) error { n = tx.Bucket([]byte("b")).Stats().KeyN; return nil }); err != nil {
		t.Fatal(err)
	}
	return n
}

// TestGroupCommit checks the committer: concurrent writes all land; a
// write that fails or panics gets its own error while the others of its
// group commit; after close, writes are refused instead of waiting.
func TestGroupCommit(t *testing.T) {
	db := openBolt(t)
	g := newGroupCommit(db)
	var wg sync.WaitGroup
	errs := make([]error, 300)
	boom := errors.New("boom")
	for i := range errs {
		wg.Go(func() {
			switch i {
			case 100:
				errs[i] = g.do(func(*bolt.Tx) error { return boom })
			case 200:
				errs[i] = g.do(func(*bolt.Tx) error { panic("bug") })
			default:
				errs[i] = g.do(put(fmt.Sprint(i)))
			}
		})
	}
	wg.Wait()
	for i, err := range errs {
		switch i {
		case 100:
			if !errors.Is(err, boom) {
				t.Errorf("failing write: %v, want its own error", err)
			}
		case 200:
			if err == nil {
				t.Errorf("panicking write: no error")
			}
		default:
			if err != nil {
				t.Errorf("write %d: %v", i, err)
			}
		}
	}
	if n := keys(t, db); n != 298 {
		t.Errorf("%d keys written, want 298", n)
	}
	g.close()
	g.close() // idempotent
	if err := g.do(put("late")); !errors.Is(err, bolterrors.ErrDatabaseNotOpen) {
		t.Errorf("write after close: %v, want ErrDatabaseNotOpen", err)
	}
}
