package parse

import (
	"strings"
	"unicode/utf16"
	"unicode/utf8"
)

// maxJSONDepth is how deep objects are flattened; an object nested deeper is
// kept as one field holding its JSON text.
const maxJSONDepth = 16

// JSONFields calls fn for every field of the JSON object s, flattening nested
// objects by joining keys with sep ({"a":{"b":1}} gives a<sep>b = 1). Strings
// are unescaped; numbers, true and false keep their text; null is skipped;
// arrays, and objects nested deeper than 16 levels, keep their JSON text.
// Keys are passed as written (unescaped) and may repeat. It reports whether
// s, after surrounding white space, is exactly one valid JSON object; fn may
// have been called for a prefix of the fields when it is not.
func JSONFields(s, sep string, fn func(key, value string)) bool {
	p := jsonParser{s: s, sep: sep, fn: fn}
	p.skipSpace()
	if p.i >= len(p.s) || p.s[p.i] != '{' {
		return false
	}
	if !p.object("", 0) {
		return false
	}
	p.skipSpace()
	return p.i == len(p.s)
}

type jsonParser struct {
	s   string
	i   int
	sep string
	fn  func(key, value string)
}

func (p *jsonParser) skipSpace() {
	for p.i < len(p.s) {
		switch p.s[p.i] {
		case ' ', '\t', '\n', '\r':
			p.i++
		default:
			return
		}
	}
}

// object parses {…} at p.i, emitting fields under prefix.
func (p *jsonParser) object(prefix string, depth int) bool {
	p.i++ // {
	p.skipSpace()
	if p.i < len(p.s) && p.s[p.i] == '}' {
		p.i++
		return true
	}
	for {
		p.skipSpace()
		if p.i >= len(p.s) || p.s[p.i] != '"' {
			return false
		}
		k, ok := p.str()
		if !ok {
			return false
		}
		key := k
		if prefix != "" {
			key = prefix + p.sep + k
		}
		p.skipSpace()
		if p.i >= len(p.s) || p.s[p.i] != ':' {
			return false
		}
		p.i++
		p.skipSpace()
		if !p.value(key, depth) {
			return false
		}
		p.skipSpace()
		if p.i >= len(p.s) {
			return false
		}
		switch p.s[p.i] {
		case ',':
			p.i++
		case '}':
			p.i++
			return true
		default:
			return false
		}
	}
}

func (p *jsonParser) value(key string, depth int) bool {
	if p.i >= len(p.s) {
		return false
	}
	switch c := p.s[p.i]; {
	case c == '"':
		v, ok := p.str()
		if ok {
			p.fn(key, v)
		}
		return ok
	case c == '{':
		if depth+1 < maxJSONDepth {
			return p.object(key, depth+1)
		}
		start := p.i
		if !p.skipValue(0) {
			return false
		}
		p.fn(key, p.s[start:p.i])
		return true
	case c == '[':
		start := p.i
		if !p.skipValue(depth) {
			return false
		}
		p.fn(key, p.s[start:p.i])
		return true
	case c == 't':
		return p.literal(key, "true", true)
	case c == 'f':
		return p.literal(key, "false", true)
	case c == 'n':
		return p.literal(key, "null", false)
	case c == '-' || c >= '0' && c <= '9':
		start := p.i
		if !p.number() {
			return false
		}
		p.fn(key, p.s[start:p.i])
		return true
	}
	return false
}

func (p *jsonParser) literal(key, lit string, emit bool) bool {
	if !strings.HasPrefix(p.s[p.i:], lit) {
		return false
	}
	p.i += len(lit)
	if emit {
		p.fn(key, lit)
	}
	return true
}

// number checks the JSON number grammar at p.i and moves past it.
func (p *jsonParser) number() bool {
	s, i := p.s, p.i
	if i < len(s) && s[i] == '-' {
		i++
	}
	switch {
	case i < len(s) && s[i] == '0':
		i++
	case i < len(s) && s[i] >= '1' && s[i] <= '9':
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
	default:
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		d := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == d {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '+' || s[i] == '-') {
			i++
		}
		d := i
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
		}
		if i == d {
			return false
		}
	}
	p.i = i
	return true
}

// skipValue validates and skips any value; depth counts enclosing containers
// so that hostile nesting cannot exhaust the stack.
func (p *jsonParser) skipValue(depth int) bool {
	if depth > 512 {
		return false
	}
	p.skipSpace()
	if p.i >= len(p.s) {
		return false
	}
	switch c := p.s[p.i]; {
	case c == '"':
		_, ok := p.skipStr()
		return ok
	case c == '{' || c == '[':
		closer := byte('}')
		if c == '[' {
			closer = ']'
		}
		p.i++
		p.skipSpace()
		if p.i < len(p.s) && p.s[p.i] == closer {
			p.i++
			return true
		}
		for {
			p.skipSpace()
			if c == '{' {
				if p.i >= len(p.s) || p.s[p.i] != '"' {
					return false
				}
				if _, ok := p.skipStr(); !ok {
					return false
				}
				p.skipSpace()
				if p.i >= len(p.s) || p.s[p.i] != ':' {
					return false
				}
				p.i++
			}
			if !p.skipValue(depth + 1) {
				return false
			}
			p.skipSpace()
			if p.i >= len(p.s) {
				return false
			}
			switch p.s[p.i] {
			case ',':
				p.i++
			case closer:
				p.i++
				return true
			default:
				return false
			}
		}
	case c == 't':
		return p.literal("", "true", false)
	case c == 'f':
		return p.literal("", "false", false)
	case c == 'n':
		return p.literal("", "null", false)
	case c == '-' || c >= '0' && c <= '9':
		return p.number()
	}
	return false
}

// skipStr moves past the string at p.i and reports whether it contains
// escapes.
var strSpecial = func() (t [256]bool) {
	for c := range 0x20 {
		t[c] = true
	}
	t['"'], t['\\'] = true, true
	return t
}()

func (p *jsonParser) skipStr() (escaped, ok bool) {
	i := p.i + 1
	for i < len(p.s) {
		// Plain bytes are skipped in a tight loop; strSpecial marks the
		// quote, the backslash and the control bytes.
		for i < len(p.s) && !strSpecial[p.s[i]] {
			i++
		}
		if i == len(p.s) {
			break
		}
		switch c := p.s[i]; {
		case c == '"':
			p.i = i + 1
			return escaped, true
		case c == '\\':
			escaped = true
			if i+1 >= len(p.s) {
				return false, false
			}
			switch p.s[i+1] {
			case '"', '\\', '/', 'b', 'f', 'n', 'r', 't':
				i += 2
			case 'u':
				if i+6 > len(p.s) || !isHex4(p.s[i+2:i+6]) {
					return false, false
				}
				i += 6
			default:
				return false, false
			}
		case c < 0x20:
			return false, false
		default:
			i++
		}
	}
	return false, false
}

// str returns the unescaped string at p.i. Without escapes it is a substring
// of the input; with escapes it is a new string.
func (p *jsonParser) str() (string, bool) {
	start := p.i
	escaped, ok := p.skipStr()
	if !ok {
		return "", false
	}
	raw := p.s[start+1 : p.i-1]
	if !escaped {
		return raw, true
	}
	return unescapeJSON(raw), true
}

// unescapeJSON decodes the escapes of a string body already validated by
// skipStr. Lone surrogates become U+FFFD, as encoding/json does.
func unescapeJSON(raw string) string {
	b := make([]byte, 0, len(raw))
	for i := 0; i < len(raw); {
		c := raw[i]
		if c != '\\' {
			b = append(b, c)
			i++
			continue
		}
		switch raw[i+1] {
		case 'b':
			b = append(b, '\b')
		case 'f':
			b = append(b, '\f')
		case 'n':
			b = append(b, '\n')
		case 'r':
			b = append(b, '\r')
		case 't':
			b = append(b, '\t')
		case 'u':
			r := rune(hex4(raw[i+2 : i+6]))
			i += 6
			if utf16.IsSurrogate(r) {
				r2 := utf8.RuneError
				if i+6 <= len(raw) && raw[i] == '\\' && raw[i+1] == 'u' {
					r2 = utf16.DecodeRune(r, rune(hex4(raw[i+2:i+6])))
					if r2 != utf8.RuneError {
						i += 6
					}
				}
				r = r2
			}
			b = utf8.AppendRune(b, r)
			continue
		default: // " \ /
			b = append(b, raw[i+1])
		}
		i += 2
	}
	return string(b)
}

func isHex4(s string) bool {
	for i := 0; i < 4; i++ {
		if fromHex(s[i]) < 0 {
			return false
		}
	}
	return true
}

func hex4(s string) int {
	return fromHex(s[0])<<12 | fromHex(s[1])<<8 | fromHex(s[2])<<4 | fromHex(s[3])
}

func fromHex(c byte) int {
	switch {
	case c >= '0' && c <= '9':
		return int(c - '0')
	case c >= 'a' && c <= 'f':
		return int(c-'a') + 10
	case c >= 'A' && c <= 'F':
		return int(c-'A') + 10
	}
	return -1
}
