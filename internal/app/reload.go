package app

import (
	"context"
	"errors"
	"fmt"
	"os"
	"reflect"
	"runtime/debug"
	"strconv"
	"syscall"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	commoncfg "github.com/prometheus/common/config"
	"github.com/prometheus/common/model"
	promconfig "github.com/prometheus/prometheus/config"
	"github.com/prometheus/prometheus/discovery"

	"github.com/lookout-dev/lookout/internal/config"
	"github.com/lookout-dev/lookout/internal/health"
)

type reloadMetrics struct {
	success prometheus.Gauge
	last    prometheus.Gauge
}

func newReloadMetrics(reg prometheus.Registerer) reloadMetrics {
	m := reloadMetrics{
		success: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "lookout_config_last_reload_successful",
			Help: "Whether the last configuration reload attempt was successful.",
		}),
		last: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "lookout_config_last_reload_success_timestamp_seconds",
			Help: "Timestamp of the last successful configuration reload.",
		}),
	}
	reg.MustRegister(m.success, m.last)
	return m
}

func (m reloadMetrics) record(ok bool) {
	if ok {
		m.success.Set(1)
		m.last.SetToCurrentTime()
	} else {
		m.success.Set(0)
	}
}

// Reload rereads the config file and applies it. On any error the running
// configuration stays in force and the error says why.
func (a *App) Reload() error {
	if !a.started.Load() || a.stopped.Load() {
		return errors.New("server is not running")
	}
	next := a.opts.Config
	if a.opts.ConfigFile != "" {
		c, err := config.LoadFile(a.opts.ConfigFile, a.logger)
		if err != nil {
			a.reloadFailed()
			return err
		}
		next = c
	}
	a.applyMu.Lock()
	defer a.applyMu.Unlock()
	prev := a.config()
	if !reflect.DeepEqual(prev.Server, next.Server) || !reflect.DeepEqual(prev.Ingest, next.Ingest) || !reflect.DeepEqual(prev.Metrics, next.Metrics) {
		a.logger.Warn("changes to the server, ingest and metrics sections take effect after a restart")
	}
	if err := a.auth.Update(next.Auth); err != nil {
		a.reloadFailed()
		return err
	}
	if err := a.applyAlertmanager(next); err != nil {
		_ = a.auth.Update(prev.Auth) // The old credentials were valid a moment ago.
		a.reloadFailed()
		return err
	}
	if a.Ready() {
		eff, err := a.applyPrometheus(next)
		if err != nil {
			// The old settings were valid a moment ago.
			_ = a.auth.Update(prev.Auth)
			_ = a.applyAlertmanager(prev)
			a.reloadFailed()
			return err
		}
		next = eff
	}
	a.setConfig(next)
	a.reloadOK.Store(true)
	a.lastReload.Store(time.Now().Unix())
	a.reloadMetrics.record(true)
	a.logger.Info("config reloaded", "file", a.opts.ConfigFile)
	return nil
}

func (a *App) reloadFailed() {
	a.reloadOK.Store(false)
	a.reloadMetrics.record(false)
}

// applyPrometheus hands the Prometheus sections to the store, discovery,
// scrape and rule managers, and returns a copy of cfg holding the effective
// Prometheus config (with the self-scrape and extra jobs). cfg itself is
// not modified: it may be the config that requests are reading.
func (a *App) applyPrometheus(cfg *config.Config) (*config.Config, error) {
	pc, err := a.effectivePrometheus(cfg)
	if err != nil {
		return nil, err
	}
	if err := a.store.ApplyConfig(pc); err != nil {
		return nil, fmt.Errorf("apply storage config: %w", err)
	}
	scfgs, err := pc.GetScrapeConfigs()
	if err != nil {
		return nil, fmt.Errorf("load scrape configs: %w", err)
	}
	sd := make(map[string]discovery.Configs, len(scfgs))
	for _, s := range scfgs {
		sd[s.JobName] = s.ServiceDiscoveryConfigs
	}
	if err := a.rules.Update(time.Duration(pc.GlobalConfig.EvaluationInterval), pc.RuleFiles, pc.GlobalConfig.ExternalLabels, "", nil); err != nil {
		return nil, fmt.Errorf("load rule files: %w", err)
	}
	if err := a.applyAlerting(pc); err != nil {
		return nil, err
	}
	if err := a.applyLogs(cfg); err != nil {
		return nil, err
	}
	if err := a.scrape.ApplyConfig(pc); err != nil {
		return nil, fmt.Errorf("apply scrape config: %w", err)
	}
	if err := a.discovery.ApplyConfig(sd); err != nil {
		return nil, fmt.Errorf("apply discovery config: %w", err)
	}
	a.applyGoGC(pc.Runtime.GoGC)
	eff := *cfg
	eff.Prometheus = pc
	return &eff, nil
}

// applyGoGC sets the garbage collector's target from the runtime section,
// as Prometheus does on every config load: gogc defaults to 75 (or to the
// GOGC environment variable), which keeps the heap smaller than Go's 100
// for a little more CPU. 0 counts as unset. GOGC in the environment is
// updated too, for status/runtimeinfo.
func (a *App) applyGoGC(gogc int) {
	if gogc == 0 {
		gogc = promconfig.DefaultRuntimeConfig.GoGC
	}
	if old := debug.SetGCPercent(gogc); old != gogc {
		a.logger.Info("updated GOGC", "old", old, "new", gogc)
	}
	v := "off"
	if gogc >= 0 {
		v = strconv.Itoa(gogc)
	}
	_ = os.Setenv("GOGC", v) // only fails for an invalid name
}

// effectivePrometheus returns a copy of the Prometheus config with the
// self-scrape job and the extra scrape jobs added.
func (a *App) effectivePrometheus(cfg *config.Config) (*promconfig.Config, error) {
	pc := *cfg.Prometheus
	pc.ScrapeConfigs = append([]*promconfig.ScrapeConfig(nil), cfg.Prometheus.ScrapeConfigs...)
	extra := append([]*promconfig.ScrapeConfig(nil), a.opts.ExtraScrapeConfigs...)
	if cfg.Metrics.SelfScrape {
		extra = append(extra, a.selfScrapeConfig(cfg))
	}
	have := map[string]bool{}
	for _, s := range pc.ScrapeConfigs {
		have[s.JobName] = true
	}
	for _, s := range extra {
		if have[s.JobName] {
			continue
		}
		// Validate fills in defaults in place; work on a copy so that the
		// caller's configs, which a running scrape manager may hold, stay put.
		c := *s
		if err := c.Validate(pc.GlobalConfig); err != nil {
			return nil, fmt.Errorf("scrape job %q: %w", c.JobName, err)
		}
		pc.ScrapeConfigs = append(pc.ScrapeConfigs, &c)
	}
	return &pc, nil
}

// selfScrapeConfig scrapes the server's own /metrics as job "lookout".
func (a *App) selfScrapeConfig(cfg *config.Config) *promconfig.ScrapeConfig {
	return StaticScrapeConfig("lookout", a.Addr(), time.Duration(cfg.Metrics.SelfScrapeInterval), a.internalToken)
}

// StaticScrapeConfig returns a scrape job for one target with Prometheus'
// defaults; bearer, if set, is sent as the Authorization credentials.
func StaticScrapeConfig(job, addr string, interval time.Duration, bearer string) *promconfig.ScrapeConfig {
	s := promconfig.DefaultScrapeConfig
	s.JobName = job
	s.ScrapeInterval = model.Duration(interval)
	s.ScrapeTimeout = model.Duration(min(interval, 10*time.Second))
	s.MetricsPath = "/metrics"
	s.Scheme = "http"
	s.HTTPClientConfig = commoncfg.DefaultHTTPClientConfig
	if bearer != "" {
		s.HTTPClientConfig.Authorization = &commoncfg.Authorization{Type: "Bearer", Credentials: commoncfg.Secret(bearer)}
	}
	s.ServiceDiscoveryConfigs = discovery.Configs{discovery.StaticConfig{{
		Targets: []model.LabelSet{{model.AddressLabel: model.LabelValue(addr)}},
		Source:  job,
	}}}
	return &s
}

// healthChecks are the components /health reports on.
func (a *App) healthChecks() []health.Named {
	return []health.Named{
		{Name: "metrics_store", Check: func(ctx context.Context) (map[string]any, error) {
			if !a.Ready() {
				return map[string]any{"wal_replay": "in progress"}, fmt.Errorf("replaying WAL: %w", health.ErrDegraded)
			}
			q, err := a.store.Querier(0, 1)
			if err != nil {
				return nil, err
			}
			_ = q.Close()
			db := a.store.DB()
			if db == nil {
				return nil, errors.New("metrics store closed")
			}
			// NumSeries is a counter read; Stats would walk the whole postings
			// index on every health poll.
			return map[string]any{"head_series": db.Head().NumSeries()}, nil
		}},
		{Name: "disk", Check: func(context.Context) (map[string]any, error) {
			var fs syscall.Statfs_t
			if err := syscall.Statfs(a.opts.DataDir, &fs); err != nil {
				return nil, fmt.Errorf("stat data directory: %w", err)
			}
			free := float64(fs.Bavail) / float64(fs.Blocks) * 100
			d := map[string]any{"free_percent": float64(int(free*100)) / 100, "path": a.opts.DataDir}
			switch {
			case free < 2:
				return d, errors.New("data directory is almost full")
			case free < 10:
				return d, fmt.Errorf("less than 10%% free: %w", health.ErrDegraded)
			}
			return d, nil
		}},
		{Name: "config", Check: func(context.Context) (map[string]any, error) {
			if !a.reloadOK.Load() {
				return nil, fmt.Errorf("last reload failed; the previous config is running: %w", health.ErrDegraded)
			}
			return nil, nil
		}},
	}
}
