// Package memstore is an in-memory reference implementation of
// eventstore.Store for tests and for checking other implementations against.
//
// It keeps every record in a slice per stream, guarded by one mutex. It
// favours obvious correctness over speed, and nothing survives the process:
// "durable" here means held in memory until Close.
package memstore

import (
	"cmp"
	"context"
	"fmt"
	"iter"
	"regexp"
	"slices"
	"strings"
	"sync"
	"time"
	"unicode/utf8"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/lookout-dev/lookout/internal/event"
	"github.com/lookout-dev/lookout/internal/eventstore"
)

// recordOverhead is the estimated per-record cost, beyond its strings, that
// Size counts.
const recordOverhead = 48

// Store is an in-memory eventstore.Store. The zero value is not usable; call
// New.
type Store struct {
	mu      sync.RWMutex
	closed  bool
	seq     uint64
	size    int64
	streams map[streamKey]*stream
}

type streamKey struct {
	kind   event.Kind
	labels string // labels.Labels.String(), unique per label set
}

type stream struct {
	kind   event.Kind
	labels labels.Labels
	recs   []stored // ordered by (Time, seq)
}

type stored struct {
	rec event.Record
	seq uint64 // append order, to order equal timestamps
}

var _ eventstore.Store = (*Store)(nil)

// New returns an empty store.
func New() *Store {
	return &Store{streams: make(map[streamKey]*stream)}
}

// Append implements eventstore.Store. Invalid UTF-8 in labels, body, level,
// ids and attributes is replaced by U+FFFD, one per invalid run, as duckstore
// does. A record of an unknown kind fails the whole batch.
func (s *Store) Append(ctx context.Context, batch []event.Record) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return eventstore.ErrClosed
	}
	for i := range batch {
		if k := batch[i].Kind; k < event.KindLog || k > event.KindRUM {
			return fmt.Errorf("append: record %d has unknown kind %d", i, k)
		}
	}
	for i := range batch {
		r := clone(&batch[i])
		key := streamKey{kind: r.Kind, labels: r.Labels.String()}
		st, ok := s.streams[key]
		if !ok {
			st = &stream{kind: r.Kind, labels: r.Labels}
			s.streams[key] = st
			s.size += int64(len(key.labels))
		}
		s.seq++
		// Insert after every record with the same or an earlier time, so
		// that equal timestamps keep their append order.
		at := len(st.recs)
		if at > 0 && st.recs[at-1].rec.Time > r.Time {
			at, _ = slices.BinarySearchFunc(st.recs, r.Time+1, func(x stored, t int64) int { return cmp.Compare(x.rec.Time, t) })
		}
		st.recs = slices.Insert(st.recs, at, stored{rec: r, seq: s.seq})
		s.size += recordSize(&r)
	}
	return nil
}

// clone deep-copies r so that the store keeps no reference into the caller's
// batch, repairing invalid UTF-8 on the way.
func clone(r *event.Record) event.Record {
	c := *r
	b := labels.NewScratchBuilder(r.Labels.Len())
	r.Labels.Range(func(l labels.Label) {
		b.Add(strings.Clone(validUTF8(l.Name)), strings.Clone(validUTF8(l.Value)))
	})
	b.Sort()
	c.Labels = b.Labels()
	c.Body = strings.Clone(validUTF8(r.Body))
	c.Level = strings.Clone(validUTF8(r.Level))
	c.TraceID = strings.Clone(validUTF8(r.TraceID))
	c.SpanID = strings.Clone(validUTF8(r.SpanID))
	c.Attrs = nil
	if len(r.Attrs) > 0 {
		c.Attrs = make([]event.Attr, len(r.Attrs))
		for i, a := range r.Attrs {
			c.Attrs[i] = event.Attr{Key: strings.Clone(validUTF8(a.Key)), Value: strings.Clone(validUTF8(a.Value))}
		}
	}
	return c
}

func validUTF8(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}

func recordSize(r *event.Record) int64 {
	n := recordOverhead + len(r.Body) + len(r.Level) + len(r.TraceID) + len(r.SpanID)
	for _, a := range r.Attrs {
		n += len(a.Key) + len(a.Value)
	}
	return int64(n)
}

// filter is a compiled Selector.
type filter struct {
	sel   eventstore.Selector
	lines []func(string) bool
}

func compile(sel eventstore.Selector) (*filter, error) {
	f := &filter{sel: sel}
	for _, lf := range sel.LineFilters {
		v := lf.Value
		switch lf.Op {
		case eventstore.LineContains:
			f.lines = append(f.lines, func(b string) bool { return strings.Contains(b, v) })
		case eventstore.LineNotContains:
			f.lines = append(f.lines, func(b string) bool { return !strings.Contains(b, v) })
		case eventstore.LineRegexp, eventstore.LineNotRegexp:
			re, err := regexp.Compile(v)
			if err != nil {
				return nil, fmt.Errorf("compile line filter %q: %w", v, err)
			}
			want := lf.Op == eventstore.LineRegexp
			f.lines = append(f.lines, func(b string) bool { return re.MatchString(b) == want })
		default:
			return nil, fmt.Errorf("unknown line filter operator %d", lf.Op)
		}
	}
	return f, nil
}

func (f *filter) matchStream(st *stream) bool {
	return st.kind == f.sel.Kind && matchLabels(f.sel.Matchers, st.labels)
}

func matchLabels(ms []*labels.Matcher, ls labels.Labels) bool {
	for _, m := range ms {
		if !m.Matches(ls.Get(m.Name)) {
			return false
		}
	}
	return true
}

// matchRecord checks level and line filters; the caller has checked the time.
func (f *filter) matchRecord(r *event.Record, lines bool) bool {
	for _, m := range f.sel.Level {
		if !m.Matches(r.Level) {
			return false
		}
	}
	if lines {
		for _, ok := range f.lines {
			if !ok(r.Body) {
				return false
			}
		}
	}
	return true
}

// inRange returns the records of st with Time in [start, end).
func inRange(st *stream, start, end int64) []stored {
	if start >= end {
		return nil
	}
	lo, _ := slices.BinarySearchFunc(st.recs, start, func(x stored, t int64) int { return cmp.Compare(x.rec.Time, t) })
	hi, _ := slices.BinarySearchFunc(st.recs, end, func(x stored, t int64) int { return cmp.Compare(x.rec.Time, t) })
	return st.recs[lo:hi]
}

// each calls fn for every record matching f, under the read lock.
func (s *Store) each(ctx context.Context, f *filter, lines bool, fn func(st *stream, r *stored)) error {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return eventstore.ErrClosed
	}
	for _, st := range s.streams {
		if err := ctx.Err(); err != nil {
			return err
		}
		if !f.matchStream(st) {
			continue
		}
		recs := inRange(st, f.sel.Start, f.sel.End)
		for i := range recs {
			if f.matchRecord(&recs[i].rec, lines) {
				fn(st, &recs[i])
			}
		}
	}
	return nil
}

type hit struct {
	labels labels.Labels
	stored
}

// Select implements eventstore.Store. Records with equal times are ordered
// by stream labels, then append order (reversed for Backward). All matches
// are collected before the first is yielded.
func (s *Store) Select(ctx context.Context, p eventstore.SelectParams) iter.Seq2[*event.Record, error] {
	return func(yield func(*event.Record, error) bool) {
		f, err := compile(p.Selector)
		if err != nil {
			yield(nil, err)
			return
		}
		var hits []hit
		err = s.each(ctx, f, true, func(st *stream, r *stored) {
			hits = append(hits, hit{labels: st.labels, stored: *r})
		})
		if err != nil {
			yield(nil, err)
			return
		}
		slices.SortFunc(hits, func(a, b hit) int {
			if c := cmp.Compare(a.rec.Time, b.rec.Time); c != 0 {
				return c
			}
			if c := labels.Compare(a.labels, b.labels); c != 0 {
				return c
			}
			return cmp.Compare(a.seq, b.seq)
		})
		if p.Direction == eventstore.Backward {
			slices.Reverse(hits)
		}
		if p.Limit > 0 && len(hits) > p.Limit {
			hits = hits[:p.Limit]
		}
		for i := range hits {
			if err := ctx.Err(); err != nil {
				yield(nil, err)
				return
			}
			// A copy, so that a caller who modifies it cannot corrupt the
			// store.
			r := hits[i].rec
			r.Attrs = slices.Clone(r.Attrs)
			if !yield(&r, nil) {
				return
			}
		}
	}
}

// Aggregate implements eventstore.Store.
func (s *Store) Aggregate(ctx context.Context, p eventstore.AggregateParams) ([]eventstore.Series, error) {
	if p.Step <= 0 {
		return nil, fmt.Errorf("aggregate: step must be positive, got %d", p.Step)
	}
	if p.Op != eventstore.AggCount && p.Op != eventstore.AggBytes {
		return nil, fmt.Errorf("aggregate: unknown operation %d", p.Op)
	}
	f, err := compile(p.Selector)
	if err != nil {
		return nil, err
	}
	type group struct {
		labels  labels.Labels
		buckets map[int64]float64
	}
	groups := map[string]*group{}
	err = s.each(ctx, f, true, func(st *stream, r *stored) {
		ls := groupLabels(st.labels, r.rec.Level, p.GroupBy, p.Without)
		key := ls.String()
		g, ok := groups[key]
		if !ok {
			g = &group{labels: ls, buckets: map[int64]float64{}}
			groups[key] = g
		}
		// Unsigned, wrapping arithmetic keeps this exact even when
		// Time-Start does not fit an int64.
		off := uint64(r.rec.Time - p.Start)
		t := p.Start + int64(off/uint64(p.Step)*uint64(p.Step))
		if p.Op == eventstore.AggCount {
			g.buckets[t]++
		} else {
			g.buckets[t] += float64(len(r.rec.Body))
		}
	})
	if err != nil {
		return nil, err
	}
	out := make([]eventstore.Series, 0, len(groups))
	for _, g := range groups {
		sr := eventstore.Series{Labels: g.labels}
		for t, v := range g.buckets {
			sr.Points = append(sr.Points, eventstore.Point{T: t, V: v})
		}
		slices.SortFunc(sr.Points, func(a, b eventstore.Point) int { return cmp.Compare(a.T, b.T) })
		out = append(out, sr)
	}
	slices.SortFunc(out, func(a, b eventstore.Series) int { return labels.Compare(a.Labels, b.Labels) })
	return out, nil
}

// groupLabels returns the labels a record of a stream with labels ls and the
// given level is grouped under, following eventstore.AggregateParams:
// without Without, the named labels (event.LevelLabel names the level);
// with Without, the stream labels minus the named ones. Empty values are
// dropped, as in Prometheus.
func groupLabels(ls labels.Labels, level string, names []string, without bool) labels.Labels {
	b := labels.NewBuilder(labels.EmptyLabels())
	if without {
		b.Reset(ls)
		for _, n := range names {
			b.Del(n)
		}
		return b.Labels()
	}
	for _, n := range names {
		if n == event.LevelLabel {
			b.Set(n, level)
			continue
		}
		b.Set(n, ls.Get(n))
	}
	return b.Labels()
}

// matchingStreams returns the streams of kind matching ms that have at least
// one record in [start, end).
func (s *Store) matchingStreams(ctx context.Context, kind event.Kind, start, end int64, ms []*labels.Matcher) ([]labels.Labels, error) {
	f := &filter{sel: eventstore.Selector{Kind: kind, Start: start, End: end, Matchers: ms}}
	seen := map[*stream]bool{}
	err := s.each(ctx, f, false, func(st *stream, _ *stored) { seen[st] = true })
	if err != nil {
		return nil, err
	}
	out := make([]labels.Labels, 0, len(seen))
	for st := range seen {
		out = append(out, st.labels)
	}
	slices.SortFunc(out, labels.Compare)
	return out, nil
}

// Series implements eventstore.Store. The result is sorted.
func (s *Store) Series(ctx context.Context, kind event.Kind, start, end int64, matchers []*labels.Matcher) ([]labels.Labels, error) {
	return s.matchingStreams(ctx, kind, start, end, matchers)
}

// LabelNames implements eventstore.Store.
func (s *Store) LabelNames(ctx context.Context, kind event.Kind, start, end int64, matchers []*labels.Matcher) ([]string, error) {
	series, err := s.matchingStreams(ctx, kind, start, end, matchers)
	if err != nil {
		return nil, err
	}
	var names []string
	for _, ls := range series {
		ls.Range(func(l labels.Label) { names = append(names, l.Name) })
	}
	slices.Sort(names)
	return slices.Compact(names), nil
}

// LabelValues implements eventstore.Store.
func (s *Store) LabelValues(ctx context.Context, kind event.Kind, name string, start, end int64, matchers []*labels.Matcher) ([]string, error) {
	series, err := s.matchingStreams(ctx, kind, start, end, matchers)
	if err != nil {
		return nil, err
	}
	var values []string
	for _, ls := range series {
		if v := ls.Get(name); v != "" {
			values = append(values, v)
		}
	}
	slices.Sort(values)
	return slices.Compact(values), nil
}

// Stats implements eventstore.Store.
func (s *Store) Stats(ctx context.Context, sel eventstore.Selector) (eventstore.Stats, error) {
	f := &filter{sel: sel}
	var st eventstore.Stats
	seen := map[*stream]bool{}
	err := s.each(ctx, f, false, func(str *stream, r *stored) {
		seen[str] = true
		st.Entries++
		st.Bytes += uint64(len(r.rec.Body))
	})
	st.Streams = uint64(len(seen))
	return st, err
}

// ApplyRetention implements eventstore.Store. The size cap deletes records
// one at a time, oldest first, until the estimated size fits.
func (s *Store) ApplyRetention(ctx context.Context, now time.Time, r eventstore.Retention) (eventstore.RetentionResult, error) {
	if err := ctx.Err(); err != nil {
		return eventstore.RetentionResult{}, err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.closed {
		return eventstore.RetentionResult{}, eventstore.ErrClosed
	}
	var res eventstore.RetentionResult
	for _, st := range s.streams {
		period := r.PeriodFor(st.labels)
		if period <= 0 {
			continue
		}
		cutoff := eventstore.Cutoff(now.UnixNano(), period)
		n, _ := slices.BinarySearchFunc(st.recs, cutoff, func(x stored, t int64) int { return cmp.Compare(x.rec.Time, t) })
		s.drop(st, n)
		res.Deleted += uint64(n)
	}
	if r.MaxBytes > 0 && s.size > r.MaxBytes {
		type ref struct {
			st *stream
			t  int64
		}
		var all []ref
		for _, st := range s.streams {
			for i := range st.recs {
				all = append(all, ref{st, st.recs[i].rec.Time})
			}
		}
		slices.SortFunc(all, func(a, b ref) int { return cmp.Compare(a.t, b.t) })
		// Records of a stream are sorted by time, so the oldest overall is
		// always the first remaining one of its stream.
		for _, x := range all {
			if s.size <= r.MaxBytes {
				break
			}
			s.drop(x.st, 1)
			res.Deleted++
		}
	}
	for key, st := range s.streams {
		if len(st.recs) == 0 {
			delete(s.streams, key)
			s.size -= int64(len(key.labels))
		}
	}
	res.SizeAfter = s.size
	return res, nil
}

// drop deletes the first n records of st.
func (s *Store) drop(st *stream, n int) {
	for i := range n {
		s.size -= recordSize(&st.recs[i].rec)
	}
	st.recs = slices.Delete(st.recs, 0, n)
}

// Size implements eventstore.Store. It is an estimate of the memory the
// records take.
func (s *Store) Size() int64 {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.size
}

// Close implements eventstore.Store. It drops all records.
func (s *Store) Close() error {
	s.mu.Lock()
	defer s.mu.Unlock()
	s.closed = true
	s.streams = nil
	s.size = 0
	return nil
}
