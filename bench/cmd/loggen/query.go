package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"net"
	"net/http"
	"net/url"
	"os"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/lookout-dev/lookout/bench/internal/loopback"
	"github.com/lookout-dev/lookout/bench/internal/procstat"
)

type queryResult struct {
	Name        string            `json:"name"`
	Query       string            `json:"query"`
	Endpoint    string            `json:"endpoint"`
	StartNS     int64             `json:"start_ns,omitempty"`
	EndNS       int64             `json:"end_ns"`
	StepSeconds float64           `json:"step_seconds,omitempty"`
	Limit       int               `json:"limit,omitempty"`
	Warmup      int               `json:"warmup"`
	LatenciesMS []float64         `json:"latencies_ms"`
	MedianMS    float64           `json:"median_ms"`
	MinMS       float64           `json:"min_ms"`
	MaxMS       float64           `json:"max_ms"`
	ServerCPU   float64           `json:"server_cpu_seconds,omitempty"` // over the timed runs
	Background  float64           `json:"background_cores"`             // machine − server − this tool, ÷ wall, over the timed runs
	ResultType  string            `json:"result_type,omitempty"`
	Series      int               `json:"series"`  // streams or series in the answer
	Entries     int               `json:"entries"` // log lines, for a log query
	Points      int               `json:"points"`  // samples, for a metric query
	ValuesSum   float64           `json:"values_sum"`
	Value       *float64          `json:"value,omitempty"` // a one-sample vector or a scalar
	Labels      []string          `json:"labels,omitempty"`
	Stats       json.RawMessage   `json:"stats_summary,omitempty"` // Loki's data.stats.summary
	Error       string            `json:"error,omitempty"`
	TimedOut    bool              `json:"timed_out,omitempty"` // a run took longer than -timeout
	Cut         bool              `json:"cut,omitempty"`       // a run took longer than -slow, so only one was timed
	Params      map[string]string `json:"params"`
}

func runQuery(ctx context.Context, args []string) error {
	fs := newFlagSet("query")
	base := fs.String("url", "http://127.0.0.1:3100", "base URL of the Loki-compatible API (loopback only)")
	name := fs.String("name", "", "name of the query in the results")
	q := fs.String("query", "", "LogQL query")
	startF := fs.String("start", "", "range start: Unix nanoseconds or RFC 3339")
	endF := fs.String("end", "", "range end (or the instant): Unix nanoseconds or RFC 3339")
	stepF := fs.String("step", "grafana", "step: a duration, or grafana for the interval Grafana picks at -max-data-points")
	maxPoints := fs.Int("max-data-points", 1000, "data points Grafana asks for (about a panel's width in pixels)")
	instant := fs.Bool("instant", false, "instant query at -end (/loki/api/v1/query)")
	limit := fs.Int("limit", 100, "max log lines, for a log query")
	runs := fs.Int("runs", 5, "timed runs; the median is reported")
	warmup := fs.Int("warmup", 1, "untimed runs first")
	timeout := fs.Duration("timeout", 5*time.Minute, "per-request timeout (Loki's query_timeout in bench/loki.yml is the same)")
	slow := fs.Duration("slow", 30*time.Second, "when a run takes longer than this, time just one run")
	save := fs.String("save", "", "write the last answer's body to this file")
	pid := fs.Int("server-pid", 0, "if set, report the server's CPU seconds over the timed runs")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := loopback.Check(*base); err != nil {
		return err
	}
	if *q == "" || *endF == "" || (!*instant && *startF == "") || *runs < 1 {
		return errors.New("want -query, -end, -start (unless -instant) and -runs ≥ 1")
	}
	end, err := parseTime(*endF)
	if err != nil {
		return fmt.Errorf("-end: %w", err)
	}
	res := &queryResult{Name: *name, Query: *q, EndNS: end, Warmup: *warmup, Params: map[string]string{}}
	v := url.Values{"query": {*q}}
	if *instant {
		res.Endpoint = "/loki/api/v1/query"
		v.Set("time", strconv.FormatInt(end, 10))
	} else {
		start, err := parseTime(*startF)
		if err != nil {
			return fmt.Errorf("-start: %w", err)
		}
		step, err := pickStep(*stepF, time.Duration(end-start), *maxPoints)
		if err != nil {
			return err
		}
		// Loki's query frontend moves start and end down to a multiple of the step; doing it
		// here gives every server the same evaluation timestamps, so their answers compare.
		start -= start % int64(step)
		end -= end % int64(step)
		res.EndNS = end
		res.Endpoint = "/loki/api/v1/query_range"
		res.StartNS, res.StepSeconds, res.Limit = start, step.Seconds(), *limit
		v.Set("start", strconv.FormatInt(start, 10))
		v.Set("end", strconv.FormatInt(end, 10))
		v.Set("step", strconv.FormatFloat(step.Seconds(), 'f', -1, 64))
		v.Set("limit", strconv.Itoa(*limit))
		v.Set("direction", "backward")
	}
	for k := range v {
		res.Params[k] = v.Get(k)
	}
	client := &http.Client{Timeout: *timeout}
	target := strings.TrimSuffix(*base, "/") + res.Endpoint + "?" + v.Encode()

	var body []byte
	var before procstat.Usage
	var t1 time.Time
	for i := range *warmup + *runs {
		if i == *warmup {
			before, _ = procstat.Snapshot(*pid)
			t1 = time.Now()
		}
		t0 := time.Now()
		body, err = get(ctx, client, target)
		took := time.Since(t0)
		if err != nil {
			res.Error = err.Error()
			res.TimedOut = timedOut(err)
			break
		}
		if i >= *warmup {
			res.LatenciesMS = append(res.LatenciesMS, float64(took.Microseconds())/1000)
		}
		// A slow query is timed once (after its warm-up), not -runs times.
		if i >= *warmup && took > *slow && i < *warmup+*runs-1 {
			res.Cut = true
			break
		}
	}
	if res.Error == "" {
		after, err := procstat.Snapshot(*pid)
		if err == nil {
			use := after.Sub(before)
			res.ServerCPU = use.Server
			if wall := time.Since(t1).Seconds(); wall > 0 {
				res.Background = max(0, use.Machine-use.Server-use.Self) / wall
			}
		}
	}
	if *save != "" && body != nil {
		if err := os.WriteFile(*save, body, 0o644); err != nil {
			return err
		}
	}
	if res.Error == "" {
		if err := summarise(res, body); err != nil {
			res.Error = err.Error()
		}
	}
	if len(res.LatenciesMS) > 0 {
		s := slices.Clone(res.LatenciesMS)
		slices.Sort(s)
		res.MinMS, res.MaxMS, res.MedianMS = s[0], s[len(s)-1], median(s)
	}
	if err := emit(res); err != nil {
		return err
	}
	if res.Error != "" {
		return errors.New(res.Error)
	}
	return nil
}

// timedOut tells a query that ran out of time, here or in the server (Loki and Lookout answer
// 504 with "context deadline exceeded"), from other failures.
func timedOut(err error) bool {
	var ne net.Error
	if errors.As(err, &ne) && ne.Timeout() {
		return true
	}
	msg := err.Error()
	return strings.HasPrefix(msg, "HTTP 504") || strings.Contains(msg, "deadline exceeded")
}

func median(sorted []float64) float64 {
	n := len(sorted)
	if n%2 == 1 {
		return sorted[n/2]
	}
	return (sorted[n/2-1] + sorted[n/2]) / 2
}

func get(ctx context.Context, client *http.Client, target string) ([]byte, error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodGet, target, nil)
	if err != nil {
		return nil, err
	}
	resp, err := client.Do(req)
	if err != nil {
		return nil, err
	}
	defer resp.Body.Close()
	b, err := io.ReadAll(resp.Body)
	if err != nil {
		return nil, err
	}
	if resp.StatusCode != http.StatusOK {
		if len(b) > 300 {
			b = b[:300]
		}
		return nil, fmt.Errorf("HTTP %d: %s", resp.StatusCode, strings.TrimSpace(string(b)))
	}
	return b, nil
}

// summarise fills the answer's shape from a Loki query response.
func summarise(res *queryResult, body []byte) error {
	var r struct {
		Status string `json:"status"`
		Data   struct {
			ResultType string          `json:"resultType"`
			Result     json.RawMessage `json:"result"`
			Stats      struct {
				Summary json.RawMessage `json:"summary"`
			} `json:"stats"`
		} `json:"data"`
	}
	if err := json.Unmarshal(body, &r); err != nil {
		return fmt.Errorf("decoding the answer: %w", err)
	}
	if r.Status != "success" {
		return fmt.Errorf("status %q", r.Status)
	}
	res.ResultType = r.Data.ResultType
	res.Stats = r.Data.Stats.Summary
	var series []struct {
		Labels map[string]string `json:"stream"`
		Metric map[string]string `json:"metric"`
		Values [][2]any          `json:"values"`
		Value  [2]any            `json:"value"`
	}
	switch r.Data.ResultType {
	case "scalar":
		var s [2]any
		if err := json.Unmarshal(r.Data.Result, &s); err != nil {
			return err
		}
		f := num(s[1])
		res.Value, res.Points, res.ValuesSum = &f, 1, f
		return nil
	case "streams", "matrix", "vector":
		if err := json.Unmarshal(r.Data.Result, &series); err != nil {
			return err
		}
	default:
		return fmt.Errorf("result type %q", r.Data.ResultType)
	}
	for _, s := range series {
		l := s.Labels
		if l == nil {
			l = s.Metric
		}
		if _, ok := l[streamShardLabel]; ok && r.Data.ResultType == "streams" {
			// A stream of the push that Loki split by its automatic stream sharding.
			l = maps.Clone(l)
			delete(l, streamShardLabel)
		}
		res.Labels = append(res.Labels, labelString(l))
		switch r.Data.ResultType {
		case "streams":
			res.Entries += len(s.Values)
		case "matrix":
			res.Points += len(s.Values)
			for _, p := range s.Values {
				res.ValuesSum += num(p[1])
			}
		case "vector":
			res.Points++
			res.ValuesSum += num(s.Value[1])
		}
	}
	// Distinct label sets: the shards of one stream count once.
	slices.Sort(res.Labels)
	res.Labels = slices.Compact(res.Labels)
	res.Series = len(res.Labels)
	if len(res.Labels) > 50 {
		res.Labels = res.Labels[:50]
	}
	if r.Data.ResultType == "vector" && len(series) == 1 {
		f := res.ValuesSum
		res.Value = &f
	}
	return nil
}

func num(v any) float64 {
	s, _ := v.(string)
	f, err := strconv.ParseFloat(s, 64)
	if err != nil {
		return math.NaN()
	}
	return f
}

// streamShardLabel is the label Loki adds when it splits a busy stream into shards
// (shard_streams); a query answers each shard as a stream of its own.
const streamShardLabel = "__stream_shard__"

func labelString(l map[string]string) string {
	keys := make([]string, 0, len(l))
	for k := range l {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	var b strings.Builder
	b.WriteByte('{')
	for i, k := range keys {
		if i > 0 {
			b.WriteString(", ")
		}
		fmt.Fprintf(&b, "%s=%q", k, l[k])
	}
	b.WriteByte('}')
	return b.String()
}

func parseTime(s string) (int64, error) {
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		return n, nil
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return 0, err
	}
	return t.UnixNano(), nil
}

// pickStep parses a step, or with "grafana" computes the one Grafana's Loki data source sends:
// the range divided by the data points, rounded to a "nice" interval (Grafana's roundInterval),
// and never under range/11000 (Loki's limit on points per series).
func pickStep(s string, rng time.Duration, maxPoints int) (time.Duration, error) {
	if s != "grafana" {
		d, err := time.ParseDuration(s)
		if err != nil || d <= 0 {
			return 0, fmt.Errorf("-step %q: want a positive duration or grafana", s)
		}
		return d, nil
	}
	if maxPoints < 1 {
		return 0, errors.New("-max-data-points must be ≥ 1")
	}
	step := roundInterval(rng / time.Duration(maxPoints))
	step = max(step, rng/11000, time.Second)
	return step.Truncate(time.Second), nil
}

// roundInterval is Grafana's table of nice intervals (pkg/components/gtime, roundInterval).
func roundInterval(d time.Duration) time.Duration {
	table := []struct{ upTo, to time.Duration }{
		{10 * time.Millisecond, time.Millisecond},
		{15 * time.Millisecond, 10 * time.Millisecond},
		{35 * time.Millisecond, 20 * time.Millisecond},
		{75 * time.Millisecond, 50 * time.Millisecond},
		{150 * time.Millisecond, 100 * time.Millisecond},
		{350 * time.Millisecond, 200 * time.Millisecond},
		{750 * time.Millisecond, 500 * time.Millisecond},
		{1500 * time.Millisecond, time.Second},
		{3500 * time.Millisecond, 2 * time.Second},
		{7500 * time.Millisecond, 5 * time.Second},
		{12500 * time.Millisecond, 10 * time.Second},
		{17500 * time.Millisecond, 15 * time.Second},
		{25 * time.Second, 20 * time.Second},
		{45 * time.Second, 30 * time.Second},
		{90 * time.Second, time.Minute},
		{210 * time.Second, 2 * time.Minute},
		{450 * time.Second, 5 * time.Minute},
		{750 * time.Second, 10 * time.Minute},
		{1050 * time.Second, 15 * time.Minute},
		{1500 * time.Second, 20 * time.Minute},
		{2700 * time.Second, 30 * time.Minute},
		{5400 * time.Second, time.Hour},
		{9000 * time.Second, 2 * time.Hour},
		{16200 * time.Second, 3 * time.Hour},
		{32400 * time.Second, 6 * time.Hour},
	}
	for _, t := range table {
		if d <= t.upTo {
			return t.to
		}
	}
	return 24 * time.Hour
}
