package duckstore

import (
	"cmp"
	"context"
	"database/sql"
	"errors"
	"fmt"
	"log/slog"
	"net/url"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"sync"
	"time"

	duckdb "github.com/marcboeker/go-duckdb/v2"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/lookout-dev/lookout/internal/event"
	"github.com/lookout-dev/lookout/internal/eventstore"
)

// Defaults for zero Options fields.
const (
	DefaultMemoryLimit = 512 << 20
	DefaultMaxConns    = 8
)

// checkpointThreshold is the WAL size that triggers a checkpoint: a
// quarter of the memory limit, from DuckDB's default of 16 MiB up to
// 256 MiB.
func checkpointThreshold(memoryLimit int64) int64 {
	return min(max(memoryLimit/4, 16<<20), 256<<20)
}

// Options configure a Store.
type Options struct {
	// Dir holds the partition files. It is created if missing. One Store
	// at a time may use it; Open fails if another holds it.
	Dir string
	// MemoryLimit caps DuckDB's buffer pool in bytes (its memory_limit);
	// queries that need more spill to Dir/tmp or fail. Go-side memory (the
	// stream index, rows being decoded) comes on top. 0 means
	// DefaultMemoryLimit.
	MemoryLimit int64
	// Threads is the number of DuckDB worker threads. 0 means
	// min(GOMAXPROCS, 4).
	Threads int
	// MaxConns bounds the queries that run at once; a Select holds one
	// connection until its iteration ends. 0 means DefaultMaxConns.
	MaxConns int
	// Logger receives lifecycle and retention messages; nil discards them.
	Logger *slog.Logger
	// Registerer receives the store's metrics; nil registers nowhere.
	Registerer prometheus.Registerer

	_ struct{}
}

// Store is an eventstore.Store on DuckDB. All methods are safe for
// concurrent use.
type Store struct {
	dir      string
	logger   *slog.Logger
	metrics  *metrics
	unlock   func() error
	rowGroup int

	// db is DuckDB, nil until startDB; dsn and maxConns configure it.
	dsn      string
	maxConns int
	db       *sql.DB

	// wmu serialises writers: Append, ApplyRetention and Close. Only a
	// writer changes the partition set, stream bookkeeping and the fields
	// below, and only while also holding mu.
	wmu   sync.Mutex
	wconn *sql.Conn
	// strBufs are the string buffers of the writer's chunk appenders,
	// kept from one commit to the next.
	strBufs strColumns
	rows    []row // see rowBuf

	qmu   sync.Mutex
	queue []*appendReq // batches waiting for a group commit, oldest first

	nextSeq uint64
	nextGen uint64

	mu      sync.RWMutex
	closed  bool
	parts   []*partition             // live partitions, oldest day first
	live    map[int64]*partition     // by day
	streams map[string]*stream       // by streamKey
	byKind  map[event.Kind][]*stream // for matching; order is not meaningful
}

// stream is a stream known to the store: the shared identity behind the
// per-partition ids.
type stream struct {
	kind   event.Kind
	labels labels.Labels
	key    string
	parts  int // live partitions holding records of the stream
	index  int // position in Store.byKind[kind]
}

func streamKey(k event.Kind, ls labels.Labels) string {
	return string(rune('0'+k)) + ls.String()
}

var _ eventstore.Store = (*Store)(nil)

// Open opens or creates the store in opts.Dir, attaching every partition
// found there.
func Open(ctx context.Context, opts Options) (_ *Store, err error) {
	if opts.Dir == "" {
		return nil, errors.New("open event store: no directory configured")
	}
	if opts.MemoryLimit == 0 {
		opts.MemoryLimit = DefaultMemoryLimit
	}
	if opts.Threads == 0 {
		opts.Threads = min(runtime.GOMAXPROCS(0), 4)
	}
	if opts.MaxConns == 0 {
		opts.MaxConns = DefaultMaxConns
	}
	if opts.MemoryLimit < 0 || opts.Threads < 0 || opts.MaxConns < 0 {
		return nil, errors.New("open event store: memory limit, threads and max conns must not be negative")
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	logger = logger.With("component", "duckstore")

	tmp := filepath.Join(opts.Dir, "tmp")
	if err := os.MkdirAll(tmp, 0o750); err != nil {
		return nil, fmt.Errorf("create data directory: %w", err)
	}
	unlock, err := lockDir(opts.Dir)
	if err != nil {
		return nil, err
	}
	defer func() {
		if err != nil {
			_ = unlock() // the open error matters more
		}
	}()
	// Spill files of a previous process are useless now.
	if err := os.RemoveAll(tmp); err != nil {
		return nil, fmt.Errorf("clear temp directory: %w", err)
	}

	files, maxGen, err := scanDir(opts.Dir)
	if err != nil {
		return nil, err
	}

	// The main database is in memory and holds nothing; every partition
	// is a file attached to it, so that retention can delete whole files
	// and give the space back to the file system.
	cfg := url.Values{}
	cfg.Set("memory_limit", strconv.FormatInt(max(opts.MemoryLimit/1024, 1), 10)+"KiB")
	cfg.Set("threads", strconv.Itoa(opts.Threads))
	cfg.Set("temp_directory", tmp)
	// DuckDB checkpoints a partition once its WAL passes this size, which
	// compresses the new rows into the file. The default, 16 MiB, has a
	// busy ingest recompress its last, still growing row group many times
	// over; a larger WAL means fewer checkpoints but a longer replay after
	// a crash, and more rows held uncompressed in memory.
	cfg.Set("checkpoint_threshold", strconv.FormatInt(checkpointThreshold(opts.MemoryLimit)>>10, 10)+"KiB")
	cfg.Set("autoinstall_known_extensions", "false")
	cfg.Set("autoload_known_extensions", "false")
	// Queries that need an order say so; this lets DuckDB stream more.
	cfg.Set("preserve_insertion_order", "false")
	// Top-N queries up to a Select page sort only (ts, seq, rowid) and
	// fetch the other columns of the winners; the default, 50, is smaller
	// than most pages.
	cfg.Set("late_materialization_max_rows", strconv.Itoa(maxPage))
	s := &Store{
		dir:      opts.Dir,
		logger:   logger,
		unlock:   unlock,
		dsn:      ":memory:?" + cfg.Encode(),
		maxConns: opts.MaxConns,
		rowGroup: rowGroupSize(opts.MemoryLimit),
		nextGen:  maxGen + 1,
		live:     map[int64]*partition{},
		streams:  map[string]*stream{},
		byKind:   map[event.Kind][]*stream{},
	}
	if len(files) > 0 {
		if err := s.startDB(ctx); err != nil {
			return nil, err
		}
		defer func() {
			if err != nil {
				_ = s.stopDB() // the open error matters more
			}
		}()
	}
	var maxSeq uint64
	for _, f := range files {
		p := newPartition(opts.Dir, f.day, f.gen)
		if err := p.attach(ctx, s.wconn, s.rowGroup); err != nil {
			return nil, err
		}
		seq, err := p.load(ctx, s.wconn, s.intern)
		if err != nil {
			return nil, err
		}
		for st := range p.streams {
			st.parts++
		}
		maxSeq = max(maxSeq, seq)
		s.parts = append(s.parts, p)
		s.live[p.day] = p
	}
	s.nextSeq = maxSeq + 1
	if s.metrics, err = newMetrics(opts.Registerer, s); err != nil {
		return nil, err
	}
	logger.Info("event store opened", "dir", opts.Dir, "partitions", len(s.parts), "streams", len(s.streams),
		"memory_limit", opts.MemoryLimit, "threads", opts.Threads, "duckdb_started", s.db != nil)
	return s, nil
}

// startDB starts DuckDB and connects the writer. Open does this when the
// directory holds partitions; otherwise the first partition created does
// (livePartition), so that a Lookout that never receives an event does not
// pay for DuckDB: its catalog and code pages cost about 20 MiB of resident
// memory. Every query reaches DuckDB through a partition, and partitions
// are published under mu after db is set, so a query never sees a nil db.
// The caller holds wmu, or has the store to itself.
func (s *Store) startDB(ctx context.Context) (err error) {
	connector, err := duckdb.NewConnector(s.dsn, nil)
	if err != nil {
		return fmt.Errorf("open duckdb: %w", err)
	}
	db := sql.OpenDB(connector)
	db.SetMaxOpenConns(s.maxConns + 1) // +1 for the writer
	db.SetMaxIdleConns(s.maxConns + 1)
	wconn, err := db.Conn(ctx)
	if err != nil {
		_ = db.Close() // the connect error matters more
		return fmt.Errorf("connect writer: %w", err)
	}
	s.mu.Lock()
	s.db, s.wconn = db, wconn
	s.mu.Unlock()
	return nil
}

// stopDB closes the writer's connection and DuckDB, if started.
func (s *Store) stopDB() error {
	if s.db == nil {
		return nil
	}
	err := errors.Join(s.wconn.Close(), s.db.Close())
	if err != nil {
		err = fmt.Errorf("close duckdb: %w", err)
	}
	return err
}

// intern returns the stream of kind k with labels ls, adding it if new.
// The caller holds mu for writing, or has the store to itself.
func (s *Store) intern(k event.Kind, ls labels.Labels) *stream {
	key := streamKey(k, ls)
	if st, ok := s.streams[key]; ok {
		return st
	}
	st := &stream{kind: k, labels: ls, key: key, index: len(s.byKind[k])}
	s.streams[key] = st
	s.byKind[k] = append(s.byKind[k], st)
	return st
}

// forget removes a stream that no live partition holds any more. The caller
// holds mu for writing.
func (s *Store) forget(st *stream) {
	delete(s.streams, st.key)
	list := s.byKind[st.kind]
	last := list[len(list)-1]
	list[st.index] = last
	last.index = st.index
	s.byKind[st.kind] = list[:len(list)-1]
}

// Size implements eventstore.Store: the bytes of the live partitions'
// database and WAL files.
func (s *Store) Size() int64 {
	s.mu.RLock()
	paths := make([]string, 0, len(s.parts))
	for _, p := range s.parts {
		paths = append(paths, p.path)
	}
	s.mu.RUnlock()
	var n int64
	for _, p := range paths {
		for _, f := range []string{p, p + ".wal"} {
			if fi, err := os.Stat(f); err == nil {
				n += fi.Size()
			}
		}
	}
	return n
}

// Close implements eventstore.Store. It waits for a running Append or
// ApplyRetention, then closes DuckDB, which checkpoints every partition's
// WAL into its database file. Queries still iterating fail with ErrClosed
// at their next page.
func (s *Store) Close() error {
	s.wmu.Lock()
	defer s.wmu.Unlock()
	s.mu.Lock()
	if s.closed {
		s.mu.Unlock()
		return nil
	}
	s.closed = true
	s.mu.Unlock()

	// The open blocks of the needle index are saved as they are, so that
	// their records are indexed after a restart.
	for _, p := range s.parts {
		for _, k := range kinds {
			if b := p.blocks[k]; b != nil && b.rows > 0 {
				if err := s.writeBloom(context.Background(), p, k, b); err != nil {
					s.logger.Warn("save needle index", "partition", p.name, "err", err)
				}
			}
		}
	}
	s.metrics.unregister()
	err := s.stopDB()
	if uerr := s.unlock(); uerr != nil {
		err = errors.Join(err, uerr)
	}
	s.logger.Info("event store closed", "dir", s.dir)
	return err
}

func (s *Store) isClosed() bool {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.closed
}

// unref releases a partition a query used, deleting it if it was dropped.
func (s *Store) unref(p *partition) {
	if p.refs.Add(-1) == 0 && p.dropped.Load() {
		s.finalize(p)
	}
}

// finalize detaches a dropped partition and deletes its files. It runs once
// per partition, when neither queries nor the writer use it any more.
func (s *Store) finalize(p *partition) {
	if !p.gone.CompareAndSwap(false, true) {
		return
	}
	// DETACH fails once the store is closed; the files go regardless.
	if _, err := s.db.ExecContext(context.Background(), "DETACH "+quoteIdent(p.alias)); err != nil {
		s.logger.Debug("detach dropped partition", "partition", p.name, "err", err)
	}
	if err := removePartitionFiles(p.path); err != nil {
		s.logger.Warn("delete dropped partition", "partition", p.name, "err", err)
	}
}

// matchStreams returns the streams of kind k that match every matcher. The
// caller holds mu.
func (s *Store) matchStreams(k event.Kind, ms []*labels.Matcher) map[*stream]bool {
	out := map[*stream]bool{}
	for _, st := range s.byKind[k] {
		ok := true
		for _, m := range ms {
			if !m.Matches(st.labels.Get(m.Name)) {
				ok = false
				break
			}
		}
		if ok {
			out[st] = true
		}
	}
	return out
}

// member is a stream's presence in a partition, as a query saw it.
type member struct {
	st *stream
	pstream
}

// scan is the part of a query that runs against one partition.
type scan struct {
	p       *partition
	kind    event.Kind
	members map[uint32]member // the matching streams with records overlapping the range
	ids     []uint32          // sorted ids of members; nil if every stream of the kind matches
	levels  []string          // allowed levels; nil if all are
	// skip lists seq ranges that the needle index rules out for the line
	// filters of the query; where applies it with those filters.
	skip []seqRange
}

func (sc *scan) table() string { return sc.p.table(sc.kind) }

// plan finds the partitions and streams a selector touches and takes a
// reference on each partition; release drops them. Line filters are not
// looked at.
func (s *Store) plan(sel eventstore.Selector) (scans []*scan, release func(), err error) {
	s.mu.RLock()
	defer s.mu.RUnlock()
	if s.closed {
		return nil, nil, eventstore.ErrClosed
	}
	if sel.Start >= sel.End {
		return nil, func() {}, nil
	}
	matched := s.matchStreams(sel.Kind, sel.Matchers)
	if len(matched) == 0 {
		return nil, func() {}, nil
	}
	for _, p := range s.parts {
		if p.end <= sel.Start || p.start >= sel.End || !p.tables[sel.Kind] {
			continue
		}
		sc := &scan{p: p, kind: sel.Kind, members: map[uint32]member{}}
		if len(sel.Level) > 0 {
			all := p.levels[sel.Kind]
			for _, l := range all {
				if matchAll(sel.Level, l) {
					sc.levels = append(sc.levels, l)
				}
			}
			if len(sc.levels) == 0 {
				continue
			}
			if len(sc.levels) == len(all) {
				sc.levels = nil
			}
		}
		allMatch := true
		for st, ps := range p.streams {
			if st.kind != sel.Kind {
				continue
			}
			if !matched[st] {
				allMatch = false
				continue
			}
			if ps.max >= sel.Start && ps.min < sel.End {
				sc.members[ps.id] = member{st: st, pstream: *ps}
				sc.ids = append(sc.ids, ps.id)
			}
		}
		if len(sc.members) == 0 {
			continue
		}
		if allMatch {
			sc.ids = nil
		} else {
			slices.Sort(sc.ids)
		}
		p.refs.Add(1)
		scans = append(scans, sc)
	}
	return scans, func() {
		for _, sc := range scans {
			s.unref(sc.p)
		}
	}, nil
}

func matchAll(ms []*labels.Matcher, v string) bool {
	for _, m := range ms {
		if !m.Matches(v) {
			return false
		}
	}
	return true
}

// observe records a query's duration.
func (s *Store) observe(op string, start time.Time) {
	s.metrics.queryDuration.WithLabelValues(op).Observe(time.Since(start).Seconds())
}

// sortParts orders partitions by day.
func sortParts(ps []*partition) {
	slices.SortFunc(ps, func(a, b *partition) int { return cmp.Compare(a.day, b.day) })
}
