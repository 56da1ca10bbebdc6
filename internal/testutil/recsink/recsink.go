// Package recsink is a pipeline.Consumer for tests of receivers: it keeps a
// copy of every batch it is handed, as the Consumer contract requires, and
// can fail or hold up the calls.
package recsink

import (
	"context"
	"sync"

	"github.com/lookout-dev/lookout/internal/event"
)

// Sink collects batches. It is safe for concurrent use; set its fields
// before the first Consume.
type Sink struct {
	// Err, when set, is what every Consume returns, storing nothing.
	Err error
	// Block, when set, makes Consume wait until it is closed or the
	// context ends.
	Block chan struct{}

	mu      sync.Mutex
	batches [][]event.Record
}

// Consume implements pipeline.Consumer.
func (s *Sink) Consume(ctx context.Context, batch []event.Record) error {
	if s.Block != nil {
		select {
		case <-s.Block:
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	if s.Err != nil {
		return s.Err
	}
	s.mu.Lock()
	defer s.mu.Unlock()
	s.batches = append(s.batches, append([]event.Record(nil), batch...))
	return nil
}

// Records returns every record stored so far, in order.
func (s *Sink) Records() []event.Record {
	s.mu.Lock()
	defer s.mu.Unlock()
	var out []event.Record
	for _, b := range s.batches {
		out = append(out, b...)
	}
	return out
}

// BatchSizes returns the length of each stored batch, in order.
func (s *Sink) BatchSizes() []int {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := make([]int, 0, len(s.batches))
	for _, b := range s.batches {
		out = append(out, len(b))
	}
	return out
}
