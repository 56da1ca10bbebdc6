package config

import (
	"errors"
	"fmt"
	"maps"
	"math"
	"net"
	"path/filepath"
	"reflect"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/alecthomas/units"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/promql/parser"
)

// Logs configures log ingest, storage and the processing pipeline that runs
// before storage.
type Logs struct {
	// SyslogListen is the HOST:PORT of the syslog receiver; empty or "off"
	// turns it off.
	SyslogListen string `yaml:"syslog_listen,omitempty"`
	// MaxLineBytes is the longest log line stored; longer lines are cut.
	MaxLineBytes units.Base2Bytes `yaml:"max_line_bytes,omitempty"`
	// MaxBodyBytes is the largest log push request accepted, as sent.
	MaxBodyBytes units.Base2Bytes `yaml:"max_body_bytes,omitempty"`
	Retention    LogsRetention    `yaml:"retention"`
	Store        LogsStore        `yaml:"store"`
	// Pipeline processes the logs of every source without its own entry in
	// Sources.
	Pipeline LogPipeline `yaml:"pipeline"`
	// Sources holds the pipeline of each source that overrides Pipeline,
	// keyed by one of LogSourceNames. In the file a source lists only the
	// keys it changes; after loading, each entry is the complete pipeline.
	Sources map[string]LogPipeline `yaml:"sources,omitempty"`
	// RuleFiles are rule files in Prometheus' format whose expressions are
	// LogQL metric queries, as Loki's ruler reads them. Globs are allowed;
	// relative paths are relative to the directory of lookout.yml.
	RuleFiles []string `yaml:"rule_files,omitempty"`
}

// LogSourceNames are the log sources a pipeline can be configured for.
var LogSourceNames = []string{"otlp", "loki", "elastic", "http", "syslog"}

// LogsRetention says how long logs are kept.
type LogsRetention struct {
	// Period is how long logs are kept unless a rule says otherwise.
	Period model.Duration `yaml:"period"`
	// MaxSize caps the store; the oldest logs are deleted first. "10GB" is
	// read as 10 GiB, as Prometheus reads its retention size. 0 means no cap.
	MaxSize units.Base2Bytes `yaml:"max_size,omitempty"`
	// Rules keep the streams they select for another period; the first rule
	// that selects a stream applies.
	Rules []LogsRetentionRule `yaml:"rules,omitempty"`
}

// LogsRetentionRule is a retention period for the streams a selector
// chooses.
type LogsRetentionRule struct {
	// Selector is a label matcher set such as {app="billing", env=~"prod.*"}.
	Selector string         `yaml:"selector"`
	Period   model.Duration `yaml:"period"`
}

// LogsStore tunes the log store's query engine.
type LogsStore struct {
	// MemoryLimit caps the memory the store uses; 0 leaves it to the store.
	MemoryLimit units.Base2Bytes `yaml:"memory_limit,omitempty"`
	// Threads bounds the store's worker threads; 0 means one per CPU.
	Threads int `yaml:"threads,omitempty"`
}

// LogPipeline configures the processing of one source's logs. The stages
// run in a fixed order: parse, timestamp/level/trace, redact, drop/sample,
// promote (see docs/logs-pipeline.md).
type LogPipeline struct {
	// JSON extracts the fields of bodies that are JSON objects into
	// attributes, joining nested keys with "_".
	JSON bool `yaml:"json"`
	// Logfmt extracts key=value pairs.
	Logfmt bool `yaml:"logfmt"`
	// Patterns are grok expressions tried in order, such as
	// "%{COMBINEDAPACHELOG}"; the first that matches extracts its fields.
	Patterns []string `yaml:"patterns,omitempty"`
	// PatternDefinitions adds or replaces named grok patterns.
	PatternDefinitions map[string]string `yaml:"pattern_definitions,omitempty"`

	Timestamp LogTimestamp      `yaml:"timestamp"`
	Level     LogLevelDetection `yaml:"level"`
	Trace     LogTrace          `yaml:"trace"`
	Redact    LogRedact         `yaml:"redact"`

	// Drop removes the records any rule selects.
	Drop []LogDropRule `yaml:"drop,omitempty"`
	// Sample keeps a fraction of the records the first matching rule selects.
	Sample []LogSampleRule `yaml:"sample,omitempty"`
	// Promote moves these attributes into the stream labels.
	Promote []string `yaml:"promote,omitempty"`
	// MaxStreamLabels bounds a stream's label count; promotion stops there.
	MaxStreamLabels int `yaml:"max_stream_labels"`
	// StoreFields keeps the fields the parse stage extracted as structured
	// metadata. Off by default: they serve normalisation, redaction and
	// promotion, then are dropped, because the body already holds them and
	// storing them twice roughly doubles the disk used (LogQL's | json and
	// | logfmt parse them at query time, as in Loki).
	StoreFields bool `yaml:"store_fields"`
}

// LogTimestamp takes the record time from a field.
type LogTimestamp struct {
	// Field is the attribute holding the time; empty keeps the receiver's time.
	Field string `yaml:"field,omitempty"`
	// Layout is ISO8601, RFC3339, RFC3339Nano, HTTPDATE, unix, unix_ms,
	// unix_us, unix_ns, or a Go layout such as "2006-01-02 15:04:05.000".
	Layout string `yaml:"layout"`
	// Location is the IANA time zone of times written without one; empty
	// means UTC.
	Location string `yaml:"location,omitempty"`
}

// LogLevelDetection normalises the record level.
type LogLevelDetection struct {
	// Fields are the attributes the level is read from, in order.
	Fields []string `yaml:"fields"`
	// Detect looks for a level keyword in the body when no field has one.
	Detect bool `yaml:"detect"`
	// Numeric says how numbers are read: auto (also when empty), syslog,
	// otlp, pino, python or monolog.
	Numeric string `yaml:"numeric"`
}

// LogTrace extracts trace context. An empty list turns that lookup off.
type LogTrace struct {
	TraceIDFields     []string `yaml:"trace_id_fields"`
	SpanIDFields      []string `yaml:"span_id_fields"`
	TraceparentFields []string `yaml:"traceparent_fields"`
}

// LogRedact masks secrets before anything is stored.
type LogRedact struct {
	// Disabled turns redaction off for the pipeline.
	Disabled bool `yaml:"disabled,omitempty"`
	// Keys are sensitive keys in addition to the built-in list.
	Keys []string `yaml:"keys,omitempty"`
	// Patterns are RE2 regexps of values to mask; with a capture group,
	// only the first group is masked.
	Patterns []string `yaml:"patterns,omitempty"`
	// Luhn masks numbers that pass the Luhn check like card numbers.
	Luhn bool `yaml:"luhn"`
	// Replacement replaces what is masked; empty means [REDACTED].
	Replacement string `yaml:"replacement"`
}

// LogDropRule selects records to drop; every condition set must hold.
type LogDropRule struct {
	Selector   string `yaml:"selector,omitempty"`
	Level      string `yaml:"level,omitempty"`
	LineRegexp string `yaml:"line_regexp,omitempty"`
}

// LogSampleRule keeps Ratio of the records it selects.
type LogSampleRule struct {
	Selector string  `yaml:"selector,omitempty"`
	Level    string  `yaml:"level,omitempty"`
	Ratio    float64 `yaml:"ratio"`
}

// Defaults of the logs section.
var (
	DefaultLogPipeline = LogPipeline{
		JSON:      true,
		Timestamp: LogTimestamp{Layout: "ISO8601"},
		Level: LogLevelDetection{
			Fields:  []string{"level", "severity", "lvl", "log.level", "levelname", "level_name"},
			Detect:  true,
			Numeric: "auto",
		},
		Trace: LogTrace{
			TraceIDFields:     []string{"trace_id", "traceId", "traceID", "trace.id", "traceid"},
			SpanIDFields:      []string{"span_id", "spanId", "spanID", "span.id", "spanid"},
			TraceparentFields: []string{"traceparent"},
		},
		Redact:          LogRedact{Luhn: true, Replacement: "[REDACTED]"},
		MaxStreamLabels: 15,
	}
	DefaultLogs = Logs{
		MaxLineBytes: 256 * units.KiB,
		MaxBodyBytes: 16 * units.MiB,
		Retention:    LogsRetention{Period: model.Duration(720 * time.Hour)},
		Pipeline:     DefaultLogPipeline,
	}
)

// PipelineFor returns the pipeline of a source: its own entry in Sources or
// else the default Pipeline.
func (l *Logs) PipelineFor(source string) LogPipeline {
	if p, ok := l.Sources[source]; ok {
		return p
	}
	return l.Pipeline
}

// deferredPipeline keeps a source's unmarshal function so that the source
// can be decoded on top of the default pipeline once that is known. Decoding
// onto the copy keeps strictness and line numbers.
type deferredPipeline struct{ unmarshal func(any) error }

func (d *deferredPipeline) UnmarshalYAML(unmarshal func(any) error) error {
	d.unmarshal = unmarshal
	return nil
}

// plainLogPipeline decodes a LogPipeline without its UnmarshalYAML.
type plainLogPipeline LogPipeline

// UnmarshalYAML applies defaults, decodes, merges each source over the
// default pipeline, then validates.
func (l *Logs) UnmarshalYAML(unmarshal func(any) error) error {
	// logsYAML mirrors Logs with the sources left raw.
	type logsYAML struct {
		SyslogListen string                       `yaml:"syslog_listen"`
		MaxLineBytes units.Base2Bytes             `yaml:"max_line_bytes"`
		MaxBodyBytes units.Base2Bytes             `yaml:"max_body_bytes"`
		Retention    LogsRetention                `yaml:"retention"`
		Store        LogsStore                    `yaml:"store"`
		Pipeline     LogPipeline                  `yaml:"pipeline"`
		Sources      map[string]*deferredPipeline `yaml:"sources"`
		RuleFiles    []string                     `yaml:"rule_files"`
	}
	d := DefaultLogs
	raw := logsYAML{
		SyslogListen: d.SyslogListen, MaxLineBytes: d.MaxLineBytes, MaxBodyBytes: d.MaxBodyBytes,
		Retention: d.Retention, Store: d.Store, Pipeline: d.Pipeline.clone(), RuleFiles: slices.Clone(d.RuleFiles),
	}
	raw.Retention.Rules = slices.Clone(raw.Retention.Rules)
	if err := unmarshal(&raw); err != nil {
		return err
	}
	*l = Logs{
		SyslogListen: raw.SyslogListen, MaxLineBytes: raw.MaxLineBytes, MaxBodyBytes: raw.MaxBodyBytes,
		Retention: raw.Retention, Store: raw.Store, Pipeline: raw.Pipeline, RuleFiles: raw.RuleFiles,
	}
	base := DefaultLogs
	base.Pipeline = DefaultLogPipeline.clone()
	if err := restoreNulls(unmarshal, l, base); err != nil {
		return err
	}
	for _, name := range slices.Sorted(maps.Keys(raw.Sources)) {
		if !slices.Contains(LogSourceNames, name) {
			return fmt.Errorf("logs.sources: unknown source %q: use one of %s", name, strings.Join(LogSourceNames, ", "))
		}
		p := l.Pipeline.clone()
		if src := raw.Sources[name]; src != nil {
			var err error
			if p, err = decodePipeline(src.unmarshal, l.Pipeline); err != nil {
				return err
			}
		}
		if err := p.validate("logs.sources." + name); err != nil {
			return err
		}
		if l.Sources == nil {
			l.Sources = map[string]LogPipeline{}
		}
		l.Sources[name] = p
	}
	return l.Validate()
}

// Validate checks the section and says how to fix what is wrong.
func (l *Logs) Validate() error {
	if l.SyslogListen != "" && l.SyslogListen != "off" {
		host, port, err := net.SplitHostPort(l.SyslogListen)
		if err == nil {
			_, err = strconv.ParseUint(port, 10, 16)
		}
		if err != nil || strings.ContainsAny(host, " /") {
			return fmt.Errorf("logs.syslog_listen %q must be HOST:PORT such as 127.0.0.1:5514, or empty or \"off\" to turn the syslog receiver off", l.SyslogListen)
		}
	}
	for i, f := range l.RuleFiles {
		if _, err := filepath.Match(f, ""); f == "" || err != nil {
			return fmt.Errorf("logs.rule_files[%d] %q is not a file name or glob such as rules/*.yml", i, f)
		}
	}
	switch {
	case l.MaxLineBytes <= 0:
		return errors.New("logs.max_line_bytes must be positive, e.g. 256KiB")
	case l.MaxBodyBytes <= 0:
		return errors.New("logs.max_body_bytes must be positive, e.g. 16MiB")
	case l.Retention.Period < 0:
		return errors.New("logs.retention.period must not be negative")
	case l.Retention.MaxSize < 0:
		return errors.New("logs.retention.max_size must not be negative")
	case l.Retention.Period == 0 && l.Retention.MaxSize == 0:
		return errors.New("logs.retention: set period or max_size (or both); with neither, logs would grow without bound")
	case l.Store.MemoryLimit < 0:
		return errors.New("logs.store.memory_limit must not be negative; use 0 to leave it to the store")
	case l.Store.Threads < 0:
		return errors.New("logs.store.threads must not be negative; use 0 for one per CPU")
	}
	for i, r := range l.Retention.Rules {
		path := fmt.Sprintf("logs.retention.rules[%d]", i)
		if err := checkSelector(path, r.Selector); err != nil {
			return err
		}
		if r.Period <= 0 {
			return fmt.Errorf("%s.period must be a positive duration such as 24h", path)
		}
	}
	if err := l.Pipeline.validate("logs.pipeline"); err != nil {
		return err
	}
	for _, name := range slices.Sorted(maps.Keys(l.Sources)) {
		p := l.Sources[name]
		if !slices.Contains(LogSourceNames, name) {
			return fmt.Errorf("logs.sources: unknown source %q: use one of %s", name, strings.Join(LogSourceNames, ", "))
		}
		if err := p.validate("logs.sources." + name); err != nil {
			return err
		}
	}
	return nil
}

// UnmarshalYAML applies defaults, decodes, then validates.
func (p *LogPipeline) UnmarshalYAML(unmarshal func(any) error) error {
	var err error
	if *p, err = decodePipeline(unmarshal, DefaultLogPipeline); err != nil {
		return err
	}
	return p.validate("logs.pipeline")
}

// decodePipeline decodes a pipeline on top of a copy of base.
func decodePipeline(unmarshal func(any) error, base LogPipeline) (LogPipeline, error) {
	p := base.clone()
	if err := unmarshal((*plainLogPipeline)(&p)); err != nil {
		return p, err
	}
	return p, restoreNulls(unmarshal, &p, base.clone())
}

// restoreNulls gives every field of *dst whose key the YAML mapping names
// without a value ("level:" alone) its value in base: a key without a value
// means the same as an absent key. (The YAML decoder would otherwise set the
// field to its zero value without calling any UnmarshalYAML.)
func restoreNulls(unmarshal func(any) error, dst, base any) error {
	var keys map[string]any
	if err := unmarshal(&keys); err != nil {
		return err
	}
	d, b := reflect.ValueOf(dst).Elem(), reflect.ValueOf(base)
	for i := 0; i < d.NumField(); i++ {
		name, _, _ := strings.Cut(d.Type().Field(i).Tag.Get("yaml"), ",")
		if v, ok := keys[name]; ok && v == nil {
			d.Field(i).Set(b.Field(i))
		}
	}
	return nil
}

// Validate checks the pipeline and says how to fix what is wrong.
func (p *LogPipeline) Validate() error { return p.validate("logs.pipeline") }

// clone copies p so that decoding into the copy cannot change p.
func (p LogPipeline) clone() LogPipeline {
	c := p
	c.Patterns = slices.Clone(p.Patterns)
	c.PatternDefinitions = maps.Clone(p.PatternDefinitions)
	c.Level.Fields = slices.Clone(p.Level.Fields)
	c.Trace.TraceIDFields = slices.Clone(p.Trace.TraceIDFields)
	c.Trace.SpanIDFields = slices.Clone(p.Trace.SpanIDFields)
	c.Trace.TraceparentFields = slices.Clone(p.Trace.TraceparentFields)
	c.Redact.Keys = slices.Clone(p.Redact.Keys)
	c.Redact.Patterns = slices.Clone(p.Redact.Patterns)
	c.Drop = slices.Clone(p.Drop)
	c.Sample = slices.Clone(p.Sample)
	c.Promote = slices.Clone(p.Promote)
	return c
}

// logLevels are the normalised levels rules may name.
var logLevels = []string{"trace", "debug", "info", "warn", "error", "critical", "unknown"}

// timestampLayouts are the named layouts; anything else must be a Go layout.
var timestampLayouts = []string{"ISO8601", "RFC3339", "RFC3339Nano", "HTTPDATE", "unix", "unix_ms", "unix_us", "unix_ns"}

var numericSchemes = []string{"auto", "syslog", "otlp", "pino", "python", "monolog"}

func (p *LogPipeline) validate(path string) error {
	for name, def := range p.PatternDefinitions {
		if !isPatternName(name) {
			return fmt.Errorf("%s.pattern_definitions: name %q must be letters, digits and _ (e.g. MYAPP_LINE)", path, name)
		}
		if err := checkGrok(def, p.PatternDefinitions); err != nil {
			return fmt.Errorf("%s.pattern_definitions.%s: %w", path, name, err)
		}
	}
	for i, expr := range p.Patterns {
		if err := checkGrok(expr, p.PatternDefinitions); err != nil {
			return fmt.Errorf("%s.patterns[%d]: %w", path, i, err)
		}
	}
	if err := p.Timestamp.validate(path + ".timestamp"); err != nil {
		return err
	}
	for i, f := range p.Level.Fields {
		if strings.TrimSpace(f) == "" {
			return fmt.Errorf("%s.level.fields[%d] is empty: name an attribute such as level", path, i)
		}
	}
	if p.Level.Numeric != "" && !slices.Contains(numericSchemes, p.Level.Numeric) {
		return fmt.Errorf("%s.level.numeric %q is invalid: use one of %s", path, p.Level.Numeric, strings.Join(numericSchemes, ", "))
	}
	for _, fields := range [][]string{p.Trace.TraceIDFields, p.Trace.SpanIDFields, p.Trace.TraceparentFields} {
		if slices.Contains(fields, "") {
			return fmt.Errorf("%s.trace: field names must not be empty", path)
		}
	}
	if err := p.Redact.validate(path + ".redact"); err != nil {
		return err
	}
	for i, d := range p.Drop {
		rp := fmt.Sprintf("%s.drop[%d]", path, i)
		if d.Selector == "" && d.Level == "" && d.LineRegexp == "" {
			return fmt.Errorf("%s: set at least one of selector, level, line_regexp; an empty rule would drop every record", rp)
		}
		if err := checkRule(rp, d.Selector, d.Level); err != nil {
			return err
		}
		if d.LineRegexp != "" {
			if _, err := regexp.Compile(d.LineRegexp); err != nil {
				return fmt.Errorf("%s.line_regexp: %w: fix the RE2 syntax (https://github.com/google/re2/wiki/Syntax)", rp, err)
			}
		}
	}
	for i, s := range p.Sample {
		rp := fmt.Sprintf("%s.sample[%d]", path, i)
		if math.IsNaN(s.Ratio) {
			return fmt.Errorf("%s.ratio is required: set the fraction of records to keep, e.g. 0.1", rp)
		}
		if s.Ratio < 0 || s.Ratio > 1 {
			return fmt.Errorf("%s.ratio %v is outside [0, 1]: 0.1 keeps one record in ten", rp, s.Ratio)
		}
		if err := checkRule(rp, s.Selector, s.Level); err != nil {
			return err
		}
	}
	for i, a := range p.Promote {
		if a == "" {
			return fmt.Errorf("%s.promote[%d] is empty: name an attribute such as service", path, i)
		}
		if strings.HasPrefix(a, "__") {
			return fmt.Errorf("%s.promote[%d] %q: label names starting with __ are reserved", path, i, a)
		}
	}
	if p.MaxStreamLabels <= 0 {
		return fmt.Errorf("%s.max_stream_labels must be positive, e.g. 15", path)
	}
	return nil
}

func (t *LogTimestamp) validate(path string) error {
	if t.Layout != "" && !slices.Contains(timestampLayouts, t.Layout) {
		ref := time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC) // differs from the reference time in every element
		if ref.Format(t.Layout) == t.Layout {
			return fmt.Errorf("%s.layout %q is not a layout: use one of %s, or a Go layout such as \"2006-01-02 15:04:05.000\"",
				path, t.Layout, strings.Join(timestampLayouts, ", "))
		}
	}
	if t.Location != "" {
		if _, err := time.LoadLocation(t.Location); err != nil {
			return fmt.Errorf("%s.location %q: %w: use an IANA zone name such as Europe/Berlin", path, t.Location, err)
		}
	}
	return nil
}

func (r *LogRedact) validate(path string) error {
	for i, k := range r.Keys {
		n := 0
		for j := 0; j < len(k); j++ {
			if c := k[j]; c != '-' && c != '_' && c != '.' && c != ' ' {
				n++
			}
		}
		if n < 2 {
			return fmt.Errorf("%s.keys[%d] %q is too short: a key needs at least two letters or digits", path, i, k)
		}
	}
	for i, pat := range r.Patterns {
		if _, err := regexp.Compile(pat); err != nil {
			return fmt.Errorf("%s.patterns[%d]: %w: fix the RE2 syntax (https://github.com/google/re2/wiki/Syntax)", path, i, err)
		}
	}
	return nil
}

// UnmarshalYAML decodes a sample rule, marking a missing ratio so that
// validation can ask for it.
func (s *LogSampleRule) UnmarshalYAML(unmarshal func(any) error) error {
	var raw struct {
		Selector string   `yaml:"selector"`
		Level    string   `yaml:"level"`
		Ratio    *float64 `yaml:"ratio"`
	}
	if err := unmarshal(&raw); err != nil {
		return err
	}
	*s = LogSampleRule{Selector: raw.Selector, Level: raw.Level, Ratio: math.NaN()}
	if raw.Ratio != nil {
		s.Ratio = *raw.Ratio
	}
	return nil
}

func checkRule(path, selector, level string) error {
	if selector != "" {
		if err := checkSelector(path, selector); err != nil {
			return err
		}
	}
	if level != "" && !slices.Contains(logLevels, level) {
		return fmt.Errorf("%s.level %q is invalid: use one of %s", path, level, strings.Join(logLevels, ", "))
	}
	return nil
}

func checkSelector(path, sel string) error {
	if strings.TrimSpace(sel) == "" {
		return fmt.Errorf("%s.selector is empty: write a label matcher set such as {app=\"billing\"}", path)
	}
	if _, err := parser.NewParser(parser.Options{}).ParseMetricSelector(sel); err != nil {
		return fmt.Errorf("%s.selector %q: %w: write a label matcher set such as {app=\"billing\", env=~\"prod.*\"}", path, sel, err)
	}
	return nil
}

// grokRef finds %{NAME}, %{NAME:field} and %{NAME:field:type} references.
var grokRef = regexp.MustCompile(`%\{([^}]*)\}`)

// checkGrok checks a grok expression: every reference is well formed and
// names a built-in or defined pattern, and the text around the references
// is valid RE2. internal/process/grok compiles the expression for real.
func checkGrok(expr string, defs map[string]string) error {
	var firstErr error
	rest := grokRef.ReplaceAllStringFunc(expr, func(m string) string {
		parts := strings.SplitN(m[2:len(m)-1], ":", 3)
		switch {
		case firstErr != nil:
		case !isPatternName(parts[0]):
			firstErr = fmt.Errorf("invalid pattern reference %s: write %%{NAME} or %%{NAME:field}", m)
		case !grokPatternNames[parts[0]] && !hasKey(defs, parts[0]):
			firstErr = fmt.Errorf("unknown pattern %%{%s}: define it in pattern_definitions or use a built-in one such as IPORHOST, HTTPDATE, COMBINEDAPACHELOG or GREEDYDATA (see docs/logs-pipeline.md)", parts[0])
		case len(parts) > 1 && (parts[1] == "" || strings.ContainsAny(parts[1], " \t")):
			firstErr = fmt.Errorf("invalid field name in %s: use %%{NAME:field} with a field name without spaces", m)
		case len(parts) > 2 && parts[2] != "int" && parts[2] != "float":
			firstErr = fmt.Errorf("invalid type in %s: only int and float are accepted", m)
		}
		return "(?:)"
	})
	if firstErr != nil {
		return firstErr
	}
	if strings.Contains(rest, "%{") {
		return errors.New("unclosed %{: write %{NAME} or %{NAME:field}")
	}
	if _, err := regexp.Compile(rest); err != nil {
		return fmt.Errorf("%w: fix the RE2 syntax around the %%{…} references", err)
	}
	return nil
}

func hasKey(m map[string]string, k string) bool {
	_, ok := m[k]
	return ok
}

func isPatternName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// grokPatternNames are the names of internal/process/grok's built-in
// patterns; a test in internal/process keeps the two lists equal.
var grokPatternNames = map[string]bool{
	"BASE10NUM": true, "BASE16NUM": true, "COMBINEDAPACHELOG": true, "COMMONAPACHELOG": true, "DATA": true,
	"DAY": true, "EMAILADDRESS": true, "GREEDYDATA": true, "HOSTNAME": true, "HOSTPORT": true, "HOUR": true,
	"HTTPDATE": true, "HTTPDUSER": true, "INT": true, "IP": true, "IPORHOST": true, "IPV4": true, "IPV6": true,
	"ISO8601_TIMEZONE": true, "LOGLEVEL": true, "MAC": true, "MINUTE": true, "MONTH": true, "MONTHDAY": true,
	"MONTHNUM": true, "NONNEGINT": true, "NOTSPACE": true, "NUMBER": true, "PATH": true, "POSINT": true,
	"QS": true, "QUOTEDSTRING": true, "SECOND": true, "SPACE": true, "SYSLOGTIMESTAMP": true, "TIME": true,
	"TIMESTAMP_ISO8601": true, "UNIXPATH": true, "URI": true, "URIHOST": true, "URIPARAM": true,
	"URIPATH": true, "URIPATHPARAM": true, "URIPROTO": true, "URIQUERY": true, "USER": true, "USERNAME": true,
	"UUID": true, "WORD": true, "YEAR": true,
}
