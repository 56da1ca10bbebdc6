package logsapi

import (
	"bytes"
	"cmp"
	"encoding/json"
	"slices"
	"testing"
	"time"
	"unicode/utf8"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/stretchr/testify/require"

	"github.com/lookout-dev/lookout/internal/event"
)

// encodeNDJSON writes records back as JSON lines this API reads.
func encodeNDJSON(t testing.TB, recs []event.Record) []byte {
	t.Helper()
	var buf bytes.Buffer
	for _, r := range recs {
		obj := map[string]string{}
		for _, a := range r.Attrs {
			obj[a.Key] = a.Value
		}
		obj["message"] = r.Body
		obj["timestamp"] = time.Unix(0, r.Time).UTC().Format(time.RFC3339Nano)
		if r.Level != event.LevelUnknown {
			obj["level"] = r.Level
		}
		b, err := json.Marshal(obj)
		require.NoError(t, err)
		buf.Write(append(b, '\n'))
	}
	return buf.Bytes()
}

// roundTrips reports whether records survive encodeNDJSON: attribute keys
// must be distinct and not collide with the fields the encoder writes.
func roundTrips(recs []event.Record) bool {
	for _, r := range recs {
		seen := map[string]bool{}
		for _, a := range r.Attrs {
			if seen[a.Key] || a.Key == "message" || a.Key == "timestamp" || a.Key == "level" {
				return false
			}
			seen[a.Key] = true
		}
	}
	return true
}

func sortedAttrs(recs []event.Record) []event.Record {
	if len(recs) == 0 {
		return nil
	}
	out := slices.Clone(recs)
	for i := range out {
		out[i].Attrs = slices.SortedFunc(slices.Values(out[i].Attrs), func(a, b event.Attr) int {
			return cmp.Or(cmp.Compare(a.Key, b.Key), cmp.Compare(a.Value, b.Value))
		})
		if len(out[i].Attrs) == 0 {
			out[i].Attrs = nil
		}
	}
	return out
}

func FuzzNDJSON(f *testing.F) {
	f.Add(readTestdata(f, "app.ndjson"))
	f.Add(readTestdata(f, "plain.txt"))
	f.Add([]byte(`[{"msg":"a","ts":"1.5"},{"log":"b","time":-3,"level":"60","x":{"y":[1,null]}}]`))
	f.Add([]byte(`{"message":"` + "\xff" + `","a":{"b":1},"a.b":2,"@timestamp":"2262-04-11T23:47:16.854775807Z"}`))
	d := decoder{labels: labels.FromStrings("source", "http"), now: testNow.UnixNano(), maxLine: 64}
	f.Fuzz(func(t *testing.T, body []byte) {
		if len(body) > 64<<10 {
			t.Skip()
		}
		for _, r := range d.text(body) {
			require.LessOrEqual(t, len(r.Body), d.maxLine)
			require.True(t, utf8.ValidString(r.Body))
		}
		recs, err := d.json(body)
		if err != nil {
			require.Nil(t, recs)
			return
		}
		for _, r := range recs {
			require.Equal(t, event.KindLog, r.Kind)
			require.LessOrEqual(t, len(r.Body), d.maxLine)
			require.True(t, utf8.ValidString(r.Body))
			require.NotEmpty(t, r.Level)
		}
		if !roundTrips(recs) {
			return
		}
		again, err := d.json(encodeNDJSON(t, recs))
		require.NoError(t, err)
		require.Equal(t, sortedAttrs(recs), sortedAttrs(again))
	})
}
