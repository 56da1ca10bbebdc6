// Package admission guards ingest endpoints: it bounds request bodies and
// requests in flight, answers overload with Retry-After, and counts every
// rejected request by protocol and reason.
package admission

import (
	"bytes"
	"context"
	"errors"
	"io"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
)

// Metrics are the counters shared by every guarded endpoint.
type Metrics struct {
	Rejected *prometheus.CounterVec
	InFlight prometheus.Gauge
}

// NewMetrics registers the admission metrics on reg.
func NewMetrics(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		Rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lookout_ingest_rejected_total",
			Help: "Ingest requests or items rejected, by protocol and reason.",
		}, []string{"protocol", "reason"}),
		InFlight: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "lookout_ingest_requests_in_flight",
			Help: "Ingest requests being processed.",
		}),
	}
	if reg != nil {
		reg.MustRegister(m.Rejected, m.InFlight)
	}
	return m
}

// Limiter is a counting semaphore shared by all ingest endpoints, so that the
// memory held by request bodies is bounded by slots × max body size.
type Limiter struct {
	slots chan struct{}
	wait  time.Duration
}

// NewLimiter allows n concurrent requests; a request waits up to wait for a slot.
func NewLimiter(n int, wait time.Duration) *Limiter {
	return &Limiter{slots: make(chan struct{}, n), wait: wait}
}

// Acquire takes a slot, waiting at most the limiter's wait. It returns false
// when the server is saturated.
func (l *Limiter) Acquire(ctx context.Context) bool {
	select {
	case l.slots <- struct{}{}:
		return true
	default:
	}
	if l.wait <= 0 {
		return false
	}
	t := time.NewTimer(l.wait)
	defer t.Stop()
	select {
	case l.slots <- struct{}{}:
		return true
	case <-t.C:
		return false
	case <-ctx.Done():
		return false
	}
}

// Release frees a slot taken by Acquire.
func (l *Limiter) Release() { <-l.slots }

// Options configures one guarded endpoint.
type Options struct {
	// Protocol is the protocol label of the rejection counter, e.g. "remote_write".
	Protocol string
	// MaxBodyBytes bounds the body as sent.
	MaxBodyBytes int64
	// OverloadStatus is sent when no slot is free: 429 for OTLP, whose
	// clients retry it; 503 for remote write, which Prometheus senders retry.
	OverloadStatus int
	// RetryAfter is the delay advertised in Retry-After when overloaded.
	RetryAfter time.Duration
	Limiter    *Limiter
	Metrics    *Metrics

	_ struct{}
}

// Guard wraps next with the body limit, the concurrency limit and rejection
// accounting. A body over the limit gets 413 whatever next would have said.
func Guard(next http.Handler, o Options) http.Handler {
	retryAfter := strconv.Itoa(max(1, int(o.RetryAfter.Seconds())))
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		if r.ContentLength > o.MaxBodyBytes {
			o.Metrics.Rejected.WithLabelValues(o.Protocol, "too_large").Inc()
			http.Error(w, "request body of "+strconv.FormatInt(r.ContentLength, 10)+" bytes exceeds the limit of "+
				strconv.FormatInt(o.MaxBodyBytes, 10)+" bytes (ingest.max_body_bytes)", http.StatusRequestEntityTooLarge)
			return
		}
		if !o.Limiter.Acquire(r.Context()) {
			o.Metrics.Rejected.WithLabelValues(o.Protocol, "overloaded").Inc()
			w.Header().Set("Retry-After", retryAfter)
			http.Error(w, "too many ingest requests in flight; retry later", o.OverloadStatus)
			return
		}
		defer o.Limiter.Release()
		o.Metrics.InFlight.Inc()
		defer o.Metrics.InFlight.Dec()

		body := &limitedBody{r: r.Body, left: o.MaxBodyBytes}
		r.Body = body
		rec := &recorder{ResponseWriter: w, body: body}
		next.ServeHTTP(rec, r)
		if rec.status >= 400 && !rec.overLimit {
			o.Metrics.Rejected.WithLabelValues(o.Protocol, Reason(rec.status, rec.errText.String())).Inc()
		}
		if rec.overLimit {
			o.Metrics.Rejected.WithLabelValues(o.Protocol, "too_large").Inc()
		}
	})
}

// Reason classifies a rejection from its status and error text.
func Reason(status int, text string) string {
	t := strings.ToLower(text)
	switch {
	case status == http.StatusRequestEntityTooLarge:
		return "too_large"
	case status == http.StatusUnsupportedMediaType:
		return "unsupported_media_type"
	case status == http.StatusUnauthorized || status == http.StatusForbidden:
		return "unauthorized"
	case status == http.StatusTooManyRequests || status == http.StatusServiceUnavailable:
		return "overloaded"
	case strings.Contains(t, "out of order"):
		return "out_of_order"
	case strings.Contains(t, "too old") || strings.Contains(t, "out of bounds"):
		return "too_old"
	case strings.Contains(t, "duplicate sample"):
		return "duplicate"
	case strings.Contains(t, "snappy") || strings.Contains(t, "s2:") || strings.Contains(t, "gzip") || strings.Contains(t, "decompress"):
		return "bad_compression"
	case strings.Contains(t, "label"):
		return "invalid_labels"
	case status >= 500:
		return "internal"
	default:
		return "malformed"
	}
}

var errBodyTooLarge = errors.New("request body exceeds ingest.max_body_bytes")

// limitedBody fails reads past the limit and remembers that it did.
type limitedBody struct {
	r        io.ReadCloser
	left     int64
	exceeded bool
}

func (b *limitedBody) Read(p []byte) (int, error) {
	if b.left <= 0 {
		// Probe for one more byte: a body of exactly the limit is fine.
		var one [1]byte
		n, err := b.r.Read(one[:])
		if n > 0 {
			b.exceeded = true
			return 0, errBodyTooLarge
		}
		return 0, err
	}
	if int64(len(p)) > b.left {
		p = p[:b.left]
	}
	n, err := b.r.Read(p)
	b.left -= int64(n)
	return n, err
}

func (b *limitedBody) Close() error { return b.r.Close() }

// recorder notes the status and the start of an error body, and turns any
// response to an over-limit body into 413.
type recorder struct {
	http.ResponseWriter
	body      *limitedBody
	status    int
	overLimit bool
	errText   bytes.Buffer
}

func (rw *recorder) WriteHeader(code int) {
	if rw.status != 0 {
		return
	}
	if rw.body.exceeded {
		rw.overLimit = true
		code = http.StatusRequestEntityTooLarge
	}
	rw.status = code
	rw.ResponseWriter.WriteHeader(code)
	if rw.overLimit {
		_, _ = io.WriteString(rw.ResponseWriter, errBodyTooLarge.Error()+"\n")
	}
}

func (rw *recorder) Write(p []byte) (int, error) {
	if rw.status == 0 {
		rw.WriteHeader(http.StatusOK)
	}
	if rw.overLimit {
		return len(p), nil
	}
	if rw.status >= 400 && rw.errText.Len() < 512 {
		rw.errText.Write(p[:min(len(p), 512-rw.errText.Len())])
	}
	return rw.ResponseWriter.Write(p)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (rw *recorder) Unwrap() http.ResponseWriter { return rw.ResponseWriter }
