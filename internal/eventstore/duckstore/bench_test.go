package duckstore_test

import (
	"fmt"
	"math/rand/v2"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/stretchr/testify/require"

	"github.com/lookout-dev/lookout/internal/event"
	"github.com/lookout-dev/lookout/internal/eventstore"
	"github.com/lookout-dev/lookout/internal/eventstore/duckstore"
)

const (
	benchBatch   = 1000
	benchStreams = 20
	benchRecords = 200_000 // preloaded for the query benchmarks: one day
	needle       = "needle-7f3a9c"
)

// logGen produces realistic structured (JSON) application log records from
// a fixed seed: a few services and pods, access logs and application
// messages, levels skewed towards info.
type logGen struct {
	rng     *rand.Rand
	streams []labels.Labels
	t       int64
	step    int64
}

func newLogGen(start, step int64) *logGen {
	g := &logGen{rng: rand.New(rand.NewPCG(1, 2)), t: start, step: step}
	services := []string{"api", "checkout", "payments", "search", "web"}
	for i := range benchStreams {
		svc := services[i%len(services)]
		g.streams = append(g.streams, labels.FromStrings(
			"app", svc, "env", "prod", "namespace", "shop",
			"pod", fmt.Sprintf("%s-%x-%d", svc, 0x5d8f7c9b4+i, i), "container", svc,
		))
	}
	return g
}

var (
	methods  = []string{"GET", "GET", "GET", "POST", "PUT", "DELETE"}
	paths    = []string{"/api/v1/users/%d", "/api/v1/orders/%d", "/api/v1/cart/%d/items", "/healthz", "/api/v1/search?q=item%d", "/static/app.%d.js"}
	messages = []string{"request completed", "cache miss", "user session refreshed", "order state changed", "retrying upstream call", "slow database query"}
	agents   = []string{"Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/126.0 Safari/537.36", "curl/8.5.0", "Go-http-client/2.0", "kube-probe/1.30"}
)

func (g *logGen) level() string {
	switch x := g.rng.IntN(100); {
	case x < 2:
		return event.LevelError
	case x < 8:
		return event.LevelWarn
	case x < 20:
		return event.LevelDebug
	default:
		return event.LevelInfo
	}
}

func (g *logGen) hex(n int) string {
	const digits = "0123456789abcdef"
	b := make([]byte, n)
	for i := range b {
		b[i] = digits[g.rng.IntN(16)]
	}
	return string(b)
}

// next fills r with the next record; withNeedle puts the needle in its body.
func (g *logGen) next(r *event.Record, withNeedle bool) {
	t := g.t
	g.t += g.step
	level := g.level()
	trace, span := g.hex(32), g.hex(16)
	var b strings.Builder
	fmt.Fprintf(&b, `{"ts":%q,"level":%q,"msg":%q,"method":%q,"path":%q,"status":%d,"duration_ms":%.3f,"bytes":%d,"user_agent":%q,"trace_id":%q`,
		time.Unix(0, t).UTC().Format(time.RFC3339Nano), level, messages[g.rng.IntN(len(messages))],
		methods[g.rng.IntN(len(methods))], fmt.Sprintf(paths[g.rng.IntN(len(paths))], g.rng.IntN(100000)),
		[]int{200, 200, 200, 201, 204, 304, 404, 500}[g.rng.IntN(8)], g.rng.Float64()*250, g.rng.IntN(65536),
		agents[g.rng.IntN(len(agents))], trace)
	if withNeedle {
		fmt.Fprintf(&b, `,"request_id":%q`, needle)
	} else {
		fmt.Fprintf(&b, `,"request_id":%q`, g.hex(12))
	}
	b.WriteString("}")
	*r = event.Record{
		Kind:    event.KindLog,
		Time:    t,
		Labels:  g.streams[g.rng.IntN(len(g.streams))],
		Body:    b.String(),
		Level:   level,
		TraceID: trace,
		SpanID:  span,
		Attrs:   []event.Attr{{Key: "http.method", Value: "GET"}, {Key: "k8s.node", Value: "node-3"}},
	}
}

func (g *logGen) batch(n int) []event.Record {
	out := make([]event.Record, n)
	for i := range out {
		g.next(&out[i], false)
	}
	return out
}

func benchOpen(b *testing.B) *duckstore.Store {
	b.Helper()
	s, err := duckstore.Open(b.Context(), duckstore.Options{Dir: b.TempDir(), MemoryLimit: 256 << 20, Threads: 2})
	require.NoError(b, err)
	b.Cleanup(func() { require.NoError(b, s.Close()) })
	return s
}

// BenchmarkAppend appends batches of 1000 JSON log lines over 20 streams.
// Each op is one durable batch (one fsync).
func BenchmarkAppend(b *testing.B) {
	s := benchOpen(b)
	g := newLogGen(time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC).UnixNano(), int64(time.Millisecond))
	batches := make([][]event.Record, 16)
	var bytes int64
	for i := range batches {
		batches[i] = g.batch(benchBatch)
	}
	for _, r := range batches[0] {
		bytes += int64(len(r.Body))
	}
	b.SetBytes(bytes)
	b.ReportAllocs()
	n := 0
	for b.Loop() {
		batch := batches[n%len(batches)]
		// Move the batch forward in time so that it is new data.
		for i := range batch {
			batch[i].Time += int64(len(batches) * benchBatch * int(time.Millisecond))
		}
		require.NoError(b, s.Append(b.Context(), batch))
		n++
	}
	b.ReportMetric(float64(n*benchBatch)/b.Elapsed().Seconds(), "records/s")
	b.ReportMetric(float64(s.Size())/float64(n*benchBatch), "disk-bytes/record")
}

// loaded is a store with benchRecords records over one day, ten of them
// holding the needle.
func loaded(b *testing.B) (*duckstore.Store, int64, int64) {
	b.Helper()
	s := benchOpen(b)
	start := time.Date(2024, 5, 1, 0, 0, 0, 0, time.UTC).UnixNano()
	step := int64(24*time.Hour) / benchRecords
	g := newLogGen(start, step)
	batch := make([]event.Record, benchBatch)
	for i := 0; i < benchRecords; i += benchBatch {
		for j := range batch {
			g.next(&batch[j], (i+j)%(benchRecords/10) == benchRecords/20)
		}
		require.NoError(b, s.Append(b.Context(), batch))
	}
	return s, start, start + int64(24*time.Hour)
}

// BenchmarkSelectNeedle searches a day of logs of every stream for a rare
// string, newest first, as a "find this request id" query does.
func BenchmarkSelectNeedle(b *testing.B) {
	s, start, end := loaded(b)
	p := eventstore.SelectParams{
		Selector: eventstore.Selector{
			Kind: event.KindLog, Start: start, End: end,
			Matchers:    []*labels.Matcher{labels.MustNewMatcher(labels.MatchEqual, "env", "prod")},
			LineFilters: []eventstore.LineFilter{{Op: eventstore.LineContains, Value: needle}},
		},
		Direction: eventstore.Backward,
		Limit:     100,
	}
	b.ReportAllocs()
	for b.Loop() {
		n := 0
		for _, err := range s.Select(b.Context(), p) {
			require.NoError(b, err)
			n++
		}
		require.Equal(b, 10, n)
	}
}

// BenchmarkSelectTail reads the newest 1000 lines of one app, as a log
// view does.
func BenchmarkSelectTail(b *testing.B) {
	s, start, end := loaded(b)
	p := eventstore.SelectParams{
		Selector: eventstore.Selector{
			Kind: event.KindLog, Start: start, End: end,
			Matchers: []*labels.Matcher{labels.MustNewMatcher(labels.MatchEqual, "app", "checkout")},
		},
		Direction: eventstore.Backward,
		Limit:     1000,
	}
	b.ReportAllocs()
	for b.Loop() {
		n := 0
		for _, err := range s.Select(b.Context(), p) {
			require.NoError(b, err)
			n++
		}
		require.Equal(b, 1000, n)
	}
}

// BenchmarkSelectAll reads a whole day, oldest first and without a limit,
// as a query the store cannot aggregate itself does.
func BenchmarkSelectAll(b *testing.B) {
	s, start, end := loaded(b)
	p := eventstore.SelectParams{
		Selector:  eventstore.Selector{Kind: event.KindLog, Start: start, End: end},
		Direction: eventstore.Forward,
	}
	b.ReportAllocs()
	for b.Loop() {
		n := 0
		for _, err := range s.Select(b.Context(), p) {
			require.NoError(b, err)
			n++
		}
		require.Equal(b, benchRecords, n)
	}
	b.ReportMetric(float64(benchRecords*b.N)/b.Elapsed().Seconds(), "records/s")
}

// BenchmarkAggregate counts a day of logs per minute by level, as
// sum by (detected_level) (count_over_time({env="prod"}[1m])) does.
func BenchmarkAggregate(b *testing.B) {
	s, start, end := loaded(b)
	p := eventstore.AggregateParams{
		Selector: eventstore.Selector{
			Kind: event.KindLog, Start: start, End: end,
			Matchers: []*labels.Matcher{labels.MustNewMatcher(labels.MatchEqual, "env", "prod")},
		},
		Op:      eventstore.AggCount,
		Step:    int64(time.Minute),
		GroupBy: []string{event.LevelLabel},
	}
	b.ReportAllocs()
	for b.Loop() {
		series, err := s.Aggregate(b.Context(), p)
		require.NoError(b, err)
		require.Len(b, series, 4)
	}
}
