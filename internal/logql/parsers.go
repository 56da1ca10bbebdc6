package logql

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/grafana/regexp"

	"github.com/lookout-dev/lookout/internal/labelname"
)

// extractJSON adds every scalar property of a JSON object line as a parsed
// label: nested objects flatten with "_", arrays and nulls are skipped,
// numbers keep their literal text, and a repeated key keeps its first value.
// It scans the line in place; unescaped strings are not copied.
func extractJSON(line string, lbs *lineLabels) error {
	p := jsonScanner{s: line}
	p.ws()
	if !p.eat('{') {
		return errNotObject
	}
	return p.object("", lbs, 0)
}

// Loki's (jsoniter's) wording, which users match in __error_details__.
var (
	errNotObject   = errors.New("Value looks like object, but can't find opening '{' symbol") //nolint:staticcheck // Loki's text
	errMalformed   = errors.New("Malformed JSON error")                                       //nolint:staticcheck // Loki's text
	errJSONTooDeep = errors.New("json: nesting too deep")
	maxJSONDepth   = 1000
)

func jsonErr(err error) error {
	if errors.Is(err, io.EOF) || errors.Is(err, io.ErrUnexpectedEOF) {
		return errMalformed
	}
	return err
}

// jsonScanner is a minimal JSON reader for flattening objects.
type jsonScanner struct {
	s string
	i int
}

func (p *jsonScanner) ws() {
	for p.i < len(p.s) {
		switch p.s[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

func (p *jsonScanner) eat(c byte) bool {
	if p.i < len(p.s) && p.s[p.i] == c {
		p.i++
		return true
	}
	return false
}

func (p *jsonScanner) errAt(what string) error {
	if p.i >= len(p.s) {
		return errMalformed
	}
	return fmt.Errorf("%s at offset %d, found %q", what, p.i, p.s[p.i])
}

// str reads a string starting at its opening quote.
func (p *jsonScanner) str() (string, error) {
	if !p.eat('"') {
		return "", p.errAt("expected string")
	}
	start, esc := p.i, false
	for p.i < len(p.s) {
		switch c := p.s[p.i]; {
		case c == '"':
			raw := p.s[start:p.i]
			p.i++
			if !esc {
				return raw, nil
			}
			var v string
			if err := json.Unmarshal([]byte(p.s[start-1:p.i]), &v); err != nil {
				return "", err
			}
			return v, nil
		case c == '\\':
			esc = true
			p.i += 2
		case c < 0x20:
			return "", p.errAt("control character in string")
		default:
			p.i++
		}
	}
	return "", errMalformed
}

// literal reads a number, true, false or null and returns its text.
func (p *jsonScanner) literal() (string, error) {
	start := p.i
	for p.i < len(p.s) {
		c := p.s[p.i]
		if c == ',' || c == '}' || c == ']' || c == ' ' || c == '\t' || c == '\n' || c == '\r' {
			break
		}
		p.i++
	}
	v := p.s[start:p.i]
	switch v {
	case "true", "false", "null":
		return v, nil
	case "":
		return "", p.errAt("expected value")
	}
	if _, err := strconv.ParseFloat(v, 64); err != nil || v[0] == '+' || v[0] == '.' {
		p.i = start
		return "", p.errAt("invalid value")
	}
	return v, nil
}

// skip consumes one value of any kind.
func (p *jsonScanner) skip(depth int) error {
	if depth > maxJSONDepth {
		return errJSONTooDeep
	}
	p.ws()
	if p.i >= len(p.s) {
		return errMalformed
	}
	switch p.s[p.i] {
	case '"':
		_, err := p.str()
		return err
	case '{', '[':
		end := byte('}')
		if p.s[p.i] == '[' {
			end = ']'
		}
		p.i++
		p.ws()
		if p.eat(end) {
			return nil
		}
		for {
			if end == '}' {
				p.ws()
				if _, err := p.str(); err != nil {
					return err
				}
				p.ws()
				if !p.eat(':') {
					return p.errAt("expected ':'")
				}
			}
			if err := p.skip(depth + 1); err != nil {
				return err
			}
			p.ws()
			if p.eat(end) {
				return nil
			}
			if !p.eat(',') {
				return p.errAt("expected ',' or '" + string(end) + "'")
			}
		}
	}
	_, err := p.literal()
	return err
}

// object reads the members of an object whose '{' was consumed.
func (p *jsonScanner) object(prefix string, lbs *lineLabels, depth int) error {
	if depth > maxJSONDepth {
		return errJSONTooDeep
	}
	p.ws()
	if p.eat('}') {
		return nil
	}
	for {
		p.ws()
		key, err := p.str()
		if err != nil {
			return err
		}
		p.ws()
		if !p.eat(':') {
			return p.errAt("expected ':'")
		}
		p.ws()
		if p.i >= len(p.s) {
			return errMalformed
		}
		name := sanitizeKeyPart(key)
		if prefix != "" {
			name = prefix + name
		}
		switch p.s[p.i] {
		case '{':
			p.i++
			if err := p.object(name+"_", lbs, depth+1); err != nil {
				return err
			}
		case '[':
			if err := p.skip(depth + 1); err != nil {
				return err
			}
		case '"':
			v, err := p.str()
			if err != nil {
				return err
			}
			setJSONLabel(lbs, name, v)
		default:
			v, err := p.literal()
			if err != nil {
				return err
			}
			if v != "null" {
				setJSONLabel(lbs, name, v)
			}
		}
		p.ws()
		if p.eat('}') {
			return nil
		}
		if !p.eat(',') {
			return p.errAt("expected ',' or '}'")
		}
	}
}

func setJSONLabel(lbs *lineLabels, name, value string) {
	if name == "" {
		return
	}
	if name[0] >= '0' && name[0] <= '9' {
		name = "_" + name
	}
	lbs.setParsed(name, value)
}

func sanitizeKeyPart(s string) string {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			var sb strings.Builder
			for _, r := range s {
				if r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
					sb.WriteRune(r)
				} else {
					sb.WriteByte('_')
				}
			}
			return sb.String()
		}
	}
	return s
}

// jsonPathElem is one step of a json parameter expression: a field name or
// an array index.
type jsonPathElem struct {
	field string
	index int
	isIdx bool
}

// parseJSONPath reads expressions such as `a.b`, `a["b c"]`, `list[0]` and
// `my.list[0]["field"]`.
func parseJSONPath(s string) ([]jsonPathElem, error) {
	var out []jsonPathElem
	i := 0
	readField := func() error {
		j := i
		for j < len(s) && s[j] != '.' && s[j] != '[' {
			if s[j] == ']' || s[j] == '"' {
				return fmt.Errorf("unexpected %q at position %d", s[j], j)
			}
			j++
		}
		if j == i {
			return fmt.Errorf("empty field at position %d", i)
		}
		out = append(out, jsonPathElem{field: s[i:j]})
		i = j
		return nil
	}
	if s == "" {
		return nil, errors.New("empty expression")
	}
	if s[0] != '[' {
		if err := readField(); err != nil {
			return nil, err
		}
	}
	for i < len(s) {
		switch s[i] {
		case '.':
			i++
			if err := readField(); err != nil {
				return nil, err
			}
		case '[':
			i++
			if i >= len(s) {
				return nil, errors.New("unterminated [")
			}
			if s[i] == '"' {
				j := i + 1
				for j < len(s) && s[j] != '"' {
					if s[j] == '\\' {
						j++
					}
					j++
				}
				if j >= len(s) {
					return nil, errors.New("unterminated string")
				}
				f, err := strconv.Unquote(s[i : j+1])
				if err != nil {
					return nil, err
				}
				out = append(out, jsonPathElem{field: f})
				i = j + 1
			} else {
				j := i
				for j < len(s) && s[j] >= '0' && s[j] <= '9' {
					j++
				}
				if j == i {
					return nil, fmt.Errorf("expected index at position %d", i)
				}
				n, err := strconv.Atoi(s[i:j])
				if err != nil {
					return nil, err
				}
				out = append(out, jsonPathElem{index: n, isIdx: true})
				i = j
			}
			if i >= len(s) || s[i] != ']' {
				return nil, errors.New("unterminated [")
			}
			i++
		default:
			return nil, fmt.Errorf("unexpected %q at position %d", s[i], i)
		}
	}
	return out, nil
}

// jsonParamExtractor extracts the values of json parameters. A missing path
// yields an empty value; an object or array yields its JSON text.
type jsonParamExtractor struct {
	names []string
	paths [][]jsonPathElem
}

func (x *jsonParamExtractor) extract(line string, lbs *lineLabels) error {
	var root json.RawMessage
	if err := json.Unmarshal([]byte(line), &root); err != nil {
		return err
	}
	if t := bytes.TrimSpace(root); len(t) == 0 || t[0] != '{' {
		return errNotObject
	}
	for i, path := range x.paths {
		lbs.setParsed(x.names[i], lookupJSON(root, path))
	}
	return nil
}

func lookupJSON(raw json.RawMessage, path []jsonPathElem) string {
	for _, el := range path {
		if el.isIdx {
			var arr []json.RawMessage
			if json.Unmarshal(raw, &arr) != nil || el.index >= len(arr) {
				return ""
			}
			raw = arr[el.index]
			continue
		}
		var obj map[string]json.RawMessage
		if json.Unmarshal(raw, &obj) != nil {
			return ""
		}
		v, ok := obj[el.field]
		if !ok {
			return ""
		}
		raw = v
	}
	raw = bytes.TrimSpace(raw)
	switch {
	case len(raw) == 0 || string(raw) == "null":
		return ""
	case raw[0] == '"':
		var s string
		if json.Unmarshal(raw, &s) != nil {
			return ""
		}
		return s
	}
	return string(raw)
}

// unpack promotes the string properties of a JSON object line (as packed by
// Promtail's pack stage) to labels and replaces the line with its _entry
// property. Lines without _entry are left alone.
func unpack(line string, lbs *lineLabels) (string, error) {
	var obj map[string]json.RawMessage
	dec := json.NewDecoder(strings.NewReader(line))
	if err := dec.Decode(&obj); err != nil {
		return line, jsonErr(err)
	}
	entryRaw, ok := obj["_entry"]
	if !ok {
		return line, nil
	}
	// Walk again in document order so that label order and duplicate
	// handling do not depend on map iteration.
	dec = json.NewDecoder(strings.NewReader(line))
	if _, err := dec.Token(); err != nil {
		return line, jsonErr(err)
	}
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return line, jsonErr(err)
		}
		key, _ := kt.(string)
		var raw json.RawMessage
		if err := dec.Decode(&raw); err != nil {
			return line, jsonErr(err)
		}
		if key == "_entry" || len(raw) == 0 || raw[0] != '"' {
			continue
		}
		var s string
		if json.Unmarshal(raw, &s) == nil {
			setJSONLabel(lbs, sanitizeKeyPart(key), s)
		}
	}
	var entry string
	if json.Unmarshal(entryRaw, &entry) == nil {
		return entry, nil
	}
	return line, nil
}

// logfmtPair is one key/value pair; hasValue is false for a bare key.
type logfmtPair struct {
	key, value string
	hasValue   bool
}

// scanLogfmt calls fn for each pair of a logfmt line. In strict mode it
// stops at the first malformed pair and returns an error; otherwise it skips
// malformed pairs.
func scanLogfmt(line string, strict bool, fn func(logfmtPair)) error {
	i := 0
	n := len(line)
	for i < n {
		for i < n && line[i] <= ' ' {
			i++
		}
		if i >= n {
			break
		}
		start := i
		bad := func(msg string) error {
			if strict {
				return fmt.Errorf("logfmt syntax error at pos %d : %s", i+1, msg)
			}
			for i < n && line[i] > ' ' {
				i++
			}
			return nil
		}
		for i < n && line[i] > ' ' && line[i] != '=' && line[i] != '"' {
			i++
		}
		key := line[start:i]
		if i < n && line[i] == '"' {
			if err := bad("unexpected '\"'"); err != nil {
				return err
			}
			continue
		}
		if key == "" {
			if err := bad("unexpected '='"); err != nil {
				return err
			}
			continue
		}
		if i >= n || line[i] != '=' {
			fn(logfmtPair{key: key})
			continue
		}
		i++ // =
		if i < n && line[i] == '"' {
			j := i + 1
			esc := false
			for j < n && line[j] != '"' {
				if line[j] == '\\' {
					esc = true
					j++
				}
				j++
			}
			if j >= n {
				i = n
				if strict {
					return fmt.Errorf("logfmt syntax error at pos %d : unterminated quoted value", n+1)
				}
				continue
			}
			v := line[i+1 : j]
			if esc {
				if u, err := strconv.Unquote(line[i : j+1]); err == nil {
					v = u
				}
			}
			i = j + 1
			if i < n && line[i] > ' ' {
				if err := bad("unexpected character after quoted value"); err != nil {
					return err
				}
				continue
			}
			fn(logfmtPair{key: key, value: v, hasValue: true})
			continue
		}
		vs := i
		for i < n && line[i] > ' ' && line[i] != '=' && line[i] != '"' {
			i++
		}
		if i < n && (line[i] == '=' || line[i] == '"') {
			if err := bad(fmt.Sprintf("unexpected '%c'", line[i])); err != nil {
				return err
			}
			continue
		}
		v := line[vs:i]
		if !utf8.ValidString(v) {
			continue
		}
		fn(logfmtPair{key: key, value: v, hasValue: v != ""})
	}
	return nil
}

// compileRegexpParser compiles the regexp of `| regexp` and returns its
// named groups.
func compileRegexpParser(s string) (*regexp.Regexp, []string, error) {
	re, err := regexp.Compile(s)
	if err != nil {
		return nil, nil, err
	}
	seen := map[string]bool{}
	named := 0
	for _, n := range re.SubexpNames() {
		if n == "" {
			continue
		}
		if seen[n] {
			return nil, nil, fmt.Errorf("duplicate extracted label name: %s", n)
		}
		if !labelname.Valid(n) {
			return nil, nil, fmt.Errorf("invalid extracted label name: %s", n)
		}
		seen[n] = true
		named++
	}
	if named == 0 {
		return nil, nil, errors.New("at least one named capture must be supplied")
	}
	return re, re.SubexpNames(), nil
}

// pattern is a compiled pattern expression: literals and captures.
type pattern struct {
	nodes []patternNode
}

type patternNode struct {
	lit     string
	capture string // "_" for an unnamed capture
	isCap   bool
}

func (p *pattern) named() int {
	n := 0
	for _, nd := range p.nodes {
		if nd.isCap && nd.capture != "_" {
			n++
		}
	}
	return n
}

// compilePattern parses a pattern such as `<ip> - <_> "<method> <uri>"`.
func compilePattern(s string) (*pattern, error) {
	p := &pattern{}
	var lit strings.Builder
	flush := func() {
		if lit.Len() > 0 {
			p.nodes = append(p.nodes, patternNode{lit: lit.String()})
			lit.Reset()
		}
	}
	for i := 0; i < len(s); {
		if s[i] == '<' {
			j := strings.IndexByte(s[i+1:], '>')
			if j >= 0 {
				name := s[i+1 : i+1+j]
				if labelname.Valid(name) {
					flush()
					if len(p.nodes) > 0 && p.nodes[len(p.nodes)-1].isCap {
						return nil, fmt.Errorf("invalid pattern %q: consecutive captures are not allowed", s)
					}
					p.nodes = append(p.nodes, patternNode{capture: name, isCap: true})
					i += j + 2
					continue
				}
			}
		}
		lit.WriteByte(s[i])
		i++
	}
	flush()
	if len(p.nodes) == 0 {
		return nil, fmt.Errorf("invalid pattern %q: empty", s)
	}
	return p, nil
}

// match runs the pattern over line, calling set for named captures. It
// reports whether the whole line matched. A capture runs to the next
// literal; when that literal is missing the capture takes the rest of the
// line and matching stops.
func (p *pattern) match(line string, set func(name, value string)) bool {
	pos := 0
	for i := 0; i < len(p.nodes); i++ {
		nd := p.nodes[i]
		if !nd.isCap {
			if !strings.HasPrefix(line[pos:], nd.lit) {
				return false
			}
			pos += len(nd.lit)
			continue
		}
		if i+1 == len(p.nodes) {
			if set != nil && nd.capture != "_" {
				set(nd.capture, line[pos:])
			}
			return true
		}
		next := p.nodes[i+1].lit
		idx := strings.Index(line[pos:], next)
		if idx < 0 {
			if set != nil && nd.capture != "_" {
				set(nd.capture, line[pos:])
			}
			return false
		}
		if set != nil && nd.capture != "_" {
			set(nd.capture, line[pos:pos+idx])
		}
		pos += idx + len(next)
		i++ // the literal is consumed
	}
	return pos == len(line)
}
