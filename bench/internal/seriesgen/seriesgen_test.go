package seriesgen

import (
	"math"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func key(ls []Label) string {
	var b strings.Builder
	for _, l := range ls {
		b.WriteString(l.Name)
		b.WriteByte('=')
		b.WriteString(l.Value)
		b.WriteByte(',')
	}
	return b.String()
}

func TestBuild(t *testing.T) {
	cases := []struct {
		name    string
		opts    Options
		minName int
	}{
		{"tiny", Options{Series: 7, Seed: 1}, 1},
		{"builtin", Options{Series: 5000, Seed: 1}, 18},
		{"trimmed", Options{Series: 3000, Metrics: 4, Seed: 1}, 4},
		{"extra names", Options{Series: 20000, Metrics: 100, Seed: 2}, 100},
	}
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			set, err := Build(tc.opts)
			require.NoError(t, err)
			require.Len(t, set.Series, tc.opts.Series)
			require.GreaterOrEqual(t, set.MetricNames, tc.minName)
			seen := map[string]bool{}
			for _, s := range set.Series {
				require.True(t, slices.IsSortedFunc(s.Labels, func(a, b Label) int { return strings.Compare(a.Name, b.Name) }))
				k := key(s.Labels)
				require.False(t, seen[k], "duplicate series %s", k)
				seen[k] = true
				require.NotEmpty(t, s.Name())
			}
			again, err := Build(tc.opts)
			require.NoError(t, err)
			require.Equal(t, key(set.Series[0].Labels), key(again.Series[0].Labels), "Build must be deterministic")
		})
	}
}

func TestBuildRejects(t *testing.T) {
	_, err := Build(Options{})
	require.Error(t, err)
	_, err = Build(Options{Series: 1, Metrics: -1})
	require.Error(t, err)
}

func TestCountersNeverDecrease(t *testing.T) {
	set, err := Build(Options{Series: 20000, Seed: 3})
	require.NoError(t, err)
	for _, s := range set.Series {
		if s.Kind != Counter && s.Kind != Histogram {
			continue
		}
		prev := math.Inf(-1)
		for r := range 50 {
			v := s.Value(r)
			require.GreaterOrEqual(t, v, prev, "%s round %d", key(s.Labels), r)
			prev = v
		}
	}
}

// TestHistogramBuckets checks that the buckets of each histogram are cumulative in le and that
// the +Inf bucket equals _count, which histogram_quantile relies on.
func TestHistogramBuckets(t *testing.T) {
	set, err := Build(Options{Series: 20000, Seed: 4})
	require.NoError(t, err)

	type group struct {
		buckets map[float64]float64
		count   float64
	}
	groups := map[string]*group{}
	const r = 17
	for _, s := range set.Series {
		if s.Kind != Histogram {
			continue
		}
		var rest []Label
		le := ""
		for _, l := range s.Labels {
			switch l.Name {
			case "le":
				le = l.Value
			case "__name__":
			default:
				rest = append(rest, l)
			}
		}
		g := groups[key(rest)]
		if g == nil {
			g = &group{buckets: map[float64]float64{}}
			groups[key(rest)] = g
		}
		switch {
		case strings.HasSuffix(s.Name(), "_bucket"):
			bound, err := strconv.ParseFloat(le, 64)
			require.NoError(t, err)
			g.buckets[bound] = s.Value(r)
		case strings.HasSuffix(s.Name(), "_count"):
			g.count = s.Value(r)
		}
	}
	require.NotEmpty(t, groups)
	complete := 0
	for k, g := range groups {
		if len(g.buckets) != len(leBounds)+1 || g.count == 0 {
			continue // the last target may be cut short
		}
		complete++
		bounds := make([]float64, 0, len(g.buckets))
		for b := range g.buckets {
			bounds = append(bounds, b)
		}
		slices.Sort(bounds)
		for i := 1; i < len(bounds); i++ {
			require.LessOrEqual(t, g.buckets[bounds[i-1]], g.buckets[bounds[i]], k)
		}
		require.Equal(t, g.count, g.buckets[math.Inf(1)], k)
	}
	require.Positive(t, complete)
}
