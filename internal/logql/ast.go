package logql

import (
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/prometheus/model/labels"
)

// Expr is a parsed LogQL expression: a *LogSelectorExpr (a log query) or a
// SampleExpr (a metric query). String prints it in a canonical form that
// parses back to an equal expression.
type Expr interface {
	String() string
	node()
}

// SampleExpr is an expression that evaluates to samples: a range
// aggregation, a vector aggregation, a binary operation or a literal.
type SampleExpr interface {
	Expr
	sample()
}

// LogSelectorExpr is a stream selector followed by a pipeline.
type LogSelectorExpr struct {
	Matchers []*labels.Matcher
	Stages   []Stage
}

// Stage is one pipeline stage.
type Stage interface {
	String() string
	stage()
}

// LineFilterOp is a line filter operator.
type LineFilterOp uint8

// Line filter operators.
const (
	LineContains        LineFilterOp = iota + 1 // |=
	LineNotContains                             // !=
	LineMatchRegexp                             // |~
	LineNotMatchRegexp                          // !~
	LineMatchPattern                            // |>
	LineNotMatchPattern                         // !>
)

func (o LineFilterOp) String() string {
	switch o {
	case LineContains:
		return "|="
	case LineNotContains:
		return "!="
	case LineMatchRegexp:
		return "|~"
	case LineNotMatchRegexp:
		return "!~"
	case LineMatchPattern:
		return "|>"
	case LineNotMatchPattern:
		return "!>"
	}
	return "?"
}

// negative reports whether the operator keeps lines that do not match.
func (o LineFilterOp) negative() bool {
	return o == LineNotContains || o == LineNotMatchRegexp || o == LineNotMatchPattern
}

// LineFilter keeps lines that match (or, for the negative operators, do not
// match) its values. Several values are or-ed: `|= "a" or "b"` keeps lines
// containing either; `!= "a" or "b"` keeps lines containing neither.
type LineFilter struct {
	Op     LineFilterOp
	Values []string
}

// LabelFilterExpr is a label filter predicate or a combination of them.
type LabelFilterExpr interface {
	String() string
	labelFilter()
}

// LabelValueKind says how a label filter compares.
type LabelValueKind uint8

// Label filter value kinds.
const (
	LabelString   LabelValueKind = iota + 1 // = != =~ !~ against a string
	LabelNumber                             // numeric comparison
	LabelDuration                           // label parsed as a Go duration
	LabelBytes                              // label parsed as a byte size
)

// CmpOp is a numeric comparison operator.
type CmpOp uint8

// Comparison operators.
const (
	CmpEq CmpOp = iota + 1
	CmpNeq
	CmpGt
	CmpGte
	CmpLt
	CmpLte
)

// LabelPredicate compares one label.
type LabelPredicate struct {
	Name string
	Kind LabelValueKind
	// Matcher is set for LabelString.
	Matcher *labels.Matcher
	// Op, Value and Raw are set for the other kinds. Value is in the
	// kind's unit (seconds are not used: durations are nanoseconds, bytes
	// are bytes). Raw is the literal as written; Eq is "=" or "==".
	Op    CmpOp
	Value float64
	Raw   string
	Eq    string
}

// LabelFilterBinary combines two predicates. Loki evaluates chains left to
// right with equal precedence for and and or.
type LabelFilterBinary struct {
	And      bool
	LHS, RHS LabelFilterExpr
}

// LabelFilter is a pipeline stage that filters on labels.
type LabelFilter struct{ Expr LabelFilterExpr }

// ExtractParam is one `name="expression"` parameter of json or logfmt.
type ExtractParam struct {
	Name string
	Expr string
}

// JSONParser is `| json` with optional parameters.
type JSONParser struct{ Params []ExtractParam }

// LogfmtParser is `| logfmt` with optional flags and parameters.
type LogfmtParser struct {
	Strict, KeepEmpty bool
	Params            []ExtractParam
}

// RegexpParser is `| regexp "re"`.
type RegexpParser struct{ Regexp string }

// PatternParser is `| pattern "<a> <_>"`.
type PatternParser struct{ Pattern string }

// UnpackParser is `| unpack`.
type UnpackParser struct{}

// LineFormat is `| line_format "template"`.
type LineFormat struct{ Template string }

// LabelFormatOp is one `dst=src` rename or `dst="template"` assignment.
type LabelFormatOp struct {
	Dst      string
	Src      string // label name or template
	Template bool
}

// LabelFormat is `| label_format ...`.
type LabelFormat struct{ Ops []LabelFormatOp }

// LabelItem is a drop or keep argument: a name, or a name with a matcher.
type LabelItem struct {
	Name    string
	Matcher *labels.Matcher
}

// DropLabels is `| drop ...`.
type DropLabels struct{ Items []LabelItem }

// KeepLabels is `| keep ...`.
type KeepLabels struct{ Items []LabelItem }

// Decolorize is `| decolorize`.
type Decolorize struct{}

// Unwrap is `| unwrap [conv(]label[)]`; Conv is "", "duration",
// "duration_seconds" or "bytes".
type Unwrap struct {
	Label string
	Conv  string
}

// LogRange is a log selector with a range, as the argument of a range
// aggregation. The pipeline may end with an Unwrap stage followed only by
// label filters.
type LogRange struct {
	Selector *LogSelectorExpr
	Range    time.Duration
	Offset   time.Duration
}

// Grouping is a by/without clause.
type Grouping struct {
	Without bool
	Labels  []string
}

// RangeAggregationExpr is a range aggregation such as count_over_time.
type RangeAggregationExpr struct {
	Op       string
	Param    float64 // quantile_over_time's φ
	Left     *LogRange
	Grouping *Grouping
}

// VectorAggregationExpr is an aggregation such as sum or topk.
type VectorAggregationExpr struct {
	Op       string
	Param    int // topk/bottomk's k
	Left     SampleExpr
	Grouping *Grouping
}

// VectorMatching is the on/ignoring and group_left/group_right of a binary
// operation between vectors.
type VectorMatching struct {
	On      bool
	Labels  []string
	Card    string // "", "group_left" or "group_right"
	Include []string
}

// BinOpExpr is a binary operation.
type BinOpExpr struct {
	Op         string
	LHS, RHS   SampleExpr
	ReturnBool bool
	Matching   *VectorMatching
}

// LiteralExpr is a number.
type LiteralExpr struct{ Val float64 }

// VectorExpr is vector(x).
type VectorExpr struct{ Val float64 }

// LabelReplaceExpr is label_replace(v, dst, replacement, src, regex).
type LabelReplaceExpr struct {
	Left                         SampleExpr
	Dst, Replacement, Src, Regex string
}

func (*LogSelectorExpr) node()       {}
func (*RangeAggregationExpr) node()  {}
func (*VectorAggregationExpr) node() {}
func (*BinOpExpr) node()             {}
func (*LiteralExpr) node()           {}
func (*VectorExpr) node()            {}
func (*LabelReplaceExpr) node()      {}

func (*RangeAggregationExpr) sample()  {}
func (*VectorAggregationExpr) sample() {}
func (*BinOpExpr) sample()             {}
func (*LiteralExpr) sample()           {}
func (*VectorExpr) sample()            {}
func (*LabelReplaceExpr) sample()      {}

func (*LineFilter) stage()    {}
func (*LabelFilter) stage()   {}
func (*JSONParser) stage()    {}
func (*LogfmtParser) stage()  {}
func (*RegexpParser) stage()  {}
func (*PatternParser) stage() {}
func (*UnpackParser) stage()  {}
func (*LineFormat) stage()    {}
func (*LabelFormat) stage()   {}
func (*DropLabels) stage()    {}
func (*KeepLabels) stage()    {}
func (*Decolorize) stage()    {}
func (*Unwrap) stage()        {}

func (*LabelPredicate) labelFilter()    {}
func (*LabelFilterBinary) labelFilter() {}

func quote(s string) string { return strconv.Quote(s) }

func (e *LogSelectorExpr) String() string {
	var b strings.Builder
	b.WriteByte('{')
	for i, m := range e.Matchers {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(m.Name)
		b.WriteString(m.Type.String())
		b.WriteString(quote(m.Value))
	}
	b.WriteByte('}')
	for _, s := range e.Stages {
		b.WriteByte(' ')
		b.WriteString(s.String())
	}
	return b.String()
}

func (f *LineFilter) String() string {
	var b strings.Builder
	b.WriteString(f.Op.String())
	for i, v := range f.Values {
		if i > 0 {
			b.WriteString(" or")
		}
		b.WriteByte(' ')
		b.WriteString(quote(v))
	}
	return b.String()
}

func (f *LabelFilter) String() string { return "| " + f.Expr.String() }

func (p *LabelPredicate) String() string {
	if p.Kind == LabelString {
		return p.Name + p.Matcher.Type.String() + quote(p.Matcher.Value)
	}
	op := map[CmpOp]string{CmpEq: p.Eq, CmpNeq: "!=", CmpGt: ">", CmpGte: ">=", CmpLt: "<", CmpLte: "<="}[p.Op]
	return p.Name + op + p.Raw
}

// String parenthesises so that the text parses back to the same tree: and
// binds tighter than or, and both associate to the left.
func (f *LabelFilterBinary) String() string {
	lhs, rhs := f.LHS.String(), f.RHS.String()
	if l, ok := f.LHS.(*LabelFilterBinary); ok && f.And && !l.And {
		lhs = "(" + lhs + ")"
	}
	if r, ok := f.RHS.(*LabelFilterBinary); ok && (f.And || !r.And) {
		rhs = "(" + rhs + ")"
	}
	if f.And {
		return lhs + " and " + rhs
	}
	return lhs + " or " + rhs
}

func writeParams(b *strings.Builder, ps []ExtractParam) {
	for i, p := range ps {
		if i > 0 {
			b.WriteByte(',')
		}
		b.WriteByte(' ')
		b.WriteString(p.Name)
		b.WriteByte('=')
		b.WriteString(quote(p.Expr))
	}
}

func (p *JSONParser) String() string {
	var b strings.Builder
	b.WriteString("| json")
	writeParams(&b, p.Params)
	return b.String()
}

func (p *LogfmtParser) String() string {
	var b strings.Builder
	b.WriteString("| logfmt")
	if p.Strict {
		b.WriteString(" --strict")
	}
	if p.KeepEmpty {
		b.WriteString(" --keep-empty")
	}
	writeParams(&b, p.Params)
	return b.String()
}

func (p *RegexpParser) String() string  { return "| regexp " + quote(p.Regexp) }
func (p *PatternParser) String() string { return "| pattern " + quote(p.Pattern) }
func (*UnpackParser) String() string    { return "| unpack" }
func (f *LineFormat) String() string    { return "| line_format " + quote(f.Template) }
func (*Decolorize) String() string      { return "| decolorize" }

func (f *LabelFormat) String() string {
	var b strings.Builder
	b.WriteString("| label_format ")
	for i, op := range f.Ops {
		if i > 0 {
			b.WriteString(", ")
		}
		b.WriteString(op.Dst)
		b.WriteByte('=')
		if op.Template {
			b.WriteString(quote(op.Src))
		} else {
			b.WriteString(op.Src)
		}
	}
	return b.String()
}

func writeItems(b *strings.Builder, items []LabelItem) {
	for i, it := range items {
		if i > 0 {
			b.WriteString(", ")
		}
		if it.Matcher != nil {
			b.WriteString(it.Name + it.Matcher.Type.String() + quote(it.Matcher.Value))
		} else {
			b.WriteString(it.Name)
		}
	}
}

func (d *DropLabels) String() string {
	var b strings.Builder
	b.WriteString("| drop ")
	writeItems(&b, d.Items)
	return b.String()
}

func (k *KeepLabels) String() string {
	var b strings.Builder
	b.WriteString("| keep ")
	writeItems(&b, k.Items)
	return b.String()
}

func (u *Unwrap) String() string {
	if u.Conv != "" {
		return "| unwrap " + u.Conv + "(" + u.Label + ")"
	}
	return "| unwrap " + u.Label
}

func (r *LogRange) String() string {
	var b strings.Builder
	if len(r.Selector.Stages) > 0 {
		b.WriteByte('(')
		b.WriteString(r.Selector.String())
		b.WriteByte(')')
	} else {
		b.WriteString(r.Selector.String())
	}
	b.WriteString(" [" + formatDuration(r.Range) + "]")
	if r.Offset != 0 {
		b.WriteString(" offset " + formatDuration(r.Offset))
	}
	return b.String()
}

func (g *Grouping) String() string {
	if g == nil {
		return ""
	}
	kw := " by ("
	if g.Without {
		kw = " without ("
	}
	return kw + strings.Join(g.Labels, ", ") + ")"
}

func formatFloat(v float64) string { return strconv.FormatFloat(v, 'g', -1, 64) }

func (e *RangeAggregationExpr) String() string {
	var b strings.Builder
	b.WriteString(e.Op + "(")
	if e.Op == OpQuantileOverTime {
		b.WriteString(formatFloat(e.Param) + ", ")
	}
	b.WriteString(e.Left.String())
	b.WriteByte(')')
	b.WriteString(e.Grouping.String())
	return b.String()
}

func (e *VectorAggregationExpr) String() string {
	var b strings.Builder
	b.WriteString(e.Op)
	if e.Grouping != nil {
		b.WriteString(e.Grouping.String())
		b.WriteByte(' ')
	}
	b.WriteString("(")
	if e.Op == OpTopK || e.Op == OpBottomK {
		b.WriteString(strconv.Itoa(e.Param) + ", ")
	}
	b.WriteString(e.Left.String())
	b.WriteByte(')')
	return b.String()
}

func (e *BinOpExpr) String() string {
	var b strings.Builder
	b.WriteString(binChild(e.LHS, e.Op, false))
	b.WriteString(" " + e.Op)
	if e.ReturnBool {
		b.WriteString(" bool")
	}
	if m := e.Matching; m != nil {
		if m.On {
			b.WriteString(" on (" + strings.Join(m.Labels, ", ") + ")")
		} else if len(m.Labels) > 0 {
			b.WriteString(" ignoring (" + strings.Join(m.Labels, ", ") + ")")
		}
		if m.Card != "" {
			b.WriteString(" " + m.Card + " (" + strings.Join(m.Include, ", ") + ")")
		}
	}
	b.WriteByte(' ')
	b.WriteString(binChild(e.RHS, e.Op, true))
	return b.String()
}

// binChild parenthesises a child binary operation that binds less tightly
// than its parent, or as tightly on the side associativity does not group.
func binChild(e SampleExpr, parentOp string, right bool) string {
	c, ok := e.(*BinOpExpr)
	if ok {
		pp, cp := precedence(parentOp), precedence(c.Op)
		rightAssoc := parentOp == "^"
		if cp < pp || cp == pp && right != rightAssoc {
			return "(" + c.String() + ")"
		}
	}
	if l, ok := e.(*LiteralExpr); ok && l.Val < 0 && right {
		return "(" + l.String() + ")"
	}
	return e.String()
}

func (e *LiteralExpr) String() string { return formatFloat(e.Val) }
func (e *VectorExpr) String() string  { return "vector(" + formatFloat(e.Val) + ")" }

func (e *LabelReplaceExpr) String() string {
	return "label_replace(" + e.Left.String() + ", " + quote(e.Dst) + ", " + quote(e.Replacement) + ", " +
		quote(e.Src) + ", " + quote(e.Regex) + ")"
}
