package logql

import (
	"encoding/json"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestExtractJSON(t *testing.T) {
	tests := []struct {
		name, line string
		want       map[string]string
		err        string
	}{
		{name: "flat", line: `{"a":"b","n":-1.5e3,"t":true,"f":false,"z":null}`, want: map[string]string{"a": "b", "n": "-1.5e3", "t": "true", "f": "false"}},
		{name: "nested", line: ` { "a" : { "b" : { "c" : "d" } , "e" : [ {"x":1}, [2] ] } } `, want: map[string]string{"a_b_c": "d"}},
		{name: "escapes", line: `{"k\"ey":"v\u00e9\n\ud83d\ude00","w-x y":"1"}`, want: map[string]string{"k_ey": "vé\n😀", "w_x_y": "1"}},
		{name: "empty", line: `{}`, want: map[string]string{}},
		{name: "empty key and value", line: `{"":"x","e":""}`, want: map[string]string{"e": ""}},
		{name: "duplicate keeps first", line: `{"a":1,"a":2}`, want: map[string]string{"a": "1"}},
		{name: "not an object", line: `[1]`, err: "can't find opening '{' symbol"},
		{name: "truncated", line: `{"a":"b`, err: "Malformed JSON error"},
		{name: "truncated after key", line: `{"a":`, err: "Malformed JSON error"},
		{name: "bad literal", line: `{"a":tru}`, err: "invalid value"},
		{name: "missing comma", line: `{"a":1 "b":2}`, err: "expected ',' or '}'"},
		{name: "bad number", line: `{"a":01x}`, err: "invalid value"},
		{name: "too deep", line: `{"a":` + strings.Repeat(`{"a":`, 2000), err: "nesting too deep"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var lbs lineLabels
			err := extractJSON(tt.line, &lbs)
			if tt.err != "" {
				require.ErrorContains(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, lbs.toMap())
		})
	}
}

func TestScanLogfmt(t *testing.T) {
	tests := []struct {
		line   string
		strict bool
		want   []logfmtPair
		err    string
	}{
		{line: `a=1 b="x y" c= d`, want: []logfmtPair{{"a", "1", true}, {"b", "x y", true}, {"c", "", false}, {"d", "", false}}},
		{line: `a="q\"uote" b=2`, want: []logfmtPair{{"a", `q"uote`, true}, {"b", "2", true}}},
		{line: `=x a=1 b=c=d e"f=1 g=2`, want: []logfmtPair{{"a", "1", true}, {"g", "2", true}}},
		{line: `a=1 =x`, strict: true, err: "logfmt syntax error at pos 5 : unexpected '='"},
		{line: `a=1 b="open`, strict: true, err: "unterminated quoted value"},
		{line: "  \t ", want: nil},
	}
	for _, tt := range tests {
		t.Run(tt.line, func(t *testing.T) {
			var got []logfmtPair
			err := scanLogfmt(tt.line, tt.strict, func(kv logfmtPair) { got = append(got, kv) })
			if tt.err != "" {
				require.ErrorContains(t, err, tt.err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, tt.want, got)
		})
	}
}

func TestPattern(t *testing.T) {
	tests := []struct {
		pattern, line string
		match         bool
		want          map[string]string
	}{
		{`<ip> - <_> "<method> <uri> <_>" <status>`, `1.2.3.4 - - "GET /x HTTP/1.1" 200`, true, map[string]string{"ip": "1.2.3.4", "method": "GET", "uri": "/x", "status": "200"}},
		{`<_> msg="<msg>"`, `level=info msg="hello world"`, true, map[string]string{"msg": "hello world"}},
		{`GET <path>`, `POST /x`, false, map[string]string{}},
		{`<a> <b>`, `single`, false, map[string]string{"a": "single"}},
		{`<a> end`, `x end trailing`, false, map[string]string{"a": "x"}},
		{`<a> <not valid>`, `x <not valid>`, true, map[string]string{"a": "x"}},
	}
	for _, tt := range tests {
		t.Run(tt.pattern, func(t *testing.T) {
			p, err := compilePattern(tt.pattern)
			require.NoError(t, err)
			got := map[string]string{}
			require.Equal(t, tt.match, p.match(tt.line, func(k, v string) { got[k] = v }))
			require.Equal(t, tt.want, got)
		})
	}
}

func TestParseJSONPath(t *testing.T) {
	p, err := parseJSONPath(`a.b[0]["c d"].e`)
	require.NoError(t, err)
	require.Equal(t, []jsonPathElem{{field: "a"}, {field: "b"}, {index: 0, isIdx: true}, {field: "c d"}, {field: "e"}}, p)
	for _, bad := range []string{"", "a.", "a[", "a[x]", `a["x`, "a]"} {
		_, err := parseJSONPath(bad)
		require.Error(t, err, bad)
	}
}

func TestUnits(t *testing.T) {
	for in, want := range map[string]uint64{"20B": 20, "1.5KiB": 1536, "3k": 3000, "5 MiB": 5 << 20, "2GB": 2e9, "10": 10} {
		got, err := parseBytes(in)
		require.NoError(t, err, in)
		require.Equal(t, want, got, in)
	}
	for _, bad := range []string{"", "MB", "1XB", "-1B"} {
		_, err := parseBytes(bad)
		require.Error(t, err, bad)
	}
	for _, d := range []string{"1h30m", "1d", "2w", "1y", "500ms", "1.5h", "90s"} {
		v, err := parseDuration(d)
		require.NoError(t, err, d)
		back, err := parseDuration(formatDuration(v))
		require.NoError(t, err)
		require.Equal(t, v, back, d)
	}
}

// FuzzExtractJSON checks that the JSON flattener never panics and accepts
// every object encoding/json accepts.
func FuzzExtractJSON(f *testing.F) {
	for _, s := range []string{`{"a":{"b":[1,{"c":2}]},"d":"\u00e9"}`, `{"a":1,"a":2}`, `{`, `{"a":tru}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, line string) {
		var lbs lineLabels
		err := extractJSON(line, &lbs)
		var obj map[string]any
		if json.Unmarshal([]byte(line), &obj) == nil && obj != nil && err != nil {
			t.Fatalf("valid object %q rejected: %v", line, err)
		}
	})
}
