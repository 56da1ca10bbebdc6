package logql

import (
	"context"
	"iter"
	"math"
	"slices"
	"strings"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/lookout-dev/lookout/internal/event"
	"github.com/lookout-dev/lookout/internal/eventstore"
)

// rangeEvaluator evaluates a range aggregation in Go. Records stream from
// the store in time order; each is run through the pipeline once and added
// to its series. A step is emitted as soon as a record past its window end
// arrives. Per series the evaluator keeps only the samples of the windows
// still open, merged into one bucket per step at which they leave the window
// (raw values are kept only for quantile, stddev and stdvar), so memory
// depends on range/step and the number of live series, not on the number of
// records.
type rangeEvaluator struct {
	q      *query
	expr   *RangeAggregationExpr
	rng    int64
	offset int64
	ex     *extractor
	raw    bool // keep raw values

	pull    func() (*event.Record, error, bool)
	stop    func()
	pending *event.Record
	done    bool
	seen    int

	series    map[string]*rseries
	i         int // next step
	live      int // samples held
	c         lineCtx
	sorted    []lbl
	key       []byte
	absentLbs labels.Labels
}

type rseries struct {
	lbs  labels.Labels
	b    []bucket
	head int
}

// bucket merges the samples of a series that leave the window at the same
// step.
type bucket struct {
	evict       int
	count, sum  float64
	min, max    float64
	first, last float64
	values      []float64
}

func (q *query) newRangeEvaluator(ctx context.Context, e *RangeAggregationExpr) (evaluator, error) {
	plan := planSelector(e.Left.Selector, !q.e.noPushdown)
	ex, err := newExtractor(plan.stages, e, q.e.opts.Now)
	if err != nil {
		return nil, err
	}
	ev := &rangeEvaluator{
		q: q, expr: e, rng: int64(e.Left.Range), offset: int64(e.Left.Offset), ex: ex,
		series: map[string]*rseries{},
		raw:    e.Op == OpQuantileOverTime || e.Op == OpStddevOverTime || e.Op == OpStdvarOverTime,
	}
	if e.Op == OpAbsentOverTime {
		ev.absentLbs = absentLabels(e.Left.Selector.Matchers)
	}
	sp := eventstore.SelectParams{Selector: plan.sel, Direction: eventstore.Forward}
	sp.Kind = q.kind
	sp.Start = ev.evalTime(0) - ev.rng + 1
	sp.End = ev.evalTime(q.nSteps-1) + 1
	q.stats.Selects++
	ev.pull, ev.stop = iter.Pull2(q.e.store.Select(ctx, sp))
	return ev, nil
}

// absentLabels are the labels of absent_over_time's sample: the equality
// matchers of the selector, as in Prometheus' absent().
func absentLabels(ms []*labels.Matcher) labels.Labels {
	b := labels.NewBuilder(labels.EmptyLabels())
	seen := map[string]int{}
	for _, m := range ms {
		seen[m.Name]++
	}
	for _, m := range ms {
		if m.Type == labels.MatchEqual && seen[m.Name] == 1 {
			b.Set(m.Name, m.Value)
		}
	}
	return b.Labels()
}

// evalTime is the end of step i's window: the step's time minus the offset.
func (ev *rangeEvaluator) evalTime(i int) int64 { return ev.q.stepTime(i) - ev.offset }

// firstStepAtOrAfter returns the first step whose window end is ≥ t.
func (ev *rangeEvaluator) firstStepAtOrAfter(t int64) int {
	d := t - ev.evalTime(0)
	if d <= 0 {
		return 0
	}
	if ev.q.step == 0 {
		return 1
	}
	return int((d + ev.q.step - 1) / ev.q.step)
}

func (ev *rangeEvaluator) next(ctx context.Context) (bool, stepResult, error) {
	if ev.i >= ev.q.nSteps {
		return false, stepResult{}, nil
	}
	end := ev.evalTime(ev.i)
	for {
		if ev.pending == nil && !ev.done {
			r, err, ok := ev.pull()
			if err != nil {
				return false, stepResult{}, err
			}
			if !ok {
				ev.done = true
			} else {
				ev.pending = r
			}
		}
		if ev.pending == nil || ev.pending.Time > end {
			break
		}
		r := ev.pending
		ev.pending = nil
		if err := ev.add(ctx, r); err != nil {
			return false, stepResult{}, err
		}
	}
	res := stepResult{t: ev.q.stepTime(ev.i)}
	for k, s := range ev.series {
		for s.head < len(s.b) && s.b[s.head].evict <= ev.i {
			ev.live -= 1 + len(s.b[s.head].values)
			s.head++
		}
		if s.head == len(s.b) {
			delete(ev.series, k)
			continue
		}
		if s.head > len(s.b)/2 {
			s.b = append(s.b[:0], s.b[s.head:]...)
			s.head = 0
		}
		if ev.expr.Op != OpAbsentOverTime {
			res.vec = append(res.vec, sample{s.lbs, ev.value(s.b[s.head:])})
		}
	}
	if ev.expr.Op == OpAbsentOverTime && len(ev.series) == 0 {
		res.vec = append(res.vec, sample{ev.absentLbs, 1})
	}
	ev.i++
	return true, res, nil
}

func (ev *rangeEvaluator) add(ctx context.Context, r *event.Record) error {
	ev.seen++
	if ev.seen%ctxCheckEvery == 0 {
		if err := ctx.Err(); err != nil {
			return err
		}
	}
	ev.q.stats.RecordsScanned++
	ev.q.stats.BytesProcessed += int64(len(r.Body))
	first := ev.firstStepAtOrAfter(r.Time)
	evict := ev.firstStepAtOrAfter(r.Time + ev.rng)
	if first >= ev.q.nSteps || evict <= first {
		return nil // in no window: between windows when step > range
	}
	v, ok := ev.ex.extract(&ev.c, r)
	if !ok {
		return nil
	}
	if ev.expr.Op != OpAbsentOverTime && ev.c.lbs.hasErr() {
		errv, _ := ev.c.lbs.get(errorLabel)
		ev.sorted = ev.c.lbs.sorted(ev.sorted)
		return &PipelineError{Err: errv, Labels: labelsOf(ev.sorted, nil)}
	}
	// The grouping's labels only, then sorted: a by() keeps a few of the
	// many labels a parser may have added, and sorting them all per line
	// was a large part of a `| json` metric query.
	ev.sorted = ev.sorted[:0]
	if ev.expr.Op != OpAbsentOverTime {
		g := ev.expr.Grouping
		for _, l := range ev.c.lbs.ls {
			if g == nil || slices.Contains(g.Labels, l.name) != g.Without {
				ev.sorted = append(ev.sorted, l)
			}
		}
		slices.SortFunc(ev.sorted, func(x, y lbl) int { return strings.Compare(x.name, y.name) })
	}
	ev.key = appendKey(ev.key[:0], ev.sorted, nil)
	s, ok := ev.series[string(ev.key)]
	if !ok {
		s = &rseries{lbs: labelsOf(ev.sorted, nil)}
		ev.series[string(ev.key)] = s
	}
	if n := len(s.b); n > s.head && s.b[n-1].evict == evict {
		b := &s.b[n-1]
		b.count++
		b.sum += v
		if v < b.min || math.IsNaN(b.min) {
			b.min = v
		}
		if v > b.max || math.IsNaN(b.max) {
			b.max = v
		}
		b.last = v
		if ev.raw {
			b.values = append(b.values, v)
			ev.live++
		}
	} else {
		b := bucket{evict: evict, count: 1, sum: v, min: v, max: v, first: v, last: v}
		if ev.raw {
			b.values = []float64{v}
			ev.live++
		}
		s.b = append(s.b, b)
		ev.live++
	}
	if ev.live > ev.q.e.opts.MaxSamples {
		return limitExceeded("the query would hold more than %d samples in memory", ev.q.e.opts.MaxSamples)
	}
	return nil
}

// value computes the aggregation over the buckets of an open window.
func (ev *rangeEvaluator) value(bs []bucket) float64 {
	var count, sum float64
	mn, mx := bs[0].min, bs[0].max
	for _, b := range bs {
		count += b.count
		sum += b.sum
		if b.min < mn || math.IsNaN(mn) {
			mn = b.min
		}
		if b.max > mx || math.IsNaN(mx) {
			mx = b.max
		}
	}
	secs := float64(ev.rng) / 1e9
	switch ev.expr.Op {
	case OpCountOverTime:
		return count
	case OpRate, OpBytesRate:
		return sum / secs
	case OpBytesOverTime, OpSumOverTime:
		return sum
	case OpAvgOverTime:
		return sum / count
	case OpMinOverTime:
		return mn
	case OpMaxOverTime:
		return mx
	case OpFirstOverTime:
		return bs[0].first
	case OpLastOverTime:
		return bs[len(bs)-1].last
	}
	var vals []float64
	for _, b := range bs {
		vals = append(vals, b.values...)
	}
	switch ev.expr.Op {
	case OpStdvarOverTime:
		return variance(vals)
	case OpStddevOverTime:
		return math.Sqrt(variance(vals))
	case OpQuantileOverTime:
		return quantile(ev.expr.Param, vals)
	}
	return math.NaN()
}

// quantile is the φ-quantile of vs with linear interpolation between ranks,
// as Prometheus' quantile_over_time.
func quantile(q float64, vs []float64) float64 {
	if len(vs) == 0 || math.IsNaN(q) {
		return math.NaN()
	}
	if q < 0 {
		return math.Inf(-1)
	}
	if q > 1 {
		return math.Inf(+1)
	}
	slices.Sort(vs)
	rank := q * float64(len(vs)-1)
	lower := math.Max(0, math.Floor(rank))
	upper := math.Min(float64(len(vs)-1), lower+1)
	w := rank - lower
	return vs[int(lower)]*(1-w) + vs[int(upper)]*w
}

func (ev *rangeEvaluator) close() {
	if ev.stop != nil {
		ev.stop()
	}
}
