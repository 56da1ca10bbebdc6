package lokiapi

import (
	"encoding/json"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/lookout-dev/lookout/internal/event"
	"github.com/lookout-dev/lookout/internal/labelname"
	"github.com/lookout-dev/lookout/internal/logql"
)

type detectedField struct {
	Label       string   `json:"label"`
	Type        string   `json:"type"`
	Cardinality uint64   `json:"cardinality"`
	Parsers     []string `json:"parsers"`
}

type fieldAcc struct {
	values  map[string]struct{}
	typ     string
	parsers map[string]bool
}

// handleDetectedFields answers Loki's detected_fields: the fields found in
// the newest line_limit lines of a log query (structured metadata, labels
// from the query's parsers, and JSON or logfmt fields of the line itself),
// with their type and number of distinct values.
func (a *API) handleDetectedFields(w http.ResponseWriter, r *http.Request) {
	if err := a.parse(r); err != nil {
		a.writeError(w, r, err)
		return
	}
	q := r.Form.Get("query")
	if q == "" {
		a.writeError(w, r, errBad("query parameter is required"))
		return
	}
	start, end, err := timeRange(r, a.opts.Now())
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	lineLimit := 1000
	if v := r.Form.Get("line_limit"); v != "" {
		if lineLimit, err = strconv.Atoi(v); err != nil || lineLimit <= 0 || lineLimit > a.opts.MaxEntriesLimit {
			a.writeError(w, r, errBad("invalid line_limit %q: 1 to %d", v, a.opts.MaxEntriesLimit))
			return
		}
	}
	fieldLimit := 1000
	if v := r.Form.Get("limit"); v != "" {
		if fieldLimit, err = strconv.Atoi(v); err != nil || fieldLimit <= 0 {
			a.writeError(w, r, errBad("invalid limit %q: must be a positive integer", v))
			return
		}
	}
	res, err := a.engine.Query(r.Context(), logql.QueryParams{Query: q, Start: start, End: end, Limit: lineLimit, Kind: event.KindLog})
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	streams, ok := res.Value.(logql.Streams)
	if !ok {
		a.writeError(w, r, errBad("detected_fields requires a log query"))
		return
	}
	acc := map[string]*fieldAcc{}
	add := func(name, value, parser string) {
		f := acc[name]
		if f == nil {
			if len(acc) >= fieldLimit {
				return
			}
			f = &fieldAcc{values: map[string]struct{}{}, parsers: map[string]bool{}}
			acc[name] = f
		}
		if len(f.values) < 10_000 {
			f.values[value] = struct{}{}
		}
		f.typ = mergeType(f.typ, valueType(value))
		if parser != "" {
			f.parsers[parser] = true
		}
	}
	for _, s := range streams {
		for _, e := range s.Entries {
			e.StructuredMetadata.Range(func(l labels.Label) { add(l.Name, l.Value, "") })
			if !e.Parsed.IsEmpty() {
				e.Parsed.Range(func(l labels.Label) {
					if !strings.HasPrefix(l.Name, "__") {
						add(l.Name, l.Value, "")
					}
				})
				continue
			}
			detectLine(e.Line, add)
		}
	}
	out := make([]detectedField, 0, len(acc))
	for name, f := range acc {
		ps := make([]string, 0, len(f.parsers))
		for p := range f.parsers {
			ps = append(ps, p)
		}
		slices.Sort(ps)
		out = append(out, detectedField{Label: name, Type: f.typ, Cardinality: uint64(len(f.values)), Parsers: ps})
	}
	slices.SortFunc(out, func(a, b detectedField) int { return strings.Compare(a.Label, b.Label) })
	writeJSON(w, map[string]any{"fields": out, "limit": fieldLimit})
}

// detectLine extracts top-level JSON fields (nested objects flattened with
// "_") or logfmt pairs from a line.
func detectLine(line string, add func(name, value, parser string)) {
	t := strings.TrimSpace(line)
	if strings.HasPrefix(t, "{") {
		var m map[string]any
		if json.Unmarshal([]byte(t), &m) == nil {
			flatten("", m, func(k, v string) { add(k, v, "json") })
		}
		return
	}
	for _, f := range strings.Fields(t) {
		k, v, ok := strings.Cut(f, "=")
		if !ok || !labelname.Valid(k) {
			continue
		}
		add(k, strings.Trim(v, `"`), "logfmt")
	}
}

func flatten(prefix string, m map[string]any, emit func(k, v string)) {
	for k, v := range m {
		name := labelname.Sanitize(prefix + k)
		switch v := v.(type) {
		case map[string]any:
			flatten(name+"_", v, emit)
		case string:
			emit(name, v)
		case nil:
			emit(name, "")
		default:
			b, _ := json.Marshal(v)
			emit(name, string(b))
		}
	}
}

// valueType classifies a value as Loki's detected fields do.
func valueType(v string) string {
	if _, err := strconv.ParseInt(v, 10, 64); err == nil {
		return "int"
	}
	if _, err := strconv.ParseFloat(v, 64); err == nil {
		return "float"
	}
	if v == "true" || v == "false" {
		return "boolean"
	}
	if _, err := time.ParseDuration(v); err == nil {
		return "duration"
	}
	return "string"
}

func mergeType(have, next string) string {
	switch {
	case have == "" || have == next:
		return next
	case have == "int" && next == "float", have == "float" && next == "int":
		return "float"
	}
	return "string"
}
