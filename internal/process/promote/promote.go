// Package promote moves configured record attributes into the stream labels.
//
// Stream labels are indexed and every distinct label set is a stream, so only
// low-cardinality attributes (service, env, region) should be promoted, never
// request or user IDs.
package promote

import (
	"context"
	"fmt"
	"strings"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/lookout-dev/lookout/internal/event"
	"github.com/lookout-dev/lookout/internal/pipeline"
)

// DefaultMaxLabels is the label count a stream may reach through promotion,
// Loki's default max_label_names_per_series.
const DefaultMaxLabels = 15

// MaxValueLen is the longest attribute value promoted; longer values are
// not labels but payload.
const MaxValueLen = 1024

// Options configures the stage.
type Options struct {
	// Attrs are the attribute names to promote, in order. A name with dots
	// also matches its underscore spelling, and the label is named with
	// underscores (service.name becomes service_name).
	Attrs []string
	// MaxLabels bounds the stream's label count; promotion stops there.
	// Zero means DefaultMaxLabels.
	MaxLabels int
	// Skipped counts attributes not promoted because of MaxLabels or
	// MaxValueLen. Nil counts nothing.
	Skipped prometheus.Counter

	_ struct{}
}

type attr struct {
	names []string // attribute names to look for
	label string
}

// New returns a stage that moves each configured attribute a record has into
// its stream labels and removes it from Attrs. An existing label of the same
// name wins: the attribute then stays an attribute. Empty values are not
// promoted. The stage is safe for concurrent use.
func New(opts Options) (pipeline.Stage[[]event.Record], error) {
	maxLabels := opts.MaxLabels
	if maxLabels == 0 {
		maxLabels = DefaultMaxLabels
	}
	var attrs []attr
	for _, a := range opts.Attrs {
		l := LabelName(a)
		if l == "" || strings.HasPrefix(l, "__") {
			return nil, fmt.Errorf("promote attribute %q: it does not make a label name (names starting with __ are reserved)", a)
		}
		names := []string{a}
		if l != a {
			names = append(names, l)
		}
		attrs = append(attrs, attr{names: names, label: l})
	}
	return func(_ context.Context, batch []event.Record) ([]event.Record, error) {
		for i := range batch {
			promote(&batch[i], attrs, maxLabels, opts.Skipped)
		}
		return batch, nil
	}, nil
}

func promote(r *event.Record, attrs []attr, maxLabels int, skipped prometheus.Counter) {
	var b *labels.Builder
	count := r.Labels.Len()
	for _, a := range attrs {
		idx := -1
	find:
		for _, n := range a.names {
			for k := range r.Attrs {
				if r.Attrs[k].Key == n {
					idx = k
					break find
				}
			}
		}
		if idx < 0 || r.Attrs[idx].Value == "" || r.Labels.Has(a.label) {
			continue
		}
		if count >= maxLabels || len(r.Attrs[idx].Value) > MaxValueLen {
			if skipped != nil {
				skipped.Inc()
			}
			continue
		}
		if b == nil {
			b = labels.NewBuilder(r.Labels)
		}
		if b.Get(a.label) != "" {
			continue
		}
		b.Set(a.label, r.Attrs[idx].Value)
		count++
		r.Attrs = append(r.Attrs[:idx], r.Attrs[idx+1:]...)
	}
	if b != nil {
		r.Labels = b.Labels()
	}
}

// LabelName turns an attribute name into a label name: every byte other
// than an ASCII letter, digit or underscore becomes '_', and a leading digit
// gets a '_' prefix.
func LabelName(name string) string {
	if name == "" {
		return ""
	}
	var b strings.Builder
	if name[0] >= '0' && name[0] <= '9' {
		b.WriteByte('_')
	}
	for i := 0; i < len(name); i++ {
		c := name[i]
		if c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '_' {
			b.WriteByte(c)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}
