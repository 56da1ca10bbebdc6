package main

import (
	"bytes"
	"context"
	"crypto/sha256"
	"encoding/binary"
	"encoding/hex"
	"encoding/json"
	"hash/fnv"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"regexp"
	"strings"
	"sync/atomic"
	"testing"
	"time"

	"github.com/golang/snappy"
	"github.com/stretchr/testify/require"
)

func generate(t *testing.T, dir string, lines int, extra ...string) genResult {
	t.Helper()
	out := captureStdout(t, func() {
		args := append([]string{"-dir", dir, "-lines", itoa(lines), "-seed", "7", "-end", "2026-01-02T03:04:05Z"}, extra...)
		require.NoError(t, runGen(context.Background(), args))
	})
	var res genResult
	require.NoError(t, json.Unmarshal(out, &res))
	return res
}

func itoa(n int) string { return strings.TrimSpace(string(must(json.Marshal(n)))) }

func must[T any](v T, err error) T {
	if err != nil {
		panic(err)
	}
	return v
}

func captureStdout(t *testing.T, f func()) []byte {
	t.Helper()
	r, w, err := os.Pipe()
	require.NoError(t, err)
	old := os.Stdout
	os.Stdout = w
	done := make(chan []byte)
	go func() { b, _ := io.ReadAll(r); done <- b }()
	f()
	os.Stdout = old
	require.NoError(t, w.Close())
	return <-done
}

func TestGenDeterministicAndRealistic(t *testing.T) {
	for _, model := range []string{modelRequests, modelLines} {
		t.Run(model, func(t *testing.T) {
			a, b := t.TempDir(), t.TempDir()
			ra := generate(t, a, 20_000, "-model", model)
			rb := generate(t, b, 20_000, "-model", model)
			require.Equal(t, model, ra.Model)
			require.Equal(t, ra.Needle, rb.Needle)
			require.Equal(t, 14_000, ra.Files[0].Lines)
			require.Equal(t, 6_000, ra.Files[1].Lines)
			for _, name := range []string{appFile, nginxFile} {
				require.Equal(t, must(os.ReadFile(filepath.Join(a, name))), must(os.ReadFile(filepath.Join(b, name))), name)
			}

			app := must(os.ReadFile(filepath.Join(a, appFile)))
			ng := must(os.ReadFile(filepath.Join(a, nginxFile)))
			require.Equal(t, ra.NeedleLines, bytes.Count(app, []byte(ra.Needle)))
			require.Zero(t, bytes.Count(ng, []byte(ra.Needle)))
			require.Equal(t, ra.Bytes, int64(len(app)+len(ng)))

			levels := map[string]int{}
			type bound struct{ user, ip, method, path any }
			requests := map[string]bound{}
			completed := 0
			for i, line := range bytes.Split(bytes.TrimSuffix(app, []byte{'\n'}), []byte{'\n'}) {
				var m map[string]any
				require.NoError(t, json.Unmarshal(line, &m), "line %d", i+1)
				for _, k := range []string{"ts", "user_id", "ip", "method", "path", "request_id", "level", "message"} {
					require.Contains(t, m, k, "line %d", i+1)
				}
				if _, ok := m["status"]; ok || model == modelLines {
					completed++
					require.Contains(t, m, "duration_ms", "line %d", i+1)
				} else {
					require.NotContains(t, m, "duration_ms", "line %d", i+1)
				}
				id := m["request_id"].(string)
				require.Len(t, id, 32)
				// Every line of a request carries the same bound fields.
				bd := bound{m["user_id"], m["ip"], m["method"], m["path"]}
				if prev, ok := requests[id]; ok {
					require.Equal(t, prev, bd, "line %d", i+1)
				}
				requests[id] = bd
				levels[m["level"].(string)]++
				if i+1 == ra.NeedleLine {
					require.Equal(t, ra.Needle, id)
				}
			}
			require.Greater(t, levels["info"], 14_000*80/100)
			require.Positive(t, levels["debug"])
			require.Positive(t, levels["warn"])
			require.Positive(t, levels["error"])
			if model == modelLines {
				require.Equal(t, 1, ra.NeedleLines)
				require.Len(t, requests, 14_000)
			} else {
				// API requests log 2.2 lines on average, static files and probes one.
				require.Greater(t, ra.NeedleLines, 0)
				perRequest := 14_000 / float64(len(requests))
				require.Greater(t, perRequest, 1.5)
				require.Less(t, perRequest, 2.2)
				require.InDelta(t, float64(len(requests)), float64(completed), concurrentRequests)
			}

			combined := regexp.MustCompile(`^\S+ - \S+ \[\d\d/\w{3}/\d{4}:\d\d:\d\d:\d\d \+0000\] "[A-Z]+ \S+ HTTP/[12]\.[01]" \d{3} \d+ "[^"]*" "[^"]*"$`)
			for i, line := range strings.Split(strings.TrimSuffix(string(ng), "\n"), "\n") {
				require.Regexp(t, combined, line, "line %d", i+1)
			}
		})
	}
}

// TestGenLinesModelUnchanged pins the lines model's output, so that results measured on it
// before the requests model existed can be reproduced.
func TestGenLinesModelUnchanged(t *testing.T) {
	dir := t.TempDir()
	res := generate(t, dir, 1000, "-model", modelLines)
	require.Equal(t, "734c7f1a9f0c8f306a5b0fa226678c86", res.Needle)
	sum := sha256.New()
	sum.Write(must(os.ReadFile(filepath.Join(dir, appFile))))
	sum.Write(must(os.ReadFile(filepath.Join(dir, nginxFile))))
	require.Equal(t, "d5e9eb451fb80d2d48a0ec5ad289abad07b7d2a9e77e049fc42ab9c45d205775", hex.EncodeToString(sum.Sum(nil)))
}

func TestTimeParser(t *testing.T) {
	tp := timeParser{source: "json"}
	require.Equal(t, time.Date(2026, 1, 2, 3, 4, 5, 123456000, time.UTC).UnixNano(),
		tp.parse([]byte(`{"ts":"2026-01-02T03:04:05.123456Z","level":"info"}`)))
	tp = timeParser{source: "nginx"}
	want := time.Date(2026, 1, 2, 3, 4, 5, 0, time.UTC).UnixNano()
	line := []byte(`1.2.3.4 - - [02/Jan/2026:03:04:05 +0000] "GET / HTTP/1.1" 200 1 "-" "x"`)
	require.Equal(t, want, tp.parse(line))
	require.Equal(t, want+1, tp.parse(line), "the same second again: 1 ns later")
	require.Equal(t, want+2, tp.parse([]byte(`no timestamp here`)))
	require.Equal(t, want+1e9, tp.parse([]byte(`1.2.3.4 - - [02/Jan/2026:03:04:06 +0000] "GET / HTTP/1.1" 200 1 "-" "x"`)))
	require.Equal(t, want+1e9+1, tp.parse([]byte(`1.2.3.4 - - [02/Jan/2026:03:04:01 +0000] "GET / HTTP/1.1" 200 1 "-" "x"`)), "never backwards")
}

var testStreams = []stream{
	newStream([][2]string{{"app", "bench"}, {"source", "json"}}),
	newStream([][2]string{{"app", "bench"}, {"source", "nginx"}}),
}

var testEntries = []entry{
	{stream: 0, ts: 1_700_000_000_123_456_789, line: []byte(`{"msg":"a \"quoted\" \\ line"}`)},
	{stream: 1, ts: 1_700_000_001_000_000_000, line: []byte("tab\there, ünïcode, \x01 ctl")},
	{stream: 0, ts: 1_700_000_002_000_000_001, line: []byte("second json line")},
}

func TestEncodeJSON(t *testing.T) {
	var req struct {
		Streams []struct {
			Stream map[string]string `json:"stream"`
			Values [][2]string       `json:"values"`
		} `json:"streams"`
	}
	require.NoError(t, json.Unmarshal(encodeJSON(nil, testStreams, testEntries), &req))
	require.Len(t, req.Streams, 2)
	require.Equal(t, map[string]string{"app": "bench", "source": "json"}, req.Streams[0].Stream)
	require.Equal(t, [][2]string{
		{"1700000000123456789", `{"msg":"a \"quoted\" \\ line"}`},
		{"1700000002000000001", "second json line"},
	}, req.Streams[0].Values)
	require.Equal(t, [][2]string{{"1700000001000000000", "tab\there, ünïcode, \x01 ctl"}}, req.Streams[1].Values)
}

// protoFields splits a protobuf message into (field, payload) pairs; varints come back as their
// value in 8 little-endian bytes.
func protoFields(t *testing.T, b []byte) (out []struct {
	field int
	data  []byte
}) {
	for len(b) > 0 {
		tag, n := binary.Uvarint(b)
		require.Positive(t, n)
		b = b[n:]
		f := struct {
			field int
			data  []byte
		}{field: int(tag >> 3)}
		switch tag & 7 {
		case 0:
			v, n := binary.Uvarint(b)
			require.Positive(t, n)
			f.data = binary.LittleEndian.AppendUint64(nil, v)
			b = b[n:]
		case 2:
			l, n := binary.Uvarint(b)
			require.Positive(t, n)
			f.data = b[n : n+int(l)]
			b = b[n+int(l):]
		default:
			t.Fatalf("wire type %d", tag&7)
		}
		out = append(out, f)
	}
	return out
}

func TestEncodeProto(t *testing.T) {
	body, _ := encodeProto(nil, nil, testStreams, testEntries)
	msg, err := snappy.Decode(nil, body)
	require.NoError(t, err)
	type got struct {
		labels string
		ts     []int64
		lines  []string
	}
	var streams []got
	for _, s := range protoFields(t, msg) {
		require.Equal(t, 1, s.field)
		var g got
		for _, f := range protoFields(t, s.data) {
			switch f.field {
			case 1:
				g.labels = string(f.data)
			case 2:
				var sec, nsec uint64
				var line string
				for _, e := range protoFields(t, f.data) {
					if e.field == 2 {
						line = string(e.data)
						continue
					}
					for _, tf := range protoFields(t, e.data) {
						v := binary.LittleEndian.Uint64(tf.data)
						if tf.field == 1 {
							sec = v
						} else {
							nsec = v
						}
					}
				}
				g.ts = append(g.ts, int64(sec)*1e9+int64(nsec))
				g.lines = append(g.lines, line)
			}
		}
		streams = append(streams, g)
	}
	require.Equal(t, []got{
		{`{app="bench", source="json"}`, []int64{1_700_000_000_123_456_789, 1_700_000_002_000_000_001},
			[]string{`{"msg":"a \"quoted\" \\ line"}`, "second json line"}},
		{`{app="bench", source="nginx"}`, []int64{1_700_000_001_000_000_000}, []string{"tab\there, ünïcode, \x01 ctl"}},
	}, streams)
}

func TestPushRetriesAndCounts(t *testing.T) {
	dir := t.TempDir()
	gen := generate(t, dir, 5_000)
	var calls, lines atomic.Int64
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if calls.Add(1) == 2 {
			w.Header().Set("Retry-After", "0")
			http.Error(w, "slow down", http.StatusTooManyRequests)
			return
		}
		var req struct {
			Streams []struct {
				Values [][2]string `json:"values"`
			} `json:"streams"`
		}
		if err := json.NewDecoder(r.Body).Decode(&req); err != nil {
			http.Error(w, err.Error(), http.StatusBadRequest)
			return
		}
		for _, s := range req.Streams {
			lines.Add(int64(len(s.Values)))
		}
		w.WriteHeader(http.StatusNoContent)
	}))
	defer srv.Close()
	res, err := push(context.Background(), pushConfig{
		url: srv.URL, files: []string{gen.Files[0].Path, gen.Files[1].Path}, batch: 300, streams: 3, streamBy: "request",
		concurrency: 2, format: "json", timeout: 10 * time.Second, maxRetries: 3, app: "bench",
	})
	require.NoError(t, err)
	require.EqualValues(t, 5_000, res.LinesSent)
	require.EqualValues(t, 5_000, lines.Load())
	require.Zero(t, res.LinesFailed)
	require.EqualValues(t, 1, res.Retries)
	require.Equal(t, gen.Bytes, res.RawBytes)
	require.Equal(t, 6, res.Streams)
	require.Equal(t, (gen.StartNS+int64(2*time.Hour)/3_500)/1000*1000, res.FirstTSNS)
	require.Equal(t, gen.EndNS, res.LastTSNS)
}

func TestGrafanaStep(t *testing.T) {
	for rng, want := range map[time.Duration]time.Duration{
		2 * time.Hour:               5 * time.Second,
		2*time.Hour + 2*time.Minute: 5 * time.Second,
		30 * time.Minute:            2 * time.Second,
		24 * time.Hour:              time.Minute,
	} {
		got, err := pickStep("grafana", rng, 1000)
		require.NoError(t, err)
		require.Equal(t, want, got, rng)
	}
}

// Loki answers each shard of a busy stream as a stream of its own; the report counts the
// streams the push sent.
func TestSummariseMergesLokiStreamShards(t *testing.T) {
	body := []byte(`{"status":"success","data":{"resultType":"streams","result":[
		{"stream":{"__stream_shard__":"0","app":"bench","host":"web-01"},"values":[["1","a"]]},
		{"stream":{"__stream_shard__":"3","app":"bench","host":"web-01"},"values":[["2","b"],["3","c"]]},
		{"stream":{"app":"bench","host":"web-02"},"values":[["4","d"]]}]}}`)
	var res queryResult
	require.NoError(t, summarise(&res, body))
	require.Equal(t, 2, res.Series)
	require.Equal(t, 4, res.Entries)
	require.Equal(t, []string{`{app="bench", host="web-01"}`, `{app="bench", host="web-02"}`}, res.Labels)
}

func TestStreamOf(t *testing.T) {
	p := &pusher{cfg: pushConfig{streams: 4, streamBy: "request"}}
	a := []byte(`{"ts":"x","request_id":"0123abcd","user_id":"u_1"}`)
	b := []byte(`{"ts":"y","level":"debug","request_id":"0123abcd"}`)
	for i := range 8 {
		require.Equal(t, p.streamOf(a, 0), p.streamOf(a, i), "a request's lines stay on one stream")
		require.Equal(t, p.streamOf(a, 0), p.streamOf(b, i))
		require.Equal(t, i%4, p.streamOf([]byte(`1.2.3.4 - - [...] "GET / HTTP/1.1" 200 1 "-" "x"`), i))
	}
	p.cfg.streamBy = "line"
	for i := range 8 {
		require.Equal(t, i%4, p.streamOf(a, i))
	}
}

// streamOf's inline hash is FNV-1a: the same split as hash/fnv, without a hasher per line.
func TestStreamOfIsFNV1a(t *testing.T) {
	p := &pusher{cfg: pushConfig{streams: 7, streamBy: "request"}}
	for _, id := range []string{"0123abcd", "559b43d33730b327f39ef8caf34a31ac", ""} {
		h := fnv.New32a()
		h.Write([]byte(id))
		require.Equal(t, int(h.Sum32()%7), p.streamOf([]byte(`{"request_id":"`+id+`"}`), 3), id)
	}
}
