package boltstore

import (
	"encoding/json"
	"fmt"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"testing"
	"time"

	bolt "go.etcd.io/bbolt"

	"huimin/store"
)

// fillSessions writes n sessions of about 1 KiB each, in one transaction.
func fillSessions(t *testing.T, s *Store, n int) {
	t.Helper()
	err := s.db.Update(func(tx *bolt.Tx) error {
		for i := range n {
			sess := store.Session{OpenID: fmt.Sprintf("o%06d", i), Flow: strings.Repeat("x", 1000)}
			body, err := json.Marshal(sess)
			if err != nil {
				return err
			}
			if err := bucket(tx, bucketSessions).Put([]byte(sess.OpenID), envelope(time.Now().Add(time.Hour), body)); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// TestTrimKeepsData: dropping the map's pages from the resident set loses
// nothing; the next reads map them back from the page cache.
func TestTrimKeepsData(t *testing.T) {
	s, err := New(filepath.Join(t.TempDir(), "huimin.db"), Options{})
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = s.Close() })
	fillSessions(t, s, 500)
	for round := range 2 {
		s.trim()
		for i := range 500 {
			id := fmt.Sprintf("o%06d", i)
			got, err := s.GetSession(t.Context(), id)
			if err != nil || got.OpenID != id || len(got.Flow) != 1000 {
				t.Fatalf("round %d: GetSession(%s) after trim = %q (%d bytes of flow), %v", round, id, got.OpenID, len(got.Flow), err)
			}
		}
	}
}

// TestReopenMapsLittle: a store closed cleanly wrote its freelist, so the
// next New reads that instead of every page of the file, which would map
// the whole file into the resident set.
func TestReopenMapsLittle(t *testing.T) {
	if runtime.GOOS != "linux" {
		t.Skip("reads the resident set from /proc")
	}
	path := filepath.Join(t.TempDir(), "huimin.db")
	s, err := New(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	fillSessions(t, s, 20000) // about 25 MiB of pages
	if err := s.Close(); err != nil {
		t.Fatal(err)
	}
	fi, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	before := residentFileKiB(t)
	s, err = New(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	grew := residentFileKiB(t) - before
	_ = s.Close()
	// Without the freelist, New read every page: the whole file resident.
	if limit := fi.Size() / 1024 / 4; grew > limit {
		t.Errorf("New mapped %d KiB of a %d KiB file, want under %d KiB", grew, fi.Size()/1024, limit)
	}
	// The sessions are still there: the freelist written at Close is
	// the file's, not an empty one that would hand their pages out again.
	s, err = New(path, Options{})
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = s.Close() }()
	fillSessions(t, s, 10) // new writes take pages from the freelist
	for _, id := range []string{"o000000", "o010000", "o019999"} {
		if got, err := s.GetSession(t.Context(), id); err != nil || len(got.Flow) != 1000 {
			t.Errorf("GetSession(%s) after reopening = %d bytes of flow, %v", id, len(got.Flow), err)
		}
	}
}

// residentFileKiB is the process's resident file-backed memory (RssFile).
func residentFileKiB(t *testing.T) int64 {
	t.Helper()
	b, err := os.ReadFile("/proc/self/status")
	if err != nil {
		t.Fatal(err)
	}
	for line := range strings.Lines(string(b)) {
		if f := strings.Fields(line); len(f) >= 2 && f[0] == "RssFile:" {
			n, err := strconv.ParseInt(f[1], 10, 64)
			if err != nil {
				t.Fatal(err)
			}
			return n
		}
	}
	t.Fatal("no RssFile in /proc/self/status")
	return 0
}
