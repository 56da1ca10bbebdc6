// Package filter decides which log records are kept: drop rules remove
// matching records, sample rules keep a deterministic fraction of them.
package filter

import (
	"context"
	"encoding/binary"
	"errors"
	"fmt"
	"math"
	"regexp"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/model/labels"

	"github.com/lookout-dev/lookout/internal/event"
	"github.com/lookout-dev/lookout/internal/mix"
	"github.com/lookout-dev/lookout/internal/pipeline"
)

// Match selects records. Every condition that is set must hold; a Match
// with no condition selects every record.
type Match struct {
	// Matchers apply to the stream labels.
	Matchers []*labels.Matcher
	// Level is a normalised level (event.LevelDebug, …).
	Level string
	// Line must match somewhere in the body.
	Line *regexp.Regexp
}

func (m *Match) matches(r *event.Record) bool {
	if m.Level != "" && r.Level != m.Level {
		return false
	}
	for _, lm := range m.Matchers {
		if !lm.Matches(r.Labels.Get(lm.Name)) {
			return false
		}
	}
	return m.Line == nil || m.Line.MatchString(r.Body)
}

// SampleRule keeps a fraction of the records it selects.
type SampleRule struct {
	Match
	// Ratio is the fraction kept, in [0, 1]: 0.1 keeps about one record in
	// ten, 1 keeps all, 0 none.
	Ratio float64
}

// Options configures the stage.
type Options struct {
	// Drop removes every record one of the rules selects.
	Drop []Match
	// Sample applies the first rule that selects a record; records no rule
	// selects are kept.
	Sample []SampleRule
	// Dropped counts records removed by drop rules, SampledOut those removed
	// by sampling. Nil counts nothing.
	Dropped, SampledOut prometheus.Counter

	_ struct{}
}

// New returns a stage that removes the records dropped or sampled out,
// keeping the order of the rest. The batch is compacted in place; the
// records past the new length are left as they were. The stage is safe for
// concurrent use.
//
// Sampling is deterministic: whether a record is kept depends only on its
// trace ID when it has one, so that all the logs of a sampled trace are kept
// together, and otherwise on its time and body. The same record is therefore
// kept or dropped the same way when a batch is retried.
func New(opts Options) (pipeline.Stage[[]event.Record], error) {
	thresholds := make([]uint64, len(opts.Sample))
	for i, s := range opts.Sample {
		if math.IsNaN(s.Ratio) || s.Ratio < 0 || s.Ratio > 1 {
			return nil, fmt.Errorf("sample rule %d: ratio %v is outside [0, 1]", i, s.Ratio)
		}
		thresholds[i] = threshold(s.Ratio)
	}
	for i, d := range opts.Drop {
		if len(d.Matchers) == 0 && d.Level == "" && d.Line == nil {
			return nil, fmt.Errorf("drop rule %d: %w", i, ErrEmptyRule)
		}
	}
	return func(_ context.Context, batch []event.Record) ([]event.Record, error) {
		out := batch[:0]
	records:
		for i := range batch {
			r := &batch[i]
			for j := range opts.Drop {
				if opts.Drop[j].matches(r) {
					inc(opts.Dropped)
					continue records
				}
			}
			for j := range opts.Sample {
				if opts.Sample[j].matches(r) {
					if Hash(r) >= thresholds[j] && thresholds[j] != math.MaxUint64 {
						inc(opts.SampledOut)
						continue records
					}
					break
				}
			}
			out = append(out, *r)
		}
		return out, nil
	}, nil
}

// ErrEmptyRule is returned for a drop rule without conditions, which would
// drop every record.
var ErrEmptyRule = errors.New("a drop rule needs at least one condition")

func inc(c prometheus.Counter) {
	if c != nil {
		c.Inc()
	}
}

// threshold maps a ratio onto the hash space: a record is kept when its hash
// is below the threshold. MaxUint64 stands for "keep all".
func threshold(ratio float64) uint64 {
	if ratio >= 1 {
		return math.MaxUint64
	}
	return uint64(ratio * (1 << 64))
}

// Hash returns the 64-bit hash that sampling compares against the ratio:
// FNV-1a of the trace ID, or of the time and body when there is no trace ID,
// finished with a SplitMix64 mix so that similar inputs spread evenly.
func Hash(r *event.Record) uint64 {
	const (
		offset = 14695981039346656037
		prime  = 1099511628211
	)
	h := uint64(offset)
	if r.TraceID != "" {
		for i := 0; i < len(r.TraceID); i++ {
			h = (h ^ uint64(r.TraceID[i])) * prime
		}
	} else {
		var t [8]byte
		binary.LittleEndian.PutUint64(t[:], uint64(r.Time))
		for _, c := range t {
			h = (h ^ uint64(c)) * prime
		}
		for i := 0; i < len(r.Body); i++ {
			h = (h ^ uint64(r.Body[i])) * prime
		}
	}
	return mix.Mix64(h)
}
