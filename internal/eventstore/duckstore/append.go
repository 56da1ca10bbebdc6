package duckstore

import (
	"context"
	"database/sql/driver"
	"encoding/json"
	"fmt"
	"slices"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/lookout-dev/lookout/internal/event"
	"github.com/lookout-dev/lookout/internal/eventstore"
)

// Append implements eventstore.Store. Concurrent calls are committed
// together (group commit): the caller that gets the writer lock appends
// the batches waiting at that moment, up to maxGroupRecords records, in one
// commit per UTC day and kind (see commitRows), and every caller in the
// group returns once those commits are done. DuckDB writes and fsyncs the
// partition's WAL before a commit returns, so a nil error still means the
// whole batch is durable; one fsync now covers several batches, which is
// most of the cost of a commit. A failed commit fails every batch in its
// group. A group spanning several days or kinds that fails part-way may
// leave the days and kinds committed before the failure stored, so a retry
// can duplicate them (at-least-once).
//
// Invalid UTF-8 in labels, body, level, ids and attributes is replaced by
// U+FFFD, one per invalid run, because DuckDB's VARCHAR must be valid UTF-8.
// A record of an unknown kind fails its batch, and only its batch.
//
// Once queued, a batch is committed even if ctx ends while it waits.
func (s *Store) Append(ctx context.Context, batch []event.Record) error {
	if err := ctx.Err(); err != nil {
		return err
	}
	if s.isClosed() {
		return eventstore.ErrClosed
	}
	if len(batch) == 0 {
		return nil
	}
	for i := range batch {
		if k := batch[i].Kind; k < event.KindLog || k > event.KindRUM {
			return fmt.Errorf("append: record %d has unknown kind %d", i, k)
		}
	}
	req := &appendReq{batch: batch, done: make(chan error, 1)}
	s.qmu.Lock()
	s.queue = append(s.queue, req)
	s.qmu.Unlock()

	s.wmu.Lock()
	defer s.wmu.Unlock()
	for {
		// A writer before us may have committed this batch already.
		select {
		case err := <-req.done:
			return err
		default:
		}
		group := s.takeGroup()
		err := s.appendGroup(group)
		for _, r := range group {
			r.done <- err
		}
	}
}

// maxGroupRecords bounds the records one group commit takes, and so the
// size of its commits. The first waiting batch is always taken.
const maxGroupRecords = 32768

// appendReq is a batch waiting for the writer.
type appendReq struct {
	batch []event.Record
	done  chan error // buffered; receives the commit's outcome once
}

// takeGroup takes the waiting batches, oldest first, up to
// maxGroupRecords records. The caller holds wmu.
func (s *Store) takeGroup() []*appendReq {
	s.qmu.Lock()
	defer s.qmu.Unlock()
	n, records := 0, 0
	for n < len(s.queue) && (n == 0 || records+len(s.queue[n].batch) <= maxGroupRecords) {
		records += len(s.queue[n].batch)
		n++
	}
	group := slices.Clone(s.queue[:n])
	s.queue = slices.Delete(s.queue, 0, n)
	return group
}

// appendGroup appends the batches of group, one commit per day and kind. The
// caller holds wmu. It uses no caller's context: a commit serves several
// callers, and none of them may cut it short for the others.
func (s *Store) appendGroup(group []*appendReq) error {
	start := time.Now()
	if s.isClosed() {
		return eventstore.ErrClosed
	}
	// The records of each day, in arrival order, pointing into the
	// callers' batches rather than copying them.
	byDay := map[int64][]*event.Record{}
	records := 0
	for _, r := range group {
		for i := range r.batch {
			d := dayOf(r.batch[i].Time)
			byDay[d] = append(byDay[d], &r.batch[i])
		}
		records += len(r.batch)
	}
	days := make([]int64, 0, len(byDay))
	for d := range byDay {
		days = append(days, d)
	}
	slices.Sort(days)
	var bytes int
	for _, d := range days {
		n, err := s.appendDay(context.Background(), d, byDay[d])
		if err != nil {
			return err
		}
		bytes += n
	}
	s.metrics.appendedRecords.Add(float64(records))
	s.metrics.appendedBytes.Add(float64(bytes))
	s.metrics.appendedBatches.Add(float64(len(group)))
	s.metrics.appendCommits.Inc()
	s.metrics.appendDuration.Observe(time.Since(start).Seconds())
	return nil
}

// rowBuf returns the writer's row buffer with room for n rows. Rows
// reference the callers' strings: appendDay clears them once appended.
func (s *Store) rowBuf(n int) []row {
	if cap(s.rows) < n || cap(s.rows) > 4*maxGroupRecords {
		s.rows = make([]row, n)
	}
	s.rows = s.rows[:n]
	return s.rows
}

// row is a record ready to append.
type row struct {
	kind                         event.Kind
	ts                           int64
	id                           uint32
	level, body, traceID, spanID string
	attrs                        string
}

// appendDay appends recs, all of one day, with one commit per kind. It
// returns their body bytes.
func (s *Store) appendDay(ctx context.Context, day int64, recs []*event.Record) (int, error) {
	p, err := s.livePartition(ctx, day)
	if err != nil {
		return 0, err
	}

	// Resolve streams and levels. Only the writer changes the maps read
	// here, so it may read them without mu.
	var (
		newStreams = map[string]*stream{}
		changes    = map[*stream]*pstream{}
		newLevels  = map[event.Kind][]string{}
		newTables  []event.Kind
		rows       = s.rowBuf(len(recs))
		nextID     = p.nextID
		bytes      int
		// Records of one stream mostly come in runs; the previous
		// record's stream saves building its key again.
		prev *event.Record
		st   *stream
	)
	defer clear(rows)
	for j, r := range recs {
		if prev == nil || r.Kind != prev.Kind || !labels.Equal(r.Labels, prev.Labels) {
			ls := validLabels(r.Labels)
			key := streamKey(r.Kind, ls)
			if st = s.streams[key]; st == nil {
				if st = newStreams[key]; st == nil {
					st = &stream{kind: r.Kind, labels: ls.Copy(), key: key}
					newStreams[key] = st
				}
			}
			prev = r
		}
		ch := changes[st]
		if ch == nil {
			if old := p.streams[st]; old != nil {
				c := *old
				ch = &c
			} else {
				ch = &pstream{id: nextID, min: r.Time, max: r.Time}
				nextID++
			}
			changes[st] = ch
		}
		ch.min, ch.max = min(ch.min, r.Time), max(ch.max, r.Time)

		level := validString(r.Level)
		if !slices.Contains(p.levels[r.Kind], level) && !slices.Contains(newLevels[r.Kind], level) {
			newLevels[r.Kind] = append(newLevels[r.Kind], level)
		}
		if !p.tables[r.Kind] && !slices.Contains(newTables, r.Kind) {
			newTables = append(newTables, r.Kind)
		}
		rows[j] = row{
			kind:    r.Kind,
			ts:      r.Time,
			id:      ch.id,
			level:   level,
			body:    validString(r.Body),
			traceID: validString(r.TraceID),
			spanID:  validString(r.SpanID),
			attrs:   encodeAttrs(r.Attrs),
		}
		bytes += len(rows[j].body)
	}
	for _, k := range newTables {
		if err := p.ensureTable(ctx, s.wconn, k); err != nil {
			return 0, err
		}
	}

	if err := s.commitRows(ctx, p, rows, changes, newLevels); err != nil {
		return 0, err
	}

	s.mu.Lock()
	defer s.mu.Unlock()
	for key, st := range newStreams {
		st.index = len(s.byKind[st.kind])
		s.streams[key] = st
		s.byKind[st.kind] = append(s.byKind[st.kind], st)
	}
	for st, ch := range changes {
		if old := p.streams[st]; old != nil {
			*old = *ch
			continue
		}
		p.streams[st] = ch
		st.parts++
	}
	p.nextID = nextID
	for k, ls := range newLevels {
		merged := append(slices.Clone(p.levels[k]), ls...)
		slices.Sort(merged)
		p.levels[k] = merged
	}
	for _, k := range newTables {
		p.tables[k] = true
	}
	return bytes, nil
}

// livePartition returns the partition that takes new records of day,
// creating it if needed. The caller holds wmu.
func (s *Store) livePartition(ctx context.Context, day int64) (*partition, error) {
	if p := s.live[day]; p != nil {
		return p, nil
	}
	if s.db == nil {
		if err := s.startDB(ctx); err != nil {
			return nil, err
		}
	}
	p := newPartition(s.dir, day, s.nextGen)
	s.nextGen++ // a failed attempt does not reuse the name
	if err := p.attach(ctx, s.wconn, s.rowGroup); err != nil {
		_, _ = s.wconn.ExecContext(context.Background(), "DETACH DATABASE IF EXISTS "+quoteIdent(p.alias)) // best effort; the attach error matters
		_ = removePartitionFiles(p.path)
		return nil, err
	}
	s.mu.Lock()
	s.parts = append(s.parts, p)
	sortParts(s.parts)
	s.live[day] = p
	s.mu.Unlock()
	s.logger.Debug("partition created", "partition", p.name)
	return p, nil
}

// commitRows writes rows and the stream and level changes into p.
//
// It runs no explicit transaction. The metadata goes first, in statements
// that are idempotent (INSERT OR REPLACE of stream ids that are only handed
// out once their rows commit, INSERT OR IGNORE of levels), so that a
// failure after them leaves at most bounds wider than needed or a stream or
// level without records, which a retry overwrites or which matches nothing.
// Each kind's rows are then committed by its appender's own transaction,
// and the needle filters of the blocks those rows fill last.
//
// This order avoids DuckDB's executor on the common path: a batch whose
// streams stay within their saved bounds costs one appender commit. DuckDB
// 1.4's executor makes the calling thread spin while a worker thread runs
// a statement's task (duckdb/duckdb#22178), and BEGIN and COMMIT, the
// latter with its WAL fsync, cost more CPU in that spin than the append
// itself.
func (s *Store) commitRows(ctx context.Context, p *partition, rows []row, changes map[*stream]*pstream, newLevels map[event.Kind][]string) (err error) {
	conn := s.wconn
	var q query
	q.sql("INSERT OR REPLACE INTO ", quoteIdent(p.alias), ".streams VALUES ")
	n := 0
	for st, ch := range changes {
		if old := p.streams[st]; old != nil && ch.min >= old.savedMin && ch.max <= old.savedMax {
			continue // the saved bounds still cover the stream
		}
		ch.savedMin, ch.savedMax = p.widen(ch.min, ch.max)
		if n > 0 {
			q.sql(",")
		}
		n++
		q.sql("(").int(int64(ch.id)).sql(",").int(int64(st.kind)).sql(",").str(encodeLabels(st.labels)).
			sql(",").int(ch.savedMin).sql(",").int(ch.savedMax).sql(")")
	}
	if n > 0 {
		if _, err := conn.ExecContext(ctx, q.String()); err != nil {
			return fmt.Errorf("update streams of partition %s: %w", p.name, err)
		}
	}
	if len(newLevels) > 0 {
		var q query
		q.sql("INSERT OR IGNORE INTO ", quoteIdent(p.alias), ".levels VALUES ")
		n := 0
		for k, ls := range newLevels {
			for _, l := range ls {
				if n > 0 {
					q.sql(",")
				}
				n++
				q.sql("(").int(int64(k)).sql(",").str(l).sql(")")
			}
		}
		if _, err := conn.ExecContext(ctx, q.String()); err != nil {
			return fmt.Errorf("update levels of partition %s: %w", p.name, err)
		}
	}
	if err := ctx.Err(); err != nil {
		return err
	}

	// The needle index builders take the keys of the rows as they are
	// appended; if a kind's commit fails, their blocks hold keys of rows
	// that are not stored, so they start again (the committed rows of
	// those blocks stay unindexed, and are always scanned).
	defer func() {
		if err != nil {
			for _, b := range p.blocks {
				b.reset()
				b.contiguous = false
			}
		}
	}()
	// Not ctx from here on: a commit must not be interrupted half-way.
	err = conn.Raw(func(dc any) error {
		for _, k := range kinds {
			if err := s.appendKind(dc.(driver.Conn), p, k, rows); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		return err
	}
	for _, k := range kinds {
		if b := p.blocks[k]; b != nil && b.full() {
			s.closeBlock(p, k, b)
		}
	}
	return nil
}

// closeBlock writes the needle filter of b's full block. The block's
// records are committed by then, so a failure does not fail their append:
// the block is left without a filter, and always scanned.
func (s *Store) closeBlock(p *partition, k event.Kind, b *blockBuilder) {
	if err := s.writeBloom(context.Background(), p, k, b); err != nil {
		s.logger.Warn("needle index block not written; its records are scanned by every search", "partition", p.name, "err", err)
		b.reset()
		b.contiguous = false
		return
	}
	b.closeBlock()
}

// writeBloom inserts the filter of b's block of kind k into p's blooms
// table.
func (s *Store) writeBloom(ctx context.Context, p *partition, k event.Kind, b *blockBuilder) error {
	lo, hi := b.span()
	_, err := s.wconn.ExecContext(ctx, "INSERT INTO "+quoteIdent(p.alias)+".blooms VALUES (?, ?, ?, ?)",
		uint8(k), lo, hi, []byte(newBloom(b.keys)))
	if err != nil {
		return fmt.Errorf("write needle index of partition %s: %w", p.name, err)
	}
	return nil
}

// appendKind appends the rows of kind k with DuckDB's appender, which
// commits them when it closes.
func (s *Store) appendKind(dc driver.Conn, p *partition, k event.Kind, rows []row) error {
	var a *chunkAppender
	for i := range rows {
		r := &rows[i]
		if r.kind != k {
			continue
		}
		if a == nil {
			var err error
			if a, err = newChunkAppender(dc, p.alias, tableName(k), &s.strBufs); err != nil {
				return fmt.Errorf("append to partition %s: %w", p.name, err)
			}
		}
		seq := s.nextSeq
		s.nextSeq++
		p.block(k).add(seq, r.body)
		if err := a.append(r.ts, seq, r.id, [numStrCols]string{r.level, r.body, r.traceID, r.spanID, r.attrs}); err != nil {
			a.destroy()
			return fmt.Errorf("append to partition %s: %w", p.name, err)
		}
	}
	if a == nil {
		return nil
	}
	if err := a.close(); err != nil {
		return fmt.Errorf("append to partition %s: %w", p.name, err)
	}
	return nil
}

func validString(s string) string {
	if utf8.ValidString(s) {
		return s
	}
	return strings.ToValidUTF8(s, "\uFFFD")
}

func validLabels(ls labels.Labels) labels.Labels {
	valid := true
	ls.Range(func(l labels.Label) {
		valid = valid && utf8.ValidString(l.Name) && utf8.ValidString(l.Value)
	})
	if valid {
		return ls
	}
	b := labels.NewScratchBuilder(ls.Len())
	ls.Range(func(l labels.Label) { b.Add(validString(l.Name), validString(l.Value)) })
	b.Sort()
	return b.Labels()
}

// encodeAttrs encodes attributes as a JSON array of [key, value] pairs,
// which keeps their order and duplicates; "" when there are none.
func encodeAttrs(attrs []event.Attr) string {
	if len(attrs) == 0 {
		return ""
	}
	b := make([]byte, 0, 64)
	b = append(b, '[')
	for i, a := range attrs {
		if i > 0 {
			b = append(b, ',')
		}
		b = append(b, '[')
		b = appendJSONString(b, validString(a.Key))
		b = append(b, ',')
		b = appendJSONString(b, validString(a.Value))
		b = append(b, ']')
	}
	b = append(b, ']')
	return string(b)
}

func appendJSONString(b []byte, s string) []byte {
	const hex = "0123456789abcdef"
	b = append(b, '"')
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c == '"' || c == '\\':
			b = append(b, '\\', c)
		case c < 0x20:
			b = append(b, '\\', 'u', '0', '0', hex[c>>4], hex[c&0xf])
		default:
			b = append(b, c)
		}
	}
	return append(b, '"')
}

// decodeAttrs decodes encodeAttrs' output into dst[:0].
func decodeAttrs(dst []event.Attr, s string) ([]event.Attr, error) {
	dst = dst[:0]
	if s == "" {
		return dst, nil
	}
	var pairs [][2]string
	if err := json.Unmarshal([]byte(s), &pairs); err != nil {
		return dst, fmt.Errorf("decode attributes: %w", err)
	}
	for _, p := range pairs {
		dst = append(dst, event.Attr{Key: p[0], Value: p[1]})
	}
	return dst, nil
}
