package selfobs

import (
	"context"
	"log/slog"

	"github.com/prometheus/client_golang/prometheus"
)

// ItemFilter is a slog.Handler for libraries that log one line per rejected
// item, such as Prometheus' remote-write handler for every out-of-order
// sample. Records whose message is in Drop are counted in
// lookout_ingest_rejected_items_total{protocol,reason} and not written, so a
// misbehaving sender cannot flood the log; everything else passes through.
type ItemFilter struct {
	next     slog.Handler
	protocol string
	drop     map[string]string // message -> reason
	items    *prometheus.CounterVec
}

// NewItemFilter wraps next. drop maps a record's message to its reason label.
func NewItemFilter(next slog.Handler, items *prometheus.CounterVec, protocol string, drop map[string]string) *ItemFilter {
	return &ItemFilter{next: next, protocol: protocol, drop: drop, items: items}
}

// NewRejectedItems registers the per-item rejection counter on reg.
func NewRejectedItems(reg prometheus.Registerer) *prometheus.CounterVec {
	c := prometheus.NewCounterVec(prometheus.CounterOpts{
		Name: "lookout_ingest_rejected_items_total",
		Help: "Samples, histograms or exemplars refused inside otherwise valid ingest requests, by protocol and reason.",
	}, []string{"protocol", "reason"})
	reg.MustRegister(c)
	return c
}

// Enabled implements slog.Handler.
func (f *ItemFilter) Enabled(ctx context.Context, l slog.Level) bool {
	return f.next.Enabled(ctx, l) || l >= slog.LevelError
}

// Handle implements slog.Handler.
func (f *ItemFilter) Handle(ctx context.Context, r slog.Record) error {
	if reason, ok := f.drop[r.Message]; ok {
		f.items.WithLabelValues(f.protocol, reason).Inc()
		return nil
	}
	if !f.next.Enabled(ctx, r.Level) {
		return nil
	}
	return f.next.Handle(ctx, r)
}

// WithAttrs implements slog.Handler.
func (f *ItemFilter) WithAttrs(as []slog.Attr) slog.Handler {
	c := *f
	c.next = f.next.WithAttrs(as)
	return &c
}

// WithGroup implements slog.Handler.
func (f *ItemFilter) WithGroup(name string) slog.Handler {
	c := *f
	c.next = f.next.WithGroup(name)
	return &c
}
