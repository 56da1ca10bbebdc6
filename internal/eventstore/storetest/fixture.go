package storetest

import (
	"embed"
	"encoding/json"
	"fmt"
	"math"
	"slices"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/stretchr/testify/require"

	"github.com/lookout-dev/lookout/internal/event"
	"github.com/lookout-dev/lookout/internal/eventstore"
)

//go:embed testdata/*.json
var testdata embed.FS

// Fixture times. The records span [fixtureStart, fixtureEnd); cases that
// give no time range use it.
var (
	fixtureStart = mustTime("2024-05-01T00:00:00Z")
	fixtureEnd   = mustTime("2024-05-04T00:00:00Z")
)

func mustTime(s string) int64 {
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic("BUG: bad fixture time " + s)
	}
	return t.UnixNano()
}

// jsonTime is an RFC 3339 time in JSON, held as Unix nanoseconds.
type jsonTime int64

func (j *jsonTime) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	t, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		return err
	}
	*j = jsonTime(t.UnixNano())
	return nil
}

// jsonDuration is a Go duration string in JSON.
type jsonDuration time.Duration

func (j *jsonDuration) UnmarshalJSON(b []byte) error {
	var s string
	if err := json.Unmarshal(b, &s); err != nil {
		return err
	}
	d, err := time.ParseDuration(s)
	*j = jsonDuration(d)
	return err
}

func parseKind(s string) (event.Kind, error) {
	switch s {
	case "", "log":
		return event.KindLog, nil
	case "span":
		return event.KindSpan, nil
	case "error":
		return event.KindError, nil
	case "rum":
		return event.KindRUM, nil
	}
	return 0, fmt.Errorf("unknown kind %q", s)
}

type jsonRecord struct {
	ID      int               `json:"id"`
	Kind    string            `json:"kind"`
	Time    jsonTime          `json:"time"`
	Labels  map[string]string `json:"labels"`
	Level   string            `json:"level"`
	Body    string            `json:"body"`
	TraceID string            `json:"trace_id"`
	SpanID  string            `json:"span_id"`
	Attrs   [][2]string       `json:"attrs"`
}

// fixture is the content of testdata/records.json.
type fixture struct {
	records []event.Record // in file order
	ids     []int          // ids[i] is the id of records[i]
	byBody  map[event.Kind]map[string]int
	byID    map[int]event.Record
}

func loadFixture(t testing.TB) *fixture {
	t.Helper()
	var in []jsonRecord
	readJSON(t, "records.json", &in)
	fx := &fixture{byBody: map[event.Kind]map[string]int{}, byID: map[int]event.Record{}}
	for _, jr := range in {
		k, err := parseKind(jr.Kind)
		require.NoError(t, err)
		r := event.Record{
			Kind:    k,
			Time:    int64(jr.Time),
			Labels:  labels.FromMap(jr.Labels),
			Body:    jr.Body,
			Level:   jr.Level,
			TraceID: jr.TraceID,
			SpanID:  jr.SpanID,
		}
		for _, a := range jr.Attrs {
			r.Attrs = append(r.Attrs, event.Attr{Key: a[0], Value: a[1]})
		}
		if fx.byBody[k] == nil {
			fx.byBody[k] = map[string]int{}
		}
		_, dup := fx.byBody[k][r.Body]
		require.False(t, dup, "fixture bodies must be unique per kind: %q", r.Body)
		fx.byBody[k][r.Body] = jr.ID
		fx.byID[jr.ID] = r
		fx.records = append(fx.records, r)
		fx.ids = append(fx.ids, jr.ID)
	}
	return fx
}

// appendTo appends the fixture newest first, in batches of three, so that
// stores see out-of-order data and batches spanning days.
func (fx *fixture) appendTo(t testing.TB, s eventstore.Store) {
	t.Helper()
	recs := slices.Clone(fx.records)
	slices.Reverse(recs)
	for batch := range slices.Chunk(recs, 3) {
		require.NoError(t, s.Append(t.Context(), batch))
	}
}

// idsOf maps records back to fixture ids by kind and body.
func (fx *fixture) idsOf(t testing.TB, recs []event.Record) []int {
	t.Helper()
	ids := make([]int, 0, len(recs))
	for _, r := range recs {
		id, ok := fx.byBody[r.Kind][r.Body]
		require.True(t, ok, "store returned a record that is not in the fixture: %+v", r)
		ids = append(ids, id)
	}
	return ids
}

func readJSON(t testing.TB, name string, v any) {
	t.Helper()
	b, err := testdata.ReadFile("testdata/" + name)
	require.NoError(t, err)
	require.NoError(t, json.Unmarshal(b, v), "decode %s", name)
}

// jsonSelector is the selector part of a case. Matchers are [name, op,
// value]; level matchers [op, value]; line filters [op, value] with the
// LogQL operators |=, !=, |~ and !~.
type jsonSelector struct {
	Kind     string      `json:"kind"`
	Start    *jsonTime   `json:"start"`
	End      *jsonTime   `json:"end"`
	Matchers [][3]string `json:"matchers"`
	Level    [][2]string `json:"level"`
	Lines    [][2]string `json:"lines"`
}

func (js jsonSelector) selector(t testing.TB) eventstore.Selector {
	t.Helper()
	k, err := parseKind(js.Kind)
	require.NoError(t, err)
	sel := eventstore.Selector{Kind: k, Start: fixtureStart, End: fixtureEnd}
	if js.Start != nil {
		sel.Start = int64(*js.Start)
	}
	if js.End != nil {
		sel.End = int64(*js.End)
	}
	for _, m := range js.Matchers {
		sel.Matchers = append(sel.Matchers, matcher(t, m[0], m[1], m[2]))
	}
	for _, m := range js.Level {
		sel.Level = append(sel.Level, matcher(t, event.LevelLabel, m[0], m[1]))
	}
	for _, l := range js.Lines {
		ops := map[string]eventstore.LineOp{
			"|=": eventstore.LineContains, "!=": eventstore.LineNotContains,
			"|~": eventstore.LineRegexp, "!~": eventstore.LineNotRegexp,
		}
		op, ok := ops[l[0]]
		require.True(t, ok, "unknown line filter operator %q", l[0])
		sel.LineFilters = append(sel.LineFilters, eventstore.LineFilter{Op: op, Value: l[1]})
	}
	return sel
}

func matcher(t testing.TB, name, op, value string) *labels.Matcher {
	t.Helper()
	types := map[string]labels.MatchType{"=": labels.MatchEqual, "!=": labels.MatchNotEqual, "=~": labels.MatchRegexp, "!~": labels.MatchNotRegexp}
	mt, ok := types[op]
	require.True(t, ok, "unknown matcher operator %q", op)
	m, err := labels.NewMatcher(mt, name, value)
	require.NoError(t, err)
	return m
}

// collect runs a Select and copies the records out. It fails the test on an
// error.
func collect(t testing.TB, s eventstore.Store, p eventstore.SelectParams) []event.Record {
	t.Helper()
	recs, err := trySelect(t, s, p)
	require.NoError(t, err)
	return recs
}

// trySelect runs a Select, copies the records out and returns the error it
// yielded. It checks that an error comes once, last, with a nil record.
func trySelect(t testing.TB, s eventstore.Store, p eventstore.SelectParams) ([]event.Record, error) {
	t.Helper()
	var (
		out     []event.Record
		lastErr error
	)
	for r, err := range s.Select(t.Context(), p) {
		require.NoError(t, lastErr, "Select yielded after an error")
		if err != nil {
			require.Nil(t, r, "Select yielded a record with an error")
			lastErr = err
			continue
		}
		out = append(out, copyRecord(r))
	}
	return out, lastErr
}

// copyRecord deep-copies r, normalising empty Attrs to nil.
func copyRecord(r *event.Record) event.Record {
	c := *r
	c.Labels = r.Labels.Copy()
	c.Attrs = nil
	if len(r.Attrs) > 0 {
		c.Attrs = slices.Clone(r.Attrs)
	}
	return c
}

// all is a Select of every record of a kind.
func all(kind event.Kind) eventstore.SelectParams {
	return eventstore.SelectParams{
		Selector:  eventstore.Selector{Kind: kind, Start: math.MinInt64, End: math.MaxInt64},
		Direction: eventstore.Forward,
	}
}

// allRecords returns every record of every kind, oldest first per kind.
func allRecords(t testing.TB, s eventstore.Store) []event.Record {
	t.Helper()
	var out []event.Record
	for _, k := range []event.Kind{event.KindLog, event.KindSpan, event.KindError, event.KindRUM} {
		out = append(out, collect(t, s, all(k))...)
	}
	return out
}
