package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"
)

func env(m map[string]string) func(string) string {
	return func(k string) string { return m[k] }
}

var minimal = map[string]string{
	"HUIMIN_WECHAT_APP_ID":     "wx123",
	"HUIMIN_WECHAT_APP_SECRET": "secret-value",
	"HUIMIN_WECHAT_TOKEN":      "tok123",
}

func TestLoadFromEnvironmentOnly(t *testing.T) {
	c, err := Load("", env(minimal))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if c.Store.Driver != "bolt" || c.HTTP.Addr != ":8080" || c.WeChat.ReplyBudget != 3*time.Second {
		t.Errorf("defaults not applied: %+v", c)
	}
	if c.WeChat.Token != "tok123" {
		t.Errorf("wechat.token = %q, want tok123 from HUIMIN_WECHAT_TOKEN", c.WeChat.Token)
	}
}

func TestLoadFileAndEnvOverride(t *testing.T) {
	dir := t.TempDir()
	path := filepath.Join(dir, "h.yaml")
	yaml := "http:\n  addr: \":9000\"\nstore:\n  driver: redis\nredis:\n  addrs: [\"a:1\", \"b:2\"]\nwechat:\n  app_id: wxfile\n  reply_budget: 2s\n"
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	e := map[string]string{
		"HUIMIN_WECHAT_APP_SECRET": "s",
		"HUIMIN_WECHAT_TOKEN":      "tok123",
		"HUIMIN_HTTP_ADDR":         ":9100",
		"HUIMIN_REDIS_PASSWORD":    "pw",
	}
	c, err := Load(path, env(e))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if c.HTTP.Addr != ":9100" {
		t.Errorf("http.addr = %q, want :9100 (environment beats file)", c.HTTP.Addr)
	}
	if c.WeChat.AppID != "wxfile" || c.WeChat.ReplyBudget != 2*time.Second {
		t.Errorf("file values lost: app_id %q reply_budget %s", c.WeChat.AppID, c.WeChat.ReplyBudget)
	}
	if got := strings.Join(c.Redis.RedisAddrs(), ","); got != "a:1,b:2" {
		t.Errorf("redis addrs = %q, want a:1,b:2", got)
	}
	if c.Redis.Password != "pw" {
		t.Errorf("redis.password not read from the environment")
	}
}

func TestEnvList(t *testing.T) {
	e := map[string]string{"HUIMIN_STORE_DRIVER": "redis", "HUIMIN_REDIS_ADDRS": "a:1, b:2,c:3"}
	for k, v := range minimal {
		e[k] = v
	}
	c, err := Load("", env(e))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if got := strings.Join(c.Redis.Addrs, "|"); got != "a:1|b:2|c:3" {
		t.Errorf("redis.addrs = %q, want a:1|b:2|c:3", got)
	}
}

func TestValidateNamesKeyAndProblem(t *testing.T) {
	tests := []struct {
		name, key, val, want string
	}{
		{"short aes key", "HUIMIN_WECHAT_AES_KEY", "abc", "wechat.aes_key: must be 43 characters"},
		{"driver", "HUIMIN_STORE_DRIVER", "mysql", `store.driver: must be bolt or redis, not "mysql"`},
		{"redis without addr", "HUIMIN_STORE_DRIVER", "redis", "redis.addr: must be set"},
		{"budget", "HUIMIN_WECHAT_REPLY_BUDGET", "6s", "wechat.reply_budget: must be positive and at most 4.5s"},
		{"log level", "HUIMIN_LOG_LEVEL", "loud", "log.level: must be debug, info, warn or error"},
		{"token", "HUIMIN_WECHAT_TOKEN", "x", "wechat.token: must be 3 to 32 characters"},
		{"api base", "HUIMIN_WECHAT_API_BASE_URL", "ftp://x", "wechat.api_base_url: must be an http or https URL"},
		{"oauth base", "HUIMIN_WECHAT_OAUTH_BASE_URL", "open.weixin.qq.com", "wechat.oauth_base_url: must be an http or https URL"},
		{"oauth without the page's address", "HUIMIN_SURVEY_OAUTH", "true", "survey.oauth: needs web.base_url"},
		{"desk sweep", "HUIMIN_DESK_SWEEP_INTERVAL", "100ms", "desk.sweep_interval: must be at least 1s"},
		{"clock skew", "HUIMIN_WECHAT_MAX_CLOCK_SKEW", "1s", "wechat.max_clock_skew: must be at least 30s"},
		{"nonces forgotten too soon", "HUIMIN_WECHAT_MAX_CLOCK_SKEW", "6m", "wechat.dedup_ttl: must be at least twice wechat.max_clock_skew"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e := map[string]string{}
			for k, v := range minimal {
				e[k] = v
			}
			e[tt.key] = tt.val
			_, err := Load("", env(e))
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Fatalf("Load err = %v, want it to contain %q", err, tt.want)
			}
		})
	}
	if _, err := Load("", env(nil)); err == nil || !strings.Contains(err.Error(), "wechat.app_secret: must be set") {
		t.Errorf("empty environment: err = %v, want missing wechat.app_secret named", err)
	}
	if _, err := Load("/nonexistent/h.yaml", env(minimal)); err == nil {
		t.Errorf("missing file: want an error")
	}
}

func TestMaskedHidesSecrets(t *testing.T) {
	e := map[string]string{"HUIMIN_WECHAT_AES_KEY": strings.Repeat("k", 43), "HUIMIN_REDIS_PASSWORD": "redispassword"}
	for k, v := range minimal {
		e[k] = v
	}
	c, err := Load("", env(e))
	if err != nil {
		t.Fatal(err)
	}
	out := c.Masked()
	for _, secret := range []string{"secret-value", "tok123", strings.Repeat("k", 43), "redispassword"} {
		if strings.Contains(out, secret) {
			t.Errorf("Masked() shows secret %q:\n%s", secret, out)
		}
	}
	if !strings.Contains(out, "app_id: wx123") {
		t.Errorf("Masked() hides non-secret app_id:\n%s", out)
	}
}

func TestSurveyOAuth(t *testing.T) {
	c, err := Load("", env(minimal))
	if err != nil {
		t.Fatal(err)
	}
	if c.Survey.OAuth || c.WeChat.OAuthBaseURL != "https://open.weixin.qq.com" {
		t.Errorf("defaults: survey.oauth %v, wechat.oauth_base_url %q; want off and WeChat's own", c.Survey.OAuth, c.WeChat.OAuthBaseURL)
	}
	e := map[string]string{
		"HUIMIN_SURVEY_OAUTH":          "true",
		"HUIMIN_WEB_BASE_URL":          "https://huimin.example.gov.cn",
		"HUIMIN_WECHAT_OAUTH_BASE_URL": "http://127.0.0.1:8081",
	}
	for k, v := range minimal {
		e[k] = v
	}
	if c, err = Load("", env(e)); err != nil {
		t.Fatal(err)
	}
	if !c.Survey.OAuth || c.WeChat.OAuthBaseURL != "http://127.0.0.1:8081" {
		t.Errorf("from the environment: survey.oauth %v, wechat.oauth_base_url %q", c.Survey.OAuth, c.WeChat.OAuthBaseURL)
	}
	out := c.Masked()
	for _, want := range []string{"oauth_base_url: http://127.0.0.1:8081", "oauth: true"} {
		if !strings.Contains(out, want) {
			t.Errorf("Masked() lacks %q:\n%s", want, out)
		}
	}
}

func TestExampleConfigLoads(t *testing.T) {
	if _, err := Load("huimin.example.yaml", env(minimal)); err != nil {
		t.Fatalf("the example configuration does not load: %v", err)
	}
}

func TestDeskFromFile(t *testing.T) {
	path := filepath.Join(t.TempDir(), "h.yaml")
	yaml := `desk:
  deadlines:
    relief: {help: "2h"}
  departments:
    - {id: relief, name: 社会救助科, lines: [relief], supervisor: zhao}
  officers:
    - {id: zhao, name: 赵科长, department: relief, supervisor: true, openid: oZhao}
    - {id: wang, name: 王明, department: relief, max_open: 10}
  templates:
    assignment: {id: TPL1, fields: {keyword1: ticket}}
`
	if err := os.WriteFile(path, []byte(yaml), 0o600); err != nil {
		t.Fatal(err)
	}
	c, err := Load(path, env(minimal))
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	if len(c.Desk.Departments) != 1 || len(c.Desk.Officers) != 2 || c.Desk.Officers[1].MaxOpen != 10 || !c.Desk.Officers[0].Supervisor {
		t.Errorf("directory = %+v", c.Desk)
	}
	if c.Desk.Deadlines["relief"]["help"] != "2h" || c.Desk.Deadlines["*"]["complaint"] != "13d" {
		t.Errorf("deadlines = %v, want the file's relief rule and the default rules", c.Desk.Deadlines)
	}
	if c.Desk.Templates["assignment"].Fields["keyword1"] != "ticket" {
		t.Errorf("templates = %v", c.Desk.Templates)
	}
	bad := strings.Replace(yaml, `"2h"`, `"2w"`, 1)
	bad = strings.Replace(bad, "department: relief, max_open", "department: nowhere, max_open", 1)
	if err := os.WriteFile(path, []byte(bad), 0o600); err != nil {
		t.Fatal(err)
	}
	_, err = Load(path, env(minimal))
	for _, want := range []string{"desk.deadlines.relief.help", "desk.officers[1].department: unknown department \"nowhere\""} {
		if err == nil || !strings.Contains(err.Error(), want) {
			t.Errorf("bad desk: err = %v, want it to name %s", err, want)
		}
	}
}

// TestQuietHoursOffFromEnvironment: an empty variable keeps the default,
// so "off" turns the quiet hours off from the environment.
func TestQuietHoursOffFromEnvironment(t *testing.T) {
	for v, want := range map[string]bool{"": true, "off": false, "OFF": false, "22:00-07:00": true} {
		c, err := Load("", env(map[string]string{"HUIMIN_WECHAT_APP_ID": "wx1", "HUIMIN_WECHAT_APP_SECRET": "s", "HUIMIN_WECHAT_TOKEN": "tok",
			"HUIMIN_SURVEY_QUIET_HOURS": v}))
		if err != nil {
			t.Fatalf("%q: %v", v, err)
		}
		s, e, err := c.Survey.Quiet()
		if err != nil || (s != e) != want {
			t.Errorf("HUIMIN_SURVEY_QUIET_HOURS=%q: quiet %v-%v (%v), want on=%v", v, s, e, err, want)
		}
	}
}

func TestCampaigns(t *testing.T) {
	base := "desk:\n  templates:\n    reminder: {id: tpl1, fields: {first: text}}\n    notice: {id: tpl2}\ncampaigns:\n"
	tests := []struct {
		name, yaml string
		want       string // "" for valid
	}{
		{"valid", "  rate: 5\n  list:\n  - {id: elderly, name: 高龄津贴认证, text: \"{name}您好\", lines: [elderly], schedule: \"0 10 1 3 *\", template: reminder, notice: notice}\n  - {id: winter, name: 冬季救助, text: 您好, schedule: \"@every 5s\"}\n", ""},
		{"unknown template", "  list:\n  - {id: a, name: n, text: t, schedule: \"@daily\", template: nope}\n", `campaigns.list[0].template: "nope" is not in desk.templates`},
		{"unknown notice", "  list:\n  - {id: a, name: n, text: t, schedule: \"@daily\", notice: nope}\n", `campaigns.list[0].notice: "nope" is not in desk.templates`},
		{"bad cron", "  list:\n  - {id: a, name: n, text: t, schedule: \"every day\"}\n", `campaigns.list[0].schedule: "every day" is not a cron schedule`},
		{"duplicate id", "  list:\n  - {id: a, name: n, text: t, schedule: \"@daily\"}\n  - {id: a, name: m, text: u, schedule: \"@daily\"}\n", `campaigns.list[1].id: "a" is used twice`},
		{"no text", "  list:\n  - {id: a, name: n, schedule: \"@daily\"}\n", "campaigns.list[0].text: must be set"},
		{"bad id", "  list:\n  - {id: \"A b\", name: n, text: t, schedule: \"@daily\"}\n", `campaigns.list[0].id: "A b"`},
		{"ticket holders without lines", "  list:\n  - {id: a, name: n, text: t, schedule: \"@daily\", ticket_holders: true}\n", "campaigns.list[0].ticket_holders: needs lines"},
		{"rate", "  rate: 0\n", "campaigns.rate: must be at least 1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			c, err := LoadYAML([]byte(base+tt.yaml), env(minimal))
			if tt.want == "" {
				if err != nil {
					t.Fatalf("LoadYAML: %v", err)
				}
				if c.Campaigns.Rate != 5 || len(c.Campaigns.List) != 2 || c.Campaigns.List[0].Lines[0] != "elderly" || c.Campaigns.List[1].Schedule != "@every 5s" {
					t.Errorf("campaigns = %+v", c.Campaigns)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.want) {
				t.Errorf("LoadYAML: err = %v, want it to say %q", err, tt.want)
			}
		})
	}
	c, err := Load("", env(minimal))
	if err != nil {
		t.Fatal(err)
	}
	if c.Campaigns.Rate != 20 || len(c.Campaigns.List) != 0 {
		t.Errorf("default campaigns = %+v, want rate 20 and none", c.Campaigns)
	}
}
