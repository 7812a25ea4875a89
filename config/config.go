// Package config loads Huimin's configuration from an optional YAML file and
// the environment (prefix HUIMIN_, "." becomes "_"), validates it, and prints
// it with secrets masked. It is the only package that imports viper.
package config

import (
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/spf13/viper"
)

// Config is the whole effective configuration.
type Config struct {
	HTTP   HTTP   `mapstructure:"http"`
	WeChat WeChat `mapstructure:"wechat"`
	Store  Store  `mapstructure:"store"`
	Redis  Redis  `mapstructure:"redis"`
	Bot    Bot    `mapstructure:"bot"`
	Outbox Outbox `mapstructure:"outbox"`
	Log    Log    `mapstructure:"log"`
}

// HTTP configures the listener.
type HTTP struct {
	Addr         string `mapstructure:"addr"`
	MaxBodyBytes int64  `mapstructure:"max_body_bytes"`
	// ShutdownTimeout bounds the wait for in-flight requests on SIGTERM.
	ShutdownTimeout time.Duration `mapstructure:"shutdown_timeout"`
}

// WeChat configures the Official Account.
type WeChat struct {
	AppID     string `mapstructure:"app_id"`
	AppSecret string `mapstructure:"app_secret"`
	Token     string `mapstructure:"token"`
	// AESKey is the EncodingAESKey; when set, safe and compatible mode work
	// and plaintext POSTs are refused.
	AESKey     string        `mapstructure:"aes_key"`
	APIBaseURL string        `mapstructure:"api_base_url"`
	APITimeout time.Duration `mapstructure:"api_timeout"`
	// ReplyBudget is how long the webhook waits for a flow's answer before
	// it answers "success" and sends the reply by customer-service message.
	ReplyBudget time.Duration `mapstructure:"reply_budget"`
	// DedupTTL is how long a delivered MsgId is remembered.
	DedupTTL time.Duration `mapstructure:"dedup_ttl"`
}

// Store selects the storage backend.
type Store struct {
	Driver string `mapstructure:"driver"` // bolt or redis
	Path   string `mapstructure:"path"`   // bolt file
}

// Redis configures go-redis's UniversalClient: one address for a single
// server, several for Cluster, MasterName for Sentinel.
type Redis struct {
	Addr       string   `mapstructure:"addr"`
	Addrs      []string `mapstructure:"addrs"`
	MasterName string   `mapstructure:"master_name"`
	Password   string   `mapstructure:"password"`
	DB         int      `mapstructure:"db"`
	Prefix     string   `mapstructure:"prefix"`
}

// Bot configures conversation handling.
type Bot struct {
	// SessionTTL is how long a conversation can be resumed after the last message.
	SessionTTL time.Duration `mapstructure:"session_ttl"`
}

// Outbox configures outbound delivery.
type Outbox struct {
	Workers      int           `mapstructure:"workers"`
	MaxAttempts  int           `mapstructure:"max_attempts"`
	PollInterval time.Duration `mapstructure:"poll_interval"`
	// Lease is how long a claimed message is hidden from other workers.
	Lease time.Duration `mapstructure:"lease"`
	// MaxBackoff caps the delay between retries.
	MaxBackoff time.Duration `mapstructure:"max_backoff"`
}

// Log configures log/slog.
type Log struct {
	Level  string `mapstructure:"level"`  // debug, info, warn, error
	Format string `mapstructure:"format"` // json or text
}

// defaults lists every key. viper's Unmarshal only sees environment
// variables for keys it knows (spf13/viper#761), so secrets get "" here.
var defaults = map[string]any{
	"http.addr":             ":8080",
	"http.max_body_bytes":   64 << 10,
	"http.shutdown_timeout": 10 * time.Second,
	"wechat.app_id":         "",
	"wechat.app_secret":     "",
	"wechat.token":          "",
	"wechat.aes_key":        "",
	"wechat.api_base_url":   "https://api.weixin.qq.com",
	"wechat.api_timeout":    5 * time.Second,
	"wechat.reply_budget":   3 * time.Second,
	"wechat.dedup_ttl":      10 * time.Minute,
	"store.driver":          "bolt",
	"store.path":            "huimin.db",
	"redis.addr":            "",
	"redis.addrs":           []string{},
	"redis.master_name":     "",
	"redis.password":        "",
	"redis.db":              0,
	"redis.prefix":          "huimin:",
	"bot.session_ttl":       30 * time.Minute,
	"outbox.workers":        4,
	"outbox.max_attempts":   12,
	"outbox.poll_interval":  time.Second,
	"outbox.lease":          30 * time.Second,
	"outbox.max_backoff":    10 * time.Minute,
	"log.level":             "info",
	"log.format":            "json",
}

// Load reads the file at path (optional: "" means environment and defaults
// only), applies the environment via getenv, and validates the result.
func Load(path string, getenv func(string) string) (Config, error) {
	v := viper.New()
	for k, val := range defaults {
		v.SetDefault(k, val)
	}
	if path != "" {
		v.SetConfigFile(path)
		if err := v.ReadInConfig(); err != nil {
			return Config{}, fmt.Errorf("read config %s: %w", path, err)
		}
	}
	// Environment: viper's AutomaticEnv reads os.Getenv; we take getenv so
	// that tests and run() can pass their own environment.
	for _, k := range v.AllKeys() {
		env := "HUIMIN_" + strings.ToUpper(strings.ReplaceAll(k, ".", "_"))
		if val := getenv(env); val != "" {
			v.Set(k, val)
		}
	}
	var c Config
	if err := v.Unmarshal(&c); err != nil {
		return Config{}, fmt.Errorf("decode config: %w", err)
	}
	// A list from the environment arrives as one comma-separated string.
	c.Redis.Addrs = splitList(strings.Join(c.Redis.Addrs, ","))
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

func splitList(s string) []string {
	var out []string
	for _, p := range strings.Split(s, ",") {
		if p = strings.TrimSpace(p); p != "" {
			out = append(out, p)
		}
	}
	return out
}

// Validate checks every key and names the first problems found, one per line.
func (c Config) Validate() error {
	var errs []error
	bad := func(key, format string, args ...any) {
		errs = append(errs, fmt.Errorf("%s: %s", key, fmt.Sprintf(format, args...)))
	}
	if c.HTTP.Addr == "" {
		bad("http.addr", "must not be empty")
	}
	if c.HTTP.MaxBodyBytes < 1024 {
		bad("http.max_body_bytes", "must be at least 1024")
	}
	if c.WeChat.AppID == "" {
		bad("wechat.app_id", "must be set")
	}
	if c.WeChat.AppSecret == "" {
		bad("wechat.app_secret", "must be set (HUIMIN_WECHAT_APP_SECRET)")
	}
	if n := len(c.WeChat.Token); n < 3 || n > 32 {
		bad("wechat.token", "must be 3 to 32 characters (HUIMIN_WECHAT_TOKEN)")
	}
	if k := c.WeChat.AESKey; k != "" && len(k) != 43 {
		bad("wechat.aes_key", "must be 43 characters")
	}
	if !strings.HasPrefix(c.WeChat.APIBaseURL, "http://") && !strings.HasPrefix(c.WeChat.APIBaseURL, "https://") {
		bad("wechat.api_base_url", "must be an http or https URL")
	}
	if c.WeChat.APITimeout <= 0 {
		bad("wechat.api_timeout", "must be positive")
	}
	if c.WeChat.ReplyBudget <= 0 || c.WeChat.ReplyBudget > 4500*time.Millisecond {
		bad("wechat.reply_budget", "must be positive and at most 4.5s (WeChat waits 5s)")
	}
	if c.WeChat.DedupTTL < 30*time.Second {
		bad("wechat.dedup_ttl", "must be at least 30s (WeChat retries for about 15s)")
	}
	switch c.Store.Driver {
	case "bolt":
		if c.Store.Path == "" {
			bad("store.path", "must be set for the bolt driver")
		}
	case "redis":
		if c.Redis.Addr == "" && len(c.Redis.Addrs) == 0 {
			bad("redis.addr", "must be set (or redis.addrs) for the redis driver")
		}
	default:
		bad("store.driver", "must be bolt or redis, not %q", c.Store.Driver)
	}
	if c.Bot.SessionTTL < time.Minute {
		bad("bot.session_ttl", "must be at least 1m")
	}
	if c.Outbox.Workers < 1 {
		bad("outbox.workers", "must be at least 1")
	}
	if c.Outbox.MaxAttempts < 1 {
		bad("outbox.max_attempts", "must be at least 1")
	}
	if c.Outbox.PollInterval <= 0 {
		bad("outbox.poll_interval", "must be positive")
	}
	if c.Outbox.Lease < time.Second {
		bad("outbox.lease", "must be at least 1s")
	}
	if c.Outbox.MaxBackoff < time.Second {
		bad("outbox.max_backoff", "must be at least 1s")
	}
	switch c.Log.Level {
	case "debug", "info", "warn", "error":
	default:
		bad("log.level", "must be debug, info, warn or error")
	}
	switch c.Log.Format {
	case "json", "text":
	default:
		bad("log.format", "must be json or text")
	}
	return errors.Join(errs...)
}

// RedisAddrs returns the addresses for go-redis's UniversalOptions.
func (r Redis) RedisAddrs() []string {
	if len(r.Addrs) > 0 {
		return r.Addrs
	}
	return []string{r.Addr}
}

// Masked returns the configuration as YAML-like text with secrets masked,
// for `huimin check-config`.
func (c Config) Masked() string {
	mask := func(s string) string {
		if s == "" {
			return `""`
		}
		if len(s) <= 4 {
			return "****"
		}
		return s[:2] + strings.Repeat("*", 6) + s[len(s)-2:]
	}
	var b strings.Builder
	w := func(format string, args ...any) { fmt.Fprintf(&b, format+"\n", args...) }
	w("http:")
	w("  addr: %s", c.HTTP.Addr)
	w("  max_body_bytes: %d", c.HTTP.MaxBodyBytes)
	w("  shutdown_timeout: %s", c.HTTP.ShutdownTimeout)
	w("wechat:")
	w("  app_id: %s", c.WeChat.AppID)
	w("  app_secret: %s", mask(c.WeChat.AppSecret))
	w("  token: %s", mask(c.WeChat.Token))
	w("  aes_key: %s", mask(c.WeChat.AESKey))
	w("  api_base_url: %s", c.WeChat.APIBaseURL)
	w("  api_timeout: %s", c.WeChat.APITimeout)
	w("  reply_budget: %s", c.WeChat.ReplyBudget)
	w("  dedup_ttl: %s", c.WeChat.DedupTTL)
	w("store:")
	w("  driver: %s", c.Store.Driver)
	w("  path: %s", c.Store.Path)
	w("redis:")
	w("  addr: %s", c.Redis.Addr)
	w("  addrs: [%s]", strings.Join(c.Redis.Addrs, ", "))
	w("  master_name: %s", c.Redis.MasterName)
	w("  password: %s", mask(c.Redis.Password))
	w("  db: %d", c.Redis.DB)
	w("  prefix: %s", c.Redis.Prefix)
	w("bot:")
	w("  session_ttl: %s", c.Bot.SessionTTL)
	w("outbox:")
	w("  workers: %d", c.Outbox.Workers)
	w("  max_attempts: %d", c.Outbox.MaxAttempts)
	w("  poll_interval: %s", c.Outbox.PollInterval)
	w("  lease: %s", c.Outbox.Lease)
	w("  max_backoff: %s", c.Outbox.MaxBackoff)
	w("log:")
	w("  level: %s", c.Log.Level)
	w("  format: %s", c.Log.Format)
	return b.String()
}
