package cli

import (
	"errors"
	"fmt"
	"log/slog"
	"strings"

	"github.com/prometheus/alertmanager/dispatch"
	"github.com/spf13/cobra"

	"github.com/lookout-dev/lookout/internal/amtool"
	"github.com/lookout-dev/lookout/internal/config"
)

// newCheckAlertmanagerCmd is `lookout check alertmanager FILE...` (amtool check-config).
func newCheckAlertmanagerCmd(io IO) *cobra.Command {
	return &cobra.Command{
		Use:   "alertmanager FILE...",
		Short: "Check Alertmanager configuration files and their templates, like amtool check-config",
		Long: `Check Alertmanager configuration files (alertmanager.yml) and the templates they
list, with the same verdicts and report as amtool check-config. Template paths
are globs; one that matches no file is not an error. Exits 1 if any file fails.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(_ *cobra.Command, files []string) error {
			if failed := amtool.Check(io.Stdout, files...); failed > 0 {
				return exitError{code: 1, err: fmt.Errorf("%d of %d alertmanager config file(s) failed the check", failed, len(files))}
			}
			return nil
		},
	}
}

// newAlertmanagerCmd is `lookout alertmanager routes test LABELS...` (amtool config routes test).
func newAlertmanagerCmd(io IO) *cobra.Command {
	am := &cobra.Command{Use: "alertmanager", Short: "Offline Alertmanager tools (amtool compatible)"}
	am.AddCommand(newRoutesCmd(io))
	return am
}

func newRoutesCmd(io IO) *cobra.Command {
	var configFile, lookoutFile string
	// load reads the routing tree from --config.file (an alertmanager.yml)
	// or from the alertmanager section of --config (a lookout.yml).
	load := func() (*dispatch.Route, error) {
		switch {
		case configFile != "" && lookoutFile != "":
			return nil, exitError{code: 1, err: errors.New("give either --config.file (alertmanager.yml) or --config (lookout.yml), not both")}
		case lookoutFile != "":
			cfg, err := config.LoadFile(lookoutFile, nil)
			if err != nil {
				return nil, exitError{code: 1, err: fmt.Errorf("load %s: %w", lookoutFile, err)}
			}
			return dispatch.NewRoute(cfg.Alertmanager.Parsed.Route, nil), nil
		case configFile != "":
			root, err := amtool.LoadRoute(configFile)
			if err != nil {
				return nil, exitError{code: 1, err: fmt.Errorf("load %s: %w", configFile, err)}
			}
			return root, nil
		}
		return nil, exitError{code: 1, err: errors.New("no configuration: give --config.file (alertmanager.yml) or --config (lookout.yml)")}
	}
	show := func(*cobra.Command, []string) error {
		root, err := load()
		if err != nil {
			return err
		}
		return amtool.WriteRoutes(io.Stdout, root)
	}
	routes := &cobra.Command{
		Use:   "routes",
		Short: "Print the routing tree of an alertmanager.yml (the same as routes show)",
		Args:  cobra.NoArgs,
		RunE:  show,
	}
	routes.PersistentFlags().StringVar(&configFile, "config.file", "", "Alertmanager configuration file (alertmanager.yml)")
	routes.PersistentFlags().StringVar(&lookoutFile, "config", "", "Lookout configuration file: its alertmanager section (config_file or inline config, or the default route)")
	routes.AddCommand(&cobra.Command{
		Use:   "show",
		Short: "Print the routing tree, like amtool config routes show",
		Args:  cobra.NoArgs,
		RunE:  show,
	})

	var verify string
	var tree bool
	test := &cobra.Command{
		Use:   "test LABEL=VALUE...",
		Short: "Print the receivers an alert with these labels is routed to, like amtool config routes test",
		Long: `Print, comma-separated and in routing-tree order, the receivers an alert with
the given labels is routed to. With --verify.receivers, exit 1 unless they are
exactly the given list.`,
		RunE: func(_ *cobra.Command, args []string) error {
			root, err := load()
			if err != nil {
				return err
			}
			logger := slog.New(slog.NewTextHandler(io.Stderr, &slog.HandlerOptions{Level: slog.LevelWarn}))
			ls, err := amtool.ParseLabels(args, logger)
			if err != nil {
				return exitError{code: 1, err: err}
			}
			if tree {
				if err := amtool.WriteMatchingRoutes(io.Stdout, root, ls); err != nil {
					return err
				}
			}
			receivers := amtool.Receivers(root, ls)
			fmt.Fprintln(io.Stdout, strings.Join(receivers, ","))
			if err := amtool.VerifyReceivers(receivers, verify); err != nil {
				if errors.Is(err, amtool.ErrReceiversMismatch) {
					fmt.Fprintln(io.Stdout, "WARNING: Expected receivers did not match resolved receivers.")
				}
				return exitError{code: 1, err: err}
			}
			return nil
		},
	}
	test.Flags().StringVar(&verify, "verify.receivers", "", "fail unless the alert is routed to exactly these receivers (comma-separated, in order)")
	test.Flags().BoolVar(&tree, "tree", false, "also print the matching part of the routing tree")
	routes.AddCommand(test)
	return routes
}
