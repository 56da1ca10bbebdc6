// Package remotewrite is a fast path for Prometheus Remote-Write 1.0
// requests in front of Prometheus' own write handler.
//
// Prometheus' handler reads the body, decompresses it into a new buffer,
// copies that buffer again and then decodes it with the generated protobuf
// code, which allocates every label name and value as its own string. With
// a few senders in flight, that garbage is a large part of the live heap at
// each GC, and so of the heap's size and the process' RSS. The fast path
// reads and decompresses into pooled buffers and walks the protobuf message
// in place; the only allocation per series is the labels the TSDB keeps.
//
// It handles only the common case: a well-formed 1.0 request of float
// samples whose series all have valid labels and whose samples all append.
// Anything else (exemplars, native histograms, unknown fields, bad
// encodings, invalid labels, an append error) rolls back what the fast path
// appended and hands the original request to Prometheus' handler, which
// then answers as it always does: the same status, error text, log lines
// and metrics. Nothing is committed before the whole request has been
// appended, so the replay starts from a clean slate.
package remotewrite

import (
	"bytes"
	"context"
	"encoding/binary"
	"errors"
	"io"
	"log/slog"
	"math"
	"net/http"
	"sync"
	"time"
	"unsafe"

	"github.com/klauspost/compress/snappy"
	remoteapi "github.com/prometheus/client_golang/exp/api/remote"
	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/model/timestamp"
	"github.com/prometheus/prometheus/prompb"
	"github.com/prometheus/prometheus/storage"
)

// maxDecodedSize is Prometheus' limit on a decompressed request; larger
// requests go to its handler, which refuses them.
const maxDecodedSize = 32 << 20

// maxAheadTime is how far in the future a sample may be, as in Prometheus'
// handler; later samples go to its handler, which refuses them.
const maxAheadTime = 10 * time.Minute

// maxPooled is the largest buffer kept for reuse; rarer, larger requests
// allocate their own.
const maxPooled = 4 << 20

// V1 is the fast path. Its zero value is not usable; use New.
type V1 struct {
	app    storage.Appendable
	next   http.Handler
	logger *slog.Logger
	now    func() time.Time

	bufs     sync.Pool // *[]byte
	builders sync.Pool // *labels.ScratchBuilder
}

// Options configure V1.
type Options struct {
	// Logger receives the error of a failed commit; nil discards it.
	Logger *slog.Logger
	// Now is the clock for the future-sample limit; nil means time.Now.
	Now func() time.Time
}

// New returns the fast path in front of next, Prometheus' remote-write
// handler, appending to app, the same Appendable next appends to.
func New(app storage.Appendable, next http.Handler, o Options) *V1 {
	if o.Logger == nil {
		o.Logger = slog.New(slog.DiscardHandler)
	}
	if o.Now == nil {
		o.Now = time.Now
	}
	h := &V1{app: app, next: next, logger: o.Logger, now: o.Now}
	h.bufs.New = func() any { b := make([]byte, 0, 64<<10); return &b }
	h.builders.New = func() any { b := labels.NewScratchBuilder(16); return &b }
	return h
}

// ServeHTTP implements http.Handler.
func (h *V1) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	if !isV1(r) {
		h.next.ServeHTTP(w, r)
		return
	}
	cbuf := h.getBuf()
	defer h.putBuf(cbuf)
	compressed, err := readAll(r.Body, *cbuf, maxDecodedSize+1)
	*cbuf = compressed[:0]
	if err != nil || len(compressed) > maxDecodedSize {
		h.replay(w, r, compressed, r.Body)
		return
	}
	n, err := snappy.DecodedLen(compressed)
	if err != nil || n > maxDecodedSize {
		h.replay(w, r, compressed, nil)
		return
	}
	dbuf := h.getBuf()
	defer h.putBuf(dbuf)
	if cap(*dbuf) < n {
		*dbuf = make([]byte, n)
	}
	decoded, err := snappy.Decode((*dbuf)[:cap(*dbuf)], compressed)
	if err != nil {
		h.replay(w, r, compressed, nil)
		return
	}
	*dbuf = decoded[:0]

	switch err := h.write(r.Context(), decoded); {
	case errors.Is(err, errFallback):
		h.replay(w, r, compressed, nil)
	case err != nil:
		// Only a failed commit gets here: Prometheus answers it with 500
		// and the error, and so does the fast path, since what the commit
		// wrote cannot be replayed.
		h.logger.Error("Error while storing the remote write request", "err", err)
		http.Error(w, err.Error(), http.StatusInternalServerError)
	default:
		w.WriteHeader(http.StatusNoContent)
	}
}

// isV1 reports whether r is a 1.0 request the fast path may take: a POST
// whose content type names the 1.0 message (or nothing) and whose body is
// snappy-compressed, as Prometheus' handler expects.
func isV1(r *http.Request) bool {
	if r.Method != http.MethodPost {
		return false
	}
	if enc := r.Header.Get("Content-Encoding"); enc != "" && enc != string(remoteapi.SnappyBlockCompression) {
		return false
	}
	ct := r.Header.Get("Content-Type")
	if ct == "" {
		return true
	}
	t, err := remoteapi.ParseProtoMsg(ct)
	return err == nil && t == remoteapi.WriteV1MessageType
}

// replay hands the request to Prometheus' handler with the body it had:
// read, the bytes already read, then rest, what was left unread.
func (h *V1) replay(w http.ResponseWriter, r *http.Request, read []byte, rest io.Reader) {
	body := io.Reader(bytes.NewReader(read))
	if rest != nil {
		body = io.MultiReader(body, rest)
	}
	r.Body = io.NopCloser(body)
	h.next.ServeHTTP(w, r)
}

// errFallback says the request must go to Prometheus' handler.
var errFallback = errors.New("remote write: not for the fast path")

// Field numbers and wire types of prompb.WriteRequest and the messages in it.
const (
	wireVarint  = 0
	wireFixed64 = 1
	wireBytes   = 2

	fieldTimeseries = 1 // WriteRequest
	fieldMetadata   = 3 // WriteRequest; Prometheus' 1.0 handler ignores it
	fieldLabels     = 1 // TimeSeries
	fieldSamples    = 2 // TimeSeries
	fieldName       = 1 // Label
	fieldValue      = 2 // Label
	fieldSampleVal  = 1 // Sample, double
	fieldSampleTime = 2 // Sample, int64
)

// write appends the series of a decoded WriteRequest and commits them, or
// rolls back and returns errFallback. It mirrors the success path of
// Prometheus' handler: labels are sorted, need a metric name, valid UTF-8
// names and values and no duplicate names, and samples must not lie more
// than maxAheadTime in the future.
func (h *V1) write(ctx context.Context, msg []byte) (err error) {
	app := h.app.Appender(ctx)
	defer func() {
		if errors.Is(err, errFallback) {
			_ = app.Rollback() // the replay reports what went wrong
		}
	}()
	maxTime := timestamp.FromTime(h.now().Add(maxAheadTime))
	sb := h.builders.Get().(*labels.ScratchBuilder)
	defer h.builders.Put(sb)

	for len(msg) > 0 {
		field, body, rest, ok := bytesField(msg)
		if !ok {
			return errFallback
		}
		msg = rest
		switch field {
		case fieldTimeseries:
			if err := appendSeries(app, sb, body, maxTime); err != nil {
				return err
			}
		case fieldMetadata:
			// Ignored, but it must decode, or Prometheus' handler
			// refuses the request. Senders put metadata in requests of
			// their own, so this is off the hot path.
			var md prompb.MetricMetadata
			if md.Unmarshal(body) != nil {
				return errFallback
			}
		default:
			return errFallback
		}
	}
	return app.Commit()
}

// appendSeries appends one TimeSeries message. Labels may come after
// samples on the wire, so it reads the message twice: the labels first,
// then the samples, whose fields the first pass has already checked.
func appendSeries(app storage.Appender, sb *labels.ScratchBuilder, ts []byte, maxTime int64) error {
	sb.Reset()
	for rest := ts; len(rest) > 0; {
		field, body, next, ok := bytesField(rest)
		if !ok {
			return errFallback
		}
		rest = next
		switch field {
		case fieldLabels:
			name, value, ok := label(body)
			if !ok {
				return errFallback
			}
			sb.Add(name, value)
		case fieldSamples:
		default: // exemplars, histograms, unknown fields
			return errFallback
		}
	}
	sb.Sort()
	ls := sb.Labels()
	if !ls.Has(labels.MetricName) || !ls.IsValid(model.UTF8Validation) {
		return errFallback
	}
	if _, dup := ls.HasDuplicateLabelNames(); dup {
		return errFallback
	}
	var ref storage.SeriesRef
	for rest := ts; len(rest) > 0; {
		field, body, next, _ := bytesField(rest)
		rest = next
		if field != fieldSamples {
			continue
		}
		t, v, ok := sample(body)
		if !ok || t > maxTime {
			return errFallback
		}
		var err error
		if ref, err = app.Append(ref, ls, t, v); err != nil {
			return errFallback
		}
	}
	return nil
}

// label decodes a Label message. The strings point into msg.
func label(msg []byte) (name, value string, ok bool) {
	for len(msg) > 0 {
		field, body, rest, ok := bytesField(msg)
		if !ok {
			return "", "", false
		}
		msg = rest
		switch field {
		case fieldName:
			name = unsafeString(body)
		case fieldValue:
			value = unsafeString(body)
		default:
			return "", "", false
		}
	}
	return name, value, true
}

// sample decodes a Sample message.
func sample(msg []byte) (t int64, v float64, ok bool) {
	for len(msg) > 0 {
		field, wire, n := tag(msg)
		if n <= 0 {
			return 0, 0, false
		}
		msg = msg[n:]
		switch {
		case field == fieldSampleVal && wire == wireFixed64:
			if len(msg) < 8 {
				return 0, 0, false
			}
			v = math.Float64frombits(binary.LittleEndian.Uint64(msg))
			msg = msg[8:]
		case field == fieldSampleTime && wire == wireVarint:
			u, n := binary.Uvarint(msg)
			if n <= 0 {
				return 0, 0, false
			}
			t = int64(u)
			msg = msg[n:]
		default:
			return 0, 0, false
		}
	}
	return t, v, true
}

// tag decodes a field's key. n <= 0 means a malformed key.
func tag(b []byte) (field uint64, wire uint8, n int) {
	k, n := binary.Uvarint(b)
	if n <= 0 || k>>3 == 0 || k>>3 > math.MaxInt32 {
		return 0, 0, 0
	}
	return k >> 3, uint8(k & 7), n
}

// bytesField decodes the length-delimited field at the start of b: its
// number, its bytes and what follows. ok is false for any other wire type
// and for a malformed field. Every field the fast path reads in
// WriteRequest, TimeSeries and Label is length-delimited.
func bytesField(b []byte) (field uint64, body, rest []byte, ok bool) {
	field, wire, n := tag(b)
	if n <= 0 || wire != wireBytes {
		return 0, nil, nil, false
	}
	l, m := binary.Uvarint(b[n:])
	if m <= 0 || l > uint64(len(b)-n-m) {
		return 0, nil, nil, false
	}
	start := n + m
	end := start + int(l)
	return field, b[start:end], b[end:], true
}

// unsafeString shares b's bytes. ScratchBuilder.Labels copies them (the
// default stringlabels build of Prometheus' labels package packs all
// names and values into one new string), so nothing the TSDB keeps points
// into a pooled buffer.
func unsafeString(b []byte) string { return unsafe.String(unsafe.SliceData(b), len(b)) }

// readAll reads r into buf, growing it, until EOF or more than limit bytes.
func readAll(r io.Reader, buf []byte, limit int) ([]byte, error) {
	buf = buf[:0]
	for {
		if len(buf) == cap(buf) {
			buf = append(buf, 0)[:len(buf)]
		}
		n, err := r.Read(buf[len(buf):min(cap(buf), limit+1)])
		buf = buf[:len(buf)+n]
		if err == io.EOF {
			return buf, nil
		}
		if err != nil || len(buf) > limit {
			return buf, err
		}
	}
}

func (h *V1) getBuf() *[]byte { return h.bufs.Get().(*[]byte) }

func (h *V1) putBuf(b *[]byte) {
	if cap(*b) <= maxPooled {
		h.bufs.Put(b)
	}
}
