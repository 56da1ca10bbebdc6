package elastic_test

import (
	"context"
	"fmt"
	"net/http"
	"net/http/httptest"
	"strings"

	"github.com/lookout-dev/lookout/internal/event"
	"github.com/lookout-dev/lookout/internal/ingest/elastic"
	"github.com/lookout-dev/lookout/internal/pipeline"
)

// Mount the Elasticsearch-compatible API under /elastic on the main mux,
// next to the UI at /, and send a bulk request as Filebeat would with
// output.elasticsearch.path: "/elastic".
func ExampleReceiver_Register() {
	store := pipeline.ConsumerFunc[[]event.Record](func(_ context.Context, batch []event.Record) error {
		for _, r := range batch {
			fmt.Println(r.Labels, r.Level, r.Body)
		}
		return nil
	})
	mux := http.NewServeMux()
	mux.HandleFunc("/", func(http.ResponseWriter, *http.Request) {}) // the UI
	elastic.New(nil, nil, store, elastic.Options{}).Register(mux, "/elastic")

	body := `{"create":{"_index":"logs-app-default"}}
{"@timestamp":"2025-11-21T10:00:00Z","message":"payment failed","log":{"level":"error"}}
`
	rw := httptest.NewRecorder()
	mux.ServeHTTP(rw, httptest.NewRequest(http.MethodPost, "/elastic/_bulk", strings.NewReader(body)))
	fmt.Println(rw.Code, rw.Header().Get("X-Elastic-Product"))
	// Output:
	// {index="logs-app-default"} error payment failed
	// 200 Elasticsearch
}
