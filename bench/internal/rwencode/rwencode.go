// Package rwencode turns a fixed batch of synthetic series into snappy-compressed Prometheus
// remote write requests (RW 1.0 prometheus.WriteRequest or RW 2.0 io.prometheus.write.v2.Request),
// one request per scrape round, reusing its buffers between rounds.
package rwencode

import (
	"fmt"

	"github.com/golang/snappy"
	"github.com/prometheus/prometheus/prompb"
	writev2 "github.com/prometheus/prometheus/prompb/io/prometheus/write/v2"

	"github.com/lookout-dev/lookout/bench/internal/seriesgen"
)

// Protocol is a remote write protocol version.
type Protocol string

// Supported protocols.
const (
	V1 Protocol = "v1"
	V2 Protocol = "v2"
)

// ParseProtocol accepts "v1"/"1.0" and "v2"/"2.0".
func ParseProtocol(s string) (Protocol, error) {
	switch s {
	case "v1", "1", "1.0":
		return V1, nil
	case "v2", "2", "2.0":
		return V2, nil
	}
	return "", fmt.Errorf("unknown remote write protocol %q: use v1 or v2", s)
}

// ContentType is the Content-Type header value of the protocol's requests.
func (p Protocol) ContentType() string {
	if p == V2 {
		return "application/x-protobuf;proto=io.prometheus.write.v2.Request"
	}
	return "application/x-protobuf"
}

// Version is the X-Prometheus-Remote-Write-Version header value.
func (p Protocol) Version() string {
	if p == V2 {
		return "2.0.0"
	}
	return "0.1.0"
}

// Encoder encodes one batch of series. It is not safe for concurrent use.
type Encoder interface {
	// Encode appends the compressed request holding every series' sample of round r, stamped
	// ts (milliseconds), to dst[:0] and returns it. The result is valid until dst is reused.
	Encode(dst []byte, r int, ts int64) ([]byte, error)
	// Samples is the number of samples in each request.
	Samples() int
}

// New returns an Encoder of batch for protocol p. The encoder keeps references to batch.
func New(p Protocol, batch []seriesgen.Series) Encoder {
	if p == V2 {
		return newV2(batch)
	}
	return newV1(batch)
}

type v1Encoder struct {
	series  []seriesgen.Series
	req     prompb.WriteRequest
	samples []prompb.Sample // one per series; req's TimeSeries point into it
	raw     []byte
}

func newV1(batch []seriesgen.Series) *v1Encoder {
	e := &v1Encoder{
		series:  batch,
		samples: make([]prompb.Sample, len(batch)),
	}
	e.req.Timeseries = make([]prompb.TimeSeries, len(batch))
	for i := range batch {
		ls := make([]prompb.Label, len(batch[i].Labels))
		for k, l := range batch[i].Labels {
			ls[k] = prompb.Label{Name: l.Name, Value: l.Value}
		}
		e.req.Timeseries[i] = prompb.TimeSeries{Labels: ls, Samples: e.samples[i : i+1 : i+1]}
	}
	return e
}

func (e *v1Encoder) Samples() int { return len(e.series) }

func (e *v1Encoder) Encode(dst []byte, r int, ts int64) ([]byte, error) {
	for i := range e.series {
		e.samples[i] = prompb.Sample{Value: e.series[i].Value(r), Timestamp: ts}
	}
	var err error
	e.raw, err = marshal(e.raw, &e.req)
	if err != nil {
		return nil, err
	}
	return snappy.Encode(dst[:cap(dst)], e.raw), nil
}

type v2Encoder struct {
	series  []seriesgen.Series
	req     writev2.Request
	samples []writev2.Sample
	raw     []byte
}

func newV2(batch []seriesgen.Series) *v2Encoder {
	e := &v2Encoder{
		series:  batch,
		samples: make([]writev2.Sample, len(batch)),
	}
	// The batch is the same every round, so its symbols table and label references are too.
	symbols := writev2.NewSymbolTable()
	refs := make([]uint32, 0, len(batch)*10)
	e.req.Timeseries = make([]writev2.TimeSeries, len(batch))
	for i := range batch {
		start := len(refs)
		for _, l := range batch[i].Labels {
			refs = append(refs, symbols.Symbolize(l.Name), symbols.Symbolize(l.Value))
		}
		e.req.Timeseries[i] = writev2.TimeSeries{
			LabelsRefs: refs[start:len(refs):len(refs)],
			Samples:    e.samples[i : i+1 : i+1],
			Metadata:   writev2.Metadata{Type: metadataType(batch[i].Kind)},
		}
	}
	e.req.Symbols = symbols.Symbols()
	return e
}

func metadataType(k seriesgen.Kind) writev2.Metadata_MetricType {
	switch k {
	case seriesgen.Counter:
		return writev2.Metadata_METRIC_TYPE_COUNTER
	case seriesgen.Gauge:
		return writev2.Metadata_METRIC_TYPE_GAUGE
	case seriesgen.Histogram:
		return writev2.Metadata_METRIC_TYPE_HISTOGRAM
	}
	return writev2.Metadata_METRIC_TYPE_UNSPECIFIED
}

func (e *v2Encoder) Samples() int { return len(e.series) }

func (e *v2Encoder) Encode(dst []byte, r int, ts int64) ([]byte, error) {
	for i := range e.series {
		e.samples[i] = writev2.Sample{Value: e.series[i].Value(r), Timestamp: ts}
	}
	// OptimizedMarshal writes the packed label references without a temporary buffer per series.
	var err error
	e.raw, err = e.req.OptimizedMarshal(e.raw[:0])
	if err != nil {
		return nil, err
	}
	return snappy.Encode(dst[:cap(dst)], e.raw), nil
}

// sizedMarshaler is what gogo-generated messages offer for marshalling into a caller's buffer.
type sizedMarshaler interface {
	Size() int
	MarshalToSizedBuffer([]byte) (int, error)
}

func marshal(buf []byte, m sizedMarshaler) ([]byte, error) {
	n := m.Size()
	if cap(buf) < n {
		buf = make([]byte, n, n+n/4)
	}
	buf = buf[:n]
	written, err := m.MarshalToSizedBuffer(buf)
	if err != nil {
		return nil, err
	}
	// MarshalToSizedBuffer fills the buffer from its end.
	return buf[n-written:], nil
}
