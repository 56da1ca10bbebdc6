package parse

import (
	"context"
	"testing"

	"github.com/lookout-dev/lookout/internal/event"
)

const nginxLine = `203.0.113.7 - - [19/Feb/2026:10:00:00 +0000] "GET /api/v1/contacts?page=2&sort=name HTTP/1.1" 200 5123 "https://crm.example.com/contacts" "Mozilla/5.0 (X11; Linux x86_64) AppleWebKit/537.36 (KHTML, like Gecko) Chrome/121.0 Safari/537.36"`

func BenchmarkStage(b *testing.B) {
	all := Options{JSON: true, Logfmt: true, Patterns: []string{"%{COMBINEDAPACHELOG}"}}
	cases := []struct {
		name string
		opts Options
		body string
	}{
		{"json/structlog", Options{JSON: true}, structlogLine},
		{"json/monolog", Options{JSON: true}, monologLine},
		{"logfmt", Options{Logfmt: true}, `time=2026-02-19T10:00:00Z level=info msg="request completed" method=GET path=/api/v1/contacts status=200 duration_ms=12 request_id=abc`},
		{"grok/combined", Options{Patterns: []string{"%{COMBINEDAPACHELOG}"}}, nginxLine},
		{"all/json-line", all, appLine},
		{"all/access-line", all, nginxLine},
	}
	for _, c := range cases {
		stage, err := New(c.opts)
		if err != nil {
			b.Fatal(err)
		}
		b.Run(c.name, func(b *testing.B) {
			batch := make([]event.Record, 1)
			attrs := make([]event.Attr, 0, 32)
			b.ReportAllocs()
			b.SetBytes(int64(len(c.body)))
			for b.Loop() {
				batch[0] = event.Record{Body: c.body, Attrs: attrs[:0]}
				if _, err := stage(context.Background(), batch); err != nil {
					b.Fatal(err)
				}
			}
		})
	}
}
