package duckstore

import (
	"context"
	"database/sql"
	"slices"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/lookout-dev/lookout/internal/event"
	"github.com/lookout-dev/lookout/internal/eventstore"
)

// Series implements eventstore.Store. A stream whose records in a partition
// lie wholly inside the range is answered from the stream index; only
// streams that straddle a range boundary cost a query. The result is
// sorted.
func (s *Store) Series(ctx context.Context, kind event.Kind, start, end int64, matchers []*labels.Matcher) ([]labels.Labels, error) {
	defer s.observe("series", time.Now())
	found, err := s.series(ctx, kind, start, end, matchers)
	if err != nil {
		return nil, err
	}
	out := make([]labels.Labels, 0, len(found))
	for st := range found {
		out = append(out, st.labels)
	}
	slices.SortFunc(out, labels.Compare)
	return out, nil
}

func (s *Store) series(ctx context.Context, kind event.Kind, start, end int64, matchers []*labels.Matcher) (map[*stream]bool, error) {
	if err := ctx.Err(); err != nil {
		return nil, err
	}
	scans, release, err := s.plan(eventstore.Selector{Kind: kind, Start: start, End: end, Matchers: matchers})
	if err != nil {
		return nil, err
	}
	defer release()
	found := map[*stream]bool{}
	for _, sc := range scans {
		var unsure []uint32
		for id, m := range sc.members {
			switch {
			case found[m.st]:
			case m.min >= start && m.max < end:
				found[m.st] = true
			default:
				unsure = append(unsure, id)
			}
		}
		if len(unsure) == 0 {
			continue
		}
		slices.Sort(unsure)
		probe := &scan{p: sc.p, kind: kind, ids: unsure}
		var q query
		q.sql("SELECT DISTINCT stream_id FROM ", sc.table()).where(probe, start, end, nil)
		err := s.queryRows(ctx, "series", &q, func(rows *sql.Rows) error {
			var id uint32
			if err := rows.Scan(&id); err != nil {
				return err
			}
			found[sc.members[id].st] = true
			return nil
		})
		if err != nil {
			return nil, err
		}
	}
	return found, nil
}

// LabelNames implements eventstore.Store.
func (s *Store) LabelNames(ctx context.Context, kind event.Kind, start, end int64, matchers []*labels.Matcher) ([]string, error) {
	defer s.observe("label_names", time.Now())
	found, err := s.series(ctx, kind, start, end, matchers)
	if err != nil {
		return nil, err
	}
	set := map[string]bool{}
	for st := range found {
		st.labels.Range(func(l labels.Label) { set[l.Name] = true })
	}
	return sortedKeys(set), nil
}

// LabelValues implements eventstore.Store.
func (s *Store) LabelValues(ctx context.Context, kind event.Kind, name string, start, end int64, matchers []*labels.Matcher) ([]string, error) {
	defer s.observe("label_values", time.Now())
	found, err := s.series(ctx, kind, start, end, matchers)
	if err != nil {
		return nil, err
	}
	set := map[string]bool{}
	for st := range found {
		if v := st.labels.Get(name); v != "" {
			set[v] = true
		}
	}
	return sortedKeys(set), nil
}

func sortedKeys(set map[string]bool) []string {
	out := make([]string, 0, len(set))
	for k := range set {
		out = append(out, k)
	}
	slices.Sort(out)
	return out
}

// Stats implements eventstore.Store.
func (s *Store) Stats(ctx context.Context, sel eventstore.Selector) (eventstore.Stats, error) {
	defer s.observe("stats", time.Now())
	if err := ctx.Err(); err != nil {
		return eventstore.Stats{}, err
	}
	scans, release, err := s.plan(sel)
	if err != nil {
		return eventstore.Stats{}, err
	}
	defer release()
	var st eventstore.Stats
	streams := map[*stream]bool{}
	for _, sc := range scans {
		var q query
		q.sql("SELECT stream_id, count(*)::BIGINT, sum(strlen(body))::BIGINT FROM ", sc.table()).
			where(sc, max(sel.Start, sc.p.start), min(sel.End, sc.p.end), nil).
			sql(" GROUP BY stream_id")
		err := s.queryRows(ctx, "stats", &q, func(rows *sql.Rows) error {
			var (
				id             uint32
				entries, bytes int64
			)
			if err := rows.Scan(&id, &entries, &bytes); err != nil {
				return err
			}
			m, ok := sc.members[id]
			if !ok {
				return nil
			}
			streams[m.st] = true
			st.Entries += uint64(entries)
			st.Bytes += uint64(bytes)
			return nil
		})
		if err != nil {
			return eventstore.Stats{}, err
		}
	}
	st.Streams = uint64(len(streams))
	return st, nil
}
