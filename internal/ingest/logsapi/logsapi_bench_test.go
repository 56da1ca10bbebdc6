package logsapi

import (
	"bytes"
	"testing"

	"github.com/prometheus/prometheus/model/labels"
)

func BenchmarkNDJSON(b *testing.B) {
	body := bytes.Repeat(readTestdata(b, "app.ndjson"), 250)
	d := decoder{labels: labels.FromStrings("service", "api"), now: testNow.UnixNano(), maxLine: 256 << 10}
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, err := d.json(body); err != nil {
			b.Fatal(err)
		}
	}
}
