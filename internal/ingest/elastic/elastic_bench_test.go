package elastic

import (
	"bytes"
	"testing"
)

func BenchmarkBulk(b *testing.B) {
	doc := readTestdata(b, "bulk_filebeat.ndjson")
	body := bytes.Repeat(doc, 1000)
	o := docOptions{maxLine: 256 << 10, promote: []promotion{{field: "host.name", label: "host_name"}}}
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, _, err := parseBulk(body, "", o, testNow); err != nil {
			b.Fatal(err)
		}
	}
}
