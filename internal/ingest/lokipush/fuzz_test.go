package lokipush

import (
	"encoding/json"
	"strconv"
	"testing"
	"unicode/utf8"

	"github.com/golang/snappy"
	"github.com/stretchr/testify/require"

	"github.com/lookout-dev/lookout/internal/event"
)

// maxFuzzInput caps fuzz inputs so that each run stays fast.
const maxFuzzInput = 64 << 10

// fuzzLimits keeps lines short so that truncation is exercised.
var fuzzLimits = limits{maxBody: 1 << 20, maxLine: 64}

// encodeJSON encodes records as a JSON push request, one stream per record.
func encodeJSON(t testing.TB, recs []event.Record) []byte {
	t.Helper()
	type stream struct {
		Stream map[string]string `json:"stream"`
		Values [][]any           `json:"values"`
	}
	var req struct {
		Streams []stream `json:"streams"`
	}
	for _, r := range recs {
		v := []any{strconv.FormatInt(r.Time, 10), r.Body}
		if len(r.Attrs) > 0 {
			// An ordered object, so that duplicate keys and order survive.
			obj := []byte{'{'}
			for i, a := range r.Attrs {
				if i > 0 {
					obj = append(obj, ',')
				}
				k, _ := json.Marshal(a.Key)
				val, _ := json.Marshal(a.Value)
				obj = append(append(append(obj, k...), ':'), val...)
			}
			v = append(v, json.RawMessage(append(obj, '}')))
		}
		req.Streams = append(req.Streams, stream{Stream: r.Labels.Map(), Values: [][]any{v}})
	}
	b, err := json.Marshal(req)
	require.NoError(t, err)
	return b
}

// encodeRecordsProto encodes records as a protobuf push request, one stream
// per record.
func encodeRecordsProto(recs []event.Record) []byte {
	var streams []protoStream
	for _, r := range recs {
		streams = append(streams, protoStream{labels: r.Labels.String(), entries: []protoEntry{{
			secs: r.Time / 1e9, nanos: int32(r.Time % 1e9), line: r.Body, meta: r.Attrs,
		}}})
	}
	return encodeProto(streams...)
}

func FuzzDecodeJSON(f *testing.F) {
	f.Add(readTestdata(f, "push_docs.json"))
	f.Add(readTestdata(f, "push_structured_metadata.json"))
	f.Add([]byte(`{"streams":[{"stream":{"a":"b","level":"warn"},"values":[[1,"x",{"k":"v","k":"w"}]]}]}`))
	f.Add([]byte(`{"streams":[{"stream":{"a":"\u00ff"},"values":[["-5","` + "\xff\xfe" + `"]]}]}`))
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > maxFuzzInput {
			t.Skip()
		}
		recs, err := decodeJSON(b, fuzzLimits)
		if err != nil {
			return
		}
		checkRecords(t, recs)
		again, err := decodeJSON(encodeJSON(t, recs), fuzzLimits)
		require.NoError(t, err)
		require.Equal(t, normalise(recs), normalise(again))
	})
}

func FuzzDecodeProto(f *testing.F) {
	seed, err := snappy.Decode(nil, encodeProto(
		protoStream{labels: `{job="app", env="prod"}`, entries: []protoEntry{
			{secs: 1570818238, nanos: 5, line: "hello"},
			{secs: 1570818239, line: "with meta", meta: []event.Attr{{Key: "trace_id", Value: "abc"}}},
		}},
		protoStream{labels: `{a='b'}`, entries: []protoEntry{{secs: -1, nanos: -1, line: "\xff"}}},
	))
	require.NoError(f, err)
	f.Add(seed)
	f.Add([]byte{0x0a, 0x02, 0x0a, 0x00})
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > maxFuzzInput {
			t.Skip()
		}
		recs, err := decodeProto(snappy.Encode(nil, b), fuzzLimits)
		if err != nil {
			return
		}
		checkRecords(t, recs)
		again, err := decodeProto(encodeRecordsProto(recs), fuzzLimits)
		require.NoError(t, err)
		require.Equal(t, normalise(recs), normalise(again))
	})
}

// checkRecords asserts the invariants every decoded record holds.
func checkRecords(t *testing.T, recs []event.Record) {
	t.Helper()
	for _, r := range recs {
		require.Equal(t, event.KindLog, r.Kind)
		require.LessOrEqual(t, len(r.Body), fuzzLimits.maxLine)
		require.True(t, utf8.ValidString(r.Body))
		require.Positive(t, r.Labels.Len())
		require.NotEmpty(t, r.Level)
	}
}

// normalise makes empty and nil attribute lists compare equal.
func normalise(recs []event.Record) []event.Record {
	for i := range recs {
		if len(recs[i].Attrs) == 0 {
			recs[i].Attrs = nil
		}
	}
	return recs
}
