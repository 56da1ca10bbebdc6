package normalize

import (
	"context"
	"strings"

	"github.com/lookout-dev/lookout/internal/event"
	"github.com/lookout-dev/lookout/internal/pipeline"
)

// Default attributes trace context is read from. Dotted names also match
// their underscore spelling.
var (
	DefaultTraceIDFields     = []string{"trace_id", "traceId", "traceID", "trace.id", "traceid"}
	DefaultSpanIDFields      = []string{"span_id", "spanId", "spanID", "span.id", "spanid"}
	DefaultTraceparentFields = []string{"traceparent"}
)

// TraceOptions configures the Trace stage. Empty lists turn that source off.
type TraceOptions struct {
	TraceIDFields     []string
	SpanIDFields      []string
	TraceparentFields []string

	_ struct{}
}

// Trace returns a stage that fills each record's TraceID and SpanID from its
// attributes: a 32-digit hex trace ID and a 16-digit hex span ID, stored in
// lowercase, or a W3C traceparent. IDs of the wrong length, with non-hex
// digits or all zeros are ignored. IDs the receiver already set are kept. The
// stage is safe for concurrent use.
func Trace(opts TraceOptions) pipeline.Stage[[]event.Record] {
	traceNames := fieldNames(opts.TraceIDFields)
	spanNames := fieldNames(opts.SpanIDFields)
	parentNames := fieldNames(opts.TraceparentFields)
	return func(_ context.Context, batch []event.Record) ([]event.Record, error) {
		for i := range batch {
			r := &batch[i]
			if r.TraceID == "" {
				lookup(r, traceNames, func(v string) bool {
					id, ok := HexID(v, 32)
					if ok {
						r.TraceID = id
					}
					return ok
				})
			}
			if r.SpanID == "" {
				lookup(r, spanNames, func(v string) bool {
					id, ok := HexID(v, 16)
					if ok {
						r.SpanID = id
					}
					return ok
				})
			}
			if r.TraceID == "" || r.SpanID == "" {
				lookup(r, parentNames, func(v string) bool {
					tid, sid, ok := ParseTraceparent(v)
					if !ok || (r.TraceID != "" && r.TraceID != tid) {
						return false
					}
					r.TraceID = tid
					if r.SpanID == "" {
						r.SpanID = sid
					}
					return true
				})
			}
		}
		return batch, nil
	}
}

// HexID returns s in lowercase if it is n hex digits and not all zeros.
func HexID(s string, n int) (string, bool) {
	s = strings.TrimSpace(s)
	if len(s) != n {
		return "", false
	}
	zero, upper := true, false
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case c >= '0' && c <= '9':
		case c >= 'a' && c <= 'f':
		case c >= 'A' && c <= 'F':
			upper = true
		default:
			return "", false
		}
		if c != '0' {
			zero = false
		}
	}
	if zero {
		return "", false
	}
	if upper {
		s = strings.ToLower(s)
	}
	return s, true
}

// ParseTraceparent parses a W3C Trace Context traceparent header value,
// "00-<32 hex trace-id>-<16 hex parent-id>-<2 hex flags>". Versions other
// than 00 are accepted when they have at least these fields, as the
// specification asks; version ff is invalid.
func ParseTraceparent(s string) (traceID, spanID string, ok bool) {
	s = strings.TrimSpace(s)
	if len(s) < 55 || s[2] != '-' || s[35] != '-' || s[52] != '-' {
		return "", "", false
	}
	version := s[:2]
	if !isHex(version) || strings.EqualFold(version, "ff") || !isHex(s[53:55]) {
		return "", "", false
	}
	if version == "00" && len(s) != 55 || len(s) > 55 && s[55] != '-' {
		return "", "", false
	}
	if traceID, ok = HexID(s[3:35], 32); !ok {
		return "", "", false
	}
	if spanID, ok = HexID(s[36:52], 16); !ok {
		return "", "", false
	}
	return traceID, spanID, true
}

func isHex(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= '0' && c <= '9' || c >= 'a' && c <= 'f' || c >= 'A' && c <= 'F') {
			return false
		}
	}
	return true
}
