package lokiapi

import (
	"context"
	"encoding/json"
	"errors"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/lookout-dev/lookout/internal/event"
	"github.com/lookout-dev/lookout/internal/eventstore"
	"github.com/lookout-dev/lookout/internal/logql"
)

// Engine runs LogQL queries.
type Engine interface {
	Query(ctx context.Context, p logql.QueryParams) (logql.Result, error)
}

// maxPoints is Loki's bound on points per series of a range query.
const maxPoints = 11000

// categorizeLabels is the encoding flag with which Grafana asks for
// structured metadata and parsed labels apart from stream labels.
const categorizeLabels = "categorize-labels"

func isClientError(err error) bool {
	var pe *logql.ParseError
	var ple *logql.PipelineError
	return errors.As(err, &pe) || errors.As(err, &ple) ||
		errors.Is(err, logql.ErrInvalidParams) || errors.Is(err, logql.ErrLimitExceeded)
}

func (a *API) limitParam(r *http.Request) (int, error) {
	limit := 100
	if v := r.Form.Get("limit"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n <= 0 {
			return 0, errBad("invalid limit %q: must be a positive integer", v)
		}
		limit = n
	}
	if limit > a.opts.MaxEntriesLimit {
		return 0, errBad("max entries limit per query exceeded, limit > max_entries_limit_per_query (%d > %d)", limit, a.opts.MaxEntriesLimit)
	}
	return limit, nil
}

func directionParam(r *http.Request) (eventstore.Direction, error) {
	switch strings.ToLower(r.Form.Get("direction")) {
	case "", "backward":
		return eventstore.Backward, nil
	case "forward":
		return eventstore.Forward, nil
	}
	return 0, errBad("invalid direction %q: use forward or backward", r.Form.Get("direction"))
}

func (a *API) handleQueryRange(w http.ResponseWriter, r *http.Request) {
	p, err := a.rangeParams(r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	a.run(w, r, p, true)
}

func (a *API) rangeParams(r *http.Request) (logql.QueryParams, error) {
	var p logql.QueryParams
	if err := a.parse(r); err != nil {
		return p, err
	}
	p.Query = r.Form.Get("query")
	if p.Query == "" {
		return p, errBad("query parameter is required")
	}
	var err error
	if p.Start, p.End, err = timeRange(r, a.opts.Now()); err != nil {
		return p, err
	}
	if p.Limit, err = a.limitParam(r); err != nil {
		return p, err
	}
	if p.Direction, err = directionParam(r); err != nil {
		return p, err
	}
	// Loki's default step gives about 250 points over the range.
	p.Step = time.Duration(max(1, math.Floor(p.End.Sub(p.Start).Seconds()/250))) * time.Second
	if v := r.Form.Get("step"); v != "" {
		if p.Step, err = parseSecondsOrDuration("step", v); err != nil {
			return p, err
		}
	}
	if p.End.Sub(p.Start)/p.Step > maxPoints {
		return p, errBad("exceeded maximum resolution of 11,000 points per timeseries. Try increasing the value of the step parameter")
	}
	if v := r.Form.Get("interval"); v != "" {
		if p.Interval, err = parseSecondsOrDuration("interval", v); err != nil {
			return p, err
		}
	}
	p.Kind = event.KindLog
	return p, nil
}

func (a *API) handleQuery(w http.ResponseWriter, r *http.Request) {
	if err := a.parse(r); err != nil {
		a.writeError(w, r, err)
		return
	}
	q := r.Form.Get("query")
	if q == "" {
		a.writeError(w, r, errBad("query parameter is required"))
		return
	}
	expr, err := logql.ParseExpr(q)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	if _, ok := expr.(*logql.LogSelectorExpr); ok {
		a.writeError(w, r, errBad("log queries are not supported as an instant query type, please change your query to a range query type"))
		return
	}
	t, err := parseTimestamp(r, "time", a.opts.Now())
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	limit, err := a.limitParam(r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	dir, err := directionParam(r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	a.run(w, r, logql.QueryParams{Query: q, Start: t, End: t, Limit: limit, Direction: dir, Kind: event.KindLog}, false)
}

// run executes a query and writes Loki's response. A range query whose
// start equals its end still answers a matrix, as Loki does.
func (a *API) run(w http.ResponseWriter, r *http.Request, p logql.QueryParams, isRange bool) {
	res, err := a.engine.Query(r.Context(), p)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	if vec, ok := res.Value.(logql.Vector); ok && isRange {
		m := make(logql.Matrix, 0, len(vec))
		for _, s := range vec {
			m = append(m, logql.Series{Labels: s.Labels, Points: []logql.Point{{T: s.T, V: s.V}}})
		}
		res.Value = m
	}
	categorize := false
	for _, f := range strings.Split(r.Header.Get("X-Loki-Response-Encoding-Flags"), ",") {
		categorize = categorize || strings.TrimSpace(f) == categorizeLabels
	}
	data := queryData{Stats: stats(res.Stats)}
	switch v := res.Value.(type) {
	case logql.Streams:
		data.ResultType = "streams"
		if categorize {
			data.EncodingFlags = []string{categorizeLabels}
			w.Header().Set("X-Loki-Response-Encoding-Flags", categorizeLabels)
			data.Result = encodeStreams(v, true)
		} else {
			data.Result = encodeStreams(v.Merged(p.Direction), false)
		}
	case logql.Matrix:
		data.ResultType = "matrix"
		out := make([]matrixSeries, 0, len(v))
		for _, s := range v {
			ms := matrixSeries{Metric: labelMap(s.Labels), Values: make([][2]any, 0, len(s.Points))}
			for _, pt := range s.Points {
				ms.Values = append(ms.Values, [2]any{unixSeconds(pt.T), formatValue(pt.V)})
			}
			out = append(out, ms)
		}
		data.Result = out
	case logql.Vector:
		data.ResultType = "vector"
		out := make([]vectorSample, 0, len(v))
		for _, s := range v {
			out = append(out, vectorSample{Metric: labelMap(s.Labels), Value: [2]any{unixSeconds(s.T), formatValue(s.V)}})
		}
		data.Result = out
	case logql.Scalar:
		data.ResultType = "scalar"
		data.Result = [2]any{unixSeconds(v.T), formatValue(v.V)}
	default:
		a.writeError(w, r, errors.New("unexpected result type"))
		return
	}
	writeJSON(w, envelope{Status: "success", Data: data})
}

type queryData struct {
	ResultType    string   `json:"resultType"`
	Result        any      `json:"result"`
	Stats         any      `json:"stats"`
	EncodingFlags []string `json:"encodingFlags,omitempty"`
}

type matrixSeries struct {
	Metric map[string]string `json:"metric"`
	Values [][2]any          `json:"values"`
}

type vectorSample struct {
	Metric map[string]string `json:"metric"`
	Value  [2]any            `json:"value"`
}

type streamJSON struct {
	Stream map[string]string `json:"stream"`
	Values []json.RawMessage `json:"values"`
}

// encodeStreams writes Loki's stream encoding: values are ["<ns>", "line"],
// with a third element {"structuredMetadata":…, "parsed":…} when labels are
// categorised and the entry has any.
func encodeStreams(s logql.Streams, categorize bool) []streamJSON {
	out := make([]streamJSON, 0, len(s))
	for _, st := range s {
		sj := streamJSON{Stream: labelMap(st.Labels), Values: make([]json.RawMessage, 0, len(st.Entries))}
		for _, e := range st.Entries {
			var b []byte
			b = append(b, '[', '"')
			b = strconv.AppendInt(b, e.T, 10)
			b = append(b, '"', ',')
			line, _ := json.Marshal(e.Line)
			b = append(b, line...)
			if categorize && (!e.StructuredMetadata.IsEmpty() || !e.Parsed.IsEmpty()) {
				cat := map[string]map[string]string{}
				if !e.StructuredMetadata.IsEmpty() {
					cat["structuredMetadata"] = e.StructuredMetadata.Map()
				}
				if !e.Parsed.IsEmpty() {
					cat["parsed"] = e.Parsed.Map()
				}
				c, _ := json.Marshal(cat)
				b = append(b, ',')
				b = append(b, c...)
			}
			b = append(b, ']')
			sj.Values = append(sj.Values, b)
		}
		out = append(out, sj)
	}
	return out
}

func labelMap(ls labels.Labels) map[string]string {
	m := make(map[string]string, ls.Len())
	ls.Range(func(l labels.Label) { m[l.Name] = l.Value })
	return m
}

// unixSeconds renders a nanosecond timestamp as Loki does in matrix and
// vector results: seconds as a JSON number with millisecond precision.
func unixSeconds(ns int64) json.Number {
	ms := ns / 1e6
	s := strconv.FormatInt(ms/1000, 10)
	if frac := ms % 1000; frac != 0 {
		f := strconv.FormatInt(1000+frac, 10)[1:]
		s += "." + strings.TrimRight(f, "0")
	}
	return json.Number(s)
}

func formatValue(v float64) string {
	switch {
	case math.IsNaN(v):
		return "NaN"
	case math.IsInf(v, 1):
		return "+Inf"
	case math.IsInf(v, -1):
		return "-Inf"
	}
	return strconv.FormatFloat(v, 'f', -1, 64)
}

// stats is the summary part of Loki's query statistics, which Grafana
// shows in the query inspector.
func stats(s logql.Stats) map[string]any {
	secs := s.ExecTime.Seconds()
	perSec := func(n int64) int64 {
		if secs <= 0 {
			return 0
		}
		return int64(float64(n) / secs)
	}
	return map[string]any{
		"summary": map[string]any{
			"bytesProcessedPerSecond": perSec(s.BytesProcessed),
			"linesProcessedPerSecond": perSec(s.RecordsScanned),
			"totalBytesProcessed":     s.BytesProcessed,
			"totalLinesProcessed":     s.RecordsScanned,
			"totalEntriesReturned":    s.EntriesReturned,
			"execTime":                secs,
			"queueTime":               0,
			"subqueries":              0,
			"totalPostFilterLines":    s.EntriesReturned,
		},
	}
}

func (a *API) handleFormatQuery(w http.ResponseWriter, r *http.Request) {
	if err := a.parse(r); err != nil {
		a.writeError(w, r, err)
		return
	}
	expr, err := logql.ParseExpr(r.Form.Get("query"))
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	writeJSON(w, envelope{Status: "success", Data: expr.String()})
}
