package logql

import (
	"context"
	"errors"
	"fmt"
	"iter"
	"runtime"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/stretchr/testify/require"

	"github.com/lookout-dev/lookout/internal/event"
	"github.com/lookout-dev/lookout/internal/eventstore"
	"github.com/lookout-dev/lookout/internal/eventstore/memstore"
)

// recordingStore wraps a store and records the pushdown requests it gets.
type recordingStore struct {
	eventstore.Store
	mu         sync.Mutex
	selects    []eventstore.SelectParams
	aggregates []eventstore.AggregateParams
	yielded    int
}

func (s *recordingStore) Select(ctx context.Context, p eventstore.SelectParams) iter.Seq2[*event.Record, error] {
	s.mu.Lock()
	s.selects = append(s.selects, p)
	s.mu.Unlock()
	inner := s.Store.Select(ctx, p)
	return func(yield func(*event.Record, error) bool) {
		for r, err := range inner {
			s.mu.Lock()
			s.yielded++
			s.mu.Unlock()
			if !yield(r, err) {
				return
			}
		}
	}
}

func (s *recordingStore) Aggregate(ctx context.Context, p eventstore.AggregateParams) ([]eventstore.Series, error) {
	s.mu.Lock()
	s.aggregates = append(s.aggregates, p)
	s.mu.Unlock()
	return s.Store.Aggregate(ctx, p)
}

func newTestStore(t testing.TB, recs ...event.Record) *recordingStore {
	t.Helper()
	ms := memstore.New()
	t.Cleanup(func() { _ = ms.Close() })
	require.NoError(t, ms.Append(context.Background(), recs))
	return &recordingStore{Store: ms}
}

func rec(ts time.Duration, body, level string, lbls ...string) event.Record {
	return event.Record{Kind: event.KindLog, Time: int64(ts), Labels: labels.FromStrings(lbls...), Body: body, Level: level}
}

func at(d time.Duration) time.Time { return time.Unix(0, int64(d)) }

func mustMatcher(t labels.MatchType, n, v string) *labels.Matcher {
	return labels.MustNewMatcher(t, n, v)
}

// describe prints store requests so that tests can compare them: compiled
// regexp matchers do not compare with reflect.DeepEqual.
func describe(p any) string {
	var sel eventstore.Selector
	extra := ""
	switch p := p.(type) {
	case eventstore.SelectParams:
		sel, extra = p.Selector, fmt.Sprintf("dir=%d limit=%d", p.Direction, p.Limit)
	case eventstore.AggregateParams:
		sel, extra = p.Selector, fmt.Sprintf("op=%d step=%d by=%q without=%v", p.Op, p.Step, p.GroupBy, p.Without)
	}
	return fmt.Sprintf("kind=%d [%d,%d) %v level=%v lines=%v %s", sel.Kind, sel.Start, sel.End, sel.Matchers, sel.Level, sel.LineFilters, extra)
}

func TestPushdownLogQueries(t *testing.T) {
	app := mustMatcher(labels.MatchEqual, "app", "a")
	tests := []struct {
		name     string
		query    string
		limit    int
		want     eventstore.Selector // Kind, Start and End are filled in
		wantLim  int
		yieldMax int // the store yields at most this many records
	}{
		{
			name:  "everything pushed",
			query: `{app="a"} |= "x" != "y" |~ "z." !~ "w" | detected_level="error"`,
			want: eventstore.Selector{Matchers: []*labels.Matcher{app}, LineFilters: []eventstore.LineFilter{
				{Op: eventstore.LineContains, Value: "x"}, {Op: eventstore.LineNotContains, Value: "y"},
				{Op: eventstore.LineRegexp, Value: "z."}, {Op: eventstore.LineNotRegexp, Value: "w"},
			}, Level: []*labels.Matcher{mustMatcher(labels.MatchEqual, event.LevelLabel, "error")}},
			limit: 3, wantLim: 3,
		},
		{
			name:  "or between values",
			query: `{app="a"} |= "a.b" or "c" != "d" or "e" |~ "f" or "g"`,
			want: eventstore.Selector{Matchers: []*labels.Matcher{app}, LineFilters: []eventstore.LineFilter{
				{Op: eventstore.LineRegexp, Value: `(?:a\.b)|(?:c)`},
				{Op: eventstore.LineNotContains, Value: "d"}, {Op: eventstore.LineNotContains, Value: "e"},
				{Op: eventstore.LineRegexp, Value: `(?:f)|(?:g)`},
			}},
			limit: 5, wantLim: 5,
		},
		{
			name:  "level conjuncts pushed, the rest kept",
			query: `{app="a"} | detected_level=~"error|warn", x="1" and detected_level!="debug"`,
			want: eventstore.Selector{Matchers: []*labels.Matcher{app}, Level: []*labels.Matcher{
				mustMatcher(labels.MatchRegexp, event.LevelLabel, "error|warn"),
				mustMatcher(labels.MatchNotEqual, event.LevelLabel, "debug"),
			}},
			limit: 2, yieldMax: 10,
		},
		{
			name:  "line filters before and after a parser, not after line_format",
			query: `{app="a"} |= "x" | json | y="1" |= "z" | line_format "{{.y}}" |= "w"`,
			want: eventstore.Selector{Matchers: []*labels.Matcher{app}, LineFilters: []eventstore.LineFilter{
				{Op: eventstore.LineContains, Value: "x"}, {Op: eventstore.LineContains, Value: "z"},
			}},
			limit: 2, yieldMax: 10,
		},
		{
			name:     "level filter after a parser stays in Go",
			query:    `{app="a"} | logfmt | detected_level="error"`,
			want:     eventstore.Selector{Matchers: []*labels.Matcher{app}},
			limit:    1,
			yieldMax: 10,
		},
		{
			name:     "or of level filters stays in Go",
			query:    `{app="a"} | detected_level="error" or detected_level="info"`,
			want:     eventstore.Selector{Matchers: []*labels.Matcher{app}},
			limit:    1,
			yieldMax: 10,
		},
		{
			name:     "pattern filters stay in Go",
			query:    `{app="a"} |> "<_> x"`,
			want:     eventstore.Selector{Matchers: []*labels.Matcher{app}},
			limit:    1,
			yieldMax: 10,
		},
	}
	var recs []event.Record
	for i := range 10 {
		recs = append(recs, rec(time.Duration(i)*time.Second, fmt.Sprintf(`{"y":"1"} x z w level=error %d`, i), event.LevelError, "app", "a"))
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newTestStore(t, recs...)
			e := NewEngine(s, Options{})
			_, err := e.Query(context.Background(), QueryParams{Query: tt.query, Start: at(0), End: at(time.Minute), Limit: tt.limit, Direction: eventstore.Forward})
			require.NoError(t, err)
			require.Len(t, s.selects, 1)
			require.Empty(t, s.aggregates)
			want := tt.want
			want.Kind, want.Start, want.End = event.KindLog, 0, int64(time.Minute)
			require.Equal(t, describe(eventstore.SelectParams{Selector: want, Direction: eventstore.Forward, Limit: tt.wantLim}), describe(s.selects[0]))
			if tt.yieldMax > 0 {
				require.LessOrEqual(t, s.yielded, tt.yieldMax)
			}
		})
	}
}

// TestLogQueryStopsAtLimit checks that a query run through the Go pipeline
// stops reading from the store once it has its lines.
func TestLogQueryStopsAtLimit(t *testing.T) {
	var recs []event.Record
	for i := range 1000 {
		recs = append(recs, rec(time.Duration(i)*time.Millisecond, fmt.Sprintf("n=%d", i), "", "app", "a"))
	}
	s := newTestStore(t, recs...)
	e := NewEngine(s, Options{})
	res, err := e.Query(context.Background(), QueryParams{Query: `{app="a"} | logfmt | n > 10`, Start: at(0), End: at(time.Second), Limit: 5, Direction: eventstore.Forward})
	require.NoError(t, err)
	require.Equal(t, 0, s.selects[0].Limit)
	require.Equal(t, 16, s.yielded) // 0..10 dropped, 11..15 kept
	streams := res.Value.(Streams)
	require.Len(t, streams, 1) // parsed labels stay on the entries
	require.Len(t, streams[0].Entries, 5)
}

func TestPushdownAggregate(t *testing.T) {
	var recs []event.Record
	for i := range 120 {
		ts := time.Duration(i) * 10 * time.Second
		recs = append(recs,
			rec(ts, "x line", event.LevelInfo, "app", "a", "pod", "1"),
			rec(ts+time.Second, "yy", event.LevelError, "app", "b", "pod", "2"),
		)
	}
	recs[0].Attrs = []event.Attr{{Key: "user", Value: "u"}}
	appRe := mustMatcher(labels.MatchRegexp, "app", "a|b")
	tests := []struct {
		name       string
		query      string
		start, end time.Duration
		step       time.Duration
		want       *eventstore.AggregateParams // nil: no Aggregate, one Select
	}{
		{
			name: "sum by stream label", query: `sum by (app) (count_over_time({app=~"a|b"} |= "y" [1m]))`,
			start: 5 * time.Minute, end: 10 * time.Minute, step: time.Minute,
			want: &eventstore.AggregateParams{Op: eventstore.AggCount, Step: int64(time.Minute), GroupBy: []string{"app"},
				Selector: eventstore.Selector{Start: int64(4*time.Minute) + 1, End: int64(10*time.Minute) + 1,
					LineFilters: []eventstore.LineFilter{{Op: eventstore.LineContains, Value: "y"}}}},
		},
		{
			name: "gcd of range and step", query: `sum(rate({app=~"a|b"}[5m]))`,
			start: 10 * time.Minute, end: 20 * time.Minute, step: 2 * time.Minute,
			want: &eventstore.AggregateParams{Op: eventstore.AggCount, Step: int64(time.Minute),
				Selector: eventstore.Selector{Start: int64(5*time.Minute) + 1, End: int64(20*time.Minute) + 1}},
		},
		{
			name: "step larger than range, with offset", query: `sum by (detected_level) (bytes_over_time({app=~"a|b"}[1m] offset 1m))`,
			start: 10 * time.Minute, end: 20 * time.Minute, step: 5 * time.Minute,
			want: &eventstore.AggregateParams{Op: eventstore.AggBytes, Step: int64(time.Minute), GroupBy: []string{event.LevelLabel},
				Selector: eventstore.Selector{Start: int64(8*time.Minute) + 1, End: int64(19*time.Minute) + 1}},
		},
		{
			name: "instant", query: `sum by (app, pod) (bytes_rate({app=~"a|b"} | detected_level="info" [5m]))`,
			start: 10 * time.Minute, end: 10 * time.Minute,
			want: &eventstore.AggregateParams{Op: eventstore.AggBytes, Step: int64(5 * time.Minute), GroupBy: []string{"app", "pod"},
				Selector: eventstore.Selector{Start: int64(5*time.Minute) + 1, End: int64(10*time.Minute) + 1,
					Level: []*labels.Matcher{mustMatcher(labels.MatchEqual, event.LevelLabel, "info")}}},
		},
		{
			// Series are split by attributes, which Aggregate cannot group by.
			name: "bare range aggregation", query: `count_over_time({app=~"a|b"}[1m])`,
			start: 5 * time.Minute, end: 10 * time.Minute, step: time.Minute,
		},
		{
			name: "sum by a non-stream label", query: `sum by (user) (count_over_time({app=~"a|b"}[1m]))`,
			start: 5 * time.Minute, end: 10 * time.Minute, step: time.Minute,
		},
		{
			name: "sum without", query: `sum without (pod) (count_over_time({app=~"a|b"}[1m]))`,
			start: 5 * time.Minute, end: 10 * time.Minute, step: time.Minute,
		},
		{
			name: "parser", query: `sum(count_over_time({app=~"a|b"} | logfmt [1m]))`,
			start: 5 * time.Minute, end: 10 * time.Minute, step: time.Minute,
		},
		{
			name: "unwrap", query: `sum(rate({app=~"a|b"} | unwrap pod [1m]))`,
			start: 5 * time.Minute, end: 10 * time.Minute, step: time.Minute,
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			s := newTestStore(t, recs...)
			e := NewEngine(s, Options{})
			p := QueryParams{Query: tt.query, Start: at(tt.start), End: at(tt.end), Step: tt.step}
			got, err := e.Query(context.Background(), p)
			require.NoError(t, err)
			if tt.want == nil {
				require.Empty(t, s.aggregates)
				require.Len(t, s.selects, 1)
				require.Equal(t, eventstore.Forward, s.selects[0].Direction)
				return
			}
			require.Empty(t, s.selects)
			require.Len(t, s.aggregates, 1)
			want := *tt.want
			want.Kind, want.Matchers = event.KindLog, []*labels.Matcher{appRe}
			require.Equal(t, describe(want), describe(s.aggregates[0]))
			require.Equal(t, 1, got.Stats.Aggregates)

			// The Go evaluator agrees.
			e.noPushdown = true
			slow, err := e.Query(context.Background(), p)
			require.NoError(t, err)
			require.Equal(t, slow.Value, got.Value)
		})
	}
}

func TestLimits(t *testing.T) {
	var recs []event.Record
	for i := range 2000 {
		recs = append(recs, rec(time.Duration(i)*time.Second, fmt.Sprintf("id=%d", i), "", "app", "a"))
	}
	s := newTestStore(t, recs...)
	ctx := context.Background()

	// One bucket per series for an instant query: memory does not grow
	// with the number of records.
	e := NewEngine(s, Options{MaxSamples: 10})
	res, err := e.Query(ctx, QueryParams{Query: `count_over_time({app="a"}[1h])`, Start: at(time.Hour), End: at(time.Hour)})
	require.NoError(t, err)
	require.Equal(t, 1999.0, res.Value.(Vector)[0].V) // (0, 1h] leaves out the record at 0
	require.Equal(t, int64(1999), res.Stats.RecordsScanned)

	// A range query holds range/step buckets per series.
	_, err = e.Query(ctx, QueryParams{Query: `count_over_time({app="a"}[1h])`, Start: at(time.Hour), End: at(2 * time.Hour), Step: time.Minute})
	require.ErrorIs(t, err, ErrLimitExceeded)

	// quantile keeps raw values.
	_, err = e.Query(ctx, QueryParams{Query: `quantile_over_time(0.5, {app="a"} | logfmt | unwrap id [1h])`, Start: at(time.Hour), End: at(time.Hour)})
	require.ErrorIs(t, err, ErrLimitExceeded)

	e = NewEngine(s, Options{MaxSeries: 5})
	_, err = e.Query(ctx, QueryParams{Query: `count_over_time({app="a"} | logfmt [1h])`, Start: at(time.Hour), End: at(time.Hour)})
	require.ErrorIs(t, err, ErrLimitExceeded)
	require.EqualError(t, err, "maximum of series (5) reached for a single query")

	e = NewEngine(s, Options{MaxLines: 100})
	_, err = e.Query(ctx, QueryParams{Query: `{app="a"}`, Start: at(0), End: at(time.Hour), Limit: 101})
	require.ErrorIs(t, err, ErrLimitExceeded)
	res, err = e.Query(ctx, QueryParams{Query: `{app="a"}`, Start: at(0), End: at(time.Hour)})
	require.NoError(t, err)
	require.Equal(t, int64(100), res.Stats.EntriesReturned)
	require.Len(t, res.Value.(Streams)[0].Entries, 100)

	_, err = e.Query(ctx, QueryParams{Query: `rate({app="a"}[1m])`, Start: at(time.Hour), End: at(0), Step: time.Minute})
	require.ErrorIs(t, err, ErrInvalidParams)
	_, err = e.Query(ctx, QueryParams{Query: `rate({app="a"}[1m])`, Start: at(0), End: at(time.Hour)})
	require.ErrorIs(t, err, ErrInvalidParams)
	_, err = e.Query(ctx, QueryParams{Query: `{app="a"}`, Start: at(time.Hour), End: at(time.Hour)})
	require.ErrorIs(t, err, ErrInvalidParams)
	require.EqualError(t, err, "log queries are not supported as an instant query type, please change your query to a range query type")
}

func TestQueryErrors(t *testing.T) {
	s := newTestStore(t, rec(time.Second, "{", "", "app", "a"))
	e := NewEngine(s, Options{})
	ctx := context.Background()

	_, err := e.Query(ctx, QueryParams{Query: `rate({app="a"}`, Start: at(0), End: at(time.Minute), Step: time.Second})
	var pe *ParseError
	require.ErrorAs(t, err, &pe)

	_, err = e.Query(ctx, QueryParams{Query: `count_over_time({app="a"} | json [1m])`, Start: at(time.Minute), End: at(time.Minute)})
	var pipe *PipelineError
	require.ErrorAs(t, err, &pipe)
	require.Equal(t, "JSONParserErr", pipe.Err)
	require.Equal(t, "a", pipe.Labels.Get("app"))

	cctx, cancel := context.WithCancel(ctx)
	cancel()
	_, err = e.Query(cctx, QueryParams{Query: `{app="a"}`, Start: at(0), End: at(time.Minute)})
	require.True(t, errors.Is(err, context.Canceled), "got %v", err)
}

func TestStreamsMerged(t *testing.T) {
	s := newTestStore(t,
		rec(1*time.Second, `{"k":"1"}`, event.LevelInfo, "app", "a"),
		rec(2*time.Second, `{"k":"2"}`, event.LevelInfo, "app", "a"),
		rec(3*time.Second, `{"k":"1"}`, event.LevelInfo, "app", "a"),
	)
	e := NewEngine(s, Options{})
	res, err := e.Query(context.Background(), QueryParams{Query: `{app="a"} | json`, Start: at(0), End: at(time.Minute)})
	require.NoError(t, err)
	streams := res.Value.(Streams)
	require.Len(t, streams, 1)
	require.Equal(t, []int64{int64(3 * time.Second), int64(2 * time.Second), int64(time.Second)},
		[]int64{streams[0].Entries[0].T, streams[0].Entries[1].T, streams[0].Entries[2].T})

	merged := streams.Merged(eventstore.Backward)
	require.Len(t, merged, 2)
	require.Equal(t, labels.FromStrings("app", "a", "detected_level", "info", "k", "1"), merged[0].Labels)
	require.Equal(t, []Entry{{T: int64(3 * time.Second), Line: `{"k":"1"}`}, {T: int64(time.Second), Line: `{"k":"1"}`}}, merged[0].Entries)
	require.Equal(t, labels.FromStrings("app", "a", "detected_level", "info", "k", "2"), merged[1].Labels)
}

// TestNoLeakedIterators checks that evaluators stop the store iterators they
// pull from, also when a query fails half way.
func TestNoLeakedIterators(t *testing.T) {
	var recs []event.Record
	for i := range 100 {
		body := `{"a":1}`
		if i == 50 {
			body = "{"
		}
		recs = append(recs, rec(time.Duration(i)*time.Second, body, "", "app", "a"))
	}
	s := newTestStore(t, recs...)
	e := NewEngine(s, Options{})
	before := runtime.NumGoroutine()
	for range 20 {
		_, err := e.Query(context.Background(), QueryParams{
			Query: `sum(count_over_time({app="a"} | json [10s])) + count_over_time({app="a"}[10s])`,
			Start: at(0), End: at(100 * time.Second), Step: 10 * time.Second,
		})
		var pe *PipelineError
		require.ErrorAs(t, err, &pe)
	}
	require.LessOrEqual(t, runtime.NumGoroutine(), before)
}
