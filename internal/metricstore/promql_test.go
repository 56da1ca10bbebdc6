package metricstore

import (
	"os"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/prometheus/promql/promqltest"
	"github.com/prometheus/prometheus/storage"
	"github.com/stretchr/testify/require"
)

// newTestStore opens a Store in a temporary directory with a day-long head
// block, so scripts can load long histories in one go.
func newTestStore(tb testing.TB) storage.Storage {
	tb.Helper()
	s := New(Options{Dir: tb.TempDir(), RetentionTime: 365 * 24 * time.Hour, MaxExemplars: 1000, BlockDuration: 24 * time.Hour})
	require.NoError(tb, s.Open(nil))
	tb.Cleanup(func() { _ = s.Close() })
	return s
}

// TestPromQLScripts runs Prometheus' own PromQL script suite with its data
// written through Lookout's Store and read back through it, so a storage
// wiring mistake (appender, querier, chunk reads) fails a script. The suite
// needs the engine features it was written for, so it brings its own engine.
func TestPromQLScripts(t *testing.T) {
	eng := promqltest.NewTestEngine(t, false, 0, promqltest.DefaultMaxSamplesPerQuery)
	promqltest.RunBuiltinTestsWithStorage(skipFiles{t, map[string]string{
		// Start timestamps need the TSDB's experimental ST chunk encoding,
		// which Prometheus 3 leaves off by default and so does Lookout.
		"testdata/start_timestamps.test": "start-timestamp storage is off",
	}}, eng, newTestStore)
}

// skipFiles skips the named script files of a suite.
type skipFiles struct {
	*testing.T
	skip map[string]string
}

func (s skipFiles) Run(name string, f func(*testing.T)) bool {
	if why, ok := s.skip[name]; ok {
		return s.T.Run(name, func(t *testing.T) { t.Skip(why) })
	}
	return s.T.Run(name, f)
}

// TestLookoutScripts runs testdata/*.test through the engine exactly as the
// server configures it (Prometheus 3 defaults, subquery step, lookback).
func TestLookoutScripts(t *testing.T) {
	eng, err := NewEngine(EngineOptions{
		Dir:            t.TempDir(),
		Timeout:        time.Minute,
		MaxSamples:     50_000_000,
		MaxConcurrency: 4,
		LookbackDelta:  5 * time.Minute,
		SubqueryStep:   func() time.Duration { return time.Minute },
	})
	require.NoError(t, err)
	files, err := filepath.Glob("testdata/*.test")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			b, err := os.ReadFile(f)
			require.NoError(t, err)
			promqltest.RunTestWithStorage(t, string(b), eng, newTestStore)
		})
	}
}
