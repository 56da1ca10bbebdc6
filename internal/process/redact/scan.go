package redact

import (
	"regexp/syntax"
	"slices"
	"strings"
)

// span is a half-open byte range to mask.
type span struct{ start, end int }

// Byte classes that start a detector; everything else is skipped by one
// table lookup, so clean text costs about one load per byte.
const (
	clsNone  uint8 = iota
	clsSep         // '=' or ':' after a possible key
	clsDigit       // a possible card number
	clsB           // a possible "Bearer "
)

var classes = func() (c [256]uint8) {
	c['='], c[':'] = clsSep, clsSep
	for d := '0'; d <= '9'; d++ {
		c[d] = clsDigit
	}
	c['b'], c['B'] = clsB, clsB
	return c
}()

// String redacts s and reports whether it changed anything. Clean text is
// returned without allocating.
func (r *Redactor) String(s string) (string, bool) {
	var buf [8]span
	sp := buf[:0]
	for i := 0; i < len(s); {
		// Most bytes start nothing: skip them in a tight loop.
		for i < len(s) && classes[s[i]] == clsNone {
			i++
		}
		if i == len(s) {
			break
		}
		switch classes[s[i]] {
		case clsSep:
			sp, i = r.keyValue(s, i, sp)
		case clsDigit:
			if !r.luhn {
				i++
				continue
			}
			// A short run of digits that no separator continues cannot
			// hold a card number; skip it without luhnRun's bookkeeping.
			j := i + 1
			for j < len(s) && isDigit(s[j]) {
				j++
			}
			if j-i < minCardDigits && (j == len(s) || s[j] != ' ' && s[j] != '-') {
				i = j
				continue
			}
			sp, i = luhnRun(s, i, sp)
		case clsB:
			sp, i = bearer(s, i, sp)
		default:
			i++
		}
	}
	for i, re := range r.patterns {
		if l := r.literals[i]; l.text != "" && !l.in(s) {
			continue
		}
		for _, m := range re.FindAllStringSubmatchIndex(s, -1) {
			if len(m) >= 4 && m[2] >= 0 {
				sp = append(sp, span{m[2], m[3]})
			} else {
				sp = append(sp, span{m[0], m[1]})
			}
		}
	}
	if len(sp) == 0 {
		return s, false
	}
	return r.apply(s, sp)
}

// apply replaces the spans, merged where they overlap. Spans that already
// hold the replacement are left alone, so that redacting twice changes
// nothing.
func (r *Redactor) apply(s string, sp []span) (string, bool) {
	slices.SortFunc(sp, func(a, b span) int { return a.start - b.start })
	var out strings.Builder
	last, changed := 0, false
	for i := 0; i < len(sp); {
		cur := sp[i]
		for i++; i < len(sp) && sp[i].start <= cur.end; i++ {
			cur.end = max(cur.end, sp[i].end)
		}
		if cur.end <= cur.start || s[cur.start:cur.end] == r.repl {
			continue
		}
		if !changed {
			out.Grow(len(s))
			changed = true
		}
		out.WriteString(s[last:cur.start])
		out.WriteString(r.repl)
		last = cur.end
	}
	if !changed {
		return s, false
	}
	out.WriteString(s[last:])
	return out.String(), true
}

// keyValue handles the separator s[p] ('=' or ':'): when a sensitive key
// precedes it, it adds the span of the value that follows. It returns where
// scanning continues.
func (r *Redactor) keyValue(s string, p int, sp []span) ([]span, int) {
	// The key: skip spaces and a closing quote (or an escaped one, \",
	// inside a JSON string) before the separator.
	e := p
	for e > 0 && s[e-1] == ' ' {
		e--
	}
	if e > 0 && (s[e-1] == '"' || s[e-1] == '\'') {
		e--
		if e > 0 && s[e-1] == '\\' {
			e--
		}
	}
	b := e
	for b > 0 && isKeyChar(s[b-1]) {
		b--
	}
	if s[p] == ':' && b >= 3 && s[b-3:b] == "://" {
		if start, end, ok := urlPassword(s, p+1); ok {
			return append(sp, span{start, end}), end
		}
		return sp, p + 1
	}
	if e-b < r.minKey {
		return sp, p + 1
	}
	w := r.match(s[b:e])
	if w < 0 {
		return sp, p + 1
	}
	start, end := r.value(s, p+1, s[p], w == r.cookie)
	if end <= start {
		return sp, p + 1
	}
	return append(sp, span{start, end}), end
}

func isKeyChar(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' || c == '-' || c == '.'
}

func isAlnum(c byte) bool {
	return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9'
}

// value returns the span of the value that starts at or after v.
func (r *Redactor) value(s string, v int, sep byte, cookie bool) (int, int) {
	for v < len(s) && s[v] == ' ' {
		v++
	}
	if v >= len(s) || strings.HasPrefix(s[v:], r.repl) {
		return 0, 0
	}
	switch s[v] {
	case '"', '\'':
		q := s[v]
		j := v + 1
		for j < len(s) && s[j] != q {
			if s[j] == '\\' {
				j++
			}
			j++
		}
		return v + 1, min(j, len(s))
	case '\\':
		if v+1 < len(s) && s[v+1] == '"' { // an escaped quote inside a JSON string
			if j := strings.Index(s[v+2:], `\"`); j >= 0 {
				return v + 2, v + 2 + j
			}
			return v + 2, len(s)
		}
	case '{', '[':
		// Structured values are left to the keys inside them and to the
		// value rules.
		return 0, 0
	}
	if sep == ':' && cookie {
		end := strings.IndexAny(s[v:], "\r\n\"\\")
		if end < 0 {
			return v, len(s)
		}
		return v, v + end
	}
	if n := authScheme(s[v:]); n > 0 {
		v += n
		if strings.HasPrefix(s[v:], r.repl) {
			return 0, 0
		}
	}
	end := v
	for end < len(s) && !isValueEnd(s[end]) {
		end++
	}
	return v, end
}

func isValueEnd(c byte) bool {
	switch c {
	case ' ', '\t', '\r', '\n', '&', ',', ';', '"', '\'', '}', ']', ')', '<', '>', '\\':
		return true
	}
	return false
}

// authSchemes are HTTP authentication schemes whose name is kept before the
// masked credential.
var authSchemes = []string{"bearer ", "basic ", "digest ", "token ", "negotiate ", "apikey "}

// authScheme returns the length of an authentication scheme and the spaces
// after it at the start of s, or 0.
func authScheme(s string) int {
	for _, a := range authSchemes {
		if len(s) > len(a) && strings.EqualFold(s[:len(a)], a) {
			n := len(a)
			for n < len(s) && s[n] == ' ' {
				n++
			}
			return n
		}
	}
	return 0
}

// bearer handles s[i] == 'b' or 'B': "Bearer <credential>" anywhere,
// whatever the key, masks a credential of at least 8 characters.
func bearer(s string, i int, sp []span) ([]span, int) {
	const word = "bearer "
	if len(s)-i <= len(word) || !strings.EqualFold(s[i:i+len(word)], word) || i > 0 && isAlnum(s[i-1]) {
		return sp, i + 1
	}
	v := i + len(word)
	for v < len(s) && s[v] == ' ' {
		v++
	}
	end := v
	for end < len(s) && isTokenChar(s[end]) {
		end++
	}
	if end-v < 8 {
		return sp, v
	}
	return append(sp, span{v, end}), end
}

// isTokenChar reports whether c may appear in an RFC 6750 b64token.
func isTokenChar(c byte) bool {
	return isAlnum(c) || c == '-' || c == '.' || c == '_' || c == '~' || c == '+' || c == '/' || c == '='
}

// urlPassword finds the password of a URL's userinfo, "scheme://user:PASSWORD@host",
// where s[v-1] is the colon after the user.
func urlPassword(s string, v int) (int, int, bool) {
	for j := v; j < len(s); j++ {
		switch s[j] {
		case '@':
			return v, j, j > v
		case '/', ' ', '\t', '\n', '"', '\'', '?', '#', '\\':
			return 0, 0, false
		}
	}
	return 0, 0, false
}

// literal is text that every match of a regexp contains.
type literal struct {
	text string
	fold bool // ASCII case is ignored; text is lowercase
}

// in reports whether s contains l.
func (l literal) in(s string) bool {
	if !l.fold {
		return strings.Contains(s, l.text)
	}
	first := l.text[0]
	for i := 0; i+len(l.text) <= len(s); i++ {
		if lower(s[i]) == first && strings.EqualFold(s[i:i+len(l.text)], l.text) {
			return true
		}
	}
	return false
}

// requiredLiteral returns the longest literal that every match of the
// regexp expr contains, or an empty one. Text without it cannot match,
// which a substring search checks far faster than the regexp engine.
func requiredLiteral(expr string) literal {
	re, err := syntax.Parse(expr, syntax.Perl)
	if err != nil {
		return literal{}
	}
	return literalIn(re.Simplify())
}

func literalIn(re *syntax.Regexp) literal {
	switch re.Op {
	case syntax.OpLiteral:
		text := string(re.Rune)
		if re.Flags&syntax.FoldCase == 0 {
			return literal{text: text}
		}
		for _, c := range re.Rune {
			if c >= 0x80 || c == 'k' || c == 's' || c == 'K' || c == 'S' {
				// Unicode folding maps k and s onto non-ASCII runes too.
				return literal{}
			}
		}
		return literal{text: strings.ToLower(text), fold: true}
	case syntax.OpCapture, syntax.OpPlus:
		return literalIn(re.Sub[0])
	case syntax.OpRepeat:
		if re.Min >= 1 {
			return literalIn(re.Sub[0])
		}
	case syntax.OpConcat:
		var best literal
		for _, sub := range re.Sub {
			if l := literalIn(sub); len(l.text) > len(best.text) {
				best = l
			}
		}
		return best
	}
	return literal{}
}
