// Package selfobs sets up the server's own logging and request tracing:
// JSON logs through slog and an X-Request-ID on every request.
package selfobs

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"io"
	"log/slog"
	"net/http"
	"strconv"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// NewLogger returns a JSON logger at the given level (debug, info, warn, error).
func NewLogger(w io.Writer, level string) *slog.Logger {
	var l slog.Level
	if err := l.UnmarshalText([]byte(level)); err != nil {
		l = slog.LevelInfo
	}
	return slog.New(slog.NewJSONHandler(w, &slog.HandlerOptions{Level: l}))
}

// RequestIDHeader carries the request ID in both directions.
const RequestIDHeader = "X-Request-ID"

type ctxKey struct{}

// Logger returns the request-scoped logger stored by Middleware, or fallback.
func Logger(ctx context.Context, fallback *slog.Logger) *slog.Logger {
	if l, ok := ctx.Value(ctxKey{}).(*slog.Logger); ok {
		return l
	}
	return fallback
}

// HTTPMetrics counts requests by handler, method and code.
type HTTPMetrics struct {
	duration *prometheus.HistogramVec
}

// NewHTTPMetrics registers lookout_http_request_duration_seconds on reg.
func NewHTTPMetrics(reg prometheus.Registerer) *HTTPMetrics {
	m := &HTTPMetrics{duration: prometheus.NewHistogramVec(prometheus.HistogramOpts{
		Name:                        "lookout_http_request_duration_seconds",
		Help:                        "Latency of HTTP requests served by Lookout.",
		Buckets:                     prometheus.DefBuckets,
		NativeHistogramBucketFactor: 1.1,
	}, []string{"handler", "method", "code"})}
	if reg != nil {
		reg.MustRegister(m.duration)
	}
	return m
}

// validID accepts incoming IDs that are safe to echo and log.
func validID(id string) bool {
	if id == "" || len(id) > 128 {
		return false
	}
	for _, c := range id {
		if c < 0x21 || c > 0x7e {
			return false
		}
	}
	return true
}

func newID() string {
	var b [8]byte
	_, _ = rand.Read(b[:]) // crypto/rand.Read never fails on Linux.
	return hex.EncodeToString(b[:])
}

// Middleware gives each request an ID (honouring a valid incoming
// X-Request-ID), echoes it in the response, stores a logger carrying it in
// the context, records the request's latency, and logs failed requests.
// handler names the route for the metric; it must be low-cardinality.
func Middleware(next http.Handler, logger *slog.Logger, m *HTTPMetrics, handler func(*http.Request) string) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		id := r.Header.Get(RequestIDHeader)
		if !validID(id) {
			id = newID()
		}
		w.Header().Set(RequestIDHeader, id)
		l := logger.With("request_id", id)
		ctx := context.WithValue(r.Context(), ctxKey{}, l)
		sw := &statusWriter{ResponseWriter: w, status: http.StatusOK}
		start := time.Now()
		next.ServeHTTP(sw, r.WithContext(ctx))
		took := time.Since(start)
		if m != nil {
			m.duration.WithLabelValues(handler(r), r.Method, strconv.Itoa(sw.status)).Observe(took.Seconds())
		}
		level := slog.LevelDebug
		if sw.status >= 500 {
			level = slog.LevelWarn
		} else if sw.status >= 400 {
			level = slog.LevelInfo
		}
		l.Log(ctx, level, "http request", "method", r.Method, "path", r.URL.Path, "status", sw.status,
			"duration_ms", took.Milliseconds(), "remote", r.RemoteAddr)
	})
}

type statusWriter struct {
	http.ResponseWriter
	status  int
	written bool
}

func (w *statusWriter) WriteHeader(code int) {
	if !w.written {
		w.status, w.written = code, true
	}
	w.ResponseWriter.WriteHeader(code)
}

func (w *statusWriter) Write(p []byte) (int, error) {
	w.written = true
	return w.ResponseWriter.Write(p)
}

// Flush supports streaming responses.
func (w *statusWriter) Flush() {
	if f, ok := w.ResponseWriter.(http.Flusher); ok {
		f.Flush()
	}
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *statusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }
