// Package eventstore defines the contract of the event store that holds logs
// (and later spans, error events and RUM events): append a batch, execute the
// two query primitives a query engine pushes work down into (Select and
// Aggregate), answer label metadata, and apply retention.
//
// The contract is deliberately narrow so that a second implementation (for
// example ClickHouse, for deployments beyond one machine) can be added and
// proven equivalent by running eventstore/storetest against it.
package eventstore

import (
	"context"
	"errors"
	"iter"
	"math"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/lookout-dev/lookout/internal/event"
)

// ErrClosed is returned by every method called after Close.
var ErrClosed = errors.New("event store closed")

// ErrFull is returned by Append when the store cannot take more data now
// (for example its size cap is reached and retention cannot free space).
// Callers should answer 429/503 with Retry-After.
var ErrFull = errors.New("event store full")

// LineOp is the operator of a line filter.
type LineOp uint8

// Line filter operators, as in LogQL.
const (
	LineContains    LineOp = iota + 1 // |= "x": body contains x (case-sensitive)
	LineNotContains                   // != "x"
	LineRegexp                        // |~ "re": RE2 regexp matches somewhere in the body
	LineNotRegexp                     // !~ "re"
)

// LineFilter is one filter on the record body.
type LineFilter struct {
	Op    LineOp
	Value string
}

// Selector chooses records: one kind, a half-open time range [Start, End) in
// Unix nanoseconds, stream label matchers, matchers on the record's level
// (event.LevelLabel) and filters on the body. All conditions must hold.
type Selector struct {
	Kind        event.Kind
	Start, End  int64
	Matchers    []*labels.Matcher // on stream labels; at least one should be given
	Level       []*labels.Matcher // on Record.Level; Name is ignored
	LineFilters []LineFilter
}

// Direction orders Select results by time.
type Direction uint8

// Directions. Backward (newest first) is Loki's default.
const (
	Backward Direction = iota
	Forward
)

// SelectParams is a Select request.
type SelectParams struct {
	Selector
	Direction Direction
	// Limit stops the result after this many records; 0 means no limit.
	Limit int
}

// AggOp is what Aggregate computes per bucket.
type AggOp uint8

// Aggregations the store computes itself.
const (
	AggCount AggOp = iota + 1 // number of records
	AggBytes                  // sum of len(Body)
)

// AggregateParams is an Aggregate request. Buckets are [Start+k*Step,
// Start+(k+1)*Step) for k = 0 … ceil((End-Start)/Step)-1, the last one cut at
// End. GroupBy names stream labels (and optionally event.LevelLabel); records
// are grouped by those labels' values. With Without set, records are grouped
// by all stream labels except those named (Without with an empty GroupBy
// keeps every stream apart; the level is never part of a Without group).
// Labels with empty values are left out of a group's labels.
type AggregateParams struct {
	Selector
	Op      AggOp
	Step    int64
	GroupBy []string
	Without bool
}

// Point is one bucket's value. T is the bucket's start time.
type Point struct {
	T int64
	V float64
}

// Series is a group's buckets, in time order; empty buckets are omitted.
type Series struct {
	Labels labels.Labels
	Points []Point
}

// Stats answers Loki's index/stats for a selector.
type Stats struct {
	Streams uint64
	Entries uint64
	Bytes   uint64
}

// RetentionRule keeps records of streams matching Matchers for Period.
// The first matching rule wins.
type RetentionRule struct {
	Matchers []*labels.Matcher
	Period   time.Duration
}

// Retention is a retention policy. Records older than their period
// (Time < now-period) are deleted; then, while the store uses more than
// MaxBytes on disk, the oldest records go first. Zero values disable that
// part; a rule with a zero Period keeps its streams forever.
type Retention struct {
	Default  time.Duration
	Rules    []RetentionRule
	MaxBytes int64
}

// PeriodFor returns how long records of a stream with labels ls are kept:
// the Period of the first rule whose matchers all match, else Default.
// Zero means forever. Every store applies rules this way.
func (r Retention) PeriodFor(ls labels.Labels) time.Duration {
	for _, rule := range r.Rules {
		if matchesAll(rule.Matchers, ls) {
			return rule.Period
		}
	}
	return r.Default
}

func matchesAll(ms []*labels.Matcher, ls labels.Labels) bool {
	for _, m := range ms {
		if !m.Matches(ls.Get(m.Name)) {
			return false
		}
	}
	return true
}

// Cutoff returns the first timestamp a record kept for period must have at
// now: now-period, or math.MinInt64 if that is not representable.
func Cutoff(now int64, period time.Duration) int64 {
	if now < math.MinInt64+int64(period) {
		return math.MinInt64
	}
	return now - int64(period)
}

// RetentionResult reports what one retention pass did.
type RetentionResult struct {
	Deleted   uint64
	SizeAfter int64
}

// Store is an event store. All methods are safe for concurrent use.
type Store interface {
	// Append stores the batch. It returns nil only after every record of the
	// batch is durably persisted: a crash after Append returns loses none of
	// them. The store does not keep references into the batch. Invalid
	// UTF-8 in the records' strings is stored repaired (each invalid run
	// becomes U+FFFD).
	Append(ctx context.Context, batch []event.Record) error

	// Select yields matching records in the requested order; records with
	// equal times may come in any order. A yielded
	// record and the slices it holds are valid only until the next
	// iteration step; copy what you keep. An error is yielded once, last.
	Select(ctx context.Context, p SelectParams) iter.Seq2[*event.Record, error]

	// Aggregate counts matching records (or their bytes) per bucket and
	// group without returning the records.
	Aggregate(ctx context.Context, p AggregateParams) ([]Series, error)

	// Series returns the distinct stream label sets with records in
	// [start, end) that match all matchers.
	Series(ctx context.Context, kind event.Kind, start, end int64, matchers []*labels.Matcher) ([]labels.Labels, error)

	// LabelNames returns the sorted stream label names of the streams that
	// Series would return.
	LabelNames(ctx context.Context, kind event.Kind, start, end int64, matchers []*labels.Matcher) ([]string, error)

	// LabelValues returns the sorted values of one stream label.
	LabelValues(ctx context.Context, kind event.Kind, name string, start, end int64, matchers []*labels.Matcher) ([]string, error)

	// Stats summarises what a selector (line filters ignored) touches.
	Stats(ctx context.Context, sel Selector) (Stats, error)

	// ApplyRetention deletes what the policy no longer keeps, relative to now.
	ApplyRetention(ctx context.Context, now time.Time, r Retention) (RetentionResult, error)

	// Size is the store's current size on disk in bytes.
	Size() int64

	// Close flushes and releases the store. It is idempotent.
	Close() error
}
