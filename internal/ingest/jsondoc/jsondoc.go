// Package jsondoc turns one JSON log document into record fields: it decodes
// the document strictly, flattens it to dotted keys, and lifts the level and
// message out of it, leaving the other fields as attributes.
//
// Receivers keep their own field names, timestamp rules and error wording;
// this package holds only the mapping they share.
package jsondoc

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"slices"
	"strconv"

	"github.com/lookout-dev/lookout/internal/event"
	"github.com/lookout-dev/lookout/internal/ingest/logmetrics"
)

// Errors returned by Decode besides the JSON decoder's own. Receivers word
// them for their clients.
var (
	// ErrTrailingData means more data follows the document's JSON value.
	ErrTrailingData = errors.New("unexpected data after the JSON value")
	// ErrNotObject means the document is a JSON value other than an object.
	ErrNotObject = errors.New("not a JSON object")
)

// Field is a flattened field of a document.
type Field struct {
	event.Attr
	// Numeric is set when the value was a JSON number rather than a string.
	Numeric bool
}

// Fields are a document's flattened fields in key order.
type Fields []Field

// Decode reads raw as exactly one JSON object, keeping numbers as written,
// and returns its fields flattened. It fails with the JSON decoder's error,
// ErrTrailingData or ErrNotObject.
func Decode(raw []byte) (Fields, error) {
	dec := json.NewDecoder(bytes.NewReader(raw))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, err
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return nil, ErrTrailingData
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return nil, ErrNotObject
	}
	return flatten(nil, "", obj), nil
}

// flatten appends obj's scalar fields to dst with nested object keys joined
// by dots, in key order. Arrays are kept as compact JSON; nulls and empty
// objects are dropped.
func flatten(dst Fields, prefix string, obj map[string]any) Fields {
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		name := k
		if prefix != "" {
			name = prefix + "." + k
		}
		switch v := obj[k].(type) {
		case map[string]any:
			dst = flatten(dst, name, v)
		case string:
			dst = append(dst, Field{Attr: event.Attr{Key: name, Value: v}})
		case json.Number:
			dst = append(dst, Field{Attr: event.Attr{Key: name, Value: v.String()}, Numeric: true})
		case bool:
			dst = append(dst, Field{Attr: event.Attr{Key: name, Value: strconv.FormatBool(v)}})
		case nil:
		default: // []any
			if b, err := json.Marshal(v); err == nil {
				dst = append(dst, Field{Attr: event.Attr{Key: name, Value: string(b)}})
			}
		}
	}
	return dst
}

// Find returns the index of the field named key, or -1.
func (fs Fields) Find(key string) int {
	for i := range fs {
		if fs[i].Key == key {
			return i
		}
	}
	return -1
}

// Take removes the field at index i and returns its value.
func (fs *Fields) Take(i int) string {
	val := (*fs)[i].Value
	*fs = slices.Delete(*fs, i, i+1)
	return val
}

// Mapping names the fields lifted out of a document, each list in order of
// preference.
type Mapping struct {
	Level   []string
	Message []string
}

// Lift fills rec from a document's remaining fields fs and its text raw.
// The first level field whose value logmetrics.Level recognises sets
// rec.Level; an unrecognised one stays an attribute. The first message field
// present becomes rec.Body and every other field an attribute. A document
// without a message field is stored whole, trimmed, as the body, and its
// fields are not repeated as attributes. line cleans and bounds every string
// stored.
func (m Mapping) Lift(rec *event.Record, fs Fields, raw []byte, line func(string) string) {
	for _, f := range m.Level {
		if i := fs.Find(f); i >= 0 {
			if lvl := logmetrics.Level(fs[i].Value); lvl != event.LevelUnknown {
				rec.Level = lvl
				fs.Take(i)
				break
			}
		}
	}
	msg := -1
	for _, f := range m.Message {
		if msg = fs.Find(f); msg >= 0 {
			break
		}
	}
	if msg < 0 {
		rec.Body = line(string(bytes.TrimSpace(raw)))
		return
	}
	rec.Body = line(fs.Take(msg))
	if len(fs) > 0 {
		rec.Attrs = make([]event.Attr, len(fs))
		for i, f := range fs {
			rec.Attrs[i] = event.Attr{Key: line(f.Key), Value: line(f.Value)}
		}
	}
}
