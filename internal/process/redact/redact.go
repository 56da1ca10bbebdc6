// Package redact masks secrets in log records before they are stored.
//
// A Redactor replaces, with a configurable text:
//   - the value of every attribute and stream label whose name contains a
//     sensitive key (DefaultKeys plus configured ones);
//   - inside the body and every other value: the value after a sensitive key
//     written as JSON ("password":"x"), logfmt (password=x), a query string
//     (?token=x&) or a header (Authorization: Bearer x, Cookie: a=1; b=2),
//     the credential after "Bearer ", the password of a URL
//     (postgres://app:x@db), card numbers that pass the Luhn check, and
//     whatever configured regexps match.
//
// Key names match ignoring case and the separators '-', '_', '.' and space,
// anywhere in a longer name, when the key ends the name or is followed by a
// non-lowercase character: api_key matches x-api-key, apiKey and
// API_KEY_ID; token matches access_token and accessToken but not
// prompt_tokens.
package redact

import (
	"context"
	"fmt"
	"regexp"
	"slices"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/lookout-dev/lookout/internal/event"
	"github.com/lookout-dev/lookout/internal/pipeline"
)

// DefaultKeys are always treated as sensitive.
var DefaultKeys = []string{"password", "passwd", "token", "secret", "authorization", "cookie", "api_key", "credit_card"}

// DefaultReplacement replaces what is redacted.
const DefaultReplacement = "[REDACTED]"

// Options configures a Redactor.
type Options struct {
	// Keys are sensitive keys in addition to DefaultKeys.
	Keys []string
	// Patterns are RE2 regexps of values to mask. A pattern with a capture
	// group masks only what its first group matched.
	Patterns []string
	// Luhn masks numbers that look like payment card numbers.
	Luhn bool
	// Replacement replaces what is masked; empty means DefaultReplacement.
	Replacement string
	// Redacted counts records in which something was masked. Nil counts
	// nothing.
	Redacted prometheus.Counter

	_ struct{}
}

// Redactor masks secrets. It is safe for concurrent use.
type Redactor struct {
	words    []string // normalised keys: lowercase, without separators
	cookie   int      // index in words of "cookie", whose header value runs to the end of the line
	minKey   int
	byFirst  [256][]int // indices into words by first byte, in both cases
	patterns []*regexp.Regexp
	literals []literal // text every match of the pattern contains, if known
	luhn     bool
	repl     string
}

// NewRedactor compiles opts.
func NewRedactor(opts Options) (*Redactor, error) {
	r := &Redactor{luhn: opts.Luhn, repl: opts.Replacement, cookie: -1, minKey: 1 << 30}
	if r.repl == "" {
		r.repl = DefaultReplacement
	}
	for _, k := range slices.Concat(DefaultKeys, opts.Keys) {
		w := NormalizeKey(k)
		if len(w) < 2 {
			return nil, fmt.Errorf("sensitive key %q is too short: use at least two letters or digits", k)
		}
		if slices.Contains(r.words, w) {
			continue
		}
		if w == "cookie" {
			r.cookie = len(r.words)
		}
		r.byFirst[w[0]] = append(r.byFirst[w[0]], len(r.words))
		if c := w[0]; c >= 'a' && c <= 'z' {
			r.byFirst[c-'a'+'A'] = append(r.byFirst[c-'a'+'A'], len(r.words))
		}
		r.words = append(r.words, w)
		r.minKey = min(r.minKey, len(w))
	}
	for _, p := range opts.Patterns {
		re, err := regexp.Compile(p)
		if err != nil {
			return nil, fmt.Errorf("compile redact pattern %q: %w", p, err)
		}
		r.patterns = append(r.patterns, re)
		r.literals = append(r.literals, requiredLiteral(p))
	}
	return r, nil
}

// New returns a stage that redacts every record's body, attributes and
// stream labels. It is safe for concurrent use.
func New(opts Options) (pipeline.Stage[[]event.Record], error) {
	r, err := NewRedactor(opts)
	if err != nil {
		return nil, err
	}
	return func(_ context.Context, batch []event.Record) ([]event.Record, error) {
		for i := range batch {
			if r.Record(&batch[i]) > 0 && opts.Redacted != nil {
				opts.Redacted.Inc()
			}
		}
		return batch, nil
	}, nil
}

// Record redacts the body, the attributes and the stream labels of rec in
// place and returns how many of them it changed.
func (r *Redactor) Record(rec *event.Record) int {
	n := 0
	if s, ok := r.String(rec.Body); ok {
		rec.Body = s
		n++
	}
	for i := range rec.Attrs {
		if v, ok := r.field(rec.Attrs[i].Key, rec.Attrs[i].Value); ok {
			rec.Attrs[i].Value = v
			n++
		}
	}
	var b *labels.Builder
	rec.Labels.Range(func(l labels.Label) {
		if v, ok := r.field(l.Name, l.Value); ok {
			if b == nil {
				b = labels.NewBuilder(rec.Labels)
			}
			b.Set(l.Name, v)
			n++
		}
	})
	if b != nil {
		rec.Labels = b.Labels()
	}
	return n
}

// field redacts the value of a named field.
func (r *Redactor) field(key, value string) (string, bool) {
	if value == "" || value == r.repl {
		return value, false
	}
	if r.SensitiveKey(key) {
		return r.repl, true
	}
	return r.String(value)
}

// SensitiveKey reports whether key names a secret.
func (r *Redactor) SensitiveKey(key string) bool { return r.match(key) >= 0 }

func (r *Redactor) match(key string) int {
	for start := 0; start+r.minKey <= len(key); start++ {
		for _, w := range r.byFirst[key[start]] {
			if keyAt(key, start, r.words[w]) {
				return w
			}
		}
	}
	return -1
}

// NormalizeKey lowercases key and drops the separators '-', '_', '.' and
// space, the form in which keys are compared.
func NormalizeKey(key string) string {
	var b strings.Builder
	for i := 0; i < len(key); i++ {
		c := key[i]
		switch {
		case isSep(c):
		case c >= 'A' && c <= 'Z':
			b.WriteByte(c + 'a' - 'A')
		default:
			b.WriteByte(c)
		}
	}
	return b.String()
}

func isSep(c byte) bool { return c == '-' || c == '_' || c == '.' || c == ' ' }

// keyAt reports whether name contains the normalised key w at start,
// ignoring case and separators, and w ends name or is followed by a byte
// that is not a lowercase letter.
func keyAt(name string, start int, w string) bool {
	i, j := start, 0
	for i < len(name) && j < len(w) {
		c := name[i]
		if lower(c) == w[j] {
			i++
			j++
			continue
		}
		if j == 0 || !isSep(c) {
			return false
		}
		i++
	}
	return j == len(w) && (i == len(name) || !(name[i] >= 'a' && name[i] <= 'z'))
}

func lower(c byte) byte {
	if c >= 'A' && c <= 'Z' {
		return c + 'a' - 'A'
	}
	return c
}
