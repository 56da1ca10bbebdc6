package app

import (
	"bytes"
	"context"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"os"
	"os/exec"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/golang/snappy"
	"github.com/prometheus/prometheus/prompb"
	"github.com/stretchr/testify/require"
)

// crashBin is the lookout binary the crash tests share: built once per
// test run, removed by TestMain.
var crashBin struct {
	once sync.Once
	dir  string
	path string
	out  []byte
	err  error
}

func TestMain(m *testing.M) {
	code := m.Run()
	if crashBin.dir != "" {
		_ = os.RemoveAll(crashBin.dir)
	}
	os.Exit(code)
}

// crashBinary builds cmd/lookout once per test run. The module root is
// found with `go env GOMOD`, so the test works from any working directory.
func crashBinary(t *testing.T) string {
	t.Helper()
	crashBin.once.Do(func() {
		var out []byte
		if out, crashBin.err = exec.Command("go", "env", "GOMOD").Output(); crashBin.err != nil {
			return
		}
		gomod := strings.TrimSpace(string(out))
		if gomod == "" || gomod == os.DevNull {
			crashBin.err = fmt.Errorf("not inside a module (GOMOD=%q)", gomod)
			return
		}
		if crashBin.dir, crashBin.err = os.MkdirTemp("", "lookout-crash-test"); crashBin.err != nil {
			return
		}
		crashBin.path = filepath.Join(crashBin.dir, "lookout")
		cmd := exec.Command("go", "build", "-o", crashBin.path, "./cmd/lookout")
		cmd.Dir = filepath.Dir(gomod)
		crashBin.out, crashBin.err = cmd.CombinedOutput()
	})
	require.NoError(t, crashBin.err, "go build ./cmd/lookout:\n%s", crashBin.out)
	return crashBin.path
}

// crashServer is a `lookout server` subprocess.
type crashServer struct {
	cmd    *exec.Cmd
	base   string
	stderr *syncBuffer
	exited chan struct{}
	err    error // valid after exited is closed
}

// crashStart starts the binary on dataDir with fresh ports and waits for
// /-/ready. The process is killed at cleanup if still running.
func crashStart(t *testing.T, bin, dataDir string) *crashServer {
	t.Helper()
	listen := freePort(t)
	s := &crashServer{base: "http://" + listen, stderr: &syncBuffer{}, exited: make(chan struct{})}
	s.cmd = exec.Command(bin, "server", "--data-dir", dataDir, "--listen", listen,
		"--otlp-grpc-listen", freePort(t), "--otlp-http-listen", freePort(t))
	s.cmd.Stdout = s.stderr
	s.cmd.Stderr = s.stderr
	require.NoError(t, s.cmd.Start())
	go func() {
		s.err = s.cmd.Wait()
		close(s.exited)
	}()
	t.Cleanup(func() {
		_ = s.cmd.Process.Kill()
		<-s.exited
		if t.Failed() {
			t.Logf("lookout log:\n%s", s.stderr)
		}
	})

	deadline := time.After(2 * time.Minute)
	tick := time.NewTicker(20 * time.Millisecond)
	defer tick.Stop()
	for {
		resp, err := http.Get(s.base + "/-/ready")
		if err == nil {
			_, _ = io.Copy(io.Discard, resp.Body)
			_ = resp.Body.Close()
			if resp.StatusCode == http.StatusOK {
				return s
			}
		}
		select {
		case <-s.exited:
			t.Fatalf("lookout exited before it was ready (%v):\n%s", s.err, s.stderr)
		case <-deadline:
			t.Fatalf("lookout not ready after 2m:\n%s", s.stderr)
		case <-tick.C:
		}
	}
}

// kill sends SIGKILL and waits for the process to be gone.
func (s *crashServer) kill(t *testing.T) {
	t.Helper()
	require.NoError(t, s.cmd.Process.Kill())
	<-s.exited
}

// crashMatrix is the result of a range-vector instant query.
type crashMatrix []struct {
	Metric map[string]string `json:"metric"`
	Values [][2]any          `json:"values"`
}

func (s *crashServer) queryMatrix(t *testing.T, q string, at time.Time) crashMatrix {
	t.Helper()
	v := url.Values{"query": {q}, "time": {strconv.FormatFloat(float64(at.UnixMilli())/1000, 'f', 3, 64)}}
	resp, err := http.Get(s.base + "/api/v1/query?" + v.Encode())
	require.NoError(t, err)
	defer resp.Body.Close()
	body, err := io.ReadAll(resp.Body)
	require.NoError(t, err)
	require.Equal(t, http.StatusOK, resp.StatusCode, string(body))
	var r struct {
		Data struct {
			ResultType string      `json:"resultType"`
			Result     crashMatrix `json:"result"`
		} `json:"data"`
	}
	require.NoError(t, json.Unmarshal(body, &r))
	require.Equal(t, "matrix", r.Data.ResultType)
	return r.Data.Result
}

// crashSegments lists the WAL segment files of a TSDB directory, oldest first.
func crashSegments(t *testing.T, walDir string) []string {
	t.Helper()
	entries, err := os.ReadDir(walDir)
	require.NoError(t, err)
	var segs []string
	for _, e := range entries {
		if _, err := strconv.Atoi(e.Name()); err == nil && e.Type().IsRegular() {
			segs = append(segs, filepath.Join(walDir, e.Name())) // zero-padded: sorted by name is sorted by number
		}
	}
	return segs
}

func TestKill9KeepsAcknowledgedSamples(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the lookout binary")
	}
	bin := crashBinary(t)
	dataDir := t.TempDir()
	srv := crashStart(t, bin, dataDir)

	const batches, seriesPerBatch = 20, 5
	base := time.Now().Add(-time.Duration(batches) * time.Second).Truncate(time.Second)
	// want[series][timestamp in ms] = value, for every acknowledged sample.
	want := map[string]map[int64]float64{}
	for b := range batches {
		ts := base.Add(time.Duration(b) * time.Second).UnixMilli()
		req := &prompb.WriteRequest{}
		for s := range seriesPerBatch {
			series := strconv.Itoa(s)
			v := float64(b*100 + s)
			req.Timeseries = append(req.Timeseries, prompb.TimeSeries{
				Labels:  []prompb.Label{{Name: "__name__", Value: "crash_sample"}, {Name: "series", Value: series}},
				Samples: []prompb.Sample{{Value: v, Timestamp: ts}},
			})
			if want[series] == nil {
				want[series] = map[int64]float64{}
			}
			want[series][ts] = v
		}
		raw, err := req.Marshal()
		require.NoError(t, err)
		hreq, err := http.NewRequestWithContext(context.Background(), http.MethodPost, srv.base+"/api/v1/write", bytes.NewReader(snappy.Encode(nil, raw)))
		require.NoError(t, err)
		hreq.Header.Set("Content-Type", "application/x-protobuf")
		hreq.Header.Set("Content-Encoding", "snappy")
		hreq.Header.Set("X-Prometheus-Remote-Write-Version", "0.1.0")
		resp, err := http.DefaultClient.Do(hreq)
		require.NoError(t, err)
		body, _ := io.ReadAll(resp.Body)
		_ = resp.Body.Close()
		require.Equal(t, 2, resp.StatusCode/100, "batch %d: %s", b, body)
	}

	srv.kill(t)

	// A crash in the middle of a write leaves a partial record at the end
	// of the newest segment: simulate it with bytes that are not a record.
	segs := crashSegments(t, filepath.Join(dataDir, "metrics", "wal"))
	require.NotEmpty(t, segs, "no WAL segments after acknowledged writes")
	last := segs[len(segs)-1]
	info, err := os.Stat(last)
	require.NoError(t, err)
	require.Positive(t, info.Size(), "acknowledged samples did not reach the WAL file %s", last)
	f, err := os.OpenFile(last, os.O_WRONLY|os.O_APPEND, 0)
	require.NoError(t, err)
	_, err = f.Write([]byte("torn write: \x03\xff\x7f garbage at the tail"))
	require.NoError(t, err)
	require.NoError(t, f.Close())

	srv = crashStart(t, bin, dataDir)
	var repairs []string
	for _, line := range strings.Split(srv.stderr.String(), "\n") {
		if strings.Contains(strings.ToLower(line), "repair") {
			repairs = append(repairs, line)
		}
	}
	require.NotEmpty(t, repairs, "startup log does not mention the WAL repair:\n%s", srv.stderr)
	t.Logf("startup log:\n%s", strings.Join(repairs, "\n"))

	end := base.Add(time.Duration(batches) * time.Second)
	got := srv.queryMatrix(t, fmt.Sprintf("crash_sample[%ds]", batches+60), end)
	require.Len(t, got, seriesPerBatch)
	for _, s := range got {
		series := s.Metric["series"]
		gotSamples := map[int64]float64{}
		for _, p := range s.Values {
			at, ok := p[0].(float64)
			require.True(t, ok)
			vs, ok := p[1].(string)
			require.True(t, ok)
			v, err := strconv.ParseFloat(vs, 64)
			require.NoError(t, err)
			gotSamples[int64(at*1000+0.5)] = v
		}
		require.Equal(t, want[series], gotSamples, "series %s", series)
	}
}

func TestCorruptDataDirFailsClearly(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the lookout binary")
	}
	bin := crashBinary(t)
	for _, tc := range []struct {
		name string
		// setup returns the --data-dir value and the path stderr must name.
		setup func(t *testing.T) (dataDir, named string)
	}{
		{"data dir is a regular file", func(t *testing.T) (string, string) {
			p := filepath.Join(t.TempDir(), "data")
			require.NoError(t, os.WriteFile(p, []byte("not a directory"), 0o644))
			return p, p
		}},
		{"data dir under a regular file", func(t *testing.T) (string, string) {
			file := filepath.Join(t.TempDir(), "file")
			require.NoError(t, os.WriteFile(file, nil, 0o644))
			p := filepath.Join(file, "data")
			return p, p
		}},
		{"metrics dir is a regular file", func(t *testing.T) (string, string) {
			p := t.TempDir()
			require.NoError(t, os.WriteFile(filepath.Join(p, "metrics"), nil, 0o644))
			return p, filepath.Join(p, "metrics")
		}},
		{"wal is a regular file", func(t *testing.T) (string, string) {
			p := t.TempDir()
			require.NoError(t, os.MkdirAll(filepath.Join(p, "metrics"), 0o755))
			require.NoError(t, os.WriteFile(filepath.Join(p, "metrics", "wal"), nil, 0o644))
			return p, filepath.Join(p, "metrics")
		}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			dataDir, named := tc.setup(t)
			ctx, cancel := context.WithTimeout(context.Background(), 2*time.Minute)
			defer cancel()
			cmd := exec.CommandContext(ctx, bin, "server", "--data-dir", dataDir,
				"--listen", "127.0.0.1:0", "--otlp-grpc-listen", "127.0.0.1:0", "--otlp-http-listen", "127.0.0.1:0")
			var stderr bytes.Buffer
			cmd.Stderr = &stderr
			err := cmd.Run()
			require.NoError(t, ctx.Err(), "lookout did not exit:\n%s", stderr.String())
			var exitErr *exec.ExitError
			require.ErrorAs(t, err, &exitErr, "lookout should fail:\n%s", stderr.String())
			require.NotZero(t, exitErr.ExitCode())
			require.Contains(t, stderr.String(), named)
			t.Logf("stderr: %s", stderr.String())
		})
	}
}

func TestKill9KeepsAcknowledgedLogs(t *testing.T) {
	if testing.Short() {
		t.Skip("builds and runs the lookout binary")
	}
	bin := crashBinary(t)
	dataDir := t.TempDir()
	srv := crashStart(t, bin, dataDir)

	// Writers push batches as fast as they are acknowledged; the server is
	// killed while they are still sending. Every acknowledged line must be
	// there after the restart.
	start := time.Now().Add(-time.Minute)
	var mu sync.Mutex
	acked := map[string]bool{}
	stop := make(chan struct{})
	var wg sync.WaitGroup
	for w := range 2 {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for b := 0; ; b++ {
				select {
				case <-stop:
					return
				default:
				}
				var vals []string
				var lines []string
				for i := range 50 {
					line := fmt.Sprintf("writer %d batch %d line %d", w, b, i)
					ts := start.Add(time.Duration(b*50+i) * time.Microsecond).UnixNano()
					vals = append(vals, fmt.Sprintf(`["%d",%q]`, ts, line))
					lines = append(lines, line)
				}
				body := fmt.Sprintf(`{"streams":[{"stream":{"app":"crash","writer":"%d"},"values":[%s]}]}`, w, strings.Join(vals, ","))
				resp, err := http.Post(srv.base+"/loki/api/v1/push", "application/json", strings.NewReader(body))
				if err != nil {
					return // the server is gone
				}
				_, _ = io.Copy(io.Discard, resp.Body)
				_ = resp.Body.Close()
				if resp.StatusCode == http.StatusNoContent {
					mu.Lock()
					for _, l := range lines {
						acked[l] = true
					}
					mu.Unlock()
				}
			}
		}()
	}
	require.Eventually(t, func() bool {
		mu.Lock()
		defer mu.Unlock()
		return len(acked) >= 2000
	}, 2*time.Minute, 10*time.Millisecond, "writers made no progress")
	srv.kill(t)
	close(stop)
	wg.Wait()

	srv = crashStart(t, bin, dataDir)
	got := map[string]bool{}
	for w := range 2 {
		v := url.Values{"query": {fmt.Sprintf(`{app="crash", writer="%d"}`, w)}, "start": {strconv.FormatInt(start.Add(-time.Minute).UnixNano(), 10)},
			"direction": {"forward"}, "limit": {"5000"}}
		// Page forward until no more lines come back.
		for {
			resp, err := http.Get(srv.base + "/loki/api/v1/query_range?" + v.Encode())
			require.NoError(t, err)
			body, _ := io.ReadAll(resp.Body)
			_ = resp.Body.Close()
			require.Equal(t, 200, resp.StatusCode, "%s", body)
			var r struct {
				Data struct {
					Result []struct {
						Values [][2]string `json:"values"`
					} `json:"result"`
				} `json:"data"`
			}
			require.NoError(t, json.Unmarshal(body, &r))
			n := 0
			var last int64
			for _, s := range r.Data.Result {
				for _, e := range s.Values {
					got[e[1]] = true
					ts, err := strconv.ParseInt(e[0], 10, 64)
					require.NoError(t, err)
					last = max(last, ts)
					n++
				}
			}
			if n < 5000 {
				break
			}
			v.Set("start", strconv.FormatInt(last+1, 10))
		}
	}
	mu.Lock()
	defer mu.Unlock()
	var missing []string
	for l := range acked {
		if !got[l] {
			missing = append(missing, l)
		}
	}
	require.Empty(t, missing, "%d of %d acknowledged lines lost after kill -9", len(missing), len(acked))
	t.Logf("%d acknowledged lines, all present after kill -9 (%d stored in total)", len(acked), len(got))
}
