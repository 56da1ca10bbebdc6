package storetest

import (
	"context"
	"fmt"
	"slices"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/stretchr/testify/require"

	"github.com/lookout-dev/lookout/internal/event"
	"github.com/lookout-dev/lookout/internal/eventstore"
)

// testInvalidUTF8 pins down that invalid UTF-8 is stored repaired, and
// that NUL bytes are kept.
func testInvalidUTF8(t *testing.T, open OpenFunc) {
	s, _ := openEmpty(t, open)
	ls := labels.FromStrings("app", "bad")
	require.NoError(t, s.Append(t.Context(), []event.Record{{
		Kind:   event.KindLog,
		Time:   fixtureStart,
		Labels: ls,
		Body:   "bad \xff\xfe bytes \xc3",
		Level:  "warn\xff",
		Attrs:  []event.Attr{{Key: "k\xff", Value: "v\xfe\xff"}},
	}}))
	want := event.Record{
		Kind:   event.KindLog,
		Time:   fixtureStart,
		Labels: ls,
		Body:   "bad \uFFFD bytes \uFFFD",
		Level:  "warn\uFFFD",
		Attrs:  []event.Attr{{Key: "k\uFFFD", Value: "v\uFFFD"}},
	}
	requireRecordsEqual(t, []event.Record{want}, collect(t, s, all(event.KindLog)))

	sel := eventstore.Selector{
		Kind: event.KindLog, Start: fixtureStart, End: fixtureStart + 1,
		Matchers:    []*labels.Matcher{matcher(t, "app", "=", "bad")},
		LineFilters: []eventstore.LineFilter{{Op: eventstore.LineContains, Value: "\uFFFD bytes"}},
	}
	require.Len(t, collect(t, s, eventstore.SelectParams{Selector: sel}), 1)

	// A filter holding invalid UTF-8 can never be contained in a repaired
	// body.
	inv := sel
	inv.LineFilters = []eventstore.LineFilter{{Op: eventstore.LineContains, Value: "\xff"}}
	require.Empty(t, collect(t, s, eventstore.SelectParams{Selector: inv}))
	inv.LineFilters = []eventstore.LineFilter{{Op: eventstore.LineNotContains, Value: "\xff"}}
	require.Len(t, collect(t, s, eventstore.SelectParams{Selector: inv}), 1)
	// NUL is valid UTF-8, kept and searchable.
	nul := event.Record{Kind: event.KindLog, Time: fixtureStart + 1, Labels: labels.FromStrings("app", "nul"), Body: "nul\x00byte", Level: "info"}
	require.NoError(t, s.Append(t.Context(), []event.Record{nul}))
	nsel := eventstore.Selector{
		Kind: event.KindLog, Start: fixtureStart, End: fixtureEnd, Matchers: []*labels.Matcher{matcher(t, "app", "=", "nul")},
		LineFilters: []eventstore.LineFilter{{Op: eventstore.LineContains, Value: "l\x00b"}, {Op: eventstore.LineRegexp, Value: "\x00by"}},
	}
	requireRecordsEqual(t, []event.Record{nul}, collect(t, s, eventstore.SelectParams{Selector: nsel}))

	series, err := s.Aggregate(t.Context(), eventstore.AggregateParams{Selector: sel, Op: eventstore.AggBytes, Step: 1})
	require.NoError(t, err)
	requireSeriesEqual(t, []eventstore.Series{{Labels: labels.EmptyLabels(), Points: []eventstore.Point{{T: fixtureStart, V: float64(len(want.Body))}}}}, series)
}

// testBatchOwnership checks that the store keeps no reference into an
// appended batch.
func testBatchOwnership(t *testing.T, open OpenFunc) {
	s, _ := openEmpty(t, open)
	buf := []byte("original body")
	batch := []event.Record{{
		Kind: event.KindLog, Time: fixtureStart, Labels: labels.FromStrings("app", "own"),
		Body: string(buf), Level: event.LevelInfo, Attrs: []event.Attr{{Key: "k", Value: "v"}},
	}}
	require.NoError(t, s.Append(t.Context(), batch))
	batch[0].Attrs[0].Value = "changed"
	batch[0].Body = "changed"
	got := collect(t, s, all(event.KindLog))
	require.Len(t, got, 1)
	require.Equal(t, "original body", got[0].Body)
	require.Equal(t, []event.Attr{{Key: "k", Value: "v"}}, got[0].Attrs)
}

// testAppendCancelled checks that Append with a cancelled context fails and
// stores nothing.
func testAppendCancelled(t *testing.T, open OpenFunc) {
	s, _ := openEmpty(t, open)
	fx := loadFixture(t)
	cctx, cancel := context.WithCancel(t.Context())
	cancel()
	require.ErrorIs(t, s.Append(cctx, fx.records), context.Canceled)
	require.Empty(t, allRecords(t, s))
}

// testAppendUnknownKind checks that a batch holding a record of no known
// kind is refused whole.
func testAppendUnknownKind(t *testing.T, open OpenFunc) {
	s, _ := openEmpty(t, open)
	fx := loadFixture(t)
	for _, k := range []event.Kind{0, event.KindRUM + 1} {
		batch := slices.Clone(fx.records)
		batch[3].Kind = k
		require.Error(t, s.Append(t.Context(), batch))
		require.Empty(t, allRecords(t, s))
	}
}

// testConcurrent runs writers and readers at once. Run it with -race.
func testConcurrent(t *testing.T, open OpenFunc) {
	s, _ := openEmpty(t, open)
	const (
		writers = 4
		batches = 25
		perB    = 20
	)
	sel := eventstore.Selector{Kind: event.KindLog, Start: fixtureStart, End: fixtureEnd, Matchers: []*labels.Matcher{matcher(t, "w", "=~", ".+")}}
	var (
		wg      sync.WaitGroup
		writeWG sync.WaitGroup
		done    = make(chan struct{})
		errs    = make(chan error, writers+3)
	)
	for w := range writers {
		writeWG.Go(func() {
			ls := labels.FromStrings("w", fmt.Sprint(w))
			for b := range batches {
				batch := make([]event.Record, perB)
				for i := range batch {
					n := (b*perB + i) * writers
					batch[i] = event.Record{
						Kind: event.KindLog, Time: fixtureStart + int64(n+w)*int64(time.Second),
						Labels: ls, Body: fmt.Sprintf("writer %d record %d", w, n), Level: event.LevelInfo,
					}
				}
				if err := s.Append(context.Background(), batch); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	reader := func(fn func() error) {
		wg.Go(func() {
			for {
				select {
				case <-done:
					return
				default:
				}
				if err := fn(); err != nil {
					errs <- err
					return
				}
			}
		})
	}
	reader(func() error {
		last := int64(-1)
		for r, err := range s.Select(context.Background(), eventstore.SelectParams{Selector: sel, Direction: eventstore.Forward, Limit: 50}) {
			if err != nil {
				return err
			}
			if r.Time < last {
				return fmt.Errorf("select out of order: %d after %d", r.Time, last)
			}
			last = r.Time
		}
		return nil
	})
	// Retention deletes the victims, in the partitions the writers write
	// to, and keeps everything else.
	victims := labels.FromStrings("w", "victim")
	for i := range 50 {
		require.NoError(t, s.Append(t.Context(), []event.Record{{Kind: event.KindLog, Time: fixtureStart + int64(i)*int64(time.Minute) + 1, Labels: victims, Body: "victim"}}))
	}
	policy := eventstore.Retention{Rules: []eventstore.RetentionRule{{Matchers: []*labels.Matcher{matcher(t, "w", "=", "victim")}, Period: time.Nanosecond}}}
	reader(func() error {
		_, err := s.ApplyRetention(context.Background(), time.Unix(0, fixtureEnd), policy)
		return err
	})
	reader(func() error {
		if _, err := s.Aggregate(context.Background(), eventstore.AggregateParams{Selector: sel, Op: eventstore.AggCount, Step: int64(time.Minute), GroupBy: []string{"w"}}); err != nil {
			return err
		}
		_, err := s.Series(context.Background(), event.KindLog, sel.Start, sel.End, sel.Matchers)
		return err
	})
	writeWG.Wait()
	close(done)
	wg.Wait()
	close(errs)
	for err := range errs {
		require.NoError(t, err)
	}

	_, err := s.ApplyRetention(t.Context(), time.Unix(0, fixtureEnd), policy)
	require.NoError(t, err)
	vsel := sel
	vsel.Matchers = []*labels.Matcher{matcher(t, "w", "=", "victim")}
	require.Empty(t, collect(t, s, eventstore.SelectParams{Selector: vsel}))
	sel.Matchers = append(sel.Matchers, matcher(t, "w", "!=", "victim"))
	st, err := s.Stats(t.Context(), sel)
	require.NoError(t, err)
	require.Equal(t, eventstore.Stats{Streams: writers, Entries: writers * batches * perB}, eventstore.Stats{Streams: st.Streams, Entries: st.Entries})
	recs := collect(t, s, eventstore.SelectParams{Selector: sel, Direction: eventstore.Forward})
	require.Len(t, recs, writers*batches*perB)
	for i := 1; i < len(recs); i++ {
		require.Less(t, recs[i-1].Time, recs[i].Time)
	}
}

// testEmpty checks that a store nothing was appended to answers every
// query with no data and no error, and that retention on it is a no-op.
func testEmpty(t *testing.T, open OpenFunc) {
	s, _ := openEmpty(t, open)
	sel := eventstore.Selector{Kind: event.KindLog, Start: fixtureStart, End: fixtureEnd, Matchers: []*labels.Matcher{matcher(t, "app", "=~", ".*")}}
	bg := context.Background()
	recs, err := trySelect(t, s, eventstore.SelectParams{Selector: sel, Limit: 10})
	require.NoError(t, err)
	require.Empty(t, recs)
	recs, err = trySelect(t, s, eventstore.SelectParams{Selector: sel, Direction: eventstore.Forward})
	require.NoError(t, err)
	require.Empty(t, recs)
	series, err := s.Aggregate(bg, eventstore.AggregateParams{Selector: sel, Op: eventstore.AggCount, Step: int64(time.Hour), GroupBy: []string{"app"}})
	require.NoError(t, err)
	require.Empty(t, series)
	ls, err := s.Series(bg, sel.Kind, sel.Start, sel.End, sel.Matchers)
	require.NoError(t, err)
	require.Empty(t, ls)
	names, err := s.LabelNames(bg, sel.Kind, sel.Start, sel.End, nil)
	require.NoError(t, err)
	require.Empty(t, names)
	values, err := s.LabelValues(bg, sel.Kind, "app", sel.Start, sel.End, nil)
	require.NoError(t, err)
	require.Empty(t, values)
	stats, err := s.Stats(bg, sel)
	require.NoError(t, err)
	require.Equal(t, eventstore.Stats{}, stats)
	res, err := s.ApplyRetention(bg, time.Unix(0, fixtureEnd), eventstore.Retention{Default: time.Hour, MaxBytes: 1})
	require.NoError(t, err)
	require.Zero(t, res.Deleted)
	require.Zero(t, s.Size())
	require.NoError(t, s.Close())
}

// testClosed checks that every method fails with ErrClosed after Close and
// that Close is idempotent.
func testClosed(t *testing.T, open OpenFunc) {
	s, fx := openLoaded(t, open)
	require.NoError(t, s.Close())
	require.NoError(t, s.Close())

	sel := eventstore.Selector{Kind: event.KindLog, Start: fixtureStart, End: fixtureEnd, Matchers: []*labels.Matcher{matcher(t, "app", "=~", ".+")}}
	bg := context.Background()
	require.ErrorIs(t, s.Append(bg, fx.records[:1]), eventstore.ErrClosed)
	_, err := trySelect(t, s, eventstore.SelectParams{Selector: sel})
	require.ErrorIs(t, err, eventstore.ErrClosed)
	_, err = s.Aggregate(bg, eventstore.AggregateParams{Selector: sel, Op: eventstore.AggCount, Step: int64(time.Hour)})
	require.ErrorIs(t, err, eventstore.ErrClosed)
	_, err = s.Series(bg, sel.Kind, sel.Start, sel.End, sel.Matchers)
	require.ErrorIs(t, err, eventstore.ErrClosed)
	_, err = s.LabelNames(bg, sel.Kind, sel.Start, sel.End, sel.Matchers)
	require.ErrorIs(t, err, eventstore.ErrClosed)
	_, err = s.LabelValues(bg, sel.Kind, "app", sel.Start, sel.End, sel.Matchers)
	require.ErrorIs(t, err, eventstore.ErrClosed)
	_, err = s.Stats(bg, sel)
	require.ErrorIs(t, err, eventstore.ErrClosed)
	_, err = s.ApplyRetention(bg, time.Unix(0, fixtureEnd), eventstore.Retention{Default: time.Hour})
	require.ErrorIs(t, err, eventstore.ErrClosed)
}

// testDurability checks that a store reopened on the same directory holds
// everything appended and nothing deleted.
func testDurability(t *testing.T, open OpenFunc) {
	fx := loadFixture(t)
	dir := t.TempDir()
	s := openIn(t, open, dir)
	fx.appendTo(t, s)
	want := allRecords(t, s)
	require.Len(t, want, len(fx.records))
	sizeBefore := s.Size()
	require.Positive(t, sizeBefore)
	require.NoError(t, s.Close())

	s = openIn(t, open, dir)
	requireRecordsEqual(t, want, allRecords(t, s))
	series, err := s.Series(t.Context(), event.KindLog, fixtureStart, fixtureEnd, nil)
	require.NoError(t, err)
	require.Len(t, series, 4)
	require.Positive(t, s.Size())

	// Append after reopening, into new and existing time ranges, then
	// delete the first day.
	extra := []event.Record{
		{Kind: event.KindLog, Time: fixtureStart + int64(36*time.Hour), Labels: labels.FromStrings("app", "late"), Body: "late arrival", Level: event.LevelInfo},
		{Kind: event.KindLog, Time: fixtureEnd + int64(time.Hour), Labels: labels.FromStrings("app", "api", "env", "prod"), Body: "next day", Level: event.LevelInfo},
	}
	require.NoError(t, s.Append(t.Context(), extra))
	res, err := s.ApplyRetention(t.Context(), time.Unix(0, fixtureStart+int64(72*time.Hour)), eventstore.Retention{Default: 48 * time.Hour})
	require.NoError(t, err)
	require.Equal(t, uint64(11), res.Deleted) // ids 1-10 and 18, of 2024-05-01
	want = allRecords(t, s)
	require.Len(t, want, len(fx.records)+len(extra)-11)
	require.NoError(t, s.Close())

	s = openIn(t, open, dir)
	requireRecordsEqual(t, want, allRecords(t, s))
	require.NoError(t, s.Close())
}
