package rwload

import (
	"context"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"strconv"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang/snappy"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/prompb"
	writev2 "github.com/prometheus/prometheus/prompb/io/prometheus/write/v2"
	"github.com/stretchr/testify/require"

	"github.com/lookout-dev/lookout/bench/internal/rwencode"
)

// receiver is a fake remote write endpoint that decodes every request and checks that each
// series' samples arrive in timestamp order.
type receiver struct {
	t        *testing.T
	protocol rwencode.Protocol
	// status, if set, picks the response of the n-th request (0-based).
	status func(n int64) (code int, retryAfter string)

	n       atomic.Int64
	mu      sync.Mutex
	last    map[string]int64
	samples int
}

func (rc *receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	n := rc.n.Add(1) - 1
	if rc.status != nil {
		if code, ra := rc.status(n); code != 0 {
			if ra != "" {
				w.Header().Set("Retry-After", ra)
			}
			http.Error(w, "not now", code)
			return
		}
	}
	require.Equal(rc.t, "snappy", r.Header.Get("Content-Encoding"))
	require.Equal(rc.t, rc.protocol.ContentType(), r.Header.Get("Content-Type"))
	require.Equal(rc.t, rc.protocol.Version(), r.Header.Get("X-Prometheus-Remote-Write-Version"))
	body, err := io.ReadAll(r.Body)
	require.NoError(rc.t, err)
	raw, err := snappy.Decode(nil, body)
	require.NoError(rc.t, err)

	b := labels.NewScratchBuilder(16)
	got := map[string]int64{}
	switch rc.protocol {
	case rwencode.V1:
		var req prompb.WriteRequest
		require.NoError(rc.t, req.Unmarshal(raw))
		for _, ts := range req.Timeseries {
			got[ts.ToLabels(&b, nil).String()] = ts.Samples[0].Timestamp
		}
	case rwencode.V2:
		var req writev2.Request
		require.NoError(rc.t, req.Unmarshal(raw))
		for _, ts := range req.Timeseries {
			ls, err := ts.ToLabels(&b, req.Symbols)
			require.NoError(rc.t, err)
			got[ls.String()] = ts.Samples[0].Timestamp
		}
		w.Header().Set("X-Prometheus-Remote-Write-Samples-Written", strconv.Itoa(len(req.Timeseries)))
	}
	rc.mu.Lock()
	for k, ts := range got {
		require.Greater(rc.t, ts, rc.last[k], "series %s went back in time", k)
		rc.last[k] = ts
	}
	rc.samples += len(got)
	rc.mu.Unlock()
	w.WriteHeader(http.StatusNoContent)
}

func testConfig(url string, p rwencode.Protocol) Config {
	return Config{
		URL: url, Protocol: p, Series: 1000, Metrics: 30, Seed: 1, Rounds: 5,
		Interval: 15 * time.Second, Batch: 150, Concurrency: 3, MaxSkew: 1,
		Timeout: 5 * time.Second, MaxRetries: 3, Duration: time.Minute,
	}
}

func TestRunDeliversEverySampleInOrder(t *testing.T) {
	for _, tc := range []struct {
		name      string
		protocol  rwencode.Protocol
		preEncode bool
	}{
		{"v1", rwencode.V1, false},
		{"v1 pre-encoded", rwencode.V1, true},
		{"v2", rwencode.V2, false},
		{"v2 pre-encoded", rwencode.V2, true},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rc := &receiver{t: t, protocol: tc.protocol, last: map[string]int64{}}
			srv := httptest.NewServer(rc)
			defer srv.Close()

			cfg := testConfig(srv.URL, tc.protocol)
			cfg.PreEncode = tc.preEncode
			sum, err := Run(context.Background(), cfg, slog.New(slog.DiscardHandler))
			require.NoError(t, err)
			require.Equal(t, "complete", sum.StoppedBy)
			require.Equal(t, int64(5000), sum.SamplesSent)
			require.Zero(t, sum.SamplesFailed)
			require.Equal(t, 5000, rc.samples)
			require.Len(t, rc.last, 1000)
			require.Equal(t, 5, sum.RoundsCompleted)
			require.Equal(t, sum.FirstTimestampMs+4*15_000, sum.LastTimestampMs)
			if tc.protocol == rwencode.V2 {
				require.Equal(t, int64(5000), sum.WrittenReported)
			}
		})
	}
}

func TestRunRetriesAndGivesUp(t *testing.T) {
	rc := &receiver{t: t, protocol: rwencode.V1, last: map[string]int64{}}
	rc.status = func(n int64) (int, string) {
		switch n {
		case 0:
			return http.StatusTooManyRequests, "0"
		case 1, 2:
			return http.StatusServiceUnavailable, ""
		case 3:
			return http.StatusBadRequest, ""
		}
		return 0, ""
	}
	srv := httptest.NewServer(rc)
	defer srv.Close()

	cfg := testConfig(srv.URL, rwencode.V1)
	cfg.Concurrency = 1
	sum, err := Run(context.Background(), cfg, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	require.Equal(t, map[string]int{"429": 1, "503": 2}, sum.Retries)
	require.Equal(t, map[string]int{"400": 1}, sum.Errors)
	require.Equal(t, int64(150), sum.SamplesFailed)
	require.Equal(t, int64(5000-150), sum.SamplesSent)
	require.Contains(t, sum.FirstError, "HTTP 400")
}

func TestRunStopsAtDuration(t *testing.T) {
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		_, _ = io.Copy(io.Discard, r.Body)
		time.Sleep(20 * time.Millisecond)
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()

	cfg := testConfig(srv.URL, rwencode.V1)
	cfg.Rounds = 0
	cfg.Backfill = time.Hour
	cfg.Duration = 300 * time.Millisecond
	t0 := time.Now()
	sum, err := Run(context.Background(), cfg, slog.New(slog.DiscardHandler))
	require.NoError(t, err)
	require.Less(t, time.Since(t0), 5*time.Second)
	require.Equal(t, "duration", sum.StoppedBy)
	require.Positive(t, sum.SamplesSent)
}

func TestValidate(t *testing.T) {
	ok := testConfig("http://127.0.0.1:9/api/v1/write", rwencode.V1)
	require.NoError(t, ok.Validate())
	for name, mut := range map[string]func(*Config){
		"remote host":     func(c *Config) { c.URL = "http://192.168.0.10:9090/api/v1/write" },
		"unbounded":       func(c *Config) { c.Rounds, c.Duration = 0, 0 },
		"preencode":       func(c *Config) { c.Rounds, c.PreEncode = 0, true },
		"no series":       func(c *Config) { c.Series = 0 },
		"no interval":     func(c *Config) { c.Interval = 0 },
		"no concurrency":  func(c *Config) { c.Concurrency = 0 },
		"negative rounds": func(c *Config) { c.Rounds = -1 },
	} {
		c := ok
		mut(&c)
		require.Error(t, c.Validate(), name)
	}
}

func TestFirstTimestamp(t *testing.T) {
	now := time.UnixMilli(1_700_000_123_456)
	cfg := Config{Rounds: 11, Interval: time.Minute}
	require.Equal(t, now.UnixMilli()-10*60_000, firstTimestamp(now, cfg))

	cfg.Align = 2 * time.Hour
	first := firstTimestamp(now, cfg)
	require.Zero(t, first%(2*3600_000))
	last := first + 10*60_000
	require.LessOrEqual(t, last, now.UnixMilli())
	require.Greater(t, last, now.UnixMilli()-2*3600_000-10*60_000)

	cfg = Config{Interval: time.Minute, Backfill: time.Hour}
	require.Equal(t, now.UnixMilli()-3600_000, firstTimestamp(now, cfg))
}

func TestParseRetryAfter(t *testing.T) {
	now := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC)
	require.Equal(t, 3*time.Second, parseRetryAfter("3", now))
	require.Equal(t, time.Duration(0), parseRetryAfter("", now))
	require.Equal(t, time.Duration(0), parseRetryAfter("-4", now))
	require.Equal(t, maxRetryAfter, parseRetryAfter("3600", now))
	require.Equal(t, 10*time.Second, parseRetryAfter(now.Add(10*time.Second).Format(http.TimeFormat), now))
}

func TestRoundGate(t *testing.T) {
	g := newRoundGate(2, 1)
	ctx := context.Background()
	require.NoError(t, g.wait(ctx, 0))
	g.done(0, 0)
	// Sender 0 may not start round 1 before sender 1 finished round 0.
	started := make(chan struct{})
	go func() {
		_ = g.wait(ctx, 1)
		close(started)
	}()
	select {
	case <-started:
		t.Fatal("gate let a sender run ahead")
	case <-time.After(50 * time.Millisecond):
	}
	g.done(1, 0)
	<-started
	require.Equal(t, 1, g.completed())

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	require.Error(t, g.wait(cctx, 5))
}
