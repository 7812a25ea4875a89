// Command huimin runs the Huimin service desk: the WeChat webhook, the
// outbox and the scheduled jobs (serve), a self-contained demo with the
// WeChat simulator (demo), the simulator alone (sim), and a configuration
// check (check-config).
package main

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"os/signal"
	"syscall"
)

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := run(ctx, os.Args, os.Getenv, os.Stdout, os.Stderr); err != nil {
		fmt.Fprintln(os.Stderr, "huimin:", err)
		stop()
		os.Exit(1)
	}
}

const usage = `usage: huimin <command> [flags]

commands:
  serve         run the service from configuration (--config FILE, HUIMIN_* variables)
  demo          run the service on the embedded store with the WeChat simulator
  sim           run the WeChat simulator alone
  check-config  print the effective configuration with secrets masked
  officer add   issue an officer a one-time code to bind their WeChat (--id OFFICER)
  menu publish  publish the account's custom menu from the flow definitions
  window qr     make a service window's permanent QR code (--id WINDOW)
  campaign preview  count who a reminder campaign would reach, by channel, without sending (--id CAMPAIGN)
  campaign run  start a run of a reminder campaign now (--id CAMPAIGN)
`

var errUsage = errors.New("see usage above")

// run is main without the process: tests call it with their own arguments,
// environment and output.
func run(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) < 2 {
		fmt.Fprint(stderr, usage)
		return errUsage
	}
	cmd, rest := args[1], args[2:]
	switch cmd {
	case "serve":
		return serveCommand(ctx, rest, getenv, stdout, stderr)
	case "demo":
		return demoCommand(ctx, rest, getenv, stdout, stderr)
	case "sim":
		return simCommand(ctx, rest, getenv, stdout, stderr)
	case "check-config":
		return checkConfigCommand(rest, getenv, stdout, stderr)
	case "officer":
		return officerCommand(ctx, rest, getenv, stdout, stderr)
	case "menu":
		return menuCommand(ctx, rest, getenv, stdout, stderr)
	case "window":
		return windowCommand(ctx, rest, getenv, stdout, stderr)
	case "campaign":
		return campaignCommand(ctx, rest, getenv, stdout, stderr)
	case "help", "-h", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprintf(stderr, "huimin: unknown command %q\n\n%s", cmd, usage)
		return errUsage
	}
}
