package querybench

import (
	"context"
	"net/http"
	"net/http/httptest"
	"sync/atomic"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

func TestPercentile(t *testing.T) {
	s := []float64{1, 2, 3, 4, 5, 6, 7, 8, 9, 10}
	require.Equal(t, 5.0, percentile(s, 0.5))
	require.Equal(t, 10.0, percentile(s, 0.99))
	require.Equal(t, 1.0, percentile(s, 0))
	require.Equal(t, 7.0, percentile([]float64{7}, 0.99))

	st := stats([]float64{3, 1, 2})
	require.Equal(t, Stats{Count: 3, P50: 2, P99: 3, Mean: 2, Min: 1, Max: 3}, st)
	require.Equal(t, Stats{}, stats(nil))
}

func TestRun(t *testing.T) {
	var instant, ranged atomic.Int64
	end := time.Unix(1_700_000_000, 0)
	srv := httptest.NewServer(http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		q := r.URL.Query()
		w.Header().Set("Content-Type", "application/json")
		switch r.URL.Path {
		case "/api/v1/query":
			instant.Add(1)
			require.Equal(t, "1700000000.000", q.Get("time"))
			if q.Get("query") == "broken" {
				w.WriteHeader(http.StatusBadRequest)
				_, _ = w.Write([]byte(`{"status":"error","errorType":"bad_data","error":"parse error"}`))
				return
			}
			_, _ = w.Write([]byte(`{"status":"success","data":{"resultType":"vector","result":[{"metric":{},"value":[1700000000,"1"]},{"metric":{"a":"b"},"value":[1700000000,"2"]}]}}`))
		case "/api/v1/query_range":
			ranged.Add(1)
			require.Equal(t, "1699996400.000", q.Get("start"))
			require.Equal(t, "15", q.Get("step"))
			if q.Get("query") == "empty" {
				_, _ = w.Write([]byte(`{"status":"success","data":{"resultType":"matrix","result":[]}}`))
				return
			}
			_, _ = w.Write([]byte(`{"status":"success","data":{"resultType":"matrix","result":[{"metric":{},"values":[[1,"1"],[2,"2"],[3,"3"]]}]}}`))
		default:
			http.NotFound(w, r)
		}
	}))
	defer srv.Close()

	sum, err := Run(context.Background(), Config{
		URL: srv.URL, End: end, Range: time.Hour, Step: 15 * time.Second, Iterations: 3, Warmup: 1,
		Timeout: 5 * time.Second,
		Queries: []Query{{"ok", "up"}, {"broken", "broken"}, {"empty", "empty"}},
	})
	require.NoError(t, err)
	require.Equal(t, int64(4*3), instant.Load())
	require.Equal(t, int64(4*3), ranged.Load())
	require.Len(t, sum.Queries, 6)

	byKey := map[string]Result{}
	for _, r := range sum.Queries {
		byKey[r.Name+"/"+r.Type] = r
	}
	require.Equal(t, 2, byKey["ok/instant"].Series)
	require.Equal(t, 3, byKey["ok/range"].Points)
	require.Equal(t, 3, byKey["ok/range"].Count)
	require.Equal(t, 3, byKey["broken/instant"].Errors)
	require.Contains(t, byKey["broken/instant"].Error, "parse error")
	require.Equal(t, 3, sum.Errors)
	require.Equal(t, 1, sum.EmptyResults)
	require.Equal(t, 5*3, sum.Overall.Count)
}

func TestRunRefusesRemoteTargets(t *testing.T) {
	_, err := Run(context.Background(), Config{URL: "http://10.1.2.3:9090", Iterations: 1, Range: time.Hour, Step: time.Minute})
	require.Error(t, err)
}
