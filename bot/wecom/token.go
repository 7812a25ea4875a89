package wecom

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"strconv"
	"strings"
	"sync"
	"time"

	"github.com/silenceper/wechat/v2/credential"

	"huimin/store"
)

// TokenCache is where every instance of one application keeps the shared access token, and
// the lock that lets only one of them fetch it. The store implementations satisfy it.
type TokenCache interface {
	GetCache(ctx context.Context, key string) (string, error)
	SetCache(ctx context.Context, key, value string, ttl time.Duration) error
	AcquireLock(ctx context.Context, name, owner string, ttl time.Duration) (bool, error)
	ReleaseLock(ctx context.Context, name, owner string) error
}

// gettokenURL is WeCom's token endpoint; the SDK's URL rewrite applies to it like to every
// SDK request (credential.GetTokenFromServerContext goes through util.HTTPGetContext).
const gettokenURL = "https://qyapi.weixin.qq.com/cgi-bin/gettoken?corpid=%s&corpsecret=%s"

// Lock timings: how long the fetch lock lives, how long an instance waits for another's
// fetch before fetching itself, and how often it looks.
const (
	lockTTL     = 10 * time.Second
	refreshWait = 3 * time.Second
	lockPoll    = 100 * time.Millisecond
)

// tokenSource gives the SDK the application's access token from the shared cache. WeCom's
// gettoken has no stable variant, but it returns the same token while that is valid, so the
// danger is not instances replacing each other's token; it is every instance fetching at
// once when the cache is empty or the token was rejected (40014/42001/40001). Fetches
// therefore run under a store lock, and an instance that finds a new token in the cache
// after waiting uses it.
// https://developer.work.weixin.qq.com/document/path/91039
type tokenSource struct {
	key, lock, owner string
	url, secret      string
	cache            TokenCache
	log              *slog.Logger
	onFetch          func()
	mu               sync.Mutex // one fetch per process at a time
}

func newTokenSource(opts ClientOptions, cache TokenCache, log *slog.Logger) *tokenSource {
	app := opts.CorpID + ":" + strconv.Itoa(opts.AgentID)
	return &tokenSource{
		key:     "wecom_token:" + app,
		lock:    "wecom_token_fetch:" + app,
		owner:   opts.Owner,
		url:     fmt.Sprintf(gettokenURL, url.QueryEscape(opts.CorpID), url.QueryEscape(opts.Secret)),
		secret:  opts.Secret,
		cache:   cache,
		log:     log,
		onFetch: opts.OnTokenFetch,
	}
}

// GetAccessToken implements credential.AccessTokenHandle for the SDK's calls, which take no
// context; their time limit is the HTTP client's.
func (t *tokenSource) GetAccessToken() (string, error) {
	return t.GetAccessTokenContext(context.Background())
}

// GetAccessTokenContext implements credential.AccessTokenContextHandle: the cached token, or
// a fetched one when the cache has none.
func (t *tokenSource) GetAccessTokenContext(ctx context.Context) (string, error) {
	tok, err := t.cached(ctx)
	if err != nil || tok != "" {
		return tok, err
	}
	return t.replace(ctx, "")
}

// Invalidate is called when WeCom rejected stale. It returns a token other than stale,
// fetched once for every instance.
func (t *tokenSource) Invalidate(ctx context.Context, stale string) (string, error) {
	return t.replace(ctx, stale)
}

// cached returns the cached token, or "" when there is none.
func (t *tokenSource) cached(ctx context.Context) (string, error) {
	tok, err := t.cache.GetCache(ctx, t.key)
	if errors.Is(err, store.ErrNotFound) {
		return "", nil
	}
	if err != nil {
		return "", fmt.Errorf("read cached wecom access token: %w", err)
	}
	return tok, nil
}

// replace returns a cached token other than stale ("" accepts any), fetching one under the
// store lock when there is none. An instance that cannot get the lock waits for the holder's
// token, and fetches itself after refreshWait (the holder may have died).
func (t *tokenSource) replace(ctx context.Context, stale string) (string, error) {
	t.mu.Lock()
	defer t.mu.Unlock()
	deadline := time.Now().Add(refreshWait)
	locked := false
	for {
		if tok, err := t.cached(ctx); err != nil || (tok != "" && tok != stale) {
			return tok, err
		}
		ok, err := t.cache.AcquireLock(ctx, t.lock, t.owner, lockTTL)
		if err != nil {
			return "", fmt.Errorf("lock wecom access token fetch: %w", err)
		}
		if ok {
			locked = true
			break
		}
		if time.Now().After(deadline) {
			t.log.WarnContext(ctx, "wecom token lock still held, fetching anyway", "lock", t.lock)
			break
		}
		select {
		case <-ctx.Done():
			return "", ctx.Err()
		case <-time.After(lockPoll):
		}
	}
	if locked {
		defer func() {
			if err := t.cache.ReleaseLock(context.WithoutCancel(ctx), t.lock, t.owner); err != nil {
				t.log.WarnContext(ctx, "release wecom token lock failed", "err", err)
			}
		}()
		// The lock holder before us may have just stored a new token.
		if tok, err := t.cached(ctx); err != nil || (tok != "" && tok != stale) {
			return tok, err
		}
	}
	return t.fetch(ctx)
}

// fetch calls gettoken and caches the token for its lifetime less five minutes.
func (t *tokenSource) fetch(ctx context.Context) (string, error) {
	if t.onFetch != nil {
		t.onFetch()
	}
	res, err := credential.GetTokenFromServerContext(ctx, t.url)
	if err != nil {
		return "", fmt.Errorf("fetch wecom access token: %w", redact(classify("gettoken", err), t.secret))
	}
	ttl := time.Duration(res.ExpiresIn)*time.Second - 5*time.Minute
	if ttl < time.Minute {
		ttl = time.Minute
	}
	if err := t.cache.SetCache(ctx, t.key, res.AccessToken, ttl); err != nil {
		return "", fmt.Errorf("cache wecom access token: %w", err)
	}
	t.log.InfoContext(ctx, "wecom access token fetched", "expires_in", res.ExpiresIn)
	return res.AccessToken, nil
}

// redactedError hides the corp secret, which transport errors carry in the gettoken URL
// (net/http's *url.Error, the SDK's "uri=…" texts), from every log line they reach.
type redactedError struct {
	err    error
	secret string
}

func (e *redactedError) Error() string {
	msg := e.err.Error()
	for _, s := range []string{url.QueryEscape(e.secret), e.secret} {
		if s != "" {
			msg = strings.ReplaceAll(msg, s, "***")
		}
	}
	return msg
}

func (e *redactedError) Unwrap() error { return e.err }

// redact wraps err so that its text never shows secret.
func redact(err error, secret string) error {
	if err == nil || secret == "" {
		return err
	}
	if ue, ok := errors.AsType[*url.Error](err); ok {
		ue.URL = "https://qyapi.weixin.qq.com/cgi-bin/gettoken?corpsecret=***"
	}
	return &redactedError{err: err, secret: secret}
}
