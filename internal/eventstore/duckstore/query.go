package duckstore

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"iter"
	"math"
	"slices"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/lookout-dev/lookout/internal/event"
	"github.com/lookout-dev/lookout/internal/eventstore"
)

// Select page sizes. go-duckdb materialises each result inside DuckDB, so a
// Select reads its partitions in keyset pages on (ts, seq) rather than in
// one query, which bounds the memory a large or unlimited Select takes.
// maxPage stays below 5000, DuckDB's largest LIMIT that it always plans as
// a top-N heap rather than a full sort of the range; with late
// materialisation (see Open) the heap holds only keys and the bodies of the
// rows returned are read afterwards.
//
// A Select without a limit reads everything in its range anyway, so it
// uses bulk pages instead: one query per window of up to bulkRows rows or
// about bulkBytes of bodies and attributes, estimated from the rows read so
// far. DuckDB sorts such a page fully, which costs less than the many
// top-N queries small pages take (a metric query over a million JSON lines
// ran about twice as fast).
const (
	firstPage = 256
	maxPage   = 4096
	bulkRows  = 65536
	bulkBytes = 16 << 20
)

// Select implements eventstore.Store. Records with equal timestamps come in
// append order (reversed for Backward). The yielded record and its Attrs
// are reused by the next step.
func (s *Store) Select(ctx context.Context, p eventstore.SelectParams) iter.Seq2[*event.Record, error] {
	return func(yield func(*event.Record, error) bool) {
		defer s.observe("select", time.Now())
		if err := checkLineFilters(p.LineFilters); err != nil {
			yield(nil, err)
			return
		}
		if err := ctx.Err(); err != nil {
			yield(nil, err)
			return
		}
		scans, release, err := s.plan(p.Selector)
		if err != nil {
			yield(nil, err)
			return
		}
		defer release()
		if err := s.pruneNeedles(ctx, scans, p.LineFilters); err != nil {
			yield(nil, err)
			return
		}
		if p.Direction == eventstore.Backward {
			slices.Reverse(scans)
		}
		if p.Limit == 0 {
			s.prefetch(ctx, scans, &p, yield)
			return
		}
		sel := &selectState{s: s, p: &p, yield: yield, remaining: p.Limit}
		for _, sc := range scans {
			if !sel.scan(ctx, sc) {
				return
			}
		}
	}
}

// prefetchBatch is how many records an unlimited Select reads ahead.
const prefetchBatch = 1024

type fetched struct {
	recs []event.Record
	err  error
}

// prefetch runs an unlimited Select with the reading in its own goroutine,
// which hands over batches of records, so that DuckDB scans the next rows
// while the caller (a LogQL metric query, typically) works on these: on two
// cores a `| json` aggregation took about a quarter less time. It returns
// after that goroutine has ended, so that the partitions it reads are still
// referenced. Memory stays bounded by a few batches.
func (s *Store) prefetch(ctx context.Context, scans []*scan, p *eventstore.SelectParams, yield func(*event.Record, error) bool) {
	ctx, cancel := context.WithCancel(ctx)
	ch := make(chan fetched, 2)
	defer func() {
		cancel()
		for range ch { // wait for the reader to stop
		}
	}()
	go func() {
		defer close(ch)
		var cur []event.Record
		send := func(f fetched) bool {
			select {
			case ch <- f:
				return true
			case <-ctx.Done():
				return false
			}
		}
		st := &selectState{s: s, p: p, yield: func(r *event.Record, err error) bool {
			if err != nil {
				send(fetched{err: err})
				return false
			}
			rec := *r
			rec.Attrs = slices.Clone(r.Attrs)
			cur = append(cur, rec)
			if len(cur) < prefetchBatch {
				return true
			}
			ok := send(fetched{recs: cur})
			cur = make([]event.Record, 0, prefetchBatch)
			return ok
		}}
		for _, sc := range scans {
			if !st.scan(ctx, sc) {
				return
			}
		}
		if len(cur) > 0 {
			send(fetched{recs: cur})
		}
	}()
	for f := range ch {
		if f.err != nil {
			yield(nil, f.err)
			return
		}
		for i := range f.recs {
			if !yield(&f.recs[i], nil) {
				return
			}
		}
	}
}

// selectState is one Select's progress.
type selectState struct {
	s         *Store
	p         *eventstore.SelectParams
	yield     func(*event.Record, error) bool
	remaining int // records still wanted; 0 without a limit
	rec       event.Record
	// rows and bytes read so far, for sizing bulk pages.
	rows, bytes int64
}

// pageTarget is the number of rows a page, and a window, aims at.
func (st *selectState) pageTarget() int {
	if st.p.Limit > 0 {
		return maxPage
	}
	if st.rows == 0 {
		return maxPage // no estimate yet
	}
	avg := max(st.bytes/st.rows, 1)
	return int(min(max(bulkBytes/avg, maxPage), bulkRows))
}

// Windows: a wide time range is read in windows, nearest to the starting
// end first. Each page query scans the rest of its window (DuckDB scans row
// groups in insertion order whatever the ORDER BY), so a window that held
// many pages would make paging quadratic; each window is therefore sized
// from the density of the last to hold about one page, growing at most
// fourfold so that sparse matches end in a few steps. A Select that fills
// its limit early reads only the rows near its starting end.
const (
	windowThreshold = int64(time.Hour)
	windowParts     = 64
)

// scan yields the matching records of one partition. It returns false when
// the Select is over.
func (st *selectState) scan(ctx context.Context, sc *scan) bool {
	fwd := st.p.Direction == eventstore.Forward
	lo, hi := max(st.p.Start, sc.p.start), min(st.p.End, sc.p.end)
	// The matching streams' records lie within their bounds.
	first, last := int64(math.MaxInt64), int64(math.MinInt64)
	for _, m := range sc.members {
		first, last = min(first, m.min), max(last, m.max)
	}
	lo = max(lo, first)
	if last < math.MaxInt64 {
		hi = min(hi, last+1)
	}
	if lo >= hi {
		return true
	}
	width := hi - lo
	if width > windowThreshold {
		width /= windowParts
	}
	cur := lo
	if !fwd {
		cur = hi
	}
	for {
		var wlo, whi int64
		// Written so as not to overflow near the ends of the time line.
		if fwd {
			wlo, whi = cur, hi
			if hi-cur > width {
				whi = cur + width
			}
		} else {
			wlo, whi = lo, cur
			if cur-lo > width {
				wlo = cur - width
			}
		}
		got, ok := st.window(ctx, sc, wlo, whi)
		if !ok {
			return false
		}
		if fwd {
			cur = whi
		} else {
			cur = wlo
		}
		if cur == lo && !fwd || cur == hi && fwd {
			return true
		}
		next := width * 4
		if got > 0 {
			// In floating point: the product may not fit an int64.
			next = min(next, max(int64(float64(whi-wlo)*float64(st.pageTarget())/float64(got)), 1))
		}
		width = min(next, hi-lo)
	}
}

// window yields the matching records in [start, end) of one partition, in
// keyset pages. It returns the rows it read, and false when the Select is
// over.
func (st *selectState) window(ctx context.Context, sc *scan, start, end int64) (int, bool) {
	fwd := st.p.Direction == eventstore.Forward
	var (
		after    bool // a previous page ended at (lastTs, lastSeq)
		lastTs   int64
		lastSeq  uint64
		pageSize = firstPage
		total    int
	)
	if st.p.Limit == 0 {
		pageSize = st.pageTarget()
	}
	for {
		n := pageSize
		if st.p.Limit > 0 {
			n = min(n, st.remaining)
		}
		var q query
		q.sql("SELECT ts, seq, stream_id, level, body, trace_id, span_id, attrs FROM ", sc.table())
		switch {
		case !after:
			q.where(sc, start, end, st.p.LineFilters)
		case fwd:
			q.where(sc, lastTs, end, st.p.LineFilters)
			q.sql(" AND (ts > ").int(lastTs).sql(" OR seq > ").int(int64(lastSeq)).sql(")")
		default:
			q.where(sc, start, lastTs+1, st.p.LineFilters)
			q.sql(" AND (ts < ").int(lastTs).sql(" OR seq < ").int(int64(lastSeq)).sql(")")
		}
		if fwd {
			q.sql(" ORDER BY ts, seq")
		} else {
			q.sql(" ORDER BY ts DESC, seq DESC")
		}
		q.sql(" LIMIT ").int(int64(n))

		got, ok := st.page(ctx, sc, &q, &lastTs, &lastSeq)
		total += got
		if !ok {
			return total, false
		}
		after = true
		if st.p.Limit > 0 && st.remaining == 0 {
			return total, false
		}
		if got < n {
			return total, true // the window is exhausted
		}
		pageSize = min(pageSize*4, max(st.pageTarget(), maxPage))
	}
}

// page runs one page query and yields its rows. It returns the number of
// rows read and false when the Select is over.
func (st *selectState) page(ctx context.Context, sc *scan, q *query, lastTs *int64, lastSeq *uint64) (int, bool) {
	if st.s.isClosed() {
		st.yield(nil, eventstore.ErrClosed)
		return 0, false
	}
	rows, err := st.s.db.QueryContext(ctx, q.String())
	if err != nil {
		st.yield(nil, st.s.queryError(ctx, "select", err))
		return 0, false
	}
	defer rows.Close()
	got := 0
	r := &st.rec
	for rows.Next() {
		var (
			id    uint32
			attrs string
		)
		if err := rows.Scan(&r.Time, lastSeq, &id, &r.Level, &r.Body, &r.TraceID, &r.SpanID, &attrs); err != nil {
			st.yield(nil, fmt.Errorf("select: read row: %w", err))
			return got, false
		}
		got++
		st.rows++
		st.bytes += int64(len(r.Body) + len(attrs) + 64)
		*lastTs = r.Time
		m, ok := sc.members[id]
		if !ok {
			continue // a stream that appeared after the query started
		}
		r.Kind = sc.kind
		r.Labels = m.st.labels
		if r.Attrs, err = decodeAttrs(r.Attrs, attrs); err != nil {
			st.yield(nil, fmt.Errorf("select: %w", err))
			return got, false
		}
		if !st.yield(r, nil) {
			return got, false
		}
		if st.p.Limit > 0 {
			st.remaining--
			if st.remaining == 0 {
				return got, true
			}
		}
	}
	if err := rows.Err(); err != nil {
		st.yield(nil, st.s.queryError(ctx, "select", err))
		return got, false
	}
	return got, true
}

// queryError wraps a query error, preferring the context's error and
// ErrClosed where they are the cause.
func (s *Store) queryError(ctx context.Context, op string, err error) error {
	if cerr := ctx.Err(); cerr != nil {
		return cerr
	}
	if s.isClosed() || errors.Is(err, sql.ErrConnDone) || err.Error() == "sql: database is closed" {
		return eventstore.ErrClosed
	}
	return fmt.Errorf("%s: %w", op, err)
}

// Aggregate implements eventstore.Store. DuckDB counts per bucket, stream
// and (when grouping needs it) level; Go folds streams into groups.
func (s *Store) Aggregate(ctx context.Context, p eventstore.AggregateParams) ([]eventstore.Series, error) {
	defer s.observe("aggregate", time.Now())
	if p.Step <= 0 {
		return nil, fmt.Errorf("aggregate: step must be positive, got %d", p.Step)
	}
	var value string
	switch p.Op {
	case eventstore.AggCount:
		value = "count(*)::BIGINT"
	case eventstore.AggBytes:
		value = "sum(strlen(body))::BIGINT"
	default:
		return nil, fmt.Errorf("aggregate: unknown operation %d", p.Op)
	}
	if err := checkLineFilters(p.LineFilters); err != nil {
		return nil, fmt.Errorf("aggregate: %w", err)
	}
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	scans, release, err := s.plan(p.Selector)
	if err != nil {
		return nil, err
	}
	defer release()
	if err := s.pruneNeedles(ctx, scans, p.LineFilters); err != nil {
		return nil, err
	}

	// Streams fold into groups in SQL: the query maps each stream_id to
	// its group's index through a list literal ([g1, g2, ...][stream_id]),
	// so DuckDB returns one row per bucket, group and (when grouped by)
	// level rather than per stream.
	byLevel := !p.Without && slices.Contains(p.GroupBy, event.LevelLabel)
	names := p.GroupBy
	if byLevel {
		names = slices.DeleteFunc(slices.Clone(names), func(n string) bool { return n == event.LevelLabel })
	}
	var (
		groupIndex = map[string]int{}
		groupLs    []labels.Labels
		byKey      = map[aggKey]*aggSeries{}
		groups     = map[string]*aggSeries{} // by labels
	)
	for _, sc := range scans {
		var maxID uint32
		for id := range sc.members {
			maxID = max(maxID, id)
		}
		index := make([]int, maxID+1)
		for i := range index {
			index[i] = -1
		}
		for id, m := range sc.members {
			ls := groupLabels(m.st.labels, names, p.Without)
			key := ls.String()
			g, ok := groupIndex[key]
			if !ok {
				g = len(groupLs)
				groupIndex[key] = g
				groupLs = append(groupLs, ls)
			}
			index[id] = g
		}

		hi := min(p.End, sc.p.end) - 1
		var q query
		// ts - Start overflows int64 when Start is far in the past; HUGEINT
		// is slower, so only then.
		if p.Start < 0 && hi > p.Start+math.MaxInt64 {
			q.sql("SELECT ((ts::HUGEINT - ").int(p.Start).sql(") // ").int(p.Step).sql(")::UBIGINT AS b, [")
		} else {
			q.sql("SELECT ((ts - ").int(p.Start).sql(") // ").int(p.Step).sql(")::UBIGINT AS b, [")
		}
		// DuckDB lists are 1-based and stream ids start at 1.
		for i, g := range index[1:] {
			if i > 0 {
				q.sql(",")
			}
			if g < 0 {
				q.sql("NULL")
			} else {
				q.int(int64(g))
			}
		}
		q.sql("][stream_id] AS g")
		if byLevel {
			q.sql(", level")
		} else {
			q.sql(", ''")
		}
		q.sql(", ", value, " FROM ", sc.table())
		q.where(sc, max(p.Start, sc.p.start), min(p.End, sc.p.end), p.LineFilters)
		q.sql(" GROUP BY ALL")
		err := s.queryRows(ctx, "aggregate", &q, func(rows *sql.Rows) error {
			var (
				b     uint64
				g     sql.NullInt64
				level string
				v     int64
			)
			if err := rows.Scan(&b, &g, &level, &v); err != nil {
				return err
			}
			if !g.Valid {
				return nil // streams that appeared after the query started
			}
			key := aggKey{group: int(g.Int64), level: level}
			sr := byKey[key]
			if sr == nil {
				ls := groupLs[key.group]
				if byLevel {
					ls = labels.NewBuilder(ls).Set(event.LevelLabel, level).Labels()
				}
				// Several keys can share labels, when a stream label is
				// named like the level label.
				lk := ls.String()
				if sr = groups[lk]; sr == nil {
					sr = &aggSeries{labels: ls, buckets: map[uint64]float64{}}
					groups[lk] = sr
				}
				byKey[key] = sr
			}
			sr.buckets[b] += float64(v)
			return nil
		})
		if err != nil {
			return nil, err
		}
	}

	out := make([]eventstore.Series, 0, len(groups))
	for _, g := range groups {
		sr := eventstore.Series{Labels: g.labels, Points: make([]eventstore.Point, 0, len(g.buckets))}
		for b, v := range g.buckets {
			// Wrapping arithmetic is exact: the result is between Start
			// and End even where b*Step alone is not an int64.
			sr.Points = append(sr.Points, eventstore.Point{T: p.Start + int64(b*uint64(p.Step)), V: v})
		}
		slices.SortFunc(sr.Points, func(a, b eventstore.Point) int { return cmp.Compare(a.T, b.T) })
		out = append(out, sr)
	}
	slices.SortFunc(out, func(a, b eventstore.Series) int { return labels.Compare(a.Labels, b.Labels) })
	return out, nil
}

// aggSeries accumulates one result series.
type aggSeries struct {
	labels  labels.Labels
	buckets map[uint64]float64
}

// aggKey identifies a result row's group.
type aggKey struct {
	group int
	level string
}

// groupLabels returns the stream-label part of the labels a record is
// grouped under, as eventstore.AggregateParams describes: the named labels,
// or with without all stream labels but the named ones. Empty values are
// dropped, as in Prometheus. The caller adds the level.
func groupLabels(ls labels.Labels, names []string, without bool) labels.Labels {
	if without {
		return labels.NewBuilder(ls).Del(names...).Labels()
	}
	b := labels.NewBuilder(labels.EmptyLabels())
	for _, n := range names {
		b.Set(n, ls.Get(n))
	}
	return b.Labels()
}

// queryRows runs q and calls fn for each row.
func (s *Store) queryRows(ctx context.Context, op string, q *query, fn func(*sql.Rows) error) error {
	rows, err := s.db.QueryContext(ctx, q.String())
	if err != nil {
		return s.queryError(ctx, op, err)
	}
	defer rows.Close()
	for rows.Next() {
		if err := fn(rows); err != nil {
			return fmt.Errorf("%s: read row: %w", op, err)
		}
	}
	if err := rows.Err(); err != nil {
		return s.queryError(ctx, op, err)
	}
	return nil
}
