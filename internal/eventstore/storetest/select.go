package storetest

import (
	"cmp"
	"context"
	"fmt"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/stretchr/testify/require"

	"github.com/lookout-dev/lookout/internal/event"
	"github.com/lookout-dev/lookout/internal/eventstore"
)

type selectCase struct {
	Name string `json:"name"`
	jsonSelector
	Direction string `json:"direction"`
	Limit     int    `json:"limit"`
	Want      []int  `json:"want"`
}

func testSelect(t *testing.T, open OpenFunc) {
	s, fx := openLoaded(t, open)
	var cases []selectCase
	readJSON(t, "select.json", &cases)
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			p := eventstore.SelectParams{Selector: tc.selector(t), Limit: tc.Limit}
			switch tc.Direction {
			case "forward":
				p.Direction = eventstore.Forward
			case "backward":
				p.Direction = eventstore.Backward
			default:
				t.Fatalf("case needs a direction, forward or backward, got %q", tc.Direction)
			}
			got := fx.idsOf(t, collect(t, s, p))
			require.Equal(t, tc.Want, nonNil(got))
		})
	}
}

func nonNil[T any](s []T) []T {
	if s == nil {
		return []T{}
	}
	return s
}

// testRoundTrip checks that every field of every record comes back as
// appended.
func testRoundTrip(t *testing.T, open OpenFunc) {
	s, fx := openLoaded(t, open)
	for _, kind := range []event.Kind{event.KindLog, event.KindSpan} {
		got := collect(t, s, all(kind))
		var want []event.Record
		for _, r := range fx.records {
			if r.Kind == kind {
				want = append(want, r)
			}
		}
		slices.SortFunc(want, func(a, b event.Record) int { return cmp.Compare(a.Time, b.Time) })
		requireRecordsEqual(t, want, got)
	}
}

func requireRecordsEqual(t testing.TB, want, got []event.Record) {
	t.Helper()
	require.Len(t, got, len(want))
	for i := range want {
		w, g := want[i], got[i]
		require.Truef(t, labels.Equal(w.Labels, g.Labels), "record %d labels: want %s, got %s", i, w.Labels, g.Labels)
		w.Labels, g.Labels = labels.EmptyLabels(), labels.EmptyLabels()
		if len(w.Attrs) == 0 {
			w.Attrs = nil
		}
		require.Equal(t, w, g, "record %d", i)
	}
}

// testEqualTimes checks that records sharing a timestamp, in one stream and
// across streams, all come back, in time order, and that a limit cuts them.
func testEqualTimes(t *testing.T, open OpenFunc) {
	s, _ := openEmpty(t, open)
	const ts = int64(1_714_557_600_000_000_000)
	a := labels.FromStrings("app", "a")
	b := labels.FromStrings("app", "b")
	var batch []event.Record
	for i, ls := range []labels.Labels{a, b, a, b, a} {
		batch = append(batch, event.Record{Kind: event.KindLog, Time: ts, Labels: ls, Body: string(rune('v' + i)), Level: event.LevelInfo})
	}
	batch = append(batch,
		event.Record{Kind: event.KindLog, Time: ts - 1, Labels: a, Body: "before", Level: event.LevelInfo},
		event.Record{Kind: event.KindLog, Time: ts + 1, Labels: b, Body: "after", Level: event.LevelInfo},
	)
	require.NoError(t, s.Append(t.Context(), batch))

	sel := eventstore.Selector{Kind: event.KindLog, Start: ts - 10, End: ts + 10, Matchers: []*labels.Matcher{matcher(t, "app", "=~", "a|b")}}
	bodies := func(recs []event.Record) []string {
		var out []string
		for _, r := range recs {
			out = append(out, r.Body)
		}
		return out
	}
	fwd := collect(t, s, eventstore.SelectParams{Selector: sel, Direction: eventstore.Forward})
	require.Len(t, fwd, 7)
	require.Equal(t, "before", fwd[0].Body)
	require.Equal(t, "after", fwd[6].Body)
	require.ElementsMatch(t, []string{"v", "w", "x", "y", "z"}, bodies(fwd[1:6]))

	bwd := collect(t, s, eventstore.SelectParams{Selector: sel, Direction: eventstore.Backward})
	require.Len(t, bwd, 7)
	require.Equal(t, "after", bwd[0].Body)
	require.Equal(t, "before", bwd[6].Body)
	require.ElementsMatch(t, []string{"v", "w", "x", "y", "z"}, bodies(bwd[1:6]))

	lim := collect(t, s, eventstore.SelectParams{Selector: sel, Direction: eventstore.Forward, Limit: 3})
	require.Len(t, lim, 3)
	require.Equal(t, "before", lim[0].Body)
	require.Subset(t, []string{"v", "w", "x", "y", "z"}, bodies(lim[1:]))
}

// testSelectMany checks long results, where stores may page, with runs of
// equal timestamps, across days, with and without limits.
func testSelectMany(t *testing.T, open OpenFunc) {
	s, _ := openEmpty(t, open)
	const n = 6000
	streams := []labels.Labels{labels.FromStrings("app", "many", "i", "0"), labels.FromStrings("app", "many", "i", "1"), labels.FromStrings("app", "many", "i", "2")}
	var batch []event.Record
	for i := range n {
		// Runs of 7 equal timestamps, 40 minutes apart: about 24 days.
		ts := fixtureStart + int64(i/7)*int64(40*time.Minute)
		batch = append(batch, event.Record{
			Kind: event.KindLog, Time: ts, Labels: streams[i%len(streams)],
			Body: fmt.Sprintf("record %05d", i), Level: event.LevelInfo,
		})
	}
	for b := range slices.Chunk(batch, 1000) {
		require.NoError(t, s.Append(t.Context(), b))
	}
	sel := eventstore.Selector{Kind: event.KindLog, Start: fixtureStart, End: fixtureStart + int64(30*24*time.Hour), Matchers: []*labels.Matcher{matcher(t, "app", "=", "many")}}
	check := func(t *testing.T, dir eventstore.Direction, limit int) {
		recs := collect(t, s, eventstore.SelectParams{Selector: sel, Direction: dir, Limit: limit})
		want := n
		if limit > 0 {
			want = min(n, limit)
		}
		require.Len(t, recs, want)
		seen := map[string]bool{}
		for i, r := range recs {
			require.False(t, seen[r.Body], "%s returned twice", r.Body)
			seen[r.Body] = true
			var idx int
			_, err := fmt.Sscanf(r.Body, "record %d", &idx)
			require.NoError(t, err)
			require.Equal(t, batch[idx].Time, r.Time)
			require.True(t, labels.Equal(batch[idx].Labels, r.Labels))
			if i > 0 {
				if dir == eventstore.Forward {
					require.LessOrEqual(t, recs[i-1].Time, r.Time)
				} else {
					require.GreaterOrEqual(t, recs[i-1].Time, r.Time)
				}
			}
		}
		// The first records are those of the earliest (or latest) times.
		if dir == eventstore.Forward {
			require.Equal(t, batch[0].Time, recs[0].Time)
		} else {
			require.Equal(t, batch[n-1].Time, recs[0].Time)
		}
	}
	for _, limit := range []int{0, 1, 7, 256, 1000, 5999, 6000, 10000} {
		t.Run(fmt.Sprintf("forward limit %d", limit), func(t *testing.T) { check(t, eventstore.Forward, limit) })
		t.Run(fmt.Sprintf("backward limit %d", limit), func(t *testing.T) { check(t, eventstore.Backward, limit) })
	}
}

// testExtremeTimes checks records at the ends of the time line and around
// zero.
func testExtremeTimes(t *testing.T, open OpenFunc) {
	s, _ := openEmpty(t, open)
	times := []int64{math.MinInt64, -1, 0, 1, math.MaxInt64 - 1}
	var batch []event.Record
	for i, ts := range times {
		batch = append(batch, event.Record{Kind: event.KindLog, Time: ts, Labels: labels.FromStrings("app", "edge"), Body: fmt.Sprint("edge ", i), Level: event.LevelInfo})
	}
	require.NoError(t, s.Append(t.Context(), batch))
	for _, dir := range []eventstore.Direction{eventstore.Forward, eventstore.Backward} {
		got := collect(t, s, eventstore.SelectParams{Selector: eventstore.Selector{Kind: event.KindLog, Start: math.MinInt64, End: math.MaxInt64}, Direction: dir, Limit: 10})
		var gotTimes []int64
		for _, r := range got {
			gotTimes = append(gotTimes, r.Time)
		}
		want := slices.Clone(times)
		if dir == eventstore.Backward {
			slices.Reverse(want)
		}
		require.Equal(t, want, gotTimes)
	}
	got := collect(t, s, eventstore.SelectParams{Selector: eventstore.Selector{Kind: event.KindLog, Start: -1, End: 1}, Direction: eventstore.Forward})
	require.Len(t, got, 2)

	series, err := s.Aggregate(t.Context(), eventstore.AggregateParams{
		Selector: eventstore.Selector{Kind: event.KindLog, Start: math.MinInt64, End: math.MaxInt64},
		Op:       eventstore.AggCount, Step: math.MaxInt64,
	})
	require.NoError(t, err)
	// Buckets of MaxInt64 from MinInt64 start at MinInt64, -1 and
	// MaxInt64-1; the last is cut at End.
	requireSeriesEqual(t, []eventstore.Series{{Labels: labels.EmptyLabels(), Points: []eventstore.Point{{T: math.MinInt64, V: 1}, {T: -1, V: 3}, {T: math.MaxInt64 - 1, V: 1}}}}, series)

	res, err := s.ApplyRetention(t.Context(), time.Unix(0, 0), eventstore.Retention{Default: time.Nanosecond})
	require.NoError(t, err)
	require.Equal(t, uint64(1), res.Deleted) // only MinInt64 is before the cutoff, -1
	require.Len(t, allRecords(t, s), 4)
}

// testStopEarly checks that a consumer may stop iterating at any point and
// that the store stays usable.
func testStopEarly(t *testing.T, open OpenFunc) {
	s, fx := openLoaded(t, open)
	for range 20 {
		for r, err := range s.Select(t.Context(), all(event.KindLog)) {
			require.NoError(t, err)
			require.NotNil(t, r)
			break
		}
	}
	require.Len(t, collect(t, s, all(event.KindLog)), len(fx.records)-2)
	require.NoError(t, s.Append(t.Context(), fx.records[:1]))
}

// testSelectErrors checks that bad requests yield one error and no records.
func testSelectErrors(t *testing.T, open OpenFunc) {
	s, _ := openLoaded(t, open)
	sel := eventstore.Selector{Kind: event.KindLog, Start: fixtureStart, End: fixtureEnd, Matchers: []*labels.Matcher{matcher(t, "app", "=~", ".+")}}

	bad := sel
	bad.LineFilters = []eventstore.LineFilter{{Op: eventstore.LineRegexp, Value: "(unclosed"}}
	recs, err := trySelect(t, s, eventstore.SelectParams{Selector: bad, Direction: eventstore.Forward})
	require.Error(t, err)
	require.Empty(t, recs)

	bad.LineFilters = []eventstore.LineFilter{{Op: 0, Value: "x"}}
	recs, err = trySelect(t, s, eventstore.SelectParams{Selector: bad, Direction: eventstore.Forward})
	require.Error(t, err)
	require.Empty(t, recs)

	cctx, cancel := context.WithCancel(t.Context())
	cancel()
	var yieldedErr error
	for r, err := range s.Select(cctx, eventstore.SelectParams{Selector: sel, Direction: eventstore.Forward}) {
		if err != nil {
			yieldedErr = err
			break
		}
		require.NotNil(t, r)
	}
	require.ErrorIs(t, yieldedErr, context.Canceled)
}
