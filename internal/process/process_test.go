package process

import (
	"context"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/stretchr/testify/require"

	"github.com/lookout-dev/lookout/internal/config"
	"github.com/lookout-dev/lookout/internal/event"
)

const redacted = "[REDACTED]"

func ts(t *testing.T, s string) int64 {
	t.Helper()
	tm, err := time.Parse(time.RFC3339Nano, s)
	require.NoError(t, err)
	return tm.UnixNano()
}

// pipelineCfg returns the default pipeline changed by fn, keeping the
// parsed fields so that tests can look at them (TestParsedFieldsDropped
// covers the default).
func pipelineCfg(fn func(p *config.LogPipeline)) config.LogPipeline {
	p := config.DefaultLogPipeline
	p.StoreFields = true
	p.Level.Fields = append([]string(nil), p.Level.Fields...)
	if fn != nil {
		fn(&p)
	}
	return p
}

func run(t *testing.T, cfg config.LogPipeline, recs ...event.Record) []event.Record {
	t.Helper()
	require.NoError(t, cfg.Validate())
	stage, err := Build(cfg, nil, nil)
	require.NoError(t, err)
	out, err := stage(context.Background(), recs)
	require.NoError(t, err)
	return out
}

func attr(r event.Record, key string) string {
	v, _ := r.Attr(key)
	return v
}

// TestLogstashMigration runs what the users' Logstash pipeline (crm.conf)
// and their services' log formats do, as Lookout pipelines.
func TestLogstashMigration(t *testing.T) {
	t.Run("access logs: grok, date, remove secrets", func(t *testing.T) {
		// filter { if [type] == "access" { grok { match => { "message" =>
		// '%{IPORHOST:client_ip} - - \[%{HTTPDATE:timestamp}\] …' } } } }
		cfg := pipelineCfg(func(p *config.LogPipeline) {
			p.Patterns = []string{`%{IPORHOST:client_ip} - - \[%{HTTPDATE:timestamp}\] "%{WORD:method} %{URIPATHPARAM:request} HTTP/%{NUMBER:http_version}" %{NUMBER:status_code} %{NUMBER:bytes} "%{URI:referrer}" "%{GREEDYDATA:user_agent}"`}
			p.Timestamp = config.LogTimestamp{Field: "timestamp", Layout: "HTTPDATE"}
		})
		line := `203.0.113.9 - - [19/Feb/2026:10:00:02 +0100] "GET /oauth/callback?code=xyz&access_token=ya29.a0AfH6SM HTTP/1.1" 500 0 "https://crm.example.com/login" "python-requests/2.31"`
		out := run(t, cfg, event.Record{Time: 1, Labels: labels.FromStrings("job", "nginx"), Body: line})
		require.Len(t, out, 1)
		r := out[0]
		require.Equal(t, ts(t, "2026-02-19T09:00:02Z"), r.Time)
		require.Equal(t, strings.Replace(line, "ya29.a0AfH6SM", redacted, 1), r.Body)
		require.Equal(t, "/oauth/callback?code=xyz&access_token="+redacted, attr(r, "request"))
		require.Equal(t, "203.0.113.9", attr(r, "client_ip"))
		require.Equal(t, "500", attr(r, "status_code"))
		require.Equal(t, event.LevelUnknown, r.Level, "an access line has no level word")
	})

	t.Run("access logs: combined format", func(t *testing.T) {
		cfg := pipelineCfg(func(p *config.LogPipeline) {
			p.Patterns = []string{"%{COMBINEDAPACHELOG}"}
			p.Timestamp = config.LogTimestamp{Field: "timestamp", Layout: "HTTPDATE"}
			p.Drop = []config.LogDropRule{{LineRegexp: `"GET /healthz `}}
		})
		out := run(t, cfg,
			event.Record{Body: `192.0.2.10 - alice [10/Oct/2025:13:55:36 -0700] "POST /login HTTP/1.0" 302 - "-" "curl/8.5.0"`},
			event.Record{Body: `10.0.0.5 - - [10/Oct/2025:13:55:37 -0700] "GET /healthz HTTP/1.1" 200 2 "-" "kube-probe/1.29"`},
		)
		require.Len(t, out, 1, "health checks dropped")
		require.Equal(t, ts(t, "2025-10-10T20:55:36Z"), out[0].Time)
		require.Equal(t, "alice", attr(out[0], "auth"))
		require.Equal(t, "302", attr(out[0], "response"))
	})

	t.Run("application logs: grok, date, level", func(t *testing.T) {
		// grok { match => { "message" => "%{TIMESTAMP_ISO8601:timestamp}
		// %{LOGLEVEL:level} %{GREEDYDATA:message}" } } date { match =>
		// ["timestamp", "ISO8601"] }
		cfg := pipelineCfg(func(p *config.LogPipeline) {
			p.Patterns = []string{`%{TIMESTAMP_ISO8601:timestamp} %{LOGLEVEL:level} %{GREEDYDATA:message}`}
			p.Timestamp = config.LogTimestamp{Field: "timestamp", Layout: "ISO8601"}
		})
		out := run(t, cfg,
			event.Record{Body: "2025-01-14 09:12:44,123 ERROR Payment gateway timeout after 30s order_id=9912"},
			event.Record{Body: "2025-01-14 09:12:45,001 CRITICAL Database connection pool exhausted"},
			event.Record{Body: "2025-01-14 09:12:46,500 WARNING Cache hit rate below 50%"},
		)
		require.Equal(t, ts(t, "2025-01-14T09:12:44.123Z"), out[0].Time)
		require.Equal(t, []string{event.LevelError, event.LevelCritical, event.LevelWarn}, []string{out[0].Level, out[1].Level, out[2].Level},
			`the Slack output's [level] == "ERROR" or "CRITICAL" becomes detected_level=~"error|critical"`)
		require.Equal(t, "Payment gateway timeout after 30s order_id=9912", attr(out[0], "message"))
	})

	t.Run("JSON application logs: fields, level, trace, secrets", func(t *testing.T) {
		// mutate { remove_field => ["password", "token", "secret", "credit_card"] }
		// becomes redaction: the fields stay, their values do not.
		cfg := pipelineCfg(func(p *config.LogPipeline) {
			p.Timestamp = config.LogTimestamp{Field: "timestamp"}
		})
		out := run(t, cfg,
			event.Record{Body: `{"timestamp":"2026-02-19T10:00:00Z","level":"error","message":"charge failed","user_id":42,"ip":"198.51.100.23","method":"POST","path":"/api/v1/payments","status":502,"duration_ms":1834,"request_id":"req-7f3a","trace_id":"4BF92F3577B34DA6A3CE929D0E0E4736","span_id":"00f067aa0ba902b7","credit_card":"4111 1111 1111 1111","token":"tok_live_123"}`},
			event.Record{Body: `{"timestamp": "2025-11-30T08:15:02.481516Z", "severity": "WARNING", "message": "Seat acquisition denied", "license_key": "LIC-1234", "tenant_id": "t-42"}`},
			event.Record{Body: `{"message":"Contact updated","context":{"user_id":17},"level":200,"level_name":"INFO","channel":"crm","datetime":"2025-01-14T09:12:44.123456+00:00","extra":{}}`},
		)
		r := out[0]
		require.Equal(t, ts(t, "2026-02-19T10:00:00Z"), r.Time)
		require.Equal(t, event.LevelError, r.Level)
		require.Equal(t, "4bf92f3577b34da6a3ce929d0e0e4736", r.TraceID)
		require.Equal(t, "00f067aa0ba902b7", r.SpanID)
		for _, k := range []string{"user_id", "ip", "method", "path", "status", "duration_ms", "request_id"} {
			require.NotEmpty(t, attr(r, k), k)
		}
		require.Equal(t, redacted, attr(r, "credit_card"))
		require.Equal(t, redacted, attr(r, "token"))
		require.NotContains(t, r.Body, "4111 1111")
		require.NotContains(t, r.Body, "tok_live_123")
		require.Contains(t, r.Body, `"credit_card":"`+redacted+`"`)

		require.Equal(t, event.LevelWarn, out[1].Level, "Django's severity WARNING")
		require.Equal(t, ts(t, "2025-11-30T08:15:02.481516Z"), out[1].Time)
		require.Equal(t, event.LevelInfo, out[2].Level, "Monolog's numeric 200")
		require.Equal(t, "17", attr(out[2], "context_user_id"))
	})

	t.Run("sampling as the APM agents did, but keeping errors", func(t *testing.T) {
		// sampling_rules: [{service: crm-api, sample_rate: 0.1}]
		cfg := pipelineCfg(func(p *config.LogPipeline) {
			p.Sample = []config.LogSampleRule{
				{Level: "error", Ratio: 1},
				{Selector: `{service="crm-api"}`, Ratio: 0.1},
			}
		})
		var recs []event.Record
		for i := range 2000 {
			level := "info"
			if i%100 == 0 {
				level = "error"
			}
			recs = append(recs, event.Record{Time: int64(i), Labels: labels.FromStrings("service", "crm-api"),
				Body: `{"level":"` + level + `","message":"request completed","request_id":"r` + string(rune('a'+i%26)) + `"}`})
		}
		out := run(t, cfg, recs...)
		errors := 0
		for _, r := range out {
			if r.Level == event.LevelError {
				errors++
			}
		}
		require.Equal(t, 20, errors, "every error kept")
		require.InDelta(t, 20+198, len(out), 60, "about a tenth of the rest")
	})
}

// TestSecretsNeverLeave proves that a secret is masked wherever it is: in the
// body, in the parsed attributes, in stream labels set by the receiver and
// in labels promoted from attributes.
func TestSecretsNeverLeave(t *testing.T) {
	cfg := pipelineCfg(func(p *config.LogPipeline) {
		p.Logfmt = true
		p.Promote = []string{"service", "api_key", "customer_card"}
		p.Redact.Keys = []string{"session"}
	})
	out := run(t, cfg, event.Record{
		Labels: labels.FromStrings("job", "crm", "session", "s-123"),
		Body:   `{"service":"billing","api_key":"sk_live_abc","customer_card":"card 5555 5555 5555 4444","msg":"retry with Authorization: Bearer abcdefgh12345678","url":"/charge?token=t0k3n"}`,
	})
	r := out[0]
	require.Equal(t, labels.FromStrings("api_key", redacted, "customer_card", "card "+redacted, "job", "crm", "service", "billing", "session", redacted), r.Labels)
	for _, secret := range []string{"sk_live_abc", "5555 5555 5555 4444", "abcdefgh12345678", "t0k3n", "s-123"} {
		require.NotContains(t, r.Body, secret)
		require.NotContains(t, r.Labels.String(), secret)
		for _, a := range r.Attrs {
			require.NotContains(t, a.Value, secret, a.Key)
		}
	}
	require.Equal(t, "/charge?token="+redacted, attr(r, "url"))
}

// TestOrder shows why the stages run in their order.
func TestOrder(t *testing.T) {
	cfg := pipelineCfg(func(p *config.LogPipeline) {
		p.Drop = []config.LogDropRule{
			{LineRegexp: "hunter2"},            // redaction ran: no rule can see a secret
			{Level: "debug"},                   // levels are normalised before rules run
			{Selector: `{service="checkout"}`}, // promotion runs after rules
		}
		p.Promote = []string{"service"}
	})
	out := run(t, cfg,
		event.Record{Body: `{"level":"info","password":"hunter2"}`},
		event.Record{Body: `{"level":"DEBUG","message":"x"}`},
		event.Record{Body: `{"level":"info","service":"checkout"}`},
	)
	require.Len(t, out, 2)
	require.Equal(t, `{"level":"info","password":"`+redacted+`"}`, out[0].Body)
	require.Equal(t, labels.FromStrings("service", "checkout"), out[1].Labels)
}

func TestRedactDisabled(t *testing.T) {
	cfg := pipelineCfg(func(p *config.LogPipeline) { p.Redact.Disabled = true })
	out := run(t, cfg, event.Record{Body: `password=hunter2`})
	require.Equal(t, "password=hunter2", out[0].Body)
}

func TestMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	cfg := pipelineCfg(func(p *config.LogPipeline) {
		p.Timestamp = config.LogTimestamp{Field: "ts", Layout: "unix_ms"}
		p.Drop = []config.LogDropRule{{Level: "debug"}}
		p.Sample = []config.LogSampleRule{{Selector: `{app="noisy"}`, Ratio: 0}}
		p.Promote = []string{"a", "b"}
		p.MaxStreamLabels = 2
	})
	batch := func() []event.Record {
		return []event.Record{
			{Body: `{"level":"debug"}`},
			{Labels: labels.FromStrings("app", "noisy"), Body: "x"},
			{Body: `{"password":"p","ts":"soon"}`},
			{Labels: labels.FromStrings("app", "x"), Body: `{"a":"1","b":"2"}`},
		}
	}
	for range 2 { // a reload builds again on the same registry
		stage, err := Build(cfg, nil, reg)
		require.NoError(t, err)
		out, err := stage(context.Background(), batch())
		require.NoError(t, err)
		require.Len(t, out, 2)
	}
	require.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP lookout_log_pipeline_dropped_total Log records removed by the processing pipeline, by reason (drop_rule, sampled_out).
# TYPE lookout_log_pipeline_dropped_total counter
lookout_log_pipeline_dropped_total{reason="drop_rule"} 2
lookout_log_pipeline_dropped_total{reason="sampled_out"} 2
# HELP lookout_log_pipeline_not_promoted_total Attributes not promoted to stream labels because of the label count or value length limit.
# TYPE lookout_log_pipeline_not_promoted_total counter
lookout_log_pipeline_not_promoted_total 2
# HELP lookout_log_pipeline_redacted_total Log records in which the processing pipeline masked at least one secret.
# TYPE lookout_log_pipeline_redacted_total counter
lookout_log_pipeline_redacted_total 2
# HELP lookout_log_pipeline_timestamp_errors_total Log records whose timestamp field could not be parsed; they keep the receiver's time.
# TYPE lookout_log_pipeline_timestamp_errors_total counter
lookout_log_pipeline_timestamp_errors_total 2
`)))
}

func TestBuildSources(t *testing.T) {
	var logs config.Logs
	logs.Pipeline = config.DefaultLogPipeline
	loki := pipelineCfg(func(p *config.LogPipeline) { p.Drop = []config.LogDropRule{{Level: "debug"}} })
	logs.Sources = map[string]config.LogPipeline{"loki": loki}
	reg := prometheus.NewRegistry()
	stages, err := BuildSources(logs, nil, reg)
	require.NoError(t, err)
	require.Len(t, stages, len(config.LogSourceNames))
	debug := func() []event.Record { return []event.Record{{Body: "DEBUG cache miss"}} }

	out, err := stages["loki"](context.Background(), debug())
	require.NoError(t, err)
	require.Empty(t, out)
	out, err = stages["otlp"](context.Background(), debug())
	require.NoError(t, err)
	require.Len(t, out, 1, "other sources use the default pipeline")

	require.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP lookout_log_pipeline_dropped_total Log records removed by the processing pipeline, by reason (drop_rule, sampled_out).
# TYPE lookout_log_pipeline_dropped_total counter
lookout_log_pipeline_dropped_total{reason="drop_rule",source="loki"} 1
lookout_log_pipeline_dropped_total{reason="sampled_out",source="loki"} 0
`), "lookout_log_pipeline_dropped_total"))
}

func TestBuildErrors(t *testing.T) {
	cases := []struct {
		name string
		fn   func(p *config.LogPipeline)
		want string
	}{
		{"unknown pattern", func(p *config.LogPipeline) { p.Patterns = []string{"%{NOPE}"} }, "build parse stage: compile pattern 0"},
		{"pattern cycle", func(p *config.LogPipeline) {
			p.Patterns = []string{"%{A}"}
			p.PatternDefinitions = map[string]string{"A": "%{B}", "B": "%{A}"}
		}, "refers to itself"},
		{"bad layout", func(p *config.LogPipeline) { p.Timestamp = config.LogTimestamp{Field: "t", Layout: "yyyy"} }, "build timestamp stage"},
		{"bad location", func(p *config.LogPipeline) { p.Timestamp = config.LogTimestamp{Field: "t", Location: "Mars/Olympus"} }, "load timestamp location"},
		{"bad selector", func(p *config.LogPipeline) { p.Drop = []config.LogDropRule{{Selector: "{"}} }, "build filter stage: parse selector"},
		{"bad redact pattern", func(p *config.LogPipeline) { p.Redact.Patterns = []string{"("} }, "build redact stage"},
		{"bad numeric scheme", func(p *config.LogPipeline) { p.Level.Numeric = "log4j" }, "build level stage"},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			_, err := Build(pipelineCfg(c.fn), nil, nil)
			require.ErrorContains(t, err, c.want)
		})
	}
}

func TestSequenceStops(t *testing.T) {
	calls := 0
	count := func(_ context.Context, b []event.Record) ([]event.Record, error) { calls++; return b, nil }
	drop := func(_ context.Context, b []event.Record) ([]event.Record, error) { calls++; return b[:0], nil }
	out, err := Sequence(count, drop, count)(context.Background(), []event.Record{{}})
	require.NoError(t, err)
	require.Empty(t, out)
	require.Equal(t, 2, calls, "no stage runs on an empty batch")

	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	_, err = Sequence(count)(ctx, []event.Record{{}})
	require.ErrorIs(t, err, context.Canceled)
}

// TestParsedFieldsDropped: by default parsed fields serve normalisation,
// redaction and promotion and are then dropped; the receiver's own
// attributes stay.
func TestParsedFieldsDropped(t *testing.T) {
	cfg := config.DefaultLogPipeline
	cfg.Promote = []string{"service"}
	out := run(t, cfg,
		event.Record{
			Labels: labels.FromStrings("job", "api"),
			Body:   `{"service":"billing","level":"warn","trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","password":"hunter2","path":"/x"}`,
			Attrs:  []event.Attr{{Key: "path", Value: "from-receiver"}, {Key: "pod", Value: "p-1"}},
		},
		event.Record{Labels: labels.FromStrings("job", "api"), Body: `{"level":"error","msg":"x"}`},
	)
	require.Len(t, out, 2)
	r := out[0]
	require.Equal(t, labels.FromStrings("job", "api", "service", "billing"), r.Labels, "promotion still sees parsed fields")
	require.Equal(t, event.LevelWarn, r.Level, "the level came from the parsed field")
	require.Equal(t, "4bf92f3577b34da6a3ce929d0e0e4736", r.TraceID)
	require.Equal(t, []event.Attr{{Key: "path", Value: "from-receiver"}, {Key: "pod", Value: "p-1"}}, r.Attrs, "only the receiver's attributes are stored")
	require.NotContains(t, r.Body, "hunter2", "redaction of the body does not depend on stored fields")
	require.Equal(t, event.LevelError, out[1].Level)
	require.Nil(t, out[1].Attrs)
}
