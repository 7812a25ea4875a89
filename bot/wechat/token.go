package wechat

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"sync"
	"time"

	"github.com/silenceper/wechat/v2/credential"

	"huimin/store"
)

// TokenCache is where every instance of one AppID keeps the shared access
// token, and the lock that stops them force-refreshing it at once.
type TokenCache interface {
	GetCache(ctx context.Context, key string) (string, error)
	SetCache(ctx context.Context, key, value string, ttl time.Duration) error
	DeleteCache(ctx context.Context, key string) error
	AcquireLock(ctx context.Context, name, owner string, ttl time.Duration) (bool, error)
	ReleaseLock(ctx context.Context, name, owner string) error
}

// tokenSource gives the SDK the access token from the shared cache. It
// fetches through the stable-token API, which hands every caller the same
// token while it is valid, so instances that miss the cache together still
// agree. Only a forced refresh (after WeChat rejected the cached token)
// invalidates the token for everyone; that runs under a store lock, and an
// instance that finds the cache already changed uses the new token.
// https://developers.weixin.qq.com/doc/offiaccount/Basic_Information/getStableAccessToken.html
type tokenSource struct {
	key, lock, owner string
	cache            TokenCache
	stable           *credential.StableAccessToken
	log              *slog.Logger
	onFetch          func()
	mu               sync.Mutex // one fetch per process at a time
}

// refreshWait bounds how long an instance waits for another to finish a
// forced refresh before it refreshes itself.
const refreshWait = 3 * time.Second

func newTokenSource(appID, secret, owner string, cache TokenCache, log *slog.Logger, onFetch func()) *tokenSource {
	return &tokenSource{
		key:     "wechat_token:" + appID,
		lock:    "wechat_token_refresh:" + appID,
		owner:   owner,
		cache:   cache,
		stable:  credential.NewStableAccessToken(appID, secret, credential.CacheKeyOfficialAccountPrefix, sdkCache{cache}).(*credential.StableAccessToken),
		log:     log,
		onFetch: onFetch,
	}
}

// GetAccessToken implements credential.AccessTokenHandle.
func (t *tokenSource) GetAccessToken() (string, error) {
	return t.GetAccessTokenContext(context.Background())
}

// GetAccessTokenContext implements credential.AccessTokenContextHandle.
func (t *tokenSource) GetAccessTokenContext(ctx context.Context) (string, error) {
	if tok, err := t.cache.GetCache(ctx, t.key); err == nil && tok != "" {
		return tok, nil
	} else if err != nil && !errors.Is(err, store.ErrNotFound) {
		return "", fmt.Errorf("read cached access token: %w", err)
	}
	t.mu.Lock()
	defer t.mu.Unlock()
	if tok, err := t.cache.GetCache(ctx, t.key); err == nil && tok != "" {
		return tok, nil
	}
	return t.fetch(ctx, false)
}

// Invalidate is called when WeChat rejected stale (40001/42001). It returns
// a token that differs from stale, refreshing it for every instance once.
func (t *tokenSource) Invalidate(ctx context.Context, stale string) (string, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	deadline := time.Now().Add(refreshWait)
	for {
		if tok, err := t.cache.GetCache(ctx, t.key); err == nil && tok != "" && tok != stale {
			return tok, nil // another instance refreshed it
		}
		ok, err := t.cache.AcquireLock(ctx, t.lock, t.owner, 10*time.Second)
		if err != nil {
			return "", fmt.Errorf("lock access token refresh: %w", err)
		}
		if ok || time.Now().After(deadline) {
			break
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(100 * time.Millisecond):
		}
	}
	defer func() {
		if err := t.cache.ReleaseLock(context.WithoutCancel(ctx), t.lock, t.owner); err != nil {
			t.log.WarnContext(ctx, "release token lock failed", "err", err)
		}
	}()
	if tok, err := t.cache.GetCache(ctx, t.key); err == nil && tok != "" && tok != stale {
		return tok, nil
	}
	// An expired token (42001) is replaced by a plain stable-token call; a
	// revoked one (40001) comes back unchanged, and only then is a forced
	// refresh, limited by WeChat to a few a day, worth spending.
	tok, err := t.fetch(ctx, false)
	if err != nil || tok != stale {
		return tok, err
	}
	return t.fetch(ctx, true)
}

func (t *tokenSource) fetch(ctx context.Context, force bool) (string, error) {
	if t.onFetch != nil {
		t.onFetch()
	}
	res, err := t.stable.GetAccessTokenDirectly(ctx, force)
	if err != nil {
		return "", fmt.Errorf("fetch access token: %w", classify("stable_token", err))
	}
	ttl := time.Duration(res.ExpiresIn)*time.Second - 5*time.Minute
	if ttl < time.Minute {
		ttl = time.Minute
	}
	if err := t.cache.SetCache(ctx, t.key, res.AccessToken, ttl); err != nil {
		return "", fmt.Errorf("cache access token: %w", err)
	}
	t.log.InfoContext(ctx, "access token fetched", "forced", force, "expires_in", res.ExpiresIn)
	return res.AccessToken, nil
}

// sdkCache adapts the store to the SDK's cache.Cache for the few things the
// SDK caches itself (JS tickets). The SDK's own Redis cache is go-redis v8
// and its memory cache races, so neither is used.
type sdkCache struct{ c TokenCache }

const sdkCacheTimeout = 2 * time.Second

func (s sdkCache) Get(key string) any {
	ctx, cancel := context.WithTimeout(context.Background(), sdkCacheTimeout)
	defer cancel()
	v, err := s.c.GetCache(ctx, key)
	if err != nil {
		return nil
	}
	return v
}

func (s sdkCache) Set(key string, val any, timeout time.Duration) error {
	str, ok := val.(string)
	if !ok {
		return fmt.Errorf("cache %s: value of type %T, want string", key, val)
	}
	ctx, cancel := context.WithTimeout(context.Background(), sdkCacheTimeout)
	defer cancel()
	return s.c.SetCache(ctx, key, str, timeout)
}

func (s sdkCache) IsExist(key string) bool { return s.Get(key) != nil }

func (s sdkCache) Delete(key string) error {
	ctx, cancel := context.WithTimeout(context.Background(), sdkCacheTimeout)
	defer cancel()
	return s.c.DeleteCache(ctx, key)
}
