package redisstore

import (
	"context"
	"errors"

	goredis "github.com/redis/go-redis/v9"

	"huimin/store"
)

// The open indexes (see keys.go) hold, by owner, department and citizen,
// the tickets still being worked: routing counts an officer's with one
// ZCARD, and 我的工单 reads them, instead of reading every ticket the
// officer ever had. The scripts that write a ticket keep them, as they
// keep the full indexes.

// openIndexVersion is what the marker {t}:open_built holds once the open
// indexes hold every open ticket, those written before they existed too
// (BuildIndexes). Bump it when what an open index holds changes, so that
// the stores build them again.
const openIndexVersion = "1"

// openIndexFor reports whether f is to be answered from an open index:
// f is OpenOnly, and the open indexes are built. Until a Store has seen
// the marker it reads it on each such call (a GET), and those calls read
// the full indexes, which hold every ticket, and keep the open ones:
// slower, never wrong.
func (s *Store) openIndexFor(ctx context.Context, f store.TicketFilter) (bool, error) {
	if !f.OpenOnly {
		return false, nil
	}
	if s.openBuilt.Load() {
		return true, nil
	}
	get := goredis.NewStringCmd(ctx, "get", s.keys.openBuilt())
	err := s.batch.do(ctx, get)
	if errors.Is(err, goredis.Nil) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if get.Val() != openIndexVersion {
		return false, nil
	}
	s.openBuilt.Store(true)
	return true, nil
}
