package logql

import (
	"context"
	"fmt"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/lookout-dev/lookout/internal/event"
	"github.com/lookout-dev/lookout/internal/eventstore/memstore"
)

func benchRecords(n int) []event.Record {
	levels := []string{event.LevelInfo, event.LevelWarn, event.LevelError}
	recs := make([]event.Record, n)
	for i := range recs {
		recs[i] = event.Record{
			Kind:   event.KindLog,
			Time:   int64(i) * int64(100*time.Millisecond),
			Labels: labels.FromStrings("app", "api", "pod", fmt.Sprintf("api-%d", i%4)),
			Body: fmt.Sprintf(`{"method":"GET","path":"/v1/items/%d","status":%d,"latency":"%dms","user":{"id":"u%d"}}`,
				i%100, 200+100*(i%4), i%250, i%50),
			Level: levels[i%3],
			Attrs: []event.Attr{{Key: "trace_id", Value: fmt.Sprintf("%016x", i)}},
		}
	}
	return recs
}

func BenchmarkPipeline(b *testing.B) {
	e, err := ParseLogSelector(`{app="api"} |= "GET" | json | status >= 400 | line_format "{{.method}} {{.path}} {{.latency}}"`)
	if err != nil {
		b.Fatal(err)
	}
	p, err := compilePipeline(e.Stages, time.Now)
	if err != nil {
		b.Fatal(err)
	}
	recs := benchRecords(1000)
	var c lineCtx
	b.ReportAllocs()
	b.SetBytes(int64(len(recs[0].Body)))
	i := 0
	for b.Loop() {
		r := &recs[i%len(recs)]
		c.ts, c.line = r.Time, r.Body
		c.lbs.reset(r)
		p.process(&c)
		i++
	}
}

func BenchmarkQuery(b *testing.B) {
	store := memstore.New()
	b.Cleanup(func() { _ = store.Close() })
	recs := benchRecords(20000) // 2000s of data
	if err := store.Append(context.Background(), recs); err != nil {
		b.Fatal(err)
	}
	end := time.Unix(0, recs[len(recs)-1].Time)
	queries := []struct {
		name  string
		query string
		step  time.Duration
	}{
		{"pushed_sum_by", `sum by (pod) (rate({app="api"} |= "GET" [1m]))`, 15 * time.Second},
		{"go_count_by_level", `sum by (detected_level) (count_over_time({app="api"} | json | status >= 400 [1m]))`, 15 * time.Second},
		{"go_quantile", `quantile_over_time(0.99, {app="api"} | json | unwrap duration(latency) [5m]) by (pod)`, time.Minute},
		{"log_query", `{app="api"} | json | status = 500`, 0},
	}
	for _, q := range queries {
		b.Run(q.name, func(b *testing.B) {
			e := NewEngine(store, Options{})
			p := QueryParams{Query: q.query, Start: end.Add(-30 * time.Minute), End: end, Step: q.step, Limit: 1000}
			b.ReportAllocs()
			for b.Loop() {
				if _, err := e.Query(context.Background(), p); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
