package lokipush

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

	"github.com/golang/snappy"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/encoding/protowire"

	"github.com/lookout-dev/lookout/internal/event"
	"github.com/lookout-dev/lookout/internal/ingest/logmetrics"
	"github.com/lookout-dev/lookout/internal/pipeline"
	"github.com/lookout-dev/lookout/internal/testutil/recsink"
)

func readTestdata(t testing.TB, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join("testdata", name))
	require.NoError(t, err)
	return b
}

func gz(t testing.TB, b []byte) []byte {
	t.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, err := zw.Write(b)
	require.NoError(t, err)
	require.NoError(t, zw.Close())
	return buf.Bytes()
}

func rec(ts int64, ls labels.Labels, body, level string, attrs ...event.Attr) event.Record {
	return event.Record{Kind: event.KindLog, Time: ts, Labels: ls, Body: body, Level: level, Attrs: attrs}
}

// protoEntry and protoStream describe a PushRequest for encodeProto.
type protoEntry struct {
	secs  int64
	nanos int32
	line  string
	meta  []event.Attr
}

type protoStream struct {
	labels  string
	entries []protoEntry
}

// encodeProto encodes a PushRequest by hand and snappy-compresses it, as
// Promtail sends it.
func encodeProto(streams ...protoStream) []byte {
	var req []byte
	for _, s := range streams {
		var sb []byte
		sb = protowire.AppendTag(sb, fieldStreamLabels, protowire.BytesType)
		sb = protowire.AppendString(sb, s.labels)
		for _, e := range s.entries {
			var ts []byte
			ts = protowire.AppendTag(ts, fieldTimestampSeconds, protowire.VarintType)
			ts = protowire.AppendVarint(ts, uint64(e.secs))
			ts = protowire.AppendTag(ts, fieldTimestampNanos, protowire.VarintType)
			ts = protowire.AppendVarint(ts, uint64(e.nanos))
			var eb []byte
			eb = protowire.AppendTag(eb, fieldEntryTimestamp, protowire.BytesType)
			eb = protowire.AppendBytes(eb, ts)
			eb = protowire.AppendTag(eb, fieldEntryLine, protowire.BytesType)
			eb = protowire.AppendString(eb, e.line)
			for _, m := range e.meta {
				var pb []byte
				pb = protowire.AppendTag(pb, fieldPairName, protowire.BytesType)
				pb = protowire.AppendString(pb, m.Key)
				pb = protowire.AppendTag(pb, fieldPairValue, protowire.BytesType)
				pb = protowire.AppendString(pb, m.Value)
				eb = protowire.AppendTag(eb, fieldEntryMetadata, protowire.BytesType)
				eb = protowire.AppendBytes(eb, pb)
			}
			sb = protowire.AppendTag(sb, fieldStreamEntries, protowire.BytesType)
			sb = protowire.AppendBytes(sb, eb)
		}
		sb = protowire.AppendTag(sb, 3, protowire.VarintType) // hash, ignored
		sb = protowire.AppendVarint(sb, 12345)
		req = protowire.AppendTag(req, fieldPushStreams, protowire.BytesType)
		req = protowire.AppendBytes(req, sb)
	}
	return snappy.Encode(nil, req)
}

func TestPush(t *testing.T) {
	const jsonCT, protoCT = "application/json", "application/x-protobuf"
	docs := readTestdata(t, "push_docs.json")
	sm := readTestdata(t, "push_structured_metadata.json")
	foo := labels.FromStrings("foo", "bar2")
	smRecords := []event.Record{
		rec(1570818238000000000, labels.FromStrings("label", "value"), "log line one", event.LevelUnknown),
		rec(1570818239000000000, labels.FromStrings("label", "value"), "log line two", event.LevelUnknown,
			event.Attr{Key: "trace_id", Value: "0242ac120002"}, event.Attr{Key: "user_id", Value: "superUser123"}),
		rec(1570818240000000000, labels.FromStrings("job", "api", "level", "warning"), "disk almost full", event.LevelWarn),
	}

	tests := []struct {
		name     string
		method   string
		ct       string
		encoding string
		body     []byte
		status   int
		errText  string // substring of the error body
		want     []event.Record
	}{
		{name: "docs curl example", ct: jsonCT, body: docs, status: 204,
			want: []event.Record{rec(1570818238000000000, foo, "fizzbuzz", event.LevelUnknown)}},
		{name: "json content type with charset", ct: "application/json; charset=utf-8", body: docs, status: 204,
			want: []event.Record{rec(1570818238000000000, foo, "fizzbuzz", event.LevelUnknown)}},
		{name: "structured metadata", ct: jsonCT, body: sm, status: 204, want: smRecords},
		{name: "gzip json", ct: jsonCT, encoding: "gzip", body: gz(t, sm), status: 204, want: smRecords},
		{name: "numeric timestamp", ct: jsonCT, body: []byte(`{"streams":[{"stream":{"a":"b"},"values":[[1700000000000000001,"x"]]}]}`), status: 204,
			want: []event.Record{rec(1700000000000000001, labels.FromStrings("a", "b"), "x", event.LevelUnknown)}},
		{name: "level from structured metadata", ct: jsonCT,
			body:   []byte(`{"streams":[{"stream":{"a":"b","level":"info"},"values":[["1","x",{"level":"ERROR"}]]}]}`),
			status: 204,
			want: []event.Record{rec(1, labels.FromStrings("a", "b", "level", "info"), "x", event.LevelError,
				event.Attr{Key: "level", Value: "ERROR"})}},
		{name: "empty streams", ct: jsonCT, body: []byte(`{"streams":[]}`), status: 204},
		{name: "invalid utf8 repaired", ct: jsonCT, body: []byte("{\"streams\":[{\"stream\":{\"a\":\"b\"},\"values\":[[\"1\",\"bad \xff line\"]]}]}"), status: 204,
			want: []event.Record{rec(1, labels.FromStrings("a", "b"), "bad \uFFFD line", event.LevelUnknown)}},

		{name: "proto", ct: protoCT, status: 204,
			body: encodeProto(protoStream{labels: `{job="app", env="prod"}`, entries: []protoEntry{
				{secs: 1570818238, nanos: 5, line: "hello"},
				{secs: 1570818239, line: "with meta", meta: []event.Attr{{Key: "trace_id", Value: "abc"}, {Key: "level", Value: "warn"}}},
			}}, protoStream{labels: `{job="other",path="C:\\tmp \"x\""}`, entries: []protoEntry{{secs: 1, line: "y"}}}),
			want: []event.Record{
				rec(1570818238000000005, labels.FromStrings("env", "prod", "job", "app"), "hello", event.LevelUnknown),
				rec(1570818239000000000, labels.FromStrings("env", "prod", "job", "app"), "with meta", event.LevelWarn,
					event.Attr{Key: "trace_id", Value: "abc"}, event.Attr{Key: "level", Value: "warn"}),
				rec(1000000000, labels.FromStrings("job", "other", "path", `C:\tmp "x"`), "y", event.LevelUnknown),
			}},
		{name: "proto without content type", ct: "", status: 204,
			body: encodeProto(protoStream{labels: `{a="b"}`, entries: []protoEntry{{secs: 2, line: "z"}}}),
			want: []event.Record{rec(2000000000, labels.FromStrings("a", "b"), "z", event.LevelUnknown)}},
		{name: "proto with snappy content encoding", ct: protoCT, encoding: "snappy", status: 204,
			body: encodeProto(protoStream{labels: `{a="b"}`, entries: []protoEntry{{secs: 2, line: "z"}}}),
			want: []event.Record{rec(2000000000, labels.FromStrings("a", "b"), "z", event.LevelUnknown)}},

		{name: "GET", method: http.MethodGet, status: 405, errText: "use POST"},
		{name: "unknown content type", ct: "text/plain", body: docs, status: 415, errText: `unsupported content type "text/plain"`},
		{name: "unknown content encoding", ct: jsonCT, encoding: "br", body: docs, status: 415, errText: `content encoding "br"`},
		{name: "corrupt gzip", ct: jsonCT, encoding: "gzip", body: []byte("not gzip"), status: 400, errText: "gzip"},
		{name: "malformed json", ct: jsonCT, body: []byte(`{"streams":[`), status: 400, errText: "decode JSON push request"},
		{name: "stream without labels", ct: jsonCT, body: []byte(`{"streams":[{"stream":{},"values":[["1","x"]]}]}`), status: 400, errText: "at least one label"},
		{name: "invalid label name", ct: jsonCT, body: []byte(`{"streams":[{"stream":{"a-b":"c"},"values":[["1","x"]]}]}`), status: 400, errText: `invalid label name "a-b"`},
		{name: "non-string label value", ct: jsonCT, body: []byte(`{"streams":[{"stream":{"a":1},"values":[["1","x"]]}]}`), status: 400, errText: `value of "a" must be a string`},
		{name: "bad timestamp", ct: jsonCT, body: []byte(`{"streams":[{"stream":{"a":"b"},"values":[["yesterday","x"]]}]}`), status: 400, errText: `stream 0 entry 0: timestamp "yesterday"`},
		{name: "non-string line", ct: jsonCT, body: []byte(`{"streams":[{"stream":{"a":"b"},"values":[["1",{"x":1}]]}]}`), status: 400, errText: "log line must be a JSON string"},
		{name: "one-element entry", ct: jsonCT, body: []byte(`{"streams":[{"stream":{"a":"b"},"values":[["1"]]}]}`), status: 400, errText: "got 1"},
		{name: "non-string metadata", ct: jsonCT, body: []byte(`{"streams":[{"stream":{"a":"b"},"values":[["1","x",{"n":2}]]}]}`), status: 400, errText: "structured metadata"},
		{name: "proto not snappy", ct: protoCT, body: []byte("\x00\x01garbage"), status: 400, errText: "snappy"},
		{name: "proto bad labels", ct: protoCT, status: 400, errText: "stream 0: parse labels",
			body: encodeProto(protoStream{labels: `{a=b}`, entries: []protoEntry{{secs: 1, line: "x"}}})},
		{name: "proto empty labels", ct: protoCT, status: 400, errText: "at least one label",
			body: encodeProto(protoStream{labels: `{}`, entries: []protoEntry{{secs: 1, line: "x"}}})},
		{name: "proto truncated message", ct: protoCT, status: 400, errText: "decode protobuf push request",
			body: snappy.Encode(nil, []byte{0x0a, 0x10, 0x0a})},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := &recsink.Sink{}
			h := New(nil, prometheus.NewRegistry(), s, Options{})
			method := tc.method
			if method == "" {
				method = http.MethodPost
			}
			req := httptest.NewRequest(method, Path, bytes.NewReader(tc.body))
			if tc.ct != "" {
				req.Header.Set("Content-Type", tc.ct)
			}
			if tc.encoding != "" {
				req.Header.Set("Content-Encoding", tc.encoding)
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

func TestPushLimits(t *testing.T) {
	long := strings.Repeat("a", 100)
	body := []byte(`{"streams":[{"stream":{"a":"b"},"values":[["1","` + long + `"]]}]}`)
	tests := []struct {
		name     string
		opts     Options
		encoding string
		body     []byte
		status   int
		wantBody string
	}{
		{name: "line truncated", opts: Options{MaxLineBytes: 40}, body: body, status: 204,
			wantBody: strings.Repeat("a", 40-len(logmetrics.TruncatedSuffix)) + logmetrics.TruncatedSuffix},
		{name: "body over limit", opts: Options{MaxBodyBytes: 50}, body: body, status: 413},
		{name: "gzip bomb over limit", opts: Options{MaxBodyBytes: 1000}, encoding: "gzip",
			body: gz(t, bytes.Repeat([]byte(" "), 10000)), status: 413},
		{name: "snappy over limit", opts: Options{MaxBodyBytes: 1000},
			body: snappy.Encode(nil, bytes.Repeat([]byte{0}, 10000)), status: 413},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := &recsink.Sink{}
			h := New(nil, nil, s, tc.opts)
			req := httptest.NewRequest(http.MethodPost, Path, bytes.NewReader(tc.body))
			if tc.encoding != "" {
				req.Header.Set("Content-Encoding", tc.encoding)
			}
			if tc.body[0] == '{' {
				req.Header.Set("Content-Type", "application/json")
			}
			rw := httptest.NewRecorder()
			h.ServeHTTP(rw, req)
			require.Equal(t, tc.status, rw.Code, rw.Body.String())
			if tc.wantBody != "" {
				recs := s.Records()
				require.Len(t, recs, 1)
				require.Equal(t, tc.wantBody, recs[0].Body)
			}
		})
	}
}

func TestPushConsumerErrors(t *testing.T) {
	tests := []struct {
		name   string
		err    error
		status int
		reason string
	}{
		{name: "overloaded", err: fmt.Errorf("append: %w", logmetrics.ErrOverloaded), status: 429, reason: "overloaded"},
		{name: "other", err: errors.New("disk on fire"), status: 503, reason: "unavailable"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			reg := prometheus.NewRegistry()
			m := logmetrics.New(reg)
			h := New(nil, reg, &recsink.Sink{Err: tc.err}, Options{Metrics: m})
			req := httptest.NewRequest(http.MethodPost, Path, bytes.NewReader(readTestdata(t, "push_docs.json")))
			req.Header.Set("Content-Type", "application/json")
			rw := httptest.NewRecorder()
			h.ServeHTTP(rw, req)
			require.Equal(t, tc.status, rw.Code)
			require.Equal(t, "5", rw.Header().Get("Retry-After"))
			require.Contains(t, rw.Body.String(), tc.err.Error())
			require.Equal(t, 1.0, testutil.ToFloat64(mustCounter(t, reg, "lookout_log_ingest_rejected_total", "loki", tc.reason)))
		})
	}
}

func TestPushMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	// Two receivers on one registry share the counters.
	h := New(nil, reg, &recsink.Sink{}, Options{})
	_ = New(nil, reg, &recsink.Sink{}, Options{})
	post := func(body string) int {
		req := httptest.NewRequest(http.MethodPost, Path, strings.NewReader(body))
		req.Header.Set("Content-Type", "application/json")
		rw := httptest.NewRecorder()
		h.ServeHTTP(rw, req)
		return rw.Code
	}
	require.Equal(t, 204, post(string(readTestdata(t, "push_structured_metadata.json"))))
	require.Equal(t, 400, post(`{"streams":[{"stream":{},"values":[["1","x"]]}]}`))
	require.Equal(t, 3.0, testutil.ToFloat64(mustCounter(t, reg, "lookout_log_ingest_lines_total", "loki")))
	require.Equal(t, float64(len("log line one")+len("log line two")+len("disk almost full")),
		testutil.ToFloat64(mustCounter(t, reg, "lookout_log_ingest_bytes_total", "loki")))
	require.Equal(t, 1.0, testutil.ToFloat64(mustCounter(t, reg, "lookout_log_ingest_rejected_total", "loki", "invalid_labels")))
}

// mustCounter finds the counter of family name with the given label values
// by gathering reg.
func mustCounter(t testing.TB, reg *prometheus.Registry, name string, values ...string) prometheus.Collector {
	t.Helper()
	mfs, err := reg.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
		for _, m := range mf.GetMetric() {
			var got []string
			for _, lp := range m.GetLabel() {
				got = append(got, lp.GetValue())
			}
			if strings.Join(got, "\x00") == strings.Join(values, "\x00") {
				return prometheus.NewCounterFunc(prometheus.CounterOpts{Name: "x", Help: "x"},
					func() float64 { return m.GetCounter().GetValue() })
			}
		}
	}
	t.Fatalf("no counter %s%v", name, values)
	return nil
}

func TestParseLabelString(t *testing.T) {
	tests := []struct {
		in      string
		want    []labels.Label
		errText string
	}{
		{in: `{a="b"}`, want: []labels.Label{{Name: "a", Value: "b"}}},
		{in: ` { a = "b" , c="d", } `, want: []labels.Label{{Name: "a", Value: "b"}, {Name: "c", Value: "d"}}},
		{in: `{a="\u00e9\n\"q\""}`, want: []labels.Label{{Name: "a", Value: "é\n\"q\""}}},
		{in: "{a=`raw\\n`}", want: []labels.Label{{Name: "a", Value: `raw\n`}}},
		{in: `{a='it\'s'}`, want: []labels.Label{{Name: "a", Value: "it's"}}},
		{in: `{}`, want: nil},
		{in: ``, errText: "want '{'"},
		{in: `{a}`, errText: "want '=' after label \"a\""},
		{in: `{a=~"b"}`, errText: "want a quoted label value"},
		{in: `{a="b"`, errText: "want ',' or '}'"},
		{in: `{a="b}`, errText: "unterminated"},
		{in: `{a="b"} x`, errText: "unexpected text"},
		{in: `{a="b" c="d"}`, errText: "want ',' or '}'"},
		{in: `{="b"}`, errText: "want a label name"},
	}
	for _, tc := range tests {
		t.Run(tc.in, func(t *testing.T) {
			got, err := parseLabelString(tc.in)
			if tc.errText != "" {
				require.ErrorContains(t, err, tc.errText)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}

var _ pipeline.Consumer[[]event.Record] = (*recsink.Sink)(nil)
