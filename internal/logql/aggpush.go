package logql

import (
	"context"
	"slices"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/lookout-dev/lookout/internal/event"
	"github.com/lookout-dev/lookout/internal/eventstore"
)

// maxPushedBuckets bounds the buckets per group of a pushed-down
// aggregation; beyond it (a range and step with a tiny common divisor over a
// long query) the Go evaluator is used.
const maxPushedBuckets = 1 << 20

// tryPushAggregate evaluates count_over_time, rate, bytes_over_time and
// bytes_rate with the store's Aggregate when that gives exactly Loki's
// answer:
//
//   - the store evaluates the whole pipeline (no parser or formatter), and
//   - the range aggregation is the argument of sum() or sum by (labels),
//     where every label is event.LevelLabel or a label of every selected
//     stream.
//
// The second condition exists because Loki splits series by structured
// metadata (record attributes), which Aggregate cannot group by: summing
// over groups of stream labels is the only grouping that does not depend on
// attributes. Windows (t-range, t] become half-open buckets by shifting
// their start by 1ns; the bucket width is gcd(range, step), so that every
// window is a whole number of buckets.
func (q *query) tryPushAggregate(ctx context.Context, e *RangeAggregationExpr, parent SampleExpr) (evaluator, bool, error) {
	if q.e.noPushdown {
		return nil, false, nil
	}
	var op eventstore.AggOp
	switch e.Op {
	case OpCountOverTime, OpRate:
		op = eventstore.AggCount
	case OpBytesOverTime, OpBytesRate:
		op = eventstore.AggBytes
	default:
		return nil, false, nil
	}
	agg, ok := parent.(*VectorAggregationExpr)
	if !ok || agg.Op != OpSum || agg.Grouping != nil && agg.Grouping.Without {
		return nil, false, nil
	}
	if e.Grouping != nil || unwrapOf(e.Left.Selector) != nil {
		return nil, false, nil
	}
	plan := planSelector(e.Left.Selector, !q.e.noPushdown)
	if !plan.pushedAll() {
		return nil, false, nil
	}
	rng, offset := int64(e.Left.Range), int64(e.Left.Offset)
	first := q.stepTime(0) - offset
	last := q.stepTime(q.nSteps-1) - offset
	width := rng
	if q.step > 0 {
		width = gcd(rng, q.step)
	}
	if (last-first+rng)/width > maxPushedBuckets {
		return nil, false, nil
	}
	sel := plan.sel
	sel.Kind, sel.Start, sel.End = q.kind, first-rng+1, last+1
	var groupBy []string
	if agg.Grouping != nil {
		groupBy = agg.Grouping.Labels
	}
	ok, err := q.streamsHaveLabels(ctx, sel, groupBy)
	if err != nil || !ok {
		return nil, false, err
	}
	q.stats.Aggregates++
	series, err := q.e.store.Aggregate(ctx, eventstore.AggregateParams{
		Selector: sel, Op: op, Step: width, GroupBy: slices.Clone(groupBy),
	})
	if err != nil {
		return nil, false, err
	}
	ev := &pushedEvaluator{q: q, op: e.Op, rng: rng, start: sel.Start}
	for _, s := range series {
		for _, p := range s.Points {
			if op == eventstore.AggCount {
				q.stats.RecordsScanned += int64(p.V)
			} else {
				q.stats.BytesProcessed += int64(p.V)
			}
		}
		ev.series = append(ev.series, pushedSeries{lbs: s.Labels, pts: s.Points})
	}
	return ev, true, nil
}

// streamsHaveLabels reports whether every stream sel selects has a
// non-empty value for each name (event.LevelLabel always qualifies).
func (q *query) streamsHaveLabels(ctx context.Context, sel eventstore.Selector, names []string) (bool, error) {
	var need []string
	for _, n := range names {
		if n != event.LevelLabel {
			need = append(need, n)
		}
	}
	if len(need) == 0 {
		return true, nil
	}
	streams, err := q.e.store.Series(ctx, sel.Kind, sel.Start, sel.End, sel.Matchers)
	if err != nil {
		return false, err
	}
	for _, ls := range streams {
		for _, n := range need {
			if ls.Get(n) == "" {
				return false, nil
			}
		}
	}
	return true, nil
}

func gcd(a, b int64) int64 {
	for b != 0 {
		a, b = b, a%b
	}
	return a
}

type pushedSeries struct {
	lbs labels.Labels
	pts []eventstore.Point
	lo  int
}

// pushedEvaluator turns the buckets of a pushed-down aggregation into one
// vector per step by summing the buckets of each window.
type pushedEvaluator struct {
	q      *query
	op     string
	rng    int64
	start  int64 // start of the first window's first bucket
	series []pushedSeries
	i      int
}

func (ev *pushedEvaluator) next(context.Context) (bool, stepResult, error) {
	if ev.i >= ev.q.nSteps {
		return false, stepResult{}, nil
	}
	wStart := ev.start + int64(ev.i)*ev.q.step
	wEnd := wStart + ev.rng
	res := stepResult{t: ev.q.stepTime(ev.i)}
	for si := range ev.series {
		s := &ev.series[si]
		for s.lo < len(s.pts) && s.pts[s.lo].T < wStart {
			s.lo++
		}
		sum, found := 0.0, false
		for j := s.lo; j < len(s.pts) && s.pts[j].T < wEnd; j++ {
			sum += s.pts[j].V
			found = true
		}
		if !found {
			continue
		}
		if ev.op == OpRate || ev.op == OpBytesRate {
			sum /= float64(ev.rng) / 1e9
		}
		res.vec = append(res.vec, sample{s.lbs, sum})
	}
	ev.i++
	return true, res, nil
}

func (*pushedEvaluator) close() {}
