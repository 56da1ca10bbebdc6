// Package elastic receives logs over the Elasticsearch bulk API, so that
// Filebeat, Logstash, Fluent Bit, Vector and applications using the
// @elastic/elasticsearch client can ship to Lookout unchanged.
//
// Besides POST/PUT /_bulk and /<index>/_bulk it answers the requests those
// agents make when they start (cluster info, license, x-pack features,
// index and legacy templates, ILM policies, ingest pipelines, nodes,
// cluster health, aliases, index creation) with plausible Elasticsearch 8
// answers; template, policy, pipeline and index bodies are accepted and
// ignored. Every answer carries
// X-Elastic-Product: Elasticsearch, without which the official clients
// refuse to talk to the server.
//
// Mounting: the routes include GET /, so on the main HTTP port they belong
// under a prefix. Register(mux, "/elastic") serves them at /elastic/…, and
// agents are pointed at http://lookout:PORT/elastic (Filebeat
// output.elasticsearch.path, Fluent Bit Path, Logstash and Vector endpoint
// URLs with a path, the JS client's node URL). A Receiver is itself an
// http.Handler serving the routes at the root, for a dedicated listener.
//
// A bulk request's well-formed documents are all stored or none are: the
// per-item statuses (201 created) are only sent after the consumer stored
// the whole batch. A malformed source document fails only its own item
// (400 mapper_parsing_exception); delete and update actions fail with
// 400 illegal_argument_exception because logs are append-only. A malformed
// action line rejects the whole request with 400, as Elasticsearch does.
package elastic

import (
	"encoding/json"
	"log/slog"
	"math/rand/v2"
	"net/http"
	"strconv"
	"strings"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/lookout-dev/lookout/internal/event"
	"github.com/lookout-dev/lookout/internal/ingest/logmetrics"
	"github.com/lookout-dev/lookout/internal/labelname"
	"github.com/lookout-dev/lookout/internal/pipeline"
)

// protocol is the protocol label of this receiver's metrics.
const protocol = "elastic"

// DefaultVersion is the Elasticsearch version reported by GET /. Beats
// refuse a server older than themselves, so it is the newest 8.x line.
const DefaultVersion = "8.19.0"

// Options configures a Receiver.
type Options struct {
	// MaxBodyBytes bounds the body as sent and once decompressed; larger
	// requests get 413. Zero means logmetrics.DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// MaxLineBytes bounds a record's body and each attribute value; longer
	// ones are cut and end in logmetrics.TruncatedSuffix. Zero means
	// logmetrics.DefaultMaxLineBytes.
	MaxLineBytes int
	// Promote names source fields (flattened with dots, e.g.
	// "kubernetes.namespace") that become stream labels instead of
	// attributes. Label names are the field names with invalid characters
	// replaced by '_'.
	Promote []string
	// Version is the Elasticsearch version to report. Empty means
	// DefaultVersion; set "9.x" for Beats 9.
	Version string
	// Metrics receives the ingest counters. Nil means logmetrics.New(reg).
	Metrics *logmetrics.Metrics
	// Now is the clock for records without @timestamp. Nil means time.Now.
	Now func() time.Time

	_ struct{}
}

// Receiver serves the Elasticsearch-compatible API. It is safe for
// concurrent use.
type Receiver struct {
	logger  *slog.Logger
	next    pipeline.Consumer[[]event.Record]
	metrics *logmetrics.Metrics
	maxBody int64
	doc     docOptions
	version string
	now     func() time.Time
	newID   func() string
	seqNo   atomic.Int64
	mux     *http.ServeMux
}

// New returns a Receiver handing decoded records to next. A nil logger
// discards; reg may be nil.
func New(logger *slog.Logger, reg prometheus.Registerer, next pipeline.Consumer[[]event.Record], opts Options) *Receiver {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	m := opts.Metrics
	if m == nil {
		m = logmetrics.New(reg)
	}
	rc := &Receiver{
		logger:  logger.With("component", "ingest", "protocol", protocol),
		next:    next,
		metrics: m,
		maxBody: opts.MaxBodyBytes,
		doc:     docOptions{maxLine: opts.MaxLineBytes, metrics: m},
		version: opts.Version,
		now:     opts.Now,
		newID:   randomID,
	}
	if rc.maxBody <= 0 {
		rc.maxBody = logmetrics.DefaultMaxBodyBytes
	}
	if rc.doc.maxLine <= 0 {
		rc.doc.maxLine = logmetrics.DefaultMaxLineBytes
	}
	for _, p := range opts.Promote {
		rc.doc.promote = append(rc.doc.promote, promotion{field: p, label: labelname.Sanitize(p)})
	}
	if rc.version == "" {
		rc.version = DefaultVersion
	}
	if rc.now == nil {
		rc.now = time.Now
	}
	rc.mux = http.NewServeMux()
	rc.Register(rc.mux, "")
	rc.mux.Handle("/", rc.wrap(rc.notFound))
	return rc
}

// ServeHTTP serves the API at the root path.
func (rc *Receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) { rc.mux.ServeHTTP(w, r) }

// Register adds the API's routes to mux under prefix ("" or e.g.
// "/elastic", without a trailing slash). With a prefix, unknown paths under
// it get an Elasticsearch-style 404. With an empty prefix, GET / belongs to
// this API, which is why the main port should use a prefix.
func (rc *Receiver) Register(mux *http.ServeMux, prefix string) {
	p := strings.TrimSuffix(prefix, "/")
	handle := func(pattern string, h http.HandlerFunc) {
		method, path, _ := strings.Cut(pattern, " ")
		mux.Handle(method+" "+p+path, rc.wrap(h))
	}
	handle("GET /{$}", rc.info)
	if p != "" {
		handle("GET ", rc.info)
		mux.Handle(p+"/", rc.wrap(rc.notFound))
	}
	for _, m := range []string{"POST", "PUT"} {
		handle(m+" /_bulk", rc.bulk)
		// One wildcard for the second segment, so that the more specific
		// template and policy routes below win without a pattern conflict.
		handle(m+" /{index}/{op}", rc.indexBulk)
	}
	handle("GET /_license", rc.license)
	handle("GET /_xpack", rc.xpack)
	handle("GET /_cluster/health", rc.health)
	handle("GET /_nodes", rc.nodes)
	handle("GET /_nodes/{rest...}", rc.nodes)
	handle("GET /_template/{name}", rc.legacyTemplate)
	handle("PUT /_template/{name}", rc.acknowledge)
	handle("GET /_index_template/{name}", rc.indexTemplate)
	handle("PUT /_index_template/{name}", rc.acknowledge)
	handle("GET /_ilm/policy/{name}", rc.ilmPolicy)
	handle("PUT /_ilm/policy/{name}", rc.acknowledge)
	handle("GET /_ingest/pipeline/{name}", rc.ingestPipeline)
	handle("PUT /_ingest/pipeline/{name}", rc.acknowledge)
	// Logstash's ILM bootstrap without data streams: look up the rollover
	// alias, create the first index.
	handle("GET /_alias/{name}", rc.alias)
	handle("PUT /{index}", rc.createIndex)
}

// wrap sets the headers every answer carries.
func (rc *Receiver) wrap(h http.HandlerFunc) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		w.Header().Set("X-Elastic-Product", "Elasticsearch")
		// Clients that asked for the compatible-with=8 media type get it back.
		ct := "application/json"
		if strings.Contains(r.Header.Get("Accept"), "vnd.elasticsearch") {
			ct = "application/vnd.elasticsearch+json;compatible-with=8"
		}
		w.Header().Set("Content-Type", ct)
		h(w, r)
	})
}

// writeJSON answers v with status.
func writeJSON(w http.ResponseWriter, status int, v any) {
	b, err := json.Marshal(v)
	if err != nil {
		// Only our own response types are marshalled; they always encode.
		status, b = http.StatusInternalServerError, []byte(`{"error":"encode response"}`)
	}
	w.Header().Set("Content-Length", strconv.Itoa(len(b)+1))
	w.WriteHeader(status)
	_, _ = w.Write(append(b, '\n'))
}

// esError is Elasticsearch's error envelope.
type esError struct {
	Error  esCause `json:"error"`
	Status int     `json:"status"`
}

type esCause struct {
	RootCause []esReason `json:"root_cause"`
	esReason
}

type esReason struct {
	Type   string `json:"type"`
	Reason string `json:"reason"`
}

// fail answers an Elasticsearch-style error and counts it.
func (rc *Receiver) fail(w http.ResponseWriter, status int, reason, errType, msg string) {
	if reason != "" {
		rc.metrics.Reject(protocol, reason, 1)
	}
	c := esReason{Type: errType, Reason: msg}
	writeJSON(w, status, esError{Error: esCause{RootCause: []esReason{c}, esReason: c}, Status: status})
}

func (rc *Receiver) notFound(w http.ResponseWriter, r *http.Request) {
	rc.fail(w, http.StatusNotFound, "", "resource_not_found_exception",
		"no handler found for uri ["+r.URL.Path+"] and method ["+r.Method+"]; Lookout implements the bulk API and the endpoints agents probe at start-up")
}

// randomID returns a 20-character id like the ones Elasticsearch generates.
func randomID() string {
	const alphabet = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_"
	b := make([]byte, 20)
	for i := range b {
		b[i] = alphabet[rand.IntN(len(alphabet))]
	}
	return string(b)
}
