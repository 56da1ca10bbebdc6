package process

import (
	"context"
	"testing"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/lookout-dev/lookout/internal/config"
	"github.com/lookout-dev/lookout/internal/event"
)

// BenchmarkDefaultPipeline runs the default pipeline over a batch of the
// users' JSON application lines and access lines.
func BenchmarkDefaultPipeline(b *testing.B) {
	lines := []string{
		`{"timestamp": "2026-02-19T10:00:00", "level": "info", "name": "app", "event": "request_completed", "request_id": "9f1c2a7e-4b7d-4e0b-9a55-0c2f3b1d8e21", "method": "POST", "path": "/api/v1/orders", "status_code": 201, "duration_ms": 245.31, "user_id": "789", "ip": "203.0.113.7"}`,
		`{"level":"error","message":"charge failed","user_id":42,"ip":"198.51.100.23","method":"POST","path":"/api/v1/payments","status":502,"duration_ms":1834,"request_id":"req-7f3a","trace_id":"4bf92f3577b34da6a3ce929d0e0e4736","password":"hunter2"}`,
		`203.0.113.7 - - [19/Feb/2026:10:00:00 +0000] "GET /api/v1/contacts?page=2&sort=name HTTP/1.1" 200 5123 "https://crm.example.com/contacts" "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/121.0 Safari/537.36"`,
		`2025-01-14 09:12:44,123 ERROR Payment gateway timeout after 30s order_id=9912`,
	}
	for _, c := range []struct {
		name string
		cfg  config.LogPipeline
	}{
		{"default", config.DefaultLogPipeline},
		{"access-and-app", pipelineCfg(func(p *config.LogPipeline) {
			p.Patterns = []string{"^%{COMBINEDAPACHELOG}", `^%{TIMESTAMP_ISO8601:timestamp} %{LOGLEVEL:level} %{GREEDYDATA:message}`}
			p.Timestamp = config.LogTimestamp{Field: "timestamp"}
			p.Promote = []string{"service"}
			p.Sample = []config.LogSampleRule{{Level: "debug", Ratio: 0.1}}
		})},
	} {
		stage, err := Build(c.cfg, nil, nil)
		if err != nil {
			b.Fatal(err)
		}
		lbls := labels.FromStrings("service", "crm-api")
		batch := make([]event.Record, len(lines))
		attrs := make([][]event.Attr, len(lines))
		n := 0
		for i, l := range lines {
			n += len(l)
			attrs[i] = make([]event.Attr, 0, 32)
		}
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(n))
			for b.Loop() {
				batch = batch[:len(lines)]
				for i, l := range lines {
					batch[i] = event.Record{Body: l, Labels: lbls, Attrs: attrs[i][:0]}
				}
				if _, err := stage(context.Background(), batch); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
