// Package grok compiles grok expressions, regular expressions with named,
// reusable sub-patterns written %{NAME} or %{NAME:field}, into Go regexps.
//
// An expression is RE2 syntax in which every %{NAME} is replaced by the
// definition of NAME, looked up first in the caller's definitions and then in
// the built-in library (see Names). %{NAME:field} also captures what NAME
// matched as field; %{NAME:field:int} and %{NAME:field:float} are accepted for
// compatibility with Logstash, but values stay strings. RE2 named groups,
// (?P<field>…) or (?<field>…), capture fields too. Like Logstash's grok, an
// expression matches anywhere in the line unless it is anchored with ^ or $.
package grok

import (
	"errors"
	"fmt"
	"regexp"
	"strconv"
	"strings"
)

// MaxExpandedLen bounds the regexp an expression expands to. Definitions that
// refer to each other several times can grow exponentially; they are refused
// rather than compiled.
const MaxExpandedLen = 64 << 10

// maxDepth bounds the nesting of %{…} references.
const maxDepth = 32

// groupPrefix names the capture groups generated for %{NAME:field}; the
// number that follows indexes Pattern.generated.
const groupPrefix = "__grok"

// Pattern is a compiled grok expression. It is safe for concurrent use.
type Pattern struct {
	expr   string
	re     *regexp.Regexp
	fields []string // by subexpression index; "" for groups that capture no field
}

// Compile expands expr with defs and the built-in library and compiles it.
// defs may be nil; a definition in defs replaces a built-in one of the same
// name.
func Compile(expr string, defs map[string]string) (*Pattern, error) {
	c := compiler{defs: defs}
	if err := c.expand(expr, 0); err != nil {
		return nil, err
	}
	re, err := regexp.Compile(c.out.String())
	if err != nil {
		return nil, fmt.Errorf("compile expanded regexp: %w", err)
	}
	p := &Pattern{expr: expr, re: re, fields: make([]string, re.NumSubexp()+1)}
	for i, name := range re.SubexpNames() {
		if n, ok := strings.CutPrefix(name, groupPrefix); ok {
			if k, err := strconv.Atoi(n); err == nil && k >= 0 && k < len(c.generated) {
				p.fields[i] = c.generated[k]
				continue
			}
		}
		p.fields[i] = name
	}
	return p, nil
}

// Match finds the leftmost match of p in s and calls fn, in the order the
// fields appear in the expression, for every field whose group took part in
// the match. Values are substrings of s. It reports whether p matched.
func (p *Pattern) Match(s string, fn func(field, value string)) bool {
	m := p.re.FindStringSubmatchIndex(s)
	if m == nil {
		return false
	}
	for i := 1; i < len(p.fields); i++ {
		if p.fields[i] == "" || m[2*i] < 0 {
			continue
		}
		fn(p.fields[i], s[m[2*i]:m[2*i+1]])
	}
	return true
}

// Fields returns the names of the fields p can capture, in order, with
// duplicates.
func (p *Pattern) Fields() []string {
	var out []string
	for _, f := range p.fields {
		if f != "" {
			out = append(out, f)
		}
	}
	return out
}

// String returns the expression p was compiled from.
func (p *Pattern) String() string { return p.expr }

// Regexp returns the expanded regular expression.
func (p *Pattern) Regexp() string { return p.re.String() }

type compiler struct {
	defs      map[string]string
	out       strings.Builder
	generated []string // field of each generated group
	stack     []string // names being expanded, to report cycles
}

// ErrTooLarge is returned when an expression expands beyond MaxExpandedLen.
var ErrTooLarge = errors.New("expanded expression too large")

func (c *compiler) expand(expr string, depth int) error {
	for {
		i := strings.Index(expr, "%{")
		if i < 0 {
			c.out.WriteString(expr)
			return c.checkSize()
		}
		c.out.WriteString(expr[:i])
		end := strings.IndexByte(expr[i+2:], '}')
		if end < 0 {
			return fmt.Errorf("unclosed %%{ in %q", clip(expr[i:]))
		}
		ref := expr[i+2 : i+2+end]
		expr = expr[i+2+end+1:]

		name, field, err := splitRef(ref)
		if err != nil {
			return err
		}
		def, ok := c.defs[name]
		if !ok {
			def, ok = builtin[name]
		}
		if !ok {
			return fmt.Errorf("unknown pattern %%{%s}: define it in pattern_definitions or use a built-in one such as IPORHOST, HTTPDATE or GREEDYDATA", name)
		}
		for _, s := range c.stack {
			if s == name {
				return fmt.Errorf("pattern %%{%s} refers to itself through %s", name, strings.Join(c.stack, " → "))
			}
		}
		if depth >= maxDepth {
			return fmt.Errorf("patterns nest deeper than %d levels at %%{%s}", maxDepth, name)
		}
		if field != "" {
			fmt.Fprintf(&c.out, "(?P<%s%d>", groupPrefix, len(c.generated))
			c.generated = append(c.generated, field)
		} else {
			c.out.WriteString("(?:")
		}
		c.stack = append(c.stack, name)
		if err := c.expand(def, depth+1); err != nil {
			return err
		}
		c.stack = c.stack[:len(c.stack)-1]
		c.out.WriteByte(')')
		if err := c.checkSize(); err != nil {
			return err
		}
	}
}

func (c *compiler) checkSize() error {
	if c.out.Len() > MaxExpandedLen {
		return fmt.Errorf("%w: more than %d bytes", ErrTooLarge, MaxExpandedLen)
	}
	return nil
}

// splitRef splits NAME[:field[:type]] and checks each part; the type is
// accepted for compatibility and dropped.
func splitRef(ref string) (name, field string, err error) {
	parts := strings.SplitN(ref, ":", 3)
	name = parts[0]
	if name == "" || !isName(name) {
		return "", "", fmt.Errorf("invalid pattern reference %%{%s}: a pattern name is letters, digits and _", clip(ref))
	}
	if len(parts) > 1 {
		field = parts[1]
		if field == "" || strings.ContainsAny(field, " \t\n") || len(field) > 128 {
			return "", "", fmt.Errorf("invalid field name in %%{%s}: use %%{NAME:field} with a non-empty field name without spaces", clip(ref))
		}
	}
	if len(parts) > 2 {
		if typ := parts[2]; typ != "int" && typ != "float" {
			return "", "", fmt.Errorf("invalid type in %%{%s}: only int and float are accepted", clip(ref))
		}
	}
	return name, field, nil
}

// IsName reports whether s is a valid pattern name.
func IsName(s string) bool { return s != "" && isName(s) }

func isName(s string) bool {
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'A' && c <= 'Z' || c >= 'a' && c <= 'z' || c >= '0' && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

func clip(s string) string {
	if len(s) > 40 {
		return s[:40] + "…"
	}
	return s
}
