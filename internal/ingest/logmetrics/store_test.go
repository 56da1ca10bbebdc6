package logmetrics

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"testing"

	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/lookout-dev/lookout/internal/event"
	"github.com/lookout-dev/lookout/internal/pipeline"
)

func TestAnswer(t *testing.T) {
	recs := []event.Record{{Body: "abc"}, {Body: "de"}}
	tests := []struct {
		name   string
		recs   []event.Record
		err    error
		status int
		calls  int
		lines  float64
		reason string
		retry  string
		body   string
		warned bool
	}{
		{name: "stored", recs: recs, status: http.StatusNoContent, calls: 1, lines: 2},
		{name: "empty batch", status: http.StatusNoContent},
		{name: "overloaded", recs: recs, err: fmt.Errorf("append: %w", ErrOverloaded), status: http.StatusTooManyRequests,
			calls: 1, reason: ReasonOverloaded, retry: "5", body: "store logs: append: log ingest overloaded\n"},
		{name: "unavailable", recs: recs, err: errors.New("disk"), status: http.StatusServiceUnavailable,
			calls: 1, reason: ReasonUnavailable, retry: "5", body: "store logs: disk\n", warned: true},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			m := New(nil)
			calls := 0
			next := pipeline.ConsumerFunc[[]event.Record](func(context.Context, []event.Record) error {
				calls++
				return tc.err
			})
			var logged int
			logger := slog.New(countHandler{n: &logged, min: slog.LevelInfo})
			w := httptest.NewRecorder()
			m.Answer("test", logger, next, w, httptest.NewRequest(http.MethodPost, "/", nil), tc.recs)
			require.Equal(t, tc.status, w.Code)
			require.Equal(t, tc.calls, calls)
			require.Equal(t, tc.lines, testutil.ToFloat64(m.lines.WithLabelValues("test")))
			require.Equal(t, tc.retry, w.Header().Get("Retry-After"))
			require.Equal(t, tc.body, w.Body.String())
			if tc.reason != "" {
				require.Equal(t, 1.0, testutil.ToFloat64(m.rejected.WithLabelValues("test", tc.reason)))
			}
			// Overload is logged at debug, other failures at warn.
			require.Equal(t, tc.warned, logged == 1)
		})
	}
}

func TestFail(t *testing.T) {
	m := New(nil)
	w := httptest.NewRecorder()
	m.Fail(w, "test", http.StatusBadRequest, ReasonMalformed, "bad line")
	require.Equal(t, http.StatusBadRequest, w.Code)
	require.Equal(t, "bad line\n", w.Body.String())
	require.Equal(t, 1.0, testutil.ToFloat64(m.rejected.WithLabelValues("test", ReasonMalformed)))
}

// countHandler counts the records logged at min or above.
type countHandler struct {
	n   *int
	min slog.Level
}

func (h countHandler) Enabled(_ context.Context, l slog.Level) bool { return l >= h.min }
func (h countHandler) Handle(context.Context, slog.Record) error    { *h.n++; return nil }
func (h countHandler) WithAttrs([]slog.Attr) slog.Handler           { return h }
func (h countHandler) WithGroup(string) slog.Handler                { return h }
