package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	goredis "github.com/redis/go-redis/v9"
	"github.com/silenceper/wechat/v2/officialaccount/message"
)

// roundTrip is the store work of the bare+redis baseline: per message one
// pipeline, in one round trip, of the commands a stateful bot cannot do
// without — the message's de-duplication record (SET NX), its sender's
// session read (GET) and written back (SET). It is what issue 11 means by
// "one store round trip per message": the ceiling of what the service can
// reach on Redis, measured in the same run.
type roundTrip struct {
	rdb    *goredis.Client
	prefix string
	// session is what it writes back per message: about the size of a
	// conversation's session.
	session []byte
}

func newRoundTrip(addr, prefix string, pool int) *roundTrip {
	return &roundTrip{prefix: prefix, session: make([]byte, 200), rdb: goredis.NewClient(&goredis.Options{
		Addr:     addr,
		Protocol: 2,
		PoolSize: pool,
	})}
}

func (rt *roundTrip) ping(ctx context.Context) error {
	if err := rt.rdb.Ping(ctx).Err(); err != nil {
		return fmt.Errorf("redis: %w", err)
	}
	return nil
}

func (rt *roundTrip) close() { _ = rt.rdb.Close() }

// do makes msg's round trip.
func (rt *roundTrip) do(ctx context.Context, msg *message.MixMessage) error {
	sessionKey := rt.prefix + "s:" + string(msg.FromUserName)
	p := rt.rdb.Pipeline()
	p.SetNX(ctx, fmt.Sprint(rt.prefix, "d:", msg.MsgID), "1", time.Minute)
	p.Get(ctx, sessionKey)
	p.Set(ctx, sessionKey, rt.session, 10*time.Minute)
	if _, err := p.Exec(ctx); err != nil && !errors.Is(err, goredis.Nil) {
		return fmt.Errorf("redis: %w", err)
	}
	return nil
}
