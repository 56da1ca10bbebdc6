// Package config loads lookout.yml: Prometheus' own sections, parsed by
// Prometheus' config package, beside Lookout's sections.
//
// Every valid prometheus.yml is a valid lookout.yml. The loader splits the
// file by top-level key: Prometheus keys go to promconfig.Load, Lookout keys
// are decoded strictly into this package's structs. Lines that belong to the
// other half are blanked rather than removed, so every error message still
// names the line of the original file.
package config

import (
	"bytes"
	"errors"
	"fmt"
	"log/slog"
	"maps"
	"os"
	"path/filepath"
	"reflect"
	"slices"
	"strings"
	"time"

	"github.com/alecthomas/units"
	commoncfg "github.com/prometheus/common/config"
	"github.com/prometheus/common/model"
	promconfig "github.com/prometheus/prometheus/config"
	_ "github.com/prometheus/prometheus/discovery/install" // every SD mechanism a prometheus.yml may name
	yamlv2 "go.yaml.in/yaml/v2"
	yamlv3 "go.yaml.in/yaml/v3"
)

// Config is the whole lookout.yml. Callers treat a loaded Config as read-only.
type Config struct {
	// Prometheus holds the Prometheus sections (global, scrape_configs,
	// rule_files, alerting, remote_write, remote_read, storage, tracing, otlp,
	// runtime, scrape_config_files) with Prometheus' defaults and meaning.
	Prometheus *promconfig.Config `yaml:"-"`

	Server  Server  `yaml:"server,omitempty"`
	Auth    Auth    `yaml:"auth,omitempty"`
	Metrics Metrics `yaml:"metrics,omitempty"`
	Ingest  Ingest  `yaml:"ingest,omitempty"`
	// Alertmanager configures where alerts from rules are routed.
	Alertmanager Alertmanager `yaml:"alertmanager,omitempty"`
	// Logs configures log ingest, processing, storage and log rules.
	Logs Logs `yaml:"logs,omitempty"`

	// Source is the file the config was loaded from, empty for the built-in default.
	Source string `yaml:"-"`
}

// prometheusKeys are the top-level keys owned by Prometheus' config package.
var prometheusKeys = map[string]bool{
	"global": true, "runtime": true, "alerting": true, "rule_files": true,
	"scrape_config_files": true, "scrape_configs": true, "storage": true,
	"tracing": true, "remote_write": true, "remote_read": true, "otlp": true,
}

// lookoutKeys are the top-level keys owned by this package.
var lookoutKeys = map[string]bool{"server": true, "auth": true, "metrics": true, "ingest": true, "alertmanager": true, "logs": true}

// Server configures the listeners.
type Server struct {
	// Listen is the address of the UI, the HTTP APIs and HTTP ingest.
	Listen string `yaml:"listen,omitempty"`
	// OTLPGRPCListen and OTLPHTTPListen are the OTLP receivers' addresses;
	// an empty string after defaults disables nothing: use "off" to disable.
	OTLPGRPCListen string `yaml:"otlp_grpc_listen,omitempty"`
	OTLPHTTPListen string `yaml:"otlp_http_listen,omitempty"`
	// InsecureNoAuth allows listening on non-loopback addresses without
	// authentication configured.
	InsecureNoAuth bool `yaml:"insecure_no_auth,omitempty"`
	// ReadTimeout bounds reading a whole request, body included.
	ReadTimeout model.Duration `yaml:"read_timeout,omitempty"`
	// WriteTimeout bounds writing a response; it must exceed the query timeout.
	WriteTimeout model.Duration `yaml:"write_timeout,omitempty"`
	// LogLevel is one of debug, info, warn, error.
	LogLevel string `yaml:"log_level,omitempty"`
	// ConfigWatchInterval is how often the config file, the rule files and
	// the Alertmanager config are checked for changes, which reload them;
	// 0 turns watching off (SIGHUP and /-/reload still work).
	ConfigWatchInterval model.Duration `yaml:"config_watch_interval,omitempty"`
}

// Auth configures who may call the APIs and ingest endpoints. With neither
// tokens nor users configured, authentication is off.
type Auth struct {
	// BearerTokens are accepted in "Authorization: Bearer <token>".
	BearerTokens []BearerToken `yaml:"bearer_tokens,omitempty"`
	// BasicAuthUsers maps a user name to a bcrypt hash of its password.
	BasicAuthUsers map[string]commoncfg.Secret `yaml:"basic_auth_users,omitempty"`
}

// BearerToken is one API token.
type BearerToken struct {
	// Name identifies the token in logs; the token itself is never logged.
	Name      string           `yaml:"name"`
	Token     commoncfg.Secret `yaml:"token,omitempty"`
	TokenFile string           `yaml:"token_file,omitempty"`
}

// Enabled reports whether any credential is configured.
func (a Auth) Enabled() bool { return len(a.BearerTokens) > 0 || len(a.BasicAuthUsers) > 0 }

// Metrics configures the embedded TSDB and PromQL engine. The out-of-order
// window stays in Prometheus' storage.tsdb.out_of_order_time_window.
type Metrics struct {
	RetentionTime  model.Duration   `yaml:"retention_time,omitempty"`
	RetentionSize  units.Base2Bytes `yaml:"retention_size,omitempty"`
	WALCompression bool             `yaml:"wal_compression"`

	QueryTimeout        model.Duration `yaml:"query_timeout,omitempty"`
	QueryMaxSamples     int            `yaml:"query_max_samples,omitempty"`
	QueryMaxConcurrency int            `yaml:"query_max_concurrency,omitempty"`
	LookbackDelta       model.Duration `yaml:"lookback_delta,omitempty"`

	// SelfScrape adds a scrape job "lookout" for the server's own /metrics.
	SelfScrape         bool           `yaml:"self_scrape"`
	SelfScrapeInterval model.Duration `yaml:"self_scrape_interval,omitempty"`
}

// Ingest bounds what the ingest endpoints accept.
type Ingest struct {
	// MaxBodyBytes is the largest request body accepted, as sent (compressed).
	MaxBodyBytes units.Base2Bytes `yaml:"max_body_bytes,omitempty"`
	// MaxConcurrentRequests bounds ingest requests in flight; the rest get
	// 429 or 503 with Retry-After.
	MaxConcurrentRequests int `yaml:"max_concurrent_requests,omitempty"`
	// QueueWait is how long a request waits for a free slot before it is refused.
	QueueWait model.Duration `yaml:"queue_wait,omitempty"`
}

// Defaults for each section.
var (
	DefaultServer = Server{
		Listen:         "127.0.0.1:9900",
		OTLPGRPCListen: "127.0.0.1:4317",
		OTLPHTTPListen: "127.0.0.1:4318",
		ReadTimeout:    model.Duration(5 * time.Minute),
		WriteTimeout:   model.Duration(5 * time.Minute),
		LogLevel:       "info",

		ConfigWatchInterval: model.Duration(10 * time.Second),
	}
	DefaultMetrics = Metrics{
		RetentionTime:       model.Duration(15 * 24 * time.Hour),
		WALCompression:      true,
		QueryTimeout:        model.Duration(2 * time.Minute),
		QueryMaxSamples:     50_000_000,
		QueryMaxConcurrency: 20,
		LookbackDelta:       model.Duration(5 * time.Minute),
		SelfScrape:          true,
		SelfScrapeInterval:  model.Duration(15 * time.Second),
	}
	DefaultIngest = Ingest{
		MaxBodyBytes:          32 * units.MiB,
		MaxConcurrentRequests: 16,
		QueueWait:             model.Duration(2 * time.Second),
	}
)

// UnmarshalYAML applies defaults, decodes, then validates.
func (s *Server) UnmarshalYAML(unmarshal func(any) error) error {
	*s = DefaultServer
	type plain Server
	if err := unmarshal((*plain)(s)); err != nil {
		return err
	}
	return s.Validate()
}

// Validate checks the section and says how to fix what is wrong.
func (s *Server) Validate() error {
	if s.Listen == "" {
		return errors.New("server.listen must not be empty: set it to HOST:PORT, e.g. 127.0.0.1:9900")
	}
	switch s.LogLevel {
	case "debug", "info", "warn", "error":
	default:
		return fmt.Errorf("server.log_level %q is invalid: use one of debug, info, warn, error", s.LogLevel)
	}
	if s.ConfigWatchInterval < 0 {
		return errors.New("server.config_watch_interval must not be negative; use 0 to turn watching off")
	}
	if s.ReadTimeout <= 0 || s.WriteTimeout <= 0 {
		return errors.New("server.read_timeout and server.write_timeout must be positive durations such as 5m")
	}
	return nil
}

// UnmarshalYAML decodes and validates the section.
func (a *Auth) UnmarshalYAML(unmarshal func(any) error) error {
	*a = Auth{}
	type plain Auth
	if err := unmarshal((*plain)(a)); err != nil {
		return err
	}
	return a.Validate()
}

// Validate checks the section and says how to fix what is wrong.
func (a *Auth) Validate() error {
	names := map[string]bool{}
	for i, t := range a.BearerTokens {
		if t.Name == "" {
			return fmt.Errorf("auth.bearer_tokens[%d]: name is required (it identifies the token in logs)", i)
		}
		if names[t.Name] {
			return fmt.Errorf("auth.bearer_tokens[%d]: name %q is used twice", i, t.Name)
		}
		names[t.Name] = true
		if (t.Token == "") == (t.TokenFile == "") {
			return fmt.Errorf("auth.bearer_tokens[%d] (%s): exactly one of token or token_file must be configured", i, t.Name)
		}
		if t.Token != "" && len(t.Token) < 16 {
			return fmt.Errorf("auth.bearer_tokens[%d] (%s): token is shorter than 16 characters", i, t.Name)
		}
	}
	for user, hash := range a.BasicAuthUsers {
		if user == "" || strings.Contains(user, ":") {
			return fmt.Errorf("auth.basic_auth_users: user name %q must be non-empty and contain no colon", user)
		}
		if !strings.HasPrefix(string(hash), "$2") {
			return fmt.Errorf("auth.basic_auth_users.%s: the password must be a bcrypt hash (starting with $2), e.g. from `htpasswd -nbBC 10 USER PASSWORD`", user)
		}
	}
	return nil
}

// UnmarshalYAML applies defaults, decodes, then validates.
func (m *Metrics) UnmarshalYAML(unmarshal func(any) error) error {
	*m = DefaultMetrics
	type plain Metrics
	if err := unmarshal((*plain)(m)); err != nil {
		return err
	}
	return m.Validate()
}

// Validate checks the section and says how to fix what is wrong.
func (m *Metrics) Validate() error {
	switch {
	case m.RetentionTime < 0:
		return errors.New("metrics.retention_time must not be negative")
	case m.RetentionTime == 0 && m.RetentionSize == 0:
		return errors.New("metrics: set retention_time or retention_size (or both); with neither, data would grow without bound")
	case m.QueryTimeout <= 0:
		return errors.New("metrics.query_timeout must be a positive duration such as 2m")
	case m.QueryMaxSamples <= 0:
		return errors.New("metrics.query_max_samples must be positive")
	case m.QueryMaxConcurrency <= 0:
		return errors.New("metrics.query_max_concurrency must be positive")
	case m.LookbackDelta <= 0:
		return errors.New("metrics.lookback_delta must be a positive duration such as 5m")
	case m.SelfScrape && m.SelfScrapeInterval <= 0:
		return errors.New("metrics.self_scrape_interval must be positive when self_scrape is on")
	}
	return nil
}

// UnmarshalYAML applies defaults, decodes, then validates.
func (in *Ingest) UnmarshalYAML(unmarshal func(any) error) error {
	*in = DefaultIngest
	type plain Ingest
	if err := unmarshal((*plain)(in)); err != nil {
		return err
	}
	return in.Validate()
}

// Validate checks the section and says how to fix what is wrong.
func (in *Ingest) Validate() error {
	switch {
	case in.MaxBodyBytes <= 0:
		return errors.New("ingest.max_body_bytes must be positive, e.g. 32MiB")
	case in.MaxConcurrentRequests <= 0:
		return errors.New("ingest.max_concurrent_requests must be positive")
	case in.QueueWait < 0:
		return errors.New("ingest.queue_wait must not be negative")
	}
	return nil
}

// Default returns the configuration used when no file is given.
func Default() *Config {
	c, err := Load(nil, nil)
	if err != nil {
		panic("BUG: default config does not load: " + err.Error())
	}
	return c
}

// LoadFile reads and loads a lookout.yml. Relative paths inside it are
// resolved against the file's directory, as Prometheus does.
func LoadFile(filename string, logger *slog.Logger) (*Config, error) {
	content, err := os.ReadFile(filename)
	if err != nil {
		return nil, fmt.Errorf("read config: %w", err)
	}
	c, err := load(content, filepath.Dir(filename), logger)
	if err != nil {
		return nil, fmt.Errorf("parse %s: %w", filename, err)
	}
	c.Prometheus.SetDirectory(filepath.Dir(filename))
	for i, t := range c.Auth.BearerTokens {
		if t.TokenFile != "" {
			c.Auth.BearerTokens[i].TokenFile = commoncfg.JoinDir(filepath.Dir(filename), t.TokenFile)
		}
	}
	c.Source = filename
	return c, nil
}

// Load parses a lookout.yml held in memory; relative paths in it are
// relative to the working directory.
func Load(content []byte, logger *slog.Logger) (*Config, error) {
	return load(content, ".", logger)
}

func load(content []byte, dir string, logger *slog.Logger) (*Config, error) {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	ranges, err := topLevelRanges(content)
	if err != nil {
		return nil, err
	}
	var promRanges, ownRanges []lineRange
	for _, r := range ranges {
		switch {
		case prometheusKeys[r.key]:
			promRanges = append(promRanges, r)
		case lookoutKeys[r.key]:
			ownRanges = append(ownRanges, r)
		default:
			return nil, fmt.Errorf("line %d: unknown top-level key %q: Lookout accepts Prometheus' sections (%s) and its own (%s)",
				r.start, r.key, keyList(prometheusKeys), keyList(lookoutKeys))
		}
	}
	pc, err := promconfig.Load(string(blankLines(content, ownRanges)), logger)
	if err != nil {
		return nil, err
	}
	c := &Config{
		Prometheus:   pc,
		Server:       DefaultServer,
		Metrics:      DefaultMetrics,
		Ingest:       DefaultIngest,
		Alertmanager: DefaultAlertmanager,
		Logs:         DefaultLogs,
	}
	if err := yamlv2.UnmarshalStrict(blankLines(content, promRanges), c); err != nil {
		return nil, err
	}
	if err := c.Alertmanager.resolve(dir); err != nil {
		return nil, err
	}
	if reflect.ValueOf(c.Logs).IsZero() { // "logs:" with nothing under it
		c.Logs = DefaultLogs
	}
	for i, f := range c.Logs.RuleFiles {
		c.Logs.RuleFiles[i] = commoncfg.JoinDir(dir, f)
	}
	return c, nil
}

// String renders the config as YAML with secrets shown as <secret>.
func (c *Config) String() string {
	own, err := yamlv2.Marshal(c)
	if err != nil {
		return fmt.Sprintf("<error rendering config: %s>", err)
	}
	return c.Prometheus.String() + string(own)
}

type lineRange struct {
	key        string
	start, end int // 1-based, inclusive; end 0 means to the end of the file
}

// topLevelRanges returns the lines each top-level key spans.
func topLevelRanges(content []byte) ([]lineRange, error) {
	var doc yamlv3.Node
	if err := yamlv3.Unmarshal(content, &doc); err != nil {
		return nil, fmt.Errorf("invalid YAML: %w", err)
	}
	if doc.Kind == 0 || len(doc.Content) == 0 {
		return nil, nil
	}
	root := doc.Content[0]
	if root.Kind == yamlv3.ScalarNode && root.Tag == "!!null" {
		return nil, nil
	}
	if root.Kind != yamlv3.MappingNode {
		return nil, fmt.Errorf("line %d: the config must be a mapping of sections such as global: and scrape_configs:", root.Line)
	}
	if root.Style&yamlv3.FlowStyle != 0 {
		return nil, fmt.Errorf("line %d: write the top level of the config in block style, one section per line", root.Line)
	}
	var out []lineRange
	seen := map[string]int{}
	for i := 0; i+1 < len(root.Content); i += 2 {
		k := root.Content[i]
		if prev, dup := seen[k.Value]; dup {
			return nil, fmt.Errorf("line %d: section %q already defined at line %d", k.Line, k.Value, prev)
		}
		seen[k.Value] = k.Line
		out = append(out, lineRange{key: k.Value, start: k.Line})
	}
	for i := range out {
		if i+1 < len(out) {
			out[i].end = out[i+1].start - 1
		}
	}
	return out, nil
}

// blankLines empties the given line ranges, keeping the line count so that
// the decoder's line numbers still match the original file.
func blankLines(content []byte, ranges []lineRange) []byte {
	if len(ranges) == 0 {
		return content
	}
	lines := bytes.SplitAfter(content, []byte("\n"))
	for _, r := range ranges {
		end := r.end
		if end == 0 || end > len(lines) {
			end = len(lines)
		}
		for i := r.start - 1; i < end; i++ {
			if bytes.HasSuffix(lines[i], []byte("\n")) {
				lines[i] = []byte("\n")
			} else {
				lines[i] = nil
			}
		}
	}
	return bytes.Join(lines, nil)
}

func keyList(m map[string]bool) string {
	return strings.Join(slices.Sorted(maps.Keys(m)), ", ")
}
