package lokipush

import (
	"errors"
	"fmt"
	"slices"
	"unsafe"

	"google.golang.org/protobuf/encoding/protowire"

	"github.com/lookout-dev/lookout/internal/event"
	"github.com/lookout-dev/lookout/internal/ingest/logmetrics"
)

// Field numbers of Loki's push.proto (github.com/grafana/loki/pkg/push):
//
//	PushRequest      { repeated StreamAdapter streams = 1; }
//	StreamAdapter    { string labels = 1; repeated EntryAdapter entries = 2; uint64 hash = 3; }
//	EntryAdapter     { google.protobuf.Timestamp timestamp = 1; string line = 2;
//	                   repeated LabelPairAdapter structuredMetadata = 3; }
//	LabelPairAdapter { string name = 1; string value = 2; }
//	Timestamp        { int64 seconds = 1; int32 nanos = 2; }
const (
	fieldPushStreams = 1

	fieldStreamLabels  = 1
	fieldStreamEntries = 2

	fieldEntryTimestamp = 1
	fieldEntryLine      = 2
	fieldEntryMetadata  = 3

	fieldPairName  = 1
	fieldPairValue = 2

	fieldTimestampSeconds = 1
	fieldTimestampNanos   = 2
)

// shared returns v as a string without copying it. v must point into the
// buffer that decodeProto decompressed: that buffer belongs to the request
// and nothing writes to it after decoding, so a line shares it instead of
// taking a copy of its own (a copy was a fifth of the bytes a push
// allocated). A line kept past the request keeps the buffer alive with it,
// at most the request's size limit.
func shared(v []byte) string { return unsafe.String(unsafe.SliceData(v), len(v)) }

// decodeProto decodes a snappy-compressed protobuf PushRequest.
func decodeProto(body []byte, l limits) ([]event.Record, error) {
	b, err := logmetrics.DecodeSnappy(body, l.maxBody)
	if err != nil {
		return nil, err
	}
	// A guess at the number of entries, from lines of a few hundred
	// bytes, so that the slice is not regrown from nothing.
	recs := make([]event.Record, 0, min(len(b)/256, 1<<16))
	si := 0
	err = eachField(b, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
		if num != fieldPushStreams {
			return nil
		}
		if typ != protowire.BytesType {
			return wireTypeError("PushRequest.streams", typ)
		}
		var err error
		recs, err = decodeStream(v, recs, l)
		if err != nil {
			return fmt.Errorf("stream %d: %w", si, err)
		}
		si++
		return nil
	})
	if err != nil {
		return nil, fmt.Errorf("decode protobuf push request: %w", err)
	}
	return recs, nil
}

// decodeStream appends the entries of one StreamAdapter to recs. Fields may
// come in any order, so entries are collected before the labels are known.
func decodeStream(b []byte, recs []event.Record, l limits) ([]event.Record, error) {
	var (
		labelStr  string
		hasLabels bool
		entries   [][]byte
	)
	err := eachField(b, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
		switch num {
		case fieldStreamLabels:
			if typ != protowire.BytesType {
				return wireTypeError("StreamAdapter.labels", typ)
			}
			labelStr, hasLabels = string(v), true
		case fieldStreamEntries:
			if typ != protowire.BytesType {
				return wireTypeError("StreamAdapter.entries", typ)
			}
			entries = append(entries, v)
		}
		return nil
	})
	if err != nil {
		return recs, err
	}
	if !hasLabels {
		return recs, &labelError{errors.New("stream has no labels; at least one label is required")}
	}
	pairs, err := parseLabelString(labelStr)
	if err != nil {
		return recs, &labelError{err}
	}
	ls, err := streamLabels(pairs)
	if err != nil {
		return recs, err
	}
	recs = slices.Grow(recs, len(entries))
	for ei, e := range entries {
		rec := event.Record{Kind: event.KindLog, Labels: ls}
		if err := decodeEntry(e, &rec, l); err != nil {
			return recs, fmt.Errorf("entry %d: %w", ei, err)
		}
		rec.Level = detectLevel(rec.Attrs, ls)
		recs = append(recs, rec)
	}
	return recs, nil
}

func decodeEntry(b []byte, rec *event.Record, l limits) error {
	return eachField(b, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
		switch num {
		case fieldEntryTimestamp:
			if typ != protowire.BytesType {
				return wireTypeError("EntryAdapter.timestamp", typ)
			}
			ts, err := decodeTimestampProto(v)
			if err != nil {
				return err
			}
			rec.Time = ts
		case fieldEntryLine:
			if typ != protowire.BytesType {
				return wireTypeError("EntryAdapter.line", typ)
			}
			rec.Body = l.line(shared(v))
		case fieldEntryMetadata:
			if typ != protowire.BytesType {
				return wireTypeError("EntryAdapter.structuredMetadata", typ)
			}
			a, err := decodePair(v)
			if err != nil {
				return err
			}
			a.Value = l.line(a.Value)
			rec.Attrs = append(rec.Attrs, a)
		}
		return nil
	})
}

func decodeTimestampProto(b []byte) (int64, error) {
	var secs, nanos int64
	err := eachField(b, func(num protowire.Number, typ protowire.Type, _ []byte, x uint64) error {
		switch num {
		case fieldTimestampSeconds:
			if typ != protowire.VarintType {
				return wireTypeError("Timestamp.seconds", typ)
			}
			secs = int64(x)
		case fieldTimestampNanos:
			if typ != protowire.VarintType {
				return wireTypeError("Timestamp.nanos", typ)
			}
			nanos = int64(int32(x))
		}
		return nil
	})
	return secs*1e9 + nanos, err
}

func decodePair(b []byte) (event.Attr, error) {
	var a event.Attr
	err := eachField(b, func(num protowire.Number, typ protowire.Type, v []byte, _ uint64) error {
		switch num {
		case fieldPairName:
			if typ != protowire.BytesType {
				return wireTypeError("LabelPairAdapter.name", typ)
			}
			a.Key = string(v)
		case fieldPairValue:
			if typ != protowire.BytesType {
				return wireTypeError("LabelPairAdapter.value", typ)
			}
			a.Value = string(v)
		}
		return nil
	})
	if err != nil {
		return a, fmt.Errorf("decode structured metadata: %w", err)
	}
	a.Key, _ = logmetrics.Clean(a.Key, 0)
	return a, nil
}

// eachField calls fn for every field of the message b: v holds the bytes of
// a length-delimited field, x the value of a varint or fixed-size field.
// Groups are skipped.
func eachField(b []byte, fn func(num protowire.Number, typ protowire.Type, v []byte, x uint64) error) error {
	for len(b) > 0 {
		num, typ, n := protowire.ConsumeTag(b)
		if n < 0 {
			return fmt.Errorf("read field tag: %w", protowire.ParseError(n))
		}
		b = b[n:]
		var (
			v []byte
			x uint64
		)
		switch typ {
		case protowire.VarintType:
			x, n = protowire.ConsumeVarint(b)
		case protowire.Fixed32Type:
			var x32 uint32
			x32, n = protowire.ConsumeFixed32(b)
			x = uint64(x32)
		case protowire.Fixed64Type:
			x, n = protowire.ConsumeFixed64(b)
		case protowire.BytesType:
			v, n = protowire.ConsumeBytes(b)
		default:
			n = protowire.ConsumeFieldValue(num, typ, b)
		}
		if n < 0 {
			return fmt.Errorf("read field %d: %w", num, protowire.ParseError(n))
		}
		b = b[n:]
		if err := fn(num, typ, v, x); err != nil {
			return err
		}
	}
	return nil
}

func wireTypeError(field string, typ protowire.Type) error {
	return fmt.Errorf("field %s has wire type %d", field, typ)
}
