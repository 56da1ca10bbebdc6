package otlplogs_test

import (
	"bytes"
	"context"
	"fmt"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"go.opentelemetry.io/otel/attribute"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploggrpc"
	"go.opentelemetry.io/otel/exporters/otlp/otlplog/otlploghttp"
	otellog "go.opentelemetry.io/otel/log"
	sdklog "go.opentelemetry.io/otel/sdk/log"
	"go.opentelemetry.io/otel/sdk/resource"
	semconv "go.opentelemetry.io/otel/semconv/v1.26.0"
	"go.opentelemetry.io/otel/trace"
	"google.golang.org/grpc"
	_ "google.golang.org/grpc/encoding/gzip"

	"github.com/lookout-dev/lookout/internal/event"
	"github.com/lookout-dev/lookout/internal/ingest/logmetrics"
	"github.com/lookout-dev/lookout/internal/ingest/otlplogs"
	"github.com/lookout-dev/lookout/internal/pipeline"
	"github.com/lookout-dev/lookout/internal/testutil/recsink"
)

// emit sends one record through the OpenTelemetry Go SDK with exp.
func emit(t *testing.T, exp sdklog.Exporter) {
	t.Helper()
	res := resource.NewSchemaless(semconv.ServiceName("checkout"), attribute.String("deployment.environment", "prod"),
		attribute.String("host.name", "web-1"))
	lp := sdklog.NewLoggerProvider(sdklog.WithResource(res), sdklog.WithProcessor(sdklog.NewSimpleProcessor(exp)))
	defer func() { require.NoError(t, lp.Shutdown(context.Background())) }()
	var rec otellog.Record
	rec.SetTimestamp(time.Unix(1700000000, 5))
	rec.SetBody(attribute.StringValue("payment failed for order 42"))
	rec.SetSeverity(otellog.SeverityError)
	rec.SetSeverityText("ERROR")
	rec.AddAttributes(attribute.String("order.id", "42"), attribute.Int("attempt", 3))
	tid, _ := trace.TraceIDFromHex("4bf92f3577b34da6a3ce929d0e0e4736")
	sid, _ := trace.SpanIDFromHex("00f067aa0ba902b7")
	ctx := trace.ContextWithSpanContext(context.Background(), trace.NewSpanContext(trace.SpanContextConfig{TraceID: tid, SpanID: sid, TraceFlags: 1}))
	lp.Logger("shop/payments", otellog.WithInstrumentationVersion("1.2.0")).Emit(ctx, rec)
}

func checkRecord(t *testing.T, recs []event.Record) {
	t.Helper()
	require.Len(t, recs, 1)
	r := recs[0]
	require.Equal(t, event.KindLog, r.Kind)
	require.Equal(t, int64(1700000000_000000005), r.Time)
	require.Equal(t, `{deployment_environment="prod", service_name="checkout"}`, r.Labels.String())
	require.Equal(t, "payment failed for order 42", r.Body)
	require.Equal(t, event.LevelError, r.Level)
	require.Equal(t, "4bf92f3577b34da6a3ce929d0e0e4736", r.TraceID)
	require.Equal(t, "00f067aa0ba902b7", r.SpanID)
	for k, want := range map[string]string{
		"host_name": "web-1", "scope_name": "shop/payments", "scope_version": "1.2.0",
		"order_id": "42", "attempt": "3", "severity_text": "ERROR", "severity_number": "17",
	} {
		got, ok := r.Attr(k)
		require.True(t, ok, "attribute %s missing in %v", k, r.Attrs)
		require.Equal(t, want, got, k)
	}
}

func TestSDKExportHTTP(t *testing.T) {
	for _, gz := range []bool{false, true} {
		t.Run(map[bool]string{false: "plain", true: "gzip"}[gz], func(t *testing.T) {
			s := &recsink.Sink{}
			srv := httptest.NewServer(otlplogs.New(nil, s, otlplogs.Options{}))
			defer srv.Close()
			opts := []otlploghttp.Option{otlploghttp.WithEndpointURL(srv.URL + "/v1/logs")}
			if gz {
				opts = append(opts, otlploghttp.WithCompression(otlploghttp.GzipCompression))
			}
			exp, err := otlploghttp.New(context.Background(), opts...)
			require.NoError(t, err)
			emit(t, exp)
			checkRecord(t, s.Records())
		})
	}
}

func TestSDKExportGRPC(t *testing.T) {
	s := &recsink.Sink{}
	ln, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	gs := grpc.NewServer()
	plogotlp.RegisterGRPCServer(gs, otlplogs.New(nil, s, otlplogs.Options{}).GRPC())
	go func() { _ = gs.Serve(ln) }()
	defer gs.Stop()
	exp, err := otlploggrpc.New(context.Background(), otlploggrpc.WithEndpoint(ln.Addr().String()), otlploggrpc.WithInsecure(),
		otlploggrpc.WithCompressor("gzip"))
	require.NoError(t, err)
	emit(t, exp)
	checkRecord(t, s.Records())
}

func TestHTTPErrors(t *testing.T) {
	valid := `{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"timeUnixNano":"1","body":{"stringValue":"x` + "\xff" + `y"}}]}]}]}`
	cases := []struct {
		name, ct, body string
		err            error
		want           int
		wantText       string
	}{
		{name: "bad json", ct: "application/json", body: "{", want: 400, wantText: "decode OTLP logs request"},
		{name: "bad proto", ct: "application/x-protobuf", body: "\xff\xff\xff", want: 400, wantText: "decode OTLP logs request"},
		{name: "unknown type", ct: "text/plain", body: "x", want: 415, wantText: "application/x-protobuf"},
		{name: "overloaded", ct: "application/json", body: valid, err: fmt.Errorf("%w: store full", logmetrics.ErrOverloaded), want: 429},
		{name: "store down", ct: "application/json", body: valid, err: context.DeadlineExceeded, want: 503},
		{name: "ok", ct: "application/json", body: valid, want: 200},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			s := &recsink.Sink{Err: tc.err}
			rec := httptest.NewRecorder()
			req := httptest.NewRequest(http.MethodPost, "/v1/logs", strings.NewReader(tc.body))
			req.Header.Set("Content-Type", tc.ct)
			otlplogs.New(nil, s, otlplogs.Options{}).ServeHTTP(rec, req)
			require.Equal(t, tc.want, rec.Code, rec.Body.String())
			require.Contains(t, rec.Body.String(), tc.wantText)
			if tc.want == 429 || tc.want == 503 {
				require.NotEmpty(t, rec.Header().Get("Retry-After"))
			}
			if tc.want == 200 {
				recs := s.Records()
				require.Len(t, recs, 1)
				require.Equal(t, "x\uFFFDy", recs[0].Body, "invalid UTF-8 is repaired")
				require.Equal(t, `{service_name="unknown_service"}`, recs[0].Labels.String())
			}
		})
	}
}

func TestTruncateAndPromote(t *testing.T) {
	s := &recsink.Sink{}
	rc := otlplogs.New(nil, pipeline.Consumer[[]event.Record](s), otlplogs.Options{MaxLineBytes: 2 + len(logmetrics.TruncatedSuffix), Promote: []string{"host.name"}})
	body := `{"resourceLogs":[{"resource":{"attributes":[{"key":"host.name","value":{"stringValue":"web-1"}}]},` +
		`"scopeLogs":[{"logRecords":[{"observedTimeUnixNano":"7","body":{"stringValue":"héllo world, a longer line"}}]}]}]}`
	req := httptest.NewRequest(http.MethodPost, "/v1/logs", strings.NewReader(body))
	req.Header.Set("Content-Type", "application/json")
	rec := httptest.NewRecorder()
	rc.ServeHTTP(rec, req)
	require.Equal(t, 200, rec.Code)
	r := s.Records()[0]
	require.Equal(t, "h"+logmetrics.TruncatedSuffix, r.Body, "cut on a rune boundary")
	require.Equal(t, int64(7), r.Time, "observed time when the record has none")
	require.Equal(t, `{host_name="web-1", service_name="unknown_service"}`, r.Labels.String())
}

// FuzzHTTP feeds arbitrary bodies as protobuf and JSON: the receiver
// answers 200 or 400 and never panics, and whatever it stores is valid UTF-8.
func FuzzHTTP(f *testing.F) {
	f.Add([]byte(`{"resourceLogs":[{"scopeLogs":[{"logRecords":[{"timeUnixNano":"1","body":{"stringValue":"x"}}]}]}]}`), true)
	f.Add([]byte{0x0a, 0x02, 0x12, 0x00}, false)
	f.Fuzz(func(t *testing.T, body []byte, asJSON bool) {
		s := &recsink.Sink{}
		req := httptest.NewRequest(http.MethodPost, "/v1/logs", bytes.NewReader(body))
		req.Header.Set("Content-Type", map[bool]string{true: "application/json", false: "application/x-protobuf"}[asJSON])
		rec := httptest.NewRecorder()
		otlplogs.New(nil, s, otlplogs.Options{MaxLineBytes: 64}).ServeHTTP(rec, req)
		if rec.Code != 200 && rec.Code != 400 {
			t.Fatalf("status %d: %s", rec.Code, rec.Body)
		}
		for _, r := range s.Records() {
			if !utf8.ValidString(r.Body) || len(r.Body) > 64 {
				t.Fatalf("stored body %q", r.Body)
			}
			for _, a := range r.Attrs {
				if !utf8.ValidString(a.Key) || !utf8.ValidString(a.Value) {
					t.Fatalf("stored attr %q=%q", a.Key, a.Value)
				}
			}
		}
	})
}
