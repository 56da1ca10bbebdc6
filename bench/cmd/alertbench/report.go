package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"os"
	"path/filepath"
	"runtime"
	"strings"
	"time"
)

type multiFlag []string

func (m *multiFlag) String() string     { return strings.Join(*m, ",") }
func (m *multiFlag) Set(v string) error { *m = append(*m, v); return nil }

// alertReport is everything one run of bench/alerting.sh measured.
type alertReport struct {
	Date         string                      `json:"date"`
	Host         map[string]string           `json:"host"`
	Names        map[string]string           `json:"names"` // lookout, rules_peer, route_peer → display name
	Notes        []string                    `json:"notes"`
	Expected     *expected                   `json:"rules_expected,omitempty"`
	EvalInterval string                      `json:"evaluation_interval,omitempty"`
	Rules        map[string]*ruleEvalSummary `json:"rule_evaluation,omitempty"`
	Route        map[string]*routeSummary    `json:"routing,omitempty"`
	E2E          *e2eSummary                 `json:"end_to_end,omitempty"`
}

// readJSON decodes path into v; a missing file is not an error (the phase did not run).
func readJSON(path string, v any) (bool, error) {
	b, err := os.ReadFile(path)
	if errors.Is(err, fs.ErrNotExist) {
		return false, nil
	}
	if err != nil {
		return false, err
	}
	if len(strings.TrimSpace(string(b))) == 0 {
		return false, nil
	}
	if err := json.Unmarshal(b, v); err != nil {
		return false, fmt.Errorf("%s: %w", path, err)
	}
	return true, nil
}

func runReport(_ context.Context, args []string) error {
	fset := newFlagSet("report")
	dir := fset.String("dir", "", "run directory holding expected.json, rules-*.json, route-*.json and e2e-*.json")
	out := fset.String("out", "", "write the merged JSON here")
	lookoutName := fset.String("lookout", "Lookout", "display name of Lookout")
	rulesPeer := fset.String("rules-peer", "Prometheus", "display name of the rule evaluation peer")
	routePeer := fset.String("route-peer", "Alertmanager", "display name of the routing peer")
	interval := fset.String("evaluation-interval", "", "evaluation interval of the rule phase")
	var notes multiFlag
	fset.Var(&notes, "note", "free-text note (repeatable)")
	if err := fset.Parse(args); err != nil {
		return err
	}
	rep := &alertReport{
		Date:         time.Now().UTC().Format(time.RFC3339),
		Host:         map[string]string{"cpus": fmt.Sprint(runtime.NumCPU()), "go": runtime.Version()},
		Names:        map[string]string{"lookout": *lookoutName, "rules_peer": *rulesPeer, "route_peer": *routePeer},
		Notes:        notes,
		EvalInterval: *interval,
		Rules:        map[string]*ruleEvalSummary{},
		Route:        map[string]*routeSummary{},
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		if line, _, ok := strings.Cut(string(b), "\n"); ok {
			rep.Host["memory"] = strings.Join(strings.Fields(line)[1:], " ")
		}
	}
	var exp expected
	if ok, err := readJSON(filepath.Join(*dir, "expected.json"), &exp); err != nil {
		return err
	} else if ok {
		rep.Expected = &exp
	}
	for _, name := range []string{"lookout", "prometheus"} {
		var s ruleEvalSummary
		if ok, err := readJSON(filepath.Join(*dir, "rules-"+name+".json"), &s); err != nil {
			return err
		} else if ok {
			rep.Rules[name] = &s
		}
	}
	for _, name := range []string{"lookout", "alertmanager"} {
		var s routeSummary
		if ok, err := readJSON(filepath.Join(*dir, "route-"+name+".json"), &s); err != nil {
			return err
		} else if ok {
			rep.Route[name] = &s
		}
	}
	var e e2eSummary
	if ok, err := readJSON(filepath.Join(*dir, "e2e-lookout.json"), &e); err != nil {
		return err
	} else if ok {
		rep.E2E = &e
	}
	if len(rep.Rules) == 0 && len(rep.Route) == 0 && rep.E2E == nil {
		return errors.New("nothing was measured")
	}
	if *out != "" {
		b, err := json.MarshalIndent(rep, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(*out, append(b, '\n'), 0o644); err != nil {
			return err
		}
	}
	rep.markdown(os.Stdout)
	return nil
}

const mib = 1 << 20

func ms(s float64) string { return fmt.Sprintf("%.1f ms", s*1000) }
func secs(s float64) string {
	if s < 10 {
		return fmt.Sprintf("%.2f s", s)
	}
	return fmt.Sprintf("%.1f s", s)
}
func mibs(b int64) string { return fmt.Sprintf("%.0f MiB", float64(b)/mib) }

// ratio formats a/b, or "—" when either is missing.
func ratio(a, b float64) string {
	if a <= 0 || b <= 0 {
		return "—"
	}
	return fmt.Sprintf("%.2f", a/b)
}

// table writes a Markdown table of rows [figure, lookout, peer, ratio, reading].
func table(w io.Writer, header []string, rows [][]string) {
	fmt.Fprintf(w, "| %s |\n", strings.Join(header, " | "))
	seps := make([]string, len(header))
	for i := range seps {
		seps[i] = "---:"
	}
	seps[0] = "---"
	seps[len(seps)-1] = "---"
	fmt.Fprintf(w, "|%s|\n", strings.Join(seps, "|"))
	for _, r := range rows {
		fmt.Fprintf(w, "| %s |\n", strings.Join(r, " | "))
	}
	fmt.Fprintln(w)
}

func (r *alertReport) markdown(w io.Writer) {
	lk, rp, ap := r.Names["lookout"], r.Names["rules_peer"], r.Names["route_peer"]
	fmt.Fprintf(w, "### Alerting benchmark, %s (%s CPUs)\n\n", r.Date, r.Host["cpus"])

	if len(r.Rules) > 0 {
		if e := r.Expected; e != nil {
			fmt.Fprintf(w, "**Rule evaluation.** %d alerting rules in %d groups over %d series (%d metrics × %d): "+
				"%d selective (`%s`), %d broad (`%s`), %d aggregating (`%s`). They fire %d alerts. "+
				"Evaluation interval %s. Figures are over the measured cycles, after the warm-up cycles.\n\n",
				e.Rules, e.Groups, e.Series, e.Metrics, e.SeriesPerMetric,
				e.RulesByKind[selective], e.ExampleByKind[selective], e.RulesByKind[broad], e.ExampleByKind[broad],
				e.RulesByKind[aggregate], e.ExampleByKind[aggregate], e.FiringAlerts, orDash(r.EvalInterval))
		}
		l, p := r.Rules["lookout"], r.Rules["prometheus"]
		get := func(s *ruleEvalSummary, f func(*ruleEvalSummary) string) string {
			if s == nil {
				return "not run"
			}
			return f(s)
		}
		num := func(s *ruleEvalSummary, f func(*ruleEvalSummary) float64) float64 {
			if s == nil {
				return 0
			}
			return f(s)
		}
		row := func(name string, f func(*ruleEvalSummary) string, v func(*ruleEvalSummary) float64, reading string) []string {
			rt := "—"
			if v != nil {
				rt = ratio(num(l, v), num(p, v))
			}
			return []string{name, get(l, f), get(p, f), rt, reading}
		}
		table(w, []string{"rule evaluation", lk, rp, "Lookout/" + shortName(rp), "reading"}, [][]string{
			row("eval time per cycle, median (Σ groups)", func(s *ruleEvalSummary) string { return ms(s.EvalSecondsMedian) },
				func(s *ruleEvalSummary) float64 { return s.EvalSecondsMedian }, "lower is better"),
			row("eval time per cycle, min–max", func(s *ruleEvalSummary) string {
				return fmt.Sprintf("%s – %s", ms(s.EvalSecondsMin), ms(s.EvalSecondsMax))
			}, nil, ""),
			row("server CPU per cycle", func(s *ruleEvalSummary) string { return ms(s.CPUSecondsPerCycle) },
				func(s *ruleEvalSummary) float64 { return s.CPUSecondsPerCycle }, "whole process, lower is better"),
			row("cycles measured (warm-up)", func(s *ruleEvalSummary) string {
				return fmt.Sprintf("%d (%d)", len(s.Cycles), len(s.WarmupCycles))
			}, nil, ""),
			row("firing alerts", func(s *ruleEvalSummary) string {
				return fmt.Sprintf("%.0f of %d", s.FiringAlerts, s.ExpectedFiring)
			}, nil, "cross-check"),
			row("samples per cycle", func(s *ruleEvalSummary) string { return fmt.Sprintf("%.0f", s.SamplesPerCycle) }, nil, ""),
			row("RSS when idle, before the series (VmRSS)", func(s *ruleEvalSummary) string { return mibs(s.IdleRSSBytes) },
				func(s *ruleEvalSummary) float64 { return float64(s.IdleRSSBytes) }, "baseline of the whole process"),
			row("peak RSS (VmHWM)", func(s *ruleEvalSummary) string { return mibs(s.PeakRSSBytes) },
				func(s *ruleEvalSummary) float64 { return float64(s.PeakRSSBytes) }, "includes loading the series"),
			row("background cores", func(s *ruleEvalSummary) string { return fmt.Sprintf("%.2f", s.BackgroundCores) }, nil,
				"other processes; > 0.2 disturbs"),
		})
	}

	if len(r.Route) > 0 {
		var any *routeSummary
		for _, s := range r.Route {
			any = s
		}
		fmt.Fprintf(w, "**Routing.** %d firing alerts, each its own group (`group_by: [alertname, instance]`), "+
			"POSTed to `/api/v2/alerts` in batches of %d, %d in flight. One webhook receiver on a loopback sink.\n\n",
			any.Alerts, any.Batch, any.Concurrency)
		l, a := r.Route["lookout"], r.Route["alertmanager"]
		get := func(s *routeSummary, f func(*routeSummary) string) string {
			if s == nil {
				return "not run"
			}
			return f(s)
		}
		num := func(s *routeSummary, f func(*routeSummary) float64) float64 {
			if s == nil {
				return 0
			}
			return f(s)
		}
		row := func(name string, f func(*routeSummary) string, v func(*routeSummary) float64, reading string) []string {
			rt := "—"
			if v != nil {
				rt = ratio(num(l, v), num(a, v))
			}
			return []string{name, get(l, f), get(a, f), rt, reading}
		}
		table(w, []string{"routing", lk, ap, "Lookout/" + shortName(ap), "reading"}, [][]string{
			row("time until the sink has every alert", func(s *routeSummary) string {
				if !s.Complete {
					return fmt.Sprintf("incomplete: %d of %d after %s", s.Received, s.Alerts, secs(s.DeliverSeconds))
				}
				return secs(s.DeliverSeconds)
			}, func(s *routeSummary) float64 { return s.DeliverSeconds }, "lower is better"),
			row("alerts/s delivered", func(s *routeSummary) string { return fmt.Sprintf("%.0f", s.AlertsPerSecond) },
				func(s *routeSummary) float64 { return s.AlertsPerSecond }, "higher is better"),
			row("notifications/s", func(s *routeSummary) string { return fmt.Sprintf("%.0f", s.NotificationsPerS) },
				func(s *routeSummary) float64 { return s.NotificationsPerS }, "higher is better"),
			row("notifications (late repeats)", func(s *routeSummary) string {
				return fmt.Sprintf("%d (%d)", s.Notifications, s.LateDuplicates)
			}, nil, "one per group expected"),
			row("time to answer every POST", func(s *routeSummary) string { return secs(s.PostSeconds) },
				func(s *routeSummary) float64 { return s.PostSeconds }, "lower is better"),
			row("first webhook after", func(s *routeSummary) string { return secs(s.FirstArrivalSecond) },
				func(s *routeSummary) float64 { return s.FirstArrivalSecond }, ""),
			row("per-alert latency p50 / p99", func(s *routeSummary) string {
				return fmt.Sprintf("%s / %s", secs(s.LatencyP50Seconds), secs(s.LatencyP99Seconds))
			}, nil, "POST start → webhook"),
			row("server CPU", func(s *routeSummary) string { return secs(s.ServerCPUSeconds) },
				func(s *routeSummary) float64 { return s.ServerCPUSeconds }, "lower is better"),
			row("RSS when idle, before the POSTs (VmRSS)", func(s *routeSummary) string { return mibs(s.IdleRSSBytes) },
				func(s *routeSummary) float64 { return float64(s.IdleRSSBytes) }, "baseline of the whole process"),
			row("peak RSS (VmHWM)", func(s *routeSummary) string { return mibs(s.PeakRSSBytes) },
				func(s *routeSummary) float64 { return float64(s.PeakRSSBytes) }, "lower is better"),
			row("peak RSS − idle RSS", func(s *routeSummary) string { return mibs(s.PeakRSSBytes - s.IdleRSSBytes) },
				func(s *routeSummary) float64 { return float64(s.PeakRSSBytes - s.IdleRSSBytes) }, "what routing added"),
			row("background cores", func(s *routeSummary) string { return fmt.Sprintf("%.2f", s.BackgroundCores) }, nil,
				"other processes; > 0.2 disturbs"),
		})
	}

	if e := r.E2E; e != nil {
		fmt.Fprintf(w, "**End to end** (%s, with the rule load above still running). A new series is written at 0 "+
			"by remote write, then, 1 s plus a random part of one evaluation interval later, at 1. A `for: 0s` rule "+
			"`%s > %g` (evaluation interval %s) fires, and its route has `group_wait: %s`. Latency is from the "+
			"write of the 1 to the webhook sink's receipt.\n\n",
			lk, e2eMetric, e2eThresh, orDash(e.EvalInterval), orDash(e.GroupWait))
		met := "**missed**"
		if e.TargetMet {
			met = "met"
		}
		lat := make([]string, len(e.Seconds))
		for i, s := range e.Seconds {
			lat[i] = fmt.Sprintf("%.2f", s)
		}
		table(w, []string{"end to end", lk, "reading"}, [][]string{
			{"crossings delivered", fmt.Sprintf("%d of %d", e.Received, e.Repeats), ""},
			{"latency p50", secs(e.P50Seconds), ""},
			{"latency max", secs(e.MaxSeconds), fmt.Sprintf("target ≤ %s: %s", secs(e.TargetSeconds), met)},
			{"every latency (s)", strings.Join(lat, ", "), "−1: no webhook"},
		})
	}
	for _, n := range r.Notes {
		fmt.Fprintf(w, "- %s\n", n)
	}
	if len(r.Notes) > 0 {
		fmt.Fprintln(w)
	}
}

func orDash(s string) string {
	if s == "" {
		return "—"
	}
	return s
}

// shortName is the first word of a display name ("Prometheus 3.13.5" → "Prometheus").
func shortName(s string) string {
	if f := strings.Fields(s); len(f) > 0 {
		return f[0]
	}
	return s
}
