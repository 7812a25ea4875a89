package redisstore

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"time"

	goredis "github.com/redis/go-redis/v9"

	"huimin/store"
)

// acquireLockScript takes or renews a lock.
// KEYS[1] lock; ARGV[1] owner, ARGV[2] ttl in ms. Returns 1 when owner holds
// the lock afterwards, else 0.
const acquireLockScript = `
local cur = redis.call('GET', KEYS[1])
if cur == false or cur == ARGV[1] then
	redis.call('SET', KEYS[1], ARGV[1], 'PX', ARGV[2])
	return 1
end
return 0
`

// releaseLockScript deletes a lock only if owner holds it.
// KEYS[1] lock; ARGV[1] owner.
const releaseLockScript = `
if redis.call('GET', KEYS[1]) == ARGV[1] then
	return redis.call('DEL', KEYS[1])
end
return 0
`

// saveSessionScript writes a session and frees its conversation lock if
// the owner still holds it. KEYS[1] lock, KEYS[2] session; ARGV[1] owner,
// ARGV[2] session JSON, ARGV[3] session ttl in ms.
const saveSessionScript = `
redis.call('SET', KEYS[2], ARGV[2], 'PX', ARGV[3])
if redis.call('GET', KEYS[1]) == ARGV[1] then
	redis.call('DEL', KEYS[1])
end
return 1
`

// getJSON decodes the value at key into dst, or returns store.ErrNotFound.
func (s *Store) getJSON(ctx context.Context, key string, dst any) error {
	// Through the queues' batcher: the runner's handlers read tickets and
	// outcomes many at a time (a morning's return visits), and one
	// pipeline carries them, as it carries their schedules.
	cmd := goredis.NewStringCmd(ctx, "get", key)
	err := s.queues.do(ctx, cmd)
	b, _ := cmd.Bytes()
	if errors.Is(err, goredis.Nil) {
		return store.ErrNotFound
	}
	if err != nil {
		return err
	}
	return json.Unmarshal(b, dst)
}

// setJSON stores v at key for ttl.
func (s *Store) setJSON(ctx context.Context, key string, v any, ttl time.Duration) error {
	px, err := pxTTL(ttl)
	if err != nil {
		return err
	}
	b, err := json.Marshal(v)
	if err != nil {
		return err
	}
	return s.rdb.Set(ctx, key, b, px).Err()
}

// GetSession returns openID's session, or store.ErrNotFound when there is
// none or it expired.
func (s *Store) GetSession(ctx context.Context, openID string) (store.Session, error) {
	var sess store.Session
	err := s.getJSON(ctx, s.keys.session(openID), &sess)
	if errors.Is(err, store.ErrNotFound) {
		return store.Session{}, err
	}
	if err != nil {
		return store.Session{}, fmt.Errorf("get session %s: %w", openID, err)
	}
	return sess, nil
}

// PutSession stores sess under sess.OpenID for ttl.
func (s *Store) PutSession(ctx context.Context, sess store.Session, ttl time.Duration) error {
	err := checkKey("openid", sess.OpenID)
	if err == nil {
		err = s.setJSON(ctx, s.keys.session(sess.OpenID), sess, ttl)
	}
	if err != nil {
		return fmt.Errorf("put session %s: %w", sess.OpenID, err)
	}
	return nil
}

// LockSession takes openID's conversation lock for owner and reads the
// session in the same round trip: SET NX GET on the lock, then GET of the
// session, in order in one pipeline, so the read follows the lock; the
// account's facts (UserFacts) come along for a new session. locked is
// false when another owner holds the lock; found is false when there is
// no session.
func (s *Store) LockSession(ctx context.Context, openID, owner string, ttl time.Duration) (sess store.Session, found, locked bool, err error) {
	l, err := s.lockCmds(ctx, openID, owner, ttl)
	if err == nil {
		err = s.batch.do(ctx, l.cmds()...)
		if errors.Is(err, goredis.Nil) {
			err = nil
		}
	}
	if err == nil {
		sess, found, locked, err = s.lockResult(ctx, l, openID, owner)
	}
	if err != nil {
		return store.Session{}, false, false, fmt.Errorf("lock session %s: %w", openID, err)
	}
	return sess, found, locked, nil
}

// BeginConversation records a delivery as BeginDelivery does and takes
// openID's conversation lock and reads the session and the account's
// facts as LockSession does, all in one pipeline: a message's first round
// trip is its only one before the flow runs. When the delivery was seen
// before (First false, or store.ErrReplayed), a lock the pipeline took is
// given back and the session is not returned.
func (s *Store) BeginConversation(ctx context.Context, key, replay string, dedupTTL time.Duration, openID, owner string, lockTTL time.Duration) (store.Begun, error) {
	b, err := s.beginConversation(ctx, key, replay, dedupTTL, openID, owner, lockTTL)
	if err != nil {
		return store.Begun{}, fmt.Errorf("begin conversation %s: %w", key, err)
	}
	return b, nil
}

func (s *Store) beginConversation(ctx context.Context, key, replay string, dedupTTL time.Duration, openID, owner string, lockTTL time.Duration) (store.Begun, error) {
	dl, err := s.deliveryCmds(ctx, key, replay, dedupTTL)
	if err != nil {
		return store.Begun{}, err
	}
	l, err := s.lockCmds(ctx, openID, owner, lockTTL)
	if err != nil {
		return store.Begun{}, err
	}
	if err := s.batch.do(ctx, append(dl.cmds(), l.cmds()...)...); err != nil && !errors.Is(err, goredis.Nil) {
		return store.Begun{}, err
	}
	d, first, err := s.deliveryResult(ctx, dl)
	if err != nil || !first {
		// Not ours to handle: the lock goes back if the pipeline took it
		// (the owner is this call's alone, so the script frees only that).
		if _, lerr := l.lock.Result(); errors.Is(lerr, goredis.Nil) {
			if uerr := s.UnlockSession(ctx, openID, owner); uerr != nil {
				err = errors.Join(err, uerr)
			}
		}
		return store.Begun{Delivery: d}, err
	}
	b := store.Begun{Delivery: d, First: true}
	b.Session, b.Found, b.Locked, err = s.lockResult(ctx, l, openID, owner)
	if err != nil {
		return store.Begun{}, fmt.Errorf("lock session %s: %w", openID, err)
	}
	return b, nil
}

// sessionLockCmds are LockSession's commands: the lock's SET NX GET, the
// session, and the account's facts.
type sessionLockCmds struct {
	lock, get, officer *goredis.StringCmd
	tickets            *goredis.IntCmd
	px                 time.Duration
}

func (l sessionLockCmds) cmds() []goredis.Cmder {
	return []goredis.Cmder{l.lock, l.get, l.officer, l.tickets}
}

func (s *Store) lockCmds(ctx context.Context, openID, owner string, ttl time.Duration) (sessionLockCmds, error) {
	px, err := pxTTL(ttl)
	if err == nil {
		err = checkKey("openid", openID)
	}
	if err != nil {
		return sessionLockCmds{}, err
	}
	l := sessionLockCmds{px: px,
		lock: goredis.NewStringCmd(ctx, "set", s.keys.sessionLock(openID), owner, "nx", "get", "px", px.Milliseconds()),
		get:  goredis.NewStringCmd(ctx, "get", s.keys.session(openID))}
	l.officer, l.tickets = s.userFactsCmds(ctx, openID)
	return l, nil
}

// lockResult reads LockSession's commands once they ran.
func (s *Store) lockResult(ctx context.Context, l sessionLockCmds, openID, owner string) (sess store.Session, found, locked bool, err error) {
	switch holder, err := l.lock.Result(); {
	case errors.Is(err, goredis.Nil): // the lock was free and is ours
	case err != nil:
		return sess, false, false, err
	case holder != owner:
		return sess, false, false, nil
	default: // already ours: renew it
		if err := s.rdb.PExpire(ctx, s.keys.sessionLock(openID), l.px).Err(); err != nil {
			return sess, false, false, err
		}
	}
	raw, err := l.get.Bytes()
	if errors.Is(err, goredis.Nil) {
		sess.BoundOfficer, sess.HasTickets, err = userFacts(l.officer, l.tickets)
		if err != nil {
			return store.Session{}, false, true, err
		}
		return sess, false, true, nil
	}
	if err == nil {
		err = json.Unmarshal(raw, &sess)
	}
	if err != nil {
		return store.Session{}, false, true, err
	}
	return sess, true, true, nil
}

// SaveSessionUnlock writes sess for ttl and frees its conversation lock if
// owner holds it, in one round trip.
func (s *Store) SaveSessionUnlock(ctx context.Context, sess store.Session, ttl time.Duration, owner string) error {
	if err := s.saveSession(ctx, sess, ttl, owner); err != nil {
		return fmt.Errorf("save session %s: %w", sess.OpenID, err)
	}
	return nil
}

// saveSession runs saveSessionScript for sess, with the commands of with
// in the same pipeline.
func (s *Store) saveSession(ctx context.Context, sess store.Session, ttl time.Duration, owner string, with ...goredis.Cmder) error {
	px, err := pxTTL(ttl)
	if err == nil {
		err = checkKey("openid", sess.OpenID)
	}
	var b []byte
	if err == nil {
		b, err = json.Marshal(sess)
	}
	if err != nil {
		return err
	}
	keys := []string{s.keys.sessionLock(sess.OpenID), s.keys.session(sess.OpenID)}
	return s.batch.scriptWith(ctx, with, s.scripts.saveSession, saveSessionScript, keys, owner, b, px.Milliseconds()).Err()
}

// EndConversation saves sess and frees owner's lock as SaveSessionUnlock
// does and records d as done as FinishDelivery does, in one pipeline: the
// session's script and the delivery's SET (they hash apart, so that they
// cannot share a script in a cluster).
func (s *Store) EndConversation(ctx context.Context, sess store.Session, ttl time.Duration, owner string, d store.Delivery, dedupTTL time.Duration) error {
	finish, err := s.finishDeliveryCmd(ctx, d, dedupTTL)
	if err == nil {
		err = s.saveSession(ctx, sess, ttl, owner, finish)
	}
	if err == nil {
		err = finish.Err()
	}
	if err != nil {
		return fmt.Errorf("end conversation %s: %w", d.Key, err)
	}
	return nil
}

// UnlockSession frees openID's conversation lock if owner holds it.
func (s *Store) UnlockSession(ctx context.Context, openID, owner string) error {
	if err := s.scripts.releaseLock.Run(ctx, s.rdb, []string{s.keys.sessionLock(openID)}, owner).Err(); err != nil {
		return fmt.Errorf("unlock session %s: %w", openID, err)
	}
	return nil
}

// DeleteSession removes openID's session; a missing one is no error.
func (s *Store) DeleteSession(ctx context.Context, openID string) error {
	if err := s.rdb.Del(ctx, s.keys.session(openID)).Err(); err != nil {
		return fmt.Errorf("delete session %s: %w", openID, err)
	}
	return nil
}

// BeginDelivery records key as being handled, in one SET NX GET: the caller
// that writes the record is first. The replay key's SET NX travels in the
// same pipeline, ahead of it: a message costs no extra round trip for it.
func (s *Store) BeginDelivery(ctx context.Context, key, replay string, ttl time.Duration) (store.Delivery, bool, error) {
	d, first, err := s.beginDelivery(ctx, key, replay, ttl)
	if err != nil {
		return store.Delivery{}, false, fmt.Errorf("begin delivery %s: %w", key, err)
	}
	return d, first, nil
}

func (s *Store) beginDelivery(ctx context.Context, key, replay string, ttl time.Duration) (store.Delivery, bool, error) {
	dl, err := s.deliveryCmds(ctx, key, replay, ttl)
	if err != nil {
		return store.Delivery{}, false, err
	}
	if err := s.batch.do(ctx, dl.cmds()...); err != nil && !errors.Is(err, goredis.Nil) {
		return store.Delivery{}, false, err
	}
	return s.deliveryResult(ctx, dl)
}

// deliveryCmds are BeginDelivery's commands: the replay key's SET NX (when
// there is one) and the record's SET NX GET.
type deliveryCmds struct {
	key  string
	d    store.Delivery
	set  *goredis.StringCmd
	seen *goredis.StatusCmd
}

func (dl deliveryCmds) cmds() []goredis.Cmder {
	if dl.seen == nil {
		return []goredis.Cmder{dl.set}
	}
	return []goredis.Cmder{dl.seen, dl.set}
}

func (s *Store) deliveryCmds(ctx context.Context, key, replay string, ttl time.Duration) (deliveryCmds, error) {
	if err := checkKey("delivery key", key); err != nil {
		return deliveryCmds{}, err
	}
	px, err := pxTTL(ttl)
	if err != nil {
		return deliveryCmds{}, err
	}
	d := store.Delivery{Key: key, CreatedAt: time.Now()}
	b, err := d.MarshalBinary()
	if err != nil {
		return deliveryCmds{}, err
	}
	dl := deliveryCmds{key: key, d: d, set: goredis.NewStringCmd(ctx, "set", s.keys.delivery(key), b, "px", px.Milliseconds(), "nx", "get")}
	if replay != "" {
		dl.seen = goredis.NewStatusCmd(ctx, "set", s.keys.replay(replay), "1", "px", px.Milliseconds(), "nx")
	}
	return dl, nil
}

// deliveryResult reads BeginDelivery's commands once they ran.
func (s *Store) deliveryResult(ctx context.Context, dl deliveryCmds) (store.Delivery, bool, error) {
	if dl.seen != nil {
		switch err := dl.seen.Err(); {
		case errors.Is(err, goredis.Nil):
			// The request was seen before. If its copy made the delivery
			// record just now, take it back: nothing may stay of a replay.
			if errors.Is(dl.set.Err(), goredis.Nil) {
				if err := s.batch.do(ctx, goredis.NewIntCmd(ctx, "del", s.keys.delivery(dl.key))); err != nil {
					return store.Delivery{}, false, fmt.Errorf("%w, and its delivery record stays: %w", store.ErrReplayed, err)
				}
			}
			return store.Delivery{}, false, store.ErrReplayed
		case err != nil:
			return store.Delivery{}, false, err
		}
	}
	old, err := dl.set.Result()
	if errors.Is(err, goredis.Nil) {
		return dl.d, true, nil // there was no record, so ours was written
	}
	if err != nil {
		return store.Delivery{}, false, err
	}
	var existing store.Delivery
	if err := existing.UnmarshalBinary([]byte(old)); err != nil {
		return store.Delivery{}, false, err
	}
	return existing, false, nil
}

// FinishDelivery stores d as done, with its reply, for ttl: one SET, since
// the caller holds the record BeginDelivery gave it and only the caller
// that got first=true (or took the delivery over) finishes a delivery.
func (s *Store) FinishDelivery(ctx context.Context, d store.Delivery, ttl time.Duration) error {
	cmd, err := s.finishDeliveryCmd(ctx, d, ttl)
	if err == nil {
		err = s.batch.do(ctx, cmd)
	}
	if err != nil {
		return fmt.Errorf("finish delivery %s: %w", d.Key, err)
	}
	return nil
}

// finishDeliveryCmd is the SET that stores d as done for ttl.
func (s *Store) finishDeliveryCmd(ctx context.Context, d store.Delivery, ttl time.Duration) (*goredis.StatusCmd, error) {
	px, err := pxTTL(ttl)
	if err == nil {
		err = checkKey("delivery key", d.Key)
	}
	var b []byte
	if err == nil {
		d.Done = true
		b, err = d.MarshalBinary()
	}
	if err != nil {
		return nil, err
	}
	return goredis.NewStatusCmd(ctx, "set", s.keys.delivery(d.Key), b, "px", px.Milliseconds()), nil
}

// ForgetDelivery removes key's record; a missing one is no error.
func (s *Store) ForgetDelivery(ctx context.Context, key string) error {
	err := checkKey("delivery key", key)
	if err == nil {
		err = s.rdb.Del(ctx, s.keys.delivery(key)).Err()
	}
	if err != nil {
		return fmt.Errorf("forget delivery %s: %w", key, err)
	}
	return nil
}

// GetDelivery returns key's record, or store.ErrNotFound when it is unknown
// or expired.
func (s *Store) GetDelivery(ctx context.Context, key string) (store.Delivery, error) {
	var d store.Delivery
	raw, err := s.rdb.Get(ctx, s.keys.delivery(key)).Bytes()
	if errors.Is(err, goredis.Nil) {
		return store.Delivery{}, store.ErrNotFound
	}
	if err == nil {
		err = d.UnmarshalBinary(raw)
	}
	if err != nil {
		return store.Delivery{}, fmt.Errorf("get delivery %s: %w", key, err)
	}
	return d, nil
}

// GetCache returns the cached value, or store.ErrNotFound.
func (s *Store) GetCache(ctx context.Context, key string) (string, error) {
	v, err := s.rdb.Get(ctx, s.keys.cache(key)).Result()
	if errors.Is(err, goredis.Nil) {
		return "", store.ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("get cache %s: %w", key, err)
	}
	return v, nil
}

// TakeCache returns the value under key and deletes it (GETDEL): one
// caller gets it.
func (s *Store) TakeCache(ctx context.Context, key string) (string, error) {
	v, err := s.rdb.GetDel(ctx, s.keys.cache(key)).Result()
	if errors.Is(err, goredis.Nil) {
		return "", store.ErrNotFound
	}
	if err != nil {
		return "", fmt.Errorf("take cache %s: %w", key, err)
	}
	return v, nil
}

// SetCache stores value under key for ttl.
func (s *Store) SetCache(ctx context.Context, key, value string, ttl time.Duration) error {
	px, err := pxTTL(ttl)
	if err == nil {
		err = checkKey("cache key", key)
	}
	if err == nil {
		err = s.rdb.Set(ctx, s.keys.cache(key), value, px).Err()
	}
	if err != nil {
		return fmt.Errorf("set cache %s: %w", key, err)
	}
	return nil
}

// DeleteCache removes key; a missing key is no error.
func (s *Store) DeleteCache(ctx context.Context, key string) error {
	if err := s.rdb.Del(ctx, s.keys.cache(key)).Err(); err != nil {
		return fmt.Errorf("delete cache %s: %w", key, err)
	}
	return nil
}

// AcquireLock takes the named lock for owner for ttl. It reports false when
// another owner holds it; the holder taking it again extends it.
func (s *Store) AcquireLock(ctx context.Context, name, owner string, ttl time.Duration) (bool, error) {
	px, err := pxTTL(ttl)
	if err == nil {
		err = checkKey("lock name", name)
	}
	if err != nil {
		return false, fmt.Errorf("acquire lock %s: %w", name, err)
	}
	got, err := s.scripts.acquireLock.Run(ctx, s.rdb, []string{s.keys.lock(name)}, owner, px.Milliseconds()).Int()
	if err != nil {
		return false, fmt.Errorf("acquire lock %s: %w", name, err)
	}
	return got == 1, nil
}

// ReleaseLock frees the named lock if owner holds it, and does nothing
// otherwise.
func (s *Store) ReleaseLock(ctx context.Context, name, owner string) error {
	if err := s.scripts.releaseLock.Run(ctx, s.rdb, []string{s.keys.lock(name)}, owner).Err(); err != nil {
		return fmt.Errorf("release lock %s: %w", name, err)
	}
	return nil
}

// PutOutcome records o under o.MessageID for ttl.
func (s *Store) PutOutcome(ctx context.Context, o store.Outcome, ttl time.Duration) error {
	err := checkKey("message id", o.MessageID)
	if err == nil {
		err = s.setJSON(ctx, s.keys.outcome(o.MessageID), o, ttl)
	}
	if err != nil {
		return fmt.Errorf("put outcome %s: %w", o.MessageID, err)
	}
	return nil
}

// GetOutcome returns messageID's outcome, or store.ErrNotFound.
func (s *Store) GetOutcome(ctx context.Context, messageID string) (store.Outcome, error) {
	var o store.Outcome
	err := s.getJSON(ctx, s.keys.outcome(messageID), &o)
	if errors.Is(err, store.ErrNotFound) {
		return store.Outcome{}, err
	}
	if err != nil {
		return store.Outcome{}, fmt.Errorf("get outcome %s: %w", messageID, err)
	}
	return o, nil
}
