package config

import (
	"maps"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/alecthomas/units"
	"github.com/prometheus/common/model"
	"github.com/stretchr/testify/require"
	yamlv2 "go.yaml.in/yaml/v2"

	"github.com/lookout-dev/lookout/internal/event"
	"github.com/lookout-dev/lookout/internal/process/grok"
	"github.com/lookout-dev/lookout/internal/process/normalize"
)

// logsFile is a lookout.yml holding only the logs section. Until Config has
// a Logs field, the section is decoded through this wrapper exactly as the
// loader will decode it.
type logsFile struct {
	Logs Logs `yaml:"logs"`
}

func loadLogs(t testing.TB, content []byte) (Logs, error) {
	t.Helper()
	f := logsFile{Logs: DefaultLogs}
	err := yamlv2.UnmarshalStrict(content, &f)
	return f.Logs, err
}

func loadLogsFile(t testing.TB, name string) (Logs, error) {
	t.Helper()
	b, err := os.ReadFile(name)
	require.NoError(t, err)
	return loadLogs(t, b)
}

func TestLogsDefaults(t *testing.T) {
	for _, in := range []string{
		"logs: {}\n", "logs:\n  pipeline:\n", "logs:\n  sources:\n    loki:\n", "logs:\n  retention:\n  store:\n",
		"logs:\n  pipeline:\n    json:\n    level:\n    redact:\n", "logs:\n  sources:\n    loki:\n      level:\n",
	} {
		l, err := loadLogs(t, []byte(in))
		require.NoError(t, err, in)
		require.Equal(t, DefaultLogPipeline, l.Pipeline, in)
		require.Equal(t, DefaultLogPipeline, l.PipelineFor("otlp"), in)
		require.Equal(t, DefaultLogPipeline, l.PipelineFor("loki"), in)
		require.Equal(t, model.Duration(720*time.Hour), l.Retention.Period)
		require.Equal(t, 256*units.KiB, l.MaxLineBytes)
		require.Empty(t, l.SyslogListen, "the syslog receiver is off by default")
	}
	require.NoError(t, DefaultLogs.Validate())
	require.True(t, DefaultLogPipeline.Redact.Luhn)
	require.False(t, DefaultLogPipeline.Redact.Disabled)
}

func TestLogsFullFile(t *testing.T) {
	l, err := loadLogsFile(t, "testdata/logs_full.good.yaml")
	require.NoError(t, err)
	require.Equal(t, "127.0.0.1:5514", l.SyslogListen)
	require.Equal(t, 128*units.KiB, l.MaxLineBytes)
	require.Equal(t, 10*units.GiB, l.Retention.MaxSize, `"10GB" is read as GiB, as Prometheus reads sizes`)
	require.Equal(t, model.Duration(30*24*time.Hour), l.Retention.Period)
	require.Equal(t, []LogsRetentionRule{
		{Selector: `{app="crm", type="audit"}`, Period: model.Duration(90 * 24 * time.Hour)},
		{Selector: `{env=~"dev|staging"}`, Period: model.Duration(72 * time.Hour)},
	}, l.Retention.Rules)
	require.Equal(t, LogsStore{MemoryLimit: 2 * units.GiB, Threads: 2}, l.Store)
	require.Equal(t, []string{"log_rules/*.yml"}, l.RuleFiles)

	p := l.Pipeline
	require.True(t, p.JSON)
	require.True(t, p.Logfmt)
	require.Equal(t, LogTimestamp{Field: "timestamp", Layout: "ISO8601", Location: "Europe/Berlin"}, p.Timestamp)
	require.Equal(t, LogLevelDetection{Fields: []string{"level", "severity", "level_name"}, Detect: true, Numeric: "auto"}, p.Level)
	require.Equal(t, LogRedact{Keys: []string{"session", "license_key"}, Patterns: []string{`\bAKIA[0-9A-Z]{16}\b`}, Luhn: true, Replacement: "***"}, p.Redact)
	require.Equal(t, []LogDropRule{{Selector: `{app="crm"}`, LineRegexp: "GET /healthz "}, {Level: "trace"}}, p.Drop)
	require.Equal(t, []LogSampleRule{{Level: "error", Ratio: 1}, {Level: "debug", Ratio: 0.1}}, p.Sample)
	require.Equal(t, []string{"service", "env"}, p.Promote)
	require.Equal(t, 12, p.MaxStreamLabels)

	// A source changes only the keys it sets; lists replace whole lists.
	sys := l.PipelineFor("syslog")
	require.False(t, sys.JSON)
	require.True(t, sys.Logfmt, "inherited")
	require.Equal(t, []string{"%{COMBINEDAPACHELOG}"}, sys.Patterns)
	require.Equal(t, LogTimestamp{Field: "timestamp", Layout: "HTTPDATE", Location: "Europe/Berlin"}, sys.Timestamp, "location inherited")
	require.Equal(t, []LogSampleRule{{Selector: `{service="crm-api"}`, Ratio: 0.1}}, sys.Sample)
	require.Equal(t, p.Redact, sys.Redact, "the default redaction applies")
	require.Equal(t, p.Drop, sys.Drop)

	loki := l.PipelineFor("loki")
	require.Equal(t, []string{"session", "license_key", "ssn"}, loki.Redact.Keys)
	require.Equal(t, "***", loki.Redact.Replacement)
	require.Equal(t, p.Patterns, loki.Patterns)
	require.Equal(t, p, l.PipelineFor("otlp"), "a source without an entry uses the default")
}

func TestLogsMinimalFile(t *testing.T) {
	l, err := loadLogsFile(t, "testdata/logs_minimal.good.yaml")
	require.NoError(t, err)
	require.Equal(t, "[::1]:5514", l.SyslogListen)
	require.Equal(t, 500*units.MiB, l.Retention.MaxSize)
	require.Equal(t, DefaultLogs.Retention.Period, l.Retention.Period, "unset keys keep their defaults")
}

func TestLogsSourceDoesNotChangeDefault(t *testing.T) {
	in := `logs:
  pipeline:
    pattern_definitions: {A: a}
    redact: {keys: [session]}
  sources:
    loki:
      pattern_definitions: {B: b}
      redact: {keys: [ssn]}
    http:
      level: {fields: [sev]}
`
	l, err := loadLogs(t, []byte(in))
	require.NoError(t, err)
	require.Equal(t, map[string]string{"A": "a"}, l.Pipeline.PatternDefinitions)
	require.Equal(t, []string{"session"}, l.Pipeline.Redact.Keys)
	require.Equal(t, map[string]string{"A": "a", "B": "b"}, l.PipelineFor("loki").PatternDefinitions, "definitions merge")
	require.Equal(t, []string{"ssn"}, l.PipelineFor("loki").Redact.Keys, "lists replace")
	require.Equal(t, []string{"sev"}, l.PipelineFor("http").Level.Fields)
	require.Equal(t, DefaultLogPipeline.Level.Fields, l.Pipeline.Level.Fields)
	require.Equal(t, []string{"level", "severity", "lvl", "log.level", "levelname", "level_name"}, DefaultLogPipeline.Level.Fields, "the defaults are never changed")
}

func TestLogsRoundTrip(t *testing.T) {
	for _, f := range []string{"testdata/logs_full.good.yaml", "testdata/logs_minimal.good.yaml"} {
		l, err := loadLogsFile(t, f)
		require.NoError(t, err)
		out, err := yamlv2.Marshal(logsFile{Logs: l})
		require.NoError(t, err)
		again, err := loadLogs(t, out)
		require.NoError(t, err, string(out))
		require.Equal(t, l, again, string(out))
	}
}

func TestBadLogsConfigs(t *testing.T) {
	cases := map[string]string{
		"unknown_key":           "line 3: field jsn not found",
		"unknown_nested_key":    "line 4: field replacment not found",
		"unknown_source":        `logs.sources: unknown source "kafka": use one of otlp, loki, elastic, http, syslog`,
		"source_unknown_key":    "line 5: field levl not found",
		"source_bad_ratio":      "logs.sources.loki.sample[0].ratio 2 is outside [0, 1]",
		"syslog_listen":         `logs.syslog_listen "5514" must be HOST:PORT`,
		"no_retention":          "logs.retention: set period or max_size",
		"bad_max_size":          "unknown unit XB",
		"retention_selector":    `logs.retention.rules[0].selector "app=\"x\""`,
		"retention_rule_period": "logs.retention.rules[0].period must be a positive duration",
		"max_line_bytes":        "logs.max_line_bytes must be positive",
		"store_threads":         "logs.store.threads must not be negative",
		"bad_line_regexp":       "logs.pipeline.drop[0].line_regexp: error parsing regexp",
		"empty_drop":            "logs.pipeline.drop[0]: set at least one of selector, level, line_regexp",
		"bad_level":             `logs.pipeline.drop[0].level "verbose" is invalid: use one of trace, debug, info, warn, error, critical, unknown`,
		"bad_pattern_name":      "logs.pipeline.patterns[0]: unknown pattern %{COMBINEDAPACHELOGG}: define it in pattern_definitions",
		"bad_pattern_regexp":    "logs.pipeline.patterns[0]: error parsing regexp: missing closing )",
		"bad_pattern_field":     "logs.pipeline.patterns[0]: invalid field name in %{INT:}",
		"bad_definition_name":   `logs.pipeline.pattern_definitions: name "MY-LINE" must be letters, digits and _`,
		"ratio_range":           "logs.pipeline.sample[0].ratio 1.5 is outside [0, 1]",
		"ratio_missing":         "logs.pipeline.sample[0].ratio is required",
		"bad_layout":            `logs.pipeline.timestamp.layout "yyyy-MM-dd" is not a layout`,
		"bad_location":          `logs.pipeline.timestamp.location "Mars/Olympus_Mons"`,
		"bad_numeric":           `logs.pipeline.level.numeric "log4j" is invalid`,
		"bad_redact_pattern":    "logs.pipeline.redact.patterns[0]: error parsing regexp",
		"short_redact_key":      `logs.pipeline.redact.keys[0] "x" is too short`,
		"promote_reserved":      "logs.pipeline.promote[0] \"__name__\": label names starting with __ are reserved",
		"max_stream_labels":     "logs.pipeline.max_stream_labels must be positive",
		"bad_rule_file":         `logs.rule_files[0] "rules/[a-" is not a file name or glob`,
	}
	files, err := filepath.Glob("testdata/logs_bad/*.bad.yaml")
	require.NoError(t, err)
	require.Len(t, files, len(cases), "every bad file has an expected error and vice versa")
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".bad.yaml")
		t.Run(name, func(t *testing.T) {
			want, ok := cases[name]
			require.True(t, ok, "no expected error for %s", f)
			_, err := loadLogsFile(t, f)
			require.ErrorContains(t, err, want)
			_, err = LoadFile(f, nil)
			require.ErrorContains(t, err, want, "the loader reports the same")
			require.ErrorContains(t, err, f, "the error names the file")
		})
	}
}

func TestLoadFileLogs(t *testing.T) {
	c, err := LoadFile("testdata/logs_full.good.yaml", nil)
	require.NoError(t, err)
	want, err := loadLogsFile(t, "testdata/logs_full.good.yaml")
	require.NoError(t, err)
	abs, err := filepath.Abs("testdata")
	require.NoError(t, err)
	require.Equal(t, filepath.Join(abs, "log_rules/*.yml"), mustAbs(t, c.Logs.RuleFiles[0]), "relative to the file")
	want.RuleFiles = c.Logs.RuleFiles
	require.Equal(t, want, c.Logs)
	require.Contains(t, c.String(), "syslog_listen: 127.0.0.1:5514")

	c = Default()
	require.Equal(t, DefaultLogs, c.Logs)
}

// TestLogsListsMatchProcessing keeps the names this package validates equal
// to the ones the processing packages accept.
func TestLogsListsMatchProcessing(t *testing.T) {
	require.Equal(t, grok.Names(), slices.Sorted(maps.Keys(grokPatternNames)))
	for _, l := range timestampLayouts {
		require.NoError(t, normalize.CheckLayout(l), l)
	}
	for _, s := range numericSchemes {
		require.NoError(t, normalize.CheckNumericScheme(s), s)
	}
	require.Equal(t, []string{event.LevelTrace, event.LevelDebug, event.LevelInfo, event.LevelWarn, event.LevelError, event.LevelCritical, event.LevelUnknown}, logLevels)
	require.Equal(t, normalize.DefaultLevelFields, DefaultLogPipeline.Level.Fields)
	require.Equal(t, normalize.DefaultTraceIDFields, DefaultLogPipeline.Trace.TraceIDFields)
	require.Equal(t, normalize.DefaultSpanIDFields, DefaultLogPipeline.Trace.SpanIDFields)
	require.Equal(t, normalize.DefaultTraceparentFields, DefaultLogPipeline.Trace.TraceparentFields)
}

func TestSampleRuleRatio(t *testing.T) {
	var r LogSampleRule
	require.NoError(t, yamlv2.UnmarshalStrict([]byte("level: debug"), &r))
	require.True(t, math.IsNaN(r.Ratio), "a missing ratio is marked for validation")
	require.NoError(t, yamlv2.UnmarshalStrict([]byte("ratio: 0"), &r))
	require.Equal(t, LogSampleRule{Ratio: 0}, r, "0 is a valid ratio: drop all")
}

// FuzzLogs checks that no input crashes the logs section's decoder and that
// whatever decodes renders and decodes to the same value.
func FuzzLogs(f *testing.F) {
	files, _ := filepath.Glob("testdata/logs_*.yaml")
	bad, _ := filepath.Glob("testdata/logs_bad/*.yaml")
	for _, p := range append(files, bad...) {
		if b, err := os.ReadFile(p); err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > 16<<10 {
			return
		}
		l, err := loadLogs(t, b)
		if err != nil || l.Validate() != nil {
			// A null section ("logs:" alone) decodes to the zero value
			// without reaching UnmarshalYAML; the loader must catch it.
			return
		}
		out, err := yamlv2.Marshal(logsFile{Logs: l})
		if err != nil {
			t.Fatalf("render: %v", err)
		}
		again, err := loadLogs(t, out)
		if err != nil {
			t.Fatalf("rendered config does not load: %v\n%s", err, out)
		}
		// Compare renderings: an empty list and no list render alike.
		out2, err := yamlv2.Marshal(logsFile{Logs: again})
		require.NoError(t, err)
		require.Equal(t, string(out), string(out2))
	})
}
