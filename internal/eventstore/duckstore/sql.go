package duckstore

import (
	"fmt"
	"regexp"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/lookout-dev/lookout/internal/eventstore"
)

// query builds one SQL statement. Values are inlined as literals, so that
// DuckDB plans with constants (contains and regexp_matches compile their
// pattern once); go-duckdb would cut a bound string parameter at a NUL byte.
type query struct {
	b strings.Builder
}

func (q *query) sql(parts ...string) *query {
	for _, p := range parts {
		q.b.WriteString(p)
	}
	return q
}

func (q *query) int(v int64) *query {
	q.b.WriteString(strconv.FormatInt(v, 10))
	return q
}

// str writes s as a string expression: a literal, joined with chr(0) where
// s holds NUL bytes, which a SQL literal cannot.
func (q *query) str(s string) *query {
	for i, part := range strings.Split(s, "\x00") {
		if i > 0 {
			q.b.WriteString(" || chr(0) || ")
		}
		q.b.WriteString(quoteString(part))
	}
	return q
}

// idList writes "stream_id IN (ids)".
func (q *query) idList(ids []uint32) *query {
	q.sql("stream_id IN (")
	for i, id := range ids {
		if i > 0 {
			q.sql(",")
		}
		q.int(int64(id))
	}
	return q.sql(")")
}

func (q *query) String() string { return q.b.String() }

func quoteString(s string) string {
	return "'" + strings.ReplaceAll(s, "'", "''") + "'"
}

func quoteIdent(s string) string {
	return `"` + strings.ReplaceAll(s, `"`, `""`) + `"`
}

// where writes the conditions of a scan: the time range, the stream ids,
// the allowed levels and, if lines is set, the line filters. Line filters
// must have been checked by checkLineFilters.
func (q *query) where(sc *scan, start, end int64, lines []eventstore.LineFilter) *query {
	q.sql(" WHERE ts >= ").int(start).sql(" AND ts < ").int(end)
	if sc.ids != nil {
		q.sql(" AND ").idList(sc.ids)
	}
	if sc.levels != nil {
		q.sql(" AND level IN (")
		for i, l := range sc.levels {
			if i > 0 {
				q.sql(",")
			}
			q.str(l)
		}
		q.sql(")")
	}
	if len(lines) > 0 && len(sc.skip) > 0 {
		q.sql(" AND NOT (")
		for i, r := range sc.skip {
			if i > 0 {
				q.sql(" OR ")
			}
			q.sql("seq BETWEEN ").int(int64(r.lo)).sql(" AND ").int(int64(r.hi))
		}
		q.sql(")")
	}
	for _, lf := range lines {
		switch lf.Op {
		case eventstore.LineContains, eventstore.LineNotContains:
			not := ""
			if lf.Op == eventstore.LineNotContains {
				not = "NOT "
			}
			if !utf8.ValidString(lf.Value) {
				// Stored bodies are valid UTF-8, so they never contain
				// an invalid sequence; and DuckDB rejects one in SQL.
				q.sql(" AND ", not, "false")
				continue
			}
			q.sql(" AND ", not, "contains(body, ").str(lf.Value).sql(")")
		case eventstore.LineRegexp:
			q.sql(" AND regexp_matches(body, ").str(lf.Value).sql(")")
		case eventstore.LineNotRegexp:
			q.sql(" AND NOT regexp_matches(body, ").str(lf.Value).sql(")")
		}
	}
	return q
}

// checkLineFilters rejects what the memstore reference rejects: unknown
// operators and patterns Go's regexp (RE2 syntax) does not accept.
func checkLineFilters(lines []eventstore.LineFilter) error {
	for _, lf := range lines {
		switch lf.Op {
		case eventstore.LineContains, eventstore.LineNotContains:
		case eventstore.LineRegexp, eventstore.LineNotRegexp:
			if _, err := regexp.Compile(lf.Value); err != nil {
				return fmt.Errorf("compile line filter %q: %w", lf.Value, err)
			}
		default:
			return fmt.Errorf("unknown line filter operator %d", lf.Op)
		}
	}
	return nil
}
