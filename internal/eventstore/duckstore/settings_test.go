package duckstore

import (
	"fmt"
	"math"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/stretchr/testify/require"

	"github.com/lookout-dev/lookout/internal/event"
	"github.com/lookout-dev/lookout/internal/eventstore"
)

// TestSettings checks that Options reach DuckDB.
func TestSettings(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(t.Context(), Options{Dir: dir, MemoryLimit: 100 << 20, Threads: 3})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	require.Nil(t, s.db, "DuckDB starts with the first partition")
	require.NoError(t, s.Append(t.Context(), []event.Record{{Kind: event.KindLog, Time: 1, Labels: labels.FromStrings("app", "a"), Body: "x"}}))
	var (
		mem, tmp, ckpt   string
		threads, lateMat int
		autoload         bool
	)
	require.NoError(t, s.db.QueryRowContext(t.Context(), `SELECT current_setting('memory_limit'), current_setting('threads'),
		current_setting('temp_directory'), current_setting('late_materialization_max_rows'), current_setting('autoload_known_extensions'), current_setting('checkpoint_threshold')`).
		Scan(&mem, &threads, &tmp, &lateMat, &autoload, &ckpt))
	require.Equal(t, "100.0 MiB", mem)
	require.Equal(t, 3, threads)
	require.Equal(t, filepath.Join(dir, "tmp"), tmp)
	require.Equal(t, maxPage, lateMat)
	require.False(t, autoload)
	require.Equal(t, "25.0 MiB", ckpt) // a quarter of the memory limit
}

// TestStartOnFirstWrite checks that DuckDB starts only once there is a
// partition: at the first Append on an empty directory, at Open on one that
// holds partitions. Queries and retention before that answer from the empty
// stream index.
func TestStartOnFirstWrite(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(t.Context(), Options{Dir: dir, MemoryLimit: 64 << 20, Threads: 1})
	require.NoError(t, err)
	sel := eventstore.Selector{Kind: event.KindLog, Start: 0, End: math.MaxInt64, Matchers: []*labels.Matcher{labels.MustNewMatcher(labels.MatchRegexp, "app", ".*")}}
	_, err = s.Aggregate(t.Context(), eventstore.AggregateParams{Selector: sel, Op: eventstore.AggCount, Step: int64(time.Hour)})
	require.NoError(t, err)
	_, err = s.ApplyRetention(t.Context(), time.Now(), eventstore.Retention{Default: time.Hour, MaxBytes: 1})
	require.NoError(t, err)
	require.Nil(t, s.db, "nothing written yet")

	require.NoError(t, s.Append(t.Context(), []event.Record{{Kind: event.KindLog, Time: 5, Labels: labels.FromStrings("app", "a"), Body: "first"}}))
	require.NotNil(t, s.db)
	require.NoError(t, s.Close())

	s, err = Open(t.Context(), Options{Dir: dir, MemoryLimit: 64 << 20, Threads: 1})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	require.NotNil(t, s.db, "a directory with partitions starts DuckDB at Open")
	var bodies []string
	for r, err := range s.Select(t.Context(), eventstore.SelectParams{Selector: sel}) {
		require.NoError(t, err)
		bodies = append(bodies, r.Body)
	}
	require.Equal(t, []string{"first"}, bodies)
}

func TestCheckpointThreshold(t *testing.T) {
	require.Equal(t, int64(16<<20), checkpointThreshold(32<<20))
	require.Equal(t, int64(128<<20), checkpointThreshold(512<<20))
	require.Equal(t, int64(256<<20), checkpointThreshold(8<<30))
}

// TestCompression checks that new partitions are written in a storage
// version with ZSTD, and that bodies use it.
func TestCompression(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(t.Context(), Options{Dir: dir, MemoryLimit: 256 << 20, Threads: 1})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	batch := make([]event.Record, 5000)
	for i := range batch {
		batch[i] = event.Record{
			Kind: event.KindLog, Time: int64(i) * int64(time.Millisecond), Labels: labels.FromStrings("app", "a"),
			Body: fmt.Sprintf(`{"level":"info","msg":"request completed","path":"/api/v1/items/%d","status":200,"duration_ms":%d}`, i%97, i%13),
		}
	}
	require.NoError(t, s.Append(t.Context(), batch))
	p := s.parts[0]
	_, err = s.wconn.ExecContext(t.Context(), "CHECKPOINT "+quoteIdent(p.alias))
	require.NoError(t, err)
	rows, err := s.wconn.QueryContext(t.Context(), "SELECT DISTINCT compression FROM pragma_storage_info("+
		quoteString(p.alias+".log")+") WHERE column_name = 'body' AND segment_type = 'VARCHAR'")
	require.NoError(t, err)
	var got []string
	for rows.Next() {
		var c string
		require.NoError(t, rows.Scan(&c))
		got = append(got, c)
	}
	require.NoError(t, rows.Err())
	require.NoError(t, rows.Close())
	require.Equal(t, []string{"ZSTD"}, got)
}

func TestWiden(t *testing.T) {
	const hour = int64(time.Hour)
	p := newPartition(t.TempDir(), 10, 1)
	day := p.start
	for _, c := range []struct{ lo, hi, wlo, whi int64 }{
		{day + 90*60e9, day + 150*60e9, day + hour, day + 3*hour - 1},
		{day, day, day, day + hour - 1},
		{day + hour, day + 2*hour, day + hour, day + 3*hour - 1},
		{p.end - 1, p.end - 1, p.end - hour, p.end - 1}, // not beyond the day
	} {
		lo, hi := p.widen(c.lo, c.hi)
		require.Equal(t, [2]int64{c.wlo, c.whi}, [2]int64{lo, hi}, "widen(%d, %d)", c.lo-day, c.hi-day)
	}
	// The first and last days of the time line: no overflow.
	for _, p := range []*partition{newPartition(t.TempDir(), math.MinInt64/dayNs-1, 1), newPartition(t.TempDir(), math.MaxInt64/dayNs, 1)} {
		for _, v := range []int64{math.MinInt64, math.MinInt64 + 1, math.MaxInt64 - 1, math.MaxInt64} {
			if v < p.start || v > p.end-1 && p.end != math.MaxInt64 {
				continue
			}
			lo, hi := p.widen(v, v)
			require.LessOrEqual(t, lo, v)
			require.GreaterOrEqual(t, hi, v)
		}
	}
}
