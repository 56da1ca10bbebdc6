package logql

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"slices"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/lookout-dev/lookout/internal/event"
	"github.com/lookout-dev/lookout/internal/eventstore"
)

// ErrInvalidParams matches (with errors.Is) errors for query parameters that
// cannot be evaluated, such as an end before the start or a log query asked
// for as an instant query. Callers answer 400.
var ErrInvalidParams = errors.New("invalid query parameters")

// ErrLimitExceeded matches (with errors.Is) errors for queries that would
// exceed a bound of Options: too many lines, series or samples. Callers
// answer 400.
var ErrLimitExceeded = errors.New("query limit exceeded")

// queryError carries Loki's message for an error of kind ErrInvalidParams or
// ErrLimitExceeded.
type queryError struct {
	kind error
	msg  string
}

func (e *queryError) Error() string { return e.msg }
func (e *queryError) Unwrap() error { return e.kind }

func invalidParams(format string, args ...any) error {
	return &queryError{ErrInvalidParams, fmt.Sprintf(format, args...)}
}

func limitExceeded(format string, args ...any) error {
	return &queryError{ErrLimitExceeded, fmt.Sprintf(format, args...)}
}

// PipelineError is returned when a metric query meets a sample whose
// pipeline failed (its labels carry __error__) and no label filter removed
// it, as in Loki. Callers answer 400.
type PipelineError struct {
	Err    string // the __error__ value, such as JSONParserErr
	Labels labels.Labels
}

func (e *PipelineError) Error() string {
	return fmt.Sprintf("pipeline error: '%s' for series: '%s'. Use a label filter to intentionally skip this error. "+
		"(e.g | __error__!=\"%s\"). To skip all potential errors you can match empty errors.(e.g __error__=\"\") "+
		"The label filter can also be specified after unwrap. (e.g | unwrap latency | __error__=\"\" )",
		e.Err, e.Labels.String(), e.Err)
}

// Options configures an Engine. Zero fields take the defaults below.
type Options struct {
	// MaxLines is the largest Limit a log query may ask for, and the limit
	// used when a query asks for none. Default 5000.
	MaxLines int
	// Timeout bounds each query. Default 2 minutes; negative disables it.
	Timeout time.Duration
	// MaxSeries bounds the series of a metric query's result. Default 500,
	// Loki's max_query_series.
	MaxSeries int
	// MaxSamples bounds the points of a metric query's result (series ×
	// steps) and the samples the engine holds at once while it evaluates.
	// Default 10,000,000.
	MaxSamples int
	// Logger receives one debug line per query. Nil discards.
	Logger *slog.Logger
	// Now is the clock of the template function now. Default time.Now.
	Now func() time.Time

	_ struct{}
}

// Default option values.
const (
	DefaultMaxLines   = 5000
	DefaultTimeout    = 2 * time.Minute
	DefaultMaxSeries  = 500
	DefaultMaxSamples = 10_000_000
)

// QueryParams is one query.
type QueryParams struct {
	Query string
	// Start and End bound the query. Log queries return entries in
	// [Start, End); as in Loki 3.2+, they cannot be instant queries. Metric
	// queries evaluate at Start, Start+Step, … up to End; Start == End makes
	// an instant query, evaluated at End, whose result is a Vector or Scalar.
	Start, End time.Time
	// Step is the resolution of range metric queries.
	Step time.Duration
	// Interval, for log queries, keeps only entries at least Interval
	// apart within each stream, as Loki's interval parameter.
	Interval time.Duration
	// Limit caps the entries of a log query; 0 means Options.MaxLines.
	Limit int
	// Direction orders log query entries; Backward (newest first) is the
	// default.
	Direction eventstore.Direction
	// Kind selects the records to query; 0 means event.KindLog.
	Kind event.Kind
}

// Stats describes the work a query did, for the API's stats field.
type Stats struct {
	// RecordsScanned counts the records the store returned to the engine,
	// or that a pushed-down aggregation counted.
	RecordsScanned int64
	// BytesProcessed is the body bytes of those records (unknown, and
	// zero, for a pushed-down count).
	BytesProcessed int64
	// EntriesReturned counts log entries (log queries) or points (metric
	// queries) in the result.
	EntriesReturned int64
	// Selects and Aggregates count the store calls.
	Selects, Aggregates int
	ExecTime            time.Duration
}

// Result is a query's value and statistics.
type Result struct {
	Value Value
	Stats Stats
}

// Engine evaluates LogQL against an event store. It is safe for concurrent
// use; each query compiles its own pipeline.
type Engine struct {
	store  eventstore.Store
	opts   Options
	logger *slog.Logger
	// noPushdown makes the engine evaluate everything but the stream
	// selector in Go; tests use it to check pushdown changes no result.
	noPushdown bool
}

// NewEngine returns an engine over store.
func NewEngine(store eventstore.Store, opts Options) *Engine {
	if opts.MaxLines <= 0 {
		opts.MaxLines = DefaultMaxLines
	}
	if opts.Timeout == 0 {
		opts.Timeout = DefaultTimeout
	}
	if opts.MaxSeries <= 0 {
		opts.MaxSeries = DefaultMaxSeries
	}
	if opts.MaxSamples <= 0 {
		opts.MaxSamples = DefaultMaxSamples
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	return &Engine{store: store, opts: opts, logger: logger.With("component", "logql")}
}

// Query parses and evaluates a query. Errors are *ParseError for an invalid
// query, *PipelineError, errors wrapping ErrInvalidParams or
// ErrLimitExceeded, the context's error on timeout or cancellation, or store
// errors.
func (e *Engine) Query(ctx context.Context, p QueryParams) (Result, error) {
	began := time.Now()
	expr, err := ParseExpr(p.Query)
	if err != nil {
		return Result{}, err
	}
	if e.opts.Timeout > 0 {
		var cancel context.CancelFunc
		ctx, cancel = context.WithTimeout(ctx, e.opts.Timeout)
		defer cancel()
	}
	q, err := e.newQuery(p)
	if err != nil {
		return Result{}, err
	}
	var v Value
	switch expr := expr.(type) {
	case *LogSelectorExpr:
		if q.instant() {
			return Result{}, invalidParams("log queries are not supported as an instant query type, please change your query to a range query type")
		}
		v, err = q.execLog(ctx, expr)
	case SampleExpr:
		v, err = q.execMetric(ctx, expr)
	}
	q.stats.ExecTime = time.Since(began)
	e.logger.DebugContext(ctx, "query executed", "query", p.Query, "duration", q.stats.ExecTime,
		"records", q.stats.RecordsScanned, "selects", q.stats.Selects, "aggregates", q.stats.Aggregates, "err", err)
	if err != nil {
		return Result{Stats: q.stats}, err
	}
	return Result{Value: v, Stats: q.stats}, nil
}

// query is the state of one evaluation.
type query struct {
	e      *Engine
	p      QueryParams
	kind   event.Kind
	start  int64 // ns
	end    int64
	step   int64 // 0 for instant queries
	nSteps int
	stats  Stats
}

func (e *Engine) newQuery(p QueryParams) (*query, error) {
	q := &query{e: e, p: p, kind: p.Kind, start: p.Start.UnixNano(), end: p.End.UnixNano()}
	if q.kind == 0 {
		q.kind = event.KindLog
	}
	if q.end < q.start {
		return nil, invalidParams("end (%s) is before start (%s)", p.End, p.Start)
	}
	if p.Limit < 0 {
		return nil, invalidParams("negative limit %d", p.Limit)
	}
	if p.Limit > e.opts.MaxLines {
		return nil, limitExceeded("max entries limit per query exceeded, limit > max_entries_limit (%d > %d)", p.Limit, e.opts.MaxLines)
	}
	return q, nil
}

func (q *query) instant() bool { return q.start == q.end }

// stepTime returns the evaluation time of step i.
func (q *query) stepTime(i int) int64 { return q.start + int64(i)*q.step }

func (q *query) execMetric(ctx context.Context, expr SampleExpr) (Value, error) {
	if q.instant() {
		q.nSteps = 1
	} else {
		if q.p.Step <= 0 {
			return nil, invalidParams("zero or negative query resolution step widths are not accepted. Try a positive integer")
		}
		q.step = int64(q.p.Step)
		n := (q.end-q.start)/q.step + 1
		if n > int64(q.e.opts.MaxSamples) {
			return nil, limitExceeded("%d steps exceed the sample limit of %d", n, q.e.opts.MaxSamples)
		}
		q.nSteps = int(n)
	}
	ev, err := q.newEvaluator(ctx, expr, nil)
	if err != nil {
		return nil, err
	}
	defer ev.close()

	if q.instant() {
		ok, r, err := ev.next(ctx)
		if err != nil {
			return nil, err
		}
		if !ok {
			return Vector{}, nil
		}
		if r.isScalar {
			q.stats.EntriesReturned = 1
			return Scalar{T: q.end, V: r.scalar}, nil
		}
		if len(r.vec) > q.e.opts.MaxSeries {
			return nil, q.seriesLimitErr()
		}
		out := make(Vector, 0, len(r.vec))
		for _, s := range r.vec {
			out = append(out, Sample{Labels: s.lbs, T: q.end, V: s.v})
		}
		if !r.ordered {
			slices.SortFunc(out, func(a, b Sample) int { return labels.Compare(a.Labels, b.Labels) })
		}
		q.stats.EntriesReturned = int64(len(out))
		return out, nil
	}

	idx := map[string]int{}
	var m Matrix
	var buf []byte
	points := 0
	for {
		ok, r, err := ev.next(ctx)
		if err != nil {
			return nil, err
		}
		if !ok {
			break
		}
		if r.isScalar {
			r.vec = []sample{{lbs: labels.EmptyLabels(), v: r.scalar}}
		}
		for _, s := range r.vec {
			buf = s.lbs.Bytes(buf[:0])
			i, ok := idx[string(buf)]
			if !ok {
				if len(m) >= q.e.opts.MaxSeries {
					return nil, q.seriesLimitErr()
				}
				i = len(m)
				idx[string(buf)] = i
				m = append(m, Series{Labels: s.lbs})
			}
			m[i].Points = append(m[i].Points, Point{T: r.t, V: s.v})
			points++
			if points > q.e.opts.MaxSamples {
				return nil, limitExceeded("the result would hold more than %d points", q.e.opts.MaxSamples)
			}
		}
	}
	slices.SortFunc(m, func(a, b Series) int { return labels.Compare(a.Labels, b.Labels) })
	q.stats.EntriesReturned = int64(points)
	if m == nil {
		m = Matrix{}
	}
	return m, nil
}

func (q *query) seriesLimitErr() error {
	return limitExceeded("maximum of series (%d) reached for a single query", q.e.opts.MaxSeries)
}
