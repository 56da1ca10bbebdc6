package storetest

import (
	"math"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/stretchr/testify/require"

	"github.com/lookout-dev/lookout/internal/event"
	"github.com/lookout-dev/lookout/internal/eventstore"
)

func testRetention(t *testing.T, open OpenFunc) {
	end := time.Unix(0, fixtureEnd)
	tests := []struct {
		name string
		now  time.Time
		r    eventstore.Retention
		keep []int
	}{
		{
			name: "empty policy keeps everything",
			now:  end,
			keep: []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19},
		},
		{
			name: "default period",
			now:  end,
			r:    eventstore.Retention{Default: 48 * time.Hour},
			keep: []int{11, 12, 13, 14, 15, 16, 17, 19},
		},
		{
			name: "record exactly one period old is kept",
			now:  end,
			r:    eventstore.Retention{Default: 24 * time.Hour},
			keep: []int{15, 16, 17},
		},
		{
			name: "first matching rule wins and zero keeps forever",
			now:  end,
			r: eventstore.Retention{
				Default: 48 * time.Hour,
				Rules: []eventstore.RetentionRule{
					{Matchers: []*labels.Matcher{matcher(t, "app", "=", "api")}, Period: 24 * time.Hour},
					{Matchers: []*labels.Matcher{matcher(t, "app", "=~", "api|web")}, Period: 0},
				},
			},
			keep: []int{3, 7, 13, 15, 16, 17},
		},
		{
			name: "rule without default",
			now:  end,
			r: eventstore.Retention{Rules: []eventstore.RetentionRule{
				{Matchers: []*labels.Matcher{matcher(t, "env", "=", "dev")}, Period: time.Hour},
			}},
			keep: []int{1, 3, 4, 5, 6, 7, 9, 10, 11, 12, 13, 15, 16, 17, 18, 19},
		},
		{
			name: "rule matchers all apply and cover every kind",
			now:  end,
			r: eventstore.Retention{Rules: []eventstore.RetentionRule{
				{Matchers: []*labels.Matcher{matcher(t, "app", "=", "api"), matcher(t, "env", "=", "prod")}, Period: 24 * time.Hour},
			}},
			keep: []int{2, 3, 5, 7, 8, 10, 13, 14, 15, 16, 17},
		},
		{
			name: "period longer than the time line",
			now:  end,
			r:    eventstore.Retention{Default: math.MaxInt64},
			keep: []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19},
		},
		{
			name: "now before the data deletes nothing",
			now:  time.Unix(0, fixtureStart),
			r:    eventstore.Retention{Default: time.Nanosecond},
			keep: []int{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17, 18, 19},
		},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s, fx := openLoaded(t, open)
			res, err := s.ApplyRetention(t.Context(), tc.now, tc.r)
			require.NoError(t, err)
			require.Equal(t, uint64(len(fx.records)-len(tc.keep)), res.Deleted, "deleted")
			require.Equal(t, s.Size(), res.SizeAfter)
			requireKept(t, s, fx, tc.keep)

			// A second pass finds nothing more, and the store takes new
			// records.
			res, err = s.ApplyRetention(t.Context(), tc.now, tc.r)
			require.NoError(t, err)
			require.Zero(t, res.Deleted)
			require.NoError(t, s.Append(t.Context(), []event.Record{{Kind: event.KindLog, Time: fixtureEnd, Labels: labels.FromStrings("app", "new"), Body: "after retention"}}))
			require.Len(t, allRecords(t, s), len(tc.keep)+1)
		})
	}
}

// requireKept checks that exactly the fixture records keep remain, and that
// Series and Stats agree.
func requireKept(t testing.TB, s eventstore.Store, fx *fixture, keep []int) {
	t.Helper()
	got := allRecords(t, s)
	require.ElementsMatch(t, keep, fx.idsOf(t, got))

	wantSeries := map[event.Kind][]string{}
	for _, id := range keep {
		r := fx.byID[id]
		if !slices.Contains(wantSeries[r.Kind], r.Labels.String()) {
			wantSeries[r.Kind] = append(wantSeries[r.Kind], r.Labels.String())
		}
	}
	for _, k := range []event.Kind{event.KindLog, event.KindSpan} {
		series, err := s.Series(t.Context(), k, fixtureStart, fixtureEnd, nil)
		require.NoError(t, err)
		var gotSeries []string
		for _, ls := range series {
			gotSeries = append(gotSeries, ls.String())
		}
		require.ElementsMatch(t, wantSeries[k], gotSeries, "series of kind %s", k)
	}
}

func testRetentionSizeCap(t *testing.T, open OpenFunc) {
	s, fx := openLoaded(t, open)
	now := time.Unix(0, fixtureEnd)
	size := s.Size()
	require.Positive(t, size)

	res, err := s.ApplyRetention(t.Context(), now, eventstore.Retention{MaxBytes: size})
	require.NoError(t, err)
	require.Zero(t, res.Deleted, "a store at its cap deletes nothing")

	res, err = s.ApplyRetention(t.Context(), now, eventstore.Retention{MaxBytes: size - 1})
	require.NoError(t, err)
	require.Positive(t, res.Deleted)
	require.LessOrEqual(t, res.SizeAfter, size-1)
	require.Equal(t, s.Size(), res.SizeAfter)
	kept := allRecords(t, s)
	require.NotEmpty(t, kept, "one byte over the cap must not empty the store")
	require.Len(t, kept, len(fx.records)-int(res.Deleted))

	// Oldest first: every deleted record is no newer than every kept one.
	keptIDs := fx.idsOf(t, kept)
	oldestKept := kept[0].Time
	for _, r := range kept {
		oldestKept = min(oldestKept, r.Time)
	}
	for i, r := range fx.records {
		if !slices.Contains(keptIDs, fx.ids[i]) {
			require.LessOrEqual(t, r.Time, oldestKept, "deleted record %d is newer than a kept one", fx.ids[i])
		}
	}
	requireKept(t, s, fx, keptIDs)

	// A cap that cannot be met deletes everything.
	res, err = s.ApplyRetention(t.Context(), now, eventstore.Retention{MaxBytes: 1})
	require.NoError(t, err)
	require.Equal(t, uint64(len(kept)), res.Deleted)
	require.Equal(t, s.Size(), res.SizeAfter)
	requireKept(t, s, fx, nil)

	require.NoError(t, s.Append(t.Context(), fx.records))
	require.Len(t, allRecords(t, s), len(fx.records))
}
