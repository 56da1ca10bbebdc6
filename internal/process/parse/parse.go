// Package parse extracts fields from log bodies (JSON objects, logfmt pairs,
// grok expressions) into the records' attributes.
//
// The body itself is kept exactly as received: the message field of a JSON
// line does not replace it. Queries, line filters and sizes therefore see
// what the application wrote, and the message stays available as an
// attribute like every other field.
package parse

import (
	"context"
	"fmt"
	"strings"

	"github.com/lookout-dev/lookout/internal/event"
	"github.com/lookout-dev/lookout/internal/pipeline"
	"github.com/lookout-dev/lookout/internal/process/grok"
)

// DefaultSeparator joins the keys of nested JSON objects, as Loki's json
// parser does: {"http":{"method":"GET"}} gives http_method.
const DefaultSeparator = "_"

// ExtractedSuffix is appended to a parsed field whose key the record already
// has as an attribute (set by the receiver), as Loki does for labels; the
// receiver's attribute is kept unchanged.
const ExtractedSuffix = "_extracted"

// Options selects the extractors. They are tried in this order and the first
// that yields a field wins: JSON (for bodies that are a JSON object), the
// grok patterns (the first that matches), logfmt.
type Options struct {
	JSON   bool
	Logfmt bool
	// Patterns are grok expressions such as "%{COMBINEDAPACHELOG}".
	Patterns []string
	// Definitions adds or replaces named grok patterns.
	Definitions map[string]string
	// Separator joins nested JSON keys; empty means DefaultSeparator.
	Separator string
	// Keep, when set, limits the fields added to those whose sanitised
	// key it accepts, so that a pipeline that only needs a few fields does
	// not copy them all.
	Keep func(key string) bool

	_ struct{}
}

// New returns a stage that extracts fields from each record's body and
// appends them to its Attrs. Keys are sanitised to letters, digits and
// underscores (and the separator), so that they can be used in queries and
// promoted to labels. A body that no extractor understands is left alone.
// The stage is safe for concurrent use.
func New(opts Options) (pipeline.Stage[[]event.Record], error) {
	e := extractor{json: opts.JSON, logfmt: opts.Logfmt, sep: opts.Separator, keep: opts.Keep}
	if e.sep == "" {
		e.sep = DefaultSeparator
	}
	for i, expr := range opts.Patterns {
		p, err := grok.Compile(expr, opts.Definitions)
		if err != nil {
			return nil, fmt.Errorf("compile pattern %d %q: %w", i, expr, err)
		}
		e.patterns = append(e.patterns, p)
	}
	return func(_ context.Context, batch []event.Record) ([]event.Record, error) {
		for i := range batch {
			e.extract(&batch[i])
		}
		return batch, nil
	}, nil
}

type extractor struct {
	json, logfmt bool
	sep          string
	patterns     []*grok.Pattern
	keep         func(string) bool
}

func (e *extractor) extract(r *event.Record) {
	n := len(r.Attrs)
	add := func(key, value string) {
		key = SanitizeKey(key, e.sep)
		if e.keep != nil && !e.keep(key) {
			return
		}
		r.Attrs = addField(r.Attrs, n, key, value)
	}
	if e.json && looksLikeObject(r.Body) {
		if JSONFields(r.Body, e.sep, add) {
			return
		}
		// Not valid JSON after all: drop what a prefix may have added.
		r.Attrs = r.Attrs[:n]
	}
	for _, p := range e.patterns {
		if p.Match(r.Body, add) {
			return
		}
	}
	if e.logfmt {
		LogfmtFields(r.Body, add)
	}
}

// addField appends key=value unless a field parsed from this body already has
// the key (the first wins). A key among the first n attributes, which the
// record had before parsing, gets ExtractedSuffix.
func addField(attrs []event.Attr, n int, key, value string) []event.Attr {
	if key == "" {
		return attrs
	}
	for _, a := range attrs[:n] {
		if a.Key == key {
			key += ExtractedSuffix
			break
		}
	}
	for _, a := range attrs[n:] {
		if a.Key == key {
			return attrs
		}
	}
	return append(attrs, event.Attr{Key: key, Value: value})
}

func looksLikeObject(s string) bool {
	s = strings.TrimSpace(s)
	return len(s) >= 2 && s[0] == '{' && s[len(s)-1] == '}'
}

// SanitizeKey turns a field name into one made of ASCII letters, digits,
// underscores and sep: Logstash-style references ([http][method]) are joined
// with sep, every other byte becomes '_', and a leading digit gets a '_'
// prefix. Keys that are already clean are returned without allocating.
func SanitizeKey(key, sep string) string {
	if strings.HasPrefix(key, "[") && strings.HasSuffix(key, "]") {
		key = strings.ReplaceAll(key[1:len(key)-1], "][", sep)
	}
	clean := key != ""
	for i := 0; i < len(key) && clean; i++ {
		clean = isKeyByte(key[i], sep) && !(i == 0 && isDigit(key[0]))
	}
	if clean {
		return key
	}
	var b strings.Builder
	b.Grow(len(key) + 1)
	if key != "" && isDigit(key[0]) {
		b.WriteByte('_')
	}
	for i := 0; i < len(key); i++ {
		if isKeyByte(key[i], sep) {
			b.WriteByte(key[i])
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}

func isKeyByte(c byte, sep string) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || isDigit(c) || c == '_' || strings.IndexByte(sep, c) >= 0
}

func isDigit(c byte) bool { return c >= '0' && c <= '9' }
