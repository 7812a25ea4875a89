// Package config loads Huimin's configuration from an optional YAML file and
// the environment (prefix HUIMIN_, "." becomes "_"), validates it, and prints
// it with secrets masked. It is the only package that imports viper.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"strings"
	"time"

	"github.com/robfig/cron/v3"
	"github.com/spf13/viper"
)

// Config is the whole effective configuration.
type Config struct {
	HTTP    HTTP    `mapstructure:"http"`
	WeChat  WeChat  `mapstructure:"wechat"`
	Store   Store   `mapstructure:"store"`
	Redis   Redis   `mapstructure:"redis"`
	Bot     Bot     `mapstructure:"bot"`
	Outbox  Outbox  `mapstructure:"outbox"`
	Log     Log     `mapstructure:"log"`
	Desk    Desk    `mapstructure:"desk"`
	WeCom   WeCom   `mapstructure:"wecom"`
	Web     Web     `mapstructure:"web"`
	Survey  Survey  `mapstructure:"survey"`
	Results Results `mapstructure:"results"`
	// Campaigns are the reminder campaigns (事前主动服务).
	Campaigns Campaigns `mapstructure:"campaigns"`
}

// Campaigns configures reminder campaigns: messages sent on a schedule to
// the citizens who opted in to them.
type Campaigns struct {
	// Rate is how many campaign messages the bureau sends a second, across
	// all its instances (default 20).
	Rate int        `mapstructure:"rate"`
	List []Campaign `mapstructure:"list"`
}

// Campaign is one reminder campaign.
type Campaign struct {
	ID   string `mapstructure:"id"`
	Name string `mapstructure:"name"`
	// Text is the message; {name} is replaced by the 称呼 the citizen gave
	// (nothing when unknown), so write it to read well either way.
	Text string `mapstructure:"text"`
	// Lines are the service lines the campaign relates to: a citizen who
	// finishes a matter of one of them is asked whether they want it.
	Lines []string `mapstructure:"lines"`
	// TicketHolders, when set, sends only to subscribers with a ticket of
	// one of Lines.
	TicketHolders bool `mapstructure:"ticket_holders"`
	// Schedule is a cron schedule (robfig/cron: "0 10 1 3 *", "@every
	// 5s") in desk.timezone.
	Schedule string `mapstructure:"schedule"`
	// Template names the desk.templates entry sent outside WeChat's
	// 48-hour window; empty: such citizens are skipped (and counted).
	Template string `mapstructure:"template"`
	// Notice names the desk.templates entry of a subscribe notice tried
	// when neither the chat message nor the template reached the citizen.
	Notice string `mapstructure:"notice"`
}

// Survey configures return visits (回访) and the 好差评 loop.
type Survey struct {
	// Delay, when set (3s, 10m), sends the visit that long after the
	// resolution instead of the next working day at VisitAt (demos, tests).
	Delay   time.Duration `mapstructure:"delay"`
	VisitAt string        `mapstructure:"visit_at"`
	// QuietHours ("21:00-08:00") are when no citizen is messaged; empty
	// turns them off.
	QuietHours  string        `mapstructure:"quiet_hours"`
	Expire      time.Duration `mapstructure:"expire"`
	RemindAfter time.Duration `mapstructure:"remind_after"`
	// NoAnswerLevel is recorded for a survey unanswered at expiry where
	// the province counts it (3: 基本满意); 0 records 未评价.
	NoAnswerLevel int `mapstructure:"no_answer_level"`
	VerifyDays    int `mapstructure:"verify_days"`
	// PerSecond is how many return visits the bureau sends a second,
	// across all instances (0: as they fall due): a morning's visits are
	// scheduled one after another at this rate, within WeChat's limits
	// (per account) and beside the webhook, not over it.
	PerSecond   int `mapstructure:"per_second"`
	RectifyDays int `mapstructure:"rectify_days"`
	// Secret signs the survey page's links; empty derives one from the
	// WeChat secrets (links then change when those are rotated).
	Secret string `mapstructure:"secret"`
	// OAuth makes the survey page learn who opens it through WeChat's web
	// authorisation (网页授权, scope snsapi_base), so that only the
	// ticket's citizen can answer: the account must be a verified 服务号
	// whose web authorisation domain (网页授权域名) is web.base_url's host.
	OAuth bool `mapstructure:"oauth"`
}

// Web configures the service's web pages.
type Web struct {
	// Bureau is the bureau's name in every page's header (城关区民政局).
	Bureau string `mapstructure:"bureau"`
	// BaseURL is where citizens reach the service's pages
	// (https://huimin.example.gov.cn): survey links start with it. Empty
	// sends survey template messages without a link.
	BaseURL string `mapstructure:"base_url"`
	// SessionTTL is how long a supervisor stays logged in to the web
	// pages after following a login link from chat.
	SessionTTL time.Duration `mapstructure:"session_ttl"`
}

// Desk configures the service desk: who works where, deadlines, hours.
type Desk struct {
	TicketPrefix string `mapstructure:"ticket_prefix"`
	Timezone     string `mapstructure:"timezone"`
	Hours        Hours  `mapstructure:"hours"`
	// CalendarDir holds year files (2027.yaml …) that add to or replace the
	// built-in holiday calendar; FlowsDir holds flow and knowledge-base
	// files that override the built-in ones (reloaded without a restart).
	CalendarDir string `mapstructure:"calendar_dir"`
	// EveryDay counts every day as a working day (the demo, training).
	EveryDay bool   `mapstructure:"every_day"`
	FlowsDir string `mapstructure:"flows_dir"`
	// RemindAt lists fractions of the working time at which owners are reminded.
	RemindAt         []float64 `mapstructure:"remind_at"`
	RemindLastDay    bool      `mapstructure:"remind_last_day"`
	LeaderAfterDays  int       `mapstructure:"leader_after_days"`
	MaxExtensionDays int       `mapstructure:"max_extension_days"`
	// SweepInterval is how often each instance looks for desk timers
	// (reminders, escalations, assignments) that fell due: how late at
	// most one scheduled by another instance, or before a restart, is
	// done. Timers an instance schedules itself are done when due.
	SweepInterval time.Duration `mapstructure:"sweep_interval"`
	// TimerWorkers is how many tickets' timers an instance works side by
	// side: it paces a morning's return visits against the webhook's
	// share of the machine.
	TimerWorkers int `mapstructure:"timer_workers"`
	// Deadlines by service line then inquiry type ("*" for any): "3d" is
	// three working days, "2h" two working hours.
	Deadlines map[string]map[string]string `mapstructure:"deadlines"`
	// UrgentDeadlines are the limits of urgent matters by service line
	// ("*" for any); default one working day.
	UrgentDeadlines map[string]string `mapstructure:"urgent_deadlines"`
	Departments     []Department      `mapstructure:"departments"`
	Officers        []Officer         `mapstructure:"officers"`
	// Agencies are outside agencies tickets can be transferred to.
	Agencies []Agency `mapstructure:"agencies"`
	// Windows are service windows (窗口) beyond the departments, each of
	// which is a window of its own: a street office's 民政办 that takes
	// the matters of its towns. The published results count per window.
	Windows []Window `mapstructure:"windows"`
	// ResponseLimit is how soon a ticket must be accepted ("2h" working
	// hours, "1d" working days) for the 响应率; empty leaves the 响应率
	// out of the results.
	ResponseLimit string `mapstructure:"response_limit"`
	// Supervision is the department of the bureau's supervision office
	// (监督室, 纪检): complaints and reports go to its chief, and only its
	// members see a reporter's identity. Empty: complaints go to the
	// chief of the department concerned and reporters are known to the
	// bureau leader only.
	Supervision string `mapstructure:"supervision"`
	// HelpLines are the 24-hour help numbers a citizen in urgent need is
	// told at once (救助管理站, 110, 120), in this order.
	HelpLines []HelpLine `mapstructure:"help_lines"`
	// Templates are the WeChat template messages sent when a chat message
	// cannot be (outside the 48-hour window), by notice kind.
	Templates map[string]Template `mapstructure:"templates"`
	// Retention is how long the personal data of a finished ticket is
	// kept after it was archived (closed; resolved and never closed: after
	// its resolution): default three years, 26280h. The consent notice
	// tells citizens this. A Go duration: hours are its largest unit.
	Retention time.Duration `mapstructure:"retention"`
	// RetentionSweep is the cron schedule on which each instance erases
	// the personal data of the tickets past Retention (safe to run on
	// every instance at once).
	RetentionSweep string `mapstructure:"retention_sweep"`
}

// HelpLine is a round-the-clock help number.
type HelpLine struct {
	Name  string `mapstructure:"name"`
	Phone string `mapstructure:"phone"`
}

// Hours are the bureau's working hours, "08:30" style.
type Hours struct {
	Start      string `mapstructure:"start"`
	End        string `mapstructure:"end"`
	LunchStart string `mapstructure:"lunch_start"`
	LunchEnd   string `mapstructure:"lunch_end"`
}

// Department is a section and the service lines it owns.
type Department struct {
	ID         string   `mapstructure:"id"`
	Name       string   `mapstructure:"name"`
	Lines      []string `mapstructure:"lines"`
	Supervisor string   `mapstructure:"supervisor"`
	Contact    `mapstructure:",squash"`
}

// Contact is how citizens reach an office (一次性告知: every answer that
// sends them somewhere says where, when and how). Empty fields are left out
// of what citizens read; nothing is invented.
type Contact struct {
	Address string `mapstructure:"address"`
	Hours   string `mapstructure:"hours"`
	Phone   string `mapstructure:"phone"`
}

// Agency is an outside agency that some matters belong to (退役军人事务局,
// 司法调解, …): an officer transfers a ticket to it, and the citizen is told
// where it went and how to reach it.
type Agency struct {
	ID      string   `mapstructure:"id"`
	Name    string   `mapstructure:"name"`
	Lines   []string `mapstructure:"lines"`
	Contact `mapstructure:",squash"`
}

// Window is a service window (窗口单位): tickets of its departments (all,
// when none is listed) whose citizen's 街道（镇） answer names one of its
// towns count under it; with no towns, every ticket of its departments
// does.
type Window struct {
	ID          string   `mapstructure:"id"`
	Name        string   `mapstructure:"name"`
	Departments []string `mapstructure:"departments"`
	Towns       []string `mapstructure:"towns"`
	Contact     `mapstructure:",squash"`
}

// Results configures the published satisfaction results (/results).
type Results struct {
	// ShowOfficers names officers in the public results; off, they are
	// counted but not named.
	ShowOfficers bool `mapstructure:"show_officers"`
	// MinAnswers is how many answered surveys a rate needs to be shown;
	// fewer show 样本不足.
	MinAnswers int `mapstructure:"min_answers"`
	// Refresh is the cron schedule on which the public page is computed
	// again (robfig/cron syntax, "@every 10m").
	Refresh string `mapstructure:"refresh"`
	// Months is how many months the public page shows, the current one
	// included.
	Months int `mapstructure:"months"`
}

// Officer is a member of staff.
type Officer struct {
	ID         string `mapstructure:"id"`
	Name       string `mapstructure:"name"`
	Department string `mapstructure:"department"`
	OpenID     string `mapstructure:"openid"`
	WeComUser  string `mapstructure:"wecom_user"`
	MaxOpen    int    `mapstructure:"max_open"`
	Supervisor bool   `mapstructure:"supervisor"`
	Leader     bool   `mapstructure:"leader"`
}

// Template is a WeChat template message and its field mapping.
type Template struct {
	ID     string            `mapstructure:"id"`
	Fields map[string]string `mapstructure:"fields"`
}

// WeCom configures the WeCom (企业微信) application officers may use.
type WeCom struct {
	CorpID  string `mapstructure:"corp_id"`
	Secret  string `mapstructure:"secret"`
	AgentID int    `mapstructure:"agent_id"`
	Token   string `mapstructure:"token"`
	AESKey  string `mapstructure:"aes_key"`
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
	// OAuthBaseURL is where WeChat's web authorisation page lives
	// (open.weixin.qq.com); the simulator and tests point it elsewhere.
	OAuthBaseURL string `mapstructure:"oauth_base_url"`
	// ReplyBudget is how long the webhook waits for a flow's answer before
	// it answers "success" and sends the reply by customer-service message.
	ReplyBudget time.Duration `mapstructure:"reply_budget"`
	// DedupTTL is how long a delivered MsgId is remembered, and a request's
	// timestamp and nonce with it (at least twice MaxClockSkew).
	DedupTTL time.Duration `mapstructure:"dedup_ttl"`
	// MaxClockSkew is how far a request's signed timestamp may be from the
	// clock, for WeChat's and WeCom's callbacks: an older request is a
	// replay and is refused (403).
	MaxClockSkew time.Duration `mapstructure:"max_clock_skew"`
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
	// PoolSize is the connections per Redis node. Each message takes a few
	// round trips, so a pool near the number of concurrent webhook
	// requests keeps them from queueing for a connection.
	PoolSize int `mapstructure:"pool_size"`
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
	"http.addr":               ":8080",
	"http.max_body_bytes":     64 << 10,
	"http.shutdown_timeout":   10 * time.Second,
	"wechat.app_id":           "",
	"wechat.app_secret":       "",
	"wechat.token":            "",
	"wechat.aes_key":          "",
	"wechat.api_base_url":     "https://api.weixin.qq.com",
	"wechat.api_timeout":      5 * time.Second,
	"wechat.oauth_base_url":   "https://open.weixin.qq.com",
	"wechat.reply_budget":     3 * time.Second,
	"wechat.dedup_ttl":        10 * time.Minute,
	"wechat.max_clock_skew":   5 * time.Minute,
	"store.driver":            "bolt",
	"store.path":              "huimin.db",
	"redis.addr":              "",
	"redis.addrs":             []string{},
	"redis.master_name":       "",
	"redis.password":          "",
	"redis.db":                0,
	"redis.prefix":            "huimin:",
	"bot.session_ttl":         30 * time.Minute,
	"outbox.workers":          4,
	"outbox.max_attempts":     12,
	"outbox.poll_interval":    time.Second,
	"outbox.lease":            30 * time.Second,
	"outbox.max_backoff":      10 * time.Minute,
	"log.level":               "info",
	"log.format":              "json",
	"web.bureau":              "",
	"web.base_url":            "",
	"web.session_ttl":         8 * time.Hour,
	"survey.delay":            time.Duration(0),
	"survey.visit_at":         "10:00",
	"survey.quiet_hours":      "21:00-08:00",
	"survey.expire":           7 * 24 * time.Hour,
	"survey.remind_after":     24 * time.Hour,
	"survey.no_answer_level":  0,
	"survey.verify_days":      1,
	"survey.rectify_days":     5,
	"survey.per_second":       20,
	"survey.secret":           "",
	"survey.oauth":            false,
	"campaigns.rate":          20,
	"results.show_officers":   false,
	"results.min_answers":     10,
	"results.refresh":         "@every 10m",
	"results.months":          12,
	"desk.response_limit":     "",
	"desk.ticket_prefix":      "MZ",
	"desk.timezone":           "Asia/Shanghai",
	"desk.hours.start":        "08:30",
	"desk.hours.end":          "17:30",
	"desk.hours.lunch_start":  "12:00",
	"desk.hours.lunch_end":    "13:30",
	"desk.calendar_dir":       "",
	"desk.every_day":          false,
	"desk.flows_dir":          "",
	"desk.remind_at":          []float64{0.75},
	"desk.remind_last_day":    true,
	"desk.leader_after_days":  2,
	"desk.max_extension_days": 15,
	"desk.sweep_interval":     5 * time.Second,
	"desk.timer_workers":      4,
	"desk.retention":          3 * 365 * 24 * time.Hour,
	"desk.retention_sweep":    "@daily",
	"wecom.corp_id":           "",
	"wecom.secret":            "",
	"wecom.agent_id":          0,
	"wecom.token":             "",
	"wecom.aes_key":           "",
}

// Load reads the file at path (optional: "" means environment and defaults
// only), applies the environment via getenv, and validates the result.
func Load(path string, getenv func(string) string) (Config, error) {
	v := newViper()
	if path != "" {
		v.SetConfigFile(path)
		if err := v.ReadInConfig(); err != nil {
			return Config{}, fmt.Errorf("read config %s: %w", path, err)
		}
	}
	return load(v, getenv)
}

// LoadYAML is Load for a configuration held in memory (the demo's).
func LoadYAML(data []byte, getenv func(string) string) (Config, error) {
	v := newViper()
	v.SetConfigType("yaml")
	if err := v.ReadConfig(bytes.NewReader(data)); err != nil {
		return Config{}, fmt.Errorf("read config: %w", err)
	}
	return load(v, getenv)
}

func newViper() *viper.Viper {
	v := viper.New()
	for k, val := range defaults {
		v.SetDefault(k, val)
	}
	return v
}

func load(v *viper.Viper, getenv func(string) string) (Config, error) {
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
	c.Desk.Deadlines = withDefaultDeadlines(c.Desk.Deadlines)
	// A list from the environment arrives as one comma-separated string.
	c.Redis.Addrs = splitList(strings.Join(c.Redis.Addrs, ","))
	if err := c.Validate(); err != nil {
		return Config{}, err
	}
	return c, nil
}

// defaultDeadlines are the published general rules: 咨询/求助 3 working
// days, 投诉/举报/建议 13, anything else 7. A file's desk.deadlines adds to
// them and overrides them entry by entry (viper would replace the whole map).
var defaultDeadlines = map[string]string{"consult": "3d", "help": "3d", "complaint": "13d", "report": "13d", "suggestion": "13d", "*": "7d"}

func withDefaultDeadlines(m map[string]map[string]string) map[string]map[string]string {
	if m == nil {
		m = map[string]map[string]string{}
	}
	if m["*"] == nil {
		m["*"] = map[string]string{}
	}
	for q, v := range defaultDeadlines {
		if _, ok := m["*"][q]; !ok {
			m["*"][q] = v
		}
	}
	return m
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
	if !strings.HasPrefix(c.WeChat.OAuthBaseURL, "http://") && !strings.HasPrefix(c.WeChat.OAuthBaseURL, "https://") {
		bad("wechat.oauth_base_url", "must be an http or https URL")
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
	switch {
	case c.WeChat.MaxClockSkew < 30*time.Second:
		bad("wechat.max_clock_skew", "must be at least 30s (WeChat retries for about 15s)")
	case c.WeChat.DedupTTL < 2*c.WeChat.MaxClockSkew:
		bad("wechat.dedup_ttl", "must be at least twice wechat.max_clock_skew, so that a request is remembered as long as its timestamp is accepted")
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
	c.Desk.validate(bad)
	c.Survey.validate(bad)
	c.Campaigns.validate(c.Desk.Templates, bad)
	if c.Results.MinAnswers < 1 {
		bad("results.min_answers", "must be at least 1")
	}
	if c.Results.Months < 1 || c.Results.Months > 36 {
		bad("results.months", "must be 1 to 36")
	}
	if strings.TrimSpace(c.Results.Refresh) == "" {
		bad("results.refresh", "must be a cron schedule such as @every 10m")
	}
	if u := c.Web.BaseURL; u != "" && !strings.HasPrefix(u, "http://") && !strings.HasPrefix(u, "https://") {
		bad("web.base_url", "must be an http or https URL")
	}
	if c.Web.SessionTTL < time.Minute || c.Web.SessionTTL > 7*24*time.Hour {
		bad("web.session_ttl", "must be between 1m and 168h")
	}
	if c.Survey.OAuth && c.Web.BaseURL == "" {
		bad("survey.oauth", "needs web.base_url: WeChat sends the citizen back to the survey page there")
	}
	if c.WeCom.CorpID != "" {
		if c.WeCom.Secret == "" || c.WeCom.AgentID == 0 || c.WeCom.Token == "" {
			bad("wecom", "corp_id is set, so secret, agent_id and token must be too")
		}
		if len(c.WeCom.AESKey) != 43 {
			bad("wecom.aes_key", "must be 43 characters")
		}
	}
	return errors.Join(errs...)
}

func (cs Campaigns) validate(templates map[string]Template, bad func(key, format string, args ...any)) {
	if cs.Rate < 1 {
		bad("campaigns.rate", "must be at least 1 message a second")
	}
	seen := map[string]bool{}
	for i, c := range cs.List {
		key := fmt.Sprintf("campaigns.list[%d]", i)
		switch {
		case c.ID == "":
			bad(key+".id", "must be set")
		case strings.Trim(c.ID, "abcdefghijklmnopqrstuvwxyz0123456789_-") != "":
			bad(key+".id", "%q: use lower-case letters, digits, _ and -", c.ID)
		case seen[c.ID]:
			bad(key+".id", "%q is used twice", c.ID)
		}
		seen[c.ID] = true
		if strings.TrimSpace(c.Name) == "" {
			bad(key+".name", "must be set")
		}
		if strings.TrimSpace(c.Text) == "" {
			bad(key+".text", "must be set")
		}
		if _, err := cron.ParseStandard(c.Schedule); err != nil {
			bad(key+".schedule", "%q is not a cron schedule: %v", c.Schedule, err)
		}
		if c.TicketHolders && len(c.Lines) == 0 {
			bad(key+".ticket_holders", "needs lines: the service lines whose tickets count")
		}
		for _, t := range []struct{ field, name string }{{"template", c.Template}, {"notice", c.Notice}} {
			if _, ok := templates[t.name]; t.name != "" && !ok {
				bad(key+"."+t.field, "%q is not in desk.templates", t.name)
			}
		}
	}
}

func (s Survey) validate(bad func(key, format string, args ...any)) {
	if s.Delay < 0 {
		bad("survey.delay", "must not be negative")
	}
	if _, err := ParseClock(s.VisitAt); err != nil {
		bad("survey.visit_at", "%v", err)
	}
	if _, _, err := s.Quiet(); err != nil {
		bad("survey.quiet_hours", "%v", err)
	}
	if s.Expire < time.Hour {
		bad("survey.expire", "must be at least 1h")
	}
	if s.RemindAfter < 0 {
		bad("survey.remind_after", "must not be negative (0: no reminder)")
	}
	if s.PerSecond < 0 {
		bad("survey.per_second", "must not be negative (0: not paced)")
	}
	if s.NoAnswerLevel < 0 || s.NoAnswerLevel > 5 {
		bad("survey.no_answer_level", "must be 0 (未评价) or a level 1-5")
	}
	if s.VerifyDays < 1 || s.RectifyDays < 1 {
		bad("survey.verify_days", "verify_days and rectify_days must be at least 1")
	}
}

// Quiet returns the quiet hours as offsets from midnight; both zero when
// there are none.
func (s Survey) Quiet() (start, end time.Duration, err error) {
	// "off" says the same as empty where empty cannot be said: an empty
	// environment variable leaves the key at its default.
	if q := strings.TrimSpace(s.QuietHours); q == "" || strings.EqualFold(q, "off") {
		return 0, 0, nil
	}
	a, b, ok := strings.Cut(s.QuietHours, "-")
	if !ok {
		return 0, 0, fmt.Errorf("%q is not HH:MM-HH:MM", s.QuietHours)
	}
	if start, err = ParseClock(strings.TrimSpace(a)); err == nil {
		end, err = ParseClock(strings.TrimSpace(b))
	}
	return start, end, err
}

// ParseClock reads a time of day, "10:00", as an offset from midnight.
func ParseClock(s string) (time.Duration, error) {
	t, err := time.Parse("15:04", s)
	if err != nil {
		return 0, fmt.Errorf("%q is not a time of day (HH:MM)", s)
	}
	return time.Duration(t.Hour())*time.Hour + time.Duration(t.Minute())*time.Minute, nil
}

func (d Desk) validate(bad func(key, format string, args ...any)) {
	if _, err := time.LoadLocation(d.Timezone); err != nil {
		bad("desk.timezone", "unknown time zone %q", d.Timezone)
	}
	for _, f := range d.RemindAt {
		if f <= 0 || f >= 1 {
			bad("desk.remind_at", "fractions must be between 0 and 1, not %g", f)
		}
	}
	if d.TimerWorkers < 1 {
		bad("desk.timer_workers", "must be at least 1")
	}
	if d.SweepInterval < time.Second {
		bad("desk.sweep_interval", "must be at least 1s (how often desk timers that fell due are looked for)")
	}
	if d.Retention < 24*time.Hour {
		// Erasing is for good: a zero, a negative value or a unit slip
		// ("3h" for three years) must not wipe the tickets of the day.
		bad("desk.retention", "must be at least 24h (how long personal data of a finished ticket is kept; 26280h is three years), not %v", d.Retention)
	}
	if strings.TrimSpace(d.RetentionSweep) == "" {
		bad("desk.retention_sweep", "must be a cron schedule such as @daily")
	}
	for line, v := range d.UrgentDeadlines {
		if _, _, err := ParseLimit(v); err != nil {
			bad(fmt.Sprintf("desk.urgent_deadlines.%s", line), "%v", err)
		}
	}
	for line, m := range d.Deadlines {
		for q, v := range m {
			if _, _, err := ParseLimit(v); err != nil {
				bad(fmt.Sprintf("desk.deadlines.%s.%s", line, q), "%v", err)
			}
		}
	}
	depts := map[string]bool{}
	for i, dp := range d.Departments {
		if dp.ID == "" || dp.Name == "" {
			bad(fmt.Sprintf("desk.departments[%d]", i), "needs id and name")
		}
		depts[dp.ID] = true
	}
	officers := map[string]bool{}
	for i, o := range d.Officers {
		if o.ID == "" || o.Name == "" {
			bad(fmt.Sprintf("desk.officers[%d]", i), "needs id and name")
		}
		if !depts[o.Department] && !o.Leader {
			bad(fmt.Sprintf("desk.officers[%d].department", i), "unknown department %q", o.Department)
		}
		officers[o.ID] = true
	}
	for i, dp := range d.Departments {
		if dp.Supervisor != "" && !officers[dp.Supervisor] {
			bad(fmt.Sprintf("desk.departments[%d].supervisor", i), "unknown officer %q", dp.Supervisor)
		}
	}
	if d.Supervision != "" && !depts[d.Supervision] {
		bad("desk.supervision", "unknown department %q", d.Supervision)
	}
	for i, h := range d.HelpLines {
		if strings.TrimSpace(h.Name) == "" || strings.TrimSpace(h.Phone) == "" {
			bad(fmt.Sprintf("desk.help_lines[%d]", i), "needs name and phone")
		}
	}
	for i, a := range d.Agencies {
		if a.ID == "" || a.Name == "" {
			bad(fmt.Sprintf("desk.agencies[%d]", i), "needs id and name")
		}
		if depts[a.ID] {
			bad(fmt.Sprintf("desk.agencies[%d].id", i), "%q is also a department", a.ID)
		}
	}
	windows := map[string]bool{}
	for i, w := range d.Windows {
		key := fmt.Sprintf("desk.windows[%d]", i)
		switch {
		case w.ID == "" || w.Name == "":
			bad(key, "needs id and name")
		case depts[w.ID]:
			bad(key+".id", "%q is also a department (every department is a window of its own)", w.ID)
		case windows[w.ID]:
			bad(key+".id", "%q is listed twice", w.ID)
		}
		windows[w.ID] = true
		for _, dp := range w.Departments {
			if !depts[dp] {
				bad(key+".departments", "unknown department %q", dp)
			}
		}
		for _, t := range w.Towns {
			if strings.TrimSpace(t) == "" {
				bad(key+".towns", "a town must not be empty")
			}
		}
	}
	if d.ResponseLimit != "" {
		if _, _, err := ParseLimit(d.ResponseLimit); err != nil {
			bad("desk.response_limit", "%v", err)
		}
	}
}

// ParseLimit reads a deadline: "3d" (working days) or "2h" (working hours).
func ParseLimit(s string) (days, hours int, err error) {
	var n int
	var unit string
	if _, err := fmt.Sscanf(s, "%d%s", &n, &unit); err != nil || n <= 0 {
		return 0, 0, fmt.Errorf("%q: want a positive number of working days (3d) or hours (2h)", s)
	}
	switch unit {
	case "d":
		return n, 0, nil
	case "h":
		return 0, n, nil
	}
	return 0, 0, fmt.Errorf("%q: unit must be d (working days) or h (working hours)", s)
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
	w("  oauth_base_url: %s", c.WeChat.OAuthBaseURL)
	w("  reply_budget: %s", c.WeChat.ReplyBudget)
	w("  dedup_ttl: %s", c.WeChat.DedupTTL)
	w("  max_clock_skew: %s", c.WeChat.MaxClockSkew)
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
	w("  pool_size: %d", c.Redis.PoolSize)
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
	w("desk:")
	w("  ticket_prefix: %s", c.Desk.TicketPrefix)
	w("  timezone: %s", c.Desk.Timezone)
	w("  hours: %s-%s (lunch %s-%s)", c.Desk.Hours.Start, c.Desk.Hours.End, c.Desk.Hours.LunchStart, c.Desk.Hours.LunchEnd)
	w("  calendar_dir: %s", c.Desk.CalendarDir)
	w("  flows_dir: %s", c.Desk.FlowsDir)
	w("  remind_at: %v  remind_last_day: %v  leader_after_days: %d  sweep_interval: %s", c.Desk.RemindAt, c.Desk.RemindLastDay, c.Desk.LeaderAfterDays, c.Desk.SweepInterval)
	w("  departments: %d  officers: %d  templates: %d  windows: %d", len(c.Desk.Departments), len(c.Desk.Officers), len(c.Desk.Templates), len(c.Desk.Windows))
	w("  response_limit: %s", c.Desk.ResponseLimit)
	w("  retention: %s  retention_sweep: %s", c.Desk.Retention, c.Desk.RetentionSweep)
	w("web:")
	w("  bureau: %s", c.Web.Bureau)
	w("  base_url: %s", c.Web.BaseURL)
	w("  session_ttl: %s", c.Web.SessionTTL)
	w("survey:")
	w("  delay: %s  visit_at: %s  quiet_hours: %s", c.Survey.Delay, c.Survey.VisitAt, c.Survey.QuietHours)
	w("  expire: %s  remind_after: %s  no_answer_level: %d", c.Survey.Expire, c.Survey.RemindAfter, c.Survey.NoAnswerLevel)
	w("  verify_days: %d  rectify_days: %d  secret: %s", c.Survey.VerifyDays, c.Survey.RectifyDays, mask(c.Survey.Secret))
	w("  oauth: %v", c.Survey.OAuth)
	w("results:")
	w("  show_officers: %v  min_answers: %d  months: %d  refresh: %s", c.Results.ShowOfficers, c.Results.MinAnswers, c.Results.Months, c.Results.Refresh)
	w("campaigns:")
	w("  rate: %d", c.Campaigns.Rate)
	for _, cp := range c.Campaigns.List {
		w("  - id: %s  schedule: %s  lines: %v  template: %s  notice: %s", cp.ID, cp.Schedule, cp.Lines, cp.Template, cp.Notice)
	}
	w("wecom:")
	w("  corp_id: %s", c.WeCom.CorpID)
	w("  agent_id: %d", c.WeCom.AgentID)
	w("  secret: %s", mask(c.WeCom.Secret))
	w("  token: %s", mask(c.WeCom.Token))
	w("  aes_key: %s", mask(c.WeCom.AESKey))
	return b.String()
}
