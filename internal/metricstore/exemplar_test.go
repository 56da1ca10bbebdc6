package metricstore

import (
	"context"
	"math"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/model/exemplar"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
	"github.com/stretchr/testify/require"
)

// openExemplarStore opens a store in dir with a ring of 100 exemplars and
// returns it with the ring's current size, as the TSDB reports it.
func openExemplarStore(t *testing.T, dir string) (*Store, func() float64) {
	t.Helper()
	reg := prometheus.NewRegistry()
	s := New(Options{Dir: dir, Registerer: reg, MaxExemplars: 100, RetentionTime: 24 * time.Hour})
	require.NoError(t, s.Open(nil))
	size := func() float64 {
		mfs, err := reg.Gather()
		require.NoError(t, err)
		for _, mf := range mfs {
			if mf.GetName() == "prometheus_tsdb_exemplar_max_exemplars" {
				return mf.GetMetric()[0].GetGauge().GetValue()
			}
		}
		t.Fatal("prometheus_tsdb_exemplar_max_exemplars not registered")
		return 0
	}
	return s, size
}

func queryExemplars(t *testing.T, s *Store) []exemplar.QueryResult {
	t.Helper()
	q, err := s.ExemplarQuerier(context.Background())
	require.NoError(t, err)
	res, err := q.Select(math.MinInt64, math.MaxInt64, []*labels.Matcher{labels.MustNewMatcher(labels.MatchEqual, labels.MetricName, "requests_total")})
	require.NoError(t, err)
	return res
}

// TestExemplarRingSizedOnFirstUse checks that the exemplar ring takes no
// memory until an exemplar arrives, that the first one is kept, through
// both appender interfaces, and that a restart keeps the ring when the WAL
// holds exemplars and drops it when it holds none.
func TestExemplarRingSizedOnFirstUse(t *testing.T) {
	ls := labels.FromStrings(labels.MetricName, "requests_total", "job", "api")
	ex := exemplar.Exemplar{Labels: labels.FromStrings("trace_id", "4bf92f3577b34da6"), Value: 1, Ts: 1000, HasTs: true}

	for _, tc := range []struct {
		name   string
		append func(s *Store) error
	}{
		{"appender", func(s *Store) error {
			app := s.Appender(context.Background())
			ref, err := app.Append(0, ls, 1000, 1)
			if err != nil {
				return err
			}
			if _, err := app.AppendExemplar(ref, ls, ex); err != nil {
				return err
			}
			return app.Commit()
		}},
		{"appender v2", func(s *Store) error {
			app := s.AppenderV2(context.Background())
			if _, err := app.Append(0, ls, 0, 1000, 1, nil, nil, storage.AOptions{Exemplars: []exemplar.Exemplar{ex}}); err != nil {
				return err
			}
			return app.Commit()
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dir := t.TempDir()
			s, size := openExemplarStore(t, dir)
			require.Zero(t, size(), "no exemplar yet")

			app := s.Appender(context.Background())
			_, err := app.Append(0, labels.FromStrings(labels.MetricName, "plain"), 500, 1)
			require.NoError(t, err)
			require.NoError(t, app.Commit())
			require.Zero(t, size(), "samples without exemplars leave the ring empty")

			require.NoError(t, tc.append(s))
			require.Equal(t, float64(100), size())
			res := queryExemplars(t, s)
			require.Len(t, res, 1)
			require.Equal(t, []exemplar.Exemplar{ex}, res[0].Exemplars, "the first exemplar is kept")
			require.NoError(t, s.Close())

			s, size = openExemplarStore(t, dir)
			t.Cleanup(func() { require.NoError(t, s.Close()) })
			require.Equal(t, float64(100), size(), "replayed exemplars keep the ring")
			require.Len(t, queryExemplars(t, s), 1)
		})
	}

	t.Run("restart without exemplars", func(t *testing.T) {
		dir := t.TempDir()
		s, _ := openExemplarStore(t, dir)
		app := s.Appender(context.Background())
		_, err := app.Append(0, ls, 1000, 1)
		require.NoError(t, err)
		require.NoError(t, app.Commit())
		require.NoError(t, s.Close())

		s, size := openExemplarStore(t, dir)
		t.Cleanup(func() { require.NoError(t, s.Close()) })
		require.Zero(t, size())
	})
}
