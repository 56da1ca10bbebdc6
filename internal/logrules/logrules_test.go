package logrules_test

import (
	"context"
	"errors"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql"
	"github.com/prometheus/prometheus/rules"
	"github.com/prometheus/prometheus/util/teststorage"
	"github.com/stretchr/testify/require"

	"github.com/lookout-dev/lookout/internal/event"
	"github.com/lookout-dev/lookout/internal/eventstore/memstore"
	"github.com/lookout-dev/lookout/internal/logql"
	"github.com/lookout-dev/lookout/internal/logrules"
)

func validate(expr string) error {
	e, err := logql.ParseExpr(expr)
	if err != nil {
		return err
	}
	if _, ok := e.(*logql.LogSelectorExpr); ok {
		return errors.New("log rules need a metric query")
	}
	return nil
}

func queryFunc(eng *logql.Engine) rules.QueryFunc {
	return func(ctx context.Context, q string, t time.Time) (promql.Vector, error) {
		res, err := eng.Query(ctx, logql.QueryParams{Query: q, Start: t, End: t})
		if err != nil {
			return nil, err
		}
		var out promql.Vector
		for _, s := range res.Value.(logql.Vector) {
			out = append(out, promql.Sample{Metric: s.Labels, T: s.T / 1e6, F: s.V})
		}
		return out, nil
	}
}

func TestRulesFireAndRecord(t *testing.T) {
	now := time.Now().Truncate(time.Minute)
	logs := memstore.New()
	t.Cleanup(func() { _ = logs.Close() })
	var recs []event.Record
	for i, line := range []string{`{"level":"ERROR","msg":"db down"}`, `{"level":"INFO","msg":"ok"}`, `{"level":"CRITICAL","msg":"ERROR disk"}`} {
		recs = append(recs, event.Record{Kind: event.KindLog, Time: now.Add(-time.Duration(i+1) * time.Minute).UnixNano(),
			Labels: labels.FromStrings("app", "api"), Body: line})
	}
	require.NoError(t, logs.Append(context.Background(), recs))
	metrics := teststorage.New(t)

	var mu sync.Mutex
	var sent []*rules.Alert
	m := logrules.New(context.Background(), logrules.Options{
		Appendable: metrics, Queryable: metrics,
		Query:    queryFunc(logql.NewEngine(logs, logql.Options{})),
		Validate: validate,
		Notify: func(_ context.Context, _ string, alerts ...*rules.Alert) {
			mu.Lock()
			defer mu.Unlock()
			sent = append(sent, alerts...)
		},
	})
	require.NoError(t, m.Update(time.Minute, []string{"testdata/errors.yml"}, labels.EmptyLabels(), "", nil))
	groups := m.RuleGroups()
	require.Len(t, groups, 1)
	groups[0].Eval(context.Background(), now)
	for _, r := range groups[0].Rules() {
		require.NoError(t, r.LastError(), r.Name())
	}

	alerts := groups[0].AlertingRules()[0].ActiveAlerts()
	require.Len(t, alerts, 1)
	require.Equal(t, rules.StateFiring, alerts[0].State, "for: 0 fires at once")
	require.Equal(t, "api logged 2 errors in 5m", alerts[0].Annotations.Get("summary"))
	require.Equal(t, "critical", alerts[0].Labels.Get("severity"))

	// The recording rule's result is in the metrics store.
	q, err := metrics.Querier(0, now.UnixMilli()+1)
	require.NoError(t, err)
	defer q.Close()
	ss := q.Select(context.Background(), false, nil, labels.MustNewMatcher(labels.MatchEqual, "__name__", "app:log_errors:count5m"))
	require.True(t, ss.Next(), "recorded series missing")
	require.Equal(t, "api", ss.At().Labels().Get("app"))
	it := ss.At().Iterator(nil)
	require.NotEqual(t, 0, int(it.Next()))
	_, v := it.At()
	require.Equal(t, 2.0, v, `two lines contain "ERROR"`)
}

func TestBadRuleFile(t *testing.T) {
	errs := logrules.CheckFile("testdata/bad.yml", validate)
	require.Len(t, errs, 2)
	msg := errs[0].Error() + "\n" + errs[1].Error()
	require.Contains(t, msg, "log rules need a metric query")
	require.Contains(t, msg, "parse error at line 1")
	require.True(t, strings.Contains(msg, "5:") || strings.Contains(msg, "line 5"), msg)

	err := logrules.CheckFiles([]string{"testdata/*.yml"}, validate)
	require.ErrorContains(t, err, "testdata/bad.yml: ")
	require.NotContains(t, err.Error(), "errors.yml", "the good file passes")
}
