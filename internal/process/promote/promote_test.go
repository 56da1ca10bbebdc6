package promote

import (
	"context"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/stretchr/testify/require"

	"github.com/lookout-dev/lookout/internal/event"
)

func TestPromote(t *testing.T) {
	cases := []struct {
		name       string
		opts       Options
		labels     labels.Labels
		attrs      []event.Attr
		wantLabels labels.Labels
		wantAttrs  []event.Attr
		skipped    float64
	}{
		{
			name: "moves attributes", opts: Options{Attrs: []string{"service", "env"}},
			labels:     labels.FromStrings("job", "crm"),
			attrs:      []event.Attr{{Key: "service", Value: "crm-api"}, {Key: "user_id", Value: "42"}, {Key: "env", Value: "production"}},
			wantLabels: labels.FromStrings("env", "production", "job", "crm", "service", "crm-api"),
			wantAttrs:  []event.Attr{{Key: "user_id", Value: "42"}},
		},
		{
			name: "dotted names", opts: Options{Attrs: []string{"service.name", "deployment.environment"}},
			attrs:      []event.Attr{{Key: "service.name", Value: "billing"}, {Key: "deployment_environment", Value: "staging"}},
			wantLabels: labels.FromStrings("deployment_environment", "staging", "service_name", "billing"),
		},
		{
			name: "existing label wins", opts: Options{Attrs: []string{"service"}},
			labels: labels.FromStrings("service", "from-receiver"), attrs: []event.Attr{{Key: "service", Value: "from-body"}},
			wantLabels: labels.FromStrings("service", "from-receiver"), wantAttrs: []event.Attr{{Key: "service", Value: "from-body"}},
		},
		{
			name: "label count guard", opts: Options{Attrs: []string{"a", "b", "c"}, MaxLabels: 3},
			labels:     labels.FromStrings("job", "x"),
			attrs:      []event.Attr{{Key: "a", Value: "1"}, {Key: "b", Value: "2"}, {Key: "c", Value: "3"}},
			wantLabels: labels.FromStrings("a", "1", "b", "2", "job", "x"),
			wantAttrs:  []event.Attr{{Key: "c", Value: "3"}}, skipped: 1,
		},
		{
			name: "long and empty values stay", opts: Options{Attrs: []string{"long", "empty"}},
			attrs:     []event.Attr{{Key: "long", Value: strings.Repeat("x", MaxValueLen+1)}, {Key: "empty", Value: ""}},
			wantAttrs: []event.Attr{{Key: "long", Value: strings.Repeat("x", MaxValueLen+1)}, {Key: "empty", Value: ""}},
			skipped:   1,
		},
		{name: "absent attribute", opts: Options{Attrs: []string{"service"}}, labels: labels.FromStrings("job", "x"), wantLabels: labels.FromStrings("job", "x")},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			skipped := prometheus.NewCounter(prometheus.CounterOpts{Name: "skipped"})
			c.opts.Skipped = skipped
			stage, err := New(c.opts)
			require.NoError(t, err)
			out, err := stage(context.Background(), []event.Record{{Labels: c.labels, Attrs: c.attrs}})
			require.NoError(t, err)
			require.Equal(t, c.wantLabels, out[0].Labels)
			if len(c.wantAttrs) == 0 {
				require.Empty(t, out[0].Attrs)
			} else {
				require.Equal(t, c.wantAttrs, out[0].Attrs)
			}
			require.Equal(t, c.skipped, testutil.ToFloat64(skipped))
		})
	}
}

func TestLabelName(t *testing.T) {
	for in, want := range map[string]string{"service": "service", "service.name": "service_name", "k8s-ns": "k8s_ns", "1x": "_1x", "": ""} {
		require.Equal(t, want, LabelName(in), in)
	}
	_, err := New(Options{Attrs: []string{"__name__"}})
	require.ErrorContains(t, err, "reserved")
}
