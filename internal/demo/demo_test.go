package demo

import (
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"
	"testing/synctest"
	"time"

	dto "github.com/prometheus/client_model/go"
	"github.com/prometheus/common/expfmt"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"
)

// frozen is a clock that never moves, so the background generator stays
// idle and Step alone decides what the metrics contain.
func frozen() time.Time { return time.Date(2026, 3, 2, 9, 0, 0, 0, time.UTC) }

// startService starts a Service on a free loopback port with a frozen
// clock and shuts it down when the test ends.
func startService(tb testing.TB, seed int64) *Service {
	tb.Helper()
	s := New(Options{Seed: seed, Now: frozen})
	require.NoError(tb, s.Start(tb.Context()))
	tb.Cleanup(func() { require.NoError(tb, s.Shutdown(context.Background())) })
	return s
}

// scrape fetches /metrics from addr and parses the text exposition.
func scrape(tb testing.TB, addr string) map[string]*dto.MetricFamily {
	tb.Helper()
	req, err := http.NewRequestWithContext(tb.Context(), http.MethodGet, "http://"+addr+"/metrics", nil)
	require.NoError(tb, err)
	resp, err := http.DefaultClient.Do(req)
	require.NoError(tb, err)
	defer resp.Body.Close()
	require.Equal(tb, http.StatusOK, resp.StatusCode)
	require.Contains(tb, resp.Header.Get("Content-Type"), "text/plain")
	p := expfmt.NewTextParser(model.UTF8Validation)
	fams, err := p.TextToMetricFamilies(resp.Body)
	require.NoError(tb, err)
	return fams
}

// gathered returns the service's metric families without going over HTTP.
func gathered(tb testing.TB, s *Service) map[string]*dto.MetricFamily {
	tb.Helper()
	list, err := s.gather()
	require.NoError(tb, err)
	out := make(map[string]*dto.MetricFamily, len(list))
	for _, mf := range list {
		out[mf.GetName()] = mf
	}
	return out
}

func labelMap(m *dto.Metric) map[string]string {
	out := make(map[string]string, len(m.GetLabel()))
	for _, lp := range m.GetLabel() {
		out[lp.GetName()] = lp.GetValue()
	}
	return out
}

// sumCounter adds up the samples of a counter family whose labels satisfy
// keep; a nil keep takes every sample.
func sumCounter(fams map[string]*dto.MetricFamily, name string, keep func(map[string]string) bool) float64 {
	var total float64
	for _, m := range fams[name].GetMetric() {
		if keep == nil || keep(labelMap(m)) {
			total += m.GetCounter().GetValue()
		}
	}
	return total
}

func is5xx(l map[string]string) bool { return strings.HasPrefix(l["status"], "5") }

func TestMetricsExposition(t *testing.T) {
	s := startService(t, 1)
	for range 3 {
		s.Step(5 * time.Second)
	}
	fams := scrape(t, s.Addr())

	tests := []struct {
		name   string
		metric string
		typ    dto.MetricType
		labels map[string]string
		value  float64 // checked for gauges when non-zero
	}{
		{"requests ok", "http_requests_total", dto.MetricType_COUNTER, map[string]string{"method": "GET", "endpoint": "/api/contacts", "status": "200"}, 0},
		{"requests created", "http_requests_total", dto.MetricType_COUNTER, map[string]string{"method": "POST", "endpoint": "/api/deals", "status": "201"}, 0},
		{"requests bad input", "http_requests_total", dto.MetricType_COUNTER, map[string]string{"method": "POST", "endpoint": "/api/auth/login", "status": "400"}, 0},
		{"requests not found", "http_requests_total", dto.MetricType_COUNTER, map[string]string{"method": "GET", "endpoint": "/api/deals", "status": "404"}, 0},
		{"requests unavailable", "http_requests_total", dto.MetricType_COUNTER, map[string]string{"method": "GET", "endpoint": "/health", "status": "503"}, 0},
		{"requests internal error", "http_requests_total", dto.MetricType_COUNTER, map[string]string{"method": "GET", "endpoint": "/api/reports/export", "status": "500"}, 0},
		{"latency", "http_request_duration_seconds", dto.MetricType_HISTOGRAM, map[string]string{"method": "GET", "endpoint": "/api/reports/export"}, 0},
		{"db active", "db_connections_active", dto.MetricType_GAUGE, map[string]string{}, 0},
		{"db max", "db_connections_max", dto.MetricType_GAUGE, map[string]string{}, 100},
		{"cache hits", "cache_hits_total", dto.MetricType_COUNTER, map[string]string{"cache_type": "redis"}, 0},
		{"cache misses", "cache_misses_total", dto.MetricType_COUNTER, map[string]string{"cache_type": "redis"}, 0},
		{"app info", "app_info", dto.MetricType_GAUGE, map[string]string{"version": appVersion}, 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			mf, ok := fams[tc.metric]
			require.True(t, ok, "metric %s not exposed", tc.metric)
			require.Equal(t, tc.typ, mf.GetType())
			var found *dto.Metric
			for _, m := range mf.GetMetric() {
				if equalLabels(labelMap(m), tc.labels) {
					found = m
				}
			}
			require.NotNil(t, found, "no %s series with labels %v", tc.metric, tc.labels)
			if tc.value != 0 {
				require.InDelta(t, tc.value, found.GetGauge().GetValue(), 0)
			}
		})
	}

	require.Positive(t, sumCounter(fams, "http_requests_total", nil))
	require.Positive(t, sumCounter(fams, "cache_hits_total", nil))
	buckets := fams["http_request_duration_seconds"].GetMetric()[0].GetHistogram().GetBucket()
	require.Len(t, buckets, 15, "14 classic bounds plus +Inf are exposed next to the native histogram")
}

func equalLabels(got, want map[string]string) bool {
	if len(got) != len(want) {
		return false
	}
	for k, v := range want {
		if got[k] != v {
			return false
		}
	}
	return true
}

func TestCountersAreMonotonic(t *testing.T) {
	s := startService(t, 2)
	s.Step(10 * time.Second)
	before := scrape(t, s.Addr())
	s.Step(10 * time.Second)
	after := scrape(t, s.Addr())

	for _, name := range []string{"http_requests_total", "cache_hits_total", "cache_misses_total"} {
		for _, m := range before[name].GetMetric() {
			l := labelMap(m)
			now := sumCounter(after, name, func(o map[string]string) bool { return equalLabels(o, l) })
			require.GreaterOrEqual(t, now, m.GetCounter().GetValue(), "%s%v went down", name, l)
		}
		require.Greater(t, sumCounter(after, name, nil), sumCounter(before, name, nil), "%s did not grow", name)
	}
	require.Greater(t,
		after["http_request_duration_seconds"].GetMetric()[0].GetHistogram().GetSampleCount(),
		before["http_request_duration_seconds"].GetMetric()[0].GetHistogram().GetSampleCount())
}

func TestHistogramCountsMatchRequests(t *testing.T) {
	s := startService(t, 3)
	s.Step(10 * time.Minute)
	got := scrape(t, s.Addr())

	hist := got["http_request_duration_seconds"].GetMetric()
	require.Len(t, hist, len(routes))
	for _, h := range hist {
		l := labelMap(h)
		requests := sumCounter(got, "http_requests_total", func(o map[string]string) bool {
			return o["method"] == l["method"] && o["endpoint"] == l["endpoint"]
		})
		require.Positive(t, requests, "%v saw no traffic", l)
		require.InDelta(t, requests, float64(h.GetHistogram().GetSampleCount()), 0, "%v", l)
	}
}

func TestTrafficShape(t *testing.T) {
	for _, seed := range []int64{1, 42, 20260302} {
		t.Run(fmt.Sprintf("seed %d", seed), func(t *testing.T) {
			s := New(Options{Seed: seed, Now: frozen})
			const minutes = 120
			var prevAll, prev5xx, worstMinute float64
			for range minutes {
				s.Step(time.Minute)
				f := gathered(t, s)
				all, bad := sumCounter(f, "http_requests_total", nil), sumCounter(f, "http_requests_total", is5xx)
				worstMinute = max(worstMinute, (bad-prev5xx)/(all-prevAll))
				prevAll, prev5xx = all, bad

				db := f["db_connections_active"].GetMetric()[0].GetGauge().GetValue()
				require.GreaterOrEqual(t, db, 0.0)
				require.LessOrEqual(t, db, float64(dbPoolSize))
			}
			f := gathered(t, s)

			rps := prevAll / (minutes * 60)
			require.GreaterOrEqual(t, rps, 10.0, "request rate")
			require.LessOrEqual(t, rps, 100.0, "request rate")

			share := prev5xx / prevAll
			require.GreaterOrEqual(t, share, 0.005, "overall 5xx share")
			require.LessOrEqual(t, share, 0.04, "overall 5xx share")
			require.Greater(t, worstMinute, 0.05, "no error burst in two hours")

			hits, misses := sumCounter(f, "cache_hits_total", nil), sumCounter(f, "cache_misses_total", nil)
			ratio := hits / (hits + misses)
			require.GreaterOrEqual(t, ratio, 0.85, "cache hit ratio")
			require.LessOrEqual(t, ratio, 0.95, "cache hit ratio")
		})
	}
}

func TestSameSeedSameMetrics(t *testing.T) {
	render := func(seed int64) string {
		s := New(Options{Seed: seed, Now: frozen})
		for range 20 {
			s.Step(3 * time.Second)
		}
		rec := httptest.NewRecorder()
		req := httptest.NewRequestWithContext(t.Context(), http.MethodGet, "/metrics", nil)
		s.handler().ServeHTTP(rec, req)
		body, err := io.ReadAll(rec.Body)
		require.NoError(t, err)
		return string(body)
	}
	require.Equal(t, render(7), render(7))
	require.NotEqual(t, render(7), render(8))
}

func TestGeneratorFollowsClock(t *testing.T) {
	tests := []struct {
		name  string
		now   func() time.Time
		wants time.Duration
	}{
		{"moving clock", time.Now, 10 * time.Second},
		{"frozen clock", frozen, 0},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			synctest.Test(t, func(t *testing.T) {
				s := New(Options{Seed: 1, Now: tc.now})
				ctx, cancel := context.WithCancel(t.Context())
				done := make(chan struct{})
				go func() { defer close(done); s.run(ctx) }()
				time.Sleep(10*time.Second + tick/2) // fake time inside the bubble
				synctest.Wait()
				cancel()
				<-done

				s.mu.Lock()
				defer s.mu.Unlock()
				require.Equal(t, tc.wants, s.sim.elapsed)
			})
		})
	}
}

func TestLifecycle(t *testing.T) {
	t.Run("shutdown without start", func(t *testing.T) {
		s := New(Options{})
		require.NoError(t, s.Shutdown(t.Context()))
		require.Empty(t, s.Addr())
	})

	t.Run("shutdown is idempotent and closes the listener", func(t *testing.T) {
		s := New(Options{Seed: 1, Now: frozen})
		require.NoError(t, s.Start(t.Context()))
		addr := s.Addr()
		host, _, err := net.SplitHostPort(addr)
		require.NoError(t, err)
		require.Equal(t, "127.0.0.1", host)
		scrape(t, addr)

		require.NoError(t, s.Shutdown(t.Context()))
		require.NoError(t, s.Shutdown(t.Context()))

		var d net.Dialer
		conn, err := d.DialContext(t.Context(), "tcp", addr)
		if err == nil {
			_ = conn.Close()
		}
		require.Error(t, err, "listener still accepts connections")
		require.Error(t, s.Start(t.Context()), "restart after shutdown")
	})

	t.Run("double start", func(t *testing.T) {
		s := startService(t, 1)
		require.Error(t, s.Start(t.Context()))
	})

	t.Run("bad listen address", func(t *testing.T) {
		s := New(Options{Listen: "127.0.0.1:notaport"})
		require.Error(t, s.Start(t.Context()))
		require.NoError(t, s.Shutdown(t.Context()))
	})
}

// TestLogLines: the simulated service logs failures and slow requests
// (and a sample of the rest) as JSON lines with the seeds' fields.
func TestLogLines(t *testing.T) {
	svc := New(Options{Seed: 7, Now: func() time.Time { return time.Unix(1_800_000_000, 0) }})
	svc.Step(5 * time.Minute)
	lines := svc.TakeLogs()
	require.NotEmpty(t, lines)
	levels := map[string]int{}
	for _, l := range lines {
		var m map[string]any
		require.NoError(t, json.Unmarshal([]byte(l), &m), l)
		for _, k := range []string{"timestamp", "level", "message", "method", "path", "status", "duration_ms", "request_id", "ip"} {
			require.Contains(t, m, k, l)
		}
		lvl := m["level"].(string)
		levels[lvl]++
		if st := m["status"].(float64); st >= 500 {
			require.Equal(t, "error", lvl, l)
			require.Len(t, m["trace_id"], 32, l)
		}
	}
	require.Positive(t, levels["info"])
	require.Positive(t, levels["warn"]+levels["error"], "failures and slow requests are logged: %v", levels)
	require.Empty(t, svc.TakeLogs(), "TakeLogs drains the buffer")
}
