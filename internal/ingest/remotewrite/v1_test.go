package remotewrite

import (
	"bytes"
	"context"
	"fmt"
	"log/slog"
	"math"
	"net/http"
	"net/http/httptest"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/gogo/protobuf/proto"
	"github.com/klauspost/compress/snappy"
	remoteapi "github.com/prometheus/client_golang/exp/api/remote"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/prompb"
	"github.com/prometheus/prometheus/storage"
	"github.com/prometheus/prometheus/storage/remote"
	"github.com/prometheus/prometheus/tsdb"
	"github.com/prometheus/prometheus/tsdb/chunkenc"
	"github.com/prometheus/prometheus/tsdb/tsdbutil"
	"github.com/stretchr/testify/require"
	"google.golang.org/protobuf/encoding/protowire"
)

// now is the clock of every handler under test, so that the future-sample
// limit is the same for both.
var now = time.Date(2026, 11, 22, 12, 0, 0, 0, time.UTC)

func nowMs(d time.Duration) int64 { return now.Add(d).UnixMilli() }

// stack is a TSDB behind Prometheus' handler, optionally behind the fast
// path; next counts the requests that reached Prometheus' handler.
type stack struct {
	db      *tsdb.DB
	handler http.Handler
	next    int
}

func newStack(t *testing.T, fast bool) *stack {
	t.Helper()
	opts := tsdb.DefaultOptions()
	opts.EnableExemplarStorage = true
	opts.MaxExemplars = 100
	db, err := tsdb.Open(t.TempDir(), nil, nil, opts, nil)
	require.NoError(t, err)
	t.Cleanup(func() { require.NoError(t, db.Close()) })
	s := &stack{db: db}
	prom := remote.NewWriteHandler(slog.New(slog.DiscardHandler), prometheus.NewRegistry(), db,
		remoteapi.MessageTypes{remoteapi.WriteV1MessageType, remoteapi.WriteV2MessageType}, false, false, false)
	counted := http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		s.next++
		prom.ServeHTTP(w, r)
	})
	s.handler = counted
	if fast {
		s.handler = New(db, counted, Options{Now: func() time.Time { return now }})
	}
	return s
}

type response struct {
	Status int
	Body   string
	Header http.Header
}

func (s *stack) do(t *testing.T, body []byte, header map[string]string) response {
	t.Helper()
	req := httptest.NewRequest(http.MethodPost, "/api/v1/write", bytes.NewReader(body))
	req.Header.Set("Content-Encoding", "snappy")
	req.Header.Set("Content-Type", "application/x-protobuf")
	for k, v := range header {
		req.Header.Set(k, v)
	}
	rec := httptest.NewRecorder()
	s.handler.ServeHTTP(rec, req)
	h := rec.Header().Clone()
	h.Del("Date")
	return response{rec.Code, rec.Body.String(), h}
}

// dump lists every series and sample the TSDB holds.
func dump(t *testing.T, db *tsdb.DB) []string {
	t.Helper()
	q, err := db.Querier(math.MinInt64, math.MaxInt64)
	require.NoError(t, err)
	defer q.Close()
	var out []string
	ss := q.Select(context.Background(), true, nil, labels.MustNewMatcher(labels.MatchRegexp, "__name__", ".*"))
	for ss.Next() {
		it := ss.At().Iterator(nil)
		for vt := it.Next(); vt != chunkenc.ValNone; vt = it.Next() {
			switch vt {
			case chunkenc.ValFloat:
				ts, v := it.At()
				out = append(out, fmt.Sprintf("%s %d %g", ss.At().Labels(), ts, v))
			default:
				ts, h := it.AtHistogram(nil)
				out = append(out, fmt.Sprintf("%s %d %s", ss.At().Labels(), ts, h))
			}
		}
	}
	require.NoError(t, ss.Err())
	return out
}

func encode(t testing.TB, wr *prompb.WriteRequest) []byte {
	t.Helper()
	b, err := proto.Marshal(wr)
	require.NoError(t, err)
	return snappy.Encode(nil, b)
}

func series(name string, extra ...string) []prompb.Label {
	ls := []prompb.Label{{Name: "__name__", Value: name}}
	for i := 0; i+1 < len(extra); i += 2 {
		ls = append(ls, prompb.Label{Name: extra[i], Value: extra[i+1]})
	}
	return ls
}

func floats(ts ...int64) []prompb.Sample {
	var out []prompb.Sample
	for i, t := range ts {
		out = append(out, prompb.Sample{Timestamp: t, Value: float64(i) + 0.5})
	}
	return out
}

// samplesFirst encodes a WriteRequest with one series whose sample field
// comes before its label field, which protobuf allows and generated
// encoders never write.
func samplesFirst(t int64, name string) []byte {
	var smp, lbl, ts, wr []byte
	smp = protowire.AppendTag(smp, 1, protowire.Fixed64Type)
	smp = protowire.AppendFixed64(smp, math.Float64bits(2.5))
	smp = protowire.AppendTag(smp, 2, protowire.VarintType)
	smp = protowire.AppendVarint(smp, uint64(t))
	lbl = protowire.AppendTag(lbl, 1, protowire.BytesType)
	lbl = protowire.AppendString(lbl, "__name__")
	lbl = protowire.AppendTag(lbl, 2, protowire.BytesType)
	lbl = protowire.AppendString(lbl, name)
	ts = protowire.AppendTag(ts, 2, protowire.BytesType)
	ts = protowire.AppendBytes(ts, smp)
	ts = protowire.AppendTag(ts, 1, protowire.BytesType)
	ts = protowire.AppendBytes(ts, lbl)
	wr = protowire.AppendTag(wr, 1, protowire.BytesType)
	return protowire.AppendBytes(wr, ts)
}

// TestMatchesPrometheus sends the same requests, in order, to Prometheus'
// handler alone and to the fast path in front of it, and checks that the
// answers and the stored data agree, and which requests the fast path took
// itself.
func TestMatchesPrometheus(t *testing.T) {
	t0 := nowMs(-time.Hour)
	valid := &prompb.WriteRequest{Timeseries: []prompb.TimeSeries{
		{Labels: series("up", "job", "a", "instance", "x:1"), Samples: floats(t0, t0+15000, t0+30000)},
		// Labels out of order are sorted, as Prometheus does.
		{Labels: []prompb.Label{{Name: "zone", Value: "eu"}, {Name: "__name__", Value: "http_requests_total"}, {Name: "code", Value: "200"}}, Samples: floats(t0)},
		{Labels: series("empty_samples")},
	}, Metadata: []prompb.MetricMetadata{{Type: prompb.MetricMetadata_COUNTER, MetricFamilyName: "http_requests_total", Help: "h"}}}
	withHistogram := &prompb.WriteRequest{Timeseries: []prompb.TimeSeries{
		{Labels: series("up", "job", "b"), Samples: floats(t0)},
		{Labels: series("latency", "job", "b"), Histograms: []prompb.Histogram{prompb.FromIntHistogram(t0, tsdbutil.GenerateTestHistogram(3))}},
	}}
	withExemplar := &prompb.WriteRequest{Timeseries: []prompb.TimeSeries{{
		Labels: series("requests", "job", "c"), Samples: floats(t0),
		Exemplars: []prompb.Exemplar{{Labels: []prompb.Label{{Name: "trace_id", Value: "abc"}}, Value: 1, Timestamp: t0}},
	}}}
	cases := []struct {
		name   string
		body   []byte
		header map[string]string
		fast   bool // taken by the fast path, not replayed
	}{
		{name: "valid", body: encode(t, valid), fast: true},
		{name: "same again (out of order)", body: encode(t, valid)},
		{name: "newer samples", body: encode(t, &prompb.WriteRequest{Timeseries: []prompb.TimeSeries{{Labels: series("up", "job", "a", "instance", "x:1"), Samples: floats(t0 + 60000)}}}), fast: true},
		{name: "content type naming 1.0", body: encode(t, &prompb.WriteRequest{Timeseries: []prompb.TimeSeries{{Labels: series("ct"), Samples: floats(t0)}}}),
			header: map[string]string{"Content-Type": "application/x-protobuf;proto=prometheus.WriteRequest"}, fast: true},
		{name: "empty request", body: encode(t, &prompb.WriteRequest{}), fast: true},
		{name: "samples before labels", body: snappy.Encode(nil, samplesFirst(t0, "reordered")), fast: true},
		{name: "histogram", body: encode(t, withHistogram)},
		{name: "exemplar", body: encode(t, withExemplar)},
		{name: "out of order", body: encode(t, &prompb.WriteRequest{Timeseries: []prompb.TimeSeries{
			{Labels: series("ooo_first"), Samples: floats(t0)},
			{Labels: series("up", "job", "a", "instance", "x:1"), Samples: floats(t0 - 1000)},
		}})},
		{name: "too far in the future", body: encode(t, &prompb.WriteRequest{Timeseries: []prompb.TimeSeries{{Labels: series("future"), Samples: floats(nowMs(11 * time.Minute))}}})},
		{name: "no metric name", body: encode(t, &prompb.WriteRequest{Timeseries: []prompb.TimeSeries{
			{Labels: series("kept_before"), Samples: floats(t0)},
			{Labels: []prompb.Label{{Name: "job", Value: "x"}}, Samples: floats(t0)},
		}})},
		{name: "duplicate label", body: encode(t, &prompb.WriteRequest{Timeseries: []prompb.TimeSeries{{Labels: series("dup", "a", "1", "a", "2"), Samples: floats(t0)}}})},
		{name: "invalid UTF-8", body: encode(t, &prompb.WriteRequest{Timeseries: []prompb.TimeSeries{{Labels: series("bad_utf8", "a", "\xff"), Samples: floats(t0)}}})},
		{name: "not snappy", body: []byte("definitely not snappy")},
		{name: "not protobuf", body: snappy.Encode(nil, []byte{0x0a, 0xff, 0xff, 0xff, 0xff, 0x0f})},
		{name: "unknown field", body: snappy.Encode(nil, []byte{0x28, 0x01})},
		{name: "version 2 content type", body: encode(t, valid), header: map[string]string{"Content-Type": "application/x-protobuf;proto=io.prometheus.write.v2.Request"}},
		{name: "gzip", body: encode(t, valid), header: map[string]string{"Content-Encoding": "gzip"}},
	}
	prom, fast := newStack(t, false), newStack(t, true)
	for _, tc := range cases {
		t.Run(tc.name, func(t *testing.T) {
			before := fast.next
			want := prom.do(t, tc.body, tc.header)
			got := fast.do(t, tc.body, tc.header)
			require.Equal(t, want, got)
			require.Equal(t, dump(t, prom.db), dump(t, fast.db))
			require.Equal(t, !tc.fast, fast.next > before, "replayed to Prometheus' handler")
		})
	}
	// The stores hold data, so the comparisons above compared something.
	require.Contains(t, dump(t, fast.db), fmt.Sprintf(`{__name__="http_requests_total", code="200", zone="eu"} %d 0.5`, t0))
	require.Contains(t, dump(t, fast.db), fmt.Sprintf(`{__name__="reordered"} %d 2.5`, t0))
}

// TestLabelsOwnStorage checks that the series the TSDB keeps do not point
// into the pooled request buffers: a later request overwrites those.
func TestLabelsOwnStorage(t *testing.T) {
	s := newStack(t, true)
	t0 := nowMs(-time.Hour)
	for i := range 50 {
		wr := &prompb.WriteRequest{}
		for j := range 20 {
			wr.Timeseries = append(wr.Timeseries, prompb.TimeSeries{
				Labels:  series(fmt.Sprintf("metric_%02d", j), "request", fmt.Sprintf("r%03d", i), "pad", strings.Repeat("x", i+1)),
				Samples: floats(t0 + int64(i)),
			})
		}
		require.Equal(t, http.StatusNoContent, s.do(t, encode(t, wr), nil).Status)
	}
	require.Zero(t, s.next)
	got := dump(t, s.db)
	require.Len(t, got, 50*20)
	for i := range 50 {
		line := fmt.Sprintf(`{__name__="metric_07", pad="%s", request="r%03d"} %d 0.5`, strings.Repeat("x", i+1), i, t0+int64(i))
		require.True(t, slices.Contains(got, line), "missing %s", line)
	}
}

// recorder is an Appender that records what it is given.
type recorder struct {
	storage.Appender // nil: the fast path calls only the methods below
	got              []string
	committed        bool
}

func (r *recorder) Append(ref storage.SeriesRef, ls labels.Labels, t int64, v float64) (storage.SeriesRef, error) {
	r.got = append(r.got, fmt.Sprintf("%s %d %v", ls, t, math.Float64bits(v)))
	return ref + 1, nil
}
func (r *recorder) Commit() error   { r.committed = true; return nil }
func (r *recorder) Rollback() error { return nil }

type recordingAppendable struct{ app *recorder }

func (a *recordingAppendable) Appender(context.Context) storage.Appender { return a.app }

// FuzzDecode checks that whatever the fast path accepts, the generated
// protobuf code decodes to the same series and samples, which Prometheus'
// handler would then append.
func FuzzDecode(f *testing.F) {
	t0 := nowMs(-time.Hour)
	for _, wr := range []*prompb.WriteRequest{
		{Timeseries: []prompb.TimeSeries{{Labels: series("up", "job", "a"), Samples: floats(t0, t0+1)}}},
		{Timeseries: []prompb.TimeSeries{{Labels: series("a"), Samples: []prompb.Sample{{Value: math.NaN(), Timestamp: -5}}}}, Metadata: []prompb.MetricMetadata{{Help: "x"}}},
		{Timeseries: []prompb.TimeSeries{{Labels: series("e"), Exemplars: []prompb.Exemplar{{Value: 1}}}}},
	} {
		b, err := proto.Marshal(wr)
		require.NoError(f, err)
		f.Add(b)
	}
	f.Add(samplesFirst(t0, "reordered"))
	f.Fuzz(func(t *testing.T, msg []byte) {
		rec := &recorder{}
		h := New(&recordingAppendable{rec}, http.NotFoundHandler(), Options{Now: func() time.Time { return now }})
		err := h.write(context.Background(), msg)
		if err != nil {
			require.ErrorIs(t, err, errFallback)
			return
		}
		require.True(t, rec.committed)
		var wr prompb.WriteRequest
		require.NoError(t, proto.Unmarshal(msg, &wr), "the fast path accepted what Prometheus cannot decode")
		var want []string
		b := labels.NewScratchBuilder(0)
		for _, ts := range wr.Timeseries {
			require.Empty(t, ts.Exemplars)
			require.Empty(t, ts.Histograms)
			ls := ts.ToLabels(&b, nil)
			for _, s := range ts.Samples {
				want = append(want, fmt.Sprintf("%s %d %v", ls, s.Timestamp, math.Float64bits(s.Value)))
			}
		}
		require.Equal(t, want, rec.got)
	})
}
