package parse

import (
	"encoding/json"
	"strconv"
	"strings"
	"testing"
	"unicode/utf8"

	"github.com/lookout-dev/lookout/internal/event"
)

// FuzzJSONFields checks JSONFields against encoding/json: it accepts exactly
// the valid JSON objects, and the scalar fields it reports have the values
// encoding/json decodes.
func FuzzJSONFields(f *testing.F) {
	for _, s := range []string{structlogLine, djangoLine, monologLine, appLine, `{"a":[{"b":"\u00e9"}],"c":{"d":null}}`, `{"a":01}`, `{}`, `[]`, `{"a":"\ud800"}`} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if len(s) > 16<<10 || strings.Count(s, "[")+strings.Count(s, "{") > 500 {
			return
		}
		var got []event.Attr
		ok := JSONFields(s, "_", func(k, v string) { got = append(got, event.Attr{Key: k, Value: v}) })
		isObject := strings.HasPrefix(strings.TrimLeft(s, " \t\r\n"), "{")
		if want := json.Valid([]byte(s)) && isObject; ok != want {
			t.Fatalf("JSONFields(%q) = %v, encoding/json says %v", s, ok, want)
		}
		if !ok {
			return
		}
		var doc map[string]any
		d := json.NewDecoder(strings.NewReader(s))
		d.UseNumber()
		if err := d.Decode(&doc); err != nil {
			t.Fatalf("encoding/json cannot decode %q: %v", s, err)
		}
		want := map[string]string{}
		flatten(doc, "", 0, want)
		seen := map[string]int{}
		for _, a := range got {
			seen[a.Key]++
		}
		for _, a := range got {
			w, has := want[a.Key]
			if !has || seen[a.Key] > 1 || !utf8.ValidString(a.Key) || !utf8.ValidString(a.Value) {
				continue // duplicate keys, arrays and invalid UTF-8 differ by design
			}
			if w != a.Value {
				t.Fatalf("field %q = %q, encoding/json decodes %q (input %q)", a.Key, a.Value, w, s)
			}
		}
	})
}

func flatten(m map[string]any, prefix string, depth int, out map[string]string) {
	for k, v := range m {
		if prefix != "" {
			k = prefix + "_" + k
		}
		switch v := v.(type) {
		case string:
			out[k] = v
		case json.Number:
			out[k] = v.String()
		case bool:
			out[k] = strconv.FormatBool(v)
		case map[string]any:
			if depth+1 < maxJSONDepth {
				flatten(v, k, depth+1, out)
			}
		}
	}
}

// FuzzLogfmtFields checks that the pairs found in any line are found again,
// unchanged, after encoding them as logfmt.
func FuzzLogfmtFields(f *testing.F) {
	for _, s := range []string{
		`time=2026-02-19T10:00:00Z level=info msg="request completed" status=200`,
		`a="x \" y" b= c`, `bad="\q"`, `"k"=v`, `k="unterminated`, "k=\xff\x00",
	} {
		f.Add(s)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if len(s) > 16<<10 {
			return
		}
		var first []event.Attr
		n := LogfmtFields(s, func(k, v string) { first = append(first, event.Attr{Key: k, Value: v}) })
		if n != len(first) {
			t.Fatalf("count %d, %d pairs", n, len(first))
		}
		var b strings.Builder
		for i, a := range first {
			if a.Key == "" || strings.ContainsAny(a.Key, " \t\r\n=\"") {
				t.Fatalf("invalid key %q from %q", a.Key, s)
			}
			if i > 0 {
				b.WriteByte(' ')
			}
			b.WriteString(a.Key)
			b.WriteByte('=')
			if strings.ContainsAny(a.Value, " \t\r\n\"") {
				b.WriteString(strconv.Quote(a.Value))
			} else {
				b.WriteString(a.Value)
			}
		}
		var again []event.Attr
		LogfmtFields(b.String(), func(k, v string) { again = append(again, event.Attr{Key: k, Value: v}) })
		if len(again) != len(first) {
			t.Fatalf("%q: %d pairs, re-encoded %q: %d pairs", s, len(first), b.String(), len(again))
		}
		for i := range first {
			if first[i] != again[i] {
				t.Fatalf("%q: pair %d %+v, re-encoded %q gives %+v", s, i, first[i], b.String(), again[i])
			}
		}
	})
}
