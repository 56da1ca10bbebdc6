package main

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"os"
	"strings"
)

// layout is the shape of the benchmark's series and rules. Series are
// bench_metric_M{instance="host-IIII", job="alertbench", zone="zZ"} for M < Metrics and
// I < SeriesPerMetric. Series I of metric M has the value (I + 37·M) mod SeriesPerMetric, so
// every metric holds each value 0 … SeriesPerMetric-1 once, on a different instance.
type layout struct {
	Rules           int `json:"rules"`
	Metrics         int `json:"metrics"`
	SeriesPerMetric int `json:"series_per_metric"`
	Groups          int `json:"groups"`
}

const (
	benchJob    = "alertbench"
	zones       = 10
	groupPrefix = "bench-"     // rule groups whose evaluation time is summed
	e2eAlert    = "BenchE2E"   // the end-to-end rule's alertname
	e2eMetric   = "bench_e2e"  // the end-to-end series
	routeAlert  = "BenchRoute" // alertname prefix of the routing alerts
	ruleAlert   = "BenchRule"  // alertname prefix of the evaluation rules
	selective   = "selective"  // one series selected
	broad       = "broad"      // every series of a metric selected, a few above the threshold
	aggregate   = "aggregate"  // avg by (zone) over every series of a metric
	kindLabel   = "bench_kind" // rule label naming one of the three kinds
	e2eProbeLbl = "probe"      // label that tells the end-to-end series apart
	e2eThresh   = 0.5          // bench_e2e > 0.5 fires
	valueStride = 37           // value shift between metrics
	selectStep  = 13           // instance stride of the selective rules
	broadFiring = 4            // a broad rule's threshold leaves this many series above it
	sinkPath    = "/hook"      // the webhook sink's path
	userAgent   = "lookout-bench-alertbench/1"
)

func (l layout) validate() error {
	switch {
	case l.Rules <= 0 || l.Metrics <= 0 || l.Groups <= 0:
		return errors.New("-rules, -metrics and -groups must be positive")
	case l.SeriesPerMetric < 2*zones || l.SeriesPerMetric%zones != 0:
		return fmt.Errorf("-series-per-metric must be a multiple of %d, at least %d", zones, 2*zones)
	}
	return nil
}

func metricName(m int) string   { return fmt.Sprintf("bench_metric_%d", m) }
func instanceName(i int) string { return fmt.Sprintf("host-%04d", i) }
func zoneName(i int) string     { return fmt.Sprintf("z%d", i%zones) }

func (l layout) value(m, i int) float64 { return float64((i + valueStride*m) % l.SeriesPerMetric) }

// rule is one generated alerting rule.
type rule struct {
	Alert, Expr, Kind string
	Group             int
	firing            int // alerts it fires against the loaded series
}

// rules returns the benchmark's alerting rules. Rule r works on metric r mod Metrics; its kind
// follows (r / Metrics) mod 10, so that with 1,000 rules over 100 metrics every metric gets 6
// selective, 3 broad and 1 aggregating rule. Rules are dealt to the groups round robin.
func (l layout) rules() []rule {
	s := l.SeriesPerMetric
	out := make([]rule, 0, l.Rules)
	for r := range l.Rules {
		m := r % l.Metrics
		ru := rule{Alert: fmt.Sprintf("%s%04d", ruleAlert, r), Group: r % l.Groups}
		switch q := (r / l.Metrics) % 10; {
		case q < 6:
			i := (r * selectStep) % s
			thr := s / 2
			ru.Kind = selective
			ru.Expr = fmt.Sprintf(`%s{instance="%s"} > %d`, metricName(m), instanceName(i), thr)
			if l.value(m, i) > float64(thr) {
				ru.firing = 1
			}
		case q < 9:
			thr := s - 1 - broadFiring
			ru.Kind = broad
			ru.Expr = fmt.Sprintf(`%s > %d`, metricName(m), thr)
			for i := range s {
				if l.value(m, i) > float64(thr) {
					ru.firing++
				}
			}
		default:
			thr := float64(s-1) / 2
			ru.Kind = aggregate
			ru.Expr = fmt.Sprintf(`avg by (zone) (%s) > %g`, metricName(m), thr)
			var sum [zones]float64
			var n [zones]int
			for i := range s {
				sum[i%zones] += l.value(m, i)
				n[i%zones]++
			}
			for z := range zones {
				if sum[z]/float64(n[z]) > thr {
					ru.firing++
				}
			}
		}
		out = append(out, ru)
	}
	return out
}

// expected is what the rules should produce; the ruleeval command checks it.
type expected struct {
	layout
	Series        int               `json:"series"`
	FiringAlerts  int               `json:"firing_alerts"`
	RulesByKind   map[string]int    `json:"rules_by_kind"`
	FiringByKind  map[string]int    `json:"firing_by_kind"`
	GroupPrefix   string            `json:"group_prefix"`
	ExampleByKind map[string]string `json:"example_by_kind"`
}

func runRules(_ context.Context, args []string) error {
	fs := newFlagSet("rules")
	var l layout
	fs.IntVar(&l.Rules, "rules", 1000, "alerting rules")
	fs.IntVar(&l.Metrics, "metrics", 100, "metric names")
	fs.IntVar(&l.SeriesPerMetric, "series-per-metric", 1000, "series per metric name")
	fs.IntVar(&l.Groups, "groups", 10, "rule groups")
	out := fs.String("out", "bench-rules.yml", "write the evaluation rules here")
	e2eOut := fs.String("e2e-out", "", "if set, also write the end-to-end rule file here")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if err := l.validate(); err != nil {
		return err
	}
	rs := l.rules()
	exp := expected{layout: l, Series: l.Metrics * l.SeriesPerMetric, GroupPrefix: groupPrefix,
		RulesByKind: map[string]int{}, FiringByKind: map[string]int{}, ExampleByKind: map[string]string{}}
	for _, r := range rs {
		exp.RulesByKind[r.Kind]++
		exp.FiringByKind[r.Kind] += r.firing
		exp.FiringAlerts += r.firing
		if exp.ExampleByKind[r.Kind] == "" {
			exp.ExampleByKind[r.Kind] = r.Expr
		}
	}
	if err := writeRuleFile(*out, l.Groups, rs); err != nil {
		return err
	}
	if *e2eOut != "" {
		if err := writeE2ERuleFile(*e2eOut); err != nil {
			return err
		}
	}
	return json.NewEncoder(os.Stdout).Encode(exp)
}

func writeRuleFile(path string, groups int, rs []rule) error {
	f, err := os.Create(path)
	if err != nil {
		return err
	}
	w := bufio.NewWriter(f)
	fmt.Fprintln(w, "# Generated by alertbench rules (bench/alerting.sh). Do not edit.")
	fmt.Fprintln(w, "groups:")
	for g := range groups {
		fmt.Fprintf(w, "  - name: %s%02d\n    rules:\n", groupPrefix, g)
		for _, r := range rs {
			if r.Group != g {
				continue
			}
			fmt.Fprintf(w, "      - alert: %s\n        expr: %s\n", r.Alert, yamlQuote(r.Expr))
			fmt.Fprintf(w, "        labels:\n          severity: warning\n          %s: %s\n", kindLabel, r.Kind)
			fmt.Fprintf(w, "        annotations:\n          summary: %s\n",
				yamlQuote("{{ $labels.instance }}{{ $labels.zone }} is at {{ $value }}"))
		}
	}
	if err := w.Flush(); err != nil {
		f.Close()
		return err
	}
	return f.Close()
}

func writeE2ERuleFile(path string) error {
	text := fmt.Sprintf(`# Generated by alertbench rules (bench/alerting.sh). Do not edit.
groups:
  - name: e2e
    rules:
      - alert: %s
        expr: %s > %g
        for: 0s
        labels:
          severity: page
        annotations:
          summary: %s
`, e2eAlert, e2eMetric, e2eThresh, yamlQuote("probe {{ $labels.probe }} crossed the threshold"))
	return os.WriteFile(path, []byte(text), 0o644)
}

// yamlQuote returns s as a double-quoted YAML scalar.
func yamlQuote(s string) string {
	// A JSON string is a valid YAML double-quoted scalar.
	var b strings.Builder
	enc := json.NewEncoder(&b)
	enc.SetEscapeHTML(false)
	_ = enc.Encode(s)
	return strings.TrimSpace(b.String())
}
