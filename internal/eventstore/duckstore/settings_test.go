package duckstore

import (
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestSettings checks that Options reach DuckDB.
func TestSettings(t *testing.T) {
	dir := t.TempDir()
	s, err := Open(t.Context(), Options{Dir: dir, MemoryLimit: 100 << 20, Threads: 3})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	var (
		mem, tmp         string
		threads, lateMat int
		autoload         bool
	)
	require.NoError(t, s.db.QueryRowContext(t.Context(), `SELECT current_setting('memory_limit'), current_setting('threads'),
		current_setting('temp_directory'), current_setting('late_materialization_max_rows'), current_setting('autoload_known_extensions')`).
		Scan(&mem, &threads, &tmp, &lateMat, &autoload))
	require.Equal(t, "100.0 MiB", mem)
	require.Equal(t, 3, threads)
	require.Equal(t, filepath.Join(dir, "tmp"), tmp)
	require.Equal(t, maxPage, lateMat)
	require.False(t, autoload)
}
