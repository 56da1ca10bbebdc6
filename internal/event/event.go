// Package event defines the canonical record that every event signal (logs
// now; spans, error events and RUM events later) is decoded into at the edge,
// transformed by processing stages, and persisted by an event store.
package event

import (
	"github.com/prometheus/prometheus/model/labels"
)

// Kind says which signal a record belongs to. Stores keep kinds apart: a
// query for one kind never returns records of another.
type Kind uint8

// The kinds of event. Only KindLog is produced today.
const (
	KindLog Kind = iota + 1
	KindSpan
	KindError
	KindRUM
)

func (k Kind) String() string {
	switch k {
	case KindLog:
		return "log"
	case KindSpan:
		return "span"
	case KindError:
		return "error"
	case KindRUM:
		return "rum"
	}
	return "unknown"
}

// Normalised levels. Processing maps every source's severity (syslog
// severities, OTLP severity numbers, "WARNING", "err", …) onto one of these;
// LevelUnknown when a record carries none.
const (
	LevelTrace    = "trace"
	LevelDebug    = "debug"
	LevelInfo     = "info"
	LevelWarn     = "warn"
	LevelError    = "error"
	LevelCritical = "critical"
	LevelUnknown  = "unknown"
)

// LevelLabel is the name under which a record's Level is visible to queries,
// as Loki 3 exposes its detected level.
const LevelLabel = "detected_level"

// Attr is one structured-metadata key/value pair.
type Attr struct {
	Key, Value string
}

// Record is one event.
//
// Labels identify the stream: a small, low-cardinality label set that is
// indexed (Loki's stream labels). Attrs carry per-record fields (parsed
// fields, OTLP log attributes, Loki structured metadata) that are stored with
// the record but not indexed as streams.
type Record struct {
	Kind Kind
	// Time is the event's timestamp in Unix nanoseconds.
	Time   int64
	Labels labels.Labels
	// Body is the log line as stored and returned by queries.
	Body    string
	Level   string
	TraceID string // lowercase hex, empty when unknown
	SpanID  string // lowercase hex, empty when unknown
	Attrs   []Attr
}

// Attr returns the value of the attribute key and whether it is present.
func (r *Record) Attr(key string) (string, bool) {
	for _, a := range r.Attrs {
		if a.Key == key {
			return a.Value, true
		}
	}
	return "", false
}

// Size is the number of bytes the record counts for in ingest limits and
// bytes_over_time: the length of its body, as Loki counts it.
func (r *Record) Size() int { return len(r.Body) }
