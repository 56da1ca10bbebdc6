package elastic

import (
	"testing"
	"unicode/utf8"

	"github.com/stretchr/testify/require"

	"github.com/lookout-dev/lookout/internal/event"
)

func FuzzBulk(f *testing.F) {
	for _, name := range []string{"bulk_docs.ndjson", "bulk_errors.ndjson", "bulk_data_stream.ndjson", "bulk_filebeat.ndjson"} {
		f.Add(readTestdata(f, name), "")
	}
	f.Add([]byte(`{"index":{"_id":1}}`+"\n"+`{"message":"x","@timestamp":-1.5,"a":{"b":[1,{"c":null}]},"a.b":true}`), "idx")
	f.Add([]byte(`{"delete":{}}`+"\r\n"+`{"update":{}}`+"\n"), "idx")
	o := docOptions{maxLine: 64, promote: []promotion{{field: "host.name", label: "host_name"}, {field: "index", label: "index"}}}
	f.Fuzz(func(t *testing.T, body []byte, index string) {
		if len(body) > 64<<10 {
			t.Skip()
		}
		recs, items, err := parseBulk(body, index, o, testNow)
		if err != nil {
			require.Nil(t, recs)
			return
		}
		require.GreaterOrEqual(t, len(items), len(recs))
		seen := 0
		for _, it := range items {
			if it.rec < 0 {
				require.Equal(t, 400, it.status)
				require.NotEmpty(t, it.errType)
				continue
			}
			require.Equal(t, seen, it.rec)
			seen++
			r := recs[it.rec]
			require.Equal(t, event.KindLog, r.Kind)
			require.LessOrEqual(t, len(r.Body), o.maxLine)
			require.True(t, utf8.ValidString(r.Body))
			require.NotEmpty(t, r.Labels.Get("index"))
			require.NotEmpty(t, r.Level)
			for _, a := range r.Attrs {
				require.True(t, utf8.ValidString(a.Key) && utf8.ValidString(a.Value))
				require.LessOrEqual(t, len(a.Value), o.maxLine)
			}
		}
		require.Equal(t, len(recs), seen)
	})
}
