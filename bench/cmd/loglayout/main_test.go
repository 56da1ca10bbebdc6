package main

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/stretchr/testify/require"

	"github.com/lookout-dev/lookout/internal/event"
	"github.com/lookout-dev/lookout/internal/eventstore/duckstore"
)

// TestLayouts runs the command on loggen's output of both models and checks that every line
// splits into fields (run fails otherwise) and that the report adds up.
func TestLayouts(t *testing.T) {
	for _, model := range []string{"requests", "lines"} {
		t.Run(model, func(t *testing.T) {
			dir := t.TempDir()
			gen := exec.Command("go", "run", "../loggen", "gen", "-dir", dir, "-lines", "5000", "-model", model,
				"-end", "2026-01-02T03:04:05Z")
			gen.Stderr = os.Stderr
			require.NoError(t, gen.Run())

			var out bytes.Buffer
			require.NoError(t, run([]string{"-dir", dir}, &out))
			var res result
			require.NoError(t, json.Unmarshal(out.Bytes(), &res))
			require.EqualValues(t, 5000, res.Lines)
			app, err := os.Stat(filepath.Join(dir, "app.log"))
			require.NoError(t, err)
			ng, err := os.Stat(filepath.Join(dir, "nginx.log"))
			require.NoError(t, err)
			require.Equal(t, app.Size()+ng.Size(), res.RawBytes)
			require.Len(t, res.Layouts, 2)
			for _, l := range res.Layouts {
				require.Positive(t, l.Bytes, l.Name)
				require.InDelta(t, float64(res.RawBytes)/float64(l.Bytes), l.Ratio, 1e-9)
			}
		})
	}
}

func TestRejectsOtherFormats(t *testing.T) {
	dir := t.TempDir()
	require.NoError(t, os.WriteFile(filepath.Join(dir, "app.log"), []byte("{\"msg\":\"not loggen\"}\n"), 0o644))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "nginx.log"), []byte("plain text\n"), 0o644))
	require.ErrorContains(t, run([]string{"-dir", dir}, io.Discard), "do not split into fields")
}

// TestPartition measures a partition the event store wrote, column by column.
func TestPartition(t *testing.T) {
	dir := t.TempDir()
	ctx := context.Background()
	st, err := duckstore.Open(ctx, duckstore.Options{Dir: dir})
	require.NoError(t, err)
	ls := labels.FromStrings("app", "bench")
	var batch []event.Record
	t0 := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC).UnixNano()
	for i := range 3000 {
		batch = append(batch, event.Record{Kind: event.KindLog, Time: t0 + int64(i)*int64(time.Millisecond), Labels: ls,
			Body: fmt.Sprintf(`{"level":"info","request_id":"%032x"}`, i*7919), Level: "info"})
	}
	require.NoError(t, st.Append(ctx, batch))
	require.NoError(t, st.Close())
	parts, err := filepath.Glob(filepath.Join(dir, "*.duckdb"))
	require.NoError(t, err)
	require.Len(t, parts, 1)

	var out bytes.Buffer
	require.NoError(t, run([]string{"-partition", parts[0]}, &out))
	var res partitionResult
	require.NoError(t, json.Unmarshal(out.Bytes(), &res))
	require.EqualValues(t, 3000, res.Records)
	var names []string
	for _, c := range res.Columns {
		names = append(names, c.Name)
		require.GreaterOrEqual(t, c.Bytes, int64(0), c.Name) // a constant column fits in the file's metadata
		if c.Name == "body" || c.Name == "needle index" {
			require.Positive(t, c.Bytes, c.Name)
		}
		require.InDelta(t, float64(c.Bytes)/3000, c.BytesPerRecord, 1e-9)
	}
	require.Equal(t, []string{"ts", "seq", "stream_id", "level", "body", "trace_id", "span_id", "attrs", "needle index"}, names)
}
