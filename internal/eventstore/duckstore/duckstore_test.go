package duckstore_test

import (
	"context"
	"fmt"
	"iter"
	"math"
	"os"
	"os/exec"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/stretchr/testify/assert"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/lookout-dev/lookout/internal/event"
	"github.com/lookout-dev/lookout/internal/eventstore"
	"github.com/lookout-dev/lookout/internal/eventstore/duckstore"
	"github.com/lookout-dev/lookout/internal/eventstore/storetest"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// openStore opens a small store in dir and closes it at cleanup.
func openStore(t testing.TB, dir string) *duckstore.Store {
	t.Helper()
	s, err := duckstore.Open(t.Context(), duckstore.Options{Dir: dir, MemoryLimit: 128 << 20, Threads: 1})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	return s
}

func TestConformance(t *testing.T) {
	storetest.Run(t, func(t *testing.T, dir string) eventstore.Store { return openStore(t, dir) }, storetest.Durable())
}

var day0 = time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC).UnixNano()

// records returns n log records spread evenly over days days from day0.
func records(n, days int) []event.Record {
	out := make([]event.Record, n)
	step := int64(days) * int64(24*time.Hour) / int64(n)
	for i := range out {
		out[i] = event.Record{
			Kind:   event.KindLog,
			Time:   day0 + int64(i)*step,
			Labels: labels.FromStrings("app", "test", "shard", fmt.Sprint(i%3)),
			Body:   fmt.Sprintf("line %d", i),
			Level:  event.LevelInfo,
		}
	}
	return out
}

func everything() eventstore.SelectParams {
	return eventstore.SelectParams{
		Selector:  eventstore.Selector{Kind: event.KindLog, Start: math.MinInt64, End: math.MaxInt64},
		Direction: eventstore.Forward,
	}
}

func count(t testing.TB, s eventstore.Store) int {
	t.Helper()
	n := 0
	for _, err := range s.Select(t.Context(), everything()) {
		require.NoError(t, err)
		n++
	}
	return n
}

func files(t testing.TB, dir, pattern string) []string {
	t.Helper()
	m, err := filepath.Glob(filepath.Join(dir, pattern))
	require.NoError(t, err)
	for i := range m {
		m[i] = filepath.Base(m[i])
	}
	return m
}

func TestOpenLocksDir(t *testing.T) {
	dir := t.TempDir()
	s, err := duckstore.Open(t.Context(), duckstore.Options{Dir: dir})
	require.NoError(t, err)
	_, err = duckstore.Open(t.Context(), duckstore.Options{Dir: dir})
	require.ErrorContains(t, err, "in use")
	require.NoError(t, s.Close())
	s, err = duckstore.Open(t.Context(), duckstore.Options{Dir: dir})
	require.NoError(t, err)
	require.NoError(t, s.Close())
}

func TestPartitionFiles(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir)
	require.NoError(t, s.Append(t.Context(), records(300, 3)))
	require.Equal(t, []string{"20240501-000001.duckdb", "20240502-000002.duckdb", "20240503-000003.duckdb"}, files(t, dir, "*.duckdb"))
	require.NoError(t, s.Close())
	require.Empty(t, files(t, dir, "*.wal"), "close checkpoints every wal")

	s = openStore(t, dir)
	require.Equal(t, 300, count(t, s))
	res, err := s.ApplyRetention(t.Context(), time.Unix(0, day0).Add(72*time.Hour), eventstore.Retention{Default: 48 * time.Hour})
	require.NoError(t, err)
	require.Equal(t, uint64(100), res.Deleted)
	require.Equal(t, []string{"20240502-000002.duckdb", "20240503-000003.duckdb"}, files(t, dir, "*.duckdb"), "an expired day is deleted")

	// A day appended again after its drop gets a new file.
	require.NoError(t, s.Append(t.Context(), records(3, 1)))
	require.Equal(t, []string{"20240501-000004.duckdb", "20240502-000002.duckdb", "20240503-000003.duckdb"}, files(t, dir, "*.duckdb"))
}

func TestOpenCleansUp(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir)
	require.NoError(t, s.Append(t.Context(), records(10, 1)))
	require.NoError(t, s.Close())

	// An older generation of the same day (a drop interrupted by a crash)
	// and a WAL without its database.
	b, err := os.ReadFile(filepath.Join(dir, "20240501-000001.duckdb"))
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "20240501-000000.duckdb"), b, 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "20240420-000009.duckdb.wal"), []byte("junk"), 0o600))

	s = openStore(t, dir)
	require.Equal(t, []string{"20240501-000001.duckdb"}, files(t, dir, "*.duckdb"))
	require.Empty(t, files(t, dir, "*.wal"))
	require.Equal(t, 10, count(t, s))
}

// TestDropWhileSelecting checks that a partition dropped during a Select
// stays readable until the Select ends, and is deleted then.
func TestDropWhileSelecting(t *testing.T) {
	dir := t.TempDir()
	s := openStore(t, dir)
	require.NoError(t, s.Append(t.Context(), records(3000, 3)))

	next, stop := iter.Pull2(s.Select(t.Context(), everything()))
	defer stop()
	r, err, ok := next()
	require.True(t, ok)
	require.NoError(t, err)
	require.Equal(t, "line 0", r.Body)

	res, err := s.ApplyRetention(t.Context(), time.Unix(0, day0), eventstore.Retention{MaxBytes: 1})
	require.NoError(t, err)
	require.Equal(t, uint64(3000), res.Deleted)
	require.Zero(t, res.SizeAfter)
	require.Len(t, files(t, dir, "*.duckdb"), 3, "files in use stay")
	require.Zero(t, count(t, s), "new queries see nothing")

	n := 1
	for {
		_, err, ok := next()
		if !ok {
			break
		}
		require.NoError(t, err)
		n++
	}
	require.Equal(t, 3000, n)
	require.Empty(t, files(t, dir, "*.duckdb"), "files go when the select ends")
}

// TestCrashRecovery appends in a child process that exits without Close,
// so nothing is checkpointed, and checks that a new store finds every
// acknowledged record.
func TestCrashRecovery(t *testing.T) {
	if dir := os.Getenv("DUCKSTORE_CRASH_DIR"); dir != "" {
		s, err := duckstore.Open(context.Background(), duckstore.Options{Dir: dir})
		if err != nil {
			os.Exit(2)
		}
		for b := range slices.Chunk(records(1000, 2), 100) {
			if err := s.Append(context.Background(), b); err != nil {
				os.Exit(3)
			}
		}
		os.Exit(0) // no Close: the WAL is all there is
	}
	dir := t.TempDir()
	cmd := exec.CommandContext(t.Context(), os.Args[0], "-test.run=^TestCrashRecovery$")
	cmd.Env = append(os.Environ(), "DUCKSTORE_CRASH_DIR="+dir)
	out, err := cmd.CombinedOutput()
	require.NoError(t, err, "child: %s", out)
	require.NotEmpty(t, files(t, dir, "*.wal"), "the child left its wals")

	s := openStore(t, dir)
	require.Equal(t, 1000, count(t, s))
}

// TestGroupCommit appends from many goroutines at once: every batch that
// returns nil is stored once, a bad batch fails alone, and the writers share
// commits.
func TestGroupCommit(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	dir := t.TempDir()
	s, err := duckstore.Open(t.Context(), duckstore.Options{Dir: dir, MemoryLimit: 128 << 20, Threads: 1, Registerer: reg})
	require.NoError(t, err)
	const writers, batches, size = 8, 20, 50
	errs := make(chan error, writers*batches)
	var wg sync.WaitGroup
	for w := range writers {
		wg.Go(func() {
			for b := range batches {
				batch := make([]event.Record, size)
				for i := range batch {
					batch[i] = event.Record{
						Kind: event.KindLog, Time: day0 + int64(b*size+i), Labels: labels.FromStrings("writer", fmt.Sprint(w)),
						Body: fmt.Sprintf("w%d b%d i%d", w, b, i),
					}
				}
				errs <- s.Append(t.Context(), batch)
				if b == batches/2 {
					bad := slices.Clone(batch)
					bad[3].Kind = 99
					assert.ErrorContains(t, s.Append(t.Context(), bad), "unknown kind")
				}
			}
		})
	}
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}
	want := writers * batches * size
	require.Equal(t, want, count(t, s))
	require.Equal(t, float64(writers*batches), counterValue(t, reg, "lookout_eventstore_appended_batches_total"))
	commits := counterValue(t, reg, "lookout_eventstore_group_commits_total")
	require.Positive(t, commits)
	require.LessOrEqual(t, commits, float64(writers*batches))
	t.Logf("%d batches in %.0f commits", writers*batches, commits)

	// Every line once, also after a restart.
	require.NoError(t, s.Close())
	s = openStore(t, dir)
	seen := map[string]bool{}
	for r, err := range s.Select(t.Context(), everything()) {
		require.NoError(t, err)
		require.False(t, seen[r.Body], "duplicate %q", r.Body)
		seen[r.Body] = true
	}
	require.Len(t, seen, want)
}

// counterValue returns the value of the unlabelled counter name in reg.
func counterValue(t *testing.T, reg *prometheus.Registry, name string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		if mf.GetName() == name {
			return mf.GetMetric()[0].GetCounter().GetValue()
		}
	}
	t.Fatalf("no metric %s", name)
	return 0
}

// TestBoundsAfterReopen checks that the widened stream bounds saved on
// disk still answer series and label queries exactly after a restart: a
// stream is not reported for a range it has no records in, even within
// the saved grain.
func TestBoundsAfterReopen(t *testing.T) {
	dir := t.TempDir()
	s, err := duckstore.Open(t.Context(), duckstore.Options{Dir: dir, MemoryLimit: 128 << 20, Threads: 1})
	require.NoError(t, err)
	t0 := day0 + int64(10*time.Minute) + int64(20*time.Second)
	require.NoError(t, s.Append(t.Context(), []event.Record{
		{Kind: event.KindLog, Time: t0, Labels: labels.FromStrings("app", "a"), Body: "x"},
		{Kind: event.KindLog, Time: t0 + int64(10*time.Second), Labels: labels.FromStrings("app", "a"), Body: "y"},
	}))
	check := func(s *duckstore.Store) {
		t.Helper()
		for _, c := range []struct {
			start, end int64
			want       int
		}{
			{t0, t0 + 1, 1},
			{t0 + 1, t0 + int64(10*time.Second), 0}, // between the records, inside the grain
			{t0 + int64(11*time.Second), t0 + int64(30*time.Second), 0},
			{t0 - int64(10*time.Second), t0, 0},
			{day0, day0 + int64(24*time.Hour), 1},
		} {
			got, err := s.Series(t.Context(), event.KindLog, c.start, c.end, nil)
			require.NoError(t, err)
			require.Len(t, got, c.want, "series in [%d, %d)", c.start-t0, c.end-t0)
		}
	}
	check(s)
	require.NoError(t, s.Close())
	check(openStore(t, dir))
}

func TestMetrics(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	dir := t.TempDir()
	open := func() *duckstore.Store {
		s, err := duckstore.Open(t.Context(), duckstore.Options{Dir: dir, Registerer: reg})
		require.NoError(t, err)
		return s
	}
	s := open()
	require.NoError(t, s.Append(t.Context(), records(10, 1)))
	require.Equal(t, 10, count(t, s))
	_, err := s.ApplyRetention(t.Context(), time.Unix(0, day0).Add(48*time.Hour), eventstore.Retention{Default: time.Hour})
	require.NoError(t, err)
	require.NoError(t, testutil.GatherAndCompare(reg, strings.NewReader(`
# HELP lookout_eventstore_appended_records_total Records durably appended to the event store.
# TYPE lookout_eventstore_appended_records_total counter
lookout_eventstore_appended_records_total 10
# HELP lookout_eventstore_retention_deleted_records_total Records deleted by retention.
# TYPE lookout_eventstore_retention_deleted_records_total counter
lookout_eventstore_retention_deleted_records_total 10
# HELP lookout_eventstore_partitions Live day partitions of the event store.
# TYPE lookout_eventstore_partitions gauge
lookout_eventstore_partitions 0
`), "lookout_eventstore_appended_records_total", "lookout_eventstore_retention_deleted_records_total", "lookout_eventstore_partitions"))
	n, err := testutil.GatherAndCount(reg, "lookout_eventstore_query_duration_seconds")
	require.NoError(t, err)
	require.Equal(t, 1, n)
	require.NoError(t, s.Close())

	// Close unregisters, so the same registerer takes a reopened store.
	s = open()
	require.NoError(t, s.Close())
}
