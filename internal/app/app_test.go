package app

import (
	"bytes"
	"context"
	"encoding/json"
	"log/slog"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang/snappy"
	"github.com/prometheus/prometheus/prompb"
	writev2 "github.com/prometheus/prometheus/prompb/io/prometheus/write/v2"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetricgrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlpmetric/otlpmetrichttp"
	sdkmetric "go.opentelemetry.io/otel/sdk/metric"
	"go.opentelemetry.io/otel/sdk/resource"
	"golang.org/x/crypto/bcrypt"

	"github.com/lookout-dev/lookout/internal/config"
)

// rwV1 encodes a remote-write 1.0 request.
func rwV1(t testing.TB, ts []prompb.TimeSeries) []byte {
	t.Helper()
	b, err := (&prompb.WriteRequest{Timeseries: ts}).Marshal()
	require.NoError(t, err)
	return snappy.Encode(nil, b)
}

var rwV1Headers = map[string]string{
	"Content-Type":                      "application/x-protobuf",
	"Content-Encoding":                  "snappy",
	"X-Prometheus-Remote-Write-Version": "0.1.0",
}

var rwV2Headers = map[string]string{
	"Content-Type":                      "application/x-protobuf;proto=io.prometheus.write.v2.Request",
	"Content-Encoding":                  "snappy",
	"X-Prometheus-Remote-Write-Version": "2.0.0",
}

func TestRemoteWriteV1(t *testing.T) {
	ta := startApp(t, nil)
	now := time.Now().Truncate(time.Second)
	body := rwV1(t, []prompb.TimeSeries{{
		Labels:  []prompb.Label{{Name: "__name__", Value: "http_requests_total"}, {Name: "job", Value: "crm"}, {Name: "status", Value: "200"}},
		Samples: []prompb.Sample{{Value: 41, Timestamp: now.Add(-time.Second).UnixMilli()}, {Value: 42, Timestamp: now.UnixMilli()}},
	}})
	code, _, b := ta.do(t, http.MethodPost, "/api/v1/write", bytes.NewReader(body), rwV1Headers)
	require.Equal(t, http.StatusNoContent, code, string(b))
	got := ta.query(t, `http_requests_total{job="crm"}`, now)
	require.Len(t, got, 1)
	require.Equal(t, "42", got[0].Value[1])
	require.Equal(t, "200", got[0].Metric["status"])
}

func TestRemoteWriteV2(t *testing.T) {
	ta := startApp(t, nil)
	now := time.Now().Truncate(time.Second)
	st := writev2.NewSymbolTable()
	refs := st.SymbolizeLabels(labelsOf("__name__", "db_connections_active", "job", "crm"), nil)
	help := st.Symbolize("Active DB connections.")
	req := &writev2.Request{
		Symbols: st.Symbols(),
		Timeseries: []writev2.TimeSeries{{
			LabelsRefs: refs,
			Samples:    []writev2.Sample{{Value: 17, Timestamp: now.UnixMilli()}},
			Metadata:   writev2.Metadata{Type: writev2.Metadata_METRIC_TYPE_GAUGE, HelpRef: help},
		}},
	}
	raw, err := req.Marshal()
	require.NoError(t, err)
	code, hdr, b := ta.do(t, http.MethodPost, "/api/v1/write", bytes.NewReader(snappy.Encode(nil, raw)), rwV2Headers)
	require.Equal(t, http.StatusNoContent, code, string(b))
	require.Equal(t, "1", hdr.Get("X-Prometheus-Remote-Write-Samples-Written"))
	got := ta.query(t, `db_connections_active`, now)
	require.Len(t, got, 1)
	require.Equal(t, "17", got[0].Value[1])
}

// TestOTLPTransports sends a counter with the real OpenTelemetry Go SDK over
// every transport Lookout serves and reads it back with PromQL under the
// name Prometheus 3's translator gives it.
func TestOTLPTransports(t *testing.T) {
	ta := startApp(t, nil)
	ctx := context.Background()
	cases := []struct {
		name string
		exp  func() (sdkmetric.Exporter, error)
	}{
		{"grpc", func() (sdkmetric.Exporter, error) {
			return otlpmetricgrpc.New(ctx, otlpmetricgrpc.WithEndpoint(ta.OTLPGRPCAddr()), otlpmetricgrpc.WithInsecure())
		}},
		{"grpc_gzip", func() (sdkmetric.Exporter, error) {
			return otlpmetricgrpc.New(ctx, otlpmetricgrpc.WithEndpoint(ta.OTLPGRPCAddr()), otlpmetricgrpc.WithInsecure(),
				otlpmetricgrpc.WithCompressor("gzip"))
		}},
		{"http", func() (sdkmetric.Exporter, error) {
			return otlpmetrichttp.New(ctx, otlpmetrichttp.WithEndpoint(ta.OTLPHTTPAddr()), otlpmetrichttp.WithInsecure())
		}},
		{"http_gzip", func() (sdkmetric.Exporter, error) {
			return otlpmetrichttp.New(ctx, otlpmetrichttp.WithEndpoint(ta.OTLPHTTPAddr()), otlpmetrichttp.WithInsecure(),
				otlpmetrichttp.WithCompression(otlpmetrichttp.GzipCompression))
		}},
		{"main_port", func() (sdkmetric.Exporter, error) {
			return otlpmetrichttp.New(ctx, otlpmetrichttp.WithEndpoint(ta.Addr()), otlpmetrichttp.WithInsecure(),
				otlpmetrichttp.WithURLPath("/api/v1/otlp/v1/metrics"))
		}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			exp, err := c.exp()
			require.NoError(t, err)
			res := resource.NewSchemaless(attribute.String("service.name", "checkout-"+c.name), attribute.String("service.instance.id", "i-1"))
			mp := sdkmetric.NewMeterProvider(sdkmetric.WithResource(res), sdkmetric.WithReader(sdkmetric.NewManualReader()),
				sdkmetric.WithReader(sdkmetric.NewPeriodicReader(exp, sdkmetric.WithInterval(time.Hour))))
			cnt, err := mp.Meter("test").Int64Counter("orders.placed")
			require.NoError(t, err)
			cnt.Add(ctx, 5, metricAttr("region", "eu"))
			require.NoError(t, mp.ForceFlush(ctx))
			require.NoError(t, mp.Shutdown(ctx))
			got := ta.query(t, `orders_placed_total{job="checkout-`+c.name+`"}`, time.Time{})
			require.Len(t, got, 1, "OTLP counter not found under the Prometheus 3 name")
			require.Equal(t, "5", got[0].Value[1])
			require.Equal(t, "eu", got[0].Metric["region"])
			require.Equal(t, "i-1", got[0].Metric["instance"])
		})
	}
}

func TestAuth(t *testing.T) {
	hash, err := bcrypt.GenerateFromPassword([]byte("correct horse"), bcrypt.MinCost)
	require.NoError(t, err)
	ta := startApp(t, func(c *config.Config) {
		c.Auth.BearerTokens = []config.BearerToken{{Name: "ci", Token: "0123456789abcdef0123"}}
		c.Auth.BasicAuthUsers = map[string]secret{"alice": secret(hash)}
	})
	cases := []struct {
		name, path, auth string
		want             int
	}{
		{"no credentials", "/api/v1/labels", "", http.StatusUnauthorized},
		{"wrong token", "/api/v1/labels", "Bearer wrong-token-wrong-token", http.StatusUnauthorized},
		{"token", "/api/v1/labels", "Bearer 0123456789abcdef0123", http.StatusOK},
		{"basic", "/api/v1/labels", basic("alice", "correct horse"), http.StatusOK},
		{"basic wrong password", "/api/v1/labels", basic("alice", "wrong"), http.StatusUnauthorized},
		{"metrics need auth", "/metrics", "", http.StatusUnauthorized},
		{"ui needs auth", "/", "", http.StatusUnauthorized},
		{"ingest needs auth", "/api/v1/write", "", http.StatusUnauthorized},
		{"liveness is public", "/-/healthy", "", http.StatusOK},
		{"readiness is public", "/-/ready", "", http.StatusOK},
		{"health is public", "/health", "", http.StatusOK},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			method := http.MethodGet
			if c.path == "/api/v1/write" {
				method = http.MethodPost
			}
			hdr := map[string]string{}
			if c.auth != "" {
				hdr["Authorization"] = c.auth
			}
			code, h, b := ta.do(t, method, c.path, nil, hdr)
			require.Equal(t, c.want, code, string(b))
			if code == http.StatusUnauthorized {
				require.Contains(t, h.Get("WWW-Authenticate"), "Basic")
			}
		})
	}
	t.Run("otlp grpc", func(t *testing.T) {
		ctx := context.Background()
		for _, tc := range []struct {
			token string
			ok    bool
		}{{"", false}, {"0123456789abcdef0123", true}} {
			opts := []otlpmetricgrpc.Option{otlpmetricgrpc.WithEndpoint(ta.OTLPGRPCAddr()), otlpmetricgrpc.WithInsecure(),
				otlpmetricgrpc.WithRetry(otlpmetricgrpc.RetryConfig{Enabled: false})}
			if tc.token != "" {
				opts = append(opts, otlpmetricgrpc.WithHeaders(map[string]string{"authorization": "Bearer " + tc.token}))
			}
			exp, err := otlpmetricgrpc.New(ctx, opts...)
			require.NoError(t, err)
			mp := sdkmetric.NewMeterProvider(sdkmetric.WithReader(sdkmetric.NewPeriodicReader(exp, sdkmetric.WithInterval(time.Hour))))
			c, _ := mp.Meter("t").Int64Counter("authcheck")
			c.Add(ctx, 1)
			err = mp.ForceFlush(ctx)
			if tc.ok {
				require.NoError(t, err)
			} else {
				require.ErrorContains(t, err, "Unauthenticated")
			}
			_ = mp.Shutdown(ctx)
		}
	})
	require.Greater(t, counterValue(t, ta.App, "lookout_ingest_rejected_total", map[string]string{"protocol": "remote_write", "reason": "unauthorized"}), 0.0)
}

func TestNonLoopbackNeedsAuth(t *testing.T) {
	cfg := config.Default()
	cfg.Server.Listen = "0.0.0.0:0"
	_, err := New(Options{Config: cfg, DataDir: t.TempDir()})
	require.ErrorContains(t, err, "refusing to listen on 0.0.0.0:0")
	require.ErrorContains(t, err, "--insecure-no-auth")

	_, err = New(Options{Config: cfg, DataDir: t.TempDir(), InsecureNoAuth: true})
	require.NoError(t, err)

	cfg.Auth.BearerTokens = []config.BearerToken{{Name: "x", Token: "0123456789abcdef0123"}}
	_, err = New(Options{Config: cfg, DataDir: t.TempDir()})
	require.NoError(t, err)
}

func TestReload(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "lookout.yml")
	write := func(s string) { require.NoError(t, os.WriteFile(file, []byte(s), 0o600)) }
	write("metrics:\n  self_scrape: false\nscrape_configs:\n  - job_name: one\n    static_configs:\n      - targets: ['127.0.0.1:1']\n")
	cfg, err := config.LoadFile(file, nil)
	require.NoError(t, err)
	cfg.Server.Listen, cfg.Server.OTLPGRPCListen, cfg.Server.OTLPHTTPListen = "127.0.0.1:0", "off", "off"
	cfg.Metrics.SelfScrape = false
	ta := startWith(t, Options{Config: cfg, ConfigFile: file, DataDir: t.TempDir()})

	jobs := func() []string {
		var out []string
		for _, s := range ta.config().Prometheus.ScrapeConfigs {
			out = append(out, s.JobName)
		}
		return out
	}
	require.Equal(t, []string{"one"}, jobs())

	// A broken file is refused with its line, and the old config keeps running.
	write("metrics:\n  self_scrape: false\nscrape_configs:\n  - job_name: two\n    static_configz: []\n")
	code, _, body := ta.do(t, http.MethodPost, "/-/reload", nil, nil)
	require.Equal(t, http.StatusInternalServerError, code)
	require.Contains(t, string(body), "line 5")
	require.Equal(t, []string{"one"}, jobs())
	require.Equal(t, 0.0, counterValue(t, ta.App, "lookout_config_last_reload_successful", nil))

	write("metrics:\n  self_scrape: false\nscrape_configs:\n  - job_name: two\n    static_configs:\n      - targets: ['127.0.0.1:2']\n")
	code, _, body = ta.do(t, http.MethodPost, "/-/reload", nil, nil)
	require.Equal(t, http.StatusOK, code, string(body))
	require.Equal(t, []string{"two"}, jobs())
	require.Equal(t, 1.0, counterValue(t, ta.App, "lookout_config_last_reload_successful", nil))
	require.Eventually(t, func() bool { _, ok := ta.scrape.TargetsActive()["two"]; return ok }, 10*time.Second, 20*time.Millisecond)
}

// syncBuffer is a goroutine-safe log sink.
type syncBuffer struct {
	mu sync.Mutex
	b  bytes.Buffer
}

func (s *syncBuffer) Write(p []byte) (int, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.b.Write(p)
}
func (s *syncBuffer) String() string { s.mu.Lock(); defer s.mu.Unlock(); return s.b.String() }

func TestRequestIDAndLogs(t *testing.T) {
	var logs syncBuffer
	cfg := config.Default()
	cfg.Server.Listen, cfg.Server.OTLPGRPCListen, cfg.Server.OTLPHTTPListen = "127.0.0.1:0", "off", "off"
	cfg.Metrics.SelfScrape = false
	ta := startWith(t, Options{Config: cfg, DataDir: t.TempDir(),
		Logger: slog.New(slog.NewJSONHandler(&logs, &slog.HandlerOptions{Level: slog.LevelDebug}))})

	_, h, _ := ta.do(t, http.MethodGet, "/api/v1/query?query=up", nil, map[string]string{"X-Request-ID": "req-abc-123"})
	require.Equal(t, "req-abc-123", h.Get("X-Request-ID"), "an incoming ID is honoured")
	_, h, _ = ta.do(t, http.MethodGet, "/api/v1/query?query=up", nil, nil)
	require.Len(t, h.Get("X-Request-ID"), 16, "a missing ID is generated")
	_, h, _ = ta.do(t, http.MethodGet, "/-/healthy", nil, map[string]string{"X-Request-ID": "bad id\twith spaces"})
	require.NotEqual(t, "bad id\twith spaces", h.Get("X-Request-ID"), "unsafe IDs are replaced")

	var found bool
	for _, line := range strings.Split(logs.String(), "\n") {
		if line == "" {
			continue
		}
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(line), &m), "every log line is JSON: %s", line)
		if m["request_id"] == "req-abc-123" && m["path"] == "/api/v1/query" {
			found = true
		}
	}
	require.True(t, found, "the request's log line carries its ID")
}

func TestHealthEndpoints(t *testing.T) {
	ta := startApp(t, nil)
	code, _, b := ta.do(t, http.MethodGet, "/-/ready", nil, nil)
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, "Lookout is Ready.\n", string(b))
	code, h, b := ta.do(t, http.MethodGet, "/health", nil, nil)
	require.Equal(t, http.StatusOK, code)
	require.Equal(t, "application/json", h.Get("Content-Type"))
	var rep struct {
		Status string                    `json:"status"`
		Checks map[string]map[string]any `json:"checks"`
	}
	require.NoError(t, json.Unmarshal(b, &rep))
	require.Equal(t, "healthy", rep.Status)
	for _, c := range []string{"metrics_store", "disk", "config"} {
		require.Contains(t, rep.Checks, c)
		require.Equal(t, "healthy", rep.Checks[c]["status"])
		require.Contains(t, rep.Checks[c], "response_time")
	}
	code, _, b = ta.do(t, http.MethodGet, "/metrics", nil, nil)
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, string(b), "lookout_http_request_duration_seconds")
	require.Contains(t, string(b), "prometheus_tsdb_head_series")
	require.NotContains(t, string(b), "promhttp_metric_handler_requests_total{", "the global registry is not served")
}

func TestSelfScrape(t *testing.T) {
	ta := startApp(t, func(c *config.Config) {
		c.Metrics.SelfScrape = true
		c.Metrics.SelfScrapeInterval = modelDuration(200 * time.Millisecond)
		c.Auth.BearerTokens = []config.BearerToken{{Name: "ci", Token: "0123456789abcdef0123"}}
	})
	// With auth on, the self-scrape job authenticates with an internal token.
	require.Eventually(t, func() bool {
		code, _, b := ta.do(t, http.MethodGet, `/api/v1/query?query=up{job="lookout"}`, nil,
			map[string]string{"Authorization": "Bearer 0123456789abcdef0123"})
		return code == http.StatusOK && strings.Contains(string(b), `"value":[`) && strings.Contains(string(b), `"1"]`)
	}, 20*time.Second, 50*time.Millisecond)
	code, _, b := ta.do(t, http.MethodGet, "/api/v1/status/config", nil, map[string]string{"Authorization": "Bearer 0123456789abcdef0123"})
	require.Equal(t, http.StatusOK, code)
	var r struct {
		Data struct {
			YAML string `json:"yaml"`
		} `json:"data"`
	}
	require.NoError(t, json.Unmarshal(b, &r))
	require.Contains(t, r.Data.YAML, "credentials: <secret>")
	require.NotContains(t, r.Data.YAML, ta.internalToken)
}
