package logql

import (
	"regexp/syntax"
	"strings"

	"github.com/grafana/regexp"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/lookout-dev/lookout/internal/event"
	"github.com/lookout-dev/lookout/internal/eventstore"
)

// selectorPlan splits a log selector into the part the store evaluates
// (stream matchers, level matchers and line filters) and the stages left for
// the Go pipeline.
type selectorPlan struct {
	sel    eventstore.Selector // Kind, Start and End are set by the caller
	stages []Stage             // what the store does not do, in order
}

// pushedAll reports whether the store evaluates the whole pipeline.
func (p *selectorPlan) pushedAll() bool { return len(p.stages) == 0 }

// planSelector pushes into the store every stage that commutes with the
// stages before it:
//   - a line filter, unless a stage before it rewrote the line (line_format,
//     decolorize, unpack); pattern filters stay in Go;
//   - conjuncts of a label filter that compare event.LevelLabel as a
//     string, unless a stage before them changed labels (a parser,
//     label_format, drop, keep).
//
// Filters only drop records, so moving one ahead of stages that neither
// change what it reads nor depend on the dropped records keeps the result.
// Stages from unwrap on are never pushed.
func planSelector(e *LogSelectorExpr, push bool) selectorPlan {
	p := selectorPlan{sel: eventstore.Selector{Matchers: e.Matchers}}
	if !push {
		p.stages = e.Stages
		return p
	}
	lineChanged, labelsChanged, unwrapped := false, false, false
	for _, s := range e.Stages {
		if unwrapped {
			p.stages = append(p.stages, s)
			continue
		}
		switch s := s.(type) {
		case *LineFilter:
			if !lineChanged {
				if lfs, ok := pushLineFilter(s); ok {
					p.sel.LineFilters = append(p.sel.LineFilters, lfs...)
					continue
				}
			}
		case *LabelFilter:
			if !labelsChanged {
				pushed, rest := splitLevelFilter(s.Expr)
				p.sel.Level = append(p.sel.Level, pushed...)
				if rest != nil {
					p.stages = append(p.stages, &LabelFilter{Expr: rest})
				}
				continue
			}
		case *LineFormat, *Decolorize:
			lineChanged = true
		case *UnpackParser:
			lineChanged, labelsChanged = true, true
		case *JSONParser, *LogfmtParser, *RegexpParser, *PatternParser, *LabelFormat, *DropLabels, *KeepLabels:
			labelsChanged = true
		case *Unwrap:
			unwrapped = true
		}
		p.stages = append(p.stages, s)
	}
	return p
}

// pushLineFilter translates a line filter into store filters. Or-ed values
// become one regexp for the positive operators and one filter per value for
// the negative ones.
func pushLineFilter(f *LineFilter) ([]eventstore.LineFilter, bool) {
	switch f.Op {
	case LineContains, LineMatchRegexp:
		op := eventstore.LineContains
		if f.Op == LineMatchRegexp {
			op = eventstore.LineRegexp
		}
		if len(f.Values) == 1 {
			return []eventstore.LineFilter{{Op: op, Value: f.Values[0]}}, true
		}
		alts := make([]string, len(f.Values))
		for i, v := range f.Values {
			if f.Op == LineContains {
				v = regexp.QuoteMeta(v)
			}
			alts[i] = "(?:" + v + ")"
		}
		return []eventstore.LineFilter{{Op: eventstore.LineRegexp, Value: strings.Join(alts, "|")}}, true
	case LineNotContains, LineNotMatchRegexp:
		op := eventstore.LineNotContains
		if f.Op == LineNotMatchRegexp {
			op = eventstore.LineNotRegexp
		}
		out := make([]eventstore.LineFilter, len(f.Values))
		for i, v := range f.Values {
			out[i] = eventstore.LineFilter{Op: op, Value: v}
		}
		return out, true
	}
	return nil, false
}

// splitLevelFilter takes the conjuncts of e that are string comparisons of
// event.LevelLabel, as store level matchers, and returns what remains.
func splitLevelFilter(e LabelFilterExpr) ([]*labels.Matcher, LabelFilterExpr) {
	switch e := e.(type) {
	case *LabelPredicate:
		if e.Kind == LabelString && e.Name == event.LevelLabel && storeCanMatch(e.Matcher) {
			return []*labels.Matcher{e.Matcher}, nil
		}
		return nil, e
	case *LabelFilterBinary:
		if !e.And {
			return nil, e
		}
		lp, lr := splitLevelFilter(e.LHS)
		rp, rr := splitLevelFilter(e.RHS)
		pushed := append(lp, rp...)
		switch {
		case lr == nil:
			return pushed, rr
		case rr == nil:
			return pushed, lr
		}
		return pushed, &LabelFilterBinary{And: true, LHS: lr, RHS: rr}
	}
	return nil, e
}

// storeCanMatch reports whether a matcher's regexp is valid RE2 syntax for
// the store (Prometheus matchers accept the same syntax, so this only
// guards against surprises).
func storeCanMatch(m *labels.Matcher) bool {
	if m.Type != labels.MatchRegexp && m.Type != labels.MatchNotRegexp {
		return true
	}
	_, err := syntax.Parse(m.Value, syntax.Perl)
	return err == nil
}
