package duckstore

import (
	"context"
	"fmt"
	"math"
	"slices"
	"time"

	"github.com/lookout-dev/lookout/internal/eventstore"
)

// ApplyRetention implements eventstore.Store.
//
// A partition all of whose records are past their period is dropped: its
// file is detached and deleted (once no query uses it), which gives the
// space back at once. Otherwise the expired records are deleted inside the
// partition, whose file keeps its size until the partition goes. The size
// cap drops whole partitions, oldest day first, so its granularity is one
// day of data.
func (s *Store) ApplyRetention(ctx context.Context, now time.Time, r eventstore.Retention) (eventstore.RetentionResult, error) {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	if s.isClosed() {
		return eventstore.RetentionResult{}, eventstore.ErrClosed
	}
	var res eventstore.RetentionResult
	nowNs := now.UnixNano()
	// s.parts changes only under wmu, which this holds.
	for _, p := range slices.Clone(s.parts) {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		n, err := s.expire(ctx, p, nowNs, r)
		res.Deleted += n
		if err != nil {
			return res, err
		}
	}
	for r.MaxBytes > 0 && len(s.parts) > 0 && s.Size() > r.MaxBytes {
		if err := ctx.Err(); err != nil {
			return res, err
		}
		n, err := s.drop(ctx, s.parts[0])
		res.Deleted += n
		if err != nil {
			return res, err
		}
	}
	res.SizeAfter = s.Size()
	s.metrics.retentionDeleted.Add(float64(res.Deleted))
	if res.Deleted > 0 {
		s.logger.Info("retention applied", "deleted", res.Deleted, "size_after", res.SizeAfter, "partitions", len(s.parts))
	}
	return res, nil
}

// expire deletes the records of p that are past their period.
func (s *Store) expire(ctx context.Context, p *partition, now int64, r eventstore.Retention) (uint64, error) {
	byCutoff := map[int64][]uint32{}
	all := true // every record of p expires
	var affected []*stream
	for st, ps := range p.streams {
		period := r.PeriodFor(st.labels)
		if period <= 0 {
			all = false
			continue
		}
		cutoff := eventstore.Cutoff(now, period)
		if ps.min >= cutoff {
			all = false
			continue
		}
		if ps.max >= cutoff {
			all = false
		}
		byCutoff[cutoff] = append(byCutoff[cutoff], ps.id)
		affected = append(affected, st)
	}
	if all {
		return s.drop(ctx, p)
	}
	if len(affected) == 0 {
		return 0, nil
	}
	return s.deleteRows(ctx, p, byCutoff, affected)
}

// deleteRows deletes, for each cutoff, the records older than it of the
// listed streams, then corrects the streams' time bounds.
func (s *Store) deleteRows(ctx context.Context, p *partition, byCutoff map[int64][]uint32, affected []*stream) (deleted uint64, err error) {
	conn := s.wconn
	if _, err := conn.ExecContext(ctx, "BEGIN TRANSACTION"); err != nil {
		return 0, fmt.Errorf("begin retention: %w", err)
	}
	defer func() {
		if err != nil {
			deleted = 0
			_, _ = conn.ExecContext(context.Background(), "ROLLBACK") // the first error says why
		}
	}()
	ids := make([]uint32, 0, len(affected))
	for _, st := range affected {
		ids = append(ids, p.streams[st].id)
	}
	slices.Sort(ids)
	bounds := map[uint32]pstream{}
	for _, k := range kinds {
		if !p.tables[k] {
			continue
		}
		for cutoff, cids := range byCutoff {
			slices.Sort(cids)
			var q query
			q.sql("DELETE FROM ", p.table(k)).where(&scan{ids: cids}, math.MinInt64, cutoff, nil)
			res, err := conn.ExecContext(ctx, q.String())
			if err != nil {
				return 0, fmt.Errorf("delete expired records of partition %s: %w", p.name, err)
			}
			n, err := res.RowsAffected()
			if err != nil {
				return 0, fmt.Errorf("delete expired records of partition %s: %w", p.name, err)
			}
			deleted += uint64(n)
		}
		var q query
		q.sql("SELECT stream_id, min(ts), max(ts) FROM ", p.table(k), " WHERE ").idList(ids).sql(" GROUP BY stream_id")
		rows, err := conn.QueryContext(ctx, q.String())
		if err != nil {
			return 0, fmt.Errorf("read stream bounds of partition %s: %w", p.name, err)
		}
		for rows.Next() {
			var b pstream
			if err := rows.Scan(&b.id, &b.min, &b.max); err != nil {
				_ = rows.Close()
				return 0, fmt.Errorf("read stream bounds of partition %s: %w", p.name, err)
			}
			bounds[b.id] = b
		}
		if err := rows.Err(); err != nil {
			_ = rows.Close()
			return 0, fmt.Errorf("read stream bounds of partition %s: %w", p.name, err)
		}
		_ = rows.Close()
	}

	var gone, kept query
	gone.sql("DELETE FROM ", quoteIdent(p.alias), ".streams WHERE stream_id IN (")
	kept.sql("UPDATE ", quoteIdent(p.alias), ".streams AS s SET min_ts = v.mn, max_ts = v.mx FROM (VALUES ")
	var nGone, nKept int
	for _, id := range ids {
		b, ok := bounds[id]
		if !ok {
			if nGone > 0 {
				gone.sql(",")
			}
			nGone++
			gone.int(int64(id))
			continue
		}
		if nKept > 0 {
			kept.sql(",")
		}
		nKept++
		kept.sql("(").int(int64(id)).sql(",").int(b.min).sql(",").int(b.max).sql(")")
	}
	gone.sql(")")
	kept.sql(") AS v(id, mn, mx) WHERE s.stream_id = v.id")
	if nGone > 0 {
		if _, err := conn.ExecContext(ctx, gone.String()); err != nil {
			return 0, fmt.Errorf("update streams of partition %s: %w", p.name, err)
		}
	}
	if nKept > 0 {
		if _, err := conn.ExecContext(ctx, kept.String()); err != nil {
			return 0, fmt.Errorf("update streams of partition %s: %w", p.name, err)
		}
	}
	if _, err := conn.ExecContext(context.Background(), "COMMIT"); err != nil {
		return 0, fmt.Errorf("commit retention: %w", err)
	}
	// Fold the deletions into the file now rather than at the next
	// automatic checkpoint; fully deleted row groups are freed for reuse.
	if _, err := conn.ExecContext(ctx, "CHECKPOINT "+quoteIdent(p.alias)); err != nil {
		s.logger.Warn("checkpoint after retention", "partition", p.name, "err", err)
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	for _, st := range affected {
		ps := p.streams[st]
		if b, ok := bounds[ps.id]; ok {
			ps.min, ps.max = b.min, b.max
			ps.savedMin, ps.savedMax = b.min, b.max
			continue
		}
		delete(p.streams, st)
		if st.parts--; st.parts == 0 {
			s.forget(st)
		}
	}
	return deleted, nil
}

// drop removes a whole partition and returns how many records it held.
func (s *Store) drop(ctx context.Context, p *partition) (uint64, error) {
	var n uint64
	for _, k := range kinds {
		if !p.tables[k] {
			continue
		}
		var c int64
		if err := s.wconn.QueryRowContext(ctx, "SELECT count(*)::BIGINT FROM "+p.table(k)).Scan(&c); err != nil {
			return 0, fmt.Errorf("count records of partition %s: %w", p.name, err)
		}
		n += uint64(c)
	}
	s.mu.Lock()
	i := slices.Index(s.parts, p)
	s.parts = slices.Delete(s.parts, i, i+1)
	if s.live[p.day] == p {
		delete(s.live, p.day)
	}
	for st := range p.streams {
		if st.parts--; st.parts == 0 {
			s.forget(st)
		}
	}
	p.dropped.Store(true)
	unused := p.refs.Load() == 0
	s.mu.Unlock()
	if unused {
		s.finalize(p)
	}
	s.logger.Debug("partition dropped", "partition", p.name, "records", n)
	return n, nil
}
