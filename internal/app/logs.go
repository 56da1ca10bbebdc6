package app

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"path/filepath"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/rules"

	"github.com/lookout-dev/lookout/internal/buildinfo"
	"github.com/lookout-dev/lookout/internal/config"
	"github.com/lookout-dev/lookout/internal/event"
	"github.com/lookout-dev/lookout/internal/eventstore"
	"github.com/lookout-dev/lookout/internal/eventstore/duckstore"
	"github.com/lookout-dev/lookout/internal/ingest/elastic"
	"github.com/lookout-dev/lookout/internal/ingest/logmetrics"
	"github.com/lookout-dev/lookout/internal/ingest/logsapi"
	"github.com/lookout-dev/lookout/internal/ingest/lokipush"
	"github.com/lookout-dev/lookout/internal/ingest/otlplogs"
	"github.com/lookout-dev/lookout/internal/ingest/syslog"
	"github.com/lookout-dev/lookout/internal/logql"
	"github.com/lookout-dev/lookout/internal/logrules"
	"github.com/lookout-dev/lookout/internal/lokiapi"
	"github.com/lookout-dev/lookout/internal/pipeline"
	"github.com/lookout-dev/lookout/internal/process"
)

// retentionInterval is how often the event store's retention runs.
const retentionInterval = 5 * time.Minute

// logs is the logs subsystem: the event store, the processing pipelines per
// source, the receivers, the LogQL engine with the Loki API, and log rules.
type logs struct {
	store   eventstore.Store
	engine  *logql.Engine
	api     *lokiapi.API
	rules   *rules.Manager
	syslog  *syslog.Server
	metrics *logmetrics.Metrics
	// stages holds the processing pipeline of every source; Reload swaps it.
	stages atomic.Pointer[map[string]process.Stage]

	otlp    *otlplogs.Receiver
	loki    http.Handler
	elastic *elastic.Receiver
	http    http.Handler
}

// buildLogs opens the event store and builds everything on top of it.
func (a *App) buildLogs(cfg *config.Config) error {
	lc := cfg.Logs
	st, err := duckstore.Open(a.ctx, duckstore.Options{
		Dir:         filepath.Join(a.opts.DataDir, "events"),
		MemoryLimit: int64(lc.Store.MemoryLimit),
		Threads:     lc.Store.Threads,
		Logger:      a.logger.With("component", "eventstore"),
		Registerer:  a.reg,
	})
	if err != nil {
		return fmt.Errorf("open event store: %w", err)
	}
	l := &logs{store: st, metrics: logmetrics.New(a.reg)}
	a.logs = l
	stages, err := process.BuildSources(lc, a.logger.With("component", "log-pipeline"), a.reg)
	if err != nil {
		return err
	}
	l.stages.Store(&stages)
	l.engine = logql.NewEngine(st, logql.Options{Logger: a.logger})
	l.api = lokiapi.New(st, l.engine, lokiapi.Options{Version: buildinfo.Version, Logger: a.logger.With("component", "loki-api")})

	maxLine := int(lc.MaxLineBytes)
	maxBody := int64(lc.MaxBodyBytes)
	l.otlp = otlplogs.New(a.logger, a.logConsumer("otlp"), otlplogs.Options{MaxLineBytes: maxLine, Metrics: l.metrics})
	l.loki = lokipush.New(a.logger, a.reg, a.logConsumer("loki"), lokipush.Options{MaxBodyBytes: maxBody, MaxLineBytes: maxLine, Metrics: l.metrics})
	l.elastic = elastic.New(a.logger, a.reg, a.logConsumer("elastic"), elastic.Options{MaxBodyBytes: maxBody, MaxLineBytes: maxLine, Metrics: l.metrics})
	l.http = logsapi.New(a.logger, a.reg, a.logConsumer("http"), logsapi.Options{MaxBodyBytes: maxBody, MaxLineBytes: maxLine, Metrics: l.metrics})
	if lc.SyslogListen != "" && lc.SyslogListen != disabled {
		l.syslog = syslog.New(a.logger.With("component", "syslog"), a.reg, a.logConsumer("syslog"),
			syslog.Options{Listen: lc.SyslogListen, MaxLineBytes: maxLine, Metrics: l.metrics})
	}
	l.rules = logrules.New(a.ctx, logrules.Options{
		Appendable: a.store,
		Queryable:  a.store,
		Query:      l.queryFunc,
		Validate:   validateLogRule,
		Notify:     a.sendAlerts,
		Logger:     a.logger.With("component", "log-rules"),
		Registerer: a.reg,
	})
	return nil
}

// logConsumer returns the consumer for one source: that source's current
// processing pipeline, then the event store. A full store is "overloaded"
// (429 with Retry-After); other store errors are "unavailable" (503).
func (a *App) logConsumer(source string) pipeline.Consumer[[]event.Record] {
	return pipeline.ConsumerFunc[[]event.Record](func(ctx context.Context, batch []event.Record) error {
		l := a.logs
		if stage := (*l.stages.Load())[source]; stage != nil {
			var err error
			if batch, err = stage(ctx, batch); err != nil {
				return fmt.Errorf("process logs: %w", err)
			}
		}
		if len(batch) == 0 {
			return nil
		}
		if err := l.store.Append(ctx, batch); err != nil {
			if errors.Is(err, eventstore.ErrFull) {
				return fmt.Errorf("%w: %w", logmetrics.ErrOverloaded, err)
			}
			return fmt.Errorf("store logs: %w", err)
		}
		return nil
	})
}

// applyLogs applies the reloadable parts of the logs section: pipelines and
// rule files. Retention is read on each pass.
func (a *App) applyLogs(cfg *config.Config) error {
	l := a.logs
	stages, err := process.BuildSources(cfg.Logs, a.logger.With("component", "log-pipeline"), a.reg)
	if err != nil {
		return err
	}
	if err := logrules.CheckFiles(cfg.Logs.RuleFiles, validateLogRule); err != nil {
		return fmt.Errorf("load log rule files: %w", err)
	}
	pc := cfg.Prometheus
	if err := l.rules.Update(time.Duration(pc.GlobalConfig.EvaluationInterval), cfg.Logs.RuleFiles, pc.GlobalConfig.ExternalLabels, "", nil); err != nil {
		return fmt.Errorf("load log rule files: %w", err)
	}
	l.stages.Store(&stages)
	return nil
}

// queryFunc runs a LogQL rule expression at one instant.
func (l *logs) queryFunc(ctx context.Context, q string, t time.Time) (promql.Vector, error) {
	res, err := l.engine.Query(ctx, logql.QueryParams{Query: q, Start: t, End: t, Kind: event.KindLog})
	if err != nil {
		return nil, err
	}
	switch v := res.Value.(type) {
	case logql.Vector:
		out := make(promql.Vector, 0, len(v))
		for _, s := range v {
			out = append(out, promql.Sample{Metric: s.Labels, T: s.T / int64(time.Millisecond), F: s.V})
		}
		return out, nil
	case logql.Scalar:
		return promql.Vector{{Metric: labels.EmptyLabels(), T: v.T / int64(time.Millisecond), F: v.V}}, nil
	}
	return nil, fmt.Errorf("rule query %q returned %T, not a vector", q, res.Value)
}

// validateLogRule accepts LogQL metric queries only, as Loki's ruler does.
func validateLogRule(expr string) error {
	e, err := logql.ParseExpr(expr)
	if err != nil {
		return err
	}
	if _, ok := e.(*logql.LogSelectorExpr); ok {
		return errors.New("log rules need a metric query (for example count_over_time(...)), not a log query")
	}
	return nil
}

// runRetention applies the retention policy now and then every
// retentionInterval until ctx ends.
func (a *App) runRetention(ctx context.Context) error {
	t := time.NewTicker(retentionInterval)
	defer t.Stop()
	for {
		pol, err := retentionPolicy(a.config().Logs.Retention)
		if err != nil {
			a.logger.Error("log retention policy", "err", err) // validated at load; not expected
		} else if res, err := a.logs.store.ApplyRetention(ctx, time.Now(), pol); err != nil && ctx.Err() == nil {
			a.logger.Warn("log retention failed", "err", err)
		} else if res.Deleted > 0 {
			a.logger.Info("log retention deleted records", "records", res.Deleted, "size_after", res.SizeAfter)
		}
		select {
		case <-ctx.Done():
			return nil
		case <-t.C:
		}
	}
}

func retentionPolicy(r config.LogsRetention) (eventstore.Retention, error) {
	pol := eventstore.Retention{Default: time.Duration(r.Period), MaxBytes: int64(r.MaxSize)}
	p := parser.NewParser(parser.Options{})
	for _, rule := range r.Rules {
		ms, err := p.ParseMetricSelector(rule.Selector)
		if err != nil {
			return pol, fmt.Errorf("retention selector %q: %w", rule.Selector, err)
		}
		pol.Rules = append(pol.Rules, eventstore.RetentionRule{Matchers: ms, Period: time.Duration(rule.Period)})
	}
	return pol, nil
}

// registerLogRoutes mounts the log ingest endpoints and the Loki API on the
// main mux.
func (a *App) registerLogRoutes(mux *http.ServeMux) {
	l := a.logs
	mux.Handle("POST /loki/api/v1/push", a.guard(l.loki, "loki_push", http.StatusTooManyRequests))
	mux.Handle("POST /otlp/v1/logs", a.guard(l.otlp, "otlp_http", http.StatusTooManyRequests))
	mux.Handle("POST /api/v1/logs", a.guard(l.http, "logs_http", http.StatusTooManyRequests))
	l.api.Register(mux)
	mux.Handle("/elastic/", http.StripPrefix("/elastic", a.elasticHandler()))
}

// elasticHandler is the Elasticsearch API, guarded like every ingest endpoint.
func (a *App) elasticHandler() http.Handler {
	es := http.NewServeMux()
	a.logs.elastic.Register(es, "")
	return a.guard(es, "elastic_bulk", http.StatusTooManyRequests)
}

// startLogs starts the syslog receiver and the retention loop. Log rules
// start with the metric rules, once the metrics store is open.
func (a *App) startLogs() error {
	l := a.logs
	if l.syslog != nil {
		if err := l.syslog.Start(a.ctx); err != nil {
			return fmt.Errorf("start syslog receiver on %s (logs.syslog_listen): %w", a.config().Logs.SyslogListen, err)
		}
	}
	a.goLoop("log-retention", func() error { return a.runRetention(a.ctx) })
	return nil
}

// SyslogAddr is the syslog receiver's address, "" when disabled.
func (a *App) SyslogAddr() string {
	if a.logs == nil || a.logs.syslog == nil {
		return ""
	}
	return a.logs.syslog.Addr()
}

// EventStore is the event store holding logs.
func (a *App) EventStore() eventstore.Store { return a.logs.store }

// uiOrElastic serves the UI, except for what Elasticsearch clients ask at
// the root: paths under "/_" (_bulk, _license, _template, …), "/<index>/_bulk",
// and their probe of "/" (HEAD, or a GET that does not ask for HTML). UI
// paths never start with "/_".
func uiOrElastic(ui, es http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		p := r.URL.Path
		probe := p == "/" && (r.Method == http.MethodHead ||
			r.Method == http.MethodGet && !strings.Contains(r.Header.Get("Accept"), "text/html"))
		if probe || strings.HasPrefix(p, "/_") || strings.HasSuffix(p, "/_bulk") {
			es.ServeHTTP(w, r)
			return
		}
		ui.ServeHTTP(w, r)
	})
}

// allRules shows metric and log rules together in /api/v1/rules and
// /api/v1/alerts, as Loki's ruler API and Prometheus' do for their own.
type allRules []*rules.Manager

func (m allRules) RuleGroups() []*rules.Group {
	var out []*rules.Group
	for _, r := range m {
		out = append(out, r.RuleGroups()...)
	}
	return out
}

func (m allRules) AlertingRules() []*rules.AlertingRule {
	var out []*rules.AlertingRule
	for _, r := range m {
		out = append(out, r.AlertingRules()...)
	}
	return out
}
