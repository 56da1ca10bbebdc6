package app

import (
	"context"
	"errors"
	"net/http"
	"sync/atomic"

	"github.com/prometheus/prometheus/model/histogram"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/storage"
)

// storeFailedKey carries the *atomic.Bool that otlpAppender sets when the
// store, not the input, made a write fail.
type storeFailedKey struct{}

// otlpStatus corrects the status of Prometheus' OTLP handler, which answers
// 500 to every error it does not recognise as out-of-order: translator
// errors (delta or unspecified temporality, a name or label name that
// normalises to "", an exemplar without a value, a metric without a type)
// and invalid native histograms. Those are the client's fault; OTLP
// exporters must not retry them, so they get 400. A 500 stays a 500 only
// when the store failed.
func otlpStatus(next http.Handler) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		failed := new(atomic.Bool)
		ctx := context.WithValue(r.Context(), storeFailedKey{}, failed)
		next.ServeHTTP(&otlpStatusWriter{ResponseWriter: w, storeFailed: failed}, r.WithContext(ctx))
	})
}

type otlpStatusWriter struct {
	http.ResponseWriter
	storeFailed *atomic.Bool
}

func (w *otlpStatusWriter) WriteHeader(code int) {
	if code == http.StatusInternalServerError && !w.storeFailed.Load() {
		code = http.StatusBadRequest
	}
	w.ResponseWriter.WriteHeader(code)
}

// Unwrap lets http.ResponseController reach the underlying writer.
func (w *otlpStatusWriter) Unwrap() http.ResponseWriter { return w.ResponseWriter }

// otlpAppendable is the store as the OTLP handler sees it.
type otlpAppendable struct{ storage.AppendableV2 }

func (o otlpAppendable) AppenderV2(ctx context.Context) storage.AppenderV2 {
	failed, _ := ctx.Value(storeFailedKey{}).(*atomic.Bool)
	return &otlpAppender{AppenderV2: o.AppendableV2.AppenderV2(ctx), failed: failed}
}

type otlpAppender struct {
	storage.AppenderV2
	failed *atomic.Bool // nil outside otlpStatus
}

func (a *otlpAppender) Append(ref storage.SeriesRef, ls labels.Labels, st, t int64, v float64, h *histogram.Histogram, fh *histogram.FloatHistogram, opts storage.AppendV2Options) (storage.SeriesRef, error) {
	ref, err := a.AppenderV2.Append(ref, ls, st, t, v, h, fh, opts)
	if err != nil && !inputFault(err) {
		a.markFailed()
	}
	return ref, err
}

func (a *otlpAppender) Commit() error {
	err := a.AppenderV2.Commit()
	if err != nil {
		a.markFailed()
	}
	return err
}

func (a *otlpAppender) markFailed() {
	if a.failed != nil {
		a.failed.Store(true)
	}
}

// inputFault reports whether an append error is caused by the data sent.
func inputFault(err error) bool {
	var he histogram.Error
	var pe *storage.AppendPartialError
	return errors.As(err, &he) || errors.As(err, &pe) ||
		errors.Is(err, storage.ErrOutOfOrderSample) || errors.Is(err, storage.ErrOutOfBounds) ||
		errors.Is(err, storage.ErrTooOldSample) || errors.Is(err, storage.ErrDuplicateSampleForTimestamp)
}
