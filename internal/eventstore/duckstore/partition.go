package duckstore

import (
	"cmp"
	"context"
	"database/sql"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"math"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"sync/atomic"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/lookout-dev/lookout/internal/event"
)

const (
	dayNs     = int64(24 * time.Hour)
	dbSuffix  = ".duckdb"
	walSuffix = ".duckdb.wal"
)

// Row group sizes. DuckDB compresses a row group at checkpoint with all its
// values in memory, which for log lines of a few hundred bytes takes more
// than a small memory_limit allows: checkpoints then fail, and the WAL and
// uncompressed rows spilled to the temp directory grow. Small limits
// therefore get small row groups, which compress about 20% worse on
// JSON logs.
const (
	smallRowGroup       = 16384
	smallRowGroupMemory = 256 << 20 // limits below this use smallRowGroup
)

// rowGroupSize is the row group size for a memory limit; 0 keeps DuckDB's
// default of 122,880 rows.
func rowGroupSize(memoryLimit int64) int {
	if memoryLimit < smallRowGroupMemory {
		return smallRowGroup
	}
	return 0
}

// storageVersion is the DuckDB storage format partitions are written in.
// DuckDB writes the format of v0.10.2 unless told otherwise, which lacks
// the ZSTD and DICT_FSST string compression; with them, JSON log lines
// take about 45% less space (measured on bench/cmd/loggen's data).
// DuckDB 1.4, the version go-duckdb links, reads and writes it.
const storageVersion = "v1.4.0"

// partFileRE matches partition file names: the UTC day, then a generation
// that makes each incarnation of a day unique.
var partFileRE = regexp.MustCompile(`^(\d{8})-(\d{6,})\.duckdb$`)

// kinds lists the kinds with a table, in a fixed order.
var kinds = []event.Kind{event.KindLog, event.KindSpan, event.KindError, event.KindRUM}

// tableName is the records table of a kind inside a partition.
func tableName(k event.Kind) string { return k.String() }

// schemaSQL creates a partition's tables. Stream ids are local to the
// partition; the streams table gives their labels and time bounds, and the
// levels table the distinct levels per kind, so that stream and level
// matchers are evaluated in Go and pushed down as id and value lists. The
// blooms table holds the needle index (see needle.go): a filter per block
// of records, by kind and inclusive seq range.
const schemaSQL = `
CREATE TABLE IF NOT EXISTS %[1]s.streams (
	stream_id UINTEGER PRIMARY KEY,
	kind UTINYINT NOT NULL,
	labels VARCHAR NOT NULL,
	min_ts BIGINT NOT NULL,
	max_ts BIGINT NOT NULL
);
CREATE TABLE IF NOT EXISTS %[1]s.levels (
	kind UTINYINT NOT NULL,
	level VARCHAR NOT NULL,
	PRIMARY KEY (kind, level)
);
CREATE TABLE IF NOT EXISTS %[1]s.blooms (
	kind UTINYINT NOT NULL,
	seq_lo UBIGINT NOT NULL,
	seq_hi UBIGINT NOT NULL,
	bloom BLOB NOT NULL
);`

// recordsSQL creates the records table of one kind. Rows are appended in
// arrival order, which is roughly time order, so DuckDB's per-row-group
// min/max statistics on ts prune most of a partition for narrow ranges.
// seq orders records with equal timestamps and makes keyset paging exact;
// it grows by one per row, which DuckDB's bitpacking stores in almost no
// space. Bodies are compressed with ZSTD: DuckDB would pick FSST for lines
// of a few hundred bytes, which halves JSON logs where ZSTD divides them
// by four or more, at about the same checkpoint cost.
const recordsSQL = `
CREATE TABLE IF NOT EXISTS %s.%s (
	ts BIGINT NOT NULL,
	seq UBIGINT NOT NULL,
	stream_id UINTEGER NOT NULL,
	level VARCHAR NOT NULL,
	body VARCHAR USING COMPRESSION zstd NOT NULL,
	trace_id VARCHAR NOT NULL,
	span_id VARCHAR NOT NULL,
	attrs VARCHAR NOT NULL
)`

// partition is one attached DuckDB file holding the records of one UTC day.
//
// Its maps are written only by the writer (holding Store.wmu) and only
// while it also holds Store.mu; readers hold Store.mu for reading.
type partition struct {
	name  string // file name without suffix
	alias string // the name it is attached under
	path  string
	day   int64
	start int64 // the day's first nanosecond
	end   int64 // one past the day's last nanosecond

	tables  map[event.Kind]bool
	streams map[*stream]*pstream
	nextID  uint32
	levels  map[event.Kind][]string // sorted

	// blocks collect the needle index keys of the records appended since
	// the last filter, per kind; only the writer uses them.
	blocks map[event.Kind]*blockBuilder

	// refs counts queries using the partition. A dropped partition is
	// detached and deleted once refs reaches zero.
	refs    atomic.Int32
	dropped atomic.Bool
	gone    atomic.Bool // detach and delete started
}

// pstream is a stream's presence in a partition.
type pstream struct {
	id uint32
	// min and max bound the stream's records in the partition. They are
	// exact while the store runs; after a restart they are the saved
	// bounds, which may be wider.
	min, max int64
	// savedMin and savedMax are the bounds in the streams table. Append
	// writes them widened to boundsGrain, so that a stream that keeps
	// receiving records costs one streams-table write per grain instead
	// of one per batch.
	savedMin, savedMax int64
}

// boundsGrain is the granularity of the stream bounds saved in a
// partition's streams table. Writing a stream's row costs a DuckDB
// statement, which takes about as much CPU as appending a thousand lines,
// and a backfill or a replay after an agent's outage crosses a minute of
// log time every few batches. An hour makes that write rare; the price is
// only after a restart, when a query whose range cuts a stream's saved
// hour checks that stream's records instead of answering from the bounds.
const boundsGrain = int64(time.Hour)

// widen returns [lo, hi] widened to whole grains of boundsGrain, but not
// beyond the partition's day.
func (p *partition) widen(lo, hi int64) (int64, int64) {
	wlo, whi := lo, hi
	if r := posMod(lo, boundsGrain); lo >= math.MinInt64+r {
		wlo = lo - r
	}
	if add := boundsGrain - 1 - posMod(hi, boundsGrain); hi <= math.MaxInt64-add {
		whi = hi + add // the grain's last nanosecond
	}
	return min(max(wlo, p.start), lo), max(min(whi, p.end-1), hi)
}

func posMod(v, m int64) int64 {
	r := v % m
	if r < 0 {
		r += m
	}
	return r
}

func dayOf(ts int64) int64 {
	d := ts / dayNs
	if ts%dayNs < 0 {
		d--
	}
	return d
}

func newPartition(dir string, day int64, gen uint64) *partition {
	date := time.Unix(day*86400, 0).UTC().Format("20060102")
	name := fmt.Sprintf("%s-%06d", date, gen)
	p := &partition{
		name:    name,
		alias:   fmt.Sprintf("p_%s_%d", date, gen),
		path:    filepath.Join(dir, name+dbSuffix),
		day:     day,
		start:   math.MinInt64,
		end:     math.MaxInt64,
		tables:  map[event.Kind]bool{},
		streams: map[*stream]*pstream{},
		nextID:  1,
		levels:  map[event.Kind][]string{},
		blocks:  map[event.Kind]*blockBuilder{},
	}
	// The first and last days of the time line are cut short.
	if day >= math.MinInt64/dayNs {
		p.start = day * dayNs
	}
	if day < math.MaxInt64/dayNs {
		p.end = (day + 1) * dayNs
	}
	return p
}

// partFile is a partition file found in the directory.
type partFile struct {
	day int64
	gen uint64
}

// scanDir lists the partition files of dir, oldest day first. Where a day
// has several files (a crash between a drop and the deletion of its file),
// only the newest generation is live; the others are deleted. WAL files
// without a database file are deleted too, so that they cannot be replayed
// into a new partition of the same name.
func scanDir(dir string) ([]partFile, uint64, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, 0, fmt.Errorf("read data directory: %w", err)
	}
	byDay := map[int64][]uint64{}
	var maxGen uint64
	present := map[string]bool{}
	for _, e := range entries {
		present[e.Name()] = true
	}
	for _, e := range entries {
		n := e.Name()
		if base, ok := cutSuffix(n, walSuffix); ok {
			if !present[base+dbSuffix] {
				if err := os.Remove(filepath.Join(dir, n)); err != nil {
					return nil, 0, fmt.Errorf("remove stray wal: %w", err)
				}
			}
			continue
		}
		m := partFileRE.FindStringSubmatch(n)
		if m == nil {
			continue
		}
		t, err := time.Parse("20060102", m[1])
		if err != nil {
			continue
		}
		gen, err := strconv.ParseUint(m[2], 10, 64)
		if err != nil {
			continue
		}
		day := dayOf(t.UnixNano())
		byDay[day] = append(byDay[day], gen)
		maxGen = max(maxGen, gen)
	}
	var out []partFile
	for day, gens := range byDay {
		slices.Sort(gens)
		for _, g := range gens[:len(gens)-1] {
			if err := removePartitionFiles(newPartition(dir, day, g).path); err != nil {
				return nil, 0, err
			}
		}
		out = append(out, partFile{day: day, gen: gens[len(gens)-1]})
	}
	slices.SortFunc(out, func(a, b partFile) int { return cmp.Compare(a.day, b.day) })
	return out, maxGen, nil
}

func cutSuffix(s, suffix string) (string, bool) {
	if len(s) > len(suffix) && s[len(s)-len(suffix):] == suffix {
		return s[:len(s)-len(suffix)], true
	}
	return s, false
}

// removePartitionFiles deletes a partition's WAL, then its database file, so
// that a crash in between never leaves a WAL to be replayed.
func removePartitionFiles(path string) error {
	for _, p := range []string{path + ".wal", path} {
		if err := os.Remove(p); err != nil && !errors.Is(err, fs.ErrNotExist) {
			return fmt.Errorf("remove partition file: %w", err)
		}
	}
	return nil
}

// attach attaches the partition's file, creating it if needed, and its
// fixed tables. rowGroup is the row group size for new rows, 0 for DuckDB's
// default.
func (p *partition) attach(ctx context.Context, conn *sql.Conn, rowGroup int) error {
	opts := " (STORAGE_VERSION 'v1.4.0')"
	if rowGroup > 0 {
		opts = fmt.Sprintf(" (STORAGE_VERSION 'v1.4.0', ROW_GROUP_SIZE %d)", rowGroup)
	}
	if _, err := conn.ExecContext(ctx, "ATTACH "+quoteString(p.path)+" AS "+quoteIdent(p.alias)+opts); err != nil {
		return fmt.Errorf("attach partition %s: %w", p.name, err)
	}
	if _, err := conn.ExecContext(ctx, fmt.Sprintf(schemaSQL, quoteIdent(p.alias))); err != nil {
		return fmt.Errorf("create tables of partition %s: %w", p.name, err)
	}
	return nil
}

// ensureTable creates the records table of kind k. The caller records its
// existence in p.tables once the batch is committed.
func (p *partition) ensureTable(ctx context.Context, conn *sql.Conn, k event.Kind) error {
	if p.tables[k] {
		return nil
	}
	if _, err := conn.ExecContext(ctx, fmt.Sprintf(recordsSQL, quoteIdent(p.alias), quoteIdent(tableName(k)))); err != nil {
		return fmt.Errorf("create %s table of partition %s: %w", k, p.name, err)
	}
	return nil
}

// load reads an attached partition's streams, levels and tables. It returns
// the highest seq stored. intern returns the shared stream for a kind and
// label set.
func (p *partition) load(ctx context.Context, conn *sql.Conn, intern func(event.Kind, labels.Labels) *stream) (uint64, error) {
	rows, err := conn.QueryContext(ctx, "SELECT table_name FROM duckdb_tables() WHERE database_name = "+quoteString(p.alias))
	if err != nil {
		return 0, fmt.Errorf("list tables of partition %s: %w", p.name, err)
	}
	var names []string
	for rows.Next() {
		var n string
		if err := rows.Scan(&n); err != nil {
			_ = rows.Close()
			return 0, fmt.Errorf("list tables of partition %s: %w", p.name, err)
		}
		names = append(names, n)
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return 0, fmt.Errorf("list tables of partition %s: %w", p.name, err)
	}
	var maxSeq uint64
	for _, k := range kinds {
		if !slices.Contains(names, tableName(k)) {
			continue
		}
		p.tables[k] = true
		var seq sql.NullInt64
		if err := conn.QueryRowContext(ctx, "SELECT max(seq)::BIGINT FROM "+p.table(k)).Scan(&seq); err != nil {
			return 0, fmt.Errorf("read sequence of partition %s: %w", p.name, err)
		}
		maxSeq = max(maxSeq, uint64(seq.Int64))
	}

	rows, err = conn.QueryContext(ctx, "SELECT stream_id, kind, labels, min_ts, max_ts FROM "+quoteIdent(p.alias)+".streams")
	if err != nil {
		return 0, fmt.Errorf("read streams of partition %s: %w", p.name, err)
	}
	for rows.Next() {
		var (
			ps      pstream
			kind    uint8
			encoded string
		)
		if err := rows.Scan(&ps.id, &kind, &encoded, &ps.min, &ps.max); err != nil {
			_ = rows.Close()
			return 0, fmt.Errorf("read streams of partition %s: %w", p.name, err)
		}
		var m map[string]string
		if err := json.Unmarshal([]byte(encoded), &m); err != nil {
			_ = rows.Close()
			return 0, fmt.Errorf("decode labels of stream %d in partition %s: %w", ps.id, p.name, err)
		}
		ps.savedMin, ps.savedMax = ps.min, ps.max
		st := intern(event.Kind(kind), labels.FromMap(m))
		p.streams[st] = &ps
		p.nextID = max(p.nextID, ps.id+1)
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return 0, fmt.Errorf("read streams of partition %s: %w", p.name, err)
	}

	rows, err = conn.QueryContext(ctx, "SELECT kind, level FROM "+quoteIdent(p.alias)+".levels ORDER BY kind, level")
	if err != nil {
		return 0, fmt.Errorf("read levels of partition %s: %w", p.name, err)
	}
	for rows.Next() {
		var (
			kind  uint8
			level string
		)
		if err := rows.Scan(&kind, &level); err != nil {
			_ = rows.Close()
			return 0, fmt.Errorf("read levels of partition %s: %w", p.name, err)
		}
		p.levels[event.Kind(kind)] = append(p.levels[event.Kind(kind)], level)
	}
	if err := errors.Join(rows.Err(), rows.Close()); err != nil {
		return 0, fmt.Errorf("read levels of partition %s: %w", p.name, err)
	}
	return maxSeq, nil
}

// block returns the needle index builder of kind k.
func (p *partition) block(k event.Kind) *blockBuilder {
	b := p.blocks[k]
	if b == nil {
		b = &blockBuilder{}
		p.blocks[k] = b
	}
	return b
}

// table is the qualified name of the records table of kind k.
func (p *partition) table(k event.Kind) string {
	return quoteIdent(p.alias) + "." + quoteIdent(tableName(k))
}

// encodeLabels encodes a label set for the streams table.
func encodeLabels(ls labels.Labels) string {
	b, err := json.Marshal(ls.Map())
	if err != nil {
		panic("BUG: encode labels: " + err.Error())
	}
	return string(b)
}
