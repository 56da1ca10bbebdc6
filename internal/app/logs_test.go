package app

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"net"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploggrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploghttp"
	otellog "go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	"go.opentelemetry.io/otel/sdk/resource"

	"github.com/lookout-dev/lookout/internal/config"
)

// lokiStreams queries the Loki API and returns line → stream labels for
// every entry.
func lokiStreams(t *testing.T, ta *testApp, q string) map[string]map[string]string {
	t.Helper()
	v := url.Values{"query": {q}, "start": {strconv.FormatInt(time.Now().Add(-time.Hour).UnixNano(), 10)}, "limit": {"1000"}}
	code, _, body := ta.do(t, "GET", "/loki/api/v1/query_range?"+v.Encode(), nil, nil)
	require.Equal(t, 200, code, "%s", body)
	var resp struct {
		Data struct {
			Result []struct {
				Stream map[string]string `json:"stream"`
				Values [][]string        `json:"values"`
			} `json:"result"`
		} `json:"data"`
	}
	require.NoError(t, json.Unmarshal(body, &resp))
	out := map[string]map[string]string{}
	for _, s := range resp.Data.Result {
		for _, v := range s.Values {
			out[v[1]] = s.Stream
		}
	}
	return out
}

func TestLogsFromEveryProtocol(t *testing.T) {
	ta := startApp(t, func(c *config.Config) { c.Logs.SyslogListen = "127.0.0.1:0" })
	now := time.Now()
	ns := func(d time.Duration) string { return strconv.FormatInt(now.Add(d).UnixNano(), 10) }

	// Loki push, JSON, with structured metadata.
	push := `{"streams":[{"stream":{"app":"shop","env":"prod"},"values":[` +
		`["` + ns(-3*time.Second) + `","{\"level\":\"error\",\"msg\":\"payment declined\",\"password\":\"hunter2\"}",{"trace_id":"4bf92f3577b34da6a3ce929d0e0e4736"}]]}]}`
	code, _, body := ta.do(t, "POST", "/loki/api/v1/push", strings.NewReader(push), map[string]string{"Content-Type": "application/json"})
	require.Equal(t, 204, code, "%s", body)

	// Elasticsearch bulk: one good document, one broken source line.
	bulk := `{"index":{"_index":"nginx-access"}}` + "\n" +
		`{"@timestamp":"` + now.Add(-2*time.Second).UTC().Format(time.RFC3339Nano) + `","message":"GET /health 200","level":"info"}` + "\n" +
		`{"index":{"_index":"nginx-access"}}` + "\n" + `{"message": broken` + "\n"
	code, hdr, body := ta.do(t, "POST", "/_bulk", strings.NewReader(bulk), map[string]string{"Content-Type": "application/x-ndjson"})
	require.Equal(t, 200, code, "%s", body)
	require.Equal(t, "Elasticsearch", hdr.Get("X-Elastic-Product"))
	var bulkResp struct {
		Errors bool `json:"errors"`
		Items  []map[string]struct {
			Status int `json:"status"`
		} `json:"items"`
	}
	require.NoError(t, json.Unmarshal(body, &bulkResp))
	require.True(t, bulkResp.Errors)
	require.Equal(t, 201, bulkResp.Items[0]["index"].Status)
	require.Equal(t, 400, bulkResp.Items[1]["index"].Status, "per-item error, the rest accepted")

	// Newline-delimited JSON over HTTP with labels from the query string.
	nd := `{"timestamp":"` + now.Add(-time.Second).UTC().Format(time.RFC3339Nano) + `","level":"warn","message":"slow query","api_key":"sk-live-123"}`
	code, _, body = ta.do(t, "POST", "/api/v1/logs?service=billing", strings.NewReader(nd), map[string]string{"Content-Type": "application/x-ndjson"})
	require.Equal(t, 204, code, "%s", body)

	// OTLP over HTTP and gRPC with the OpenTelemetry Go SDK.
	httpExp, err := otlploghttp.New(context.Background(), otlploghttp.WithEndpointURL("http://"+ta.OTLPHTTPAddr()+"/v1/logs"))
	require.NoError(t, err)
	grpcExp, err := otlploggrpc.New(context.Background(), otlploggrpc.WithEndpoint(ta.OTLPGRPCAddr()), otlploggrpc.WithInsecure())
	require.NoError(t, err)
	for name, exp := range map[string]sdklog.Exporter{"http": httpExp, "grpc": grpcExp} {
		lp := sdklog.NewLoggerProvider(sdklog.WithProcessor(sdklog.NewSimpleProcessor(exp)),
			sdklog.WithResource(resource.NewSchemaless(attribute.String("service.name", "checkout"))))
		var r otellog.Record
		r.SetTimestamp(now)
		r.SetSeverity(otellog.SeverityError)
		r.SetBody(attribute.StringValue("otlp " + name + " card 4111 1111 1111 1111 rejected"))
		lp.Logger("test").Emit(context.Background(), r)
		require.NoError(t, lp.Shutdown(context.Background()))
	}

	// Syslog over UDP, RFC 5424.
	c, err := net.Dial("udp", ta.SyslogAddr())
	require.NoError(t, err)
	_, err = fmt.Fprintf(c, "<11>1 %s web-1 nginx 42 - - upstream timed out", now.UTC().Format(time.RFC3339Nano))
	require.NoError(t, err)
	require.NoError(t, c.Close())

	var got map[string]map[string]string
	require.Eventually(t, func() bool {
		got = map[string]map[string]string{}
		for _, sel := range []string{`{app="shop"}`, `{index="nginx-access"}`, `{service="billing"}`, `{service_name="checkout"}`, `{app_name="nginx"}`} {
			for line, ls := range lokiStreams(t, ta, sel) {
				got[line] = ls
			}
		}
		return len(got) == 6
	}, 30*time.Second, 100*time.Millisecond, "want 6 lines")

	want := map[string]map[string]string{
		`{"level":"error","msg":"payment declined","password":"[REDACTED]"}`: {"app": "shop", "detected_level": "error", "trace_id": "4bf92f3577b34da6a3ce929d0e0e4736"},
		"GET /health 200":                    {"index": "nginx-access", "detected_level": "info"},
		"slow query":                         {"service": "billing", "detected_level": "warn", "api_key": "[REDACTED]"},
		"otlp http card [REDACTED] rejected": {"service_name": "checkout", "detected_level": "error"},
		"otlp grpc card [REDACTED] rejected": {"service_name": "checkout", "detected_level": "error"},
		"upstream timed out":                 {"app_name": "nginx", "hostname": "web-1", "facility": "user", "severity": "err", "detected_level": "error"},
	}
	for line, labels := range want {
		require.Contains(t, got, line, "got %v", got)
		for k, v := range labels {
			require.Equal(t, v, got[line][k], "line %q label %s in %v", line, k, got[line])
		}
	}
	// No secret reached the store by any route.
	for line, ls := range got {
		for _, s := range []string{"hunter2", "sk-live-123", "4111"} {
			require.NotContains(t, line, s)
			for _, v := range ls {
				require.NotContains(t, v, s)
			}
		}
	}

	// Bad LogQL answers 400 with the position.
	code, _, body = ta.do(t, "GET", "/loki/api/v1/query_range?query="+url.QueryEscape(`{app="shop"} |~ `), nil, nil)
	require.Equal(t, 400, code)
	require.Contains(t, string(body), "parse error at line 1, col")

	// Malformed push is a 400 naming the problem, and counted.
	code, _, body = ta.do(t, "POST", "/loki/api/v1/push", strings.NewReader(`{"streams":[{"stream":{},"values":[["x","y"]]}]}`),
		map[string]string{"Content-Type": "application/json"})
	require.Equal(t, 400, code)
	require.NotEmpty(t, body)
	code, _, metrics := ta.do(t, "GET", "/metrics", nil, nil)
	require.Equal(t, 200, code)
	require.Contains(t, string(metrics), `lookout_log_ingest_rejected_total{protocol="loki"`)
	require.Contains(t, string(metrics), `lookout_log_ingest_lines_total{protocol="syslog"} 1`)
}

func TestLogAlertReachesReceiver(t *testing.T) {
	fake := newAMHTTPFake(t)
	dir := t.TempDir()
	rules, err := os.ReadFile("testdata/logs/log-rules.yml")
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "log-rules.yml"), rules, 0o600))
	cfgText := `global:
  evaluation_interval: 1s
server:
  listen: 127.0.0.1:0
  otlp_grpc_listen: "off"
  otlp_http_listen: "off"
metrics:
  self_scrape: false
logs:
  rule_files: [log-rules.yml]
alertmanager:
  config:
    route:
      receiver: slack
      group_by: [alertname]
      group_wait: 1s
      group_interval: 2s
    receivers:
      - name: slack
        slack_configs:
          - api_url: http://` + fake.srv.Listener.Addr().String() + `/slack/hook
            channel: '#alerts'
`
	p := filepath.Join(dir, "lookout.yml")
	require.NoError(t, os.WriteFile(p, []byte(cfgText), 0o600))
	cfg, err := config.LoadFile(p, nil)
	require.NoError(t, err)
	ta := startWith(t, Options{Config: cfg, ConfigFile: p, DataDir: t.TempDir()})

	push := fmt.Sprintf(`{"streams":[{"stream":{"service_name":"checkout"},"values":[["%d","ERROR connection refused"],["%d","INFO ok"]]}]}`,
		time.Now().Add(-2*time.Second).UnixNano(), time.Now().Add(-time.Second).UnixNano())
	code, _, body := ta.do(t, "POST", "/loki/api/v1/push", strings.NewReader(push), map[string]string{"Content-Type": "application/json"})
	require.Equal(t, 204, code, "%s", body)

	require.Eventually(t, func() bool { return len(fake.got("slack")) > 0 }, 60*time.Second, 100*time.Millisecond, "no Slack notification")
	msg := fake.got("slack")[0]
	require.Contains(t, msg, "ErrorLogLines")
	require.Contains(t, msg, "checkout logged 1 error lines in the last minute")
	require.Contains(t, msg, "https://runbooks.example.com/error-logs")

	// The rule shows in /api/v1/alerts like a metric rule's alert, and the
	// recording rule wrote into the metrics store.
	require.Eventually(t, func() bool {
		_, _, b := ta.do(t, "GET", "/api/v1/query?query=service:log_lines:rate1m", nil, nil)
		return bytes.Contains(b, []byte(`"service_name":"checkout"`))
	}, 30*time.Second, 100*time.Millisecond)
	var b []byte
	require.Eventually(t, func() bool {
		_, _, b = ta.do(t, "GET", "/api/v1/alerts", nil, nil)
		return bytes.Contains(b, []byte(`"alertname":"ErrorLogLines"`))
	}, 10*time.Second, 100*time.Millisecond, "alert not in /api/v1/alerts: %s", b)
}
