// Package storetest is the conformance suite that every eventstore.Store
// implementation runs, so that they can be shown to behave alike.
//
// The suite loads the records of testdata/records.json and checks the query
// cases of testdata/select.json, aggregate.json and metadata.json against
// them; retention, durability, concurrency and lifecycle are checked in code.
//
// Decisions the contract leaves open and the suite pins down:
//   - Invalid UTF-8 in a record's strings is stored repaired: each run of
//     invalid bytes becomes U+FFFD, as strings.ToValidUTF8 does. Bodies are
//     returned, filtered and counted (AggBytes, Stats) in repaired form.
//   - Records with equal timestamps may come in any order.
//   - Series results are compared as sets; Aggregate series are compared
//     after sorting by labels.
//   - A retention period of zero, in a rule or as the default, keeps records
//     forever; a record exactly one period old is kept.
//   - When the size cap cannot be met, everything is deleted.
package storetest

import (
	"testing"

	"github.com/lookout-dev/lookout/internal/eventstore"
)

// OpenFunc opens the store under test in dir, an empty directory the first
// time. The suite closes every store it opens; OpenFunc may also register its
// own cleanup.
type OpenFunc func(t *testing.T, dir string) eventstore.Store

// Option configures Run.
type Option func(*config)

type config struct {
	durable bool
}

// Durable declares that the store persists its data: a store opened again on
// the same directory after Close holds everything appended before. Run then
// includes the durability tests.
func Durable() Option {
	return func(c *config) { c.durable = true }
}

// Run runs the conformance suite against the stores that open returns.
func Run(t *testing.T, open OpenFunc, opts ...Option) {
	var c config
	for _, o := range opts {
		o(&c)
	}
	tests := []struct {
		name string
		fn   func(t *testing.T, open OpenFunc)
	}{
		{"Empty", testEmpty},
		{"Select", testSelect},
		{"SelectRoundTrip", testRoundTrip},
		{"SelectEqualTimes", testEqualTimes},
		{"SelectMany", testSelectMany},
		{"SelectExtremeTimes", testExtremeTimes},
		{"SelectStopEarly", testStopEarly},
		{"SelectErrors", testSelectErrors},
		{"Aggregate", testAggregate},
		{"AggregateWholeTimeline", testAggregateWholeTimeline},
		{"AggregateErrors", testAggregateErrors},
		{"Series", testSeries},
		{"LabelNames", testLabelNames},
		{"LabelValues", testLabelValues},
		{"Stats", testStats},
		{"InvalidUTF8", testInvalidUTF8},
		{"BatchOwnership", testBatchOwnership},
		{"AppendCancelled", testAppendCancelled},
		{"AppendUnknownKind", testAppendUnknownKind},
		{"Retention", testRetention},
		{"RetentionSizeCap", testRetentionSizeCap},
		{"Concurrent", testConcurrent},
		{"Closed", testClosed},
	}
	if c.durable {
		tests = append(tests, struct {
			name string
			fn   func(t *testing.T, open OpenFunc)
		}{"Durability", testDurability})
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) { tc.fn(t, open) })
	}
}

// openEmpty opens a store on a fresh directory and closes it at cleanup.
func openEmpty(t *testing.T, open OpenFunc) (eventstore.Store, string) {
	t.Helper()
	dir := t.TempDir()
	return openIn(t, open, dir), dir
}

func openIn(t *testing.T, open OpenFunc, dir string) eventstore.Store {
	t.Helper()
	s := open(t, dir)
	t.Cleanup(func() { _ = s.Close() }) // Close is idempotent; tests check its error where it matters.
	return s
}

// openLoaded opens a fresh store holding the fixture records.
func openLoaded(t *testing.T, open OpenFunc) (eventstore.Store, *fixture) {
	t.Helper()
	fx := loadFixture(t)
	s, _ := openEmpty(t, open)
	fx.appendTo(t, s)
	return s, fx
}
