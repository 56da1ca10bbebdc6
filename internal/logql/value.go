package logql

import (
	"cmp"
	"slices"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/lookout-dev/lookout/internal/eventstore"
)

// ValueType names the kind of a query result, as in Loki's API.
type ValueType string

// Result types.
const (
	ValueStreams ValueType = "streams"
	ValueMatrix  ValueType = "matrix"
	ValueVector  ValueType = "vector"
	ValueScalar  ValueType = "scalar"
)

// Value is a query result: Streams, Matrix, Vector or Scalar.
type Value interface {
	Type() ValueType
}

// Entry is one log line. T is in Unix nanoseconds.
//
// StructuredMetadata holds the record's attributes and its level (as
// event.LevelLabel); Parsed holds labels added by parsers and formatters,
// including __error__ and __error_details__. Together with the stream's
// labels they are the entry's full label set.
type Entry struct {
	T                  int64
	Line               string
	StructuredMetadata labels.Labels
	Parsed             labels.Labels
}

// Stream is a log stream's entries, ordered by the query direction. Labels
// are the stream labels as left by the pipeline (drop, keep and
// label_format can change them).
type Stream struct {
	Labels  labels.Labels
	Entries []Entry
}

// Streams is the result of a log query, sorted by labels. It follows Loki's
// categorize-labels encoding; Merged gives the plain encoding.
type Streams []Stream

// Point is one sample of a series. T is in Unix nanoseconds.
type Point struct {
	T int64
	V float64
}

// Series is one series of a range query.
type Series struct {
	Labels labels.Labels
	Points []Point
}

// Matrix is the result of a range metric query, sorted by labels.
type Matrix []Series

// Sample is one element of an instant vector. T is in Unix nanoseconds.
type Sample struct {
	Labels labels.Labels
	T      int64
	V      float64
}

// Vector is the result of an instant metric query. It is sorted by labels,
// except for sort and sort_desc, whose order it keeps.
type Vector []Sample

// Scalar is the result of an instant query that yields a number.
type Scalar struct {
	T int64
	V float64
}

// Type implements Value.
func (Streams) Type() ValueType { return ValueStreams }

// Type implements Value.
func (Matrix) Type() ValueType { return ValueMatrix }

// Type implements Value.
func (Vector) Type() ValueType { return ValueVector }

// Type implements Value.
func (Scalar) Type() ValueType { return ValueScalar }

// Merged returns the streams in Loki's plain encoding, where structured
// metadata and parsed labels join the stream labels (so entries that differ
// in them land in different streams). Entries are ordered by dir.
func (s Streams) Merged(dir eventstore.Direction) Streams {
	idx := map[string]int{}
	var out Streams
	var buf []byte
	for _, st := range s {
		for _, e := range st.Entries {
			b := labels.NewBuilder(st.Labels)
			e.StructuredMetadata.Range(func(l labels.Label) { b.Set(l.Name, l.Value) })
			e.Parsed.Range(func(l labels.Label) { b.Set(l.Name, l.Value) })
			ls := b.Labels()
			buf = ls.Bytes(buf[:0])
			i, ok := idx[string(buf)]
			if !ok {
				i = len(out)
				idx[string(buf)] = i
				out = append(out, Stream{Labels: ls})
			}
			out[i].Entries = append(out[i].Entries, Entry{T: e.T, Line: e.Line})
		}
	}
	for _, st := range out {
		slices.SortStableFunc(st.Entries, func(a, b Entry) int {
			if dir == eventstore.Backward {
				return cmp.Compare(b.T, a.T)
			}
			return cmp.Compare(a.T, b.T)
		})
	}
	slices.SortFunc(out, func(a, b Stream) int { return labels.Compare(a.Labels, b.Labels) })
	return out
}
