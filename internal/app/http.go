package app

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/pprof"
	"os"
	"runtime"
	"runtime/debug"
	"strings"
	"time"

	"github.com/grafana/regexp"
	remoteapi "github.com/prometheus/client_golang/exp/api/remote"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	"github.com/prometheus/common/route"
	promconfig "github.com/prometheus/prometheus/config"
	"github.com/prometheus/prometheus/util/features"
	"github.com/prometheus/prometheus/util/notifications"
	apiv1 "github.com/prometheus/prometheus/web/api/v1"

	"github.com/lookout-dev/lookout/internal/alerting"
	"github.com/lookout-dev/lookout/internal/buildinfo"
	"github.com/lookout-dev/lookout/internal/health"
	"github.com/lookout-dev/lookout/internal/ingest/admission"
	"github.com/lookout-dev/lookout/internal/ingest/remotewrite"
	"github.com/lookout-dev/lookout/internal/selfobs"
	"github.com/lookout-dev/lookout/internal/ui"
)

// noCORS matches no Origin: browsers on other sites may not read the API.
var noCORS = regexp.MustCompile("^(?:)$")

// newAPIRouter returns Prometheus' API v1 mounted under /api/v1.
func (a *App) newAPIRouter() http.Handler {
	router := route.New()
	a.newPromAPI().Register(router.WithPrefix("/api/v1"))
	return router
}

// newPromAPI builds Prometheus' own HTTP API v1 on Lookout's stores, so that
// response bodies, error types and status codes are Prometheus' exactly. It
// also owns the remote-write and OTLP write handlers, which may only be
// constructed once per registry.
func (a *App) newPromAPI() *apiv1.API {
	cfg := a.config()
	bi := buildinfo.Get()
	return apiv1.NewAPI(
		a.engine,
		a.store,
		a.store, otlpAppendable{a.store}, // v1 appender for remote write, v2 for OTLP
		a.store,
		func(context.Context) apiv1.ScrapePoolsRetriever { return a.scrape },
		func(context.Context) apiv1.TargetRetriever { return a.scrape },
		func(context.Context) apiv1.AlertmanagerRetriever { return alertmanagerRetriever{a} },
		func() promconfig.Config { return *a.config().Prometheus },
		a.opts.Flags,
		apiv1.GlobalURLOptions{ListenAddress: cfg.Server.Listen, Host: a.Addr(), Scheme: "http"},
		a.readyFunc,
		a.store,
		a.store.Dir(),
		false, // admin API: off until the auth model has roles
		true, 10000,
		a.apiLogger(),
		func(context.Context) apiv1.RulesRetriever { return allRules{a.rules, a.logs.rules} },
		5e7, 10, 1<<20, // remote read: sample limit, concurrency, bytes per frame (Prometheus' defaults)
		false,
		noCORS,
		a.runtimeInfo,
		&apiv1.PrometheusVersion{Version: bi.Version, Revision: bi.Revision, Branch: bi.Branch, BuildUser: bi.BuildUser, BuildDate: bi.BuildDate, GoVersion: bi.GoVersion},
		func() []notifications.Notification { return nil },
		func() (<-chan notifications.Notification, func(), bool) { return nil, func() {}, false },
		a.reg, a.reg,
		nil,
		true, remoteapi.MessageTypes{remoteapi.WriteV1MessageType, remoteapi.WriteV2MessageType},
		true, false, false, // OTLP on; delta conversion off, as in Prometheus 3 by default
		false,
		time.Duration(cfg.Metrics.LookbackDelta),
		false, false,
		nil,
		features.NewRegistry(),
		apiv1.OpenAPIOptions{Version: bi.Version},
		nil,
	)
}

// remoteWritePerItem are the messages Prometheus' write handlers log once
// per refused sample, histogram or exemplar, with the reason each counts as.
// The handler uses its "out of order" message for out-of-bounds, too-old and
// duplicate samples as well, hence the broad reason.
var remoteWritePerItem = map[string]string{
	"Out of order sample from remote write":    "out_of_order_or_too_old",
	"Out of order histogram from remote write": "out_of_order_or_too_old",
	"Invalid histogram received":               "invalid_histogram",
	"Out of order exemplar":                    "out_of_order_exemplar",
}

// apiLogger is the API's logger with per-item rejection lines turned into
// counts: one bad sender must not be able to flood the log.
func (a *App) apiLogger() *slog.Logger {
	items := selfobs.NewRejectedItems(a.reg)
	h := selfobs.NewItemFilter(a.logger.Handler(), items, "remote_write", remoteWritePerItem)
	return slog.New(h).With("component", "api")
}

// readyFunc answers 503 until the metrics store is open, like Prometheus.
func (a *App) readyFunc(f http.HandlerFunc) http.HandlerFunc {
	return func(w http.ResponseWriter, r *http.Request) {
		if !a.Ready() {
			w.WriteHeader(http.StatusServiceUnavailable)
			_, _ = io.WriteString(w, "Service Unavailable")
			return
		}
		f(w, r)
	}
}

func (a *App) runtimeInfo() (apiv1.RuntimeInfo, error) {
	cfg := a.config()
	cwd, _ := os.Getwd()
	retention := time.Duration(cfg.Metrics.RetentionTime).String()
	if cfg.Metrics.RetentionSize > 0 {
		retention += " or " + cfg.Metrics.RetentionSize.String()
	}
	return apiv1.RuntimeInfo{
		StartTime:           a.startTime,
		CWD:                 cwd,
		Hostname:            hostname(),
		ServerTime:          time.Now().UTC(),
		ReloadConfigSuccess: a.reloadOK.Load(),
		LastConfigTime:      time.Unix(a.lastReload.Load(), 0).UTC(),
		GoroutineCount:      runtime.NumGoroutine(),
		GOMAXPROCS:          runtime.GOMAXPROCS(0),
		GOMEMLIMIT:          debug.SetMemoryLimit(-1),
		GOGC:                os.Getenv("GOGC"),
		GODEBUG:             os.Getenv("GODEBUG"),
		StorageRetention:    retention,
	}, nil
}

// mainHandler routes the main listener: UI, APIs, HTTP ingest, self-observability.
func (a *App) mainHandler(router http.Handler) http.Handler {
	mux := http.NewServeMux()
	mux.HandleFunc("GET /-/healthy", func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "Lookout is Healthy.\n")
	})
	mux.HandleFunc("GET /-/ready", a.readyFunc(func(w http.ResponseWriter, _ *http.Request) {
		_, _ = io.WriteString(w, "Lookout is Ready.\n")
	}))
	mux.HandleFunc("POST /-/reload", a.handleReload)
	mux.HandleFunc("PUT /-/reload", a.handleReload)
	mux.Handle("GET /health", health.Handler(buildinfo.Version, a.healthChecks()))
	mux.Handle("GET /metrics", promhttp.HandlerFor(a.reg, promhttp.HandlerOpts{EnableOpenMetrics: true, Registry: a.reg}))
	mux.Handle("POST /api/v1/write", a.guard(rwContentType(remotewrite.New(a.store, router, remotewrite.Options{Logger: a.logger.With("component", "api")})), "remote_write", http.StatusServiceUnavailable))
	mux.Handle("POST /api/v1/otlp/v1/metrics", a.guard(otlpStatus(router), "otlp_http", http.StatusTooManyRequests))
	mux.HandleFunc("GET /api/v1/notifications", a.handleNotifications)
	// Go's profiler, as Prometheus serves it, behind the same authentication.
	mux.HandleFunc("GET /debug/pprof/", pprof.Index)
	mux.HandleFunc("GET /debug/pprof/cmdline", pprof.Cmdline)
	mux.HandleFunc("GET /debug/pprof/profile", pprof.Profile)
	mux.HandleFunc("GET /debug/pprof/symbol", pprof.Symbol)
	mux.HandleFunc("GET /debug/pprof/trace", pprof.Trace)
	mux.Handle("/api/v1/", router)
	// Alertmanager's API v2, under its documented prefix and at the root, so
	// that amtool and Prometheus' alerting config work with or without a path prefix.
	am := a.alerting.Handler()
	mux.Handle(alerting.Prefix+"/api/", am)
	mux.Handle("/api/v2/", rootAMAPI(am))
	a.registerLogRoutes(mux)
	mux.Handle("/", uiOrElastic(ui.Handler(), a.elasticHandler()))

	public := map[string]bool{"/-/healthy": true, "/-/ready": true, "/health": true}
	authed := a.auth.Middleware(mux, func(r *http.Request) {
		if p := protocolOf(r.URL.Path); p != "" {
			a.admission.Rejected.WithLabelValues(p, "unauthorized").Inc()
		}
	})
	h := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if public[r.URL.Path] {
			mux.ServeHTTP(w, r)
			return
		}
		authed.ServeHTTP(w, r)
	})
	return selfobs.Middleware(h, a.logger, a.httpMetrics(), routeLabel)
}

// otlpHTTPHandler serves the OTLP/HTTP port: /v1/metrics is the same
// handler as /api/v1/otlp/v1/metrics on the main port.
func (a *App) otlpHTTPHandler(router http.Handler) http.Handler {
	metrics := a.otlpIngest(router, "otlp_http")
	mux := http.NewServeMux()
	mux.Handle("POST /v1/metrics", metrics)
	mux.Handle("POST /v1/logs", a.guard(a.logs.otlp, "otlp_http", http.StatusTooManyRequests))
	for _, signal := range []string{"traces"} {
		mux.HandleFunc("POST /v1/"+signal, func(w http.ResponseWriter, _ *http.Request) {
			a.admission.Rejected.WithLabelValues("otlp_http", "unsupported_signal").Inc()
			http.Error(w, "OTLP "+signal+" are not supported by this Lookout version; only /v1/metrics and /v1/logs are", http.StatusNotFound)
		})
	}
	h := a.auth.Middleware(mux, func(*http.Request) {
		a.admission.Rejected.WithLabelValues("otlp_http", "unauthorized").Inc()
	})
	return selfobs.Middleware(h, a.logger, a.httpMetrics(), routeLabel)
}

// otlpIngest returns the guarded OTLP metrics handler, rewriting the path to
// the Prometheus API's OTLP route.
func (a *App) otlpIngest(router http.Handler, protocol string) http.Handler {
	inner := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r2 := r.Clone(r.Context())
		r2.URL.Path = "/api/v1/otlp/v1/metrics"
		r2.Method = http.MethodPost
		router.ServeHTTP(w, r2)
	})
	return a.guard(otlpStatus(inner), protocol, http.StatusTooManyRequests)
}

// rwContentType answers 415 to a remote-write request whose Content-Type
// is not a protobuf message this server accepts. Prometheus' handler
// decompresses the body first, so a corrupt body with the wrong content
// type got 400; the spec and the compliance suite want 415.
func rwContentType(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if ct := r.Header.Get("Content-Type"); ct != "" {
			if _, err := remoteapi.ParseProtoMsg(ct); err != nil {
				http.Error(w, err.Error(), http.StatusUnsupportedMediaType)
				return
			}
		}
		next.ServeHTTP(w, r)
	})
}

func (a *App) guard(next http.Handler, protocol string, overload int) http.Handler {
	cfg := a.config()
	return admission.Guard(next, admission.Options{
		Protocol:       protocol,
		MaxBodyBytes:   int64(cfg.Ingest.MaxBodyBytes),
		OverloadStatus: overload,
		RetryAfter:     5 * time.Second,
		Limiter:        a.limiter,
		Metrics:        a.admission,
	})
}

func (a *App) httpMetrics() *selfobs.HTTPMetrics {
	a.httpMetricsOnce.Do(func() { a.httpM = selfobs.NewHTTPMetrics(a.reg) })
	return a.httpM
}

// protocolOf names the ingest protocol served at path, or "".
func protocolOf(path string) string {
	switch path {
	case "/api/v1/write":
		return "remote_write"
	case "/api/v1/otlp/v1/metrics", "/v1/metrics", "/v1/logs", "/otlp/v1/logs":
		return "otlp_http"
	case "/loki/api/v1/push":
		return "loki_push"
	case "/api/v1/logs":
		return "logs_http"
	}
	if strings.HasSuffix(path, "/_bulk") {
		return "elastic_bulk"
	}
	return ""
}

// routeLabel maps a path to a low-cardinality handler label.
func routeLabel(r *http.Request) string {
	p := r.URL.Path
	switch {
	case strings.HasPrefix(p, "/api/v1/label/"):
		return "/api/v1/label/:name/values"
	case strings.HasPrefix(p, "/debug/pprof/"):
		return "/debug/pprof"
	case strings.HasPrefix(p, "/loki/api/v1/label/"):
		return "/loki/api/v1/label/:name/values"
	case strings.HasSuffix(p, "/_bulk"):
		return "/:index/_bulk"
	case strings.HasPrefix(p, "/_"), strings.HasPrefix(p, "/elastic/"):
		return "/elastic"
	case strings.HasPrefix(p, "/loki/api/v1/"), strings.HasPrefix(p, "/otlp/v1/"):
		if len(p) > 64 {
			return "other"
		}
		return p
	case strings.HasPrefix(p, "/api/v2/silence/"), strings.HasPrefix(p, "/alertmanager/api/v2/silence/"):
		return "/api/v2/silence/:id"
	case strings.HasPrefix(p, "/api/v1/"), strings.HasPrefix(p, "/-/"), strings.HasPrefix(p, "/v1/"),
		strings.HasPrefix(p, "/api/v2/"), strings.HasPrefix(p, "/alertmanager/api/v2/"),
		p == "/metrics", p == "/health":
		if len(p) > 64 {
			return "other"
		}
		return p
	default:
		return "/ui"
	}
}

func (a *App) handleReload(w http.ResponseWriter, r *http.Request) {
	if err := a.Reload(); err != nil {
		selfobs.Logger(r.Context(), a.logger).Warn("config reload failed", "err", err)
		http.Error(w, "failed to reload config: "+err.Error(), http.StatusInternalServerError)
		return
	}
	_, _ = io.WriteString(w, "config reloaded\n")
}

// rootAMAPI serves /api/v2/... as /alertmanager/api/v2/....
func rootAMAPI(am http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		r2 := r.Clone(r.Context())
		r2.URL.Path = alerting.Prefix + r.URL.Path
		r2.URL.RawPath = ""
		am.ServeHTTP(w, r2)
	})
}
