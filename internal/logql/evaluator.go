package logql

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"sort"

	"github.com/grafana/regexp"
	"github.com/prometheus/prometheus/model/labels"
)

// sample is one element of a step's vector.
type sample struct {
	lbs labels.Labels
	v   float64
}

// stepResult is the value of an expression at one step.
type stepResult struct {
	t        int64 // the step's time, as reported in results
	vec      []sample
	scalar   float64
	isScalar bool
	ordered  bool // vec is in a meaningful order (sort, sort_desc)
}

// evaluator produces an expression's value step by step, in time order.
// Each step's vector is owned by the caller until the next call.
type evaluator interface {
	next(ctx context.Context) (bool, stepResult, error)
	close()
}

// newEvaluator builds the evaluator of expr. parent is the enclosing
// expression, which decides whether a range aggregation can be pushed into
// the store.
func (q *query) newEvaluator(ctx context.Context, expr SampleExpr, parent SampleExpr) (evaluator, error) {
	switch e := expr.(type) {
	case *LiteralExpr:
		return &constEvaluator{q: q, v: e.Val, scalar: true}, nil
	case *VectorExpr:
		return &constEvaluator{q: q, v: e.Val}, nil
	case *RangeAggregationExpr:
		if ev, ok, err := q.tryPushAggregate(ctx, e, parent); err != nil || ok {
			return ev, err
		}
		return q.newRangeEvaluator(ctx, withParentGrouping(e, parent))
	case *VectorAggregationExpr:
		inner, err := q.newEvaluator(ctx, e.Left, e)
		if err != nil {
			return nil, err
		}
		return &vectorAggEvaluator{q: q, expr: e, inner: inner}, nil
	case *BinOpExpr:
		l, err := q.newEvaluator(ctx, e.LHS, e)
		if err != nil {
			return nil, err
		}
		r, err := q.newEvaluator(ctx, e.RHS, e)
		if err != nil {
			l.close()
			return nil, err
		}
		return &binOpEvaluator{expr: e, lhs: l, rhs: r}, nil
	case *LabelReplaceExpr:
		inner, err := q.newEvaluator(ctx, e.Left, e)
		if err != nil {
			return nil, err
		}
		re, err := regexp.Compile("^(?:" + e.Regex + ")$")
		if err != nil {
			inner.close()
			return nil, err
		}
		return &labelReplaceEvaluator{expr: e, re: re, inner: inner}, nil
	}
	return nil, fmt.Errorf("BUG: unexpected expression %T", expr)
}

// constEvaluator yields a literal (scalar) or vector(x) at every step.
type constEvaluator struct {
	q      *query
	v      float64
	scalar bool
	i      int
}

func (c *constEvaluator) next(context.Context) (bool, stepResult, error) {
	if c.i >= c.q.nSteps {
		return false, stepResult{}, nil
	}
	r := stepResult{t: c.q.stepTime(c.i), scalar: c.v, isScalar: c.scalar}
	if !c.scalar {
		r.vec = []sample{{lbs: labels.EmptyLabels(), v: c.v}}
	}
	c.i++
	return true, r, nil
}

func (*constEvaluator) close() {}

// groupLabels returns the labels a sample is grouped under.
func groupLabels(ls labels.Labels, g *Grouping) labels.Labels {
	if g == nil {
		return labels.EmptyLabels()
	}
	b := labels.NewScratchBuilder(ls.Len())
	ls.Range(func(l labels.Label) {
		if slices.Contains(g.Labels, l.Name) != g.Without {
			b.Add(l.Name, l.Value)
		}
	})
	return b.Labels()
}

type vectorAggEvaluator struct {
	q     *query
	expr  *VectorAggregationExpr
	inner evaluator
	buf   []byte
}

type aggGroup struct {
	lbs     labels.Labels
	sum     float64
	count   float64
	min     float64
	max     float64
	values  []float64
	samples []sample
}

func (v *vectorAggEvaluator) next(ctx context.Context) (bool, stepResult, error) {
	ok, r, err := v.inner.next(ctx)
	if err != nil || !ok {
		return ok, r, err
	}
	e := v.expr
	out := stepResult{t: r.t}
	switch e.Op {
	case OpSort, OpSortDesc:
		vec := slices.Clone(r.vec)
		sort.SliceStable(vec, func(i, j int) bool {
			a, b := vec[i].v, vec[j].v
			if e.Op == OpSortDesc {
				a, b = b, a
			}
			return a < b || math.IsNaN(b) && !math.IsNaN(a)
		})
		out.vec, out.ordered = vec, true
		return true, out, nil
	}
	groups := map[string]*aggGroup{}
	var order []string
	for _, s := range r.vec {
		gl := groupLabels(s.lbs, e.Grouping)
		v.buf = gl.Bytes(v.buf[:0])
		g, ok := groups[string(v.buf)]
		if !ok {
			g = &aggGroup{lbs: gl, min: s.v, max: s.v}
			groups[string(v.buf)] = g
			order = append(order, string(v.buf))
		}
		g.sum += s.v
		g.count++
		if s.v < g.min || math.IsNaN(g.min) {
			g.min = s.v
		}
		if s.v > g.max || math.IsNaN(g.max) {
			g.max = s.v
		}
		switch e.Op {
		case OpStddev, OpStdvar:
			g.values = append(g.values, s.v)
		case OpTopK, OpBottomK:
			g.samples = append(g.samples, s)
		}
	}
	for _, k := range order {
		g := groups[k]
		switch e.Op {
		case OpSum:
			out.vec = append(out.vec, sample{g.lbs, g.sum})
		case OpAvg:
			out.vec = append(out.vec, sample{g.lbs, g.sum / g.count})
		case OpCount:
			out.vec = append(out.vec, sample{g.lbs, g.count})
		case OpMin:
			out.vec = append(out.vec, sample{g.lbs, g.min})
		case OpMax:
			out.vec = append(out.vec, sample{g.lbs, g.max})
		case OpStddev:
			out.vec = append(out.vec, sample{g.lbs, math.Sqrt(variance(g.values))})
		case OpStdvar:
			out.vec = append(out.vec, sample{g.lbs, variance(g.values)})
		case OpTopK, OpBottomK:
			ss := g.samples
			slices.SortFunc(ss, func(a, b sample) int {
				c := cmpDesc(a.v, b.v)
				if e.Op == OpBottomK {
					c = cmpAsc(a.v, b.v)
				}
				if c != 0 {
					return c
				}
				return labels.Compare(a.lbs, b.lbs) // ties: deterministic
			})
			out.vec = append(out.vec, ss[:min(e.Param, len(ss))]...)
		}
	}
	return true, out, nil
}

// cmpDesc orders larger values first and NaN last.
func cmpDesc(a, b float64) int {
	switch {
	case math.IsNaN(a) && math.IsNaN(b):
		return 0
	case math.IsNaN(a):
		return 1
	case math.IsNaN(b):
		return -1
	}
	return cmp.Compare(b, a)
}

// cmpAsc orders smaller values first and NaN last.
func cmpAsc(a, b float64) int {
	switch {
	case math.IsNaN(a) || math.IsNaN(b):
		return cmpDesc(a, b)
	}
	return cmp.Compare(a, b)
}

func variance(vs []float64) float64 {
	if len(vs) == 0 {
		return math.NaN()
	}
	var mean float64
	for _, v := range vs {
		mean += v
	}
	mean /= float64(len(vs))
	var sq float64
	for _, v := range vs {
		sq += (v - mean) * (v - mean)
	}
	return sq / float64(len(vs))
}

func (v *vectorAggEvaluator) close() { v.inner.close() }

type labelReplaceEvaluator struct {
	expr  *LabelReplaceExpr
	re    *regexp.Regexp
	inner evaluator
}

func (l *labelReplaceEvaluator) next(ctx context.Context) (bool, stepResult, error) {
	ok, r, err := l.inner.next(ctx)
	if err != nil || !ok || r.isScalar {
		return ok, r, err
	}
	out := stepResult{t: r.t}
	seen := map[string]bool{}
	var buf []byte
	for _, s := range r.vec {
		src := s.lbs.Get(l.expr.Src)
		if idx := l.re.FindStringSubmatchIndex(src); idx != nil {
			res := string(l.re.ExpandString(nil, l.expr.Replacement, src, idx))
			b := labels.NewBuilder(s.lbs)
			b.Set(l.expr.Dst, res) // an empty value deletes the label
			s.lbs = b.Labels()
		}
		buf = s.lbs.Bytes(buf[:0])
		if seen[string(buf)] {
			return false, stepResult{}, fmt.Errorf("vector cannot contain metrics with the same labelset")
		}
		seen[string(buf)] = true
		out.vec = append(out.vec, s)
	}
	return true, out, nil
}

func (l *labelReplaceEvaluator) close() { l.inner.close() }

type binOpEvaluator struct {
	expr     *BinOpExpr
	lhs, rhs evaluator
}

func (b *binOpEvaluator) close() {
	b.lhs.close()
	b.rhs.close()
}

func (b *binOpEvaluator) next(ctx context.Context) (bool, stepResult, error) {
	lok, l, err := b.lhs.next(ctx)
	if err != nil {
		return false, stepResult{}, err
	}
	rok, r, err := b.rhs.next(ctx)
	if err != nil {
		return false, stepResult{}, err
	}
	if !lok || !rok {
		return false, stepResult{}, nil
	}
	e := b.expr
	out := stepResult{t: l.t}
	switch {
	case l.isScalar && r.isScalar:
		v, keep := binOp(e.Op, l.scalar, r.scalar)
		if isComparison(e.Op) {
			v = boolValue(keep)
		}
		out.isScalar, out.scalar = true, v
	case l.isScalar || r.isScalar:
		for _, s := range pick(l.isScalar, r.vec, l.vec) {
			x, y := s.v, r.scalar
			if l.isScalar {
				x, y = l.scalar, s.v
			}
			v, keep := vectorResult(e, x, y, s.v)
			if !keep {
				continue
			}
			out.vec = append(out.vec, sample{s.lbs, v})
		}
	default:
		vec, err := vectorBinOp(e, l.vec, r.vec)
		if err != nil {
			return false, stepResult{}, err
		}
		out.vec = vec
	}
	return true, out, nil
}

func pick(first bool, a, b []sample) []sample {
	if first {
		return a
	}
	return b
}

func boolValue(b bool) float64 {
	if b {
		return 1
	}
	return 0
}

// binOp applies an arithmetic or comparison operator. For comparisons it
// returns the left value and whether the comparison holds.
// vectorResult is the value of one vector sample under a binary operation
// with operands x and y, and whether the sample stays, as in PromQL: a
// comparison filters and keeps the sample's own value (sv), or with bool
// gives 0 or 1 and keeps every sample; other operations keep the result.
func vectorResult(e *BinOpExpr, x, y, sv float64) (float64, bool) {
	v, keep := binOp(e.Op, x, y)
	switch {
	case !isComparison(e.Op):
		return v, true
	case e.ReturnBool:
		return boolValue(keep), true
	default:
		return sv, keep
	}
}

func binOp(op string, x, y float64) (float64, bool) {
	switch op {
	case "+":
		return x + y, true
	case "-":
		return x - y, true
	case "*":
		return x * y, true
	case "/":
		return x / y, true
	case "%":
		return math.Mod(x, y), true
	case "^":
		return math.Pow(x, y), true
	case "==":
		return x, x == y
	case "!=":
		return x, x != y
	case ">":
		return x, x > y
	case ">=":
		return x, x >= y
	case "<":
		return x, x < y
	case "<=":
		return x, x <= y
	}
	return 0, false
}

// signature returns the labels two samples are matched on.
func signature(ls labels.Labels, m *VectorMatching, buf []byte) []byte {
	if m == nil {
		return ls.Bytes(buf[:0])
	}
	if m.On {
		return ls.BytesWithLabels(buf[:0], m.Labels...)
	}
	return ls.BytesWithoutLabels(buf[:0], m.Labels...)
}

func vectorBinOp(e *BinOpExpr, lhs, rhs []sample) ([]sample, error) {
	m := e.Matching
	var buf []byte
	switch e.Op {
	case "and", "unless":
		right := map[string]bool{}
		for _, s := range rhs {
			buf = signature(s.lbs, m, buf)
			right[string(buf)] = true
		}
		var out []sample
		for _, s := range lhs {
			buf = signature(s.lbs, m, buf)
			if right[string(buf)] == (e.Op == "and") {
				out = append(out, s)
			}
		}
		return out, nil
	case "or":
		left := map[string]bool{}
		out := slices.Clone(lhs)
		for _, s := range lhs {
			buf = signature(s.lbs, m, buf)
			left[string(buf)] = true
		}
		for _, s := range rhs {
			buf = signature(s.lbs, m, buf)
			if !left[string(buf)] {
				out = append(out, s)
			}
		}
		return out, nil
	}

	// Arithmetic and comparison: the "one" side is indexed by signature.
	many, one := lhs, rhs
	swapped := m != nil && m.Card == "group_right"
	if swapped {
		many, one = rhs, lhs
	}
	oneIdx := map[string]sample{}
	for _, s := range one {
		buf = signature(s.lbs, m, buf)
		if _, dup := oneIdx[string(buf)]; dup {
			return nil, fmt.Errorf("found duplicate series for the match group %s on the %s hand-side of the operation; many-to-many matching not allowed: matching labels must be unique on one side",
				s.lbs.String(), map[bool]string{false: "right", true: "left"}[swapped])
		}
		oneIdx[string(buf)] = s
	}
	grouped := m != nil && m.Card != ""
	seen := map[string]bool{}
	var out []sample
	for _, s := range many {
		buf = signature(s.lbs, m, buf)
		o, ok := oneIdx[string(buf)]
		if !ok {
			continue
		}
		if !grouped {
			if seen[string(buf)] {
				return nil, fmt.Errorf("found duplicate series for the match group %s on the left hand-side of the operation; many-to-many matching not allowed: matching labels must be unique on one side", s.lbs.String())
			}
			seen[string(buf)] = true
		}
		x, y := s.v, o.v
		if swapped {
			x, y = o.v, s.v
		}
		v, keep := vectorResult(e, x, y, s.v)
		if !keep {
			continue
		}
		out = append(out, sample{resultLabels(s.lbs, o.lbs, m), v})
	}
	return out, nil
}

// resultLabels is the label set of a vector-vector result, as in PromQL.
func resultLabels(many, one labels.Labels, m *VectorMatching) labels.Labels {
	if m == nil {
		return many
	}
	b := labels.NewBuilder(many)
	if m.Card == "" {
		if m.On {
			b.Keep(m.Labels...)
		} else {
			b.Del(m.Labels...)
		}
	}
	for _, n := range m.Include {
		if v := one.Get(n); v != "" {
			b.Set(n, v)
		} else {
			b.Del(n)
		}
	}
	return b.Labels()
}

// additiveRangeOps are the range aggregations whose value over a set of
// series is the sum of their values per series.
var additiveRangeOps = map[string]bool{
	OpCountOverTime: true, OpRate: true, OpBytesOverTime: true, OpBytesRate: true, OpSumOverTime: true,
}

// withParentGrouping pushes the grouping of an enclosing sum into an
// additive range aggregation, as Loki does: sum by (level)
// (count_over_time({…} | json [5m])) then keeps one series per level while
// it reads the lines, instead of one per distinct parsed label set (which
// after | json is often one per line). Pipeline errors are still found per
// line, before grouping. Other expressions are returned unchanged.
func withParentGrouping(e *RangeAggregationExpr, parent SampleExpr) *RangeAggregationExpr {
	va, ok := parent.(*VectorAggregationExpr)
	if !ok || va.Op != OpSum || e.Grouping != nil || !additiveRangeOps[e.Op] {
		return e
	}
	c := *e
	c.Grouping = va.Grouping
	if c.Grouping == nil {
		c.Grouping = &Grouping{} // sum(...): one series
	}
	return &c
}
