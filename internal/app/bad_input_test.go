package app

import (
	"bytes"
	"io"
	"maps"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/alecthomas/units"
	"github.com/golang/snappy"
	"github.com/prometheus/prometheus/prompb"
	writev2 "github.com/prometheus/prometheus/prompb/io/prometheus/write/v2"
	"github.com/stretchr/testify/require"
	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/pmetric"
	"go.opentelemetry.io/collector/pdata/pmetric/pmetricotlp"

	"github.com/lookout-dev/lookout/internal/config"
)

const (
	biRW1Type = "application/x-protobuf"
	biRW2Type = "application/x-protobuf;proto=io.prometheus.write.v2.Request"
)

// biSeries is one float series of a test write.
type biSeries struct {
	labels  map[string]string // must include __name__
	samples []prompb.Sample
}

// biRW1 encodes series as a snappy-compressed remote-write 1.0 request.
func biRW1(t testing.TB, series ...biSeries) []byte {
	t.Helper()
	req := &prompb.WriteRequest{}
	for _, s := range series {
		ts := prompb.TimeSeries{Samples: s.samples}
		for _, name := range biSortedKeys(s.labels) {
			ts.Labels = append(ts.Labels, prompb.Label{Name: name, Value: s.labels[name]})
		}
		req.Timeseries = append(req.Timeseries, ts)
	}
	b, err := req.Marshal()
	require.NoError(t, err)
	return snappy.Encode(nil, b)
}

// biRW2 encodes series as a snappy-compressed remote-write 2.0 request.
func biRW2(t testing.TB, series ...biSeries) []byte {
	t.Helper()
	st := writev2.NewSymbolTable()
	req := &writev2.Request{}
	for _, s := range series {
		ts := writev2.TimeSeries{Metadata: writev2.Metadata{Type: writev2.Metadata_METRIC_TYPE_GAUGE}}
		for _, name := range biSortedKeys(s.labels) {
			ts.LabelsRefs = append(ts.LabelsRefs, st.Symbolize(name), st.Symbolize(s.labels[name]))
		}
		for _, smp := range s.samples {
			ts.Samples = append(ts.Samples, writev2.Sample{Value: smp.Value, Timestamp: smp.Timestamp})
		}
		req.Timeseries = append(req.Timeseries, ts)
	}
	req.Symbols = st.Symbols()
	b, err := req.Marshal()
	require.NoError(t, err)
	return snappy.Encode(nil, b)
}

// biSortedKeys returns the label names in order: labels are sorted by name
// on the wire.
func biSortedKeys(m map[string]string) []string { return slices.Sorted(maps.Keys(m)) }

// biOTLPGauge encodes one gauge point as an OTLP protobuf request.
func biOTLPGauge(t testing.TB, name string, v float64, at time.Time) []byte {
	t.Helper()
	md := pmetric.NewMetrics()
	m := md.ResourceMetrics().AppendEmpty().ScopeMetrics().AppendEmpty().Metrics().AppendEmpty()
	m.SetName(name)
	dp := m.SetEmptyGauge().DataPoints().AppendEmpty()
	dp.SetTimestamp(pcommon.NewTimestampFromTime(at))
	dp.SetDoubleValue(v)
	b, err := pmetricotlp.NewExportRequestFromMetrics(md).MarshalProto()
	require.NoError(t, err)
	return b
}

// biHiddenLength hides the length of its reader from net/http, so that the
// request is sent chunked without Content-Length.
type biHiddenLength struct{ r io.Reader }

func (h biHiddenLength) Read(p []byte) (int, error) { return h.r.Read(p) }

// biPost sends a POST to url and returns status, headers and body.
func biPost(t testing.TB, client *http.Client, url string, body io.Reader, hdr map[string]string) (int, http.Header, string) {
	t.Helper()
	code, h, b := send(t, client, http.MethodPost, url, body, hdr)
	return code, h, string(b)
}

// biRejected reads lookout_ingest_rejected_total{protocol,reason}.
func biRejected(t testing.TB, a *App, protocol, reason string) float64 {
	t.Helper()
	return counterValue(t, a, "lookout_ingest_rejected_total", map[string]string{"protocol": protocol, "reason": reason})
}

// biValue queries q at now and returns the value of its only sample.
func biValue(t testing.TB, ta *testApp, q string) float64 {
	t.Helper()
	vec := ta.query(t, q, time.Time{})
	require.Len(t, vec, 1, "query %s", q)
	s, ok := vec[0].Value[1].(string)
	require.True(t, ok, "query %s: value %v", q, vec[0].Value)
	v, err := strconv.ParseFloat(s, 64)
	require.NoError(t, err)
	return v
}

func TestIngestBadInput(t *testing.T) {
	const limit = 4 * units.KiB
	ta := startApp(t, func(c *config.Config) { c.Ingest.MaxBodyBytes = limit })
	mainURL := ta.base
	otlpURL := "http://" + ta.OTLPHTTPAddr()
	now := time.Now().UnixMilli()

	// Data written before the bad requests must survive them.
	before := biSeries{labels: map[string]string{"__name__": "bi_before"}, samples: []prompb.Sample{{Value: 7, Timestamp: now}}}
	code, _, body := ta.do(t, http.MethodPost, "/api/v1/write", bytes.NewReader(biRW1(t, before)),
		map[string]string{"Content-Type": biRW1Type, "Content-Encoding": "snappy"})
	require.Equal(t, http.StatusNoContent, code, body)

	valid := biRW1(t, biSeries{labels: map[string]string{"__name__": "bi_unused"}, samples: []prompb.Sample{{Value: 1, Timestamp: now}}})
	// An incompressible body larger than the limit, valid snappy framing or not.
	big := make([]byte, 2*limit)
	for i := range big {
		big[i] = byte(i*7919 + i>>8)
	}
	rw := func(ct string) map[string]string {
		return map[string]string{"Content-Type": ct, "Content-Encoding": "snappy"}
	}

	for i, tc := range []struct {
		name     string
		url      string
		body     func() io.Reader
		hdr      map[string]string
		status   int
		contains string // in the response body, case-insensitive
		protocol string
		reason   string
	}{
		{
			name: "rw1 malformed protobuf", url: mainURL + "/api/v1/write",
			// Field 1 (timeseries) sent as a varint.
			body:   func() io.Reader { return bytes.NewReader(snappy.Encode(nil, []byte{0x08, 0x01})) },
			hdr:    rw(biRW1Type),
			status: http.StatusBadRequest, contains: "wireType", protocol: "remote_write", reason: "malformed",
		},
		{
			name: "rw1 truncated protobuf", url: mainURL + "/api/v1/write",
			body: func() io.Reader {
				b, err := snappy.Decode(nil, valid)
				require.NoError(t, err)
				return bytes.NewReader(snappy.Encode(nil, b[:len(b)-3]))
			},
			hdr:    rw(biRW1Type),
			status: http.StatusBadRequest, contains: "unexpected EOF", protocol: "remote_write", reason: "malformed",
		},
		{
			name: "rw2 malformed protobuf", url: mainURL + "/api/v1/write",
			// Field 5 (timeseries) sent as a varint.
			body:   func() io.Reader { return bytes.NewReader(snappy.Encode(nil, []byte{0x28, 0x01})) },
			hdr:    rw(biRW2Type),
			status: http.StatusBadRequest, contains: "wireType", protocol: "remote_write", reason: "malformed",
		},
		{
			name: "rw2 symbol reference out of range", url: mainURL + "/api/v1/write",
			body: func() io.Reader {
				req := &writev2.Request{Symbols: []string{"", "__name__", "x"}, Timeseries: []writev2.TimeSeries{{
					LabelsRefs: []uint32{1, 99}, Samples: []writev2.Sample{{Value: 1, Timestamp: now}},
				}}}
				b, err := req.Marshal()
				require.NoError(t, err)
				return bytes.NewReader(snappy.Encode(nil, b))
			},
			hdr:    rw(biRW2Type),
			status: http.StatusBadRequest, contains: "labels", protocol: "remote_write", reason: "invalid_labels",
		},
		{
			name: "rw bad snappy", url: mainURL + "/api/v1/write",
			body: func() io.Reader { return strings.NewReader("this is not snappy") },
			hdr:  rw(biRW1Type),
			// The decoder is klauspost/compress's, whose errors say "s2:".
			status: http.StatusBadRequest, contains: "corrupt input", protocol: "remote_write", reason: "bad_compression",
		},
		{
			name: "rw text/plain", url: mainURL + "/api/v1/write",
			body:   func() io.Reader { return bytes.NewReader(valid) },
			hdr:    rw("text/plain"),
			status: http.StatusUnsupportedMediaType, contains: "content-type", protocol: "remote_write", reason: "unsupported_media_type",
		},
		{
			name: "rw unknown proto", url: mainURL + "/api/v1/write",
			body:   func() io.Reader { return bytes.NewReader(valid) },
			hdr:    rw("application/x-protobuf;proto=unknown"),
			status: http.StatusUnsupportedMediaType, contains: "unknown", protocol: "remote_write", reason: "unsupported_media_type",
		},
		{
			name: "rw gzip encoding", url: mainURL + "/api/v1/write",
			body:   func() io.Reader { return bytes.NewReader(valid) },
			hdr:    map[string]string{"Content-Type": biRW1Type, "Content-Encoding": "gzip"},
			status: http.StatusUnsupportedMediaType, contains: "gzip", protocol: "remote_write", reason: "unsupported_media_type",
		},
		{
			name: "rw over limit with content-length", url: mainURL + "/api/v1/write",
			body:   func() io.Reader { return bytes.NewReader(big) },
			hdr:    rw(biRW1Type),
			status: http.StatusRequestEntityTooLarge, contains: "max_body_bytes", protocol: "remote_write", reason: "too_large",
		},
		{
			name: "rw over limit chunked", url: mainURL + "/api/v1/write",
			body:   func() io.Reader { return biHiddenLength{bytes.NewReader(big)} },
			hdr:    rw(biRW1Type),
			status: http.StatusRequestEntityTooLarge, contains: "max_body_bytes", protocol: "remote_write", reason: "too_large",
		},
		{
			name: "otlp json garbage", url: otlpURL + "/v1/metrics",
			body:   func() io.Reader { return strings.NewReader(`{"resourceMetrics": [{"scopeMetrics": 42`) },
			hdr:    map[string]string{"Content-Type": "application/json"},
			status: http.StatusBadRequest, contains: "scopeMetrics", protocol: "otlp_http", reason: "malformed",
		},
		{
			name: "otlp json garbage on the main port", url: mainURL + "/api/v1/otlp/v1/metrics",
			body:   func() io.Reader { return strings.NewReader(`not json at all`) },
			hdr:    map[string]string{"Content-Type": "application/json"},
			status: http.StatusBadRequest, contains: "", protocol: "otlp_http", reason: "malformed",
		},
		{
			name: "otlp protobuf garbage", url: otlpURL + "/v1/metrics",
			body:   func() io.Reader { return bytes.NewReader([]byte{0x0a, 0x05, 0x0a}) },
			hdr:    map[string]string{"Content-Type": "application/x-protobuf"},
			status: http.StatusBadRequest, contains: "", protocol: "otlp_http", reason: "malformed",
		},
		{
			name: "otlp bad gzip", url: otlpURL + "/v1/metrics",
			body:   func() io.Reader { return strings.NewReader("this is not gzip-compressed data") },
			hdr:    map[string]string{"Content-Type": "application/x-protobuf", "Content-Encoding": "gzip"},
			status: http.StatusBadRequest, contains: "gzip", protocol: "otlp_http", reason: "bad_compression",
		},
		{
			name: "otlp over limit chunked", url: otlpURL + "/v1/metrics",
			body:   func() io.Reader { return biHiddenLength{bytes.NewReader(big)} },
			hdr:    map[string]string{"Content-Type": "application/x-protobuf"},
			status: http.StatusRequestEntityTooLarge, contains: "max_body_bytes", protocol: "otlp_http", reason: "too_large",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rejected := biRejected(t, ta.App, tc.protocol, tc.reason)
			code, _, body := biPost(t, http.DefaultClient, tc.url, tc.body(), tc.hdr)
			require.Equal(t, tc.status, code, body)
			require.Contains(t, strings.ToLower(body), strings.ToLower(tc.contains))
			require.Equal(t, rejected+1, biRejected(t, ta.App, tc.protocol, tc.reason),
				"lookout_ingest_rejected_total{protocol=%q,reason=%q}", tc.protocol, tc.reason)

			// The server still takes and serves good data.
			after := biSeries{
				labels:  map[string]string{"__name__": "bi_after", "case": strconv.Itoa(i)},
				samples: []prompb.Sample{{Value: float64(i), Timestamp: time.Now().UnixMilli()}},
			}
			code, _, body = biPost(t, http.DefaultClient, mainURL+"/api/v1/write", bytes.NewReader(biRW1(t, after)), rw(biRW1Type))
			require.Equal(t, http.StatusNoContent, code, body)
			require.Equal(t, float64(i), biValue(t, ta, `bi_after{case="`+strconv.Itoa(i)+`"}`))
		})
	}
	require.Equal(t, 7.0, biValue(t, ta, "bi_before"))
}

// TestIngestBadInputTooOldSamples sends a sample far behind the head next to
// good ones. Remote write 1.0 has no partial writes: Prometheus' handler
// answers 400 and rolls the whole request back. Remote write 2.0 commits
// what it could and says how much in its response headers.
func TestIngestBadInputTooOldSamples(t *testing.T) {
	ta := startApp(t, nil)
	now := time.Now().UnixMilli()
	old := now - (24 * time.Hour).Milliseconds()
	write := func(ct string, body []byte) (int, http.Header, string) {
		t.Helper()
		return biPost(t, http.DefaultClient, ta.base+"/api/v1/write", bytes.NewReader(body),
			map[string]string{"Content-Type": ct, "Content-Encoding": "snappy"})
	}
	// Give the head a recent sample, so that a day ago is out of bounds.
	code, _, body := write(biRW1Type, biRW1(t, biSeries{
		labels: map[string]string{"__name__": "bi_head"}, samples: []prompb.Sample{{Value: 1, Timestamp: now}},
	}))
	require.Equal(t, http.StatusNoContent, code, body)

	items := func() float64 {
		return counterValue(t, ta.App, "lookout_ingest_rejected_items_total",
			map[string]string{"protocol": "remote_write", "reason": "out_of_order_or_too_old"})
	}

	t.Run("v1", func(t *testing.T) {
		rejected, refusedItems := biRejected(t, ta.App, "remote_write", "too_old"), items()
		code, _, body := write(biRW1Type, biRW1(t,
			biSeries{labels: map[string]string{"__name__": "bi_v1_good"}, samples: []prompb.Sample{{Value: 3, Timestamp: now}}},
			biSeries{labels: map[string]string{"__name__": "bi_v1_old"}, samples: []prompb.Sample{{Value: 4, Timestamp: old}}},
		))
		require.Equal(t, http.StatusBadRequest, code, body)
		require.Contains(t, body, "out of bounds")
		require.Equal(t, rejected+1, biRejected(t, ta.App, "remote_write", "too_old"))
		require.Equal(t, refusedItems+1, items(), "the refused sample is counted, not logged")
		require.Empty(t, ta.query(t, "bi_v1_good", time.Time{}), "the request was committed in part")

		// The sender drops the request (400 is not retried) and goes on.
		code, _, body = write(biRW1Type, biRW1(t, biSeries{
			labels: map[string]string{"__name__": "bi_v1_good"}, samples: []prompb.Sample{{Value: 5, Timestamp: now + 1}},
		}))
		require.Equal(t, http.StatusNoContent, code, body)
		require.Equal(t, 5.0, biValue(t, ta, "bi_v1_good"))
	})

	t.Run("v2", func(t *testing.T) {
		rejected, refusedItems := biRejected(t, ta.App, "remote_write", "too_old"), items()
		code, hdr, body := write(biRW2Type, biRW2(t,
			biSeries{labels: map[string]string{"__name__": "bi_v2_good"}, samples: []prompb.Sample{{Value: 1, Timestamp: now - 1000}, {Value: 2, Timestamp: now}}},
			biSeries{labels: map[string]string{"__name__": "bi_v2_old"}, samples: []prompb.Sample{{Value: 4, Timestamp: old}}},
		))
		require.Equal(t, http.StatusBadRequest, code, body)
		require.Contains(t, body, "out of bounds")
		require.Contains(t, body, "bi_v2_old")
		require.Equal(t, "2", hdr.Get("X-Prometheus-Remote-Write-Samples-Written"))
		require.Equal(t, rejected+1, biRejected(t, ta.App, "remote_write", "too_old"))
		require.Equal(t, refusedItems+1, items(), "the refused sample is counted, not logged")
		require.Equal(t, 2.0, biValue(t, ta, "bi_v2_good"))
		require.Equal(t, 2.0, biValue(t, ta, "count_over_time(bi_v2_good[1h])"))
		require.Empty(t, ta.query(t, "bi_v2_old", time.Unix(0, old*int64(time.Millisecond))))

		code, hdr, body = write(biRW2Type, biRW2(t,
			biSeries{labels: map[string]string{"__name__": "bi_v2_more", "a": "1"}, samples: []prompb.Sample{{Value: 1, Timestamp: now}}},
			biSeries{labels: map[string]string{"__name__": "bi_v2_more", "a": "2"}, samples: []prompb.Sample{{Value: 1, Timestamp: now}}},
			biSeries{labels: map[string]string{"__name__": "bi_v2_more", "a": "3"}, samples: []prompb.Sample{{Value: 1, Timestamp: now}}},
		))
		require.Equal(t, http.StatusNoContent, code, body)
		require.Equal(t, "3", hdr.Get("X-Prometheus-Remote-Write-Samples-Written"))
		require.Equal(t, 3.0, biValue(t, ta, "sum(bi_v2_more)"))
	})
}

// biBlockingBody blocks its first Read until released and reports that the
// read started. Sent with "Expect: 100-continue", the first Read happens
// only once the server's handler reads the body, so started means the
// request holds an admission slot.
type biBlockingBody struct {
	r       io.Reader
	started chan struct{}
	release chan struct{}
	once    sync.Once
}

func (b *biBlockingBody) Read(p []byte) (int, error) {
	b.once.Do(func() {
		close(b.started)
		<-b.release
	})
	return b.r.Read(p)
}

func TestIngestBadInputOverload(t *testing.T) {
	ta := startApp(t, func(c *config.Config) {
		c.Ingest.MaxConcurrentRequests = 1
		c.Ingest.QueueWait = 0
	})
	now := time.Now().UnixMilli()
	rwHdr := map[string]string{"Content-Type": biRW1Type, "Content-Encoding": "snappy"}
	otlpHdr := map[string]string{"Content-Type": "application/x-protobuf"}

	// Hold the only slot with a request whose body does not arrive.
	payload := biRW1(t, biSeries{labels: map[string]string{"__name__": "bi_held"}, samples: []prompb.Sample{{Value: 11, Timestamp: now}}})
	held := &biBlockingBody{r: bytes.NewReader(payload), started: make(chan struct{}), release: make(chan struct{})}
	req, err := http.NewRequest(http.MethodPost, ta.base+"/api/v1/write", held)
	require.NoError(t, err)
	req.ContentLength = int64(len(payload))
	req.Header.Set("Expect", "100-continue")
	for k, v := range rwHdr {
		req.Header.Set(k, v)
	}
	tr := &http.Transport{ExpectContinueTimeout: time.Hour}
	t.Cleanup(tr.CloseIdleConnections)
	type result struct {
		code int
		err  error
	}
	done := make(chan result, 1)
	go func() {
		resp, err := (&http.Client{Transport: tr}).Do(req)
		if err != nil {
			done <- result{err: err}
			return
		}
		_, _ = io.Copy(io.Discard, resp.Body)
		_ = resp.Body.Close()
		done <- result{code: resp.StatusCode}
	}()
	released := false
	defer func() {
		if !released {
			close(held.release)
		}
	}()
	select {
	case <-held.started:
	case r := <-done:
		t.Fatalf("held request finished early: %+v", r)
	}

	for _, tc := range []struct {
		name, url string
		body      []byte
		hdr       map[string]string
		status    int
		protocol  string
	}{
		{"remote write", ta.base + "/api/v1/write", biRW1(t), rwHdr, http.StatusServiceUnavailable, "remote_write"},
		{"otlp on the main port", ta.base + "/api/v1/otlp/v1/metrics", biOTLPGauge(t, "bi_otlp", 1, time.Now()), otlpHdr, http.StatusTooManyRequests, "otlp_http"},
		{"otlp on the otlp port", "http://" + ta.OTLPHTTPAddr() + "/v1/metrics", biOTLPGauge(t, "bi_otlp", 1, time.Now()), otlpHdr, http.StatusTooManyRequests, "otlp_http"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			rejected := biRejected(t, ta.App, tc.protocol, "overloaded")
			code, hdr, body := biPost(t, http.DefaultClient, tc.url, bytes.NewReader(tc.body), tc.hdr)
			require.Equal(t, tc.status, code, body)
			require.NotEmpty(t, hdr.Get("Retry-After"))
			secs, err := strconv.Atoi(hdr.Get("Retry-After"))
			require.NoError(t, err)
			require.Positive(t, secs)
			require.Equal(t, rejected+1, biRejected(t, ta.App, tc.protocol, "overloaded"))
		})
	}

	close(held.release)
	released = true
	r := <-done
	require.NoError(t, r.err)
	require.Equal(t, http.StatusNoContent, r.code)
	require.Equal(t, 11.0, biValue(t, ta, "bi_held"))

	// The slot is free again.
	code, _, body := biPost(t, http.DefaultClient, ta.base+"/api/v1/write", bytes.NewReader(biRW1(t, biSeries{
		labels: map[string]string{"__name__": "bi_after_overload"}, samples: []prompb.Sample{{Value: 12, Timestamp: now}},
	})), rwHdr)
	require.Equal(t, http.StatusNoContent, code, body)
	code, _, body = biPost(t, http.DefaultClient, "http://"+ta.OTLPHTTPAddr()+"/v1/metrics",
		bytes.NewReader(biOTLPGauge(t, "bi_otlp_after_overload", 13, time.Now())), otlpHdr)
	require.Equal(t, http.StatusOK, code, body)
	require.Equal(t, 12.0, biValue(t, ta, "bi_after_overload"))
	require.Equal(t, 13.0, biValue(t, ta, "bi_otlp_after_overload"))
}
