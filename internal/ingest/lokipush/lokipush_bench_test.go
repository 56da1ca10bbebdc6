package lokipush

import (
	"bytes"
	"fmt"
	"testing"

	"github.com/golang/snappy"
)

// benchPush builds a JSON and a protobuf request of 1000 realistic lines.
func benchPush(b *testing.B) (jsonBody, protoBody []byte) {
	b.Helper()
	var buf bytes.Buffer
	buf.WriteString(`{"streams":[{"stream":{"job":"api","env":"prod","namespace":"shop"},"values":[`)
	var entries []protoEntry
	for i := range 1000 {
		line := fmt.Sprintf(`level=info ts=2025-11-21T10:00:%02d.123Z caller=handler.go:42 msg="request served" path=/api/v1/items/%d status=200 took=%dms`, i%60, i, i%250)
		if i > 0 {
			buf.WriteByte(',')
		}
		fmt.Fprintf(&buf, `["%d",%q,{"trace_id":"%032x"}]`, 1763719200000000000+int64(i), line, i)
		entries = append(entries, protoEntry{secs: 1763719200, nanos: int32(i), line: line})
	}
	buf.WriteString(`]}]}`)
	return buf.Bytes(), encodeProto(protoStream{labels: `{job="api", env="prod", namespace="shop"}`, entries: entries})
}

func BenchmarkDecodeJSON(b *testing.B) {
	body, _ := benchPush(b)
	l := limits{maxBody: 16 << 20, maxLine: 256 << 10}
	b.ReportAllocs()
	b.SetBytes(int64(len(body)))
	for b.Loop() {
		if _, err := decodeJSON(body, l); err != nil {
			b.Fatal(err)
		}
	}
}

func BenchmarkDecodeProto(b *testing.B) {
	_, body := benchPush(b)
	l := limits{maxBody: 16 << 20, maxLine: 256 << 10}
	raw, err := snappy.Decode(nil, body)
	if err != nil {
		b.Fatal(err)
	}
	b.ReportAllocs()
	b.SetBytes(int64(len(raw)))
	for b.Loop() {
		if _, err := decodeProto(body, l); err != nil {
			b.Fatal(err)
		}
	}
}
