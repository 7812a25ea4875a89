package redisstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"huimin/store"
)

// bindOfficerScript binds ARGV[1] (a user ID) to ARGV[2] (an officer ID).
// KEYS[1] officer_by_user, KEYS[2] user_by_officer (see keys.go). When the
// user was the one last bound to another officer, that officer's entry
// goes.
const bindOfficerScript = `
local old = redis.call('HGET', KEYS[1], ARGV[1])
if old and old ~= ARGV[2] and redis.call('HGET', KEYS[2], old) == ARGV[1] then
	redis.call('HDEL', KEYS[2], old)
end
redis.call('HSET', KEYS[1], ARGV[1], ARGV[2])
redis.call('HSET', KEYS[2], ARGV[2], ARGV[1])
return 1
`

// checkIDs refuses empty IDs, as the embedded store must.
func checkIDs(userID, officerID string) error {
	if err := checkKey("user id", userID); err != nil {
		return err
	}
	return checkKey("officer id", officerID)
}

// BindOfficer links userID to officerID, replacing userID's earlier
// binding, and makes userID the one UserOfOfficer returns for officerID,
// in one script. When userID was the user last bound to another officer,
// that officer is left with none: a user moved to another officer must
// stop receiving the first officer's work.
func (s *Store) BindOfficer(ctx context.Context, userID, officerID string) error {
	err := checkIDs(userID, officerID)
	if err == nil {
		err = s.scripts.bindOfficer.Run(ctx, s.rdb, s.keys.bindings(), userID, officerID).Err()
	}
	if err != nil {
		return fmt.Errorf("bind officer %s to %s: %w", officerID, userID, err)
	}
	return nil
}

// OfficerByUser returns the officer bound to userID, or store.ErrNotFound.
func (s *Store) OfficerByUser(ctx context.Context, userID string) (string, error) {
	v, err := s.rdb.HGet(ctx, s.keys.bindings()[0], userID).Result()
	if errors.Is(err, goredis.Nil) {
		return "", store.ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("officer by user %s: %w", userID, err)
	}
	return v, nil
}

// UserOfOfficer returns the user ID last bound to officerID, or
// store.ErrNotFound.
func (s *Store) UserOfOfficer(ctx context.Context, officerID string) (string, error) {
	v, err := s.rdb.HGet(ctx, s.keys.bindings()[1], officerID).Result()
	if errors.Is(err, goredis.Nil) {
		return "", store.ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("user of officer %s: %w", officerID, err)
	}
	return v, nil
}

// PutBindCode stores code for officerID for ttl with SET NX;
// store.ErrExists while the code is taken.
func (s *Store) PutBindCode(ctx context.Context, code, officerID string, ttl time.Duration) error {
	px, err := pxTTL(ttl)
	if err == nil {
		err = checkKey("bind code", code)
	}
	if err == nil {
		err = checkKey("officer id", officerID)
	}
	if err == nil {
		var set bool
		set, err = s.rdb.SetNX(ctx, s.keys.bindCode(code), officerID, px).Result()
		if err == nil && !set {
			err = store.ErrExists
		}
	}
	if err != nil {
		return fmt.Errorf("put bind code: %w", err)
	}
	return nil
}

// TakeBindCode returns the code's officer ID and deletes the code with
// GETDEL, so a code works once; store.ErrNotFound when it is unknown, used
// or expired.
func (s *Store) TakeBindCode(ctx context.Context, code string) (string, error) {
	v, err := s.rdb.GetDel(ctx, s.keys.bindCode(code)).Result()
	if errors.Is(err, goredis.Nil) {
		return "", store.ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("take bind code: %w", err)
	}
	return v, nil
}

// UserFacts answers, in one round trip, what a conversation needs to know
// about a user when it begins: the officer bound to them ("" if none) and
// whether they have any ticket. LockSession fetches the same along.
func (s *Store) UserFacts(ctx context.Context, userID string) (string, bool, error) {
	officer, tickets := s.userFactsCmds(ctx, userID)
	if err := s.batch.do(ctx, officer, tickets); err != nil && !errors.Is(err, goredis.Nil) {
		return "", false, fmt.Errorf("user facts %s: %w", userID, err)
	}
	id, has, err := userFacts(officer, tickets)
	if err != nil {
		return "", false, fmt.Errorf("user facts %s: %w", userID, err)
	}
	return id, has, nil
}

// userFactsCmds are the commands that read a user's facts.
func (s *Store) userFactsCmds(ctx context.Context, userID string) (officer *goredis.StringCmd, tickets *goredis.IntCmd) {
	return goredis.NewStringCmd(ctx, "hget", s.keys.bindings()[0], userID),
		goredis.NewIntCmd(ctx, "zcard", s.keys.ticketIndex(indexCitizen, userID))
}

// userFacts reads the results of userFactsCmds.
func userFacts(officer *goredis.StringCmd, tickets *goredis.IntCmd) (string, bool, error) {
	id, err := officer.Result()
	if err != nil && !errors.Is(err, goredis.Nil) {
		return "", false, err
	}
	n, err := tickets.Result()
	if err != nil {
		return "", false, err
	}
	return id, n > 0, nil
}
