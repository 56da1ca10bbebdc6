// Package process assembles the log processing pipeline that runs between
// the receivers and the store, from a config.LogPipeline.
//
// The stages run in a fixed order:
//
//  1. parse: fields from the body (JSON, grok patterns, logfmt) into Attrs;
//  2. normalize: Time from the timestamp field, Level, TraceID and SpanID;
//  3. redact: secrets in the body, the attributes and the stream labels;
//  4. filter: drop rules, then sample rules;
//  5. promote: configured attributes into the stream labels.
//
// Redaction runs before anything can reach the store and before promotion,
// so promoted labels only ever hold redacted values; it runs after parsing
// so that it also sees the fields parsing extracted, and after normalisation
// so that a secret cannot hide the level or trace ID. Filtering runs after
// redaction so that drop and sample rules never see a secret, and before
// promotion so that they match the streams as the receivers labelled them.
package process

import (
	"context"
	"fmt"
	"log/slog"
	"regexp"
	"slices"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/promql/parser"

	"github.com/lookout-dev/lookout/internal/config"
	"github.com/lookout-dev/lookout/internal/event"
	"github.com/lookout-dev/lookout/internal/pipeline"
	"github.com/lookout-dev/lookout/internal/process/filter"
	"github.com/lookout-dev/lookout/internal/process/normalize"
	"github.com/lookout-dev/lookout/internal/process/parse"
	"github.com/lookout-dev/lookout/internal/process/promote"
	"github.com/lookout-dev/lookout/internal/process/redact"
	"github.com/lookout-dev/lookout/internal/selfobs"
)

// Stage is the type of every log processing stage.
type Stage = pipeline.Stage[[]event.Record]

// Build returns the pipeline cfg describes, as one stage. Its counters are
// registered on reg (nil registers nothing); building again on the same
// registry, as a config reload does, reuses the registered counters. To keep
// the counts of several pipelines apart, wrap reg with a distinguishing
// label, as BuildSources does. A nil logger discards. The stage is safe for
// concurrent use.
func Build(cfg config.LogPipeline, logger *slog.Logger, reg prometheus.Registerer) (Stage, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	m := newMetrics(reg)
	var (
		stages []Stage
		names  []string
	)
	add := func(name string, s Stage, err error) error {
		if err != nil {
			return fmt.Errorf("build %s stage: %w", name, err)
		}
		stages = append(stages, s)
		names = append(names, name)
		return nil
	}

	if cfg.JSON || cfg.Logfmt || len(cfg.Patterns) > 0 {
		opts := parse.Options{JSON: cfg.JSON, Logfmt: cfg.Logfmt, Patterns: cfg.Patterns, Definitions: cfg.PatternDefinitions}
		if !cfg.StoreFields {
			opts.Keep = neededFields(cfg)
		}
		s, err := parse.New(opts)
		if err := add("parse", s, err); err != nil {
			return nil, err
		}
	}
	if cfg.Timestamp.Field != "" {
		loc, err := time.LoadLocation(cfg.Timestamp.Location) // "" is UTC
		if err != nil {
			return nil, fmt.Errorf("load timestamp location: %w", err)
		}
		s, err := normalize.Timestamp(normalize.TimestampOptions{
			Field: cfg.Timestamp.Field, Layout: cfg.Timestamp.Layout, Location: loc, Errors: m.timestampErrors,
		})
		if err := add("timestamp", s, err); err != nil {
			return nil, err
		}
	}
	s, err := normalize.Level(normalize.LevelOptions{Fields: cfg.Level.Fields, Detect: cfg.Level.Detect, Numeric: cfg.Level.Numeric})
	if err := add("level", s, err); err != nil {
		return nil, err
	}
	if err := add("trace", normalize.Trace(normalize.TraceOptions{
		TraceIDFields: cfg.Trace.TraceIDFields, SpanIDFields: cfg.Trace.SpanIDFields, TraceparentFields: cfg.Trace.TraceparentFields,
	}), nil); err != nil {
		return nil, err
	}
	parsed := len(stages) // parse and normalisation; the stages after them may drop records
	if !cfg.Redact.Disabled {
		s, err := redact.New(redact.Options{
			Keys: cfg.Redact.Keys, Patterns: cfg.Redact.Patterns, Luhn: cfg.Redact.Luhn,
			Replacement: cfg.Redact.Replacement, Redacted: m.redacted,
		})
		if err := add("redact", s, err); err != nil {
			return nil, err
		}
	}
	if len(cfg.Drop) > 0 || len(cfg.Sample) > 0 {
		opts, err := filterOptions(cfg, m)
		if err != nil {
			return nil, fmt.Errorf("build filter stage: %w", err)
		}
		s, err := filter.New(opts)
		if err := add("filter", s, err); err != nil {
			return nil, err
		}
	}
	if len(cfg.Promote) > 0 {
		s, err := promote.New(promote.Options{Attrs: cfg.Promote, MaxLabels: cfg.MaxStreamLabels, Skipped: m.notPromoted})
		if err := add("promote", s, err); err != nil {
			return nil, err
		}
	}
	logger.Debug("log pipeline built", "stages", names)
	if !cfg.StoreFields && (cfg.JSON || cfg.Logfmt || len(cfg.Patterns) > 0) {
		first := dropParsedFields(Sequence(stages[:parsed]...), cfg.Promote)
		stages = append([]Stage{first}, stages[parsed:]...)
	}
	return Sequence(stages...), nil
}

// BuildSources builds the pipeline of every source in config.LogSourceNames,
// each with its counters labelled source="<name>".
func BuildSources(cfg config.Logs, logger *slog.Logger, reg prometheus.Registerer) (map[string]Stage, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	out := make(map[string]Stage, len(config.LogSourceNames))
	for _, name := range config.LogSourceNames {
		var r prometheus.Registerer
		if reg != nil {
			r = prometheus.WrapRegistererWith(prometheus.Labels{"source": name}, reg)
		}
		s, err := Build(cfg.PipelineFor(name), logger.With("source", name), r)
		if err != nil {
			return nil, fmt.Errorf("build log pipeline for source %s: %w", name, err)
		}
		out[name] = s
	}
	return out, nil
}

// Sequence returns a stage that runs stages in order. It stops early when
// the batch becomes empty or ctx is cancelled.
func Sequence(stages ...Stage) Stage {
	return func(ctx context.Context, batch []event.Record) ([]event.Record, error) {
		var err error
		for _, s := range stages {
			if len(batch) == 0 {
				return batch, nil
			}
			if err = ctx.Err(); err != nil {
				return batch, err
			}
			if batch, err = s(ctx, batch); err != nil {
				return batch, err
			}
		}
		return batch, nil
	}
}

func filterOptions(cfg config.LogPipeline, m *metrics) (filter.Options, error) {
	p := parser.NewParser(parser.Options{})
	match := func(sel, level, line string) (filter.Match, error) {
		fm := filter.Match{Level: level}
		if sel != "" {
			ms, err := p.ParseMetricSelector(sel)
			if err != nil {
				return fm, fmt.Errorf("parse selector %q: %w", sel, err)
			}
			fm.Matchers = ms
		}
		if line != "" {
			re, err := regexp.Compile(line)
			if err != nil {
				return fm, fmt.Errorf("compile line_regexp: %w", err)
			}
			fm.Line = re
		}
		return fm, nil
	}
	opts := filter.Options{Dropped: m.dropped.WithLabelValues("drop_rule"), SampledOut: m.dropped.WithLabelValues("sampled_out")}
	for _, d := range cfg.Drop {
		fm, err := match(d.Selector, d.Level, d.LineRegexp)
		if err != nil {
			return opts, err
		}
		opts.Drop = append(opts.Drop, fm)
	}
	for _, s := range cfg.Sample {
		fm, err := match(s.Selector, s.Level, "")
		if err != nil {
			return opts, err
		}
		opts.Sample = append(opts.Sample, filter.SampleRule{Match: fm, Ratio: s.Ratio})
	}
	return opts, nil
}

type metrics struct {
	dropped         *prometheus.CounterVec
	redacted        prometheus.Counter
	timestampErrors prometheus.Counter
	notPromoted     prometheus.Counter
}

func newMetrics(reg prometheus.Registerer) *metrics {
	m := &metrics{
		dropped: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lookout_log_pipeline_dropped_total",
			Help: "Log records removed by the processing pipeline, by reason (drop_rule, sampled_out).",
		}, []string{"reason"}),
		redacted: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "lookout_log_pipeline_redacted_total",
			Help: "Log records in which the processing pipeline masked at least one secret.",
		}),
		timestampErrors: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "lookout_log_pipeline_timestamp_errors_total",
			Help: "Log records whose timestamp field could not be parsed; they keep the receiver's time.",
		}),
		notPromoted: prometheus.NewCounter(prometheus.CounterOpts{
			Name: "lookout_log_pipeline_not_promoted_total",
			Help: "Attributes not promoted to stream labels because of the label count or value length limit.",
		}),
	}
	if reg != nil {
		m.dropped = selfobs.Register(reg, m.dropped)
		m.redacted = selfobs.Register(reg, m.redacted)
		m.timestampErrors = selfobs.Register(reg, m.timestampErrors)
		m.notPromoted = selfobs.Register(reg, m.notPromoted)
	}
	return m
}

// neededFields accepts the parsed fields the stages after parsing read
// when parsed fields are not stored: timestamp, level and trace fields and
// those to promote. The rest would be dropped right after those stages
// anyway, so the parse stage need not copy them. A dotted name also
// matches its underscore spelling, as the normalise stages do.
func neededFields(cfg config.LogPipeline) func(string) bool {
	want := map[string]bool{}
	for _, list := range [][]string{
		{cfg.Timestamp.Field}, cfg.Level.Fields, cfg.Trace.TraceIDFields, cfg.Trace.SpanIDFields,
		cfg.Trace.TraceparentFields, cfg.Promote,
	} {
		for _, n := range list {
			if n != "" {
				want[n] = true
				want[strings.ReplaceAll(n, ".", "_")] = true
			}
		}
	}
	return func(key string) bool { return want[key] }
}

// dropParsedFields runs next (parsing and normalisation, which neither drop
// nor reorder records) and then removes the attributes it added, except
// those named in promote, so that only the receiver's own attributes (OTLP
// attributes, Loki structured metadata, Elasticsearch document fields) are
// stored. Attributes are told apart by key: a parsed field whose name
// clashed with a receiver attribute got another name from the parse stage.
func dropParsedFields(next Stage, promote []string) Stage {
	return func(ctx context.Context, batch []event.Record) ([]event.Record, error) {
		own := make([]map[string]bool, len(batch))
		for i := range batch {
			for _, a := range batch[i].Attrs {
				if own[i] == nil {
					own[i] = make(map[string]bool, len(batch[i].Attrs))
				}
				own[i][a.Key] = true
			}
		}
		out, err := next(ctx, batch)
		if err != nil {
			return out, err
		}
		if len(out) != len(batch) {
			return out, fmt.Errorf("BUG: parse stages changed the batch length from %d to %d", len(batch), len(out))
		}
		for i := range out {
			kept := out[i].Attrs[:0]
			for _, a := range out[i].Attrs {
				if own[i][a.Key] || slices.Contains(promote, a.Key) {
					kept = append(kept, a)
				}
			}
			if len(kept) == 0 {
				kept = nil
			}
			out[i].Attrs = kept
		}
		return out, nil
	}
}
