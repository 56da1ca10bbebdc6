package app

import (
	"bytes"
	"encoding/json"
	"flag"
	"io"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/prompb"
	"github.com/stretchr/testify/require"
)

var update = flag.Bool("update", false, "rewrite the golden files in testdata/golden")

// goldenBase is the start of the golden dataset; the data is 10 minutes at a
// 15s interval from here.
var goldenBase = time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC)

// goldenSeries is the dataset every golden request runs against.
func goldenSeries() []prompb.TimeSeries {
	var out []prompb.TimeSeries
	add := func(value func(i int) float64, kv ...string) {
		ts := prompb.TimeSeries{}
		for i := 0; i+1 < len(kv); i += 2 {
			ts.Labels = append(ts.Labels, prompb.Label{Name: kv[i], Value: kv[i+1]})
		}
		for i := 0; i <= 40; i++ {
			ts.Samples = append(ts.Samples, prompb.Sample{Value: value(i), Timestamp: goldenBase.Add(time.Duration(i) * 15 * time.Second).UnixMilli()})
		}
		out = append(out, ts)
	}
	for _, inst := range []string{"app-1:8080", "app-2:8080"} {
		for _, st := range []struct {
			code string
			rate float64
		}{{"200", 10}, {"500", 0.5}} {
			r := st.rate
			add(func(i int) float64 { return float64(i) * r * 15 }, "__name__", "http_requests_total", "instance", inst, "job", "crm", "method", "GET", "status", st.code)
		}
		for _, le := range []struct {
			le   string
			frac float64
		}{{"0.1", 0.6}, {"0.5", 0.9}, {"1", 0.97}, {"+Inf", 1}} {
			f := le.frac
			add(func(i int) float64 { return float64(i) * 150 * f }, "__name__", "http_request_duration_seconds_bucket", "instance", inst, "job", "crm", "le", le.le)
		}
		add(func(i int) float64 { return float64(20 + i%7) }, "__name__", "db_connections_active", "instance", inst, "job", "crm")
	}
	return out
}

// goldenCase is one API request whose response must not change.
type goldenCase struct {
	name   string
	method string
	path   string
	form   url.Values // sent as the body of POST requests
}

func goldenCases() []goldenCase {
	at := func(d time.Duration) string { return formatTS(goldenBase.Add(d)) }
	return []goldenCase{
		{name: "query_vector", method: "GET", path: "/api/v1/query?" + url.Values{"query": {`sum by (status) (rate(http_requests_total[5m]))`}, "time": {at(10 * time.Minute)}}.Encode()},
		{name: "query_post", method: "POST", path: "/api/v1/query", form: url.Values{"query": {`db_connections_active{instance="app-1:8080"}`}, "time": {at(5 * time.Minute)}}},
		{name: "query_scalar", method: "GET", path: "/api/v1/query?" + url.Values{"query": {`scalar(sum(db_connections_active))`}, "time": {at(time.Minute)}}.Encode()},
		{name: "query_string", method: "GET", path: "/api/v1/query?" + url.Values{"query": {`"hello"`}, "time": {at(0)}}.Encode()},
		{name: "query_histogram_quantile", method: "GET", path: "/api/v1/query?" + url.Values{"query": {`histogram_quantile(0.95, sum by (le) (rate(http_request_duration_seconds_bucket[5m])))`}, "time": {at(10 * time.Minute)}}.Encode()},
		{name: "query_empty", method: "GET", path: "/api/v1/query?" + url.Values{"query": {`nonexistent_metric`}, "time": {at(time.Minute)}}.Encode()},
		{name: "query_parse_error", method: "GET", path: "/api/v1/query?" + url.Values{"query": {`rate(http_requests_total[5m]`}, "time": {at(time.Minute)}}.Encode()},
		{name: "query_missing_param", method: "GET", path: "/api/v1/query"},
		{name: "query_bad_time", method: "GET", path: "/api/v1/query?query=up&time=yesterday"},
		{name: "query_range", method: "GET", path: "/api/v1/query_range?" + url.Values{"query": {`sum(rate(http_requests_total{status="500"}[2m]))`}, "start": {at(5 * time.Minute)}, "end": {at(10 * time.Minute)}, "step": {"60"}}.Encode()},
		{name: "query_range_post", method: "POST", path: "/api/v1/query_range", form: url.Values{"query": {`db_connections_active`}, "start": {at(0)}, "end": {at(2 * time.Minute)}, "step": {"30s"}}},
		{name: "query_range_bad_step", method: "GET", path: "/api/v1/query_range?" + url.Values{"query": {`up`}, "start": {at(0)}, "end": {at(time.Minute)}, "step": {"0"}}.Encode()},
		{name: "query_range_too_many_points", method: "GET", path: "/api/v1/query_range?" + url.Values{"query": {`up`}, "start": {at(0)}, "end": {at(24 * time.Hour)}, "step": {"1"}}.Encode()},
		{name: "series", method: "GET", path: "/api/v1/series?" + url.Values{"match[]": {`http_requests_total{status="500"}`}, "start": {at(0)}, "end": {at(10 * time.Minute)}}.Encode()},
		{name: "series_no_match", method: "GET", path: "/api/v1/series"},
		{name: "labels", method: "GET", path: "/api/v1/labels?" + url.Values{"start": {at(0)}, "end": {at(10 * time.Minute)}}.Encode()},
		{name: "labels_match", method: "POST", path: "/api/v1/labels", form: url.Values{"match[]": {`db_connections_active`}, "start": {at(0)}, "end": {at(10 * time.Minute)}}},
		{name: "label_values", method: "GET", path: "/api/v1/label/instance/values?" + url.Values{"start": {at(0)}, "end": {at(10 * time.Minute)}}.Encode()},
		{name: "label_values_name", method: "GET", path: "/api/v1/label/__name__/values?" + url.Values{"start": {at(0)}, "end": {at(10 * time.Minute)}}.Encode()},
		{name: "query_exemplars_empty", method: "GET", path: "/api/v1/query_exemplars?" + url.Values{"query": {`http_requests_total`}, "start": {at(0)}, "end": {at(10 * time.Minute)}}.Encode()},
		{name: "format_query", method: "GET", path: "/api/v1/format_query?" + url.Values{"query": {`sum(rate(foo{bar="baz"}[5m]))by(job)`}}.Encode()},
		{name: "parse_query", method: "GET", path: "/api/v1/parse_query?" + url.Values{"query": {`sum by (job) (rate(foo[5m]))`}}.Encode()},
		{name: "rules_empty", method: "GET", path: "/api/v1/rules"},
		{name: "alerts_empty", method: "GET", path: "/api/v1/alerts"},
		{name: "unknown_endpoint", method: "GET", path: "/api/v1/nope"},
	}
}

func formatTS(t time.Time) string { return t.UTC().Format(time.RFC3339) }

// goldenResponse is what a golden file holds.
type goldenResponse struct {
	Status int             `json:"status"`
	Body   json.RawMessage `json:"body"`
}

// TestAPIGolden checks the Prometheus API's responses byte for byte (modulo
// JSON formatting) against testdata/golden. With LOOKOUT_COMPARE_PROMETHEUS
// set to the base URL of a Prometheus 3 started with
// --web.enable-remote-write-receiver on an empty data dir, the same dataset
// is written to it and its answers are checked against the same files;
// scripts/compare-prometheus-api.sh does that.
func TestAPIGolden(t *testing.T) {
	base := os.Getenv("LOOKOUT_COMPARE_PROMETHEUS")
	if base == "" {
		ta := startApp(t, nil)
		base = ta.base
	}
	body := rwV1(t, goldenSeries())
	req, err := http.NewRequest(http.MethodPost, base+"/api/v1/write", bytes.NewReader(body))
	require.NoError(t, err)
	for k, v := range rwV1Headers {
		req.Header.Set(k, v)
	}
	resp, err := http.DefaultClient.Do(req)
	require.NoError(t, err)
	_ = resp.Body.Close()
	require.Equal(t, http.StatusNoContent, resp.StatusCode)

	for _, c := range goldenCases() {
		t.Run(c.name, func(t *testing.T) {
			var rd io.Reader
			if c.form != nil {
				rd = strings.NewReader(c.form.Encode())
			}
			req, err := http.NewRequest(c.method, base+c.path, rd)
			require.NoError(t, err)
			if c.form != nil {
				req.Header.Set("Content-Type", "application/x-www-form-urlencoded")
			}
			resp, err := http.DefaultClient.Do(req)
			require.NoError(t, err)
			defer resp.Body.Close()
			b, err := io.ReadAll(resp.Body)
			require.NoError(t, err)
			got := goldenResponse{Status: resp.StatusCode, Body: normalizeJSON(t, b)}
			file := filepath.Join("testdata", "golden", c.name+".json")
			if *update {
				out, err := json.MarshalIndent(got, "", "  ")
				require.NoError(t, err)
				require.NoError(t, os.MkdirAll(filepath.Dir(file), 0o755))
				require.NoError(t, os.WriteFile(file, append(out, '\n'), 0o644))
				return
			}
			raw, err := os.ReadFile(file)
			require.NoError(t, err, "run go test ./internal/app -run TestAPIGolden -update")
			var want goldenResponse
			require.NoError(t, json.Unmarshal(raw, &want))
			require.Equal(t, want.Status, got.Status)
			require.JSONEq(t, string(want.Body), string(got.Body))
		})
	}
}

// normalizeJSON re-encodes a JSON body compactly; non-JSON bodies are kept
// as a JSON string.
func normalizeJSON(t testing.TB, b []byte) json.RawMessage {
	t.Helper()
	var v any
	if err := json.Unmarshal(b, &v); err != nil {
		s, _ := json.Marshal(strings.TrimSpace(string(b)))
		return s
	}
	out, err := json.Marshal(v)
	require.NoError(t, err)
	return out
}
