package app

import (
	"bytes"
	"compress/gzip"
	"math"
	"net/http"
	"testing"
	"time"

	"github.com/golang/snappy"
	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/prompb"
	writev2 "github.com/prometheus/prometheus/prompb/io/prometheus/write/v2"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"
)

// fzMaxInput caps fuzz inputs: larger bodies only slow the fuzzer down and
// the body limit is covered by TestIngestBadInput.
const fzMaxInput = 1 << 20

const (
	fzRW1Type = "application/x-protobuf"
	fzRW2Type = "application/x-protobuf;proto=io.prometheus.write.v2.Request"
)

// fzClient has a timeout, so that an input that makes the server hang or
// spin fails and is saved, instead of stalling the fuzz run unnoticed. A
// request of at most 1 MiB has no business taking longer.
var fzClient = &http.Client{Timeout: 15 * time.Second}

// fzPost sends body to url and returns the status, the headers and the
// response body. A transport error (the server crashed or dropped the
// connection) fails the input.
func fzPost(t testing.TB, url string, body []byte, hdr map[string]string) (int, http.Header, []byte) {
	t.Helper()
	return send(t, fzClient, http.MethodPost, url, bytes.NewReader(body), hdr)
}

// fzCheck asserts that the server judged the input as a client error or
// accepted it, and that it is still alive.
func fzCheck(t *testing.T, ta *testApp, status int, body []byte) {
	t.Helper()
	require.Less(t, status, 500, "server error on fuzzed input: %s", body)
	ok := status/100 == 2 || status == http.StatusBadRequest ||
		status == http.StatusRequestEntityTooLarge || status == http.StatusUnsupportedMediaType
	require.True(t, ok, "unexpected status %d: %s", status, body)
	code, _, _ := ta.do(t, http.MethodGet, "/-/healthy", nil, nil)
	require.Equal(t, http.StatusOK, code, "server unhealthy after fuzzed input")
}

// fzNow is the timestamp of seed samples: recent enough for the head.
func fzNow() int64 { return time.Now().UnixMilli() }

// fzHistogram is a small valid integer native histogram.
func fzHistogram() *histogram.Histogram {
	return &histogram.Histogram{
		Schema:          1,
		Count:           5,
		Sum:             12.5,
		ZeroThreshold:   0.001,
		ZeroCount:       1,
		PositiveSpans:   []histogram.Span{{Offset: 0, Length: 2}},
		PositiveBuckets: []int64{2, 0}, // deltas: 2, 2
	}
}

// fzRW1Seeds returns protobuf-encoded (not compressed) v1 write requests.
func fzRW1Seeds(tb testing.TB) [][]byte {
	tb.Helper()
	ts := fzNow()
	lbl := func(kv ...string) []prompb.Label {
		var out []prompb.Label
		for i := 0; i+1 < len(kv); i += 2 {
			out = append(out, prompb.Label{Name: kv[i], Value: kv[i+1]})
		}
		return out
	}
	reqs := []*prompb.WriteRequest{
		{Timeseries: []prompb.TimeSeries{{
			Labels:  lbl("__name__", "fz_up", "job", "fuzz"),
			Samples: []prompb.Sample{{Value: 1, Timestamp: ts}},
		}}},
		{Timeseries: []prompb.TimeSeries{
			{
				Labels:    lbl("__name__", "fz_requests_total", "code", "200"),
				Samples:   []prompb.Sample{{Value: 10, Timestamp: ts - 1000}, {Value: 12, Timestamp: ts}},
				Exemplars: []prompb.Exemplar{{Labels: lbl("trace_id", "abc"), Value: 1, Timestamp: ts}},
			},
			{
				Labels:     lbl("__name__", "fz_latency_seconds"),
				Histograms: []prompb.Histogram{prompb.FromIntHistogram(ts, fzHistogram())},
			},
			{
				Labels:  lbl("__name__", "fz_special", "le", "+Inf"),
				Samples: []prompb.Sample{{Value: math.NaN(), Timestamp: ts}, {Value: math.Inf(-1), Timestamp: ts + 1}},
			},
		}},
		// Invalid but well-formed: no metric name, duplicate labels, a
		// sample far in the future and one far in the past.
		{Timeseries: []prompb.TimeSeries{
			{Labels: lbl("job", "x"), Samples: []prompb.Sample{{Value: 1, Timestamp: ts}}},
			{Labels: lbl("__name__", "fz_dup", "a", "1", "a", "2"), Samples: []prompb.Sample{{Value: 1, Timestamp: ts}}},
			{Labels: lbl("__name__", "fz_future"), Samples: []prompb.Sample{{Value: 1, Timestamp: ts + int64(24*time.Hour/time.Millisecond)}}},
			{Labels: lbl("__name__", "fz_past"), Samples: []prompb.Sample{{Value: 1, Timestamp: 1}}},
		}},
		// An invalid histogram: spans and buckets disagree.
		{Timeseries: []prompb.TimeSeries{{
			Labels: lbl("__name__", "fz_bad_histogram"),
			Histograms: []prompb.Histogram{{
				Count: &prompb.Histogram_CountInt{CountInt: 3}, Schema: 0, Timestamp: ts,
				PositiveSpans: []prompb.BucketSpan{{Offset: 0, Length: 3}}, PositiveDeltas: []int64{1},
			}},
		}}},
		{Metadata: []prompb.MetricMetadata{{Type: prompb.MetricMetadata_COUNTER, MetricFamilyName: "fz_requests_total", Help: "h"}}},
		{},
	}
	out := make([][]byte, 0, len(reqs))
	for _, r := range reqs {
		b, err := r.Marshal()
		require.NoError(tb, err)
		out = append(out, b)
	}
	return out
}

// fzRW2Seeds returns protobuf-encoded (not compressed) v2 write requests.
func fzRW2Seeds(tb testing.TB) [][]byte {
	tb.Helper()
	ts := fzNow()
	st := writev2.NewSymbolTable()
	refs := func(kv ...string) []uint32 {
		out := make([]uint32, 0, len(kv))
		for _, s := range kv {
			out = append(out, st.Symbolize(s))
		}
		return out
	}
	good := []writev2.TimeSeries{
		{
			LabelsRefs: refs("__name__", "fz2_up", "job", "fuzz"),
			Samples:    []writev2.Sample{{Value: 1, Timestamp: ts}},
			Metadata:   writev2.Metadata{Type: writev2.Metadata_METRIC_TYPE_GAUGE, HelpRef: st.Symbolize("help text")},
		},
		{
			LabelsRefs: refs("__name__", "fz2_requests_total"),
			Samples:    []writev2.Sample{{Value: 3, Timestamp: ts, StartTimestamp: ts - 60_000}},
			Exemplars:  []writev2.Exemplar{{LabelsRefs: refs("trace_id", "t1"), Value: 1, Timestamp: ts}},
			Metadata:   writev2.Metadata{Type: writev2.Metadata_METRIC_TYPE_COUNTER, UnitRef: st.Symbolize("requests")},
		},
		{
			LabelsRefs: refs("__name__", "fz2_latency_seconds"),
			Histograms: []writev2.Histogram{writev2.FromIntHistogram(0, ts, fzHistogram())},
			Metadata:   writev2.Metadata{Type: writev2.Metadata_METRIC_TYPE_HISTOGRAM},
		},
	}
	symbols := st.Symbols()
	reqs := []*writev2.Request{
		{Symbols: symbols, Timeseries: good},
		// Label references outside the symbol table.
		{Symbols: symbols, Timeseries: []writev2.TimeSeries{{LabelsRefs: []uint32{0, 9999}, Samples: []writev2.Sample{{Value: 1, Timestamp: ts}}}}},
		// An odd number of label references.
		{Symbols: symbols, Timeseries: []writev2.TimeSeries{{LabelsRefs: []uint32{1}, Samples: []writev2.Sample{{Value: 1, Timestamp: ts}}}}},
		// A series without samples, and a symbol table not starting with "".
		{Symbols: []string{"__name__", "x"}, Timeseries: []writev2.TimeSeries{{LabelsRefs: []uint32{0, 1}}}},
		// An invalid histogram and a sample far in the past.
		{Symbols: symbols, Timeseries: []writev2.TimeSeries{
			{LabelsRefs: good[2].LabelsRefs, Histograms: []writev2.Histogram{{
				Count: &writev2.Histogram_CountInt{CountInt: 1}, Timestamp: ts,
				PositiveSpans: []writev2.BucketSpan{{Offset: -5, Length: 2}}, PositiveDeltas: []int64{1},
			}}},
			{LabelsRefs: good[0].LabelsRefs, Samples: []writev2.Sample{{Value: 1, Timestamp: 1}}},
		}},
		{},
	}
	out := make([][]byte, 0, len(reqs))
	for _, r := range reqs {
		b, err := r.Marshal()
		require.NoError(tb, err)
		out = append(out, b)
	}
	return out
}

// fzOTLPMetrics returns a batch with one metric of each OTLP type.
func fzOTLPMetrics() pmetric.Metrics {
	now := pcommon.NewTimestampFromTime(time.Now())
	start := pcommon.NewTimestampFromTime(time.Now().Add(-time.Minute))
	md := pmetric.NewMetrics()
	rm := md.ResourceMetrics().AppendEmpty()
	rm.Resource().Attributes().PutStr("service.name", "fuzz")
	rm.Resource().Attributes().PutStr("service.instance.id", "i-1")
	sm := rm.ScopeMetrics().AppendEmpty()
	sm.Scope().SetName("fuzz")

	g := sm.Metrics().AppendEmpty()
	g.SetName("fz.gauge")
	g.SetUnit("By")
	dp := g.SetEmptyGauge().DataPoints().AppendEmpty()
	dp.SetTimestamp(now)
	dp.SetDoubleValue(1.5)
	dp.Attributes().PutStr("host", "a")

	s := sm.Metrics().AppendEmpty()
	s.SetName("fz.requests")
	sum := s.SetEmptySum()
	sum.SetIsMonotonic(true)
	sum.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
	sdp := sum.DataPoints().AppendEmpty()
	sdp.SetStartTimestamp(start)
	sdp.SetTimestamp(now)
	sdp.SetIntValue(42)
	ex := sdp.Exemplars().AppendEmpty()
	ex.SetTimestamp(now)
	ex.SetDoubleValue(1)
	ex.SetTraceID(pcommon.TraceID{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16})

	h := sm.Metrics().AppendEmpty()
	h.SetName("fz.latency")
	h.SetUnit("s")
	hist := h.SetEmptyHistogram()
	hist.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
	hdp := hist.DataPoints().AppendEmpty()
	hdp.SetStartTimestamp(start)
	hdp.SetTimestamp(now)
	hdp.SetCount(6)
	hdp.SetSum(3.5)
	hdp.ExplicitBounds().FromRaw([]float64{0.1, 1})
	hdp.BucketCounts().FromRaw([]uint64{1, 2, 3})

	e := sm.Metrics().AppendEmpty()
	e.SetName("fz.exp_latency")
	eh := e.SetEmptyExponentialHistogram()
	eh.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
	edp := eh.DataPoints().AppendEmpty()
	edp.SetStartTimestamp(start)
	edp.SetTimestamp(now)
	edp.SetScale(2)
	edp.SetCount(4)
	edp.SetSum(9)
	edp.SetZeroCount(1)
	edp.Positive().SetOffset(1)
	edp.Positive().BucketCounts().FromRaw([]uint64{1, 2})

	su := sm.Metrics().AppendEmpty()
	su.SetName("fz.summary")
	sdps := su.SetEmptySummary().DataPoints().AppendEmpty()
	sdps.SetStartTimestamp(start)
	sdps.SetTimestamp(now)
	sdps.SetCount(3)
	sdps.SetSum(6)
	q := sdps.QuantileValues().AppendEmpty()
	q.SetQuantile(0.5)
	q.SetValue(2)

	return md
}

// fzOTLPEdgeCases returns batches that each hold one metric the
// translator has to refuse or drop.
func fzOTLPEdgeCases() []pmetric.Metrics {
	now := pcommon.NewTimestampFromTime(time.Now())
	one := func(fill func(m pmetric.Metric)) pmetric.Metrics {
		md := pmetric.NewMetrics()
		fill(md.ResourceMetrics().AppendEmpty().ScopeMetrics().AppendEmpty().Metrics().AppendEmpty())
		return md
	}
	return []pmetric.Metrics{
		one(func(m pmetric.Metric) { // delta sum: delta conversion is off
			m.SetName("fz.delta")
			s := m.SetEmptySum()
			s.SetAggregationTemporality(pmetric.AggregationTemporalityDelta)
			dp := s.DataPoints().AppendEmpty()
			dp.SetTimestamp(now)
			dp.SetIntValue(1)
		}),
		one(func(m pmetric.Metric) { // unspecified temporality
			m.SetName("fz.unspecified")
			m.SetEmptySum().DataPoints().AppendEmpty().SetTimestamp(now)
		}),
		one(func(m pmetric.Metric) { // no name
			m.SetEmptyGauge().DataPoints().AppendEmpty().SetTimestamp(now)
		}),
		one(func(m pmetric.Metric) { // no data points
			m.SetName("fz.empty")
			m.SetEmptyGauge()
		}),
		one(func(m pmetric.Metric) { // no type
			m.SetName("fz.untyped")
		}),
		one(func(m pmetric.Metric) { // bucket counts do not match the bounds
			m.SetName("fz.bad_histogram")
			h := m.SetEmptyHistogram()
			h.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
			dp := h.DataPoints().AppendEmpty()
			dp.SetTimestamp(now)
			dp.SetCount(1)
			dp.ExplicitBounds().FromRaw([]float64{1, 2, 3})
			dp.BucketCounts().FromRaw([]uint64{1})
		}),
		one(func(m pmetric.Metric) { // exponential histogram with an absurd scale
			m.SetName("fz.bad_exp_histogram")
			h := m.SetEmptyExponentialHistogram()
			h.SetAggregationTemporality(pmetric.AggregationTemporalityCumulative)
			dp := h.DataPoints().AppendEmpty()
			dp.SetTimestamp(now)
			dp.SetScale(100)
			dp.SetCount(1)
			dp.Positive().BucketCounts().FromRaw([]uint64{1})
		}),
		one(func(m pmetric.Metric) { // a sample far in the past
			m.SetName("fz.ancient")
			m.SetEmptyGauge().DataPoints().AppendEmpty().SetTimestamp(1)
		}),
	}
}

// fzVariants returns the valid inputs plus truncated and garbage variants.
func fzVariants(valid ...[]byte) [][]byte {
	out := append([][]byte(nil), valid...)
	for _, v := range valid {
		if len(v) > 1 {
			out = append(out, v[:len(v)/2], v[:len(v)-1])
		}
	}
	return append(out,
		nil,
		[]byte("not a protobuf"),
		[]byte{0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0xff, 0x01},
		[]byte{0x0a, 0xff, 0xff, 0xff, 0x0f}, // field 1, length 32 MiB, no data
		bytes.Repeat([]byte{0x0a, 0x00}, 512),
	)
}

// fzGzip compresses b.
func fzGzip(tb testing.TB, b []byte) []byte {
	tb.Helper()
	var buf bytes.Buffer
	zw := gzip.NewWriter(&buf)
	_, err := zw.Write(b)
	require.NoError(tb, err)
	require.NoError(tb, zw.Close())
	return buf.Bytes()
}

// fzRemoteWrite fuzzes /api/v1/write with one message type. With
// compress set the input is snappy-encoded first, which reaches the
// protobuf decoder; without it the raw bytes exercise snappy decoding.
func fzRemoteWrite(f *testing.F, contentType string, seeds [][]byte) {
	for _, s := range fzVariants(seeds...) {
		f.Add(s, true)
		f.Add(snappy.Encode(nil, s), false)
	}
	if len(seeds) > 0 {
		enc := snappy.Encode(nil, seeds[0])
		f.Add(enc[:len(enc)-2], false) // torn snappy block
		f.Add(enc, true)               // compressed twice
	}
	ta := startApp(f, nil)
	f.Fuzz(func(t *testing.T, data []byte, compress bool) {
		if len(data) > fzMaxInput {
			t.Skip("input over 1 MiB")
		}
		body := data
		if compress {
			body = snappy.Encode(nil, data)
		}
		code, _, resp := fzPost(t, ta.base+"/api/v1/write", body, map[string]string{
			"Content-Type":                      contentType,
			"Content-Encoding":                  "snappy",
			"X-Prometheus-Remote-Write-Version": "2.0.0",
		})
		fzCheck(t, ta, code, resp)
	})
}

func FuzzRemoteWriteV1(f *testing.F) {
	fzRemoteWrite(f, fzRW1Type, fzRW1Seeds(f))
}

func FuzzRemoteWriteV2(f *testing.F) {
	// A v1 message is also a plausible v2 body: the field numbers overlap.
	fzRemoteWrite(f, fzRW2Type, append(fzRW2Seeds(f), fzRW1Seeds(f)[1]))
}

// fzOTLP fuzzes an OTLP metrics endpoint. With gz set the input is sent
// gzip-compressed, as OTLP exporters do by default.
func fzOTLP(f *testing.F, url func(*testApp) string, contentType string, seeds [][]byte) {
	for _, s := range fzVariants(seeds...) {
		f.Add(s, false)
		f.Add(s, true)
	}
	ta := startApp(f, nil)
	target := url(ta)
	f.Fuzz(func(t *testing.T, data []byte, gz bool) {
		if len(data) > fzMaxInput {
			t.Skip("input over 1 MiB")
		}
		hdr := map[string]string{"Content-Type": contentType}
		body := data
		if gz {
			body = fzGzip(t, data)
			hdr["Content-Encoding"] = "gzip"
		}
		code, _, resp := fzPost(t, target, body, hdr)
		fzCheck(t, ta, code, resp)
	})
}

// fzOTLPSeeds encodes the valid batch, the edge cases and an empty request.
func fzOTLPSeeds(tb testing.TB, marshal func(pmetricotlp.ExportRequest) ([]byte, error)) [][]byte {
	tb.Helper()
	batches := append([]pmetric.Metrics{fzOTLPMetrics(), pmetric.NewMetrics()}, fzOTLPEdgeCases()...)
	out := make([][]byte, 0, len(batches))
	for _, md := range batches {
		b, err := marshal(pmetricotlp.NewExportRequestFromMetrics(md))
		require.NoError(tb, err)
		out = append(out, b)
	}
	return out
}

func FuzzOTLPProto(f *testing.F) {
	seeds := fzOTLPSeeds(f, pmetricotlp.ExportRequest.MarshalProto)
	// The main port's route, behind the same guard as remote write.
	fzOTLP(f, func(ta *testApp) string { return ta.base + "/api/v1/otlp/v1/metrics" },
		"application/x-protobuf", seeds)
}

func FuzzOTLPJSON(f *testing.F) {
	seeds := append(fzOTLPSeeds(f, pmetricotlp.ExportRequest.MarshalJSON),
		[]byte(`{}`),
		[]byte(`{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"name":"fz_json","gauge":{"dataPoints":[{"asInt":"7","timeUnixNano":"1"}]}}]}]}]}`),
		[]byte(`{"resourceMetrics":[{"scopeMetrics":[{"metrics":[{"name":"fz_json","sum":{"aggregationTemporality":99,"dataPoints":[{"asDouble":"NaN"}]}}]}]}]}`),
		[]byte(`{"resourceMetrics":null}`),
		[]byte(`[1,2,3]`),
	)
	// The dedicated OTLP/HTTP port, which rewrites the path to the same handler.
	fzOTLP(f, func(ta *testApp) string { return "http://" + ta.OTLPHTTPAddr() + "/v1/metrics" },
		"application/json", seeds)
}
