package main

import (
	"bytes"
	"encoding/json"
	"io"
	"os"
	"os/exec"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
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
