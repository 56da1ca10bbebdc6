// Package lokipush receives logs over Loki's push API
// (POST /loki/api/v1/push), in its JSON and snappy-compressed protobuf
// encodings, so that Promtail, Grafana Alloy, Fluent Bit's loki output,
// Vector's loki sink and the Docker loki driver can ship logs to Lookout
// unchanged.
//
// A request is all or nothing: any malformed stream or entry rejects the
// whole request with 400 and nothing is stored. Success is 204, as in Loki,
// and is sent only after the consumer acknowledged the batch.
package lokipush

import (
	"errors"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/lookout-dev/lookout/internal/event"
	"github.com/lookout-dev/lookout/internal/ingest/logmetrics"
	"github.com/lookout-dev/lookout/internal/pipeline"
)

// Path is where Loki clients push.
const Path = "/loki/api/v1/push"

// protocol is the protocol label of this receiver's metrics.
const protocol = "loki"

// Options configures a Receiver.
type Options struct {
	// MaxBodyBytes bounds the body as sent and once decompressed; larger
	// requests get 413. Zero means logmetrics.DefaultMaxBodyBytes.
	MaxBodyBytes int64
	// MaxLineBytes bounds one log line; longer lines are cut and end in
	// logmetrics.TruncatedSuffix. Zero means logmetrics.DefaultMaxLineBytes.
	MaxLineBytes int
	// Metrics receives the ingest counters. Nil means logmetrics.New(reg).
	Metrics *logmetrics.Metrics

	_ struct{}
}

// Receiver is the http.Handler of the Loki push API. It is safe for
// concurrent use.
type Receiver struct {
	logger  *slog.Logger
	next    pipeline.Consumer[[]event.Record]
	metrics *logmetrics.Metrics
	limits  limits
}

// limits are the per-line limits the decoders apply.
type limits struct {
	maxBody int64
	maxLine int
	metrics *logmetrics.Metrics
}

func (l limits) line(s string) string { return l.metrics.Line(protocol, s, l.maxLine) }

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
	l := limits{maxBody: opts.MaxBodyBytes, maxLine: opts.MaxLineBytes, metrics: m}
	if l.maxBody <= 0 {
		l.maxBody = logmetrics.DefaultMaxBodyBytes
	}
	if l.maxLine <= 0 {
		l.maxLine = logmetrics.DefaultMaxLineBytes
	}
	return &Receiver{
		logger:  logger.With("component", "ingest", "protocol", protocol),
		next:    next,
		metrics: m,
		limits:  l,
	}
}

// ServeHTTP decodes a push request and answers 204 once the consumer has
// stored it; 400 for malformed payloads or labels, 405 for methods other
// than POST, 413 for bodies over the limit, 415 for unknown content types
// or encodings, 429 or 503 with Retry-After when the consumer refuses.
func (rc *Receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if r.Method != http.MethodPost {
		w.Header().Set("Allow", http.MethodPost)
		rc.fail(w, http.StatusMethodNotAllowed, "method_not_allowed", "use POST to push logs")
		return
	}
	mt, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	var decode func([]byte, limits) ([]event.Record, error)
	switch mt {
	case "application/json":
		decode = decodeJSON
	case "", "application/x-protobuf", "application/protobuf", "application/vnd.google.protobuf":
		decode = decodeProto
	default:
		rc.fail(w, http.StatusUnsupportedMediaType, logmetrics.ReasonMediaType,
			"unsupported content type "+strconv.Quote(mt)+"; use application/json or application/x-protobuf")
		return
	}
	if mt != "application/json" && strings.EqualFold(strings.TrimSpace(r.Header.Get("Content-Encoding")), "snappy") {
		// The protobuf body is snappy-compressed anyway; a client that says
		// so in Content-Encoding must not get it decoded twice.
		r = r.WithContext(r.Context())
		r.Header = r.Header.Clone()
		r.Header.Del("Content-Encoding")
	}
	body, err := logmetrics.ReadBody(r, rc.limits.maxBody)
	if err != nil {
		status, reason := logmetrics.BodyStatus(err)
		rc.fail(w, status, reason, err.Error())
		return
	}
	recs, err := decode(body, rc.limits)
	if err != nil {
		reason := logmetrics.ReasonMalformed
		var le *labelError
		switch {
		case errors.As(err, &le):
			reason = logmetrics.ReasonInvalidLabels
		case errors.Is(err, logmetrics.ErrTooLarge):
			rc.fail(w, http.StatusRequestEntityTooLarge, logmetrics.ReasonTooLarge, err.Error())
			return
		case errors.Is(err, logmetrics.ErrCompression):
			reason = logmetrics.ReasonCompression
		}
		rc.fail(w, http.StatusBadRequest, reason, err.Error())
		return
	}
	rc.metrics.Answer(protocol, rc.logger, rc.next, w, r, recs)
}

func (rc *Receiver) fail(w http.ResponseWriter, status int, reason, msg string) {
	rc.metrics.Fail(w, protocol, status, reason, msg)
}
