package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"os"
	"sync"
	"time"

	"github.com/golang/snappy"
	"github.com/prometheus/prometheus/prompb"

	"github.com/lookout-dev/lookout/bench/internal/loopback"
)

// rwClient sends remote write 1.0 requests.
type rwClient struct {
	url  string
	http *http.Client
}

func newRWClient(url string) (*rwClient, error) {
	if err := loopback.Check(url); err != nil {
		return nil, err
	}
	return &rwClient{url: url, http: &http.Client{Timeout: 30 * time.Second}}, nil
}

// write sends one request holding ts, retrying a few times on 429, 5xx and transport errors.
func (c *rwClient) write(ctx context.Context, ts []prompb.TimeSeries) error {
	raw, err := (&prompb.WriteRequest{Timeseries: ts}).Marshal()
	if err != nil {
		return err
	}
	body := snappy.Encode(nil, raw)
	var last error
	for attempt := range 6 {
		if attempt > 0 {
			select {
			case <-time.After(time.Duration(50<<attempt) * time.Millisecond):
			case <-ctx.Done():
				return ctx.Err()
			}
		}
		req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.url, bytes.NewReader(body))
		if err != nil {
			return err
		}
		req.Header.Set("Content-Type", "application/x-protobuf")
		req.Header.Set("Content-Encoding", "snappy")
		req.Header.Set("X-Prometheus-Remote-Write-Version", "0.1.0")
		req.Header.Set("User-Agent", userAgent)
		resp, err := c.http.Do(req)
		if err != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			last = err
			continue
		}
		msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		_, _ = io.Copy(io.Discard, resp.Body)
		resp.Body.Close()
		if resp.StatusCode/100 == 2 {
			return nil
		}
		last = fmt.Errorf("HTTP %d: %s", resp.StatusCode, bytes.TrimSpace(msg))
		if resp.StatusCode != http.StatusTooManyRequests && resp.StatusCode/100 != 5 {
			return last
		}
	}
	return last
}

// benchSeries returns every series of the layout with one sample at tsMs.
func (l layout) benchSeries(tsMs int64) []prompb.TimeSeries {
	out := make([]prompb.TimeSeries, 0, l.Metrics*l.SeriesPerMetric)
	for m := range l.Metrics {
		name := metricName(m)
		for i := range l.SeriesPerMetric {
			out = append(out, prompb.TimeSeries{
				Labels: []prompb.Label{ // sorted by name
					{Name: "__name__", Value: name},
					{Name: "instance", Value: instanceName(i)},
					{Name: "job", Value: benchJob},
					{Name: "zone", Value: zoneName(i)},
				},
				Samples: []prompb.Sample{{Value: l.value(m, i), Timestamp: tsMs}},
			})
		}
	}
	return out
}

type writeSummary struct {
	URL         string  `json:"url"`
	Series      int     `json:"series"`
	Requests    int     `json:"requests"`
	WallSeconds float64 `json:"wall_seconds"`
	TimestampMs int64   `json:"timestamp_ms"`
}

func runWrite(ctx context.Context, args []string) error {
	fs := newFlagSet("write")
	var l layout
	fs.IntVar(&l.Metrics, "metrics", 100, "metric names")
	fs.IntVar(&l.SeriesPerMetric, "series-per-metric", 1000, "series per metric name")
	url := fs.String("url", "", "remote write endpoint (loopback only)")
	batch := fs.Int("batch", 2000, "series per request")
	conc := fs.Int("concurrency", 2, "parallel requests")
	timeout := fs.Duration("timeout", 2*time.Minute, "give up after this long")
	if err := fs.Parse(args); err != nil {
		return err
	}
	l.Rules, l.Groups = 1, 1
	if err := l.validate(); err != nil {
		return err
	}
	if *batch <= 0 || *conc <= 0 {
		return fmt.Errorf("-batch and -concurrency must be positive")
	}
	c, err := newRWClient(*url)
	if err != nil {
		return err
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()

	now := time.Now().UnixMilli()
	all := l.benchSeries(now)
	t0 := time.Now()
	jobs := make(chan []prompb.TimeSeries)
	var (
		wg       sync.WaitGroup
		mu       sync.Mutex
		firstErr error
		requests int
	)
	for range *conc {
		wg.Go(func() {
			for b := range jobs {
				err := c.write(ctx, b)
				mu.Lock()
				if err != nil && firstErr == nil {
					firstErr = err
					cancel()
				}
				if err == nil {
					requests++
				}
				mu.Unlock()
			}
		})
	}
feed:
	for lo := 0; lo < len(all); lo += *batch {
		select {
		case jobs <- all[lo:min(lo+*batch, len(all))]:
		case <-ctx.Done():
			break feed
		}
	}
	close(jobs)
	wg.Wait()
	if firstErr != nil {
		return firstErr
	}
	if err := ctx.Err(); err != nil {
		return err
	}
	return json.NewEncoder(os.Stdout).Encode(writeSummary{URL: *url, Series: len(all), Requests: requests,
		WallSeconds: time.Since(t0).Seconds(), TimestampMs: now})
}
