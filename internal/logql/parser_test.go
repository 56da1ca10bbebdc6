package logql

import (
	"errors"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/stretchr/testify/require"
)

func TestParseRoundTrip(t *testing.T) {
	tests := []struct {
		name, in, want string
	}{
		{"selector", `{app="foo",env!="dev", pod=~"p-.+", ns!~"kube.*"}`, `{app="foo", env!="dev", pod=~"p-.+", ns!~"kube.*"}`},
		{"backticks", "{app=`a\\b`}", `{app="a\\b"}`},
		{"line filters", `{a="b"} |= "x" != "y" |~ "z+" !~ "w" |> "<_> ok" !> "x <_>"`, `{a="b"} |= "x" != "y" |~ "z+" !~ "w" |> "<_> ok" !> "x <_>"`},
		{"line filter or", `{a="b"} |= "x" or "y" or "z"`, `{a="b"} |= "x" or "y" or "z"`},
		{"parsers", `{a="b"} | json | logfmt | regexp "(?P<x>.)" | pattern "<x> <_>" | unpack`, `{a="b"} | json | logfmt | regexp "(?P<x>.)" | pattern "<x> <_>" | unpack`},
		{"json params", `{a="b"} | json first="a.b", ua="h[\"User-Agent\"]", servers`, `{a="b"} | json first="a.b", ua="h[\"User-Agent\"]", servers="servers"`},
		{"logfmt flags", `{a="b"} | logfmt --strict --keep-empty host, ip="fwd"`, `{a="b"} | logfmt --strict --keep-empty host="host", ip="fwd"`},
		{"label filters", `{a="b"} | x="1" , y!~"2" z > 10s or w <= 20KB and v == 1.5`, `{a="b"} | x="1" and y!~"2" and z>10s or w<=20KB and v==1.5`},
		{"label filter parens", `{a="b"} | (x="1" or y="2") and z=3`, `{a="b"} | (x="1" or y="2") and z=3`},
		{"label filter and binds tighter", `{a="b"} | x="1" or y="2" and z=3`, `{a="b"} | x="1" or y="2" and z=3`},
		{"label filter or and", `{a="b"} | x="1" or (y="2" or z="3")`, `{a="b"} | x="1" or (y="2" or z="3")`},
		{"negative number", `{a="b"} | x > -5`, `{a="b"} | x>-5`},
		{"formatters", `{a="b"} | line_format "{{.x}}" | label_format a=b, c="{{.d}}" | drop x, y="z" | keep a, b=~"c" | decolorize`, `{a="b"} | line_format "{{.x}}" | label_format a=b, c="{{.d}}" | drop x, y="z" | keep a, b=~"c" | decolorize`},
		{"count_over_time", `count_over_time({a="b"}[5m])`, `count_over_time({a="b"} [5m])`},
		{"range after selector", `count_over_time({a="b"}[5m] |= "x")`, `count_over_time(({a="b"} |= "x") [5m])`},
		{"range at end", `rate({a="b"} |= "x" [1h30m] offset 5m)`, `rate(({a="b"} |= "x") [1h30m] offset 5m)`},
		{"parenthesised log range", `bytes_rate(({a="b"} | json)[1d])`, `bytes_rate(({a="b"} | json) [24h])`},
		{"unwrap", `sum_over_time({a="b"} | logfmt | unwrap duration(latency) | __error__="" [1m])`, `sum_over_time(({a="b"} | logfmt | unwrap duration(latency) | __error__="") [1m])`},
		{"quantile", `quantile_over_time(0.99, {a="b"} | json | unwrap bytes(size) [1m]) by (pod)`, `quantile_over_time(0.99, ({a="b"} | json | unwrap bytes(size)) [1m]) by (pod)`},
		{"vector aggregation before", `sum by (a, b) (rate({a="b"}[1m]))`, `sum by (a, b) (rate({a="b"} [1m]))`},
		{"vector aggregation after", `sum(rate({a="b"}[1m])) without (c)`, `sum without (c) (rate({a="b"} [1m]))`},
		{"vector aggregation plain", `sum(rate({a="b"}[1m]))`, `sum(rate({a="b"} [1m]))`},
		{"topk", `topk(5, sum by (a) (rate({a="b"}[1m])))`, `topk(5, sum by (a) (rate({a="b"} [1m])))`},
		{"binary precedence", `1 + 2 * 3 - 4 / 2 ^ 2 ^ 3`, `1 + 2 * 3 - 4 / 2 ^ 2 ^ 3`},
		{"binary parens", `(1 + 2) * (3 - 4)`, `(1 + 2) * (3 - 4)`},
		{"binary left assoc", `1 - (2 - 3)`, `1 - (2 - 3)`},
		{"binary power", `(2 ^ 3) ^ 2`, `(2 ^ 3) ^ 2`},
		{"comparison bool", `rate({a="b"}[1m]) > bool 5`, `rate({a="b"} [1m]) > bool 5`},
		{"matching", `sum by (a, c) (rate({a="b"}[1m])) / on (a) group_left (c) sum by (a) (rate({a="b"}[1m]))`, `sum by (a, c) (rate({a="b"} [1m])) / on (a) group_left (c) sum by (a) (rate({a="b"} [1m]))`},
		{"set ops", `rate({a="b"}[1m]) and rate({a="c"}[1m]) or vector(0)`, `rate({a="b"} [1m]) and rate({a="c"} [1m]) or vector(0)`},
		{"negative literal", `-1 + -2`, `-1 + (-2)`},
		{"keyword as parameter", `{a="b"} | json ip, bytes="b"`, `{a="b"} | json ip="ip", bytes="b"`},
		{"label_replace", `label_replace(rate({a="b"}[1m]), "x", "$1", "a", "(.*)")`, `label_replace(rate({a="b"} [1m]), "x", "$1", "a", "(.*)")`},
		{"comments and newlines", "{a=\"b\"} # comment\n  |= \"x\"", `{a="b"} |= "x"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			e, err := ParseExpr(tt.in)
			require.NoError(t, err)
			require.Equal(t, tt.want, e.String())
			again, err := ParseExpr(e.String())
			require.NoError(t, err)
			require.Equal(t, e.String(), again.String())
		})
	}
}

func TestParseAST(t *testing.T) {
	e, err := ParseExpr(`sum by (pod) (rate({app="a"} |= "x" | json | status >= 500 [5m] offset 1m))`)
	require.NoError(t, err)
	agg, ok := e.(*VectorAggregationExpr)
	require.True(t, ok)
	require.Equal(t, OpSum, agg.Op)
	require.Equal(t, &Grouping{Labels: []string{"pod"}}, agg.Grouping)
	ra, ok := agg.Left.(*RangeAggregationExpr)
	require.True(t, ok)
	require.Equal(t, OpRate, ra.Op)
	require.Equal(t, 5*time.Minute, ra.Left.Range)
	require.Equal(t, time.Minute, ra.Left.Offset)
	sel := ra.Left.Selector
	require.Equal(t, []*labels.Matcher{labels.MustNewMatcher(labels.MatchEqual, "app", "a")}, sel.Matchers)
	require.Len(t, sel.Stages, 3)
	require.Equal(t, &LineFilter{Op: LineContains, Values: []string{"x"}}, sel.Stages[0])
	require.Equal(t, &JSONParser{}, sel.Stages[1])
	require.Equal(t, &LabelFilter{Expr: &LabelPredicate{Name: "status", Kind: LabelNumber, Op: CmpGte, Value: 500, Raw: "500"}}, sel.Stages[2])

	lf, err := ParseExpr(`{a="b"} | d > 1.5s, s <= 2KiB`)
	require.NoError(t, err)
	bin := lf.(*LogSelectorExpr).Stages[0].(*LabelFilter).Expr.(*LabelFilterBinary)
	require.True(t, bin.And)
	require.Equal(t, float64(1500*time.Millisecond), bin.LHS.(*LabelPredicate).Value)
	require.Equal(t, LabelDuration, bin.LHS.(*LabelPredicate).Kind)
	require.Equal(t, float64(2048), bin.RHS.(*LabelPredicate).Value)
	require.Equal(t, LabelBytes, bin.RHS.(*LabelPredicate).Kind)
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		in        string
		line, col int
		msg       string
	}{
		{``, 1, 1, "syntax error: unexpected $end"},
		{`{`, 1, 2, "syntax error: unexpected $end, expecting IDENTIFIER"},
		{`{}`, 1, 2, "syntax error: unexpected }, expecting IDENTIFIER"},
		{`{app}`, 1, 5, "syntax error: unexpected }, expecting = or =~ or !~ or !="},
		{`{app=}`, 1, 6, "syntax error: unexpected }, expecting STRING"},
		{`{app="x"`, 1, 9, "syntax error: unexpected $end, expecting } or ,"},
		{`{app="x"} | foo`, 1, 16, "syntax error: unexpected $end, expecting = or =~ or !~ or !="},
		{`{app="x"} |= 5`, 1, 14, "syntax error: unexpected NUMBER, expecting STRING or ip"},
		{`{app="x"} | json | line_format`, 1, 31, "syntax error: unexpected $end, expecting STRING"},
		{"{app=\"x\"}\n  | json |", 2, 11, "syntax error: unexpected $end"},
		{`sum by app (rate({a="b"}[1m]))`, 1, 8, "syntax error: unexpected IDENTIFIER, expecting ("},
		{`rate({app="x"} [1m]`, 1, 20, "syntax error: unexpected $end, expecting )"},
		{`count_over_time({app="x"})`, 1, 26, "syntax error: unexpected ), expecting RANGE"},
		{`count_over_time({app="x"}[5x])`, 1, 26, `not a valid duration string: "5x"`},
		{`{app="x"} | status == "200"`, 1, 23, "syntax error: unexpected STRING"},
		{`{app="x"} | status > 0x10`, 1, 22, "unable to parse literal as a float: 0x10"},
		{`{app="x"} | logfmt --bad`, 1, 20, "syntax error: unexpected --bad"},
		{`{app="x"} @`, 1, 11, "syntax error: unexpected character '@'"},
		{`{app="x"} + 1`, 1, 11, "syntax error: unexpected +"},
		{`quantile_over_time(-0.5, {a="b"} | unwrap x [1m])`, 1, 20, "syntax error: unexpected -, expecting NUMBER"},
		{`{app="x}`, 1, 6, "literal not terminated"},
		{`{app="\q"}`, 1, 6, `invalid string literal "\q": invalid syntax`},
		// Validation errors carry no position, as in Loki.
		{`{app=~".*"}`, 0, 0, `queries require at least one regexp or equality matcher that does not have an empty-compatible value. For instance, app=~".*" does not meet this requirement, but app=~".+" will`},
		{`{app=~"("}`, 0, 0, "error parsing regexp: missing closing ): `^(?:()$`"},
		{`rate({app="x"}[1m]) by (x)`, 0, 0, "grouping not allowed for rate aggregation"},
		{`count_over_time({a="b"} | unwrap x [1m])`, 0, 0, "invalid aggregation count_over_time with unwrap"},
		{`max_over_time({a="b"}[1m])`, 0, 0, "invalid aggregation max_over_time without unwrap"},
		{`{app="x"} | unwrap x`, 0, 0, "unwrap is only allowed in range aggregations"},
		{`sum({app="x"})`, 0, 0, "aggregation sum requires a metric query, not a log query"},
		{`1 > 2`, 0, 0, "comparisons between scalars must use BOOL modifier"},
		{`{a="b"} | label_format x=y, x="z"`, 0, 0, "multiple label name 'x' appears in formatting"},
		{`{a="b"} | __error_details__ > 1`, 0, 0, "__error_details__ is a string label and cannot be compared with __error_details__>1"},
		{`{a="b"} | regexp "(?P<a>x)(?P<a>y)"`, 0, 0, "duplicate extracted label name: a"},
		{`{a="b"} | line_format "{{.x"`, 0, 0, `template: line:1: unclosed action`},
	}
	for _, tt := range tests {
		t.Run(tt.in, func(t *testing.T) {
			_, err := ParseExpr(tt.in)
			var pe *ParseError
			require.True(t, errors.As(err, &pe), "want *ParseError, got %v", err)
			require.Equal(t, tt.msg, pe.Msg)
			require.Equal(t, tt.line, pe.Line, "line")
			require.Equal(t, tt.col, pe.Col, "col")
			if tt.line == 0 {
				require.Equal(t, "parse error : "+tt.msg, err.Error())
			} else {
				require.Contains(t, err.Error(), "parse error at line ")
			}
		})
	}
}

func TestParseLogSelector(t *testing.T) {
	sel, err := ParseLogSelector(`{a="b"} |= "x"`)
	require.NoError(t, err)
	require.Len(t, sel.Stages, 1)
	_, err = ParseLogSelector(`rate({a="b"}[1m])`)
	require.Error(t, err)
}

func TestParseDepthLimit(t *testing.T) {
	q := ""
	for range 10000 {
		q += "("
	}
	_, err := ParseExpr(q + "1")
	var pe *ParseError
	require.ErrorAs(t, err, &pe)
	require.Contains(t, pe.Msg, "nested too deeply")
}
