package duckstore

import (
	"database/sql/driver"
	"fmt"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// TestChunkAppender appends rows over several chunks, with strings that
// are empty, inlined by DuckDB (up to 12 bytes), long, multi-byte and with
// NUL bytes, then reads every column back. It also covers a chunk cut
// short by maxChunkBytes, and tables the appender refuses.
func TestChunkAppender(t *testing.T) {
	s, err := Open(t.Context(), Options{Dir: t.TempDir(), MemoryLimit: 256 << 20, Threads: 1})
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, s.Close()) })
	ctx := t.Context()
	require.NoError(t, s.startDB(ctx))
	_, err = s.wconn.ExecContext(ctx, "CREATE TABLE t (ts BIGINT, seq UBIGINT, stream_id UINTEGER, level VARCHAR, body VARCHAR, trace_id VARCHAR, span_id VARCHAR, attrs VARCHAR)")
	require.NoError(t, err)

	big := strings.Repeat("x", maxChunkBytes/4)
	type want struct {
		ts   int64
		seq  uint64
		id   uint32
		strs [numStrCols]string
	}
	var rows []want
	n := 2*chunkRows + 17
	for i := range n {
		body := fmt.Sprintf("line %d: état ✓ with a body longer than twelve bytes", i)
		switch i % 5 {
		case 1:
			body = ""
		case 2:
			body = fmt.Sprintf("nul\x00%d", i)
		case 3:
			body = fmt.Sprint(i) // inlined
		}
		if i == chunkRows+5 || i == chunkRows+6 || i == chunkRows+7 || i == chunkRows+8 || i == chunkRows+9 {
			body = big // pushes the chunk past maxChunkBytes
		}
		rows = append(rows, want{
			ts: int64(i) * 1000, seq: uint64(i) + 1<<40, id: uint32(i % 7),
			strs: [numStrCols]string{"info", body, "", fmt.Sprintf("%016x", i), `{"k":"v"}`},
		})
	}

	appendRows := func(table string, rs []want) error {
		return s.wconn.Raw(func(dc any) error {
			a, err := newChunkAppender(dc.(driver.Conn), "memory", table, new(strColumns))
			if err != nil {
				return err
			}
			for _, r := range rs {
				if err := a.append(r.ts, r.seq, r.id, r.strs); err != nil {
					a.destroy()
					return err
				}
			}
			return a.close()
		})
	}
	require.NoError(t, appendRows("t", rows))

	got, err := s.wconn.QueryContext(ctx, "SELECT ts, seq, stream_id, level, body, trace_id, span_id, attrs FROM t ORDER BY seq")
	require.NoError(t, err)
	i := 0
	for got.Next() {
		var g want
		require.NoError(t, got.Scan(&g.ts, &g.seq, &g.id, &g.strs[0], &g.strs[1], &g.strs[2], &g.strs[3], &g.strs[4]))
		require.Less(t, i, n)
		require.Equal(t, rows[i], g, "row %d", i)
		i++
	}
	require.NoError(t, got.Err())
	require.NoError(t, got.Close())
	require.Equal(t, n, i)

	// A table with other columns is refused by name.
	_, err = s.wconn.ExecContext(ctx, "CREATE TABLE u (ts BIGINT, body VARCHAR)")
	require.NoError(t, err)
	require.ErrorContains(t, appendRows("u", rows[:1]), "table u has 2 columns, want 8")
	require.Error(t, appendRows("missing", rows[:1]))
}
