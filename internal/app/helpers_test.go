package app

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/url"
	"strconv"
	"testing"
	"time"

	commoncfg "github.com/prometheus/common/config"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/otel/attribute"
	otelmetric "go.opentelemetry.io/otel/metric"

	"github.com/lookout-dev/lookout/internal/config"
)

// testApp is an in-process server on loopback ports chosen by the kernel.
type testApp struct {
	*App
	base string // http://host:port of the main listener
}

// startApp starts a server in a temporary data directory and waits until it
// is ready. mutate, if set, edits the config first.
func startApp(t testing.TB, mutate func(*config.Config)) *testApp {
	t.Helper()
	cfg := config.Default()
	cfg.Server.Listen = "127.0.0.1:0"
	cfg.Server.OTLPGRPCListen = "127.0.0.1:0"
	cfg.Server.OTLPHTTPListen = "127.0.0.1:0"
	cfg.Metrics.SelfScrape = false
	if mutate != nil {
		mutate(cfg)
	}
	return startWith(t, Options{Config: cfg, DataDir: t.TempDir()})
}

func startWith(t testing.TB, opts Options) *testApp {
	t.Helper()
	a, err := New(opts)
	require.NoError(t, err)
	require.NoError(t, a.Start(context.Background()))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
		defer cancel()
		require.NoError(t, a.Shutdown(ctx))
	})
	require.Eventually(t, a.Ready, 30*time.Second, 10*time.Millisecond, "store did not open")
	return &testApp{App: a, base: "http://" + a.Addr()}
}

// do sends a request to the main listener and returns status, headers and body.
func (ta *testApp) do(t testing.TB, method, path string, body io.Reader, hdr map[string]string) (int, http.Header, []byte) {
	t.Helper()
	return send(t, http.DefaultClient, method, ta.base+path, body, hdr)
}

// send makes one request with client; a transport error fails the test.
func send(t testing.TB, client *http.Client, method, url string, body io.Reader, hdr map[string]string) (int, http.Header, []byte) {
	t.Helper()
	req, err := http.NewRequest(method, url, body)
	require.NoError(t, err)
	for k, v := range hdr {
		req.Header.Set(k, v)
	}
	resp, err := client.Do(req)
	require.NoError(t, err, "%s %s", method, url)
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	return resp.StatusCode, resp.Header, b
}

// promResult is the envelope of a Prometheus API response.
type promResult struct {
	Status    string          `json:"status"`
	ErrorType string          `json:"errorType"`
	Error     string          `json:"error"`
	Data      json.RawMessage `json:"data"`
}

// vectorSample is one element of an instant vector result.
type vectorSample struct {
	Metric map[string]string `json:"metric"`
	Value  [2]any            `json:"value"`
}

// query runs an instant query at ts (zero: now) and returns the vector.
func (ta *testApp) query(t testing.TB, q string, ts time.Time) []vectorSample {
	t.Helper()
	v := url.Values{"query": {q}}
	if !ts.IsZero() {
		v.Set("time", strconv.FormatFloat(float64(ts.UnixMilli())/1000, 'f', 3, 64))
	}
	code, _, body := ta.do(t, http.MethodGet, "/api/v1/query?"+v.Encode(), nil, nil)
	require.Equal(t, http.StatusOK, code, string(body))
	var r promResult
	require.NoError(t, json.Unmarshal(body, &r))
	var d struct {
		ResultType string          `json:"resultType"`
		Result     json.RawMessage `json:"result"`
	}
	require.NoError(t, json.Unmarshal(r.Data, &d))
	require.Equal(t, "vector", d.ResultType)
	var out []vectorSample
	require.NoError(t, json.Unmarshal(d.Result, &out))
	return out
}

type secret = commoncfg.Secret

func modelDuration(d time.Duration) model.Duration { return model.Duration(d) }

func labelsOf(kv ...string) labels.Labels { return labels.FromStrings(kv...) }

func metricAttr(k, v string) otelmetric.AddOption {
	return otelmetric.WithAttributes(attribute.String(k, v))
}

func basic(user, pass string) string {
	return "Basic " + base64.StdEncoding.EncodeToString([]byte(user+":"+pass))
}

// counterValue sums the samples of a metric on the app's own registry whose
// labels include want.
func counterValue(t testing.TB, a *App, name string, want map[string]string) float64 {
	t.Helper()
	mfs, err := a.Registry().Gather()
	require.NoError(t, err)
	var sum float64
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	metrics:
		for _, m := range mf.GetMetric() {
			have := map[string]string{}
			for _, lp := range m.GetLabel() {
				have[lp.GetName()] = lp.GetValue()
			}
			for k, v := range want {
				if have[k] != v {
					continue metrics
				}
			}
			switch {
			case m.Counter != nil:
				sum += m.GetCounter().GetValue()
			case m.Gauge != nil:
				sum += m.GetGauge().GetValue()
			}
		}
	}
	return sum
}
