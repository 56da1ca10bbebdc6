package lokipush

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/lookout-dev/lookout/internal/event"
	"github.com/lookout-dev/lookout/internal/ingest/logmetrics"
	"github.com/lookout-dev/lookout/internal/labelname"
)

// labelError is a stream whose labels are unusable; it is answered with 400
// and counted as invalid_labels.
type labelError struct{ err error }

func (e *labelError) Error() string { return e.err.Error() }
func (e *labelError) Unwrap() error { return e.err }

// parseLabelString parses a Prometheus-style label set such as
// `{job="app", env='prod'}` as Loki clients send in the protobuf encoding.
// Only equality pairs are allowed; values may use double quotes (with Go
// escapes), single quotes or backticks.
func parseLabelString(s string) ([]labels.Label, error) {
	p := labelParser{s: s}
	p.space()
	if !p.eat('{') {
		return nil, p.errorf("want '{'")
	}
	var out []labels.Label
	for {
		p.space()
		if p.eat('}') {
			break
		}
		if len(out) > 0 {
			if !p.eat(',') {
				return nil, p.errorf("want ',' or '}'")
			}
			p.space()
			if p.eat('}') { // trailing comma
				break
			}
		}
		name := p.name()
		if name == "" {
			return nil, p.errorf("want a label name")
		}
		p.space()
		if !p.eat('=') {
			return nil, p.errorf("want '=' after label %q (only equality is allowed)", name)
		}
		p.space()
		value, err := p.quoted()
		if err != nil {
			return nil, err
		}
		out = append(out, labels.Label{Name: name, Value: value})
	}
	p.space()
	if p.i != len(p.s) {
		return nil, p.errorf("unexpected text after '}'")
	}
	return out, nil
}

type labelParser struct {
	s string
	i int
}

func (p *labelParser) errorf(format string, args ...any) error {
	return fmt.Errorf("parse labels %q at offset %d: %s", truncate(p.s, 256), p.i, fmt.Sprintf(format, args...))
}

func (p *labelParser) space() {
	for p.i < len(p.s) && (p.s[p.i] == ' ' || p.s[p.i] == '\t' || p.s[p.i] == '\n' || p.s[p.i] == '\r') {
		p.i++
	}
}

func (p *labelParser) eat(c byte) bool {
	if p.i < len(p.s) && p.s[p.i] == c {
		p.i++
		return true
	}
	return false
}

// name reads a run of label-name characters; validation happens later so
// that the error can name the offending label.
func (p *labelParser) name() string {
	start := p.i
	for p.i < len(p.s) {
		c := p.s[p.i]
		if c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '.' || c == '-' || c == ':' {
			p.i++
			continue
		}
		break
	}
	return p.s[start:p.i]
}

func (p *labelParser) quoted() (string, error) {
	if p.i >= len(p.s) {
		return "", p.errorf("want a quoted label value")
	}
	q := p.s[p.i]
	if q != '"' && q != '\'' && q != '`' {
		return "", p.errorf("want a quoted label value")
	}
	start := p.i
	p.i++
	for p.i < len(p.s) {
		c := p.s[p.i]
		switch {
		case c == '\\' && q != '`':
			p.i += 2
			continue
		case c == q:
			p.i++
			lit := p.s[start:p.i]
			if q == '\'' {
				inner := lit[1 : len(lit)-1]
				inner = strings.ReplaceAll(strings.ReplaceAll(inner, `\'`, `'`), `"`, `\"`)
				lit = `"` + inner + `"`
			}
			v, err := strconv.Unquote(lit)
			if err != nil {
				return "", p.errorf("invalid quoted value %s", truncate(lit, 64))
			}
			return v, nil
		}
		p.i++
	}
	return "", p.errorf("unterminated quoted value")
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// streamLabels validates a stream's label pairs and returns them as a sorted
// label set: at least one label, valid and distinct names, values repaired
// to valid UTF-8.
func streamLabels(pairs []labels.Label) (labels.Labels, error) {
	if len(pairs) == 0 {
		return labels.EmptyLabels(), &labelError{errors.New("stream has no labels; at least one label is required")}
	}
	seen := make(map[string]struct{}, len(pairs))
	for i, l := range pairs {
		if !labelname.Valid(l.Name) {
			return labels.EmptyLabels(), &labelError{fmt.Errorf("invalid label name %q; names must match [a-zA-Z_][a-zA-Z0-9_]*", truncate(l.Name, 128))}
		}
		if _, dup := seen[l.Name]; dup {
			return labels.EmptyLabels(), &labelError{fmt.Errorf("duplicate label name %q", l.Name)}
		}
		seen[l.Name] = struct{}{}
		if !utf8.ValidString(l.Value) {
			pairs[i].Value = strings.ToValidUTF8(l.Value, "\uFFFD")
		}
	}
	return labels.New(pairs...), nil
}

// levelKeys are the structured-metadata keys and stream labels Loki reads a
// level from, in order of preference.
var levelKeys = []string{"detected_level", "level", "severity", "lvl"}

// detectLevel returns the normalised level named by the entry's structured
// metadata or, failing that, the stream's labels.
func detectLevel(attrs []event.Attr, ls labels.Labels) string {
	for _, k := range levelKeys {
		for _, a := range attrs {
			if strings.EqualFold(a.Key, k) {
				if lvl := logmetrics.Level(a.Value); lvl != event.LevelUnknown {
					return lvl
				}
			}
		}
	}
	for _, k := range levelKeys {
		if v := ls.Get(k); v != "" {
			if lvl := logmetrics.Level(v); lvl != event.LevelUnknown {
				return lvl
			}
		}
	}
	return event.LevelUnknown
}
