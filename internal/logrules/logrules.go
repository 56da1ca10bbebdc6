// Package logrules evaluates Loki ruler files (Prometheus rule-group syntax
// with LogQL expressions) on the Prometheus rules manager: alerting rules
// fire through the same notify path as metric rules, recording rules write
// their results into the metrics store, and ALERTS / ALERTS_FOR_STATE series
// and alert-state restore work as for metric rules.
//
// The rules manager only needs three things from an expression: that it
// parses, its string form (which it hands back to the query function), and
// no dependency analysis. logExpr provides exactly that, so the manager never
// interprets LogQL itself.
package logrules

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"path/filepath"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/rulefmt"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/promql/parser/posrange"
	"github.com/prometheus/prometheus/rules"
	"github.com/prometheus/prometheus/storage"
)

// ValidateFunc checks that a LogQL expression parses and is a metric query.
type ValidateFunc func(expr string) error

// Options configures the log rules manager.
type Options struct {
	Appendable storage.Appendable
	Queryable  storage.Queryable
	// Query runs a LogQL metric query at one instant.
	Query    rules.QueryFunc
	Validate ValidateFunc
	Notify   rules.NotifyFunc
	Logger   *slog.Logger
	// Registerer gets the rules manager's metrics, labelled ruler="logs"
	// so that they sit beside the metric rules manager's.
	Registerer prometheus.Registerer

	_ struct{}
}

// New returns a rules manager for LogQL rule files. Call Update to load
// files, Run to start it, Stop to stop it.
func New(ctx context.Context, o Options) *rules.Manager {
	reg := o.Registerer
	if reg != nil {
		reg = prometheus.WrapRegistererWith(prometheus.Labels{"ruler": "logs"}, reg)
	}
	p := &logParser{Parser: parser.NewParser(parser.Options{}), validate: o.Validate}
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	return rules.NewManager(&rules.ManagerOptions{
		Appendable:               o.Appendable,
		Queryable:                o.Queryable,
		QueryFunc:                o.Query,
		NotifyFunc:               o.Notify,
		Context:                  ctx,
		Logger:                   o.Logger,
		Registerer:               reg,
		GroupLoader:              loader{p: p, logger: o.Logger},
		RuleDependencyController: noDependencies{},
		OutageTolerance:          time.Hour,
		ForGracePeriod:           10 * time.Minute,
		ResendDelay:              time.Minute,
		DefaultRuleQueryOffset:   func() time.Duration { return 0 },
		ConcurrentEvalsEnabled:   false,
		MaxConcurrentEvals:       1,
		RestoreNewRuleGroups:     false,
		NameValidationScheme:     model.UTF8Validation,
	})
}

// CheckFile parses and validates one rule file, returning every error with
// its position.
func CheckFile(file string, validate ValidateFunc) []error {
	p := &logParser{Parser: parser.NewParser(parser.Options{}), validate: validate}
	_, errs := rulefmt.ParseFile(file, false, model.UTF8Validation, p, slog.New(slog.DiscardHandler))
	return errs
}

// loader reads rule files with rulefmt (so errors carry file:line) and
// parses expressions as LogQL.
type loader struct {
	p      *logParser
	logger *slog.Logger
}

func (l loader) Load(identifier string, ignoreUnknownFields bool, scheme model.ValidationScheme) (*rulefmt.RuleGroups, []error) {
	return rulefmt.ParseFile(identifier, ignoreUnknownFields, scheme, l.p, l.logger)
}

func (l loader) Parse(query string) (parser.Expr, error) { return l.p.ParseExpr(query) }

// logParser is a PromQL parser whose ParseExpr accepts LogQL instead.
type logParser struct {
	parser.Parser
	validate ValidateFunc
}

func (p *logParser) ParseExpr(input string) (parser.Expr, error) {
	if err := p.validate(input); err != nil {
		return nil, err
	}
	return logExpr(input), nil
}

// logExpr carries a LogQL expression through the rules manager unchanged.
type logExpr string

func (e logExpr) String() string    { return string(e) }
func (e logExpr) Pretty(int) string { return string(e) }
func (e logExpr) PositionRange() posrange.PositionRange {
	return posrange.PositionRange{End: posrange.Pos(len(e))}
}
func (e logExpr) Type() parser.ValueType { return parser.ValueTypeVector }
func (e logExpr) PromQLExpr()            {}

// noDependencies marks every rule as independent without walking its
// expression (which is LogQL, not a PromQL AST).
type noDependencies struct{}

func (noDependencies) AnalyseRules([]rules.Rule) {}

// CheckFiles expands the globs and checks every file as CheckFile does,
// returning all errors, each naming its file and position.
func CheckFiles(globs []string, validate ValidateFunc) error {
	var errs []error
	for _, g := range globs {
		files, err := filepath.Glob(g)
		if err != nil {
			errs = append(errs, fmt.Errorf("rule file pattern %q: %w", g, err))
			continue
		}
		for _, f := range files {
			for _, err := range CheckFile(f, validate) {
				errs = append(errs, fmt.Errorf("%s: %w", f, err))
			}
		}
	}
	return errors.Join(errs...)
}
