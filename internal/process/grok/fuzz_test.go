package grok

import (
	"strings"
	"testing"
)

// FuzzCompileMatch checks that no expression or line crashes the compiler
// or the matcher, and that every captured value is a piece of the line.
func FuzzCompileMatch(f *testing.F) {
	for _, seed := range []struct{ expr, line string }{
		{"%{COMBINEDAPACHELOG}", nginxLine},
		{"%{COMMONAPACHELOG}", apacheLine},
		{"%{IP:ip} %{WORD:w}", ipv6Line},
		{`%{TIMESTAMP_ISO8601:timestamp} %{LOGLEVEL:level} %{GREEDYDATA:message}`, "2025-01-14 09:12:44,123 ERROR boom"},
		{`%{CUSTOM:c} (?<n>\d+)`, "ORD-1 2"},
		{"%{A}", "loop"},
		{"%{INT:x:int", "12"},
		{"%{QS:q}%{", `"a"`},
	} {
		f.Add(seed.expr, seed.line)
	}
	defs := map[string]string{"CUSTOM": "ORD-%{INT}", "A": "%{B}", "B": "%{A}", "D": "%{D1}%{D1}", "D1": "%{IPORHOST}%{IPORHOST}"}
	f.Fuzz(func(t *testing.T, expr, line string) {
		if len(expr) > 512 || len(line) > 1024 {
			return
		}
		p, err := Compile(expr, defs)
		if err != nil {
			return
		}
		p.Match(line, func(field, value string) {
			if field == "" {
				t.Fatalf("empty field name from %q", expr)
			}
			if !strings.Contains(line, value) {
				t.Fatalf("value %q of %s is not part of the line", value, field)
			}
		})
	})
}
