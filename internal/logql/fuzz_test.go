package logql

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// FuzzParse checks that the parser never panics, that every error is a
// *ParseError, and that a parsed query prints to text that parses back to
// the same query. Seeds are the queries of the script tests.
func FuzzParse(f *testing.F) {
	for _, s := range []string{
		`{app="foo"}`,
		`{app="foo", env=~"prod|dev"} |= "error" != "timeout" |~ "(?i)fail" or "x"`,
		`{app="foo"} | json first="a.b", ua="h[\"User-Agent\"]" | logfmt --strict x | regexp "(?P<a>\\w+)" | pattern "<a> <_>" | unpack`,
		`{app="foo"} | status >= 500 and duration > 10s or size <= 20KB, method!~"2.." | line_format "{{.a | upper}}" | label_format a=b, c="{{.d}}" | drop x, y="z" | keep a | decolorize`,
		`sum by (app) (rate({app="foo"} |= "x" [5m] offset 1m)) / on (app) group_left (pod) sum(count_over_time({a="b"}[1h])) > bool 0.5`,
		`quantile_over_time(0.99, {a="b"} | json | unwrap duration(latency) | __error__="" [1m]) by (pod)`,
		`topk(3, sum without (a) (bytes_rate(({a="b"} | json)[1d]))) or vector(0)`,
		`label_replace(-1 + 2 ^ 3 ^ -1 % 5, "a", "$1", "b", "(.*)")`,
		"{a=`b`} # comment\n | x=\"y\"",
	} {
		f.Add(s)
	}
	files, _ := filepath.Glob("testdata/*.test")
	for _, file := range files {
		data, err := os.ReadFile(file)
		if err != nil {
			f.Fatal(err)
		}
		for _, line := range strings.Split(string(data), "\n") {
			if !strings.HasPrefix(line, "eval ") {
				continue
			}
			ev, err := parseEvalLine(stripComment(line))
			if err == nil {
				f.Add(ev.params.Query)
			}
		}
	}
	f.Fuzz(func(t *testing.T, q string) {
		if len(q) > 4096 {
			t.Skip()
		}
		e, err := ParseExpr(q)
		if err != nil {
			if _, ok := err.(*ParseError); !ok {
				t.Fatalf("error %T is not a *ParseError: %v", err, err)
			}
			return
		}
		s := e.String()
		again, err := ParseExpr(s)
		if err != nil {
			t.Fatalf("printed query %q (from %q) does not parse: %v", s, q, err)
		}
		if again.String() != s {
			t.Fatalf("round trip changed the query:\n%q\n%q", s, again.String())
		}
	})
}
