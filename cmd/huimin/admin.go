package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"huimin/bot"
	"huimin/bot/wechat"
	"huimin/config"
	"huimin/flows"
	"huimin/flows/intake"
)

// withApp loads the configuration, opens the store and builds the service
// without starting it, for the administrative commands.
func withApp(ctx context.Context, path string, getenv func(string) string, stderr io.Writer, f func(a *app) error) error {
	cfg, err := config.Load(path, getenv)
	if err != nil {
		return err
	}
	log := newLogger(cfg.Log, stderr)
	st, _, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer func() {
		if err := st.Close(); err != nil {
			log.Error("close store failed", "err", err)
		}
	}()
	wechat.ConfigureSDK(cfg.WeChat.APIBaseURL, cfg.WeChat.APITimeout)
	a, err := newApp(cfg, st, bot.NewMetrics(prometheus.NewRegistry()), log)
	if err != nil {
		return err
	}
	return f(a)
}

// officerCommand issues an officer a one-time code to bind their WeChat
// account (huimin officer add --id wang).
func officerCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "add" {
		fmt.Fprintln(stderr, "usage: huimin officer add --id OFFICER [--ttl 24h] [--config FILE]")
		return errUsage
	}
	fs := flag.NewFlagSet("officer add", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "", "YAML configuration file")
	id := fs.String("id", "", "the officer's id in desk.officers")
	ttl := fs.Duration("ttl", 24*time.Hour, "how long the code works")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *id == "" {
		return fmt.Errorf("officer add: --id is required")
	}
	return withApp(ctx, *path, getenv, stderr, func(a *app) error {
		code, err := a.desk.IssueCode(ctx, *id, *ttl)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "Binding code for officer %s: %s (valid for %s, works once).\n", *id, code, *ttl)
		fmt.Fprintf(stdout, "The officer sends “绑定 %s” to the official account from their own WeChat.\n", code)
		if url, err := a.client.QRCode(ctx, "bind_"+code, *ttl); err != nil {
			fmt.Fprintf(stdout, "(No QR code: %v)\n", err)
		} else {
			fmt.Fprintf(stdout, "Or they scan this QR code: %s\n", url)
		}
		return nil
	})
}

// menuCommand publishes the account's custom menu from the flow definitions
// (huimin menu publish).
func menuCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "publish" {
		fmt.Fprintln(stderr, "usage: huimin menu publish [--config FILE]")
		return errUsage
	}
	fs := flag.NewFlagSet("menu publish", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "", "YAML configuration file")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	return withApp(ctx, *path, getenv, stderr, func(a *app) error {
		buttons := menuButtons(a.flows.Current().Buttons())
		if err := a.client.PublishMenu(ctx, buttons); err != nil {
			return fmt.Errorf("publish menu: %w", err)
		}
		fmt.Fprintf(stdout, "Published the account menu: %d buttons.\n", len(buttons))
		return nil
	})
}

// windowCommand makes a service window's permanent QR code (huimin window
// qr --id w-chengguan): citizens who scan it are greeted by the window, and
// the matters they open count under it.
func windowCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || args[0] != "qr" {
		fmt.Fprintln(stderr, "usage: huimin window qr --id WINDOW [--config FILE]")
		return errUsage
	}
	fs := flag.NewFlagSet("window qr", flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "", "YAML configuration file")
	id := fs.String("id", "", "the window's id in desk.windows, or a department's id")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	return withApp(ctx, *path, getenv, stderr, func(a *app) error {
		w, ok := a.desk.Window(*id)
		if !ok {
			var ids []string
			for _, w := range a.desk.Windows() {
				ids = append(ids, w.ID)
			}
			return fmt.Errorf("window qr: no window %q (windows: %s)", *id, strings.Join(ids, ", "))
		}
		url, err := a.client.PermanentQRCode(ctx, flows.WindowScene+w.ID)
		if err != nil {
			return fmt.Errorf("window qr: %w", err)
		}
		fmt.Fprintf(stdout, "QR code of %s (%s), permanent: %s\n", w.Name, w.ID, url)
		fmt.Fprintln(stdout, "Print it at the window: citizens who scan it are greeted by the window, and what they submit counts under it.")
		return nil
	})
}

func menuButtons(bs []intake.Button) []wechat.Button {
	out := make([]wechat.Button, 0, len(bs))
	for _, b := range bs {
		out = append(out, wechat.Button{Name: b.Name, Type: b.Type, Key: b.Key, URL: b.URL, Sub: menuButtons(b.Sub)})
	}
	return out
}
