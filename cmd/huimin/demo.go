package main

import (
	"context"
	_ "embed"
	"errors"
	"flag"
	"fmt"
	"io"
	"log/slog"
	"net"
	"net/http"
	"time"

	"huimin/config"
	"huimin/sim"
)

// Demo credentials: the simulator and the service share them. They are
// not secrets: they only ever talk to the local simulator.
const (
	demoAppID     = sim.DefaultAppID
	demoAppSecret = sim.DefaultAppSecret
	demoToken     = sim.DefaultToken
	demoAESKey    = "aHVpbWluRGVtb0FFU0tleUZvclNpbXVsYXRvck9ubHk"
)

//go:embed demo.yaml
var demoYAML []byte

// Demo WeCom application, played by the simulator.
const (
	demoCorpID   = "wwhuimindemo00000"
	demoCorpSec  = "demo-wecom-secret"
	demoAgentID  = 1000002
	demoWeComTok = "huiminwecomtoken"
	demoWeComKey = "d2VDb21EZW1vQUVTS2V5Rm9yU2ltdWxhdG9yT25seTE"
)

func demoCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("demo", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:8080", "address of the service")
	simAddr := fs.String("sim-addr", "127.0.0.1:8081", "address of the WeChat simulator and its chat page")
	data := fs.String("data", "huimin-demo.db", "embedded store file")
	mode := fs.String("mode", sim.ModeSafe, "message mode: plain, compatible or safe")
	if err := fs.Parse(args); err != nil {
		return err
	}
	aesKey := demoAESKey
	if *mode == sim.ModePlain {
		aesKey = ""
	}
	simLn, err := net.Listen("tcp", *simAddr)
	if err != nil {
		return fmt.Errorf("listen for the simulator on %s: %w", *simAddr, err)
	}
	simURL := "http://" + simLn.Addr().String()

	env := map[string]string{
		"HUIMIN_HTTP_ADDR":           *addr,
		"HUIMIN_WECHAT_APP_ID":       demoAppID,
		"HUIMIN_WECHAT_APP_SECRET":   demoAppSecret,
		"HUIMIN_WECHAT_TOKEN":        demoToken,
		"HUIMIN_WECHAT_AES_KEY":      aesKey,
		"HUIMIN_WECHAT_API_BASE_URL": simURL,
		"HUIMIN_STORE_DRIVER":        "bolt",
		"HUIMIN_STORE_PATH":          *data,
		"HUIMIN_WECOM_CORP_ID":       demoCorpID,
		"HUIMIN_WECOM_SECRET":        demoCorpSec,
		"HUIMIN_WECOM_AGENT_ID":      fmt.Sprint(demoAgentID),
		"HUIMIN_WECOM_TOKEN":         demoWeComTok,
		"HUIMIN_WECOM_AES_KEY":       demoWeComKey,
		"HUIMIN_WEB_BASE_URL":        "http://" + *addr,

		// The simulator plays WeChat's authorize page too (survey.oauth,
		// off unless HUIMIN_SURVEY_OAUTH=true).
		"HUIMIN_WECHAT_OAUTH_BASE_URL": simURL,
	}
	cfg, err := config.LoadYAML(demoYAML, func(k string) string {
		if v, ok := env[k]; ok {
			return v
		}
		return getenv(k) // HUIMIN_LOG_LEVEL and the like still apply
	})
	if err != nil {
		_ = simLn.Close()
		return err
	}
	log := newLogger(cfg.Log, stderr)

	presets, wecomPresets := demoPresets(cfg.Desk)
	var oauthDomains []string // 网页授权域名: the service's host
	if h, _, err := net.SplitHostPort(*addr); err == nil && h != "" {
		oauthDomains = []string{h}
	}
	simulator := sim.New(sim.Options{
		AppID: demoAppID, AppSecret: demoAppSecret, Token: demoToken, AESKey: aesKey, Mode: *mode,
		WebhookURL: "http://" + *addr + "/wechat",
		Log:        log.With("component", "sim"),
		CorpID:     demoCorpID, CorpSecret: demoCorpSec, AgentID: demoAgentID,
		WeComToken: demoWeComTok, WeComAESKey: demoWeComKey,
		WeComWebhookURL: "http://" + *addr + "/wecom",
		WeComPresets:    wecomPresets,
		Presets:         presets,
		OAuthDomains:    oauthDomains,
	})
	defer simulator.Close()
	simSrv := &http.Server{Handler: simulator.Handler(), ReadHeaderTimeout: 5 * time.Second}
	go func() {
		if err := simSrv.Serve(simLn); err != nil && !errors.Is(err, http.ErrServerClosed) {
			log.Error("simulator stopped", "err", err)
		}
	}()
	defer func() {
		sctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
		defer cancel()
		_ = simSrv.Shutdown(sctx)
	}()

	ready := make(chan string, 1)
	go func() {
		select {
		case a := <-ready:
			fmt.Fprintf(stdout, "\n  惠民 demo is running (%s mode, store %s).\n", *mode, *data)
			fmt.Fprintf(stdout, "  Open the WeChat simulator and chat as a citizen:  %s/\n", simURL)
			fmt.Fprintf(stdout, "  Service: http://%s  (webhook /wechat, /healthz, /readyz, /metrics)\n", a)
			fmt.Fprintf(stdout, "  Return visits go out %s after 办结 (survey.delay).\n", cfg.Survey.Delay)
			fmt.Fprintf(stdout, "  Published results: http://%s/results  ·  chiefs send 登录 in chat for the web desk.\n", a)
			if cfg.Survey.OAuth {
				fmt.Fprintf(stdout, "  Survey links ask the simulator's WeChat who opens them (survey.oauth): choose the user there.\n")
			}
			fmt.Fprintf(stdout, "  Press Ctrl+C to stop.\n\n")
		case <-ctx.Done():
		}
	}()
	return serve(ctx, cfg, log, ready)
}

// demoPresets are the simulator's ready-made users (huimin demo, and
// huimin sim --config): three citizens, then every officer of the
// configuration under their name and department (WeChat officers by
// openid, WeCom officers by their WeCom user).
func demoPresets(c config.Desk) (wechat, wecom []sim.Preset) {
	for i := 1; i <= 3; i++ {
		id := fmt.Sprintf("citizen-%03d", i)
		wechat = append(wechat, sim.Preset{OpenID: id, Label: "居民 " + id})
	}
	depts := map[string]string{}
	for _, dp := range c.Departments {
		depts[dp.ID] = dp.Name
	}
	for _, o := range c.Officers {
		label := o.Name
		if name := depts[o.Department]; name != "" && !o.Leader {
			label += "（" + name + "）"
		}
		switch {
		case o.WeComUser != "":
			wecom = append(wecom, sim.Preset{OpenID: o.WeComUser, Label: label + " " + o.WeComUser})
		case o.OpenID != "":
			wechat = append(wechat, sim.Preset{OpenID: o.OpenID, Label: label + " " + o.OpenID})
		}
	}
	return wechat, wecom
}

func simCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	fs := flag.NewFlagSet("sim", flag.ContinueOnError)
	fs.SetOutput(stderr)
	addr := fs.String("addr", "127.0.0.1:8081", "address of the simulator and its chat page")
	webhook := fs.String("webhook", "http://127.0.0.1:8080/wechat", "the service's webhook URL")
	appID := fs.String("app-id", orEnv(getenv, "HUIMIN_WECHAT_APP_ID", demoAppID), "AppID")
	secret := fs.String("app-secret", orEnv(getenv, "HUIMIN_WECHAT_APP_SECRET", demoAppSecret), "AppSecret")
	token := fs.String("token", orEnv(getenv, "HUIMIN_WECHAT_TOKEN", demoToken), "Token")
	aesKey := fs.String("aes-key", getenv("HUIMIN_WECHAT_AES_KEY"), "EncodingAESKey (empty: plain mode)")
	mode := fs.String("mode", "", "plain, compatible or safe (default: safe when an AES key is set)")
	cfgPath := fs.String("config", "", "the service's configuration: the chat page offers its officers (name, department) besides the citizens")
	if err := fs.Parse(args); err != nil {
		return err
	}
	log := slog.New(slog.NewTextHandler(stderr, nil))
	var presets, wecomPresets []sim.Preset
	if *cfgPath != "" {
		cfg, err := config.Load(*cfgPath, getenv)
		if err != nil {
			return err
		}
		presets, wecomPresets = demoPresets(cfg.Desk)
	}
	simulator := sim.New(sim.Options{
		AppID: *appID, AppSecret: *secret, Token: *token, AESKey: *aesKey, Mode: *mode,
		WebhookURL: *webhook, Log: log, Presets: presets, WeComPresets: wecomPresets,
	})
	defer simulator.Close()
	ln, err := net.Listen("tcp", *addr)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", *addr, err)
	}
	srv := &http.Server{Handler: simulator.Handler(), ReadHeaderTimeout: 5 * time.Second}
	fmt.Fprintf(stdout, "WeChat simulator on http://%s/ (API base for the service: http://%s), posting to %s\n", ln.Addr(), ln.Addr(), *webhook)
	errc := make(chan error, 1)
	go func() { errc <- srv.Serve(ln) }()
	select {
	case err := <-errc:
		return fmt.Errorf("simulator: %w", err)
	case <-ctx.Done():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
	defer cancel()
	return srv.Shutdown(sctx)
}

func orEnv(getenv func(string) string, key, def string) string {
	if v := getenv(key); v != "" {
		return v
	}
	return def
}
