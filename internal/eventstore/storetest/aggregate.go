package storetest

import (
	"encoding/json"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/stretchr/testify/require"

	"github.com/lookout-dev/lookout/internal/event"
	"github.com/lookout-dev/lookout/internal/eventstore"
)

type aggregateCase struct {
	Name string `json:"name"`
	jsonSelector
	Step    jsonDuration `json:"step"`
	Op      string       `json:"op"`
	GroupBy []string     `json:"group_by"`
	Without bool         `json:"without"`
	Want    []jsonSeries `json:"want"`
}

type jsonSeries struct {
	Labels map[string]string `json:"labels"`
	Points []jsonPoint       `json:"points"`
}

// jsonPoint is [time, value] in JSON.
type jsonPoint eventstore.Point

func (p *jsonPoint) UnmarshalJSON(b []byte) error {
	var raw [2]json.RawMessage
	if err := json.Unmarshal(b, &raw); err != nil {
		return err
	}
	var ts jsonTime
	if err := json.Unmarshal(raw[0], &ts); err != nil {
		return err
	}
	p.T = int64(ts)
	return json.Unmarshal(raw[1], &p.V)
}

func testAggregate(t *testing.T, open OpenFunc) {
	s, _ := openLoaded(t, open)
	var cases []aggregateCase
	readJSON(t, "aggregate.json", &cases)
	ops := map[string]eventstore.AggOp{"count": eventstore.AggCount, "bytes": eventstore.AggBytes}
	for _, tc := range cases {
		t.Run(tc.Name, func(t *testing.T) {
			op, ok := ops[tc.Op]
			require.True(t, ok, "unknown op %q", tc.Op)
			p := eventstore.AggregateParams{
				Selector: tc.selector(t),
				Op:       op,
				Step:     int64(time.Duration(tc.Step)),
				GroupBy:  tc.GroupBy,
				Without:  tc.Without,
			}
			want := []eventstore.Series{}
			for _, js := range tc.Want {
				sr := eventstore.Series{Labels: labels.FromMap(js.Labels)}
				for _, pt := range js.Points {
					sr.Points = append(sr.Points, eventstore.Point(pt))
				}
				want = append(want, sr)
			}
			got, err := s.Aggregate(t.Context(), p)
			require.NoError(t, err)
			requireSeriesEqual(t, want, got)
		})
	}
}

func requireSeriesEqual(t testing.TB, want, got []eventstore.Series) {
	t.Helper()
	byLabels := func(a, b eventstore.Series) int { return labels.Compare(a.Labels, b.Labels) }
	got = slices.Clone(got)
	slices.SortFunc(want, byLabels)
	slices.SortFunc(got, byLabels)
	str := func(ss []eventstore.Series) []string {
		out := []string{}
		for _, s := range ss {
			out = append(out, s.Labels.String())
		}
		return out
	}
	require.Equal(t, str(want), str(got), "series labels")
	for i := range want {
		require.Equal(t, want[i].Points, got[i].Points, "points of %s", want[i].Labels)
	}
}

// testAggregateWholeTimeline checks buckets where Time-Start does not fit an
// int64.
func testAggregateWholeTimeline(t *testing.T, open OpenFunc) {
	s, _ := openLoaded(t, open)
	sel := eventstore.Selector{Kind: event.KindLog, Start: math.MinInt64, End: math.MaxInt64, Matchers: []*labels.Matcher{matcher(t, "app", "=~", ".+")}}
	got, err := s.Aggregate(t.Context(), eventstore.AggregateParams{Selector: sel, Op: eventstore.AggCount, Step: 1 << 62})
	require.NoError(t, err)
	// The fixture lies in [0, 1<<62), the third bucket from MinInt64.
	requireSeriesEqual(t, []eventstore.Series{{Labels: labels.EmptyLabels(), Points: []eventstore.Point{{T: 0, V: 17}}}}, got)

	got, err = s.Aggregate(t.Context(), eventstore.AggregateParams{Selector: sel, Op: eventstore.AggCount, Step: 1})
	require.NoError(t, err)
	require.Len(t, got, 1)
	require.Len(t, got[0].Points, 17)
	require.Equal(t, fixtureStart+int64(10*time.Hour), got[0].Points[0].T)
}

func testAggregateErrors(t *testing.T, open OpenFunc) {
	s, _ := openLoaded(t, open)
	sel := eventstore.Selector{Kind: event.KindLog, Start: fixtureStart, End: fixtureEnd, Matchers: []*labels.Matcher{matcher(t, "app", "=~", ".+")}}
	tests := []struct {
		name string
		p    eventstore.AggregateParams
	}{
		{"zero step", eventstore.AggregateParams{Selector: sel, Op: eventstore.AggCount}},
		{"negative step", eventstore.AggregateParams{Selector: sel, Op: eventstore.AggCount, Step: -1}},
		{"unknown op", eventstore.AggregateParams{Selector: sel, Op: 0, Step: int64(time.Hour)}},
		{"bad regexp", eventstore.AggregateParams{
			Selector: eventstore.Selector{Kind: event.KindLog, Start: fixtureStart, End: fixtureEnd, LineFilters: []eventstore.LineFilter{{Op: eventstore.LineRegexp, Value: "a("}}},
			Op:       eventstore.AggCount, Step: int64(time.Hour),
		}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			_, err := s.Aggregate(t.Context(), tc.p)
			require.Error(t, err)
		})
	}
}
