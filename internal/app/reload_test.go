package app

import (
	"os"
	"runtime/debug"
	"testing"
	"time"

	promconfig "github.com/prometheus/prometheus/config"
	"github.com/stretchr/testify/require"
)

// TestRuntimeGoGC checks that the runtime section sets the garbage
// collector's target as Prometheus does: 75 by default, the configured
// value otherwise, and again on reload.
func TestRuntimeGoGC(t *testing.T) {
	orig := debug.SetGCPercent(100)
	t.Cleanup(func() { debug.SetGCPercent(orig) })
	t.Setenv("GOGC", "")
	current := func() int {
		v := debug.SetGCPercent(100)
		debug.SetGCPercent(v)
		return v
	}

	a := startApp(t, nil)
	// The config is applied once the metrics store has opened, which
	// readiness does not wait for.
	require.Eventually(t, func() bool { return current() == promconfig.DefaultGoGCPercentage }, 10*time.Second, 10*time.Millisecond)
	require.Equal(t, "75", os.Getenv("GOGC"))

	next := *a.opts.Config
	pc := *next.Prometheus
	pc.Runtime.GoGC = 60
	next.Prometheus = &pc
	a.opts.Config = &next
	require.NoError(t, a.Reload())
	require.Equal(t, 60, current())
	require.Equal(t, "60", os.Getenv("GOGC"))
}
