package cli

import (
	"context"
	"fmt"
	"log/slog"
	"os"
	"time"

	"github.com/spf13/cobra"

	"github.com/lookout-dev/lookout/internal/app"
	"github.com/lookout-dev/lookout/internal/demo"
)

func newDemoCmd(io IO) *cobra.Command {
	sf := &serverFlags{}
	var keep bool
	cmd := &cobra.Command{
		Use:   "demo",
		Short: "Run Lookout with a simulated web service so every page shows live data",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			if !cmd.Flags().Changed("data-dir") {
				dir, err := os.MkdirTemp("", "lookout-demo-")
				if err != nil {
					return fmt.Errorf("create demo data directory: %w", err)
				}
				if !keep {
					defer os.RemoveAll(dir)
				}
				sf.dataDir = dir
			}
			return runServer(cmd.Context(), io, sf, func(o *app.Options, logger *slog.Logger) (func(), error) {
				svc := demo.New(demo.Options{Logger: logger.With("component", "demo"), Seed: time.Now().UnixNano(),
					LogsURL: "http://" + o.Config.Server.Listen + "/api/v1/logs?service_name=crm-app&env=demo"})
				if err := svc.Start(cmd.Context()); err != nil {
					return nil, fmt.Errorf("start demo service: %w", err)
				}
				o.ExtraScrapeConfigs = append(o.ExtraScrapeConfigs, app.StaticScrapeConfig("crm-app", svc.Addr(), 5*time.Second, ""))
				o.Config.Metrics.SelfScrapeInterval = o.Config.Metrics.SelfScrapeInterval / 3
				fmt.Fprintf(io.Stdout, "Lookout demo: open http://%s/ (data in %s; Ctrl+C stops)\n", o.Config.Server.Listen, sf.dataDir)
				return func() {
					ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
					defer cancel()
					_ = svc.Shutdown(ctx)
				}, nil
			})
		},
	}
	sf.register(cmd)
	cmd.Flags().BoolVar(&keep, "keep-data", false, "keep the temporary data directory on exit")
	return cmd
}
