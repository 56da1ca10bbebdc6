// Package pipeline holds the contracts shared by every signal's path from
// receiver through processing stages to a store.
package pipeline

import "context"

// Consumer accepts a batch. Once Consume returns, the batch belongs to the
// caller again and the consumer must not keep references into it. A nil error
// means the batch is acknowledged: for a store, durably persisted.
type Consumer[B any] interface {
	Consume(ctx context.Context, batch B) error
}

// ConsumerFunc adapts a function to Consumer.
type ConsumerFunc[B any] func(ctx context.Context, batch B) error

// Consume implements Consumer.
func (f ConsumerFunc[B]) Consume(ctx context.Context, batch B) error { return f(ctx, batch) }

// Stage transforms a batch. It must not call the next consumer itself. It may
// modify the batch in place and return it, or return a shorter one.
type Stage[B any] func(ctx context.Context, batch B) (B, error)

// Chain returns a consumer that runs the stages in order and hands the result
// to next. An error from a stage stops the batch and is returned.
func Chain[B any](next Consumer[B], stages ...Stage[B]) Consumer[B] {
	return ConsumerFunc[B](func(ctx context.Context, batch B) error {
		var err error
		for _, s := range stages {
			if batch, err = s(ctx, batch); err != nil {
				return err
			}
		}
		return next.Consume(ctx, batch)
	})
}
