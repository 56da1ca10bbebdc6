// Package logql parses LogQL and evaluates it against an eventstore.Store,
// with Grafana Loki 3.x semantics for the supported subset.
//
// # Language
//
// ParseExpr returns an AST (*LogSelectorExpr for log queries, a SampleExpr
// for metric queries) or a *ParseError carrying Loki's message and position
// ("parse error at line 1, col 12: syntax error: unexpected ..."). Supported:
// stream selectors; line filters |= != |~ !~ |> !> with `or`; the parsers
// json (with and without parameters), logfmt (with --strict, --keep-empty
// and parameters), regexp, pattern and unpack; label filters on strings,
// numbers, durations and bytes combined with and, or, comma and
// juxtaposition; line_format, label_format, drop, keep, decolorize; the range
// aggregations count_over_time, rate, bytes_over_time, bytes_rate,
// sum/avg/min/max/stddev/stdvar/first/last/quantile_over_time over unwrap
// (with duration(), duration_seconds() and bytes()), absent_over_time, with
// offset; the vector aggregations sum, avg, min, max, count, stddev,
// stdvar, topk, bottomk, sort and sort_desc with by/without; binary
// arithmetic, comparison (with bool) and set operators with on/ignoring and
// group_left/group_right; vector() and label_replace().
//
// # Labels
//
// A record's label set is its stream labels, its level as
// event.LevelLabel and its attributes as structured metadata, then whatever
// the pipeline adds. As in Loki, a name that collides with a stream label
// moves to name_extracted, parser failures set __error__ and
// __error_details__, and a metric query fails with a *PipelineError if a
// sample still carries __error__. Metric series are labelled with the whole
// set (so attributes split series, as structured metadata does in Loki).
//
// # Design: pushdown
//
// The engine pushes as much work as the store contract allows, and runs the
// rest in Go over records streamed from the store:
//
//   - The stream selector becomes Selector.Matchers.
//   - Line filters become Selector.LineFilters unless a stage before them
//     rewrote the line (line_format, decolorize, unpack). `|= "a" or "b"`
//     becomes one regexp; `!= "a" or "b"` two filters.
//   - Conjuncts of label filters on event.LevelLabel become Selector.Level
//     unless a stage before them changed labels (parsers, label_format,
//     drop, keep).
//   - A log query whose pipeline is entirely pushed uses Select with the
//     limit; otherwise Select streams records in the query direction through
//     the Go pipeline and stops at the limit.
//   - count_over_time, rate, bytes_over_time and bytes_rate use Aggregate
//     when the pipeline is entirely pushed and the aggregation is summed
//     over stream labels (sum, or sum by labels every selected stream has,
//     or event.LevelLabel). Range windows (t-range, t] are made half-open
//     by shifting them 1ns, and the bucket width is gcd(range, step) so that
//     every window is a whole number of buckets; the engine adds up the
//     buckets of each window. Other groupings cannot be pushed because
//     attributes split series and Aggregate cannot group by them.
//   - Everything else is evaluated step by step from one forward Select:
//     each record goes through the pipeline once; per series the engine
//     keeps only the open windows' samples, merged into one bucket per step
//     at which they expire (raw values only for quantile, stddev and
//     stdvar). Options.MaxSamples bounds what is held and the result's
//     points, Options.MaxSeries the result's series.
//
// # Differences from Loki
//
// Not supported: ip() filters, rate_counter, approx_count_distinct,
// absent_over_time grouping, the `__preserve_error__` handling of Loki 3.6+
// (a metric query with an __error__ label filter that keeps failed lines
// fails here, as in earlier 3.x releases), count_values and subqueries.
// __error_details__ texts come from this package's parsers and may differ
// from Loki's. A stream label named detected_level, or an attribute of that
// name on a record with a level, is not seen by level filters, which read
// the record's level.
package logql
