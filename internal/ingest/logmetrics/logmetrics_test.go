package logmetrics

import (
	"bytes"
	"compress/gzip"
	"errors"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/golang/snappy"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/lookout-dev/lookout/internal/event"
)

func TestClean(t *testing.T) {
	tests := []struct {
		in   string
		max  int
		want string
		cut  bool
	}{
		{in: "short", max: 100, want: "short"},
		{in: "exactly20bytes......", max: 20, want: "exactly20bytes......"},
		{in: strings.Repeat("a", 30), max: 20, want: "aaaaaa" + TruncatedSuffix, cut: true},
		{in: strings.Repeat("é", 20), max: 20, want: "ééé" + TruncatedSuffix, cut: true},
		{in: "日本語のテキスト", max: 16, want: "" + TruncatedSuffix, cut: true},
		{in: "bad \xff\xfe byte", max: 0, want: "bad \uFFFD byte"},
		{in: strings.Repeat("x", 10), max: 3, want: TruncatedSuffix, cut: true},
	}
	for _, tc := range tests {
		t.Run(fmt.Sprintf("%.10s/%d", tc.in, tc.max), func(t *testing.T) {
			got, cut := Clean(tc.in, tc.max)
			require.Equal(t, tc.want, got)
			require.Equal(t, tc.cut, cut)
			if tc.max >= len(TruncatedSuffix) {
				require.LessOrEqual(t, len(got), tc.max)
			}
		})
	}
}

func TestLevel(t *testing.T) {
	tests := map[string]string{
		"":            event.LevelUnknown,
		"chatty":      event.LevelUnknown,
		"TRACE":       event.LevelTrace,
		"debug":       event.LevelDebug,
		"Information": event.LevelInfo,
		"notice":      event.LevelInfo,
		"WARNING":     event.LevelWarn,
		"err":         event.LevelError,
		" Error ":     event.LevelError,
		"fatal":       event.LevelCritical,
		"emerg":       event.LevelCritical,
		"3":           event.LevelError,
		"30":          event.LevelInfo,
		"60":          event.LevelCritical,
	}
	for in, want := range tests {
		require.Equal(t, want, Level(in), in)
	}
}

func TestNewSharesRegistry(t *testing.T) {
	reg := prometheus.NewRegistry()
	a, b := New(reg), New(reg)
	a.Accept("loki", []event.Record{{Body: "abc"}})
	b.Accept("loki", []event.Record{{Body: "de"}, {Body: "f"}})
	b.Reject("loki", ReasonMalformed, 2)
	a.Line("loki", strings.Repeat("x", 100), 20)
	require.Equal(t, 3.0, testutil.ToFloat64(a.lines.WithLabelValues("loki")))
	require.Equal(t, 6.0, testutil.ToFloat64(b.bytes.WithLabelValues("loki")))
	require.Equal(t, 2.0, testutil.ToFloat64(a.rejected.WithLabelValues("loki", ReasonMalformed)))
	require.Equal(t, 1.0, testutil.ToFloat64(b.truncated.WithLabelValues("loki")))

	var nilMetrics *Metrics // counts nothing, does not crash
	nilMetrics.Accept("x", []event.Record{{Body: "a"}})
	nilMetrics.Reject("x", "y", 1)
	nilMetrics.Truncated("x")
	require.Equal(t, "ab"+TruncatedSuffix, nilMetrics.Line("x", "abcdefghijklmnopqrstuvwxyz", 16))
}

func TestStatus(t *testing.T) {
	code, reason := Status(fmt.Errorf("append: %w", ErrOverloaded))
	require.Equal(t, http.StatusTooManyRequests, code)
	require.Equal(t, ReasonOverloaded, reason)
	code, reason = Status(errors.New("disk"))
	require.Equal(t, http.StatusServiceUnavailable, code)
	require.Equal(t, ReasonUnavailable, reason)
}

func TestReadBody(t *testing.T) {
	gz := func(b []byte) []byte {
		var buf bytes.Buffer
		zw := gzip.NewWriter(&buf)
		_, _ = zw.Write(b)
		_ = zw.Close()
		return buf.Bytes()
	}
	payload := []byte("hello body")
	tests := []struct {
		name     string
		body     []byte
		encoding string
		max      int64
		want     []byte
		status   int
	}{
		{name: "identity", body: payload, max: 100, want: payload},
		{name: "gzip", body: gz(payload), encoding: "gzip", max: 100, want: payload},
		{name: "x-gzip", body: gz(payload), encoding: "X-Gzip", max: 100, want: payload},
		{name: "snappy", body: snappy.Encode(nil, payload), encoding: "snappy", max: 100, want: payload},
		{name: "exactly the limit", body: payload, max: int64(len(payload)), want: payload},
		{name: "over the limit", body: payload, max: 5, status: 413},
		{name: "gzip bomb", body: gz(bytes.Repeat([]byte("a"), 1000)), encoding: "gzip", max: 100, status: 413},
		{name: "snappy bomb", body: snappy.Encode(nil, bytes.Repeat([]byte("a"), 1000)), encoding: "snappy", max: 100, status: 413},
		{name: "corrupt gzip", body: payload, encoding: "gzip", max: 100, status: 400},
		{name: "truncated gzip", body: gz(payload)[:15], encoding: "gzip", max: 100, status: 400},
		{name: "corrupt snappy", body: []byte{0xff, 0xff, 0xff}, encoding: "snappy", max: 100, status: 400},
		{name: "unknown encoding", body: payload, encoding: "br", max: 100, status: 415},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			r := httptest.NewRequest(http.MethodPost, "/", bytes.NewReader(tc.body))
			if tc.encoding != "" {
				r.Header.Set("Content-Encoding", tc.encoding)
			}
			got, err := ReadBody(r, tc.max)
			if tc.status != 0 {
				require.Error(t, err)
				status, _ := BodyStatus(err)
				require.Equal(t, tc.status, status, err.Error())
				return
			}
			require.NoError(t, err)
			require.Equal(t, tc.want, got)
		})
	}
}
