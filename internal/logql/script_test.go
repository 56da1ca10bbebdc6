package logql

import (
	"context"
	"fmt"
	"math"
	"os"
	"path/filepath"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/stretchr/testify/require"

	"github.com/lookout-dev/lookout/internal/event"
	"github.com/lookout-dev/lookout/internal/eventstore"
	"github.com/lookout-dev/lookout/internal/eventstore/memstore"
)

// The script format, adapted from Prometheus' promqltest:
//
//	clear                       drop everything loaded so far
//	load                        then indented lines:
//	  {app="a"} "line {{i}}" @ 10s [every 10s for 3] [level error] [meta {k="v"}]
//	eval instant at 60s <query>
//	eval range from 0s to 60s step 20s <query>
//	eval logs from 0s to 60s forward|backward [limit 10] [interval 5s] <query>
//
// followed by indented expectations: `{labels} v` (vector), `{labels} v1 _
// v3` (matrix, _ for no point), a bare number (scalar), `{labels} "line" @
// 10s [meta {...}] [parsed {...}]` (one log entry, in stream order),
// `expect empty`, `expect ordered` (instant vector order matters) or
// `expect fail [msg: substring]`. Times are offsets from the Unix epoch. A
// log line's `{{i}}` is replaced by its repetition index. Each eval runs
// twice, with and without pushdown, and both must match.

func TestScripts(t *testing.T) {
	files, err := filepath.Glob("testdata/*.test")
	require.NoError(t, err)
	require.NotEmpty(t, files)
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			runScript(t, f)
		})
	}
}

type scriptEval struct {
	line    int
	cmd     string
	params  QueryParams
	expects []string
}

func runScript(t *testing.T, path string) {
	t.Helper()
	data, err := os.ReadFile(path)
	require.NoError(t, err)
	lines := strings.Split(string(data), "\n")
	store := memstore.New()
	t.Cleanup(func() { _ = store.Close() })
	for i := 0; i < len(lines); i++ {
		line := stripComment(lines[i])
		if strings.TrimSpace(line) == "" {
			continue
		}
		block := func() []string {
			var out []string
			for i+1 < len(lines) {
				l := stripComment(lines[i+1])
				if strings.TrimSpace(l) == "" || (l[0] != ' ' && l[0] != '\t') {
					break
				}
				out = append(out, strings.TrimSpace(l))
				i++
			}
			return out
		}
		lineNo := i + 1
		switch fields := strings.Fields(line); fields[0] {
		case "clear":
			_ = store.Close()
			store = memstore.New()
		case "load":
			var recs []event.Record
			for _, l := range block() {
				rs, err := parseLoadLine(l)
				require.NoError(t, err, "%s:%d: %s", path, lineNo, l)
				recs = append(recs, rs...)
			}
			require.NoError(t, store.Append(context.Background(), recs))
		case "eval":
			ev, err := parseEvalLine(line)
			require.NoError(t, err, "%s:%d", path, lineNo)
			ev.line, ev.expects = lineNo, block()
			s := store
			t.Run(fmt.Sprintf("line%d", lineNo), func(t *testing.T) {
				for _, push := range []bool{true, false} {
					e := NewEngine(s, Options{MaxSeries: 1000})
					e.noPushdown = !push
					res, err := e.Query(context.Background(), ev.params)
					checkEval(t, fmt.Sprintf("%s:%d (pushdown=%v): %s", filepath.Base(path), lineNo, push, ev.params.Query), ev, res, err)
				}
			})
		default:
			t.Fatalf("%s:%d: unknown command %q", path, lineNo, fields[0])
		}
	}
}

// stripComment removes a # comment outside quotes.
func stripComment(s string) string {
	var q byte
	for i := 0; i < len(s); i++ {
		c := s[i]
		switch {
		case q != 0:
			if c == '\\' && q == '"' {
				i++
			} else if c == q {
				q = 0
			}
		case c == '"' || c == '`':
			q = c
		case c == '#':
			return s[:i]
		}
	}
	return s
}

func parseDur(s string) (time.Duration, error) {
	if s == "0" {
		return 0, nil
	}
	return parseDuration(s)
}

func parseLoadLine(l string) ([]event.Record, error) {
	ls, rest, err := parseLabelSet(l)
	if err != nil {
		return nil, err
	}
	body, rest, err := parseQuoted(rest)
	if err != nil {
		return nil, err
	}
	f := strings.Fields(rest)
	if len(f) < 2 || f[0] != "@" {
		return nil, fmt.Errorf("want @ <time> after the line")
	}
	at, err := parseDur(f[1])
	if err != nil {
		return nil, err
	}
	every, count, level := time.Duration(0), 1, ""
	var attrs []event.Attr
	rest = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(rest), "@ "+f[1]))
	for rest != "" {
		f := strings.Fields(rest)
		switch f[0] {
		case "every":
			if len(f) < 4 || f[2] != "for" {
				return nil, fmt.Errorf("want every <dur> for <n>")
			}
			if every, err = parseDur(f[1]); err != nil {
				return nil, err
			}
			if count, err = strconv.Atoi(f[3]); err != nil {
				return nil, err
			}
			rest = strings.Join(f[4:], " ")
		case "level":
			level = f[1]
			rest = strings.Join(f[2:], " ")
		case "meta":
			m, r, err := parseLabelSet(strings.TrimSpace(strings.TrimPrefix(rest, "meta")))
			if err != nil {
				return nil, err
			}
			m.Range(func(l labels.Label) { attrs = append(attrs, event.Attr{Key: l.Name, Value: l.Value}) })
			rest = strings.TrimSpace(r)
		default:
			return nil, fmt.Errorf("unknown load option %q", f[0])
		}
	}
	var out []event.Record
	for i := range count {
		out = append(out, event.Record{
			Kind:   event.KindLog,
			Time:   int64(at + time.Duration(i)*every),
			Labels: ls,
			Body:   strings.ReplaceAll(body, "{{i}}", strconv.Itoa(i)),
			Level:  level,
			Attrs:  attrs,
		})
	}
	return out, nil
}

// parseLabelSet reads `{a="b", c="d"}` at the start of s.
func parseLabelSet(s string) (labels.Labels, string, error) {
	s = strings.TrimSpace(s)
	if !strings.HasPrefix(s, "{") {
		return labels.EmptyLabels(), s, fmt.Errorf("want { in %q", s)
	}
	s = s[1:]
	b := labels.NewScratchBuilder(4)
	for {
		s = strings.TrimLeft(s, " ,")
		if strings.HasPrefix(s, "}") {
			b.Sort()
			return b.Labels(), s[1:], nil
		}
		eq := strings.IndexByte(s, '=')
		if eq < 0 {
			return labels.EmptyLabels(), s, fmt.Errorf("want name=value in %q", s)
		}
		name := strings.TrimSpace(s[:eq])
		v, rest, err := parseQuoted(s[eq+1:])
		if err != nil {
			return labels.EmptyLabels(), s, err
		}
		b.Add(name, v)
		s = rest
	}
}

// parseQuoted reads a "Go string" or `raw string` at the start of s.
func parseQuoted(s string) (string, string, error) {
	s = strings.TrimSpace(s)
	if strings.HasPrefix(s, "`") {
		end := strings.IndexByte(s[1:], '`')
		if end < 0 {
			return "", s, fmt.Errorf("unterminated raw string in %q", s)
		}
		return s[1 : end+1], s[end+2:], nil
	}
	q, err := strconv.QuotedPrefix(s)
	if err != nil {
		return "", s, fmt.Errorf("want a quoted string in %q: %w", s, err)
	}
	v, err := strconv.Unquote(q)
	return v, s[len(q):], err
}

func parseEvalLine(line string) (scriptEval, error) {
	var ev scriptEval
	f := strings.Fields(line)
	take := func(n int) []string {
		out := f[:n]
		f = f[n:]
		return out
	}
	if len(f) < 4 {
		return ev, fmt.Errorf("short eval line")
	}
	take(1)
	ev.cmd = f[0]
	var err error
	switch ev.cmd {
	case "instant":
		w := take(3) // instant at T
		at, err := parseDur(w[2])
		if err != nil {
			return ev, err
		}
		ev.params.Start, ev.params.End = time.Unix(0, int64(at)), time.Unix(0, int64(at))
	case "range", "logs":
		w := take(5) // range from A to B
		a, err := parseDur(w[2])
		if err != nil {
			return ev, err
		}
		b, err := parseDur(w[4])
		if err != nil {
			return ev, err
		}
		ev.params.Start, ev.params.End = time.Unix(0, int64(a)), time.Unix(0, int64(b))
		if ev.cmd == "range" {
			w := take(2)
			if ev.params.Step, err = parseDur(w[1]); err != nil {
				return ev, err
			}
			break
		}
		switch take(1)[0] {
		case "forward":
			ev.params.Direction = eventstore.Forward
		case "backward":
			ev.params.Direction = eventstore.Backward
		default:
			return ev, fmt.Errorf("want forward or backward")
		}
		for len(f) > 1 && (f[0] == "limit" || f[0] == "interval") {
			w := take(2)
			if w[0] == "limit" {
				if ev.params.Limit, err = strconv.Atoi(w[1]); err != nil {
					return ev, err
				}
			} else if ev.params.Interval, err = parseDur(w[1]); err != nil {
				return ev, err
			}
		}
	default:
		return ev, fmt.Errorf("unknown eval kind %q", ev.cmd)
	}
	// Keep the query's original spacing: everything after the parsed words.
	ev.params.Query = originalTail(line, len(strings.Fields(line))-len(f))
	return ev, err
}

// originalTail returns line without its first n words, spacing preserved.
func originalTail(line string, n int) string {
	s := strings.TrimLeft(line, " \t")
	for range n {
		i := strings.IndexAny(s, " \t")
		if i < 0 {
			return ""
		}
		s = strings.TrimLeft(s[i:], " \t")
	}
	return s
}

func checkEval(t *testing.T, where string, ev scriptEval, res Result, err error) {
	t.Helper()
	exp := ev.expects
	if len(exp) > 0 && strings.HasPrefix(exp[0], "expect fail") {
		require.Error(t, err, where)
		if msg, ok := strings.CutPrefix(exp[0], "expect fail msg:"); ok {
			require.Contains(t, err.Error(), strings.TrimSpace(msg), where)
		}
		return
	}
	require.NoError(t, err, where)
	if len(exp) > 0 && exp[0] == "expect empty" {
		switch v := res.Value.(type) {
		case Streams:
			require.Empty(t, v, where)
		case Matrix:
			require.Empty(t, v, where)
		case Vector:
			require.Empty(t, v, where)
		default:
			t.Fatalf("%s: want empty, got %T", where, v)
		}
		return
	}
	ordered := false
	if len(exp) > 0 && exp[0] == "expect ordered" {
		ordered, exp = true, exp[1:]
	}
	require.NotEmpty(t, exp, "%s: no expectation", where)
	switch v := res.Value.(type) {
	case Scalar:
		require.Len(t, exp, 1, where)
		want, err := strconv.ParseFloat(exp[0], 64)
		require.NoError(t, err, where)
		requireFloat(t, want, v.V, where)
	case Vector:
		var got, want []string
		for _, s := range v {
			got = append(got, s.Labels.String()+" "+formatValue(s.V))
		}
		for _, e := range exp {
			ls, rest, err := parseLabelSet(e)
			require.NoError(t, err, where)
			f, err := strconv.ParseFloat(strings.TrimSpace(rest), 64)
			require.NoError(t, err, "%s: %s", where, e)
			want = append(want, ls.String()+" "+formatValue(f))
		}
		if !ordered {
			slices.Sort(got)
			slices.Sort(want)
		}
		require.Equal(t, want, got, where)
	case Matrix:
		start, step := ev.params.Start.UnixNano(), int64(ev.params.Step)
		n := int((ev.params.End.UnixNano()-start)/step) + 1
		var got, want []string
		for _, s := range v {
			cells := make([]string, n)
			for i := range cells {
				cells[i] = "_"
			}
			for _, p := range s.Points {
				i := int((p.T - start) / step)
				require.Equal(t, start+int64(i)*step, p.T, "%s: point off the step grid", where)
				cells[i] = formatValue(p.V)
			}
			got = append(got, s.Labels.String()+" "+strings.Join(cells, " "))
		}
		for _, e := range exp {
			ls, rest, err := parseLabelSet(e)
			require.NoError(t, err, where)
			cells := strings.Fields(rest)
			require.Len(t, cells, n, "%s: %s", where, e)
			for i, c := range cells {
				if c != "_" {
					f, err := strconv.ParseFloat(c, 64)
					require.NoError(t, err, where)
					cells[i] = formatValue(f)
				}
			}
			want = append(want, ls.String()+" "+strings.Join(cells, " "))
		}
		slices.Sort(got)
		slices.Sort(want)
		require.Equal(t, want, got, where)
	case Streams:
		var got, want []string
		for _, s := range v {
			for _, e := range s.Entries {
				got = append(got, formatEntry(s.Labels, e))
			}
		}
		for _, e := range exp {
			ent, ls, err := parseEntry(e)
			require.NoError(t, err, "%s: %s", where, e)
			want = append(want, formatEntry(ls, ent))
		}
		// Streams are a set; entries within a stream are ordered.
		sortByStream := func(xs []string) {
			slices.SortStableFunc(xs, func(a, b string) int {
				return strings.Compare(a[:strings.Index(a, "}")+1], b[:strings.Index(b, "}")+1])
			})
		}
		sortByStream(got)
		sortByStream(want)
		require.Equal(t, want, got, where)
	default:
		t.Fatalf("%s: unexpected result %T", where, v)
	}
}

func formatValue(v float64) string {
	if math.IsNaN(v) {
		return "NaN"
	}
	// Round away float noise so that 0.1+0.2 compares equal to 0.3.
	return strconv.FormatFloat(v, 'g', 12, 64)
}

func requireFloat(t *testing.T, want, got float64, where string) {
	t.Helper()
	require.Equal(t, formatValue(want), formatValue(got), where)
}

func formatEntry(ls labels.Labels, e Entry) string {
	s := fmt.Sprintf("%s %q @ %s", ls.String(), e.Line, time.Duration(e.T))
	if !e.StructuredMetadata.IsEmpty() {
		s += " meta " + e.StructuredMetadata.String()
	}
	if !e.Parsed.IsEmpty() {
		s += " parsed " + e.Parsed.String()
	}
	return s
}

// parseEntry reads `{labels} "line" @ 10s [meta {...}] [parsed {...}]`.
func parseEntry(s string) (Entry, labels.Labels, error) {
	var e Entry
	ls, rest, err := parseLabelSet(s)
	if err != nil {
		return e, ls, err
	}
	if e.Line, rest, err = parseQuoted(rest); err != nil {
		return e, ls, err
	}
	f := strings.Fields(rest)
	if len(f) < 2 || f[0] != "@" {
		return e, ls, fmt.Errorf("want @ <time>")
	}
	d, err := parseDur(f[1])
	if err != nil {
		return e, ls, err
	}
	e.T = int64(d)
	rest = strings.TrimSpace(strings.TrimPrefix(strings.TrimSpace(rest), "@ "+f[1]))
	e.StructuredMetadata, e.Parsed = labels.EmptyLabels(), labels.EmptyLabels()
	for rest != "" {
		switch {
		case strings.HasPrefix(rest, "meta"):
			e.StructuredMetadata, rest, err = parseLabelSet(strings.TrimPrefix(rest, "meta"))
		case strings.HasPrefix(rest, "parsed"):
			e.Parsed, rest, err = parseLabelSet(strings.TrimPrefix(rest, "parsed"))
		default:
			return e, ls, fmt.Errorf("unknown entry clause %q", rest)
		}
		if err != nil {
			return e, ls, err
		}
		rest = strings.TrimSpace(rest)
	}
	return e, ls, nil
}
