package eventstore_test

import (
	"math"
	"testing"
	"time"

	"github.com/prometheus/prometheus/model/labels"
	"github.com/stretchr/testify/require"

	"github.com/lookout-dev/lookout/internal/eventstore"
)

func TestRetentionPeriodFor(t *testing.T) {
	r := eventstore.Retention{
		Default: 720 * time.Hour,
		Rules: []eventstore.RetentionRule{
			{Matchers: []*labels.Matcher{labels.MustNewMatcher(labels.MatchEqual, "env", "dev")}, Period: 72 * time.Hour},
			{Matchers: []*labels.Matcher{
				labels.MustNewMatcher(labels.MatchEqual, "env", "dev"),
				labels.MustNewMatcher(labels.MatchEqual, "app", "audit"),
			}, Period: 0},
			{Matchers: []*labels.Matcher{labels.MustNewMatcher(labels.MatchEqual, "app", "audit")}, Period: 0},
		},
	}
	require.Equal(t, 72*time.Hour, r.PeriodFor(labels.FromStrings("env", "dev", "app", "audit")), "the first matching rule wins")
	require.Equal(t, time.Duration(0), r.PeriodFor(labels.FromStrings("env", "prod", "app", "audit")), "zero keeps forever")
	require.Equal(t, 720*time.Hour, r.PeriodFor(labels.FromStrings("env", "prod")), "no rule: the default")
}

func TestCutoff(t *testing.T) {
	require.Equal(t, int64(1000-10), eventstore.Cutoff(1000, 10))
	require.Equal(t, int64(math.MinInt64), eventstore.Cutoff(math.MinInt64+5, 10), "no overflow")
}
