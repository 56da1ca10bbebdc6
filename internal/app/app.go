// Package app wires Lookout's subsystems into one server and runs their
// lifecycle. It never touches OS signals or exits the process, so tests run
// the whole server in-process on port 0.
package app

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/collectors"
	promconfig "github.com/prometheus/prometheus/config"
	"github.com/prometheus/prometheus/discovery"
	"github.com/prometheus/prometheus/notifier"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/rules"
	"github.com/prometheus/prometheus/scrape"
	"google.golang.org/grpc"

	"github.com/lookout-dev/lookout/internal/alerting"
	"github.com/lookout-dev/lookout/internal/auth"
	"github.com/lookout-dev/lookout/internal/config"
	"github.com/lookout-dev/lookout/internal/ingest/admission"
	"github.com/lookout-dev/lookout/internal/metricstore"
	"github.com/lookout-dev/lookout/internal/selfobs"
)

// Options configures an App.
type Options struct {
	// Config is the loaded configuration; nil means config.Default().
	Config *config.Config
	// ConfigFile is reread by Reload; empty means Reload reapplies Config.
	ConfigFile string
	// DataDir holds every store; empty means "./data".
	DataDir string
	Logger  *slog.Logger
	// InsecureNoAuth allows non-loopback listeners without authentication.
	InsecureNoAuth bool
	// ExtraScrapeConfigs are appended to the configured scrape jobs (the
	// demo uses this for its simulated service).
	ExtraScrapeConfigs []*promconfig.ScrapeConfig
	// Flags are shown at /api/v1/status/flags.
	Flags map[string]string

	_ struct{}
}

// App is a running Lookout server.
type App struct {
	opts   Options
	logger *slog.Logger
	reg    *prometheus.Registry

	mu  sync.RWMutex
	cfg *config.Config // effective config, never mutated once stored; guarded by mu
	// applyMu serialises applying a config and storing it, between the
	// startup path and Reload.
	applyMu sync.Mutex

	store     *metricstore.Store
	engine    *promql.Engine
	discovery *discovery.Manager
	scrape    *scrape.Manager
	rules     *rules.Manager
	alerting  *alerting.Manager
	notifier  *notifier.Manager
	notifySD  *discovery.Manager
	auth      *auth.Authenticator
	admission *admission.Metrics
	limiter   *admission.Limiter
	logs      *logs

	internalToken string
	startDigest   [32]byte // config files' content when Start read them; see watchConfig
	startTime     time.Time
	reloadOK      atomic.Bool
	lastReload    atomic.Int64
	reloadMetrics reloadMetrics

	mainLn, grpcLn, otlpHTTPLn net.Listener
	mainSrv, otlpHTTPSrv       *http.Server
	grpcSrv                    *grpc.Server

	ctx    context.Context
	cancel context.CancelFunc
	wg     sync.WaitGroup
	errc   chan error

	httpMetricsOnce sync.Once
	httpM           *selfobs.HTTPMetrics

	started, stopped atomic.Bool
	shutdownOnce     sync.Once
	shutdownErr      error
}

// New validates the options and returns an App; it has no side effects.
func New(opts Options) (*App, error) {
	if opts.Config == nil {
		opts.Config = config.Default()
	}
	if opts.DataDir == "" {
		opts.DataDir = "data"
	}
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	a := &App{opts: opts, logger: opts.Logger, cfg: opts.Config, errc: make(chan error, 4)}
	if err := checkListenAuth(opts.Config, opts.InsecureNoAuth); err != nil {
		return nil, err
	}
	return a, nil
}

// Start binds the listeners and starts every subsystem. The metrics store
// opens in the background: until its WAL is replayed /-/ready answers 503
// and queries and writes answer "not ready". Start returns quickly.
func (a *App) Start(ctx context.Context) error {
	if !a.started.CompareAndSwap(false, true) {
		return errors.New("app already started")
	}
	a.startTime = time.Now()
	a.ctx, a.cancel = context.WithCancel(context.WithoutCancel(ctx))
	if err := metricstore.CheckDir(a.opts.DataDir); err != nil {
		return err
	}
	a.internalToken = randomToken()
	if a.opts.ConfigFile != "" {
		a.startDigest = watchedDigest(a.opts.ConfigFile, a.config())
	}
	if err := a.build(); err != nil {
		return err
	}
	if err := a.listen(); err != nil {
		a.closeListeners()
		return err
	}
	// Routing starts once the listener's address is known: links in
	// notifications point at it.
	if err := a.applyAlertmanager(a.config()); err != nil {
		a.closeListeners()
		return err
	}
	a.serve()
	if err := a.startLogs(); err != nil {
		a.closeListeners()
		return err
	}
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		a.openStoreAndRun()
	}()
	a.logger.Info("lookout started", "listen", a.Addr(), "otlp_grpc", a.OTLPGRPCAddr(), "otlp_http", a.OTLPHTTPAddr(),
		"syslog", a.SyslogAddr(),
		"data_dir", a.opts.DataDir, "auth", a.auth.Enabled())
	return nil
}

// build constructs the subsystems without starting them.
func (a *App) build() error {
	cfg := a.config()
	a.reg = prometheus.NewRegistry()
	a.reg.MustRegister(collectors.NewGoCollector(), collectors.NewProcessCollector(collectors.ProcessCollectorOpts{}))
	a.reloadMetrics = newReloadMetrics(a.reg)
	a.reloadOK.Store(true)
	a.lastReload.Store(time.Now().Unix())
	a.reloadMetrics.record(true)

	var err error
	if a.auth, err = auth.New(cfg.Auth, a.internalToken); err != nil {
		return err
	}
	a.admission = admission.NewMetrics(a.reg)
	a.limiter = admission.NewLimiter(cfg.Ingest.MaxConcurrentRequests, time.Duration(cfg.Ingest.QueueWait))

	a.store = metricstore.New(metricstore.Options{
		Dir:            a.opts.DataDir,
		Logger:         a.logger,
		Registerer:     a.reg,
		RetentionTime:  time.Duration(cfg.Metrics.RetentionTime),
		RetentionBytes: int64(cfg.Metrics.RetentionSize),
		WALCompression: cfg.Metrics.WALCompression,
		MaxExemplars:   100_000,
	})
	a.engine, err = metricstore.NewEngine(metricstore.EngineOptions{
		Logger:         a.logger,
		Registerer:     a.reg,
		Dir:            filepath.Join(a.opts.DataDir, "metrics"),
		Timeout:        time.Duration(cfg.Metrics.QueryTimeout),
		MaxSamples:     cfg.Metrics.QueryMaxSamples,
		MaxConcurrency: cfg.Metrics.QueryMaxConcurrency,
		LookbackDelta:  time.Duration(cfg.Metrics.LookbackDelta),
		SubqueryStep: func() time.Duration {
			return time.Duration(a.config().Prometheus.GlobalConfig.EvaluationInterval)
		},
	})
	if err != nil {
		return err
	}

	sdMetrics, err := discovery.CreateAndRegisterSDMetrics(a.reg)
	if err != nil {
		return fmt.Errorf("register discovery metrics: %w", err)
	}
	a.discovery = discovery.NewManager(a.ctx, a.logger.With("component", "discovery"), a.reg, sdMetrics)
	if a.discovery == nil {
		return errors.New("create discovery manager")
	}
	a.scrape, err = scrape.NewManager(&scrape.Options{}, a.logger.With("component", "scrape"), nil, nil, a.store, a.reg)
	if err != nil {
		return fmt.Errorf("create scrape manager: %w", err)
	}
	if err := a.buildAlerting(cfg, sdMetrics); err != nil {
		return err
	}
	a.rules = rules.NewManager(&rules.ManagerOptions{
		Appendable: a.store,
		Queryable:  a.store,
		QueryFunc:  rules.EngineQueryFunc(a.engine, a.store),
		NotifyFunc: a.sendAlerts,
		Context:    a.ctx,
		Logger:     a.logger.With("component", "rules"),
		// ruler="metrics" sets these apart from the log rules' (ruler="logs").
		Registerer:      prometheus.WrapRegistererWith(prometheus.Labels{"ruler": "metrics"}, a.reg),
		OutageTolerance: time.Hour,
		ForGracePeriod:  10 * time.Minute,
		ResendDelay:     time.Minute,
	})
	return a.buildLogs(cfg)
}

// openStoreAndRun replays the WAL, then starts everything that writes.
func (a *App) openStoreAndRun() {
	cfg := a.config()
	if err := a.store.Open(cfg.Prometheus); err != nil {
		a.logger.Error("metrics store failed to open", "err", err)
		a.fail(err)
		return
	}
	if a.ctx.Err() != nil {
		return
	}
	a.logger.Info("metrics store ready")
	a.applyMu.Lock()
	eff, err := a.applyPrometheus(a.config()) // Reload may have replaced cfg during replay.
	if err == nil {
		a.setConfig(eff)
	}
	a.applyMu.Unlock()
	if err != nil {
		a.logger.Error("apply config", "err", err)
		a.fail(err)
		return
	}
	a.goLoop("discovery", func() error { return a.discovery.Run() })
	a.goLoop("scrape", func() error { return a.scrape.Run(a.discovery.SyncCh()) })
	a.goLoop("rules", func() error { a.rules.Run(); return nil })
	a.goLoop("log-rules", func() error { a.logs.rules.Run(); return nil })
	a.goLoop("config-watch", func() error { a.watchConfig(); return nil })
	a.goLoop("discovery-notify", func() error { return a.notifySD.Run() })
	a.goLoop("notifier", func() error { a.notifier.Run(a.notifySD.SyncCh()); return nil })
}

func (a *App) goLoop(name string, f func() error) {
	a.wg.Add(1)
	go func() {
		defer a.wg.Done()
		if err := f(); err != nil && a.ctx.Err() == nil {
			a.logger.Error("component stopped", "component", name, "err", err)
			a.fail(fmt.Errorf("%s: %w", name, err))
		}
	}()
}

// fail reports a fatal error to Run.
func (a *App) fail(err error) {
	select {
	case a.errc <- err:
	default:
	}
}

// Err delivers fatal errors that happen after Start, such as a corrupt data
// directory found while opening the metrics store.
func (a *App) Err() <-chan error { return a.errc }

// Ready reports whether the server accepts queries and writes.
func (a *App) Ready() bool { return a.store != nil && a.store.Ready() }

// Addr is the main HTTP listener's address.
func (a *App) Addr() string { return lnAddr(a.mainLn) }

// OTLPGRPCAddr is the OTLP gRPC listener's address, "" when disabled.
func (a *App) OTLPGRPCAddr() string { return lnAddr(a.grpcLn) }

// OTLPHTTPAddr is the OTLP HTTP listener's address, "" when disabled.
func (a *App) OTLPHTTPAddr() string { return lnAddr(a.otlpHTTPLn) }

// Registry is the server's own metrics registry.
func (a *App) Registry() *prometheus.Registry { return a.reg }

// Store is the metrics store.
func (a *App) Store() *metricstore.Store { return a.store }

// Engine is the PromQL engine.
func (a *App) Engine() *promql.Engine { return a.engine }

func lnAddr(l net.Listener) string {
	if l == nil {
		return ""
	}
	return l.Addr().String()
}

// config returns the effective config; callers must not modify it.
func (a *App) config() *config.Config {
	a.mu.RLock()
	defer a.mu.RUnlock()
	return a.cfg
}

func (a *App) setConfig(c *config.Config) {
	a.mu.Lock()
	a.cfg = c
	a.mu.Unlock()
}

// Shutdown stops accepting requests, drains in-flight ones, stops the
// scrapers and rule evaluation and closes the store. It is idempotent and
// safe to call without Start.
func (a *App) Shutdown(ctx context.Context) error {
	if !a.started.Load() {
		return nil
	}
	a.shutdownOnce.Do(func() {
		a.stopped.Store(true)
		var errs []error
		for _, s := range []*http.Server{a.mainSrv, a.otlpHTTPSrv} {
			if s != nil {
				if err := s.Shutdown(ctx); err != nil {
					errs = append(errs, err)
				}
			}
		}
		if a.grpcSrv != nil {
			stopped := make(chan struct{})
			go func() { a.grpcSrv.GracefulStop(); close(stopped) }()
			select {
			case <-stopped:
			case <-ctx.Done():
				a.grpcSrv.Stop()
			}
		}
		if a.scrape != nil {
			a.scrape.Stop()
		}
		if a.rules != nil {
			a.rules.Stop()
		}
		if a.logs != nil && a.logs.rules != nil {
			a.logs.rules.Stop()
		}
		if a.logs != nil && a.logs.syslog != nil {
			if err := a.logs.syslog.Shutdown(ctx); err != nil {
				errs = append(errs, fmt.Errorf("stop syslog receiver: %w", err))
			}
		}
		if a.notifier != nil {
			a.notifier.Stop()
		}
		if a.alerting != nil {
			a.alerting.Stop()
		}
		a.cancel()
		a.wg.Wait()
		if a.store != nil {
			if err := a.store.Close(); err != nil {
				errs = append(errs, fmt.Errorf("close metrics store: %w", err))
			}
		}
		if a.logs != nil {
			if err := a.logs.store.Close(); err != nil {
				errs = append(errs, fmt.Errorf("close event store: %w", err))
			}
		}
		a.logger.Info("lookout stopped")
		a.shutdownErr = errors.Join(errs...)
	})
	return a.shutdownErr
}

// Run starts the app, waits until ctx is done or a fatal error occurs, and
// shuts down within 30 seconds.
func Run(ctx context.Context, a *App) error {
	if err := a.Start(ctx); err != nil {
		return err
	}
	var runErr error
	select {
	case <-ctx.Done():
	case runErr = <-a.Err():
	}
	sctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	return errors.Join(runErr, a.Shutdown(sctx))
}

func randomToken() string {
	var b [24]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on Linux.
	return hex.EncodeToString(b[:])
}

// hostname is reported by the runtime info endpoint.
func hostname() string {
	h, _ := os.Hostname()
	return h
}
