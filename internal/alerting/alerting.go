// Package alerting runs Lookout's embedded Alertmanager: the alerts that
// rules produce are grouped, inhibited, silenced, routed and delivered by
// Alertmanager's own packages, and its API v2 is served under a prefix.
//
// The long-lived parts (alert store, silences, notification log, API) are
// built once; the configuration-scoped parts (templates, routing tree,
// receivers, inhibitor, dispatcher) are rebuilt and swapped by ApplyConfig.
// A configuration that fails to build leaves the running one in place.
package alerting

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"time"

	"github.com/prometheus/alertmanager/api"
	amconfig "github.com/prometheus/alertmanager/config"
	"github.com/prometheus/alertmanager/config/receiver"
	"github.com/prometheus/alertmanager/dispatch"
	"github.com/prometheus/alertmanager/eventrecorder"
	"github.com/prometheus/alertmanager/featurecontrol"
	"github.com/prometheus/alertmanager/inhibit"
	"github.com/prometheus/alertmanager/marker"
	"github.com/prometheus/alertmanager/nflog"
	"github.com/prometheus/alertmanager/notify"
	"github.com/prometheus/alertmanager/provider/mem"
	"github.com/prometheus/alertmanager/silence"
	"github.com/prometheus/alertmanager/template"
	"github.com/prometheus/alertmanager/timeinterval"
	"github.com/prometheus/alertmanager/types"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/model"
	"github.com/prometheus/common/route"
)

// Prefix is where the Alertmanager API v2 is served: /alertmanager/api/v2/...
const Prefix = "/alertmanager"

// IntegrationBuilder turns a receiver's configuration into integrations.
type IntegrationBuilder func(rcv amconfig.Receiver, tmpl *template.Template, logger *slog.Logger) ([]notify.Integration, error)

// Options configures a Manager.
type Options struct {
	// Dir holds the silences and notification log snapshots.
	Dir        string
	Logger     *slog.Logger
	Registerer prometheus.Registerer
	// ExternalURL is the base of links in notifications (Lookout's UI);
	// SetExternalURL changes it for the next ApplyConfig.
	ExternalURL *url.URL
	// Retention is how long notification log entries and expired silences are kept.
	Retention time.Duration
	// MaintenanceInterval is how often silences and the notification log are
	// garbage-collected and written to disk; they are also written on Stop.
	MaintenanceInterval time.Duration
	// HistorySize bounds the notification history kept in memory.
	HistorySize int
	// BuildIntegrations replaces the real notifiers; tests use it.
	BuildIntegrations IntegrationBuilder
}

// Manager is the embedded Alertmanager.
type Manager struct {
	opts   Options
	logger *slog.Logger

	alerts      *mem.Alerts
	silences    *silence.Silences
	nflog       *nflog.Log
	silencer    *silence.Silencer
	groupMarker marker.GroupMarker
	api         *api.API
	mux         http.Handler
	pipeline    *notify.PipelineBuilder
	dispMetrics *dispatch.DispatcherMetrics
	history     *History
	metrics     *notifyMetrics
	startTime   time.Time

	mu         sync.RWMutex // guards the fields below
	extURL     *url.URL
	conf       *amconfig.Config
	dispatcher *dispatch.Dispatcher
	inhibitor  *inhibit.Inhibitor
	tmpl       *template.Template

	applyMu  sync.Mutex // serialises ApplyConfig
	stopc    chan struct{}
	wg       sync.WaitGroup
	cancel   context.CancelFunc
	stopOnce sync.Once
	recorder eventrecorder.Recorder
}

// New builds the long-lived components and loads persisted silences and
// the notification log. Call ApplyConfig before sending alerts.
func New(opts Options) (*Manager, error) {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	if opts.Registerer == nil {
		opts.Registerer = prometheus.NewRegistry()
	}
	if opts.Retention <= 0 {
		opts.Retention = 120 * time.Hour
	}
	if opts.MaintenanceInterval <= 0 {
		opts.MaintenanceInterval = time.Minute
	}
	if opts.HistorySize <= 0 {
		opts.HistorySize = 1000
	}
	if opts.ExternalURL == nil {
		opts.ExternalURL = &url.URL{Scheme: "http", Host: "localhost"}
	}
	if opts.BuildIntegrations == nil {
		opts.BuildIntegrations = func(rcv amconfig.Receiver, tmpl *template.Template, logger *slog.Logger) ([]notify.Integration, error) {
			return receiver.BuildReceiverIntegrations(rcv, tmpl, logger)
		}
	}
	if err := os.MkdirAll(opts.Dir, 0o750); err != nil {
		return nil, fmt.Errorf("create alertmanager data directory: %w", err)
	}
	logger := opts.Logger
	reg := opts.Registerer
	m := &Manager{
		opts:        opts,
		logger:      logger,
		stopc:       make(chan struct{}),
		groupMarker: marker.NewGroupMarker(),
		history:     newHistory(opts.HistorySize),
		metrics:     newNotifyMetrics(reg),
		startTime:   time.Now(),
		recorder:    eventrecorder.NopRecorder(),
		extURL:      opts.ExternalURL,
	}
	ff := featurecontrol.NoopFlags{}

	var err error
	m.nflog, err = nflog.New(nflog.Options{
		SnapshotFile: filepath.Join(opts.Dir, "nflog"),
		Retention:    opts.Retention,
		Logger:       logger.With("component", "nflog"),
		Metrics:      reg,
	})
	if err != nil {
		return nil, fmt.Errorf("load notification log: %w", err)
	}
	m.silences, err = silence.New(silence.Options{
		SnapshotFile:  filepath.Join(opts.Dir, "silences"),
		Retention:     opts.Retention,
		Logger:        logger.With("component", "silences"),
		Metrics:       reg,
		EventRecorder: m.recorder,
	})
	if err != nil {
		return nil, fmt.Errorf("load silences: %w", err)
	}
	m.silencer = silence.NewSilencer(m.silences, logger, m.recorder)

	ctx, cancel := context.WithCancel(context.Background())
	m.cancel = cancel
	m.alerts, err = mem.NewAlerts(ctx, 30*time.Minute, 0, m.silencer, logger.With("component", "alerts"), m.recorder, reg, ff)
	if err != nil {
		cancel()
		return nil, fmt.Errorf("create alert store: %w", err)
	}

	m.api, err = api.New(api.Options{
		Alerts:          m.alerts,
		Silences:        m.silences,
		GroupMutedFunc:  m.groupMarker.Muted,
		Timeout:         time.Minute,
		Logger:          logger.With("component", "alertmanager-api"),
		Registry:        reg,
		RequestDuration: newRequestDuration(reg),
		GroupFunc: func(ctx context.Context, rf func(*dispatch.Route) bool, af func(*types.Alert, time.Time) bool) (dispatch.AlertGroups, map[model.Fingerprint][]string, error) {
			d := m.currentDispatcher()
			if d == nil {
				return nil, nil, errors.New("alert routing is not configured yet")
			}
			return d.Groups(ctx, rf, af)
		},
	})
	if err != nil {
		m.alerts.Close()
		cancel()
		return nil, fmt.Errorf("create alertmanager API: %w", err)
	}
	router := route.New().WithPrefix(Prefix)
	m.mux = m.api.Register(router, Prefix)
	m.pipeline = notify.NewPipelineBuilder(reg, ff, m.recorder)
	m.dispMetrics = dispatch.NewDispatcherMetrics(false, reg, ff)

	m.wg.Add(2)
	go func() {
		defer m.wg.Done()
		m.nflog.Maintenance(opts.MaintenanceInterval, filepath.Join(opts.Dir, "nflog"), m.stopc, nil)
	}()
	go func() {
		defer m.wg.Done()
		m.silences.Maintenance(opts.MaintenanceInterval, filepath.Join(opts.Dir, "silences"), m.stopc, nil)
	}()
	return m, nil
}

// ApplyConfig builds the routing tree, receivers, inhibitor and dispatcher
// from conf and swaps them in. On error the running configuration stays.
func (m *Manager) ApplyConfig(conf *amconfig.Config) error {
	m.applyMu.Lock()
	defer m.applyMu.Unlock()

	tmpl, err := m.templates(conf.Templates)
	if err != nil {
		return err
	}
	routes := dispatch.NewRoute(conf.Route, nil)
	used := map[string]bool{}
	routes.Walk(func(r *dispatch.Route) { used[r.RouteOpts.Receiver] = true })
	receivers := make(map[string][]notify.Integration, len(used))
	for _, rcv := range conf.Receivers {
		if !used[rcv.Name] {
			continue
		}
		integrations, err := m.opts.BuildIntegrations(rcv, tmpl, m.logger.With("component", "notify"))
		if err != nil {
			return fmt.Errorf("receiver %q: %w", rcv.Name, err)
		}
		wrapped := make([]notify.Integration, len(integrations))
		for i := range integrations {
			in := &integrations[i]
			wrapped[i] = notify.NewIntegration(&recordingNotifier{inner: in, receiver: rcv.Name, m: m}, in, in.Name(), in.Index(), rcv.Name)
		}
		receivers[rcv.Name] = wrapped
	}
	intervals := make(map[string][]timeinterval.TimeInterval, len(conf.MuteTimeIntervals)+len(conf.TimeIntervals))
	for _, ti := range conf.MuteTimeIntervals {
		intervals[ti.Name] = ti.TimeIntervals
	}
	for _, ti := range conf.TimeIntervals {
		intervals[ti.Name] = ti.TimeIntervals
	}

	// Nothing below fails: stop the old routing, start the new one.
	m.mu.Lock()
	oldDisp, oldInhib := m.dispatcher, m.inhibitor
	m.mu.Unlock()
	if oldInhib != nil {
		oldInhib.Stop()
	}
	if oldDisp != nil {
		oldDisp.Stop()
	}
	inhibitor := inhibit.NewInhibitor(m.alerts, conf.InhibitRules, m.logger.With("component", "inhibitor"), m.recorder)
	pipeline := m.pipeline.New(receivers, func() time.Duration { return 0 }, inhibitor, m.silencer,
		timeinterval.NewIntervener(intervals), m.groupMarker, m.nflog, nil)
	m.api.Update(conf, func(ctx context.Context, lset model.LabelSet) {
		m.mu.RLock()
		in := m.inhibitor
		m.mu.RUnlock()
		if in != nil {
			in.Mutes(ctx, lset)
		}
		m.silencer.Mutes(ctx, lset)
	})
	disp := dispatch.NewDispatcher(m.alerts, routes, pipeline, m.groupMarker, timeout, 30*time.Second, nil,
		m.logger.With("component", "dispatcher"), m.recorder, m.dispMetrics, tmpl)

	go inhibitor.Run()
	inhibitor.WaitForLoading()
	go disp.Run(m.startTime)
	disp.WaitForLoading()

	m.mu.Lock()
	m.conf, m.dispatcher, m.inhibitor, m.tmpl = conf, disp, inhibitor, tmpl
	m.mu.Unlock()
	return nil
}

// timeout bounds one notification attempt cycle, as Alertmanager does.
func timeout(d time.Duration) time.Duration {
	return max(d, notify.MinTimeout)
}

// templates loads Alertmanager's default templates, then Lookout's (which
// add summaries and runbooks to the default messages), then the user's,
// so the user's definitions win.
func (m *Manager) templates(globs []string) (*template.Template, error) {
	t, err := template.FromGlobs(nil)
	if err != nil {
		return nil, fmt.Errorf("load default templates: %w", err)
	}
	if err := t.Parse(strings.NewReader(lookoutTemplates)); err != nil {
		return nil, fmt.Errorf("BUG: Lookout's templates do not parse: %w", err)
	}
	for _, g := range globs {
		if err := t.FromGlob(g); err != nil {
			return nil, fmt.Errorf("load templates %s: %w", g, err)
		}
	}
	m.mu.RLock()
	t.ExternalURL = m.extURL
	m.mu.RUnlock()
	return t, nil
}

// SetExternalURL sets the base of links in notifications; it takes effect
// with the next ApplyConfig.
func (m *Manager) SetExternalURL(u *url.URL) {
	m.mu.Lock()
	m.extURL = u
	m.mu.Unlock()
}

// ExternalURL is the base of links in notifications.
func (m *Manager) ExternalURL() *url.URL {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.extURL
}

func (m *Manager) currentDispatcher() *dispatch.Dispatcher {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.dispatcher
}

// Config is the running Alertmanager configuration.
func (m *Manager) Config() *amconfig.Config {
	m.mu.RLock()
	defer m.mu.RUnlock()
	return m.conf
}

// Put hands alerts to routing. It is how rule evaluation delivers alerts.
func (m *Manager) Put(ctx context.Context, alerts ...*types.Alert) error {
	for _, a := range alerts {
		if err := a.Validate(); err != nil {
			return fmt.Errorf("invalid alert %s: %w", a.Labels, err)
		}
	}
	return m.alerts.Put(ctx, alerts...)
}

// Handler serves the Alertmanager API v2 under Prefix.
func (m *Manager) Handler() http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		m.mux.ServeHTTP(schemaErrorWriter{w}, r)
	})
}

// schemaErrorWriter answers 400 where Alertmanager's generated API answers
// 422 for a body that breaks its OpenAPI schema (a silence without
// matchers, a field of the wrong type), so that every malformed alert or
// silence gets 400 with the reason, as the rest of Lookout's APIs do. The
// body, which names the field, is unchanged; Prometheus and amtool treat
// both codes as a rejected request.
type schemaErrorWriter struct{ http.ResponseWriter }

func (w schemaErrorWriter) WriteHeader(code int) {
	if code == http.StatusUnprocessableEntity {
		code = http.StatusBadRequest
	}
	w.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the connection.
func (w schemaErrorWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// History is the record of notifications sent.
func (m *Manager) History() *History { return m.history }

// Stop stops routing and writes silences and the notification log to disk.
func (m *Manager) Stop() {
	m.stopOnce.Do(func() {
		m.mu.Lock()
		disp, inhib := m.dispatcher, m.inhibitor
		m.mu.Unlock()
		if inhib != nil {
			inhib.Stop()
		}
		if disp != nil {
			disp.Stop()
		}
		m.alerts.Close()
		m.cancel()
		close(m.stopc)
		m.wg.Wait()
	})
}

func newRequestDuration(reg prometheus.Registerer) *prometheus.HistogramVec {
	h := prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:                            "alertmanager_http_request_duration_seconds",
		Help:                            "Histogram of latencies for HTTP requests to the embedded Alertmanager API.",
		Buckets:                         []float64{.05, 0.1, .25, .5, .75, 1, 2, 5, 20, 60},
		NativeHistogramBucketFactor:     1.1,
		NativeHistogramMaxBucketNumber:  100,
		NativeHistogramMinResetDuration: time.Hour,
	}, []string{"handler", "method", "code"})
	reg.MustRegister(h)
	return h
}
