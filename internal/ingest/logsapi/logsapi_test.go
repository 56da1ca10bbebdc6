package logsapi

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/stretchr/testify/require"

	"github.com/lookout-dev/lookout/internal/event"
	"github.com/lookout-dev/lookout/internal/ingest/logmetrics"
	"github.com/lookout-dev/lookout/internal/testutil/recsink"
)

var testNow = time.Date(2025, 11, 21, 12, 0, 0, 0, time.UTC)

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	return b
}

func rec(ts int64, ls labels.Labels, body, level string, attrs ...event.Attr) event.Record {
	return event.Record{Kind: event.KindLog, Time: ts, Labels: ls, Body: body, Level: level, Attrs: attrs}
}

func attr(k, v string) event.Attr { return event.Attr{Key: k, Value: v} }

func gz(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, err := zw.Write(b)
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	return buf.Bytes()
}

func TestLogs(t *testing.T) {
	now := testNow.UnixNano()
	src := labels.FromStrings("source", "http")
	api := labels.FromStrings("env", "prod", "service", "api")
	appRecords := func(ls labels.Labels) []event.Record {
		return []event.Record{
			rec(time.Date(2025, 11, 21, 9, 0, 0, 123456789, time.UTC).UnixNano(), ls, "server started", event.LevelInfo,
				attr("addr", ":8080"), attr("tls", "false")),
			rec(1763719200500000000, ls, "slow request", event.LevelWarn,
				attr("http.method", "GET"), attr("http.path", "/api"), attr("http.status", "200"), attr("took_ms", "1532")),
			rec(1763719200123000000, ls, "pino line", event.LevelInfo, attr("hostname", "web-1"), attr("pid", "42")),
			rec(time.Date(2025, 11, 21, 10, 0, 0, 0, time.UTC).UnixNano(), ls,
				`{"@timestamp":"2025-11-21T10:00:00Z","severity":"critical","event":"no message here"}`, event.LevelCritical),
		}
	}
	tests := []struct {
		name     string
		method   string
		target   string
		ct       string
		encoding string
		header   []string
		body     []byte
		opts     Options
		status   int
		errText  string
		want     []event.Record
	}{
		{name: "ndjson", ct: "application/x-ndjson", body: readTestdata(t, "app.ndjson"), status: 204, want: appRecords(src)},
		{name: "ndjson with query labels", target: "?service=api&env=prod", ct: "application/x-ndjson",
			body: readTestdata(t, "app.ndjson"), status: 204, want: appRecords(api)},
		{name: "json content type and header labels", ct: "application/json; charset=utf-8",
			header: []string{`service=api, env="prod"`}, body: readTestdata(t, "app.ndjson"), status: 204, want: appRecords(api)},
		{name: "query overrides header, empty values dropped", target: "?service=api&env=prod&team=",
			header: []string{"service=web", "team=core"}, ct: "application/x-ndjson",
			body: readTestdata(t, "app.ndjson"), status: 204, want: appRecords(labels.FromStrings("env", "prod", "service", "api"))},
		{name: "gzip", ct: "application/x-ndjson", encoding: "gzip", body: gz(t, readTestdata(t, "app.ndjson")), status: 204, want: appRecords(src)},
		{name: "json array", ct: "application/json", status: 204,
			body: []byte(` [{"msg":"a","ts":"1763719200"},{"message":"b","time":"1763719200000000001","level":"DEBUG"}]`),
			want: []event.Record{rec(1763719200000000000, src, "a", event.LevelUnknown), rec(1763719200000000001, src, "b", event.LevelDebug)}},
		{name: "time units", ct: "application/x-ndjson", status: 204,
			body: []byte(`{"msg":"s","ts":1763719200}` + "\n" + `{"msg":"ms","ts":1763719200001}` + "\n" +
				`{"msg":"us","ts":1763719200000002}` + "\n" + `{"msg":"ns","ts":1763719200000000003}` + "\n" +
				`{"msg":"not a time","time":"12ms"}` + "\n" + `{"msg":"naive","timestamp":"2025-11-21 10:00:00.25"}`),
			want: []event.Record{
				rec(1763719200000000000, src, "s", event.LevelUnknown),
				rec(1763719200001000000, src, "ms", event.LevelUnknown),
				rec(1763719200000002000, src, "us", event.LevelUnknown),
				rec(1763719200000000003, src, "ns", event.LevelUnknown),
				rec(now, src, "not a time", event.LevelUnknown, attr("time", "12ms")),
				rec(time.Date(2025, 11, 21, 10, 0, 0, 250000000, time.UTC).UnixNano(), src, "naive", event.LevelUnknown),
			}},
		{name: "plain text", ct: "text/plain", target: "?service=api", body: readTestdata(t, "plain.txt"), status: 204,
			want: []event.Record{
				rec(now, labels.FromStrings("service", "api"), "first line", event.LevelUnknown),
				rec(now, labels.FromStrings("service", "api"), "second line", event.LevelUnknown),
				rec(now, labels.FromStrings("service", "api"), "third line", event.LevelUnknown),
			}},
		{name: "no content type is text", body: []byte(`{"msg":"kept verbatim"}`), status: 204,
			want: []event.Record{rec(now, src, `{"msg":"kept verbatim"}`, event.LevelUnknown)}},
		{name: "long and invalid lines", ct: "text/plain", opts: Options{MaxLineBytes: 20},
			body: []byte(strings.Repeat("x", 30) + "\nbad \xff\n"), status: 204,
			want: []event.Record{
				rec(now, src, "xxxxxx…[truncated]", event.LevelUnknown),
				rec(now, src, "bad \uFFFD", event.LevelUnknown),
			}},
		{name: "empty body", ct: "application/x-ndjson", body: nil, status: 204},

		{name: "malformed line", ct: "application/x-ndjson", body: []byte(`{"msg":"ok"}` + "\n\n" + `{"msg":` + "\n"), status: 400,
			errText: "line 3: invalid JSON"},
		{name: "trailing data", ct: "application/x-ndjson", body: []byte(`{"msg":"ok"} {"msg":"x"}`), status: 400,
			errText: "line 1: invalid JSON: unexpected data after the object"},
		{name: "not an object", ct: "application/x-ndjson", body: []byte(`{"msg":"ok"}` + "\n" + `"just a string"`), status: 400,
			errText: "line 2: want a JSON object"},
		{name: "bad array element", ct: "application/json", body: []byte(`[{"msg":"a"}, 3]`), status: 400,
			errText: "array element 1: want a JSON object"},
		{name: "bad query label", target: "?bad-name=x", ct: "text/plain", body: []byte("x"), status: 400,
			errText: `invalid label name "bad-name"`},
		{name: "bad header label", header: []string{"service"}, ct: "text/plain", body: []byte("x"), status: 400,
			errText: `"service" is not name=value`},
		{name: "unsupported content type", ct: "application/xml", body: []byte("<x/>"), status: 415,
			errText: `unsupported content type "application/xml"`},
		{name: "GET", method: http.MethodGet, status: 405, errText: "use POST"},
		{name: "too large", ct: "text/plain", body: []byte(strings.Repeat("x", 100)), opts: Options{MaxBodyBytes: 50}, status: 413},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := &recsink.Sink{}
			tc.opts.Now = func() time.Time { return testNow }
			h := New(nil, prometheus.NewRegistry(), s, tc.opts)
			method := tc.method
			if method == "" {
				method = http.MethodPost
			}
			req := httptest.NewRequest(method, Path+tc.target, bytes.NewReader(tc.body))
			if tc.ct != "" {
				req.Header.Set("Content-Type", tc.ct)
			}
			if tc.encoding != "" {
				req.Header.Set("Content-Encoding", tc.encoding)
			}
			for _, v := range tc.header {
				req.Header.Add(LabelsHeader, v)
			}
			rw := httptest.NewRecorder()
			h.ServeHTTP(rw, req)
			require.Equal(t, tc.status, rw.Code, rw.Body.String())
			if tc.errText != "" {
				require.Contains(t, rw.Body.String(), tc.errText)
			}
			require.Equal(t, tc.want, s.Records())
		})
	}
}

func TestLogsConsumerErrors(t *testing.T) {
	tests := []struct {
		name   string
		err    error
		status int
	}{
		{name: "overloaded", err: fmt.Errorf("append: %w", logmetrics.ErrOverloaded), status: 429},
		{name: "other", err: errors.New("disk on fire"), status: 503},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			h := New(nil, nil, &recsink.Sink{Err: tc.err}, Options{})
			req := httptest.NewRequest(http.MethodPost, Path, strings.NewReader("a line"))
			rw := httptest.NewRecorder()
			h.ServeHTTP(rw, req)
			require.Equal(t, tc.status, rw.Code)
			require.Equal(t, "5", rw.Header().Get("Retry-After"))
			require.Contains(t, rw.Body.String(), "store logs: "+tc.err.Error())
		})
	}
}

func TestParseTime(t *testing.T) {
	tests := []struct {
		in   string
		want int64
		err  bool
	}{
		{in: "0", want: 0},
		{in: "-1", want: -1e9},
		{in: "1.5", want: 1.5e9},
		{in: "1763719200.25", want: 1763719200250000000},
		{in: "1763719200123.5", want: 1763719200123500000},
		{in: "9999999999", err: true}, // seconds past 2262
		{in: "-9223372036854775808", want: -9223372036854775808},
		{in: "1e400", err: true},
		{in: "1.7637192e9", want: 1763719200000000000},
		{in: "-1.5", want: -1.5e9},
		{in: "1.", want: 1e9},
		{in: "-0.5", want: -0.5e9},
		{in: "1.x", err: true},
		{in: "NaN", err: true},
		{in: "0x10", err: true},
		{in: "2025-11-21T10:00:00Z", want: time.Date(2025, 11, 21, 10, 0, 0, 0, time.UTC).UnixNano()},
		{in: "2025-11-21T10:00:00+0100", want: time.Date(2025, 11, 21, 9, 0, 0, 0, time.UTC).UnixNano()},
		{in: "yesterday", err: true},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := parseTime(tc.in)
			if tc.err {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}
