package logql

import (
	"context"
	"slices"
	"strings"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/lookout-dev/lookout/internal/eventstore"
)

// ctxCheckEvery is how many records pass between context checks.
const ctxCheckEvery = 1024

func isStream(c category) bool { return c == catStream }
func isMeta(c category) bool   { return c == catMeta }
func isParsed(c category) bool { return c == catParsed }

// execLog runs a log query over [Start, End). When the store evaluates the
// whole pipeline it also applies the limit; otherwise records stream through
// the Go pipeline until the limit is reached.
func (q *query) execLog(ctx context.Context, e *LogSelectorExpr) (Value, error) {
	limit := q.p.Limit
	if limit == 0 {
		limit = q.e.opts.MaxLines
	}
	plan := planSelector(e, !q.e.noPushdown)
	pl, err := compilePipeline(plan.stages, q.e.opts.Now)
	if err != nil {
		return nil, err
	}
	sp := eventstore.SelectParams{Selector: plan.sel, Direction: q.p.Direction}
	sp.Kind, sp.Start, sp.End = q.kind, q.start, q.end
	interval := int64(q.p.Interval)
	if plan.pushedAll() && interval <= 0 {
		sp.Limit = limit
	}
	type streamAcc struct {
		Stream
		last int64
	}
	var (
		streams []*streamAcc
		idx     = map[string]int{}
		c       lineCtx
		sorted  []lbl
		key     []byte
		entries int
		n       int
	)
	q.stats.Selects++
	for r, err := range q.e.store.Select(ctx, sp) {
		if err != nil {
			return nil, err
		}
		n++
		if n%ctxCheckEvery == 0 {
			if err := ctx.Err(); err != nil {
				return nil, err
			}
		}
		q.stats.RecordsScanned++
		q.stats.BytesProcessed += int64(len(r.Body))
		c.ts, c.line = r.Time, r.Body
		c.lbs.reset(r)
		if !pl.process(&c) {
			continue
		}
		sorted = c.lbs.sorted(sorted)
		key = appendKey(key[:0], sorted, isStream)
		i, ok := idx[string(key)]
		if !ok {
			i = len(streams)
			idx[string(key)] = i
			streams = append(streams, &streamAcc{Stream: Stream{Labels: labelsOf(sorted, isStream)}})
		}
		st := streams[i]
		if interval > 0 && len(st.Entries) > 0 {
			d := r.Time - st.last
			if q.p.Direction == eventstore.Backward {
				d = -d
			}
			if d < interval {
				continue
			}
		}
		st.last = r.Time
		st.Entries = append(st.Entries, Entry{
			T:                  r.Time,
			Line:               strings.Clone(c.line), // the store may reuse the body's memory
			StructuredMetadata: labelsOf(sorted, isMeta),
			Parsed:             labelsOf(sorted, isParsed),
		})
		entries++
		if entries >= limit {
			break
		}
	}
	out := make(Streams, len(streams))
	for i, st := range streams {
		out[i] = st.Stream
	}
	slices.SortFunc(out, func(a, b Stream) int { return labels.Compare(a.Labels, b.Labels) })
	q.stats.EntriesReturned = int64(entries)
	return out, nil
}
