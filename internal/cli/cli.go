// Package cli implements the lookout command line: the server, the demo and
// the offline tools. It returns exit codes instead of exiting.
package cli

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"os"

	"github.com/spf13/cobra"

	"github.com/lookout-dev/lookout/internal/app"
	"github.com/lookout-dev/lookout/internal/buildinfo"
	"github.com/lookout-dev/lookout/internal/config"
	"github.com/lookout-dev/lookout/internal/selfobs"
)

// IO is what the commands read and write besides files and the network.
type IO struct {
	Stdout, Stderr io.Writer
	// Reload receives a value for each SIGHUP.
	Reload <-chan os.Signal
}

// exitError carries a specific exit code.
type exitError struct {
	code int
	err  error
}

func (e exitError) Error() string { return e.err.Error() }

// Main runs the command line and returns the process exit code.
func Main(ctx context.Context, args []string, io IO) int {
	root := newRoot(io)
	root.SetArgs(args)
	root.SetOut(io.Stdout)
	root.SetErr(io.Stderr)
	if err := root.ExecuteContext(ctx); err != nil {
		fmt.Fprintln(io.Stderr, "lookout:", err)
		var ee exitError
		if errors.As(err, &ee) {
			return ee.code
		}
		return 1
	}
	return 0
}

func newRoot(io IO) *cobra.Command {
	sf := &serverFlags{}
	root := &cobra.Command{
		Use:           "lookout",
		Short:         "Lookout: metrics, alerting and more in one self-hosted binary",
		SilenceUsage:  true,
		SilenceErrors: true,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runServer(cmd.Context(), io, sf, nil)
		},
	}
	sf.register(root)
	root.AddCommand(newServerCmd(io), newDemoCmd(io), newCheckCmd(io), newTestCmd(io), newAlertmanagerCmd(io),
		newQueryCmd(io), newVersionCmd(io))
	return root
}

// serverFlags are the flags of `lookout server`; each overrides the config file.
type serverFlags struct {
	configFile, dataDir, listen, otlpGRPC, otlpHTTP, syslog, logLevel string
	insecureNoAuth                                                    bool
}

func (f *serverFlags) register(cmd *cobra.Command) {
	fl := cmd.Flags()
	fl.StringVar(&f.configFile, "config", "", "configuration file (lookout.yml; any prometheus.yml works)")
	fl.StringVar(&f.dataDir, "data-dir", "data", "directory for all stored data")
	fl.StringVar(&f.listen, "listen", "", "HOST:PORT of the UI, APIs and HTTP ingest (default 127.0.0.1:9900)")
	fl.StringVar(&f.otlpGRPC, "otlp-grpc-listen", "", `HOST:PORT of the OTLP gRPC receiver, or "off" (default 127.0.0.1:4317)`)
	fl.StringVar(&f.otlpHTTP, "otlp-http-listen", "", `HOST:PORT of the OTLP HTTP receiver, or "off" (default 127.0.0.1:4318)`)
	fl.StringVar(&f.syslog, "syslog-listen", "", `HOST:PORT of the syslog receiver (UDP and TCP), or "off" (default off)`)
	fl.StringVar(&f.logLevel, "log-level", "", "debug, info, warn or error (default info)")
	fl.BoolVar(&f.insecureNoAuth, "insecure-no-auth", false, "allow non-loopback listeners without authentication")
}

func newServerCmd(io IO) *cobra.Command {
	sf := &serverFlags{}
	cmd := &cobra.Command{
		Use:   "server",
		Short: "Run the Lookout server (the default command)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			return runServer(cmd.Context(), io, sf, nil)
		},
	}
	sf.register(cmd)
	return cmd
}

// load reads the config file, if any, and applies the flags.
func (f *serverFlags) load() (*config.Config, error) {
	cfg := config.Default()
	if f.configFile != "" {
		c, err := config.LoadFile(f.configFile, nil)
		if err != nil {
			return nil, exitError{code: 2, err: err}
		}
		cfg = c
	}
	if f.listen != "" {
		cfg.Server.Listen = f.listen
	}
	if f.otlpGRPC != "" {
		cfg.Server.OTLPGRPCListen = f.otlpGRPC
	}
	if f.otlpHTTP != "" {
		cfg.Server.OTLPHTTPListen = f.otlpHTTP
	}
	if f.syslog != "" {
		cfg.Logs.SyslogListen = f.syslog
		if err := cfg.Logs.Validate(); err != nil {
			return nil, exitError{code: 2, err: err}
		}
	}
	if f.logLevel != "" {
		cfg.Server.LogLevel = f.logLevel
		if err := cfg.Server.Validate(); err != nil {
			return nil, exitError{code: 2, err: err}
		}
	}
	return cfg, nil
}

func (f *serverFlags) flagMap() map[string]string {
	return map[string]string{
		"config": f.configFile, "data-dir": f.dataDir, "listen": f.listen,
		"otlp-grpc-listen": f.otlpGRPC, "otlp-http-listen": f.otlpHTTP, "syslog-listen": f.syslog,
		"insecure-no-auth": fmt.Sprint(f.insecureNoAuth),
	}
}

// runServer runs the server until ctx is done. customize, if set, adjusts
// the options (the demo adds its scrape job).
func runServer(ctx context.Context, io IO, f *serverFlags, customize func(*app.Options, *slog.Logger) (func(), error)) error {
	cfg, err := f.load()
	if err != nil {
		return err
	}
	logger := selfobs.NewLogger(io.Stderr, cfg.Server.LogLevel)
	opts := app.Options{
		Config:         cfg,
		ConfigFile:     f.configFile,
		DataDir:        f.dataDir,
		Logger:         logger,
		InsecureNoAuth: f.insecureNoAuth,
		Flags:          f.flagMap(),
	}
	if customize != nil {
		cleanup, err := customize(&opts, logger)
		if err != nil {
			return err
		}
		defer cleanup()
	}
	a, err := app.New(opts)
	if err != nil {
		return err
	}
	go func() {
		for {
			select {
			case <-ctx.Done():
				return
			case _, ok := <-io.Reload:
				if !ok {
					return
				}
				if err := a.Reload(); err != nil {
					logger.Error("config reload failed; the previous config keeps running", "err", err)
				}
			}
		}
	}()
	return app.Run(ctx, a)
}

func newVersionCmd(io IO) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version",
		Args:  cobra.NoArgs,
		RunE: func(*cobra.Command, []string) error {
			bi := buildinfo.Get()
			fmt.Fprintf(io.Stdout, "lookout, version %s (revision: %s)\n  build date: %s\n  go version: %s\n", bi.Version, bi.Revision, bi.BuildDate, bi.GoVersion)
			return nil
		},
	}
}

func newCheckCmd(io IO) *cobra.Command {
	check := &cobra.Command{Use: "check", Short: "Check configuration files"}
	check.AddCommand(&cobra.Command{
		Use:   "config FILE",
		Short: "Check a lookout.yml (or prometheus.yml); exits non-zero with the reason when invalid",
		Args:  cobra.ExactArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			c, err := config.LoadFile(args[0], nil)
			if err != nil {
				return exitError{code: 1, err: err}
			}
			fmt.Fprintf(io.Stdout, "SUCCESS: %s is valid: %d scrape jobs, %d rule files, %d remote_write targets\n",
				args[0], len(c.Prometheus.ScrapeConfigs), len(c.Prometheus.RuleFiles), len(c.Prometheus.RemoteWriteConfigs))
			return nil
		},
	})
	check.AddCommand(newCheckRulesCmd(io), newCheckAlertmanagerCmd(io))
	return check
}
