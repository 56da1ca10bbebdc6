package lokiapi_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"net/url"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/gorilla/websocket"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/stretchr/testify/require"

	"github.com/lookout-dev/lookout/internal/event"
	"github.com/lookout-dev/lookout/internal/eventstore/memstore"
	"github.com/lookout-dev/lookout/internal/logql"
	"github.com/lookout-dev/lookout/internal/lokiapi"
)

var base = time.Date(2026, 11, 20, 10, 0, 0, 0, time.UTC)

func rec(sec int, body, level string, ls ...string) event.Record {
	return event.Record{Kind: event.KindLog, Time: base.Add(time.Duration(sec) * time.Second).UnixNano(),
		Labels: labels.FromStrings(ls...), Body: body, Level: level}
}

// newServer serves the API over a memstore holding a few streams.
func newServer(t *testing.T) *httptest.Server {
	t.Helper()
	st := memstore.New()
	t.Cleanup(func() { _ = st.Close() })
	require.NoError(t, st.Append(context.Background(), []event.Record{
		rec(1, `{"level":"info","msg":"GET /"}`, "info", "app", "api", "env", "prod"),
		rec(2, `{"level":"error","msg":"boom request_id=abc"}`, "error", "app", "api", "env", "prod"),
		rec(3, "level=info msg=hi", "info", "app", "worker", "env", "dev"),
		rec(4, "old pod", "info", "app", "legacy", "pod", "x"),
	}))
	mux := http.NewServeMux()
	lokiapi.New(st, newEngine(st), lokiapi.Options{Now: func() time.Time { return base.Add(time.Minute) }, Version: "test"}).Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	return srv
}

func get(t *testing.T, srv *httptest.Server, path string, q url.Values) (int, string) {
	t.Helper()
	resp, err := http.Get(srv.URL + path + "?" + q.Encode())
	require.NoError(t, err)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, string(b)
}

func TestMetadata(t *testing.T) {
	srv := newServer(t)
	start := base.Add(-time.Minute).UnixNano()
	cases := []struct {
		name, path string
		q          url.Values
		code       int
		want       string
	}{
		{"labels", "/loki/api/v1/labels", url.Values{"start": {itoa(start)}}, 200,
			`{"status":"success","data":["app","env","pod"]}`},
		{"labels with query", "/loki/api/v1/labels", url.Values{"start": {itoa(start)}, "query": {`{app="api"}`}}, 200,
			`{"status":"success","data":["app","env"]}`},
		{"labels outside range", "/loki/api/v1/labels", url.Values{"start": {"1"}, "end": {"2"}}, 200,
			`{"status":"success","data":[]}`},
		{"label values", "/loki/api/v1/label/app/values", url.Values{"since": {"10m"}}, 200,
			`{"status":"success","data":["api","legacy","worker"]}`},
		{"label values rfc3339", "/loki/api/v1/label/env/values", url.Values{"start": {base.Format(time.RFC3339)}, "query": {`{env=~"p.*"}`}}, 200,
			`{"status":"success","data":["prod"]}`},
		{"series", "/loki/api/v1/series", url.Values{"start": {itoa(start)}, "match[]": {`{env="prod"}`, `{app="worker"}`}}, 200,
			`{"status":"success","data":[{"app":"api","env":"prod"},{"app":"worker","env":"dev"}]}`},
		{"index stats", "/loki/api/v1/index/stats", url.Values{"start": {itoa(start)}, "query": {`{app="api"}`}}, 200,
			`{"streams":1,"chunks":1,"entries":2,"bytes":75}`},
		{"bad selector", "/loki/api/v1/labels", url.Values{"query": {`{app=}`}}, 400, `invalid query "{app=}"`},
		{"bad time", "/loki/api/v1/labels", url.Values{"start": {"yesterday"}}, 400, `invalid start "yesterday"`},
		{"end before start", "/loki/api/v1/series", url.Values{"start": {"20"}, "end": {"10"}}, 400, "end timestamp must not be before start time"},
		{"bad label name", "/loki/api/v1/label/1x/values", nil, 400, `invalid label name "1x"`},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			code, body := get(t, srv, tc.path, tc.q)
			require.Equal(t, tc.code, code, body)
			if code == 200 {
				require.JSONEq(t, tc.want, body)
			} else {
				require.Contains(t, body, tc.want)
			}
		})
	}
}

func TestBuildInfo(t *testing.T) {
	srv := newServer(t)
	code, body := get(t, srv, "/loki/api/v1/status/buildinfo", nil)
	require.Equal(t, 200, code)
	var m map[string]string
	require.NoError(t, json.Unmarshal([]byte(body), &m))
	require.Equal(t, "test", m["version"])
}

func itoa(n int64) string { return strconv.FormatInt(n, 10) }

func newEngine(st *memstore.Store) *logql.Engine { return logql.NewEngine(st, logql.Options{}) }

func TestQueryRange(t *testing.T) {
	srv := newServer(t)
	start := itoa(base.UnixNano())
	end := itoa(base.Add(10 * time.Second).UnixNano())
	cases := []struct {
		name       string
		q          url.Values
		categorize bool
		code       int
		want       string
	}{
		{name: "streams backward", q: url.Values{"query": {`{app="api"}`}, "start": {start}, "end": {end}}, code: 200,
			want: `{"status":"success","data":{"resultType":"streams","result":[
				{"stream":{"app":"api","detected_level":"error","env":"prod"},"values":[["1795168802000000000","{\"level\":\"error\",\"msg\":\"boom request_id=abc\"}"]]},
				{"stream":{"app":"api","detected_level":"info","env":"prod"},"values":[["1795168801000000000","{\"level\":\"info\",\"msg\":\"GET /\"}"]]}]}}`},
		{name: "line filter and limit", q: url.Values{"query": {`{env=~".+"} |= "request_id"`}, "start": {start}, "end": {end}, "limit": {"1"}}, code: 200,
			want: `{"status":"success","data":{"resultType":"streams","result":[
				{"stream":{"app":"api","detected_level":"error","env":"prod"},"values":[["1795168802000000000","{\"level\":\"error\",\"msg\":\"boom request_id=abc\"}"]]}]}}`},
		{name: "categorized", categorize: true, q: url.Values{"query": {`{app="worker"} | logfmt`}, "start": {start}, "end": {end}}, code: 200,
			want: `{"status":"success","data":{"resultType":"streams","encodingFlags":["categorize-labels"],"result":[
				{"stream":{"app":"worker","env":"dev"},"values":[["1795168803000000000","level=info msg=hi",
				{"structuredMetadata":{"detected_level":"info"},"parsed":{"level":"info","msg":"hi"}}]]}]}}`},
		{name: "matrix", q: url.Values{"query": {`sum by (app) (count_over_time({env=~".+"}[10s]))`}, "start": {end}, "end": {end}, "step": {"10"}}, code: 200,
			want: `{"status":"success","data":{"resultType":"matrix","result":[
				{"metric":{"app":"api"},"values":[[1795168810,"2"]]},
				{"metric":{"app":"worker"},"values":[[1795168810,"1"]]}]}}`},
		{name: "parse error", q: url.Values{"query": {`{app="api"} |= `}}, code: 400, want: "parse error at line 1, col"},
		{name: "limit too high", q: url.Values{"query": {`{app="api"}`}, "limit": {"5001"}}, code: 400,
			want: "max entries limit per query exceeded, limit > max_entries_limit_per_query (5001 > 5000)"},
		{name: "no query", q: url.Values{}, code: 400, want: "query parameter is required"},
		{name: "bad step", q: url.Values{"query": {`{app="api"}`}, "step": {"-1"}}, code: 400, want: `invalid step "-1"`},
		{name: "too many points", q: url.Values{"query": {`{app="api"}`}, "start": {"0"}, "end": {end}, "step": {"1"}}, code: 400,
			want: "exceeded maximum resolution of 11,000 points"},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			req, err := http.NewRequest(http.MethodGet, srv.URL+"/loki/api/v1/query_range?"+tc.q.Encode(), nil)
			require.NoError(t, err)
			if tc.categorize {
				req.Header.Set("X-Loki-Response-Encoding-Flags", "categorize-labels")
			}
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			b, _ := io.ReadAll(resp.Body)
			require.Equal(t, tc.code, resp.StatusCode, string(b))
			if tc.code != 200 {
				require.Contains(t, string(b), tc.want)
				return
			}
			var got map[string]any
			require.NoError(t, json.Unmarshal(b, &got))
			data := got["data"].(map[string]any)
			require.Contains(t, data, "stats")
			delete(data, "stats")
			norm, _ := json.Marshal(got)
			require.JSONEq(t, tc.want, string(norm))
		})
	}
}

func TestInstantQuery(t *testing.T) {
	srv := newServer(t)
	at := itoa(base.Add(10 * time.Second).UnixNano())
	code, body := get(t, srv, "/loki/api/v1/query", url.Values{"query": {`sum(count_over_time({app="api"}[1m]))`}, "time": {at}})
	require.Equal(t, 200, code, body)
	require.Contains(t, body, `"resultType":"vector","result":[{"metric":{},"value":[1795168810,"2"]}]`)

	code, body = get(t, srv, "/loki/api/v1/query", url.Values{"query": {`{app="api"}`}, "time": {at}})
	require.Equal(t, 400, code)
	require.Contains(t, body, "log queries are not supported as an instant query type")
}

func TestDetectedFields(t *testing.T) {
	srv := newServer(t)
	code, body := get(t, srv, "/loki/api/v1/detected_fields", url.Values{"query": {`{env=~".+"}`}, "start": {itoa(base.UnixNano())}})
	require.Equal(t, 200, code, body)
	var got struct {
		Fields []struct {
			Label       string
			Type        string
			Cardinality int
			Parsers     []string
		}
	}
	require.NoError(t, json.Unmarshal([]byte(body), &got))
	byName := map[string]int{}
	for i, f := range got.Fields {
		byName[f.Label] = i
	}
	require.Contains(t, byName, "msg")
	msg := got.Fields[byName["msg"]]
	require.Equal(t, 3, msg.Cardinality, "GET /, boom…, hi")
	require.ElementsMatch(t, []string{"json", "logfmt"}, msg.Parsers)
	require.Equal(t, "string", msg.Type)
	require.Contains(t, byName, "detected_level")
}

func TestTail(t *testing.T) {
	st := memstore.New()
	t.Cleanup(func() { _ = st.Close() })
	now := time.Now()
	require.NoError(t, st.Append(context.Background(), []event.Record{
		{Kind: event.KindLog, Time: now.Add(-time.Minute).UnixNano(), Labels: labels.FromStrings("app", "api"), Body: "history"},
	}))
	mux := http.NewServeMux()
	lokiapi.New(st, newEngine(st), lokiapi.Options{}).Register(mux)
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)

	u := "ws" + strings.TrimPrefix(srv.URL, "http") + "/loki/api/v1/tail?" + url.Values{"query": {`{app="api"} != "skip"`}}.Encode()
	conn, resp, err := websocket.DefaultDialer.Dial(u, nil)
	require.NoError(t, err)
	defer resp.Body.Close()
	defer conn.Close()

	read := func() []string {
		t.Helper()
		require.NoError(t, conn.SetReadDeadline(time.Now().Add(20*time.Second)))
		_, b, err := conn.ReadMessage()
		require.NoError(t, err)
		var msg struct {
			Streams []struct {
				Stream map[string]string
				Values [][]string
			}
		}
		require.NoError(t, json.Unmarshal(b, &msg))
		var lines []string
		for _, s := range msg.Streams {
			require.Equal(t, "api", s.Stream["app"])
			for _, v := range s.Values {
				lines = append(lines, v[1])
			}
		}
		return lines
	}
	require.Equal(t, []string{"history"}, read())
	require.NoError(t, st.Append(context.Background(), []event.Record{
		{Kind: event.KindLog, Time: time.Now().UnixNano(), Labels: labels.FromStrings("app", "api"), Body: "skip me"},
		{Kind: event.KindLog, Time: time.Now().UnixNano() + 1, Labels: labels.FromStrings("app", "api"), Body: "live"},
	}))
	require.Equal(t, []string{"live"}, read())
}

func TestTailRejectsMetricQuery(t *testing.T) {
	srv := newServer(t)
	code, body := get(t, srv, "/loki/api/v1/tail", url.Values{"query": {`count_over_time({app="api"}[1m])`}})
	require.Equal(t, 400, code)
	require.Contains(t, body, "tail requires a log query")
}
