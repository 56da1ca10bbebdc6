package selfobs

import (
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"
)

func TestRegisterReusesTheRegisteredCollector(t *testing.T) {
	reg := prometheus.NewRegistry()
	opts := prometheus.CounterOpts{Name: "x_total", Help: "x"}
	first := Register(reg, prometheus.NewCounter(opts))
	first.Inc()
	again := Register(reg, prometheus.NewCounter(opts)) // as a reload builds it again
	again.Inc()
	require.Equal(t, 2.0, testutil.ToFloat64(first), "both count into the registered counter")

	// A different kind of collector under the name: counts go to an
	// unregistered one, and nothing panics.
	g := Register(reg, prometheus.NewGauge(prometheus.GaugeOpts{Name: "x_total", Help: "x"}))
	g.Set(5)
	require.Equal(t, 2.0, testutil.ToFloat64(first))

	require.NotNil(t, Register(nil, prometheus.NewCounter(opts)), "a nil registry registers nothing")
}
