package promtool

import (
	"cmp"
	"context"
	"errors"
	"fmt"
	"io"
	"maps"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"go.yaml.in/yaml/v2"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/promql/promqltest"
	"github.com/prometheus/prometheus/rules"
)

// TestOptions configures RunUnitTests.
type TestOptions struct {
	// Run selects the test groups whose name it matches; nil runs all.
	Run *regexp.Regexp
	// IgnoreUnknownFields accepts unknown keys in the rule files under
	// test. The test files themselves are always decoded strictly.
	IgnoreUnknownFields bool
	// Parser parses rule expressions, series and expected samples. Nil
	// means the parser the server's rules manager uses, parser.Options{}.
	Parser parser.Parser

	_ struct{}
}

// RunUnitTests runs each unit-test file as `promtool test rules` does and
// reports whether all of them passed. "Unit Testing: FILE" and SUCCESS go to
// stdout, failures to stderr.
func RunUnitTests(stdout, stderr io.Writer, opts TestOptions, files ...string) bool {
	if opts.Parser == nil {
		opts.Parser = parser.NewParser(parser.Options{})
	}
	passed := true
	for _, f := range files {
		fmt.Fprintln(stdout, "Unit Testing: ", f)
		if errs := runTestFile(stderr, f, opts); len(errs) > 0 {
			passed = false
			fmt.Fprintln(stderr, "  FAILED:")
			for _, err := range errs {
				fmt.Fprintln(stderr, err)
				fmt.Fprintln(stderr)
			}
		} else {
			fmt.Fprintln(stdout, "  SUCCESS")
		}
		fmt.Fprintln(stdout)
	}
	return passed
}

// testFile is the format of a unit-test file.
type testFile struct {
	RuleFiles          []string       `yaml:"rule_files"`
	EvaluationInterval model.Duration `yaml:"evaluation_interval,omitempty"`
	GroupEvalOrder     []string       `yaml:"group_eval_order"`
	Tests              []testGroup    `yaml:"tests"`
	// FuzzyCompare lets sample values differ in the last bit.
	FuzzyCompare bool `yaml:"fuzzy_compare,omitempty"`
}

// testGroup is one set of input series and the checks run against them.
type testGroup struct {
	Name           string         `yaml:"name,omitempty"`
	Interval       model.Duration `yaml:"interval"`
	InputSeries    []inputSeries  `yaml:"input_series"`
	AlertTests     []alertTest    `yaml:"alert_rule_test,omitempty"`
	ExprTests      []exprTest     `yaml:"promql_expr_test,omitempty"`
	ExternalLabels labels.Labels  `yaml:"external_labels,omitempty"`
	ExternalURL    string         `yaml:"external_url,omitempty"`
	StartTimestamp timestamp      `yaml:"start_timestamp,omitempty"`
}

type inputSeries struct {
	Series string `yaml:"series"`
	Values string `yaml:"values"`
}

type alertTest struct {
	EvalTime  model.Duration  `yaml:"eval_time"`
	Alertname string          `yaml:"alertname"`
	ExpAlerts []expectedAlert `yaml:"exp_alerts"`
}

type expectedAlert struct {
	ExpLabels      map[string]string `yaml:"exp_labels"`
	ExpAnnotations map[string]string `yaml:"exp_annotations"`
}

type exprTest struct {
	Expr       string           `yaml:"expr"`
	EvalTime   model.Duration   `yaml:"eval_time"`
	ExpSamples []expectedSample `yaml:"exp_samples"`
}

type expectedSample struct {
	Labels string  `yaml:"labels"`
	Value  float64 `yaml:"value"`
	// Histogram, when set, is a native histogram in the series notation
	// ({{schema:0 sum:5 count:4 buckets:[1 2 1]}}); Value is then ignored.
	Histogram string `yaml:"histogram"`
}

// timestamp is a start_timestamp: RFC 3339 or Unix seconds.
type timestamp struct{ time.Time }

func (t *timestamp) UnmarshalYAML(unmarshal func(any) error) error {
	var s string
	if err := unmarshal(&s); err != nil {
		return err
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		sec, frac := math.Modf(f)
		t.Time = time.Unix(int64(sec), int64(frac*float64(time.Second))).UTC()
		return nil
	}
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return fmt.Errorf("start_timestamp %q is neither RFC 3339 nor Unix seconds", s)
	}
	t.Time = v
	return nil
}

// fileEnv is what every test group of one file shares.
type fileEnv struct {
	ruleFiles    []string
	evalInterval time.Duration
	order        map[string]int // group_eval_order: group name → position
	fuzzy        bool
	opts         TestOptions
}

func runTestFile(stderr io.Writer, name string, opts TestOptions) []error {
	b, err := os.ReadFile(name)
	if err != nil {
		return []error{err}
	}
	var tf testFile
	if err := yaml.UnmarshalStrict(b, &tf); err != nil {
		return []error{err}
	}
	env := fileEnv{evalInterval: time.Duration(tf.EvaluationInterval), fuzzy: tf.FuzzyCompare, opts: opts}
	if env.evalInterval == 0 {
		env.evalInterval = time.Minute
	}
	if env.ruleFiles, err = globRuleFiles(stderr, filepath.Dir(name), tf.RuleFiles); err != nil {
		return []error{err}
	}
	env.order = make(map[string]int, len(tf.GroupEvalOrder))
	for i, g := range tf.GroupEvalOrder {
		if _, dup := env.order[g]; dup {
			return []error{fmt.Errorf("group name repeated in evaluation order: %s", g)}
		}
		env.order[g] = i
	}

	var errs []error
	for i := range tf.Tests {
		tg := &tf.Tests[i]
		if opts.Run != nil && !opts.Run.MatchString(tg.Name) {
			continue
		}
		if tg.Interval == 0 {
			tg.Interval = model.Duration(env.evalInterval)
		}
		label := tg.Name
		if label == "" {
			label = fmt.Sprintf("unnamed#%d", i)
		}
		errs = append(errs, tg.run(label, env)...)
	}
	return errs
}

// globRuleFiles resolves rule file patterns relative to the test file's
// directory. A pattern without matches is a warning, as in promtool.
func globRuleFiles(stderr io.Writer, dir string, patterns []string) ([]string, error) {
	var files []string
	for _, p := range patterns {
		if p != "" && !filepath.IsAbs(p) {
			p = filepath.Join(dir, p)
		}
		m, err := filepath.Glob(p)
		if err != nil {
			return nil, fmt.Errorf("rule_files %q: %w", p, err)
		}
		if len(m) == 0 {
			fmt.Fprintln(stderr, "  WARNING: no file match pattern", p)
		}
		files = append(files, m...)
	}
	return files, nil
}

// run evaluates the rules over the input series, one evaluation every
// evalInterval from the start to the latest eval_time, and checks the
// alerts and expressions. label names the group in messages.
func (tg *testGroup) run(label string, env fileEnv) (errs []error) {
	fail := func(format string, args ...any) {
		errs = append(errs, fmt.Errorf("    name: %s,\n"+format, append([]any{label}, args...)...))
	}
	alertsAt := map[model.Duration][]alertTest{}
	for _, at := range tg.AlertTests {
		if at.Alertname == "" {
			fail("    an item under alert_rule_test misses required attribute alertname at eval_time %v", at.EvalTime)
			return errs
		}
		alertsAt[at.EvalTime] = append(alertsAt[at.EvalTime], at)
	}
	evalTimes := slices.Sorted(maps.Keys(alertsAt))

	load, err := tg.loadCommand(env.opts.Parser)
	if err != nil {
		fail("    %v", err)
		return errs
	}
	loader, err := promqltest.NewLazyLoader(load, promqltest.LazyLoaderOpts{
		EnableAtModifier:     true,
		EnableNegativeOffset: true,
		StartTime:            tg.StartTimestamp.Time,
	})
	if err != nil {
		fail("    input_series: %v", err)
		return errs
	}
	defer func() {
		if err := loader.Close(); err != nil {
			errs = append(errs, fmt.Errorf("close test storage: %w", err))
		}
	}()
	// Subqueries without a step use the evaluation interval, as on a server
	// whose global evaluation_interval is this one.
	loader.SubqueryInterval = env.evalInterval

	groups, err := tg.loadRules(loader, env)
	if err != nil {
		errs = append(errs, err)
		return errs
	}

	start := time.Unix(0, 0).UTC()
	if !tg.StartTimestamp.IsZero() {
		start = tg.StartTimestamp.Time
	}
	end := start.Add(time.Duration(tg.maxEvalTime()))
	next := 0 // index into evalTimes of the next alert check
	for ts := start; !ts.After(end); ts = ts.Add(env.evalInterval) {
		offset := model.Duration(ts.Sub(start))
		before := len(errs)
		loader.WithSamplesTill(ts, func(err error) {
			if err != nil {
				fail("    load input series till %s: %v", offset, err)
				return
			}
			for _, g := range groups {
				g.Eval(loader.Context(), ts)
				for _, r := range g.Rules() {
					if err := r.LastError(); err != nil {
						fail("    rule: %s, time: %s, err: %v", r.Name(), offset, err)
					}
				}
			}
		})
		if len(errs) > before {
			// Later evaluations would repeat the error.
			return errs
		}
		// An eval_time between two evaluations sees the earlier one.
		for next < len(evalTimes) && evalTimes[next] < offset+model.Duration(env.evalInterval) {
			for _, at := range alertsAt[evalTimes[next]] {
				exp := at.expected()
				got := firingAlerts(groups, at.Alertname)
				if !equalAlerts(exp, got) {
					fail("    alertname: %s, time: %s, \n        exp:%v, \n        got:%v",
						at.Alertname, at.EvalTime, indent(exp.String(), 12), indent(got.String(), 12))
				}
			}
			next++
		}
	}

	for _, et := range tg.ExprTests {
		got, err := query(loader, et.Expr, start.Add(time.Duration(et.EvalTime)))
		if err != nil {
			fail("    expr: %q, time: %s, err: %v", et.Expr, et.EvalTime, err)
			continue
		}
		exp, err := et.expected(env.opts.Parser)
		if err != nil {
			fail("    expr: %q, time: %s, err: %v", et.Expr, et.EvalTime, err)
			continue
		}
		if !equalSamples(exp, got, env.fuzzy) {
			fail("    expr: %q, time: %s,\n        exp: %v\n        got: %v", et.Expr, et.EvalTime, exp, got)
		}
	}
	return errs
}

// loadCommand writes the input series as a promqltest load command. It
// parses each series first so that an error names the series.
func (tg *testGroup) loadCommand(p parser.Parser) (string, error) {
	var b strings.Builder
	fmt.Fprintf(&b, "load %s\n", tg.Interval)
	for _, s := range tg.InputSeries {
		// One series is one line of the command; a line break would
		// start another one.
		if strings.ContainsAny(s.Series+s.Values, "\r\n") {
			return "", fmt.Errorf("input_series %q: line breaks are not allowed in series or values", s.Series)
		}
		line := s.Series + " " + s.Values
		if _, _, err := p.ParseSeriesDesc(line); err != nil {
			return "", fmt.Errorf("input_series %q: %w", line, err)
		}
		fmt.Fprintf(&b, "  %s\n", line)
	}
	return b.String(), nil
}

// loadRules loads the rule files as the server would and orders the groups
// by group_eval_order. A group it does not name counts as its first one, as
// in promtool; ties are broken by file and name so that runs are repeatable.
func (tg *testGroup) loadRules(loader *promqltest.LazyLoader, env fileEnv) ([]*rules.Group, error) {
	m := rules.NewManager(&rules.ManagerOptions{
		QueryFunc:  rules.EngineQueryFunc(loader.QueryEngine(), loader.Storage()),
		Appendable: loader.Storage(),
		Queryable:  loader.Storage(),
		Context:    loader.Context(),
		NotifyFunc: func(context.Context, string, ...*rules.Alert) {},
		Parser:     env.opts.Parser,
	})
	loaded, errs := m.LoadGroups(time.Duration(tg.Interval), tg.ExternalLabels, tg.ExternalURL, nil, env.opts.IgnoreUnknownFields, env.ruleFiles...)
	if len(errs) > 0 {
		return nil, errors.Join(errs...)
	}
	groups := make([]*rules.Group, 0, len(loaded))
	for _, g := range loaded {
		groups = append(groups, g)
		for _, r := range g.Rules() {
			if ar, ok := r.(*rules.AlertingRule); ok {
				// A fresh rule waits for its for-state to be restored from
				// storage before it writes ALERTS series; nothing is restored
				// here.
				ar.SetRestored(true)
			}
		}
	}
	slices.SortFunc(groups, func(a, b *rules.Group) int {
		return cmp.Or(
			cmp.Compare(env.order[a.Name()], env.order[b.Name()]),
			cmp.Compare(a.File(), b.File()),
			cmp.Compare(a.Name(), b.Name()),
		)
	})
	return groups, nil
}

// maxEvalTime is the latest eval_time of the group's checks.
func (tg *testGroup) maxEvalTime() model.Duration {
	var m model.Duration
	for _, at := range tg.AlertTests {
		m = max(m, at.EvalTime)
	}
	for _, et := range tg.ExprTests {
		m = max(m, et.EvalTime)
	}
	return m
}

// alert is a firing alert's labels and annotations.
type alert struct {
	labels, annotations labels.Labels
}

type alertList []alert

func (at alertTest) expected() alertList {
	out := make(alertList, 0, len(at.ExpAlerts))
	for _, a := range at.ExpAlerts {
		b := labels.NewBuilder(labels.FromMap(a.ExpLabels))
		// The rule adds alertname itself; tests do not repeat it.
		b.Set(labels.AlertName, at.Alertname)
		out = append(out, alert{labels: b.Labels(), annotations: labels.FromMap(a.ExpAnnotations)})
	}
	return out
}

// firingAlerts collects the firing alerts of every alerting rule called
// name, in all groups.
func firingAlerts(groups []*rules.Group, name string) alertList {
	var out alertList
	for _, g := range groups {
		for _, r := range g.Rules() {
			ar, ok := r.(*rules.AlertingRule)
			if !ok || ar.Name() != name {
				continue
			}
			for _, a := range ar.ActiveAlerts() {
				if a.State == rules.StateFiring {
					out = append(out, alert{labels: a.Labels.Copy(), annotations: a.Annotations.Copy()})
				}
			}
		}
	}
	return out
}

func compareAlerts(a, b alert) int {
	return cmp.Or(labels.Compare(a.labels, b.labels), labels.Compare(a.annotations, b.annotations))
}

func equalAlerts(exp, got alertList) bool {
	slices.SortFunc(exp, compareAlerts)
	slices.SortFunc(got, compareAlerts)
	return slices.EqualFunc(exp, got, func(a, b alert) bool {
		return labels.Equal(a.labels, b.labels) && labels.Equal(a.annotations, b.annotations)
	})
}

// String lists the alerts in promtool's layout.
func (l alertList) String() string {
	if len(l) == 0 {
		return "[]"
	}
	var b strings.Builder
	b.WriteString("[")
	for i, a := range l {
		if i > 0 {
			b.WriteString(",")
		}
		fmt.Fprintf(&b, "\n%d:\n  Labels:%s\n  Annotations:%s", i, a.labels, a.annotations)
	}
	b.WriteString("\n]")
	return b.String()
}

// indent indents every line but the first by n spaces.
func indent(s string, n int) string {
	return strings.ReplaceAll(s, "\n", "\n"+strings.Repeat(" ", n))
}

// sample is one result of an expression: a float, or a native histogram in
// its test notation.
type sample struct {
	labels    labels.Labels
	value     float64
	histogram string
}

type sampleList []sample

func (l sampleList) String() string {
	if len(l) == 0 {
		return "nil"
	}
	parts := make([]string, len(l))
	for i, s := range l {
		if s.histogram != "" {
			parts[i] = s.labels.String() + " " + s.histogram
		} else {
			parts[i] = s.labels.String() + " " + strconv.FormatFloat(s.value, 'E', -1, 64)
		}
	}
	return strings.Join(parts, ", ")
}

func (et exprTest) expected(p parser.Parser) (sampleList, error) {
	out := make(sampleList, 0, len(et.ExpSamples))
	for _, s := range et.ExpSamples {
		lset, err := p.ParseMetric(s.Labels)
		if err != nil {
			return nil, fmt.Errorf("labels %q: %w", s.Labels, err)
		}
		smp := sample{labels: lset, value: s.Value}
		if s.Histogram != "" {
			_, vals, err := p.ParseSeriesDesc("{} " + s.Histogram)
			switch {
			case err != nil:
				return nil, fmt.Errorf("labels %q: histogram: %w", s.Labels, err)
			case len(vals) != 1 || vals[0].Histogram == nil:
				return nil, fmt.Errorf("labels %q: histogram %q is not one native histogram", s.Labels, s.Histogram)
			}
			smp = sample{labels: lset, histogram: vals[0].Histogram.TestExpression()}
		}
		out = append(out, smp)
	}
	return out, nil
}

// query runs an instant query; a scalar result becomes one sample without
// labels.
func query(loader *promqltest.LazyLoader, expr string, ts time.Time) (sampleList, error) {
	q, err := loader.QueryEngine().NewInstantQuery(loader.Context(), loader.Queryable(), nil, expr, ts)
	if err != nil {
		return nil, err
	}
	defer q.Close()
	res := q.Exec(loader.Context())
	if res.Err != nil {
		return nil, res.Err
	}
	switch v := res.Value.(type) {
	case promql.Vector:
		out := make(sampleList, 0, len(v))
		for _, s := range v {
			smp := sample{labels: s.Metric.Copy(), value: s.F}
			if s.H != nil {
				smp = sample{labels: s.Metric.Copy(), histogram: s.H.TestExpression()}
			}
			out = append(out, smp)
		}
		return out, nil
	case promql.Scalar:
		return sampleList{{labels: labels.EmptyLabels(), value: v.V}}, nil
	default:
		return nil, fmt.Errorf("expression result is a %s, want a vector or a scalar", res.Value.Type())
	}
}

func equalSamples(exp, got sampleList, fuzzy bool) bool {
	byLabels := func(a, b sample) int { return labels.Compare(a.labels, b.labels) }
	slices.SortFunc(exp, byLabels)
	slices.SortFunc(got, byLabels)
	return slices.EqualFunc(exp, got, func(a, b sample) bool {
		return labels.Equal(a.labels, b.labels) && a.histogram == b.histogram && equalFloat(a.value, b.value, fuzzy)
	})
}

// equalFloat compares exactly (so NaN never equals NaN, as in promtool) or,
// with fuzzy, also accepts a neighbouring float64.
func equalFloat(a, b float64, fuzzy bool) bool {
	if a == b {
		return true
	}
	return fuzzy && (math.Nextafter(a, math.Inf(-1)) == b || math.Nextafter(a, math.Inf(1)) == b)
}
