package main

import (
	"context"
	"flag"
	"fmt"
	"io"
	"time"
)

// campaignCommand previews a reminder campaign (how many it would reach,
// by channel, without sending) or starts a run of it now (huimin campaign
// preview|run --id ID). A run is done by the serving instances' runners;
// with the embedded store, whose file one process holds, stop the service
// first (the run then starts when it is back).
func campaignCommand(ctx context.Context, args []string, getenv func(string) string, stdout, stderr io.Writer) error {
	if len(args) == 0 || (args[0] != "preview" && args[0] != "run") {
		fmt.Fprintln(stderr, "usage: huimin campaign preview|run --id CAMPAIGN [--config FILE]")
		return errUsage
	}
	fs := flag.NewFlagSet("campaign "+args[0], flag.ContinueOnError)
	fs.SetOutput(stderr)
	path := fs.String("config", "", "YAML configuration file")
	id := fs.String("id", "", "the campaign's id in campaigns.list")
	if err := fs.Parse(args[1:]); err != nil {
		return err
	}
	if *id == "" {
		return fmt.Errorf("campaign %s: --id is required", args[0])
	}
	return withApp(ctx, *path, getenv, stderr, func(a *app) error {
		if a.campaigns.Schedule(*id) == nil {
			var ids []string
			for _, c := range a.campaigns.Campaigns() {
				ids = append(ids, c.ID)
			}
			return fmt.Errorf("campaign %s: no campaign %q in campaigns.list (configured: %v)", args[0], *id, ids)
		}
		if args[0] == "run" {
			run, err := a.campaigns.Start(ctx, *id, time.Now().Truncate(time.Second))
			if err != nil {
				return err
			}
			fmt.Fprintf(stdout, "Campaign %s: run %s scheduled; the service's instances send it at campaigns.rate.\n", *id, run)
			return nil
		}
		p, err := a.campaigns.Preview(ctx, *id)
		if err != nil {
			return err
		}
		fmt.Fprintf(stdout, "Campaign %s would reach %d subscribers now (nothing was sent):\n", *id, p.Total())
		fmt.Fprintf(stdout, "  chat      %6d  (seen within 48 hours: customer-service message)\n", p.Chat)
		fmt.Fprintf(stdout, "  template  %6d  (outside the window: template message)\n", p.Template)
		fmt.Fprintf(stdout, "  notice    %6d  (outside the window: subscribe notice)\n", p.Notice)
		fmt.Fprintf(stdout, "  skipped   %6d  (nothing reaches them, or no ticket of the campaign's lines)\n", p.Skipped)
		return nil
	})
}
