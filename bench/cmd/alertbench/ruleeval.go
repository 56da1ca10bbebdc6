package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"slices"
	"strings"
	"time"

	"github.com/lookout-dev/lookout/bench/internal/loopback"
	"github.com/lookout-dev/lookout/bench/internal/procstat"
)

// cycle is one evaluation of every benchmark rule group.
type cycle struct {
	EvalSeconds float64 `json:"eval_seconds"` // Σ prometheus_rule_group_last_duration_seconds
	Samples     float64 `json:"samples"`      // Σ prometheus_rule_group_last_evaluation_samples
}

type ruleEvalSummary struct {
	Server             string  `json:"server"`
	URL                string  `json:"url"`
	Groups             int     `json:"groups"`
	Rules              int     `json:"rules"`
	WarmupCycles       []cycle `json:"warmup_cycles"`
	Cycles             []cycle `json:"cycles"`
	EvalSecondsMedian  float64 `json:"eval_seconds_median"`
	EvalSecondsMin     float64 `json:"eval_seconds_min"`
	EvalSecondsMax     float64 `json:"eval_seconds_max"`
	SamplesPerCycle    float64 `json:"samples_per_cycle"`
	WallSeconds        float64 `json:"wall_seconds"` // the measured cycles
	CPUSecondsPerCycle float64 `json:"server_cpu_seconds_per_cycle"`
	BackgroundCores    float64 `json:"background_cores"`
	EvalFailures       float64 `json:"evaluation_failures"`
	MissedIterations   float64 `json:"missed_iterations"`
	FiringAlerts       float64 `json:"firing_alerts"` // count(ALERTS{alertstate="firing"}) of the bench rules
	ExpectedFiring     int     `json:"expected_firing"`
	PeakRSSBytes       int64   `json:"peak_rss_bytes"`
	IdleRSSBytes       int64   `json:"idle_rss_bytes,omitempty"` // VmRSS when ready, before the series were written
}

// groupState is what /metrics says about the benchmark's rule groups.
type groupState struct {
	lastEval, lastDuration, lastSamples map[string]float64
	rules, failures, missed             float64
}

func readGroups(ctx context.Context, base string) (*groupState, error) {
	ss, err := scrape(ctx, base,
		"prometheus_rule_group_last_evaluation_timestamp_seconds",
		"prometheus_rule_group_last_duration_seconds",
		"prometheus_rule_group_last_evaluation_samples",
		"prometheus_rule_group_rules",
		"prometheus_rule_evaluation_failures_total",
		"prometheus_rule_group_iterations_missed_total")
	if err != nil {
		return nil, err
	}
	st := &groupState{lastEval: map[string]float64{}, lastDuration: map[string]float64{}, lastSamples: map[string]float64{}}
	for _, s := range ss {
		g := s.Labels["rule_group"] // "FILE;GROUP"
		if i := strings.LastIndexByte(g, ';'); i < 0 || !strings.HasPrefix(g[i+1:], groupPrefix) {
			continue
		}
		switch s.Name {
		case "prometheus_rule_group_last_evaluation_timestamp_seconds":
			st.lastEval[g] = s.Value
		case "prometheus_rule_group_last_duration_seconds":
			st.lastDuration[g] = s.Value
		case "prometheus_rule_group_last_evaluation_samples":
			st.lastSamples[g] = s.Value
		case "prometheus_rule_group_rules":
			st.rules += s.Value
		case "prometheus_rule_evaluation_failures_total":
			st.failures += s.Value
		case "prometheus_rule_group_iterations_missed_total":
			st.missed += s.Value
		}
	}
	return st, nil
}

// advancedPast reports whether every group has been evaluated since prev.
func (st *groupState) advancedPast(prev *groupState) bool {
	for g, ts := range st.lastEval {
		if ts <= 0 || ts <= prev.lastEval[g] {
			return false
		}
	}
	return len(st.lastEval) > 0
}

func (st *groupState) cycle() cycle {
	var c cycle
	for g := range st.lastEval {
		c.EvalSeconds += st.lastDuration[g]
		c.Samples += st.lastSamples[g]
	}
	return c
}

func runRuleEval(ctx context.Context, args []string) error {
	fs := newFlagSet("ruleeval")
	server := fs.String("server", "", "name of the server, for the report")
	base := fs.String("url", "", "the server's base URL (loopback only): /metrics and /api/v1/query")
	pid := fs.Int("pid", 0, "the server's process id, for its CPU time and peak RSS")
	groups := fs.Int("groups", 10, "benchmark rule groups to wait for")
	warmup := fs.Int("warmup", 2, "cycles to skip before measuring")
	cycles := fs.Int("cycles", 6, "cycles to measure")
	expectFiring := fs.Int("expect-firing", -1, "firing alerts the rules should produce (-1: do not check)")
	timeout := fs.Duration("timeout", 5*time.Minute, "give up after this long")
	poll := fs.Duration("poll", 200*time.Millisecond, "how often to read /metrics")
	idleRSS := fs.Int64("idle-rss", 0, "the server's VmRSS in bytes before the load, for the report")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := loopback.Check(*base); err != nil {
		return err
	}
	if *cycles <= 0 || *warmup < 0 {
		return errors.New("-cycles must be positive and -warmup not negative")
	}
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()

	sum := ruleEvalSummary{Server: *server, URL: *base, ExpectedFiring: *expectFiring, IdleRSSBytes: *idleRSS}
	tick := time.NewTicker(*poll)
	defer tick.Stop()
	wait := func() error {
		select {
		case <-ctx.Done():
			return fmt.Errorf("%w (%d warm-up and %d measured cycles seen)", ctx.Err(), len(sum.WarmupCycles), len(sum.Cycles))
		case <-tick.C:
			return nil
		}
	}

	// Wait until every group is loaded and has been evaluated once.
	var prev *groupState
	for {
		st, err := readGroups(ctx, *base)
		if err == nil && len(st.lastEval) >= *groups && st.advancedPast(&groupState{}) {
			prev = st
			break
		}
		if err := wait(); err != nil {
			return err
		}
	}
	sum.Groups = len(prev.lastEval)
	sum.Rules = int(prev.rules)

	var u0 procstat.Usage
	var t0 time.Time
	var first *groupState
	if *warmup == 0 {
		u0, _ = procstat.Snapshot(*pid)
		t0, first = time.Now(), prev
	}
	for len(sum.Cycles) < *cycles {
		if err := wait(); err != nil {
			return err
		}
		st, err := readGroups(ctx, *base)
		if err != nil || !st.advancedPast(prev) {
			continue
		}
		prev = st
		if len(sum.WarmupCycles) < *warmup {
			sum.WarmupCycles = append(sum.WarmupCycles, st.cycle())
			if len(sum.WarmupCycles) == *warmup {
				u0, _ = procstat.Snapshot(*pid)
				t0, first = time.Now(), st
			}
			continue
		}
		sum.Cycles = append(sum.Cycles, st.cycle())
	}
	u1, _ := procstat.Snapshot(*pid)
	sum.WallSeconds = time.Since(t0).Seconds()
	used := u1.Sub(u0)
	sum.CPUSecondsPerCycle = used.Server / float64(len(sum.Cycles))
	sum.BackgroundCores = used.Background() / sum.WallSeconds
	sum.EvalFailures = prev.failures - first.failures
	sum.MissedIterations = prev.missed

	evals := make([]float64, len(sum.Cycles))
	for i, c := range sum.Cycles {
		evals[i] = c.EvalSeconds
		sum.SamplesPerCycle += c.Samples / float64(len(sum.Cycles))
	}
	slices.Sort(evals)
	sum.EvalSecondsMin, sum.EvalSecondsMax = evals[0], evals[len(evals)-1]
	sum.EvalSecondsMedian = median(evals)

	firing, err := instantScalar(ctx, *base, fmt.Sprintf(`count(ALERTS{alertstate="firing",alertname=~"%s.*"})`, ruleAlert))
	if err != nil {
		return err
	}
	sum.FiringAlerts = firing
	if *pid > 0 {
		sum.PeakRSSBytes, _ = procstat.PeakRSSBytes(*pid)
	}
	if err := json.NewEncoder(os.Stdout).Encode(sum); err != nil {
		return err
	}
	if *expectFiring >= 0 && int(firing) != *expectFiring {
		return fmt.Errorf("%v alerts firing, the rules should fire %d", firing, *expectFiring)
	}
	if sum.EvalFailures > 0 {
		return fmt.Errorf("%v rule evaluation failures", sum.EvalFailures)
	}
	return nil
}

// median of sorted values.
func median(sorted []float64) float64 {
	n := len(sorted)
	if n == 0 {
		return 0
	}
	if n%2 == 1 {
		return sorted[n/2]
	}
	return (sorted[n/2-1] + sorted[n/2]) / 2
}
