package redisstore

import (
	"context"
	"fmt"
	"time"
)

// nextSeqScript increments a counter and, when ARGV[1] (a ttl in ms) is
// positive, gives it that expiry unless it has one.
// KEYS[1] the counter. Returns the new value.
const nextSeqScript = `
local n = redis.call('INCR', KEYS[1])
if tonumber(ARGV[1]) > 0 then
	redis.call('PEXPIRE', KEYS[1], ARGV[1], 'NX')
end
return n
`

// NextSeq increments the named counter and returns its new value, 1 for a
// new (or expired) counter, in one script. With ttl > 0 the counter expires
// ttl after the call that created it; later calls do not move the expiry
// (PEXPIRE NX), and a counter created without a ttl gets one from the first
// call that gives it. With ttl <= 0 it never expires.
func (s *Store) NextSeq(ctx context.Context, name string, ttl time.Duration) (int64, error) {
	n, err := s.nextSeq(ctx, name, ttl)
	if err != nil {
		return 0, fmt.Errorf("next seq %s: %w", name, err)
	}
	return n, nil
}

func (s *Store) nextSeq(ctx context.Context, name string, ttl time.Duration) (int64, error) {
	if err := checkKey("counter name", name); err != nil {
		return 0, err
	}
	var ms int64
	if ttl > 0 {
		px, err := pxTTL(ttl)
		if err != nil {
			return 0, err
		}
		ms = px.Milliseconds()
	}
	return s.scripts.nextSeq.Run(ctx, s.rdb, []string{s.keys.seq(name)}, ms).Int64()
}
