// Package logsapi receives logs over Lookout's own HTTP API,
// POST /api/v1/logs: newline-delimited JSON objects or plain text lines, for
// scripts, curl and applications without a log agent.
//
// Stream labels come from the query string (?service=api&env=prod) and the
// X-Lookout-Labels header (service=api,env=prod); the query string wins on
// a conflict, and a request with neither gets source="http".
//
// A request is all or nothing: one malformed JSON line rejects the whole
// request with 400 naming the line, and nothing is stored, so a client can
// fix its payload and resend without creating duplicates. Success is 204,
// sent only once the consumer has stored every record.
package logsapi

import (
	"fmt"
	"log/slog"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/lookout-dev/lookout/internal/event"
	"github.com/lookout-dev/lookout/internal/ingest/logmetrics"
	"github.com/lookout-dev/lookout/internal/labelname"
	"github.com/lookout-dev/lookout/internal/pipeline"
)

// Path is where the API is served.
const Path = "/api/v1/logs"

// LabelsHeader carries stream labels as comma-separated name=value pairs.
const LabelsHeader = "X-Lookout-Labels"

// protocol is the protocol label of this receiver's metrics.
const protocol = "logsapi"

// Options configures a Receiver.
type Options struct {
	// MaxBodyBytes bounds the body as sent and once decompressed; larger
	// requests get 413. Zero means logmetrics.DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// MaxLineBytes bounds a record's body and each attribute value; longer
	// ones are cut and end in logmetrics.TruncatedSuffix. Zero means
	// logmetrics.DefaultMaxLineBytes.
	MaxLineBytes int
	// Metrics receives the ingest counters. Nil means logmetrics.New(reg).
	Metrics *logmetrics.Metrics
	// Now stamps plain-text lines and JSON lines without a time. Nil means
	// time.Now.
	Now func() time.Time

	_ struct{}
}

// Receiver is the http.Handler of POST /api/v1/logs. It is safe for
// concurrent use.
type Receiver struct {
	logger  *slog.Logger
	next    pipeline.Consumer[[]event.Record]
	metrics *logmetrics.Metrics
	maxBody int64
	maxLine int
	now     func() time.Time
}

// New returns a Receiver handing decoded records to next. A nil logger
// discards; reg may be nil.
func New(logger *slog.Logger, reg prometheus.Registerer, next pipeline.Consumer[[]event.Record], opts Options) *Receiver {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	rc := &Receiver{
		logger:  logger.With("component", "ingest", "protocol", protocol),
		next:    next,
		metrics: opts.Metrics,
		maxBody: opts.MaxBodyBytes,
		maxLine: opts.MaxLineBytes,
		now:     opts.Now,
	}
	if rc.metrics == nil {
		rc.metrics = logmetrics.New(reg)
	}
	if rc.maxBody <= 0 {
		rc.maxBody = logmetrics.DefaultMaxBodyBytes
	}
	if rc.maxLine <= 0 {
		rc.maxLine = logmetrics.DefaultMaxLineBytes
	}
	if rc.now == nil {
		rc.now = time.Now
	}
	return rc
}

// ServeHTTP decodes the body and answers 204 once the consumer has stored
// it; 400 for a malformed line (with its number) or invalid labels, 405 for
// methods other than POST, 413 for bodies over the limit, 415 for other
// content types or encodings, 429 or 503 with Retry-After when the consumer
// refuses.
func (rc *Receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		rc.fail(w, http.StatusMethodNotAllowed, "method_not_allowed", "use POST to send logs")
		return
	}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	var text bool
	switch mt {
	case "application/x-ndjson", "application/ndjson", "application/jsonl", "application/x-jsonlines", "application/jsonlines", "application/json":
	case "text/plain", "":
		text = true
	default:
		rc.fail(w, http.StatusUnsupportedMediaType, logmetrics.ReasonMediaType, "unsupported content type "+strconv.Quote(mt)+
			"; use application/x-ndjson (one JSON object per line), application/json or text/plain")
		return
	}
	ls, err := streamLabels(r.Header.Values(LabelsHeader), r.URL.Query())
	if err != nil {
		rc.fail(w, http.StatusBadRequest, logmetrics.ReasonInvalidLabels, err.Error())
		return
	}
	body, err := logmetrics.ReadBody(r, rc.maxBody)
	if err != nil {
		status, reason := logmetrics.BodyStatus(err)
		rc.fail(w, status, reason, err.Error())
		return
	}
	d := decoder{labels: ls, now: rc.now().UnixNano(), maxLine: rc.maxLine, metrics: rc.metrics}
	var recs []event.Record
	if text {
		recs = d.text(body)
	} else if recs, err = d.json(body); err != nil {
		rc.fail(w, http.StatusBadRequest, logmetrics.ReasonMalformed, err.Error())
		return
	}
	rc.metrics.Answer(protocol, rc.logger, rc.next, w, r, recs)
}

func (rc *Receiver) fail(w http.ResponseWriter, status int, reason, msg string) {
	rc.metrics.Fail(w, protocol, status, reason, msg)
}

// streamLabels merges the labels of the header values and the query; the
// query wins. Empty values are dropped, as Prometheus drops empty labels.
func streamLabels(header []string, query url.Values) (labels.Labels, error) {
	set := map[string]string{}
	for _, h := range header {
		for pair := range strings.SplitSeq(h, ",") {
			pair = strings.TrimSpace(pair)
			if pair == "" {
				continue
			}
			name, value, ok := strings.Cut(pair, "=")
			if !ok {
				return labels.EmptyLabels(), fmt.Errorf("parse %s: %q is not name=value", LabelsHeader, truncate(pair, 128))
			}
			value = strings.TrimSpace(value)
			if uq, err := strconv.Unquote(value); err == nil {
				value = uq
			}
			set[strings.TrimSpace(name)] = value
		}
	}
	for name, values := range query {
		set[name] = values[0]
	}
	b := labels.NewScratchBuilder(len(set))
	n := 0
	for name, value := range set {
		if !labelname.Valid(name) {
			return labels.EmptyLabels(), fmt.Errorf("invalid label name %q; names must match [a-zA-Z_][a-zA-Z0-9_]*", truncate(name, 128))
		}
		if value == "" {
			continue
		}
		value, _ = logmetrics.Clean(value, 1024)
		b.Add(name, value)
		n++
	}
	if n == 0 {
		b.Add("source", "http")
	}
	b.Sort()
	return b.Labels(), nil
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}
