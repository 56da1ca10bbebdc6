package logql

import (
	"fmt"
	"strconv"
	"strings"
	"unicode"
	"unicode/utf8"
)

type tokenKind uint8

const (
	tokEOF tokenKind = iota
	tokIdent
	tokString
	tokNumber
	tokDuration
	tokBytes
	tokRange // [5m]
	tokFlag  // --strict
	tokLBrace
	tokRBrace
	tokLParen
	tokRParen
	tokComma
	tokPipe        // |
	tokEq          // =
	tokEqEq        // ==
	tokNeq         // !=
	tokRe          // =~
	tokNre         // !~
	tokPipeExact   // |=
	tokPipeMatch   // |~
	tokPipePattern // |>
	tokNotPattern  // !>
	tokGt
	tokGte
	tokLt
	tokLte
	tokAdd
	tokSub
	tokMul
	tokDiv
	tokMod
	tokPow
)

var punctText = map[tokenKind]string{
	tokLBrace: "{", tokRBrace: "}", tokLParen: "(", tokRParen: ")", tokComma: ",",
	tokPipe: "|", tokEq: "=", tokEqEq: "==", tokNeq: "!=", tokRe: "=~", tokNre: "!~",
	tokPipeExact: "|=", tokPipeMatch: "|~", tokPipePattern: "|>", tokNotPattern: "!>",
	tokGt: ">", tokGte: ">=", tokLt: "<", tokLte: "<=", tokAdd: "+", tokSub: "-",
	tokMul: "*", tokDiv: "/", tokMod: "%", tokPow: "^",
}

// keywords are the identifiers Loki's grammar reserves. Errors name them by
// their text, as Loki does, and every other identifier as IDENTIFIER.
var keywords = map[string]bool{
	"by": true, "without": true, "bool": true, "on": true, "ignoring": true,
	"group_left": true, "group_right": true, "offset": true, "and": true, "or": true,
	"unless": true, "json": true, "logfmt": true, "regexp": true, "pattern": true,
	"unpack": true, "unwrap": true, "line_format": true, "label_format": true,
	"decolorize": true, "drop": true, "keep": true, "ip": true,
	"duration": true, "duration_seconds": true, "bytes": true, "vector": true,
	"label_replace":   true,
	"count_over_time": true, "rate": true, "rate_counter": true, "bytes_over_time": true,
	"bytes_rate": true, "avg_over_time": true, "sum_over_time": true, "min_over_time": true,
	"max_over_time": true, "stdvar_over_time": true, "stddev_over_time": true,
	"quantile_over_time": true, "first_over_time": true, "last_over_time": true,
	"absent_over_time": true, "sum": true, "avg": true, "count": true, "max": true,
	"min": true, "stddev": true, "stdvar": true, "topk": true, "bottomk": true,
	"sort": true, "sort_desc": true,
}

type pos struct{ line, col int }

type token struct {
	kind tokenKind
	text string // source text; for strings the unquoted value
	pos  pos
}

// describe names the token the way Loki's syntax errors do.
func (t token) describe() string {
	switch t.kind {
	case tokEOF:
		return "$end"
	case tokIdent:
		if keywords[t.text] {
			return t.text
		}
		return "IDENTIFIER"
	case tokString:
		return "STRING"
	case tokNumber:
		return "NUMBER"
	case tokDuration:
		return "DURATION"
	case tokBytes:
		return "BYTES"
	case tokRange:
		return "RANGE"
	case tokFlag:
		return t.text
	}
	return punctText[t.kind]
}

// lexer turns a query into tokens. Errors are reported as *ParseError with
// the position of the offending character.
type lexer struct {
	src  string
	off  int
	line int
	col  int // column of src[off], 1-based, in runes
}

func newLexer(src string) *lexer { return &lexer{src: src, line: 1, col: 1} }

func (l *lexer) peekRune() rune {
	if l.off >= len(l.src) {
		return -1
	}
	r, _ := utf8.DecodeRuneInString(l.src[l.off:])
	return r
}

func (l *lexer) peekRuneAt(n int) rune {
	o := l.off
	for i := 0; i < n; i++ {
		if o >= len(l.src) {
			return -1
		}
		_, sz := utf8.DecodeRuneInString(l.src[o:])
		o += sz
	}
	if o >= len(l.src) {
		return -1
	}
	r, _ := utf8.DecodeRuneInString(l.src[o:])
	return r
}

func (l *lexer) advance() rune {
	r, sz := utf8.DecodeRuneInString(l.src[l.off:])
	l.off += sz
	if r == '\n' {
		l.line++
		l.col = 1
	} else {
		l.col++
	}
	return r
}

func (l *lexer) errorf(p pos, format string, args ...any) error {
	return &ParseError{Line: p.line, Col: p.col, Msg: fmt.Sprintf(format, args...)}
}

func (l *lexer) skipSpaceAndComments() {
	for l.off < len(l.src) {
		r := l.peekRune()
		switch {
		case r == '#':
			for l.off < len(l.src) && l.peekRune() != '\n' {
				l.advance()
			}
		case unicode.IsSpace(r):
			l.advance()
		default:
			return
		}
	}
}

// next returns the next token.
func (l *lexer) next() (token, error) {
	l.skipSpaceAndComments()
	p := pos{l.line, l.col}
	if l.off >= len(l.src) {
		return token{kind: tokEOF, pos: p}, nil
	}
	r := l.peekRune()
	two := func(k tokenKind) (token, error) {
		l.advance()
		l.advance()
		return token{kind: k, text: punctText[k], pos: p}, nil
	}
	one := func(k tokenKind) (token, error) {
		l.advance()
		return token{kind: k, text: punctText[k], pos: p}, nil
	}
	r2 := l.peekRuneAt(1)
	switch {
	case r == '"' || r == '`':
		return l.lexString(p)
	case r == '[':
		return l.lexRange(p)
	case isIdentStart(r):
		start := l.off
		for l.off < len(l.src) && isIdentChar(l.peekRune()) {
			l.advance()
		}
		return token{kind: tokIdent, text: l.src[start:l.off], pos: p}, nil
	case r >= '0' && r <= '9' || r == '.' && r2 >= '0' && r2 <= '9':
		return l.lexNumber(p)
	case r == '-' && r2 == '-' && isIdentStart(l.peekRuneAt(2)):
		start := l.off
		l.advance()
		l.advance()
		for l.off < len(l.src) && (isIdentChar(l.peekRune()) || l.peekRune() == '-') {
			l.advance()
		}
		return token{kind: tokFlag, text: l.src[start:l.off], pos: p}, nil
	}
	switch r {
	case '{':
		return one(tokLBrace)
	case '}':
		return one(tokRBrace)
	case '(':
		return one(tokLParen)
	case ')':
		return one(tokRParen)
	case ',':
		return one(tokComma)
	case '+':
		return one(tokAdd)
	case '-':
		return one(tokSub)
	case '*':
		return one(tokMul)
	case '/':
		return one(tokDiv)
	case '%':
		return one(tokMod)
	case '^':
		return one(tokPow)
	case '|':
		switch r2 {
		case '=':
			return two(tokPipeExact)
		case '~':
			return two(tokPipeMatch)
		case '>':
			return two(tokPipePattern)
		}
		return one(tokPipe)
	case '=':
		switch r2 {
		case '=':
			return two(tokEqEq)
		case '~':
			return two(tokRe)
		}
		return one(tokEq)
	case '!':
		switch r2 {
		case '=':
			return two(tokNeq)
		case '~':
			return two(tokNre)
		case '>':
			return two(tokNotPattern)
		}
	case '>':
		if r2 == '=' {
			return two(tokGte)
		}
		return one(tokGt)
	case '<':
		if r2 == '=' {
			return two(tokLte)
		}
		return one(tokLt)
	}
	return token{}, l.errorf(p, "syntax error: unexpected character %q", r)
}

func isIdentStart(r rune) bool {
	return r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z'
}

func isIdentChar(r rune) bool {
	return isIdentStart(r) || r >= '0' && r <= '9'
}

func (l *lexer) lexString(p pos) (token, error) {
	quote := l.advance()
	start := l.off - 1
	for {
		if l.off >= len(l.src) {
			return token{}, l.errorf(p, "literal not terminated")
		}
		r := l.advance()
		if r == quote {
			break
		}
		if quote == '"' {
			if r == '\n' {
				return token{}, l.errorf(p, "literal not terminated")
			}
			if r == '\\' {
				if l.off >= len(l.src) {
					return token{}, l.errorf(p, "literal not terminated")
				}
				l.advance()
			}
		}
	}
	raw := l.src[start:l.off]
	if quote == '`' {
		return token{kind: tokString, text: raw[1 : len(raw)-1], pos: p}, nil
	}
	s, err := strconv.Unquote(raw)
	if err != nil {
		return token{}, l.errorf(p, "invalid string literal %s: %v", raw, err)
	}
	return token{kind: tokString, text: s, pos: p}, nil
}

func (l *lexer) lexRange(p pos) (token, error) {
	l.advance() // [
	start := l.off
	for l.off < len(l.src) && l.peekRune() != ']' {
		l.advance()
	}
	if l.off >= len(l.src) {
		return token{}, l.errorf(p, "syntax error: unclosed range")
	}
	body := strings.TrimSpace(l.src[start:l.off])
	l.advance() // ]
	if _, err := parseDuration(body); err != nil {
		return token{}, l.errorf(p, "not a valid duration string: %q", body)
	}
	return token{kind: tokRange, text: body, pos: p}, nil
}

// lexNumber scans a number, duration ("1m30s", "1.5h") or byte size
// ("20KB", "1.5KiB"): digits, letters and dots glued together, plus a sign
// right after an exponent.
func (l *lexer) lexNumber(p pos) (token, error) {
	start := l.off
	for l.off < len(l.src) {
		r := l.peekRune()
		if r >= '0' && r <= '9' || r == '.' || r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r == 'µ' {
			l.advance()
			if (r == 'e' || r == 'E') && (l.peekRune() == '+' || l.peekRune() == '-') && isHexless(l.src[start:l.off]) {
				l.advance()
			}
			continue
		}
		break
	}
	text := l.src[start:l.off]
	if _, err := strconv.ParseFloat(text, 64); err == nil && !strings.ContainsAny(text, "xXoObB_") && !isSpecialFloat(text) {
		return token{kind: tokNumber, text: text, pos: p}, nil
	}
	if _, err := parseDuration(text); err == nil {
		return token{kind: tokDuration, text: text, pos: p}, nil
	}
	if _, err := parseBytes(text); err == nil {
		return token{kind: tokBytes, text: text, pos: p}, nil
	}
	return token{}, l.errorf(p, "unable to parse literal as a float: %s", text)
}

// isHexless reports whether a number prefix can take an exponent sign: a
// decimal mantissa ending in e or E.
func isHexless(s string) bool {
	if len(s) < 2 || strings.HasPrefix(s, "0x") || strings.HasPrefix(s, "0X") {
		return false
	}
	for _, r := range s[:len(s)-1] {
		if !(r >= '0' && r <= '9' || r == '.') {
			return false
		}
	}
	return true
}

func isSpecialFloat(s string) bool {
	ls := strings.ToLower(s)
	return strings.Contains(ls, "inf") || strings.Contains(ls, "nan")
}
