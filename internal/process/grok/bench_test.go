package grok

import (
	"strings"
	"testing"
)

func BenchmarkMatch(b *testing.B) {
	cases := []struct{ name, expr, line string }{
		{"combined/nginx", "%{COMBINEDAPACHELOG}", nginxLine},
		{"combined/nomatch", "%{COMBINEDAPACHELOG}", `{"level":"info","message":"hello world","user_id":42,"path":"/api/v1/contacts"}`},
		{"combined/anchored-nomatch", "^%{COMBINEDAPACHELOG}", `{"level":"info","message":"hello world","user_id":42,"path":"/api/v1/contacts"}`},
		{"app", `%{TIMESTAMP_ISO8601:timestamp} %{LOGLEVEL:level} %{GREEDYDATA:message}`, "2025-01-14 09:12:44,123 ERROR Payment gateway timeout after 30s order_id=9912"},
		{"combined/4k-nomatch", "%{COMBINEDAPACHELOG}", strings.Repeat("x=1 ", 1024)},
	}
	for _, c := range cases {
		p, err := Compile(c.expr, nil)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(len(c.line)))
			for b.Loop() {
				p.Match(c.line, func(string, string) {})
			}
		})
	}
}

func BenchmarkCompile(b *testing.B) {
	b.ReportAllocs()
	for b.Loop() {
		if _, err := Compile("%{COMBINEDAPACHELOG}", nil); err != nil {
			b.Fatal(err)
		}
	}
}
