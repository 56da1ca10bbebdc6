package filter

import (
	"context"
	"fmt"
	"regexp"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/stretchr/testify/require"

	"github.com/lookout-dev/lookout/internal/event"
)

func rec(app, level, body string) event.Record {
	return event.Record{Labels: labels.FromStrings("app", app), Level: level, Body: body}
}

func bodies(recs []event.Record) []string {
	var out []string
	for _, r := range recs {
		out = append(out, r.Body)
	}
	return out
}

func TestDrop(t *testing.T) {
	batch := func() []event.Record {
		return []event.Record{
			rec("crm", event.LevelInfo, "GET /api/v1/contacts 200"),
			rec("crm", event.LevelDebug, "cache key user:123"),
			rec("lb", event.LevelInfo, "GET /healthz 200"),
			rec("crm", event.LevelInfo, "GET /healthz 200"),
			rec("crm", event.LevelError, "payment failed"),
		}
	}
	cases := []struct {
		name string
		drop []Match
		want []string
	}{
		{"by selector", []Match{{Matchers: []*labels.Matcher{labels.MustNewMatcher(labels.MatchEqual, "app", "lb")}}},
			[]string{"GET /api/v1/contacts 200", "cache key user:123", "GET /healthz 200", "payment failed"}},
		{"by level", []Match{{Level: event.LevelDebug}},
			[]string{"GET /api/v1/contacts 200", "GET /healthz 200", "GET /healthz 200", "payment failed"}},
		{"by line", []Match{{Line: regexp.MustCompile(`^GET /healthz `)}},
			[]string{"GET /api/v1/contacts 200", "cache key user:123", "payment failed"}},
		{"all conditions must hold", []Match{{Matchers: []*labels.Matcher{labels.MustNewMatcher(labels.MatchRegexp, "app", "c.*")}, Line: regexp.MustCompile(`healthz`)}},
			[]string{"GET /api/v1/contacts 200", "cache key user:123", "GET /healthz 200", "payment failed"}},
		{"any rule drops", []Match{{Level: event.LevelDebug}, {Level: event.LevelError}},
			[]string{"GET /api/v1/contacts 200", "GET /healthz 200", "GET /healthz 200"}},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			dropped := prometheus.NewCounter(prometheus.CounterOpts{Name: "dropped"})
			stage, err := New(Options{Drop: c.drop, Dropped: dropped})
			require.NoError(t, err)
			out, err := stage(context.Background(), batch())
			require.NoError(t, err)
			require.Equal(t, c.want, bodies(out))
			require.Equal(t, float64(5-len(c.want)), testutil.ToFloat64(dropped))
		})
	}
}

// TestSamplePerLevel samples as the users' agents did (10% of requests) but
// per level: every error is kept, a tenth of debug, everything else.
func TestSamplePerLevel(t *testing.T) {
	sampled := prometheus.NewCounter(prometheus.CounterOpts{Name: "sampled"})
	stage, err := New(Options{
		Sample: []SampleRule{
			{Match: Match{Level: event.LevelError}, Ratio: 1},
			{Match: Match{Level: event.LevelDebug}, Ratio: 0.1},
			{Match: Match{Matchers: []*labels.Matcher{labels.MustNewMatcher(labels.MatchEqual, "app", "noisy")}}, Ratio: 0},
		},
		SampledOut: sampled,
	})
	require.NoError(t, err)
	var batch []event.Record
	for i := range 10000 {
		batch = append(batch,
			event.Record{Time: int64(i), Level: event.LevelDebug, Body: fmt.Sprintf("cache key user:%d", i)},
			event.Record{Time: int64(i), Level: event.LevelError, Body: fmt.Sprintf("payment %d failed", i)},
			event.Record{Time: int64(i), Level: event.LevelInfo, Body: fmt.Sprintf("request %d", i)},
		)
	}
	batch = append(batch, event.Record{Labels: labels.FromStrings("app", "noisy"), Level: event.LevelInfo, Body: "spam"})
	out, err := stage(context.Background(), batch)
	require.NoError(t, err)
	count := map[string]int{}
	for _, r := range out {
		count[r.Level]++
	}
	require.Equal(t, 10000, count[event.LevelError], "all errors kept")
	require.Equal(t, 10000, count[event.LevelInfo], "no rule for info: kept, and the noisy rule does not select them")
	require.InDelta(t, 1000, count[event.LevelDebug], 100, "about a tenth of debug")
	require.Equal(t, float64(len(batch)-len(out)), testutil.ToFloat64(sampled))
}

func TestSampleIsDeterministic(t *testing.T) {
	stage, err := New(Options{Sample: []SampleRule{{Ratio: 0.5}}})
	require.NoError(t, err)
	newBatch := func() []event.Record {
		var b []event.Record
		for i := range 200 {
			b = append(b, event.Record{Time: int64(i), Body: "line"})
		}
		for i := range 50 {
			tid := fmt.Sprintf("%032x", i)
			for range 4 {
				b = append(b, event.Record{Time: int64(i), TraceID: tid, Body: fmt.Sprintf("span log %d", i)})
			}
		}
		return b
	}
	first, err := stage(context.Background(), newBatch())
	require.NoError(t, err)
	again, err := stage(context.Background(), newBatch())
	require.NoError(t, err)
	require.Equal(t, first, again, "a retried batch is sampled the same way")

	perTrace := map[string]int{}
	for _, r := range first {
		if r.TraceID != "" {
			perTrace[r.TraceID]++
		}
	}
	require.NotEmpty(t, perTrace)
	for tid, n := range perTrace {
		require.Equal(t, 4, n, "the logs of trace %s are kept together", tid)
	}
}

func TestNewErrors(t *testing.T) {
	_, err := New(Options{Sample: []SampleRule{{Ratio: 1.5}}})
	require.ErrorContains(t, err, "outside [0, 1]")
	_, err = New(Options{Drop: []Match{{}}})
	require.ErrorIs(t, err, ErrEmptyRule)
}
