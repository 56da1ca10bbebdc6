package report

import (
	"bytes"
	"encoding/json"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lookout-dev/lookout/bench/internal/querybench"
	"github.com/lookout-dev/lookout/bench/internal/rwload"
)

func writeFile(t *testing.T, path string, size int) {
	t.Helper()
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	require.NoError(t, os.WriteFile(path, make([]byte, size), 0o644))
}

func writeJSON(t *testing.T, path string, v any) {
	t.Helper()
	b, err := json.Marshal(v)
	require.NoError(t, err)
	require.NoError(t, os.MkdirAll(filepath.Dir(path), 0o755))
	require.NoError(t, os.WriteFile(path, b, 0o644))
}

// fakeTSDB lays out a data dir like Lookout's: other stores beside a metrics/ TSDB.
func fakeTSDB(t *testing.T, root string, blockChunkBytes int) {
	t.Helper()
	writeFile(t, filepath.Join(root, "logs", "segment-1"), 5000)
	tsdb := filepath.Join(root, "metrics")
	writeFile(t, filepath.Join(tsdb, "wal", "00000000"), 3000)
	writeFile(t, filepath.Join(tsdb, "wal", "checkpoint.00000001", "00000000"), 100)
	writeFile(t, filepath.Join(tsdb, "chunks_head", "000001"), 200)
	block := filepath.Join(tsdb, "01ARZ3NDEKTSV4RRFFQ69G5FAV")
	writeFile(t, filepath.Join(block, "chunks", "000001"), blockChunkBytes)
	writeFile(t, filepath.Join(block, "index"), 0)
	meta := `{"ulid":"01ARZ3NDEKTSV4RRFFQ69G5FAV","minTime":0,"maxTime":7200000,"stats":{"numSamples":1000,"numSeries":10,"numChunks":10},"compaction":{"level":1},"version":1}`
	require.NoError(t, os.WriteFile(filepath.Join(block, "meta.json"), []byte(meta), 0o644))
	writeFile(t, filepath.Join(block, "index"), 2000-len(meta)-blockChunkBytes)
}

func TestScanDisk(t *testing.T) {
	root := t.TempDir()
	fakeTSDB(t, root, 1500)
	d, err := ScanDisk(root)
	require.NoError(t, err)
	require.Equal(t, filepath.Join(root, "metrics"), d.TSDBDir)
	require.Equal(t, int64(3100), d.WALBytes)
	require.Equal(t, int64(200), d.HeadChunkBytes)
	require.Len(t, d.Blocks, 1)
	require.Equal(t, int64(2000), d.BlockBytes)
	require.Equal(t, int64(1000), d.BlockSamples)
	require.Equal(t, int64(3100+200+2000), d.TSDBBytes)
	require.Equal(t, int64(5000+3100+200+2000), d.DataDirBytes)

	_, err = ScanDisk(t.TempDir())
	require.Error(t, err)
}

func fakeServer(t *testing.T, name string, samplesPerSec, cpu float64, rss int64, p50 float64) string {
	t.Helper()
	dir := filepath.Join(t.TempDir(), name)
	data := filepath.Join(dir, "data")
	fakeTSDB(t, data, 1000)
	writeJSON(t, filepath.Join(dir, "server.json"), Process{Name: name, PeakRSSBytes: rss, SettleCPUSeconds: 1, DataDir: data})
	writeJSON(t, filepath.Join(dir, "rwload.json"), rwload.Summary{
		SamplesSent: 2_000_000, SamplesPerSecond: samplesPerSec, ServerCPUSeconds: &cpu, StoppedBy: "complete",
	})
	writeJSON(t, filepath.Join(dir, "querybench.json"), querybench.Summary{
		Overall: querybench.Stats{P50: p50, P99: 2 * p50},
		Queries: []querybench.Result{{Name: "q", Type: "range", Stats: querybench.Stats{P50: p50, P99: 2 * p50}, Series: 3}},
	})
	return dir
}

func TestReport(t *testing.T) {
	l, err := LoadServer("lookout", fakeServer(t, "lookout", 300_000, 8, 200<<20, 5))
	require.NoError(t, err)
	p, err := LoadServer("prometheus", fakeServer(t, "prometheus", 200_000, 10, 400<<20, 10))
	require.NoError(t, err)
	require.Empty(t, l.Issues)
	require.InDelta(t, 4.0, l.Derived.CPUPerMillionIngest, 1e-9)
	require.InDelta(t, 4.5, l.Derived.CPUPerMillionWithSettle, 1e-9)
	require.InDelta(t, 2.0, l.Derived.BytesPerSampleBlocks, 1e-9)

	r := &Report{Date: "today", Servers: []*Server{l, p}}
	r.ComputeRatios()
	require.InDelta(t, 1.5, r.Ratios["samples_per_second"], 1e-9)
	require.InDelta(t, 0.8, r.Ratios["cpu_seconds_per_million_samples"], 1e-9)
	require.InDelta(t, 0.5, r.Ratios["peak_rss_mib"], 1e-9)
	require.InDelta(t, 1.0, r.Ratios["bytes_per_sample_blocks"], 1e-9)
	require.InDelta(t, 0.5, r.Ratios["query_p50_ms"], 1e-9)

	var buf bytes.Buffer
	r.Markdown(&buf)
	require.Contains(t, buf.String(), "| ingest samples/s | 300000 | 200000 | 1.50 | higher |")
	require.Contains(t, buf.String(), "| q | range | 5.0 / 10.0 | 10.0 / 20.0 | 0.50 | 3 / 3 |")
}

func TestReportFlagsDoubtfulRuns(t *testing.T) {
	dir := fakeServer(t, "lookout", 1, 1, 1, 1)
	writeJSON(t, filepath.Join(dir, "rwload.json"), rwload.Summary{
		SamplesSent: 10, SamplesFailed: 5, StoppedBy: "duration", Errors: map[string]int{"400": 1},
	})
	require.NoError(t, os.Remove(filepath.Join(dir, "querybench.json")))
	s, err := LoadServer("lookout", dir)
	require.NoError(t, err)
	require.Len(t, s.Issues, 3)

	r := &Report{Servers: []*Server{s}}
	r.ComputeRatios()
	require.Nil(t, r.Ratios)
	var buf bytes.Buffer
	r.Markdown(&buf)
	require.Contains(t, buf.String(), "| n/a |")
}
