// Package metricstore embeds the Prometheus TSDB and PromQL engine.
//
// A Store exists before its TSDB is open: Open replays the WAL, which can
// take minutes, and until it returns every read and write answers
// tsdb.ErrNotReady. This lets the HTTP server start at once and report
// "not ready" instead of refusing connections.
package metricstore

import (
	"context"
	"fmt"
	"log/slog"
	"math"
	"os"
	"path/filepath"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	promconfig "github.com/prometheus/prometheus/config"
	"github.com/prometheus/prometheus/model/exemplar"
	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/promql/parser"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/tsdb"
	"github.com/prometheus/prometheus/util/compression"
)

// Options configures a Store.
type Options struct {
	Dir            string
	Logger         *slog.Logger
	Registerer     prometheus.Registerer
	RetentionTime  time.Duration
	RetentionBytes int64
	WALCompression bool
	// MaxExemplars sizes the in-memory exemplar ring; 0 disables exemplars.
	MaxExemplars int64
	// BlockDuration is the head block's span (default 2h). Samples older than
	// 1.5 blocks behind the newest are refused unless out-of-order ingestion
	// is configured; tests that load long histories raise it.
	BlockDuration time.Duration

	_ struct{}
}

// Store is the metrics store. It is safe for concurrent use. It implements
// storage.SampleAndChunkQueryable, storage.Appendable, storage.AppendableV2
// and storage.ExemplarQueryable.
type Store struct {
	opts  Options
	stats *tsdb.DBStats

	mu sync.RWMutex
	db *tsdb.DB

	// The exemplar ring is sized only once an exemplar arrives (see
	// sizeExemplars). cfg is the config last applied, which resizing
	// applies again.
	exemplarsMu   sync.Mutex
	exemplarsUsed atomic.Bool
	cfg           *promconfig.Config
}

// New returns a Store that is not open yet.
func New(opts Options) *Store {
	if opts.Logger == nil {
		opts.Logger = slog.New(slog.DiscardHandler)
	}
	return &Store{opts: opts, stats: tsdb.NewDBStats()}
}

// CheckDir verifies that dir exists or can be created and is writable, so
// that startup fails early with a message naming the path.
func CheckDir(dir string) error {
	if err := os.MkdirAll(dir, 0o755); err != nil {
		return fmt.Errorf("create data directory %s: %w", dir, err)
	}
	f, err := os.CreateTemp(dir, ".write-check-*")
	if err != nil {
		return fmt.Errorf("data directory %s is not writable: %w", dir, err)
	}
	name := f.Name()
	_ = f.Close()
	return os.Remove(name)
}

// Open opens the TSDB, replaying the WAL and repairing a torn tail left by a
// crash. It blocks until the store is ready or fails.
func (s *Store) Open(cfg *promconfig.Config) error {
	dir := s.Dir()
	if err := CheckDir(dir); err != nil {
		return err
	}
	o := tsdb.DefaultOptions()
	o.RetentionDuration = s.opts.RetentionTime.Milliseconds()
	o.MaxBytes = s.opts.RetentionBytes
	if s.opts.BlockDuration > 0 {
		o.MinBlockDuration = s.opts.BlockDuration.Milliseconds()
		o.MaxBlockDuration = o.MinBlockDuration
	}
	if s.opts.WALCompression {
		o.WALCompression = compression.Snappy
	}
	if s.opts.MaxExemplars > 0 {
		o.EnableExemplarStorage = true
		o.MaxExemplars = s.opts.MaxExemplars
	}
	if cfg != nil && cfg.StorageConfig.TSDBConfig != nil {
		o.OutOfOrderTimeWindow = cfg.StorageConfig.TSDBConfig.OutOfOrderTimeWindow
	}
	db, err := tsdb.Open(dir, s.opts.Logger.With("component", "tsdb"), s.opts.Registerer, o, s.stats)
	if err != nil {
		return fmt.Errorf("open metrics store in %s: %w", dir, err)
	}
	if cfg == nil {
		cfg = &promconfig.Config{}
	}
	// The ring had its full size for the WAL replay. If the replay put no
	// exemplar in it, it shrinks to nothing until one arrives: most
	// metrics carry none, and the ring costs about 64 bytes per slot.
	s.exemplarsUsed.Store(s.holdsExemplars(db))
	s.cfg = cfg
	if err := db.ApplyConfig(s.withExemplars(cfg)); err != nil {
		_ = db.Close() // The config error is the one worth reporting.
		return fmt.Errorf("apply storage config: %w", err)
	}
	s.mu.Lock()
	s.db = db
	s.mu.Unlock()
	return nil
}

// holdsExemplars reports whether db's exemplar storage holds any exemplar.
func (s *Store) holdsExemplars(db *tsdb.DB) bool {
	if s.opts.MaxExemplars <= 0 {
		return false
	}
	q, err := db.ExemplarQuerier(context.Background())
	if err != nil {
		return true // keep the ring; it only costs memory
	}
	res, err := q.Select(math.MinInt64, math.MaxInt64, []*labels.Matcher{labels.MustNewMatcher(labels.MatchRegexp, labels.MetricName, ".*")})
	return err != nil || len(res) > 0
}

// sizeExemplars gives the exemplar ring its configured size, before the
// first exemplar is appended.
func (s *Store) sizeExemplars() {
	if s.exemplarsUsed.Load() {
		return
	}
	s.exemplarsMu.Lock()
	defer s.exemplarsMu.Unlock()
	if s.exemplarsUsed.Load() {
		return
	}
	s.exemplarsUsed.Store(true)
	if db := s.get(); db != nil && s.cfg != nil {
		if err := db.ApplyConfig(s.withExemplars(s.cfg)); err != nil {
			s.opts.Logger.Error("size exemplar storage", "err", err)
		}
	}
}

// ApplyConfig applies the reloadable parts of Prometheus' storage section
// (out-of-order window, retention overrides, exemplar limits).
func (s *Store) ApplyConfig(cfg *promconfig.Config) error {
	s.exemplarsMu.Lock()
	defer s.exemplarsMu.Unlock()
	if db := s.get(); db != nil {
		if err := db.ApplyConfig(s.withExemplars(cfg)); err != nil {
			return err
		}
		s.cfg = cfg
	}
	return nil
}

// withExemplars returns cfg with the exemplar limit filled in when the
// config leaves it out (the TSDB requires it once exemplars are enabled),
// and with a limit of 0 while no exemplar has arrived.
func (s *Store) withExemplars(cfg *promconfig.Config) *promconfig.Config {
	c := *cfg
	ec := promconfig.ExemplarsConfig{MaxExemplars: s.opts.MaxExemplars}
	if cfg.StorageConfig.ExemplarsConfig != nil {
		ec = *cfg.StorageConfig.ExemplarsConfig
	}
	if !s.exemplarsUsed.Load() {
		ec.MaxExemplars = 0
	}
	c.StorageConfig.ExemplarsConfig = &ec
	return &c
}

// Dir is the directory holding the TSDB.
func (s *Store) Dir() string { return filepath.Join(s.opts.Dir, "metrics") }

// Ready reports whether the WAL has been replayed.
func (s *Store) Ready() bool { return s.get() != nil }

// DB returns the open TSDB, or nil before Open returned.
func (s *Store) DB() *tsdb.DB { return s.get() }

// Close closes the TSDB, flushing nothing more than the WAL already holds.
// It is safe to call more than once and before Open.
func (s *Store) Close() error {
	s.mu.Lock()
	db := s.db
	s.db = nil
	s.mu.Unlock()
	if db == nil {
		return nil
	}
	return db.Close()
}

func (s *Store) get() *tsdb.DB {
	s.mu.RLock()
	defer s.mu.RUnlock()
	return s.db
}

// StartTime implements storage.Storage.
func (s *Store) StartTime() (int64, error) {
	db := s.get()
	if db == nil {
		return 0, tsdb.ErrNotReady
	}
	if b := db.Blocks(); len(b) > 0 {
		return b[0].Meta().MinTime, nil
	}
	return time.Now().UnixMilli(), nil
}

// Querier implements storage.Queryable.
func (s *Store) Querier(mint, maxt int64) (storage.Querier, error) {
	if db := s.get(); db != nil {
		return db.Querier(mint, maxt)
	}
	return nil, tsdb.ErrNotReady
}

// ChunkQuerier implements storage.ChunkQueryable.
func (s *Store) ChunkQuerier(mint, maxt int64) (storage.ChunkQuerier, error) {
	if db := s.get(); db != nil {
		return db.ChunkQuerier(mint, maxt)
	}
	return nil, tsdb.ErrNotReady
}

// ExemplarQuerier implements storage.ExemplarQueryable.
func (s *Store) ExemplarQuerier(ctx context.Context) (storage.ExemplarQuerier, error) {
	if db := s.get(); db != nil {
		return db.ExemplarQuerier(ctx)
	}
	return nil, tsdb.ErrNotReady
}

// Appender implements storage.Appendable. Prometheus' remote-write 1.0
// handler still needs it; everything else uses AppenderV2.
func (s *Store) Appender(ctx context.Context) storage.Appender {
	if db := s.get(); db != nil {
		if s.exemplarsPending() {
			return exemplarAppender{db.Appender(ctx), s}
		}
		return db.Appender(ctx)
	}
	return notReadyAppender{}
}

// AppenderV2 implements storage.AppendableV2.
func (s *Store) AppenderV2(ctx context.Context) storage.AppenderV2 {
	if db := s.get(); db != nil {
		if s.exemplarsPending() {
			return exemplarAppenderV2{db.AppenderV2(ctx), s}
		}
		return db.AppenderV2(ctx)
	}
	return notReadyAppenderV2{}
}

// exemplarsPending reports whether exemplars are on but the ring is not
// sized yet: then appenders are wrapped to size it first.
func (s *Store) exemplarsPending() bool {
	return s.opts.MaxExemplars > 0 && !s.exemplarsUsed.Load()
}

// exemplarAppender sizes the exemplar ring before the first exemplar.
type exemplarAppender struct {
	storage.Appender
	s *Store
}

func (a exemplarAppender) AppendExemplar(ref storage.SeriesRef, l labels.Labels, e exemplar.Exemplar) (storage.SeriesRef, error) {
	a.s.sizeExemplars()
	return a.Appender.AppendExemplar(ref, l, e)
}

// exemplarAppenderV2 sizes the exemplar ring before the first exemplar.
type exemplarAppenderV2 struct {
	storage.AppenderV2
	s *Store
}

func (a exemplarAppenderV2) Append(ref storage.SeriesRef, ls labels.Labels, st, t int64, v float64, h *histogram.Histogram, fh *histogram.FloatHistogram, opts storage.AOptions) (storage.SeriesRef, error) {
	if len(opts.Exemplars) > 0 {
		a.s.sizeExemplars()
	}
	return a.AppenderV2.Append(ref, ls, st, t, v, h, fh, opts)
}

// CleanTombstones implements the Prometheus API's TSDBAdminStats.
func (s *Store) CleanTombstones() error {
	if db := s.get(); db != nil {
		return db.CleanTombstones()
	}
	return tsdb.ErrNotReady
}

// Delete implements the Prometheus API's TSDBAdminStats.
func (s *Store) Delete(ctx context.Context, mint, maxt int64, ms ...*labels.Matcher) error {
	if db := s.get(); db != nil {
		return db.Delete(ctx, mint, maxt, ms...)
	}
	return tsdb.ErrNotReady
}

// Snapshot implements the Prometheus API's TSDBAdminStats.
func (s *Store) Snapshot(dir string, withHead bool) error {
	if db := s.get(); db != nil {
		return db.Snapshot(dir, withHead)
	}
	return tsdb.ErrNotReady
}

// Stats implements the Prometheus API's TSDBAdminStats.
func (s *Store) Stats(statsByLabelName string, limit int) (*tsdb.Stats, error) {
	if db := s.get(); db != nil {
		return db.Head().Stats(statsByLabelName, limit), nil
	}
	return nil, tsdb.ErrNotReady
}

// BlockMetas implements the Prometheus API's TSDBAdminStats.
func (s *Store) BlockMetas() ([]tsdb.BlockMeta, error) {
	if db := s.get(); db != nil {
		return db.BlockMetas(), nil
	}
	return nil, tsdb.ErrNotReady
}

// WALReplayStatus implements the Prometheus API's TSDBAdminStats; it answers
// during the replay too.
func (s *Store) WALReplayStatus() (tsdb.WALReplayStatus, error) {
	return s.stats.Head.WALReplayStatus.GetWALReplayStatus(), nil
}

// EngineOptions configures the PromQL engine.
type EngineOptions struct {
	Logger         *slog.Logger
	Registerer     prometheus.Registerer
	Dir            string // holds queries.active, which logs queries in flight across crashes
	Timeout        time.Duration
	MaxSamples     int
	MaxConcurrency int
	LookbackDelta  time.Duration
	// SubqueryStep is the step of subqueries that give none, such as
	// x[5m:]; Prometheus uses the global evaluation_interval. Nil means 1m.
	SubqueryStep func() time.Duration
	// Parser sets the PromQL features; nil gives Prometheus 3's defaults.
	Parser parser.Parser

	_ struct{}
}

// NewEngine returns a PromQL engine with Prometheus 3's defaults for the
// language features (@ modifier, negative offsets, delayed __name__ removal off).
func NewEngine(o EngineOptions) (*promql.Engine, error) {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if err := os.MkdirAll(o.Dir, 0o755); err != nil {
		return nil, fmt.Errorf("create query log directory: %w", err)
	}
	step := o.SubqueryStep
	if step == nil {
		step = func() time.Duration { return time.Minute }
	}
	tracker, err := promql.NewActiveQueryTracker(o.Dir, o.MaxConcurrency, o.Logger)
	if err != nil {
		return nil, fmt.Errorf("create active query tracker: %w", err)
	}
	return promql.NewEngine(promql.EngineOpts{
		Logger:               o.Logger.With("component", "query engine"),
		Reg:                  o.Registerer,
		MaxSamples:           o.MaxSamples,
		Timeout:              o.Timeout,
		ActiveQueryTracker:   tracker,
		LookbackDelta:        o.LookbackDelta,
		EnableAtModifier:     true,
		EnableNegativeOffset: true,
		EnablePerStepStats:   true,
		Parser:               o.Parser,
		NoStepSubqueryIntervalFn: func(int64) int64 {
			return step().Milliseconds()
		},
	}), nil
}
