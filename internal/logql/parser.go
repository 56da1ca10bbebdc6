package logql

import (
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/grafana/regexp"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/lookout-dev/lookout/internal/labelname"
)

// Range aggregation operators.
const (
	OpCountOverTime    = "count_over_time"
	OpRate             = "rate"
	OpBytesOverTime    = "bytes_over_time"
	OpBytesRate        = "bytes_rate"
	OpSumOverTime      = "sum_over_time"
	OpAvgOverTime      = "avg_over_time"
	OpMinOverTime      = "min_over_time"
	OpMaxOverTime      = "max_over_time"
	OpStddevOverTime   = "stddev_over_time"
	OpStdvarOverTime   = "stdvar_over_time"
	OpQuantileOverTime = "quantile_over_time"
	OpFirstOverTime    = "first_over_time"
	OpLastOverTime     = "last_over_time"
	OpAbsentOverTime   = "absent_over_time"
)

// Vector aggregation operators.
const (
	OpSum      = "sum"
	OpAvg      = "avg"
	OpCount    = "count"
	OpMin      = "min"
	OpMax      = "max"
	OpStddev   = "stddev"
	OpStdvar   = "stdvar"
	OpTopK     = "topk"
	OpBottomK  = "bottomk"
	OpSort     = "sort"
	OpSortDesc = "sort_desc"
)

var rangeOps = map[string]bool{
	OpCountOverTime: true, OpRate: true, OpBytesOverTime: true, OpBytesRate: true,
	OpSumOverTime: true, OpAvgOverTime: true, OpMinOverTime: true, OpMaxOverTime: true,
	OpStddevOverTime: true, OpStdvarOverTime: true, OpQuantileOverTime: true,
	OpFirstOverTime: true, OpLastOverTime: true, OpAbsentOverTime: true,
}

var vectorOps = map[string]bool{
	OpSum: true, OpAvg: true, OpCount: true, OpMin: true, OpMax: true, OpStddev: true,
	OpStdvar: true, OpTopK: true, OpBottomK: true, OpSort: true, OpSortDesc: true,
}

// ParseError is a syntax or validation error in a query. Line and Col are
// 1-based and point at the offending token; both are 0 for errors found
// after parsing (such as an invalid aggregation), as in Loki.
type ParseError struct {
	Line, Col int
	Msg       string
}

func (e *ParseError) Error() string {
	if e.Line == 0 && e.Col == 0 {
		return "parse error : " + e.Msg
	}
	return fmt.Sprintf("parse error at line %d, col %d: %s", e.Line, e.Col, e.Msg)
}

// maxDepth bounds the nesting of parentheses and sub-expressions so that a
// hostile query cannot exhaust the stack.
const maxDepth = 256

// ParseExpr parses a LogQL query: a log query (*LogSelectorExpr) or a
// metric query (SampleExpr). Every error is a *ParseError.
func ParseExpr(query string) (Expr, error) {
	p := &parser{lex: newLexer(query)}
	e, err := p.parseQuery()
	if err != nil {
		return nil, err
	}
	return e, nil
}

// ParseLogSelector parses a log query, rejecting metric queries.
func ParseLogSelector(query string) (*LogSelectorExpr, error) {
	e, err := ParseExpr(query)
	if err != nil {
		return nil, err
	}
	sel, ok := e.(*LogSelectorExpr)
	if !ok {
		return nil, &ParseError{Msg: "only log queries are supported here"}
	}
	return sel, nil
}

type parser struct {
	lex   *lexer
	buf   []token
	depth int
}

func (p *parser) peekN(n int) (token, error) {
	for len(p.buf) <= n {
		t, err := p.lex.next()
		if err != nil {
			return token{}, err
		}
		p.buf = append(p.buf, t)
		if t.kind == tokEOF {
			for len(p.buf) <= n {
				p.buf = append(p.buf, t)
			}
		}
	}
	return p.buf[n], nil
}

func (p *parser) peek() (token, error) { return p.peekN(0) }

func (p *parser) next() (token, error) {
	t, err := p.peekN(0)
	if err != nil {
		return t, err
	}
	p.buf = p.buf[1:]
	return t, nil
}

// unexpected builds Loki's "syntax error: unexpected X, expecting A or B".
func unexpected(t token, expected ...string) error {
	msg := "syntax error: unexpected " + t.describe()
	if len(expected) > 0 && len(expected) <= 4 {
		msg += ", expecting " + strings.Join(expected, " or ")
	}
	return &ParseError{Line: t.pos.line, Col: t.pos.col, Msg: msg}
}

func validationErr(format string, args ...any) error {
	return &ParseError{Msg: fmt.Sprintf(format, args...)}
}

func (p *parser) expect(k tokenKind, expected ...string) (token, error) {
	t, err := p.next()
	if err != nil {
		return t, err
	}
	if t.kind != k {
		if len(expected) == 0 {
			expected = []string{token{kind: k}.describe()}
		}
		return t, unexpected(t, expected...)
	}
	return t, nil
}

func (p *parser) isIdent(t token, text string) bool { return t.kind == tokIdent && t.text == text }

func (p *parser) enter(t token) error {
	p.depth++
	if p.depth > maxDepth {
		return &ParseError{Line: t.pos.line, Col: t.pos.col, Msg: "syntax error: expression nested too deeply"}
	}
	return nil
}

func (p *parser) leave() { p.depth-- }

func (p *parser) parseQuery() (Expr, error) {
	t, err := p.peek()
	if err != nil {
		return nil, err
	}
	if t.kind == tokEOF {
		return nil, unexpected(t)
	}
	e, err := p.parseExpr(0)
	if err != nil {
		return nil, err
	}
	t, err = p.next()
	if err != nil {
		return nil, err
	}
	if t.kind != tokEOF {
		return nil, unexpected(t)
	}
	return e, nil
}

var binPrec = map[string]int{
	"or": 1, "and": 2, "unless": 2,
	"==": 3, "!=": 3, ">": 3, ">=": 3, "<": 3, "<=": 3,
	"+": 4, "-": 4, "*": 5, "/": 5, "%": 5, "^": 6,
}

func precedence(op string) int { return binPrec[op] }

// binOpOf returns the binary operator a token stands for, if any.
func binOpOf(t token) string {
	switch t.kind {
	case tokIdent:
		if t.text == "or" || t.text == "and" || t.text == "unless" {
			return t.text
		}
	case tokEqEq, tokNeq, tokGt, tokGte, tokLt, tokLte, tokAdd, tokSub, tokMul, tokDiv, tokMod, tokPow:
		return punctText[t.kind]
	}
	return ""
}

func isComparison(op string) bool { return binPrec[op] == 3 }

func (p *parser) parseExpr(minPrec int) (Expr, error) {
	lhs, err := p.parseUnary()
	if err != nil {
		return nil, err
	}
	for {
		t, err := p.peek()
		if err != nil {
			return nil, err
		}
		op := binOpOf(t)
		if op == "" || precedence(op) < minPrec {
			return lhs, nil
		}
		if _, ok := lhs.(*LogSelectorExpr); ok {
			// A log query cannot be an operand; the operator is where Loki
			// reports it.
			return nil, unexpected(t)
		}
		if _, err := p.next(); err != nil {
			return nil, err
		}
		b := &BinOpExpr{Op: op}
		if err := p.parseBinModifiers(b); err != nil {
			return nil, err
		}
		next := precedence(op) + 1
		if op == "^" {
			next = precedence(op)
		}
		if err := p.enter(t); err != nil {
			return nil, err
		}
		rhs, err := p.parseExpr(next)
		p.leave()
		if err != nil {
			return nil, err
		}
		ls, ok1 := lhs.(SampleExpr)
		rs, ok2 := rhs.(SampleExpr)
		if !ok1 || !ok2 {
			return nil, validationErr("binary operations are only supported between sample expressions, not log queries")
		}
		b.LHS, b.RHS = ls, rs
		if err := validateBinOp(b); err != nil {
			return nil, err
		}
		lhs = b
	}
}

func (p *parser) parseBinModifiers(b *BinOpExpr) error {
	t, err := p.peek()
	if err != nil {
		return err
	}
	if p.isIdent(t, "bool") {
		if !isComparison(b.Op) {
			return &ParseError{Line: t.pos.line, Col: t.pos.col, Msg: "syntax error: bool modifier can only be used on comparison operators"}
		}
		b.ReturnBool = true
		if _, err := p.next(); err != nil {
			return err
		}
		if t, err = p.peek(); err != nil {
			return err
		}
	}
	if p.isIdent(t, "on") || p.isIdent(t, "ignoring") {
		if _, err := p.next(); err != nil {
			return err
		}
		names, err := p.parseLabelList()
		if err != nil {
			return err
		}
		b.Matching = &VectorMatching{On: t.text == "on", Labels: names}
		if t, err = p.peek(); err != nil {
			return err
		}
		if p.isIdent(t, "group_left") || p.isIdent(t, "group_right") {
			if _, err := p.next(); err != nil {
				return err
			}
			b.Matching.Card = t.text
			nt, err := p.peek()
			if err != nil {
				return err
			}
			if nt.kind == tokLParen {
				inc, err := p.parseLabelList()
				if err != nil {
					return err
				}
				b.Matching.Include = inc
			}
		}
	}
	return nil
}

func validateBinOp(b *BinOpExpr) error {
	_, lLit := b.LHS.(*LiteralExpr)
	_, rLit := b.RHS.(*LiteralExpr)
	switch b.Op {
	case "and", "or", "unless":
		if lLit || rLit {
			return validationErr("unexpected literal for left leg of logical/set binary operation (%s): %s", b.Op, b.LHS.String())
		}
	}
	if isComparison(b.Op) && lLit && rLit && !b.ReturnBool {
		return validationErr("comparisons between scalars must use BOOL modifier")
	}
	if b.Matching != nil && (lLit || rLit) {
		return validationErr("vector matching only allowed between vectors")
	}
	return nil
}

func (p *parser) parseLabelList() ([]string, error) {
	if _, err := p.expect(tokLParen, "("); err != nil {
		return nil, err
	}
	names := []string{}
	for {
		t, err := p.next()
		if err != nil {
			return nil, err
		}
		if t.kind == tokRParen && len(names) == 0 {
			return names, nil
		}
		if t.kind != tokIdent {
			return nil, unexpected(t, "IDENTIFIER")
		}
		names = append(names, t.text)
		t, err = p.next()
		if err != nil {
			return nil, err
		}
		if t.kind == tokRParen {
			return names, nil
		}
		if t.kind != tokComma {
			return nil, unexpected(t, ")", ",")
		}
	}
}

func (p *parser) parseUnary() (Expr, error) {
	t, err := p.peek()
	if err != nil {
		return nil, err
	}
	if t.kind == tokSub || t.kind == tokAdd {
		if _, err := p.next(); err != nil {
			return nil, err
		}
		n, err := p.expect(tokNumber, "NUMBER")
		if err != nil {
			return nil, err
		}
		v, err := strconv.ParseFloat(n.text, 64)
		if err != nil {
			return nil, &ParseError{Line: n.pos.line, Col: n.pos.col, Msg: "unable to parse literal as a float: " + n.text}
		}
		if t.kind == tokSub {
			v = -v
		}
		return &LiteralExpr{Val: v}, nil
	}
	return p.parsePrimary()
}

func (p *parser) parsePrimary() (Expr, error) {
	t, err := p.next()
	if err != nil {
		return nil, err
	}
	switch t.kind {
	case tokNumber:
		v, err := strconv.ParseFloat(t.text, 64)
		if err != nil {
			return nil, &ParseError{Line: t.pos.line, Col: t.pos.col, Msg: "unable to parse literal as a float: " + t.text}
		}
		return &LiteralExpr{Val: v}, nil
	case tokLParen:
		if err := p.enter(t); err != nil {
			return nil, err
		}
		e, err := p.parseExpr(0)
		p.leave()
		if err != nil {
			return nil, err
		}
		if _, err := p.expect(tokRParen, ")"); err != nil {
			return nil, err
		}
		return e, nil
	case tokLBrace:
		p.buf = append([]token{t}, p.buf...)
		return p.parseLogSelector()
	case tokIdent:
		switch {
		case rangeOps[t.text]:
			return p.parseRangeAggregation(t)
		case vectorOps[t.text]:
			return p.parseVectorAggregation(t)
		case t.text == "vector":
			return p.parseVector()
		case t.text == "label_replace":
			return p.parseLabelReplace()
		}
	}
	return nil, unexpected(t)
}

func (p *parser) parseLogSelector() (*LogSelectorExpr, error) {
	ms, err := p.parseMatchers()
	if err != nil {
		return nil, err
	}
	sel := &LogSelectorExpr{Matchers: ms}
	if err := p.parsePipeline(sel); err != nil {
		return nil, err
	}
	if err := validatePipeline(sel, false); err != nil {
		return nil, err
	}
	return sel, nil
}

func (p *parser) parseMatchers() ([]*labels.Matcher, error) {
	if _, err := p.expect(tokLBrace, "{"); err != nil {
		return nil, err
	}
	var ms []*labels.Matcher
	for {
		name, err := p.expect(tokIdent, "IDENTIFIER")
		if err != nil {
			return nil, err
		}
		m, err := p.parseMatcherRest(name.text, false)
		if err != nil {
			return nil, err
		}
		ms = append(ms, m)
		t, err := p.next()
		if err != nil {
			return nil, err
		}
		if t.kind == tokRBrace {
			break
		}
		if t.kind != tokComma {
			return nil, unexpected(t, "}", ",")
		}
	}
	if err := validateMatchers(ms); err != nil {
		return nil, err
	}
	return ms, nil
}

// parseMatcherRest reads `op "value"` after a label name.
func (p *parser) parseMatcherRest(name string, allowEqEq bool) (*labels.Matcher, error) {
	op, err := p.next()
	if err != nil {
		return nil, err
	}
	var mt labels.MatchType
	switch op.kind {
	case tokEq:
		mt = labels.MatchEqual
	case tokNeq:
		mt = labels.MatchNotEqual
	case tokRe:
		mt = labels.MatchRegexp
	case tokNre:
		mt = labels.MatchNotRegexp
	case tokEqEq:
		if allowEqEq {
			mt = labels.MatchEqual
			break
		}
		fallthrough
	default:
		return nil, unexpected(op, "=", "=~", "!~", "!=")
	}
	v, err := p.expect(tokString, "STRING")
	if err != nil {
		return nil, err
	}
	return newMatcher(mt, name, v.text)
}

func newMatcher(mt labels.MatchType, name, value string) (*labels.Matcher, error) {
	if mt == labels.MatchRegexp || mt == labels.MatchNotRegexp {
		if _, err := regexp.Compile("^(?:" + value + ")$"); err != nil {
			return nil, validationErr("%v", err)
		}
	}
	m, err := labels.NewMatcher(mt, name, value)
	if err != nil {
		return nil, validationErr("%v", err)
	}
	return m, nil
}

// validateMatchers enforces Loki's rule that a selector must not match every
// stream.
func validateMatchers(ms []*labels.Matcher) error {
	for _, m := range ms {
		if !m.Matches("") {
			return nil
		}
	}
	return validationErr("queries require at least one regexp or equality matcher that does not have an empty-compatible value. For instance, app=~\".*\" does not meet this requirement, but app=~\".+\" will")
}

// parsePipeline reads stages until a token that cannot start one.
func (p *parser) parsePipeline(sel *LogSelectorExpr) error {
	for {
		t, err := p.peek()
		if err != nil {
			return err
		}
		switch t.kind {
		case tokPipeExact, tokNeq, tokPipeMatch, tokNre, tokPipePattern, tokNotPattern:
			f, err := p.parseLineFilter()
			if err != nil {
				return err
			}
			sel.Stages = append(sel.Stages, f)
		case tokPipe:
			if _, err := p.next(); err != nil {
				return err
			}
			s, err := p.parseStage()
			if err != nil {
				return err
			}
			sel.Stages = append(sel.Stages, s)
		default:
			return nil
		}
	}
}

func (p *parser) parseLineFilter() (*LineFilter, error) {
	t, err := p.next()
	if err != nil {
		return nil, err
	}
	f := &LineFilter{Op: map[tokenKind]LineFilterOp{
		tokPipeExact: LineContains, tokNeq: LineNotContains, tokPipeMatch: LineMatchRegexp,
		tokNre: LineNotMatchRegexp, tokPipePattern: LineMatchPattern, tokNotPattern: LineNotMatchPattern,
	}[t.kind]}
	for {
		v, err := p.next()
		if err != nil {
			return nil, err
		}
		if p.isIdent(v, "ip") {
			return nil, &ParseError{Line: v.pos.line, Col: v.pos.col, Msg: "ip() filters are not supported"}
		}
		if v.kind != tokString {
			return nil, unexpected(v, "STRING", "ip")
		}
		f.Values = append(f.Values, v.text)
		n, err := p.peek()
		if err != nil {
			return nil, err
		}
		if !p.isIdent(n, "or") {
			break
		}
		// `or` followed by a string continues the filter; otherwise it is
		// the binary operator of an enclosing expression.
		n2, err := p.peekN(1)
		if err != nil {
			return nil, err
		}
		if n2.kind != tokString && !p.isIdent(n2, "ip") {
			break
		}
		if _, err := p.next(); err != nil {
			return nil, err
		}
	}
	for _, v := range f.Values {
		if err := checkLineFilterValue(f.Op, v); err != nil {
			return nil, err
		}
	}
	return f, nil
}

func checkLineFilterValue(op LineFilterOp, v string) error {
	switch op {
	case LineMatchRegexp, LineNotMatchRegexp:
		if _, err := regexp.Compile(v); err != nil {
			return validationErr("%v", err)
		}
	case LineMatchPattern, LineNotMatchPattern:
		pt, err := compilePattern(v)
		if err != nil {
			return validationErr("%v", err)
		}
		if pt.named() > 0 {
			return validationErr("invalid line filter pattern %q: named captures are not allowed in line filters", v)
		}
	}
	return nil
}

func (p *parser) parseStage() (Stage, error) {
	t, err := p.peek()
	if err != nil {
		return nil, err
	}
	if t.kind == tokIdent {
		switch t.text {
		case "json":
			p.next()
			params, err := p.parseExtractParams()
			if err != nil {
				return nil, err
			}
			for _, prm := range params {
				if _, err := parseJSONPath(prm.Expr); err != nil {
					return nil, validationErr("cannot parse expression [%s]: %v", prm.Expr, err)
				}
			}
			return &JSONParser{Params: params}, nil
		case "logfmt":
			p.next()
			lf := &LogfmtParser{}
			for {
				f, err := p.peek()
				if err != nil {
					return nil, err
				}
				if f.kind != tokFlag {
					break
				}
				p.next()
				switch f.text {
				case "--strict":
					lf.Strict = true
				case "--keep-empty":
					lf.KeepEmpty = true
				default:
					return nil, unexpected(f)
				}
			}
			if lf.Params, err = p.parseExtractParams(); err != nil {
				return nil, err
			}
			return lf, nil
		case "regexp":
			p.next()
			s, err := p.expect(tokString, "STRING")
			if err != nil {
				return nil, err
			}
			if _, _, err := compileRegexpParser(s.text); err != nil {
				return nil, validationErr("%v", err)
			}
			return &RegexpParser{Regexp: s.text}, nil
		case "pattern":
			p.next()
			s, err := p.expect(tokString, "STRING")
			if err != nil {
				return nil, err
			}
			pt, err := compilePattern(s.text)
			if err != nil {
				return nil, validationErr("%v", err)
			}
			if pt.named() == 0 {
				return nil, validationErr("invalid pattern %q: at least one capture is required", s.text)
			}
			return &PatternParser{Pattern: s.text}, nil
		case "unpack":
			p.next()
			return &UnpackParser{}, nil
		case "decolorize":
			p.next()
			return &Decolorize{}, nil
		case "line_format":
			p.next()
			s, err := p.expect(tokString, "STRING")
			if err != nil {
				return nil, err
			}
			if _, err := newTemplate("line", s.text, nil); err != nil {
				return nil, validationErr("%v", err)
			}
			return &LineFormat{Template: s.text}, nil
		case "label_format":
			p.next()
			return p.parseLabelFormat()
		case "drop", "keep":
			p.next()
			items, err := p.parseLabelItems()
			if err != nil {
				return nil, err
			}
			if t.text == "drop" {
				return &DropLabels{Items: items}, nil
			}
			return &KeepLabels{Items: items}, nil
		case "unwrap":
			p.next()
			return p.parseUnwrap()
		}
	}
	if t.kind == tokLParen || t.kind == tokIdent && !keywords[t.text] {
		e, err := p.parseLabelFilterOr()
		if err != nil {
			return nil, err
		}
		return &LabelFilter{Expr: e}, nil
	}
	p.next()
	return nil, unexpected(t)
}

// parseExtractParams reads `a="x", b` parameters of json and logfmt.
func (p *parser) parseExtractParams() ([]ExtractParam, error) {
	var params []ExtractParam
	for {
		t, err := p.peek()
		if err != nil {
			return nil, err
		}
		if t.kind != tokIdent {
			if len(params) > 0 {
				p.next()
				return nil, unexpected(t, "IDENTIFIER")
			}
			return nil, nil
		}
		p.next()
		prm := ExtractParam{Name: t.text, Expr: t.text}
		n, err := p.peek()
		if err != nil {
			return nil, err
		}
		if n.kind == tokEq {
			p.next()
			s, err := p.expect(tokString, "STRING")
			if err != nil {
				return nil, err
			}
			prm.Expr = s.text
			if n, err = p.peek(); err != nil {
				return nil, err
			}
		}
		params = append(params, prm)
		if n.kind != tokComma {
			return params, nil
		}
		p.next()
	}
}

func (p *parser) parseLabelFormat() (Stage, error) {
	lf := &LabelFormat{}
	seen := map[string]bool{}
	for {
		dst, err := p.expect(tokIdent, "IDENTIFIER")
		if err != nil {
			return nil, err
		}
		if _, err := p.expect(tokEq, "="); err != nil {
			return nil, err
		}
		src, err := p.next()
		if err != nil {
			return nil, err
		}
		op := LabelFormatOp{Dst: dst.text, Src: src.text}
		switch src.kind {
		case tokString:
			op.Template = true
			if _, err := newTemplate("label", src.text, nil); err != nil {
				return nil, validationErr("%v", err)
			}
		case tokIdent:
		default:
			return nil, unexpected(src, "IDENTIFIER", "STRING")
		}
		if dst.text == errorLabel {
			return nil, validationErr("%s cannot be formatted", errorLabel)
		}
		if seen[dst.text] {
			return nil, validationErr("multiple label name '%s' appears in formatting", dst.text)
		}
		seen[dst.text] = true
		lf.Ops = append(lf.Ops, op)
		t, err := p.peek()
		if err != nil {
			return nil, err
		}
		if t.kind != tokComma {
			return lf, nil
		}
		p.next()
	}
}

func (p *parser) parseLabelItems() ([]LabelItem, error) {
	var items []LabelItem
	for {
		name, err := p.expect(tokIdent, "IDENTIFIER")
		if err != nil {
			return nil, err
		}
		it := LabelItem{Name: name.text}
		t, err := p.peek()
		if err != nil {
			return nil, err
		}
		switch t.kind {
		case tokEq, tokNeq, tokRe, tokNre:
			if it.Matcher, err = p.parseMatcherRest(name.text, false); err != nil {
				return nil, err
			}
			if t, err = p.peek(); err != nil {
				return nil, err
			}
		}
		items = append(items, it)
		if t.kind != tokComma {
			return items, nil
		}
		p.next()
	}
}

func (p *parser) parseUnwrap() (Stage, error) {
	t, err := p.next()
	if err != nil {
		return nil, err
	}
	if t.kind != tokIdent {
		return nil, unexpected(t, "IDENTIFIER")
	}
	u := &Unwrap{Label: t.text}
	switch t.text {
	case "duration", "duration_seconds", "bytes":
		n, err := p.peek()
		if err != nil {
			return nil, err
		}
		if n.kind == tokLParen {
			p.next()
			l, err := p.expect(tokIdent, "IDENTIFIER")
			if err != nil {
				return nil, err
			}
			if _, err := p.expect(tokRParen, ")"); err != nil {
				return nil, err
			}
			u.Conv, u.Label = t.text, l.text
		}
	}
	return u, nil
}

// Label filters: and (also `,` and juxtaposition) binds tighter than or, as
// in Loki's grammar.
func (p *parser) parseLabelFilterOr() (LabelFilterExpr, error) {
	lhs, err := p.parseLabelFilterAnd()
	if err != nil {
		return nil, err
	}
	for {
		t, err := p.peek()
		if err != nil {
			return nil, err
		}
		if !p.isIdent(t, "or") || !p.startsPredicate(1) {
			return lhs, nil
		}
		p.next()
		rhs, err := p.parseLabelFilterAnd()
		if err != nil {
			return nil, err
		}
		lhs = &LabelFilterBinary{LHS: lhs, RHS: rhs}
	}
}

// startsPredicate reports whether the token at n starts a label predicate:
// `(` or an identifier followed by a comparison operator.
func (p *parser) startsPredicate(n int) bool {
	t, err := p.peekN(n)
	if err != nil {
		return true // let the parse report the error
	}
	if t.kind == tokLParen {
		return true
	}
	if t.kind != tokIdent {
		return false
	}
	op, err := p.peekN(n + 1)
	if err != nil {
		return true
	}
	switch op.kind {
	case tokEq, tokEqEq, tokNeq, tokRe, tokNre, tokGt, tokGte, tokLt, tokLte:
		return true
	}
	return false
}

func (p *parser) parseLabelFilterAnd() (LabelFilterExpr, error) {
	lhs, err := p.parseLabelFilterPrimary()
	if err != nil {
		return nil, err
	}
	for {
		t, err := p.peek()
		if err != nil {
			return nil, err
		}
		switch {
		case p.isIdent(t, "and") && p.startsPredicate(1):
			p.next()
		case t.kind == tokComma:
			p.next()
		case t.kind == tokIdent && !keywords[t.text] && p.startsPredicate(0):
		default:
			return lhs, nil
		}
		rhs, err := p.parseLabelFilterPrimary()
		if err != nil {
			return nil, err
		}
		lhs = &LabelFilterBinary{And: true, LHS: lhs, RHS: rhs}
	}
}

func (p *parser) parseLabelFilterPrimary() (LabelFilterExpr, error) {
	t, err := p.next()
	if err != nil {
		return nil, err
	}
	if t.kind == tokLParen {
		if err := p.enter(t); err != nil {
			return nil, err
		}
		e, err := p.parseLabelFilterOr()
		p.leave()
		if err != nil {
			return nil, err
		}
		if _, err := p.expect(tokRParen, ")"); err != nil {
			return nil, err
		}
		return e, nil
	}
	if t.kind != tokIdent {
		return nil, unexpected(t, "IDENTIFIER", "(")
	}
	name := t.text
	op, err := p.next()
	if err != nil {
		return nil, err
	}
	v, err := p.peek()
	if err != nil {
		return nil, err
	}
	if p.isIdent(v, "ip") {
		return nil, &ParseError{Line: v.pos.line, Col: v.pos.col, Msg: "ip() filters are not supported"}
	}
	if v.kind == tokString {
		switch op.kind {
		case tokEq, tokNeq, tokRe, tokNre:
			p.buf = append([]token{op}, p.buf...)
			m, err := p.parseMatcherRest(name, false)
			if err != nil {
				return nil, err
			}
			return &LabelPredicate{Name: name, Kind: LabelString, Matcher: m}, nil
		}
		p.next()
		return nil, unexpected(v)
	}
	var cmp CmpOp
	eq := ""
	switch op.kind {
	case tokEq:
		cmp, eq = CmpEq, "="
	case tokEqEq:
		cmp, eq = CmpEq, "=="
	case tokNeq:
		cmp = CmpNeq
	case tokGt:
		cmp = CmpGt
	case tokGte:
		cmp = CmpGte
	case tokLt:
		cmp = CmpLt
	case tokLte:
		cmp = CmpLte
	case tokRe, tokNre:
		p.next()
		return nil, unexpected(v, "STRING")
	default:
		return nil, unexpected(op, "=", "=~", "!~", "!=")
	}
	p.next()
	neg := ""
	if v.kind == tokSub {
		neg = "-"
		if v, err = p.next(); err != nil {
			return nil, err
		}
	}
	pred := &LabelPredicate{Name: name, Op: cmp, Eq: eq, Raw: neg + v.text}
	switch v.kind {
	case tokNumber:
		f, err := strconv.ParseFloat(v.text, 64)
		if err != nil {
			return nil, &ParseError{Line: v.pos.line, Col: v.pos.col, Msg: "unable to parse literal as a float: " + v.text}
		}
		pred.Kind, pred.Value = LabelNumber, f
	case tokDuration:
		d, _ := parseDuration(v.text)
		pred.Kind, pred.Value = LabelDuration, float64(d)
	case tokBytes:
		b, _ := parseBytes(v.text)
		pred.Kind, pred.Value = LabelBytes, float64(b)
	default:
		return nil, unexpected(v, "STRING", "NUMBER", "DURATION", "BYTES")
	}
	if neg != "" {
		pred.Value = -pred.Value
	}
	if name == errorLabel || name == errorDetailsLabel {
		return nil, validationErr("%s is a string label and cannot be compared with %s", name, pred.String())
	}
	return pred, nil
}

func (p *parser) parseRange() (time.Duration, time.Duration, error) {
	t, err := p.expect(tokRange, "RANGE")
	if err != nil {
		return 0, 0, err
	}
	r, _ := parseDuration(t.text)
	if r <= 0 {
		return 0, 0, &ParseError{Line: t.pos.line, Col: t.pos.col, Msg: "syntax error: range must be positive"}
	}
	var off time.Duration
	n, err := p.peek()
	if err != nil {
		return 0, 0, err
	}
	if p.isIdent(n, "offset") {
		p.next()
		d, err := p.next()
		if err != nil {
			return 0, 0, err
		}
		if d.kind != tokDuration {
			return 0, 0, unexpected(d, "DURATION")
		}
		off, _ = parseDuration(d.text)
	}
	return r, off, nil
}

func (p *parser) parseLogRange() (*LogRange, error) {
	t, err := p.peek()
	if err != nil {
		return nil, err
	}
	lr := &LogRange{}
	if t.kind == tokLParen {
		p.next()
		if err := p.enter(t); err != nil {
			return nil, err
		}
		n, err := p.peek()
		if err != nil {
			return nil, err
		}
		if n.kind != tokLBrace {
			p.next()
			return nil, unexpected(n, "{")
		}
		ms, err := p.parseMatchers()
		if err != nil {
			return nil, err
		}
		lr.Selector = &LogSelectorExpr{Matchers: ms}
		if err := p.parsePipeline(lr.Selector); err != nil {
			return nil, err
		}
		p.leave()
		if _, err := p.expect(tokRParen, ")"); err != nil {
			return nil, err
		}
		if lr.Range, lr.Offset, err = p.parseRange(); err != nil {
			return nil, err
		}
	} else {
		ms, err := p.parseMatchers()
		if err != nil {
			return nil, err
		}
		lr.Selector = &LogSelectorExpr{Matchers: ms}
		n, err := p.peek()
		if err != nil {
			return nil, err
		}
		if n.kind == tokRange {
			if lr.Range, lr.Offset, err = p.parseRange(); err != nil {
				return nil, err
			}
			if err := p.parsePipeline(lr.Selector); err != nil {
				return nil, err
			}
		} else {
			if err := p.parsePipeline(lr.Selector); err != nil {
				return nil, err
			}
			if lr.Range, lr.Offset, err = p.parseRange(); err != nil {
				return nil, err
			}
		}
	}
	if err := validatePipeline(lr.Selector, true); err != nil {
		return nil, err
	}
	return lr, nil
}

// validatePipeline checks stage ordering: unwrap appears at most once, only
// in a range aggregation, and only label filters may follow it.
func validatePipeline(sel *LogSelectorExpr, inRange bool) error {
	seenUnwrap := false
	for _, s := range sel.Stages {
		switch s.(type) {
		case *Unwrap:
			if !inRange {
				return validationErr("unwrap is only allowed in range aggregations")
			}
			if seenUnwrap {
				return validationErr("only one unwrap expression is allowed")
			}
			seenUnwrap = true
		case *LabelFilter:
		default:
			if seenUnwrap {
				return validationErr("only label filters are allowed after unwrap, found %s", s.String())
			}
		}
	}
	return nil
}

func unwrapOf(sel *LogSelectorExpr) *Unwrap {
	for _, s := range sel.Stages {
		if u, ok := s.(*Unwrap); ok {
			return u
		}
	}
	return nil
}

func (p *parser) parseGrouping() (*Grouping, error) {
	t, err := p.peek()
	if err != nil {
		return nil, err
	}
	if !p.isIdent(t, "by") && !p.isIdent(t, "without") {
		return nil, nil
	}
	p.next()
	names, err := p.parseLabelList()
	if err != nil {
		return nil, err
	}
	return &Grouping{Without: t.text == "without", Labels: names}, nil
}

func (p *parser) parseRangeAggregation(op token) (Expr, error) {
	if _, err := p.expect(tokLParen, "("); err != nil {
		return nil, err
	}
	e := &RangeAggregationExpr{Op: op.text}
	if op.text == OpQuantileOverTime {
		n, err := p.expect(tokNumber, "NUMBER")
		if err != nil {
			return nil, err
		}
		e.Param, _ = strconv.ParseFloat(n.text, 64)
		if _, err := p.expect(tokComma, ","); err != nil {
			return nil, err
		}
	}
	lr, err := p.parseLogRange()
	if err != nil {
		return nil, err
	}
	e.Left = lr
	if _, err := p.expect(tokRParen, ")"); err != nil {
		return nil, err
	}
	if e.Grouping, err = p.parseGrouping(); err != nil {
		return nil, err
	}
	if err := validateRangeAggregation(e); err != nil {
		return nil, err
	}
	return e, nil
}

func validateRangeAggregation(e *RangeAggregationExpr) error {
	u := unwrapOf(e.Left.Selector)
	switch e.Op {
	case OpCountOverTime, OpBytesOverTime, OpBytesRate:
		if u != nil {
			return validationErr("invalid aggregation %s with unwrap", e.Op)
		}
	case OpRate, OpAbsentOverTime:
	default:
		if u == nil {
			return validationErr("invalid aggregation %s without unwrap", e.Op)
		}
	}
	if e.Grouping != nil {
		switch e.Op {
		case OpAvgOverTime, OpStddevOverTime, OpStdvarOverTime, OpQuantileOverTime,
			OpMaxOverTime, OpMinOverTime, OpFirstOverTime, OpLastOverTime:
		default:
			return validationErr("grouping not allowed for %s aggregation", e.Op)
		}
	}
	return nil
}

func (p *parser) parseVectorAggregation(op token) (Expr, error) {
	e := &VectorAggregationExpr{Op: op.text}
	var err error
	if e.Grouping, err = p.parseGrouping(); err != nil {
		return nil, err
	}
	open, err := p.expect(tokLParen, "(")
	if err != nil {
		return nil, err
	}
	if err := p.enter(open); err != nil {
		return nil, err
	}
	defer p.leave()
	if op.text == OpTopK || op.text == OpBottomK {
		n, err := p.expect(tokNumber, "NUMBER")
		if err != nil {
			return nil, err
		}
		k, err := strconv.Atoi(n.text)
		if err != nil || k <= 0 {
			return nil, validationErr("invalid parameter %s(%s,...): must be a positive integer", op.text, n.text)
		}
		e.Param = k
		if _, err := p.expect(tokComma, ","); err != nil {
			return nil, err
		}
	}
	inner, err := p.parseExpr(0)
	if err != nil {
		return nil, err
	}
	s, ok := inner.(SampleExpr)
	if !ok {
		return nil, validationErr("aggregation %s requires a metric query, not a log query", op.text)
	}
	e.Left = s
	if _, err := p.expect(tokRParen, ")"); err != nil {
		return nil, err
	}
	if e.Grouping == nil {
		if e.Grouping, err = p.parseGrouping(); err != nil {
			return nil, err
		}
	}
	if (e.Op == OpSort || e.Op == OpSortDesc) && e.Grouping != nil {
		return nil, validationErr("grouping not allowed for %s aggregation", e.Op)
	}
	if _, ok := s.(*LiteralExpr); ok {
		return nil, validationErr("aggregation %s requires a vector, not a scalar", e.Op)
	}
	return e, nil
}

func (p *parser) parseVector() (Expr, error) {
	if _, err := p.expect(tokLParen, "("); err != nil {
		return nil, err
	}
	t, err := p.next()
	if err != nil {
		return nil, err
	}
	sign := 1.0
	if t.kind == tokSub {
		sign = -1
		if t, err = p.next(); err != nil {
			return nil, err
		}
	}
	if t.kind != tokNumber {
		return nil, unexpected(t, "NUMBER")
	}
	v, _ := strconv.ParseFloat(t.text, 64)
	if _, err := p.expect(tokRParen, ")"); err != nil {
		return nil, err
	}
	return &VectorExpr{Val: sign * v}, nil
}

func (p *parser) parseLabelReplace() (Expr, error) {
	open, err := p.expect(tokLParen, "(")
	if err != nil {
		return nil, err
	}
	if err := p.enter(open); err != nil {
		return nil, err
	}
	defer p.leave()
	inner, err := p.parseExpr(0)
	if err != nil {
		return nil, err
	}
	s, ok := inner.(SampleExpr)
	if !ok {
		return nil, validationErr("label_replace requires a metric query, not a log query")
	}
	e := &LabelReplaceExpr{Left: s}
	for _, dst := range []*string{&e.Dst, &e.Replacement, &e.Src, &e.Regex} {
		if _, err := p.expect(tokComma, ","); err != nil {
			return nil, err
		}
		t, err := p.expect(tokString, "STRING")
		if err != nil {
			return nil, err
		}
		*dst = t.text
	}
	if _, err := p.expect(tokRParen, ")"); err != nil {
		return nil, err
	}
	if _, err := regexp.Compile("^(?:" + e.Regex + ")$"); err != nil {
		return nil, validationErr("invalid regular expression in label_replace(): %s", e.Regex)
	}
	if !labelname.Valid(e.Dst) {
		return nil, validationErr("invalid destination label name in label_replace(): %s", e.Dst)
	}
	return e, nil
}
