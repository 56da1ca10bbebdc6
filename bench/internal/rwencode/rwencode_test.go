package rwencode

import (
	"testing"

	"github.com/golang/snappy"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/prompb"
	writev2 "github.com/prometheus/prometheus/prompb/io/prometheus/write/v2"
	"github.com/stretchr/testify/require"

	"github.com/lookout-dev/lookout/bench/internal/seriesgen"
)

func testBatch(t testing.TB, n int) []seriesgen.Series {
	t.Helper()
	set, err := seriesgen.Build(seriesgen.Options{Series: n, Metrics: 40, Seed: 7})
	require.NoError(t, err)
	return set.Series
}

func wantLabels(s seriesgen.Series) labels.Labels {
	b := labels.NewScratchBuilder(len(s.Labels))
	for _, l := range s.Labels {
		b.Add(l.Name, l.Value)
	}
	return b.Labels()
}

func TestRoundTrip(t *testing.T) {
	const ts = int64(1_700_000_000_000)
	batch := testBatch(t, 500)

	for _, p := range []Protocol{V1, V2} {
		t.Run(string(p), func(t *testing.T) {
			enc := New(p, batch)
			require.Equal(t, len(batch), enc.Samples())
			var buf []byte
			// Encode several rounds through the same buffers to catch state leaking between them.
			for r := range 3 {
				var err error
				buf, err = enc.Encode(buf, r, ts+int64(r)*15_000)
				require.NoError(t, err)
				raw, err := snappy.Decode(nil, buf)
				require.NoError(t, err)

				got := decode(t, p, raw)
				require.Len(t, got, len(batch))
				for i, s := range got {
					require.Equal(t, wantLabels(batch[i]), s.labels, "series %d", i)
					require.Equal(t, ts+int64(r)*15_000, s.t)
					require.Equal(t, batch[i].Value(r), s.v)
				}
			}
		})
	}
}

type decoded struct {
	labels labels.Labels
	t      int64
	v      float64
	kind   writev2.Metadata_MetricType
}

func decode(t *testing.T, p Protocol, raw []byte) []decoded {
	t.Helper()
	var out []decoded
	b := labels.NewScratchBuilder(16)
	switch p {
	case V1:
		var req prompb.WriteRequest
		require.NoError(t, req.Unmarshal(raw))
		for _, ts := range req.Timeseries {
			require.Len(t, ts.Samples, 1)
			out = append(out, decoded{labels: ts.ToLabels(&b, nil), t: ts.Samples[0].Timestamp, v: ts.Samples[0].Value})
		}
	case V2:
		var req writev2.Request
		require.NoError(t, req.Unmarshal(raw))
		require.Equal(t, "", req.Symbols[0], "RW 2.0 symbols must start with the empty string")
		for _, ts := range req.Timeseries {
			ls, err := ts.ToLabels(&b, req.Symbols)
			require.NoError(t, err)
			require.Len(t, ts.Samples, 1)
			require.NotEqual(t, writev2.Metadata_METRIC_TYPE_UNSPECIFIED, ts.Metadata.Type)
			out = append(out, decoded{labels: ls, t: ts.Samples[0].Timestamp, v: ts.Samples[0].Value, kind: ts.Metadata.Type})
		}
	}
	return out
}

func TestV2MetadataTypes(t *testing.T) {
	batch := testBatch(t, 2000)
	buf, err := New(V2, batch).Encode(nil, 0, 1)
	require.NoError(t, err)
	raw, err := snappy.Decode(nil, buf)
	require.NoError(t, err)
	for i, d := range decode(t, V2, raw) {
		require.Equal(t, metadataType(batch[i].Kind), d.kind)
	}
}

func TestParseProtocol(t *testing.T) {
	for in, want := range map[string]Protocol{"v1": V1, "1.0": V1, "v2": V2, "2.0": V2} {
		got, err := ParseProtocol(in)
		require.NoError(t, err)
		require.Equal(t, want, got)
	}
	_, err := ParseProtocol("v3")
	require.Error(t, err)
	require.Equal(t, "application/x-protobuf;proto=io.prometheus.write.v2.Request", V2.ContentType())
	require.Equal(t, "0.1.0", V1.Version())
}

func BenchmarkEncode(b *testing.B) {
	batch := testBatch(b, 2000)
	for _, p := range []Protocol{V1, V2} {
		b.Run(string(p), func(b *testing.B) {
			enc := New(p, batch)
			var buf []byte
			r := 0
			b.ReportAllocs()
			for b.Loop() {
				var err error
				buf, err = enc.Encode(buf, r, int64(r)*15_000)
				if err != nil {
					b.Fatal(err)
				}
				r++
			}
			b.ReportMetric(float64(b.N*enc.Samples())/b.Elapsed().Seconds(), "samples/s")
			b.ReportMetric(float64(len(buf))/float64(enc.Samples()), "bytes/sample")
		})
	}
}
