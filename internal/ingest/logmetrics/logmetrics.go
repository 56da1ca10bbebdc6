// Package logmetrics holds what every log receiver shares: its ingest
// counters, the limits and hygiene applied to each line, the overload
// sentinel that decides between 429 and 503, and the hand-off of a decoded
// batch to the consumer.
//
// Receivers for different wire protocols must not import each other; this
// package is the one place they meet, so that several receivers can count
// into the same metric families on one registry.
package logmetrics

import (
	"errors"
	"net/http"
	"strings"
	"time"
	"unicode/utf8"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/lookout-dev/lookout/internal/event"
	"github.com/lookout-dev/lookout/internal/selfobs"
)

// ErrOverloaded is wrapped by consumer errors that mean "the store cannot
// take more now, retry later" (for example eventstore.ErrFull). Receivers
// answer it with 429 and Retry-After; other consumer errors get 503.
var ErrOverloaded = errors.New("log ingest overloaded")

// Defaults shared by the log receivers.
const (
	DefaultMaxBodyBytes = 16 << 20
	DefaultMaxLineBytes = 256 << 10
	// RetryAfter is the delay advertised with 429 and 503 answers.
	RetryAfter = 5 * time.Second
)

// TruncatedSuffix ends a line that was cut to the line limit.
const TruncatedSuffix = "…[truncated]"

// Rejection reasons used across receivers.
const (
	ReasonTooLarge       = "too_large"
	ReasonMalformed      = "malformed"
	ReasonInvalidLabels  = "invalid_labels"
	ReasonCompression    = "bad_compression"
	ReasonMediaType      = "unsupported_media_type"
	ReasonOverloaded     = "overloaded"
	ReasonUnavailable    = "unavailable"
	ReasonQueueFull      = "queue_full"
	ReasonUnsupportedOp  = "unsupported_operation"
	ReasonTooManyClients = "too_many_connections"
)

// Metrics are the counters of every log receiver, labelled by protocol.
// A nil *Metrics counts nothing. Its methods are safe for concurrent use.
type Metrics struct {
	rejected  *prometheus.CounterVec
	lines     *prometheus.CounterVec
	bytes     *prometheus.CounterVec
	truncated *prometheus.CounterVec
}

// New creates the counters and registers them on reg (nil registers
// nothing). Calling New again with the same registry returns counters backed
// by the already registered families, so receivers that each fall back to
// New(reg) do not collide.
func New(reg prometheus.Registerer) *Metrics {
	m := &Metrics{
		rejected: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lookout_log_ingest_rejected_total",
			Help: "Log requests, lines or messages rejected, by protocol and reason.",
		}, []string{"protocol", "reason"}),
		lines: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lookout_log_ingest_lines_total",
			Help: "Log lines accepted and stored, by protocol.",
		}, []string{"protocol"}),
		bytes: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lookout_log_ingest_bytes_total",
			Help: "Bytes of log lines accepted and stored, by protocol.",
		}, []string{"protocol"}),
		truncated: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lookout_log_ingest_truncated_total",
			Help: "Log lines cut to the line limit, by protocol.",
		}, []string{"protocol"}),
	}
	if reg != nil {
		m.rejected = selfobs.Register(reg, m.rejected)
		m.lines = selfobs.Register(reg, m.lines)
		m.bytes = selfobs.Register(reg, m.bytes)
		m.truncated = selfobs.Register(reg, m.truncated)
	}
	return m
}

// Reject counts n rejected items of protocol for reason.
func (m *Metrics) Reject(protocol, reason string, n int) {
	if m == nil || n <= 0 {
		return
	}
	m.rejected.WithLabelValues(protocol, reason).Add(float64(n))
}

// Accept counts records the consumer acknowledged.
func (m *Metrics) Accept(protocol string, recs []event.Record) {
	if m == nil || len(recs) == 0 {
		return
	}
	var n int
	for i := range recs {
		n += recs[i].Size()
	}
	m.lines.WithLabelValues(protocol).Add(float64(len(recs)))
	m.bytes.WithLabelValues(protocol).Add(float64(n))
}

// Line returns s ready to be stored as a record body: invalid UTF-8 is
// replaced by U+FFFD, and a line longer than maxBytes (> 0) is cut at a rune
// boundary so that, with TruncatedSuffix appended, it fits in maxBytes.
// Truncations are counted under protocol.
func (m *Metrics) Line(protocol, s string, maxBytes int) string {
	s, cut := Clean(s, maxBytes)
	if cut && m != nil {
		m.truncated.WithLabelValues(protocol).Inc()
	}
	return s
}

// Truncated counts a line of protocol cut by the receiver itself, before
// Line saw it.
func (m *Metrics) Truncated(protocol string) {
	if m != nil {
		m.truncated.WithLabelValues(protocol).Inc()
	}
}

// Clean is Line without counting; it reports whether s was truncated.
func Clean(s string, maxBytes int) (string, bool) {
	if !utf8.ValidString(s) {
		s = strings.ToValidUTF8(s, "\uFFFD")
	}
	if maxBytes <= 0 || len(s) <= maxBytes {
		return s, false
	}
	return Truncate(s, maxBytes), true
}

// Truncate cuts valid UTF-8 s at a rune boundary and appends
// TruncatedSuffix so that the result fits in maxBytes (or is just the
// suffix when maxBytes is smaller than it). It is for lines known to be
// incomplete, such as a syslog frame cut by the reader.
func Truncate(s string, maxBytes int) string {
	keep := min(max(maxBytes-len(TruncatedSuffix), 0), len(s))
	for keep > 0 && keep < len(s) && !utf8.RuneStart(s[keep]) {
		keep--
	}
	return s[:keep] + TruncatedSuffix
}

// Status maps a consumer error to the HTTP status to answer and the reason
// to count: 429 "overloaded" when err wraps ErrOverloaded, else 503
// "unavailable". Both invite the client to retry.
func Status(err error) (int, string) {
	if errors.Is(err, ErrOverloaded) {
		return http.StatusTooManyRequests, ReasonOverloaded
	}
	return http.StatusServiceUnavailable, ReasonUnavailable
}

// Level maps a source's severity spelling ("WARNING", "err", "Information",
// "fatal", "5"…) onto one of event's normalised levels, LevelUnknown when it
// is empty or not recognised. Numbers 0–7 are read as syslog severities,
// 10–60 as pino/bunyan levels.
func Level(s string) string {
	switch strings.ToLower(strings.TrimSpace(s)) {
	case "trace", "trc", "finest", "verbose", "10":
		return event.LevelTrace
	case "debug", "dbg", "debu", "fine", "finer", "7", "20":
		return event.LevelDebug
	case "info", "inf", "information", "informational", "notice", "note", "5", "6", "30":
		return event.LevelInfo
	case "warn", "warning", "wrn", "4", "40":
		return event.LevelWarn
	case "error", "err", "eror", "erro", "severe", "3", "50":
		return event.LevelError
	case "critical", "crit", "fatal", "ftl", "panic", "alert", "emerg", "emergency", "0", "1", "2", "60":
		return event.LevelCritical
	}
	return event.LevelUnknown
}
