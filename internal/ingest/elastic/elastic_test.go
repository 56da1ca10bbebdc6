package elastic

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strconv"
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

// newTestReceiver returns a receiver with a fixed clock and predictable ids.
func newTestReceiver(t testing.TB, next *recsink.Sink, opts Options) *Receiver {
	t.Helper()
	opts.Now = func() time.Time { return testNow }
	rc := New(nil, prometheus.NewRegistry(), next, opts)
	var n int
	rc.newID = func() string { n++; return "gen-" + strconv.Itoa(n) }
	return rc
}

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

func ms(s string) int64 {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return t.UnixNano()
}

// created is the item answer of a stored document.
func created(action, index, id string, seq int) string {
	return fmt.Sprintf(`{%q:{"_index":%q,"_id":%q,"_version":1,"result":"created","_shards":{"total":1,"successful":1,"failed":0},"_seq_no":%d,"_primary_term":1,"status":201}}`,
		action, index, id, seq)
}

// failed is the item answer of a refused action.
func failed(action, index, id, typ, reason string) string {
	return fmt.Sprintf(`{%q:{"_index":%q,"_id":%q,"status":400,"error":{"type":%q,"reason":%q}}}`, action, index, id, typ, reason)
}

func bulkResp(errs bool, items ...string) string {
	return fmt.Sprintf(`{"took":0,"errors":%t,"items":[%s]}`, errs, strings.Join(items, ","))
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

func TestBulk(t *testing.T) {
	const (
		unsupportedDelete = "delete is not supported: Lookout stores logs append-only; use index or create"
		unsupportedUpdate = "update is not supported: Lookout stores logs append-only; use index or create"
	)
	now := testNow.UnixNano()
	test := labels.FromStrings("index", "test")
	ds := labels.FromStrings("index", "my-data-stream")
	x := labels.FromStrings("index", "x")

	tests := []struct {
		name     string
		method   string
		path     string
		body     []byte
		ct       string // default application/x-ndjson
		encoding string
		opts     Options
		status   int
		resp     string // exact JSON answer
		errText  string // substring of an error answer
		want     []event.Record
	}{
		{
			name: "docs example", path: "/_bulk", body: readTestdata(t, "bulk_docs.ndjson"), status: 200,
			resp: bulkResp(true,
				created("index", "test", "1", 0),
				failed("delete", "test", "2", "illegal_argument_exception", unsupportedDelete),
				created("create", "test", "3", 1),
				failed("update", "test", "1", "illegal_argument_exception", unsupportedUpdate)),
			want: []event.Record{
				rec(now, test, `{ "field1" : "value1" }`, event.LevelUnknown),
				rec(now, test, `{ "field1" : "value3" }`, event.LevelUnknown),
			},
		},
		{
			name: "docs errors example", path: "/_bulk", body: readTestdata(t, "bulk_errors.ndjson"), status: 200,
			resp: bulkResp(true,
				failed("update", "index1", "5", "illegal_argument_exception", unsupportedUpdate),
				failed("update", "index1", "6", "illegal_argument_exception", unsupportedUpdate),
				created("create", "index1", "7", 0)),
			want: []event.Record{rec(now, labels.FromStrings("index", "index1"), `{ "my_field": "foo" }`, event.LevelUnknown)},
		},
		{
			name: "docs data stream example", method: http.MethodPut, path: "/my-data-stream/_bulk",
			body: readTestdata(t, "bulk_data_stream.ndjson"), status: 200,
			resp: bulkResp(false,
				created("create", "my-data-stream", "gen-1", 0),
				created("create", "my-data-stream", "gen-2", 1),
				created("create", "my-data-stream", "gen-3", 2)),
			want: []event.Record{
				rec(ms("2099-03-08T11:04:05Z"), ds, "Login attempt failed", event.LevelUnknown, attr("user.id", "vlb44hny")),
				rec(ms("2099-03-08T11:06:07Z"), ds, "Login successful", event.LevelUnknown, attr("user.id", "8a4f500d")),
				rec(ms("2099-03-09T11:07:08Z"), ds, "Logout successful", event.LevelUnknown, attr("user.id", "l7gk7f82")),
			},
		},
		{
			name: "filebeat document with promoted field", path: "/_bulk", body: readTestdata(t, "bulk_filebeat.ndjson"),
			opts: Options{Promote: []string{"host.name", "missing"}}, status: 200,
			resp: bulkResp(false, created("create", "filebeat-8.19.0", "gen-1", 0)),
			want: []event.Record{rec(ms("2025-11-21T10:00:00.123Z"),
				labels.FromStrings("host_name", "web-1", "index", "filebeat-8.19.0"),
				"GET /index.html HTTP/1.1 200", event.LevelWarn,
				attr("agent.type", "filebeat"), attr("agent.version", "8.19.0"), attr("ecs.version", "8.0.0"),
				attr("log.file.path", "/var/log/nginx/access.log"), attr("log.offset", "1024"),
				attr("tags", `["nginx","access"]`))},
		},
		{
			name: "elasticsearch-js 8 content type", path: "/_bulk", ct: "application/vnd.elasticsearch+x-ndjson; compatible-with=8",
			body: readTestdata(t, "bulk_errors.ndjson"), status: 200,
			resp: bulkResp(true,
				failed("update", "index1", "5", "illegal_argument_exception", unsupportedUpdate),
				failed("update", "index1", "6", "illegal_argument_exception", unsupportedUpdate),
				created("create", "index1", "7", 0)),
			want: []event.Record{rec(now, labels.FromStrings("index", "index1"), `{ "my_field": "foo" }`, event.LevelUnknown)},
		},
		{
			name: "logstash json content type", path: "/_bulk", ct: "application/json",
			body: readTestdata(t, "bulk_errors.ndjson"), status: 200,
			resp: bulkResp(true,
				failed("update", "index1", "5", "illegal_argument_exception", unsupportedUpdate),
				failed("update", "index1", "6", "illegal_argument_exception", unsupportedUpdate),
				created("create", "index1", "7", 0)),
			want: []event.Record{rec(now, labels.FromStrings("index", "index1"), `{ "my_field": "foo" }`, event.LevelUnknown)},
		},
		{
			name: "gzip", path: "/_bulk", encoding: "gzip", body: gz(t, readTestdata(t, "bulk_errors.ndjson")), status: 200,
			resp: bulkResp(true,
				failed("update", "index1", "5", "illegal_argument_exception", unsupportedUpdate),
				failed("update", "index1", "6", "illegal_argument_exception", unsupportedUpdate),
				created("create", "index1", "7", 0)),
			want: []event.Record{rec(now, labels.FromStrings("index", "index1"), `{ "my_field": "foo" }`, event.LevelUnknown)},
		},
		{
			name: "message, level and time fallbacks", path: "/x/_bulk", status: 200,
			body: []byte(`{"index":{}}` + "\n" + `{"log":"from log","severity":"ERR","@timestamp":1700000000123}` + "\n" +
				`{"index":{"_id":42}}` + "\n" + `{"msg":"from msg","level":"chatty","@timestamp":"last tuesday","n":null,"e":{}}` + "\n" +
				`{"index":{}}` + "\r\n" + `{"message":7,"log.level":"debug","@timestamp":"2025-11-21 10:00:00"}` + "\r\n" +
				`{"index":{}}` + "\n" + `{"message":"no tz","@timestamp":"2025-11-21T10:00:00.5"}`),
			resp: bulkResp(false, created("index", "x", "gen-1", 0), created("index", "x", "42", 1),
				created("index", "x", "gen-2", 2), created("index", "x", "gen-3", 3)),
			want: []event.Record{
				rec(1700000000123000000, x, "from log", event.LevelError),
				rec(now, x, "from msg", event.LevelUnknown, attr("@timestamp", "last tuesday"), attr("level", "chatty")),
				rec(ms("2025-11-21T10:00:00Z"), x, "7", event.LevelDebug),
				rec(ms("2025-11-21T10:00:00.5Z"), x, "no tz", event.LevelUnknown),
			},
		},
		{
			name: "malformed documents fail their own items", path: "/_bulk", status: 200,
			body: []byte(`{"index":{"_index":"x","_id":"a"}}` + "\n" + `{not json` + "\n" +
				`{"index":{"_index":"x","_id":"b"}}` + "\n" + `[1,2]` + "\n" +
				`{"index":{"_index":"x","_id":"c"}}` + "\n" + `{"message":"ok"} trailing` + "\n" +
				`{"index":{"_id":"d"}}` + "\n" + `{"message":"no index"}` + "\n" +
				`{"index":{"_index":"x","_id":"e"}}` + "\n" + `{"message":"ok"}` + "\n"),
			resp: bulkResp(true,
				failed("index", "x", "a", "mapper_parsing_exception", "failed to parse: decode source document: invalid character 'n' looking for beginning of object key string"),
				failed("index", "x", "b", "mapper_parsing_exception", "failed to parse: source document is not a JSON object"),
				failed("index", "x", "c", "mapper_parsing_exception", "failed to parse: unexpected data after the source document"),
				failed("index", "", "d", "action_request_validation_exception", "Validation Failed: 1: index is missing;"),
				created("index", "x", "e", 0)),
			want: []event.Record{rec(now, x, "ok", event.LevelUnknown)},
		},
		{
			name: "invalid utf8 and long lines", path: "/x/_bulk", opts: Options{MaxLineBytes: 20}, status: 200,
			body: []byte(`{"index":{}}` + "\n" + `{"message":"` + strings.Repeat("é", 20) + `","k":"bad ` + "\xff" + `"}`),
			resp: bulkResp(false, created("index", "x", "gen-1", 0)),
			want: []event.Record{rec(now, x, "ééé…[truncated]", event.LevelUnknown, attr("k", "bad \uFFFD"))},
		},

		{name: "malformed action line", path: "/_bulk", body: []byte("{\"index\":{}}\n{}\nnot json\n"), status: 400,
			errText: "malformed action/metadata line [3]"},
		{name: "unknown action", path: "/_bulk", body: []byte(`{"upsert":{"_index":"x"}}` + "\n{}\n"), status: 400,
			errText: "expected one of [create, delete, index, update] but found [upsert]"},
		{name: "two actions on a line", path: "/_bulk", body: []byte(`{"index":{},"create":{}}` + "\n{}\n"), status: 400,
			errText: "found 2 keys"},
		{name: "action without source", path: "/x/_bulk", body: []byte(`{"index":{}}` + "\n"), status: 400,
			errText: "the index action on line [1] has no source document line"},
		{name: "empty body", path: "/_bulk", body: nil, status: 400, errText: "no requests added"},
		{name: "other operation", path: "/x/_search", body: []byte("{}"), status: 404, errText: "no handler found for uri [/x/_search]"},
		{name: "body too large", path: "/_bulk", body: readTestdata(t, "bulk_docs.ndjson"), opts: Options{MaxBodyBytes: 10}, status: 413},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := &recsink.Sink{}
			rc := newTestReceiver(t, s, tc.opts)
			method := tc.method
			if method == "" {
				method = http.MethodPost
			}
			req := httptest.NewRequest(method, tc.path, bytes.NewReader(tc.body))
			ct := tc.ct
			if ct == "" {
				ct = "application/x-ndjson"
			}
			req.Header.Set("Content-Type", ct)
			if tc.encoding != "" {
				req.Header.Set("Content-Encoding", tc.encoding)
			}
			rw := httptest.NewRecorder()
			rc.ServeHTTP(rw, req)
			require.Equal(t, tc.status, rw.Code, rw.Body.String())
			require.Equal(t, "Elasticsearch", rw.Header().Get("X-Elastic-Product"))
			require.Equal(t, "application/json", rw.Header().Get("Content-Type"))
			if tc.resp != "" {
				require.JSONEq(t, tc.resp, rw.Body.String())
			}
			if tc.errText != "" {
				require.Contains(t, rw.Body.String(), tc.errText)
				require.Contains(t, rw.Body.String(), `"status":`+strconv.Itoa(tc.status))
			}
			require.Equal(t, tc.want, s.Records())
		})
	}
}

func TestBulkConsumerErrors(t *testing.T) {
	tests := []struct {
		name    string
		err     error
		status  int
		errType string
	}{
		{name: "overloaded", err: fmt.Errorf("append: %w", logmetrics.ErrOverloaded), status: 429, errType: "es_rejected_execution_exception"},
		{name: "other", err: errors.New("disk on fire"), status: 503, errType: "unavailable_shards_exception"},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			rc := newTestReceiver(t, &recsink.Sink{Err: tc.err}, Options{})
			req := httptest.NewRequest(http.MethodPost, "/_bulk", bytes.NewReader(readTestdata(t, "bulk_docs.ndjson")))
			rw := httptest.NewRecorder()
			rc.ServeHTTP(rw, req)
			require.Equal(t, tc.status, rw.Code)
			require.Equal(t, "5", rw.Header().Get("Retry-After"))
			reason := "store logs: " + tc.err.Error()
			require.JSONEq(t, fmt.Sprintf(`{"error":{"root_cause":[{"type":%q,"reason":%q}],"type":%q,"reason":%q},"status":%d}`,
				tc.errType, reason, tc.errType, reason, tc.status), rw.Body.String())
		})
	}
}

func TestProbeEndpoints(t *testing.T) {
	tests := []struct {
		method string
		path   string
		body   string
		status int
		want   string // substring of the answer; HEAD answers have no body
	}{
		{method: "GET", path: "/", status: 200, want: `"number":"8.19.0"`},
		{method: "GET", path: "/", status: 200, want: `"tagline":"You Know, for Search"`},
		{method: "HEAD", path: "/", status: 200},
		{method: "GET", path: "/_license", status: 200, want: `"status":"active"`},
		{method: "GET", path: "/_xpack", status: 200, want: `"ilm":{"available":true,"enabled":true}`},
		{method: "GET", path: "/_cluster/health", status: 200, want: `"status":"green"`},
		{method: "GET", path: "/_nodes/http", status: 200, want: `"publish_address":"example.com"`},
		{method: "GET", path: "/_nodes", status: 200, want: `"total":1`},
		{method: "GET", path: "/_template/filebeat", status: 200, want: `"filebeat":{`},
		{method: "HEAD", path: "/_template/filebeat", status: 200},
		{method: "PUT", path: "/_template/logstash", body: `{"index_patterns":["logstash-*"]}`, status: 200, want: `{"acknowledged":true}`},
		{method: "GET", path: "/_index_template/filebeat-8.19.0", status: 200, want: `"name":"filebeat-8.19.0"`},
		{method: "HEAD", path: "/_index_template/filebeat-8.19.0", status: 200},
		{method: "PUT", path: "/_index_template/filebeat-8.19.0", body: `{}`, status: 200, want: `{"acknowledged":true}`},
		{method: "GET", path: "/_ilm/policy/filebeat", status: 200, want: `"filebeat":{"modified_date"`},
		{method: "PUT", path: "/_ilm/policy/filebeat", body: `{"policy":{}}`, status: 200, want: `{"acknowledged":true}`},
		{method: "GET", path: "/_ingest/pipeline/p1", status: 200, want: `"processors":[]`},
		{method: "PUT", path: "/_ingest/pipeline/p1", body: `{}`, status: 200, want: `{"acknowledged":true}`},
		{method: "GET", path: "/_alias/logstash", status: 200, want: `"logstash-000001":{"aliases":{"logstash":{"is_write_index":true}}}`},
		{method: "HEAD", path: "/_alias/logstash", status: 200},
		{method: "PUT", path: "/%3Clogstash-%7Bnow%2Fd%7D-000001%3E", body: `{"aliases":{}}`, status: 200, want: `"index":"\u003clogstash-{now/d}-000001\u003e"`},
		{method: "GET", path: "/nope/x/y", status: 404, want: `"type":"resource_not_found_exception"`},
		{method: "DELETE", path: "/_template/x", status: 404, want: `/_template/x] and method [DELETE]`},
	}
	for _, prefix := range []string{"", "/elastic"} {
		rc := newTestReceiver(t, &recsink.Sink{}, Options{})
		var h http.Handler = rc
		if prefix != "" {
			mux := http.NewServeMux()
			rc.Register(mux, prefix)
			// Neighbours on the main port must not conflict with the routes.
			mux.HandleFunc("/", func(w http.ResponseWriter, _ *http.Request) { _, _ = w.Write([]byte("ui")) })
			mux.HandleFunc("POST /loki/api/v1/push", func(http.ResponseWriter, *http.Request) {})
			h = mux
		}
		for _, tc := range tests {
			t.Run(prefix+" "+tc.method+" "+tc.path, func(t *testing.T) {
				req := httptest.NewRequest(tc.method, "http://example.com"+prefix+tc.path, strings.NewReader(tc.body))
				req.Header.Set("Accept", "application/vnd.elasticsearch+json; compatible-with=8")
				rw := httptest.NewRecorder()
				h.ServeHTTP(rw, req)
				require.Equal(t, tc.status, rw.Code, rw.Body.String())
				require.Equal(t, "Elasticsearch", rw.Header().Get("X-Elastic-Product"))
				require.Equal(t, "application/vnd.elasticsearch+json;compatible-with=8", rw.Header().Get("Content-Type"))
				require.Contains(t, rw.Body.String(), tc.want)
			})
		}
	}
	t.Run("prefix without trailing slash", func(t *testing.T) {
		mux := http.NewServeMux()
		newTestReceiver(t, &recsink.Sink{}, Options{Version: "9.1.0"}).Register(mux, "/elastic/")
		rw := httptest.NewRecorder()
		mux.ServeHTTP(rw, httptest.NewRequest(http.MethodGet, "/elastic", nil))
		require.Equal(t, 200, rw.Code)
		require.Contains(t, rw.Body.String(), `"number":"9.1.0"`)
	})
}

func TestBulkMetrics(t *testing.T) {
	reg := prometheus.NewRegistry()
	rc := New(nil, reg, &recsink.Sink{}, Options{})
	req := httptest.NewRequest(http.MethodPost, "/_bulk", bytes.NewReader(readTestdata(t, "bulk_docs.ndjson")))
	rc.ServeHTTP(httptest.NewRecorder(), req)
	mfs, err := reg.Gather()
	require.NoError(t, err)
	got := map[string]float64{}
	for _, mf := range mfs {
		for _, m := range mf.GetMetric() {
			key := mf.GetName()
			for _, lp := range m.GetLabel() {
				key += "," + lp.GetValue()
			}
			got[key] = m.GetCounter().GetValue()
		}
	}
	require.Equal(t, map[string]float64{
		"lookout_log_ingest_lines_total,elastic":                          2,
		"lookout_log_ingest_bytes_total,elastic":                          float64(2 * len(`{ "field1" : "value1" }`)),
		"lookout_log_ingest_rejected_total,elastic,unsupported_operation": 2,
	}, got)
}
