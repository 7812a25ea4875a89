// Command huimin-load measures the webhook path of the Huimin service desk.
//
// It has two subcommands:
//
//	huimin-load baseline -addr 127.0.0.1:18081 -token T [-aes-key K -app-id A]
//	huimin-load run -url http://127.0.0.1:8080/wechat -token T [-aes-key K -app-id A] -c 256 -openids 100000 -n 200000
//
// baseline serves POST /wechat with the least work any WeChat webhook must do:
// check the signature, decrypt in safe mode, parse the XML and answer
// "success". run posts signed text messages, exactly as WeChat sends them,
// to a webhook and reports throughput and latency percentiles. Running the
// same load against the baseline and against the service, in the same session
// on the same machine, tells how much the service adds on top of the protocol
// itself; bench.sh in this directory does that for both modes and both stores.
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
	err := run(ctx, os.Args, os.Stdout, os.Stderr)
	stop()
	if err != nil {
		fmt.Fprintln(os.Stderr, "huimin-load:", err)
		os.Exit(1)
	}
}

const usage = `usage:
  huimin-load baseline -addr 127.0.0.1:18081 -token T [-aes-key K -app-id A]
  huimin-load run -url http://127.0.0.1:8080/wechat -token T [-aes-key K -app-id A]
                  [-c 256] [-openids 100000] [-n 200000] [-duration 0] [-warmup 2s]
                  [-label name] [-json]

Run "huimin-load <subcommand> -h" for the flags of a subcommand.
`

// errUsage reports a command line that names no known subcommand.
var errUsage = errors.New("unknown subcommand")

// run is the whole program behind main, so tests can drive it: args[0] is the
// program name and args[1] the subcommand. It returns when the subcommand is
// done or ctx is cancelled.
func run(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) < 2 {
		fmt.Fprint(stderr, usage)
		return errUsage
	}
	switch args[1] {
	case "baseline":
		return runBaseline(ctx, args[2:], stderr)
	case "run":
		return runLoad(ctx, args[2:], stdout, stderr)
	case "help", "-h", "-help", "--help":
		fmt.Fprint(stdout, usage)
		return nil
	default:
		fmt.Fprint(stderr, usage)
		return fmt.Errorf("%w %q", errUsage, args[1])
	}
}
