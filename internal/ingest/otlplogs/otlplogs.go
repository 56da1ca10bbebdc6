// Package otlplogs receives OpenTelemetry logs over OTLP/HTTP (protobuf and
// JSON) and OTLP/gRPC, and converts them into event records the way Loki 3
// does: a fixed set of resource attributes become stream labels (service.name
// as service_name, "unknown_service" when absent), everything else becomes
// structured metadata.
package otlplogs

import (
	"compress/gzip"
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"mime"
	"net/http"
	"strconv"
	"strings"
	"time"

	"go.opentelemetry.io/collector/pdata/pcommon"
	"go.opentelemetry.io/collector/pdata/plog"
	"go.opentelemetry.io/collector/pdata/plog/plogotlp"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/lookout-dev/lookout/internal/event"
	"github.com/lookout-dev/lookout/internal/ingest/logmetrics"
	"github.com/lookout-dev/lookout/internal/labelname"
	"github.com/lookout-dev/lookout/internal/pipeline"
)

// DefaultIndexLabels are the resource attributes Loki 3 turns into stream
// labels by default (dots become underscores).
var DefaultIndexLabels = []string{
	"service.name", "service.namespace", "service.instance.id",
	"deployment.environment", "deployment.environment.name",
	"cloud.region", "cloud.availability_zone",
	"k8s.cluster.name", "k8s.namespace.name", "k8s.pod.name", "k8s.container.name",
	"container.name", "k8s.replicaset.name", "k8s.deployment.name",
	"k8s.statefulset.name", "k8s.daemonset.name", "k8s.cronjob.name", "k8s.job.name",
}

// ErrBadRequest marks a conversion failure caused by the request content.
var ErrBadRequest = errors.New("bad request")

// Options configures the receiver.
type Options struct {
	// Promote names extra resource attributes that become stream labels.
	Promote []string
	// MaxLineBytes bounds one body; longer ones are cut and end in
	// logmetrics.TruncatedSuffix. Zero means logmetrics.DefaultMaxLineBytes.
	MaxLineBytes int
	// Metrics receives the ingest counters; nil counts nothing.
	Metrics *logmetrics.Metrics
	// Now is the clock for records without any timestamp; nil means time.Now.
	Now func() time.Time

	_ struct{}
}

// protocol is the protocol label of this receiver's metrics.
const protocol = "otlp"

// Receiver converts OTLP log exports and hands them to a consumer.
type Receiver struct {
	next   pipeline.Consumer[[]event.Record]
	index  map[string]bool
	opts   Options
	logger *slog.Logger
}

// New returns a receiver feeding next.
func New(logger *slog.Logger, next pipeline.Consumer[[]event.Record], opts Options) *Receiver {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	if opts.MaxLineBytes <= 0 {
		opts.MaxLineBytes = logmetrics.DefaultMaxLineBytes
	}
	idx := make(map[string]bool, len(DefaultIndexLabels)+len(opts.Promote))
	for _, k := range DefaultIndexLabels {
		idx[k] = true
	}
	for _, k := range opts.Promote {
		idx[k] = true
	}
	return &Receiver{next: next, index: idx, opts: opts, logger: logger}
}

// ServeHTTP implements OTLP/HTTP for logs: POST with a protobuf or JSON
// ExportLogsServiceRequest, answered in the same encoding.
func (rc *Receiver) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	ct, _, _ := mime.ParseMediaType(r.Header.Get("Content-Type"))
	req := plogotlp.NewExportRequest()
	var src io.Reader = r.Body
	switch enc := r.Header.Get("Content-Encoding"); enc {
	case "", "identity":
	case "gzip":
		zr, err := gzip.NewReader(r.Body)
		if err != nil {
			http.Error(w, "decompress gzip body: "+err.Error(), http.StatusBadRequest)
			return
		}
		defer zr.Close()
		src = zr
	default:
		http.Error(w, fmt.Sprintf("unsupported content encoding %q: use gzip or none", enc), http.StatusUnsupportedMediaType)
		return
	}
	body, err := io.ReadAll(src)
	if err != nil {
		http.Error(w, "read body: "+err.Error(), http.StatusBadRequest)
		return
	}
	switch ct {
	case "application/x-protobuf", "application/protobuf":
		err = req.UnmarshalProto(body)
	case "application/json":
		err = req.UnmarshalJSON(body)
	default:
		http.Error(w, fmt.Sprintf("unsupported content type %q: use application/x-protobuf or application/json", ct), http.StatusUnsupportedMediaType)
		return
	}
	if err != nil {
		http.Error(w, "decode OTLP logs request: "+err.Error(), http.StatusBadRequest)
		return
	}
	if err := rc.consume(r.Context(), req.Logs()); err != nil {
		code := StatusOf(err)
		if code == http.StatusTooManyRequests || code == http.StatusServiceUnavailable {
			w.Header().Set("Retry-After", strconv.Itoa(int(logmetrics.RetryAfter.Seconds())))
		}
		http.Error(w, err.Error(), code)
		return
	}
	resp := plogotlp.NewExportResponse()
	var out []byte
	if ct == "application/json" {
		out, err = resp.MarshalJSON()
	} else {
		out, err = resp.MarshalProto()
	}
	if err != nil {
		http.Error(w, "encode response: "+err.Error(), http.StatusInternalServerError)
		return
	}
	w.Header().Set("Content-Type", ct)
	_, _ = w.Write(out)
}

// StatusOf maps a consumer error to an HTTP status: ErrBadRequest → 400,
// else logmetrics.Status (429 when overloaded, 503 otherwise).
func StatusOf(err error) int {
	if errors.Is(err, ErrBadRequest) {
		return http.StatusBadRequest
	}
	code, _ := logmetrics.Status(err)
	return code
}

// GRPC returns the OTLP/gRPC logs service backed by the receiver.
func (rc *Receiver) GRPC() plogotlp.GRPCServer { return &grpcServer{rc: rc} }

type grpcServer struct {
	plogotlp.UnimplementedGRPCServer
	rc *Receiver
}

func (g *grpcServer) Export(ctx context.Context, req plogotlp.ExportRequest) (plogotlp.ExportResponse, error) {
	if err := g.rc.consume(ctx, req.Logs()); err != nil {
		code := codes.Unavailable
		switch StatusOf(err) {
		case http.StatusBadRequest:
			code = codes.InvalidArgument
		case http.StatusTooManyRequests:
			code = codes.ResourceExhausted
		}
		return plogotlp.NewExportResponse(), status.Error(code, err.Error())
	}
	return plogotlp.NewExportResponse(), nil
}

func (rc *Receiver) consume(ctx context.Context, ld plog.Logs) error {
	recs := rc.Convert(ld)
	if len(recs) == 0 {
		return nil
	}
	if err := rc.next.Consume(ctx, recs); err != nil {
		_, reason := logmetrics.Status(err)
		rc.opts.Metrics.Reject(protocol, reason, len(recs))
		return err
	}
	rc.opts.Metrics.Accept(protocol, recs)
	return nil
}

// Convert turns OTLP logs into event records.
func (rc *Receiver) Convert(ld plog.Logs) []event.Record {
	out := make([]event.Record, 0, ld.LogRecordCount())
	now := rc.opts.Now().UnixNano()
	rls := ld.ResourceLogs()
	for i := 0; i < rls.Len(); i++ {
		rl := rls.At(i)
		var b labels.ScratchBuilder
		var resAttrs []event.Attr
		hasService := false
		rl.Resource().Attributes().Range(func(k string, v pcommon.Value) bool {
			if rc.index[k] {
				if k == "service.name" {
					hasService = true
				}
				b.Add(labelname.Sanitize(k), repair(v.AsString()))
				return true
			}
			resAttrs = appendAttr(resAttrs, k, v)
			return true
		})
		if !hasService {
			b.Add("service_name", "unknown_service")
		}
		b.Sort()
		lset := b.Labels()
		sls := rl.ScopeLogs()
		for j := 0; j < sls.Len(); j++ {
			sl := sls.At(j)
			scope := resAttrs[:len(resAttrs):len(resAttrs)]
			if n := sl.Scope().Name(); n != "" {
				scope = append(scope, event.Attr{Key: "scope_name", Value: repair(n)})
			}
			if v := sl.Scope().Version(); v != "" {
				scope = append(scope, event.Attr{Key: "scope_version", Value: repair(v)})
			}
			sl.Scope().Attributes().Range(func(k string, v pcommon.Value) bool {
				scope = appendAttr(scope, k, v)
				return true
			})
			lrs := sl.LogRecords()
			for k := 0; k < lrs.Len(); k++ {
				out = append(out, rc.record(lset, scope, lrs.At(k), now))
			}
		}
	}
	return out
}

func (rc *Receiver) record(lset labels.Labels, scope []event.Attr, lr plog.LogRecord, now int64) event.Record {
	ts := int64(lr.Timestamp())
	if ts == 0 {
		ts = int64(lr.ObservedTimestamp())
	}
	if ts == 0 {
		ts = now
	}
	attrs := make([]event.Attr, len(scope), len(scope)+lr.Attributes().Len()+2)
	copy(attrs, scope)
	lr.Attributes().Range(func(k string, v pcommon.Value) bool {
		attrs = appendAttr(attrs, k, v)
		return true
	})
	if s := lr.SeverityText(); s != "" {
		attrs = append(attrs, event.Attr{Key: "severity_text", Value: repair(s)})
	}
	if n := lr.SeverityNumber(); n != plog.SeverityNumberUnspecified {
		attrs = append(attrs, event.Attr{Key: "severity_number", Value: strconv.Itoa(int(n))})
	}
	rec := event.Record{
		Kind:   event.KindLog,
		Time:   ts,
		Labels: lset,
		Body:   rc.opts.Metrics.Line(protocol, lr.Body().AsString(), rc.opts.MaxLineBytes),
		Level:  Level(lr.SeverityNumber(), lr.SeverityText()),
		Attrs:  attrs,
	}
	if id := lr.TraceID(); !id.IsEmpty() {
		rec.TraceID = id.String()
	}
	if id := lr.SpanID(); !id.IsEmpty() {
		rec.SpanID = id.String()
	}
	return rec
}

// Level maps an OTLP severity onto Lookout's normalised levels; "" when the
// record has none.
func Level(n plog.SeverityNumber, text string) string {
	switch {
	case n >= 21:
		return event.LevelCritical
	case n >= 17:
		return event.LevelError
	case n >= 13:
		return event.LevelWarn
	case n >= 9:
		return event.LevelInfo
	case n >= 5:
		return event.LevelDebug
	case n >= 1:
		return event.LevelTrace
	}
	switch strings.ToLower(text) {
	case "trace":
		return event.LevelTrace
	case "debug":
		return event.LevelDebug
	case "info", "information", "notice":
		return event.LevelInfo
	case "warn", "warning":
		return event.LevelWarn
	case "error", "err":
		return event.LevelError
	case "fatal", "critical", "crit", "emergency", "alert", "panic":
		return event.LevelCritical
	}
	return ""
}

func appendAttr(attrs []event.Attr, k string, v pcommon.Value) []event.Attr {
	return append(attrs, event.Attr{Key: labelname.Sanitize(k), Value: repair(v.AsString())})
}

func repair(s string) string {
	s, _ = logmetrics.Clean(s, 0)
	return s
}
