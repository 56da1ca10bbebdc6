// Package querybench times a dashboard-like set of PromQL queries against a Prometheus-compatible
// HTTP API.
package querybench

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"time"

	"github.com/lookout-dev/lookout/bench/internal/loopback"
	"github.com/lookout-dev/lookout/bench/internal/procstat"
)

// Query is one dashboard panel.
type Query struct {
	Name string
	Expr string
}

// Dashboard is the default query set. It reads the series of bench/internal/seriesgen the way
// service and infrastructure dashboards do.
var Dashboard = []Query{
	{"http_rps_by_endpoint", `sum by (endpoint, status) (rate(http_requests_total{job="api"}[5m]))`},
	{"http_error_ratio", `sum(rate(http_requests_total{status=~"5.."}[5m])) / sum(rate(http_requests_total[5m]))`},
	{"http_p99_latency", `histogram_quantile(0.99, sum by (le, endpoint) (rate(http_request_duration_seconds_bucket[5m])))`},
	{"cpu_busiest_nodes", `topk(10, sum by (instance) (rate(node_cpu_seconds_total{mode!="idle"}[5m])))`},
	{"memory_by_job", `sum by (job) (process_resident_memory_bytes)`},
	{"kafka_max_lag", `max by (topic) (max_over_time(kafka_consumergroup_lag[10m]))`},
	{"targets_up", `count by (job) (up == 1)`},
}

// Config is one benchmark run.
type Config struct {
	URL        string    // API base, e.g. http://127.0.0.1:9090; must be loopback
	End        time.Time // evaluation time of instant queries and end of range queries
	Range      time.Duration
	Step       time.Duration
	Iterations int
	Warmup     int
	Timeout    time.Duration
	Bearer     string
	Queries    []Query
	ServerPID  int // if set, report the CPU time this process used during the timed iterations
}

// Stats are latency figures in milliseconds.
type Stats struct {
	Count int     `json:"count"`
	P50   float64 `json:"p50_ms"`
	P99   float64 `json:"p99_ms"`
	Mean  float64 `json:"mean_ms"`
	Min   float64 `json:"min_ms"`
	Max   float64 `json:"max_ms"`
}

// Result is one query in one mode.
type Result struct {
	Name   string `json:"name"`
	Type   string `json:"type"` // instant or range
	Expr   string `json:"expr"`
	Stats         // latency of successful runs
	Errors int    `json:"errors"`
	Error  string `json:"first_error,omitempty"`
	Series int    `json:"series"` // series in the last successful answer
	Points int    `json:"points"` // samples in the last successful answer
}

// Summary is what a run reports.
type Summary struct {
	URL          string   `json:"url"`
	EndUnix      float64  `json:"end_unix"`
	RangeSeconds float64  `json:"range_seconds"`
	StepSeconds  float64  `json:"step_seconds"`
	Iterations   int      `json:"iterations"`
	Warmup       int      `json:"warmup"`
	Queries      []Result `json:"queries"`
	Overall      Stats    `json:"overall"`
	Errors       int      `json:"errors"`
	EmptyResults int      `json:"empty_results"` // queries whose answer held no series
	// CPU time during the timed passes: the server's (with ServerPID), the machine's busy time,
	// and what processes other than the server and this one used.
	ServerCPUSeconds     *float64 `json:"server_cpu_seconds,omitempty"`
	MachineCPUSeconds    float64  `json:"machine_busy_cpu_seconds"`
	BackgroundCPUSeconds *float64 `json:"background_cpu_seconds,omitempty"`
	WallSeconds          float64  `json:"wall_seconds"`
}

// Run executes cfg.Warmup untimed and cfg.Iterations timed passes over the query set, each
// query once as an instant query and once as a range query per pass.
func Run(ctx context.Context, cfg Config) (*Summary, error) {
	if err := loopback.Check(cfg.URL); err != nil {
		return nil, err
	}
	if cfg.Iterations <= 0 || cfg.Step <= 0 || cfg.Range <= 0 {
		return nil, errors.New("iterations, step and range must be positive")
	}
	if len(cfg.Queries) == 0 {
		cfg.Queries = Dashboard
	}
	cl := &http.Client{Timeout: cfg.Timeout}
	results := make([]Result, 0, 2*len(cfg.Queries))
	for _, q := range cfg.Queries {
		results = append(results, Result{Name: q.Name, Type: "instant", Expr: q.Expr}, Result{Name: q.Name, Type: "range", Expr: q.Expr})
	}
	lat := make([][]float64, len(results))

	var u0 procstat.Usage
	var timedStart time.Time
	for it := -cfg.Warmup; it < cfg.Iterations; it++ {
		if it == 0 {
			var err error
			if u0, err = procstat.Snapshot(cfg.ServerPID); err != nil {
				return nil, err
			}
			timedStart = time.Now()
		}
		for i := range results {
			if ctx.Err() != nil {
				return nil, ctx.Err()
			}
			r := &results[i]
			t0 := time.Now()
			series, points, err := do(ctx, cl, cfg, r)
			d := time.Since(t0)
			if it < 0 {
				continue
			}
			if err != nil {
				r.Errors++
				if r.Error == "" {
					r.Error = err.Error()
				}
				continue
			}
			lat[i] = append(lat[i], float64(d.Microseconds())/1000)
			r.Series, r.Points = series, points
		}
	}

	wall := time.Since(timedStart).Seconds()
	sum := &Summary{
		WallSeconds: wall, URL: cfg.URL, EndUnix: float64(cfg.End.UnixMilli()) / 1000, RangeSeconds: cfg.Range.Seconds(),
		StepSeconds: cfg.Step.Seconds(), Iterations: cfg.Iterations, Warmup: cfg.Warmup,
	}
	u1, err := procstat.Snapshot(cfg.ServerPID)
	if err != nil {
		return nil, err
	}
	used := u1.Sub(u0)
	sum.MachineCPUSeconds = used.Machine
	if cfg.ServerPID > 0 {
		sum.ServerCPUSeconds = &used.Server
		bg := used.Background()
		sum.BackgroundCPUSeconds = &bg
	}
	var all []float64
	for i := range results {
		results[i].Stats = stats(lat[i])
		all = append(all, lat[i]...)
		sum.Errors += results[i].Errors
		if results[i].Errors < cfg.Iterations && results[i].Series == 0 {
			sum.EmptyResults++
		}
	}
	sum.Queries = results
	sum.Overall = stats(all)
	return sum, nil
}

// apiResponse is the envelope of the Prometheus HTTP API.
type apiResponse struct {
	Status    string `json:"status"`
	ErrorType string `json:"errorType"`
	Error     string `json:"error"`
	Data      struct {
		ResultType string `json:"resultType"`
		Result     []struct {
			Value  json.RawMessage   `json:"value"`
			Values []json.RawMessage `json:"values"`
		} `json:"result"`
	} `json:"data"`
}

func do(ctx context.Context, cl *http.Client, cfg Config, r *Result) (series, points int, err error) {
	v := url.Values{"query": {r.Expr}}
	path := "/api/v1/query"
	if r.Type == "range" {
		path = "/api/v1/query_range"
		v.Set("start", unixString(cfg.End.Add(-cfg.Range)))
		v.Set("end", unixString(cfg.End))
		v.Set("step", strconv.FormatFloat(cfg.Step.Seconds(), 'f', -1, 64))
	} else {
		v.Set("time", unixString(cfg.End))
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, cfg.URL+path+"?"+v.Encode(), nil)
	if err != nil {
		return 0, 0, err
	}
	if cfg.Bearer != "" {
		req.Header.Set("Authorization", "Bearer "+cfg.Bearer)
	}
	resp, err := cl.Do(req)
	if err != nil {
		return 0, 0, err
	}
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	if err != nil {
		return 0, 0, err
	}
	var ar apiResponse
	if err := json.Unmarshal(body, &ar); err != nil {
		return 0, 0, fmt.Errorf("HTTP %d, undecodable body: %.200s", resp.StatusCode, body)
	}
	if resp.StatusCode != http.StatusOK || ar.Status != "success" {
		return 0, 0, fmt.Errorf("HTTP %d %s: %s", resp.StatusCode, ar.ErrorType, ar.Error)
	}
	for _, s := range ar.Data.Result {
		if s.Value != nil {
			points++
		}
		points += len(s.Values)
	}
	return len(ar.Data.Result), points, nil
}

func unixString(t time.Time) string {
	return strconv.FormatFloat(float64(t.UnixMilli())/1000, 'f', 3, 64)
}

// stats summarises latencies with nearest-rank percentiles.
func stats(ms []float64) Stats {
	if len(ms) == 0 {
		return Stats{}
	}
	s := slices.Clone(ms)
	slices.Sort(s)
	total := 0.0
	for _, v := range s {
		total += v
	}
	return Stats{
		Count: len(s),
		P50:   percentile(s, 0.50),
		P99:   percentile(s, 0.99),
		Mean:  total / float64(len(s)),
		Min:   s[0],
		Max:   s[len(s)-1],
	}
}

// percentile returns the nearest-rank p-quantile of sorted values.
func percentile(sorted []float64, p float64) float64 {
	rank := int(math.Ceil(p * float64(len(sorted))))
	return sorted[min(max(rank, 1), len(sorted))-1]
}
