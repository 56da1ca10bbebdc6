package selfobs

import (
	"bytes"
	"log/slog"
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"
)

func TestItemFilter(t *testing.T) {
	var out bytes.Buffer
	items := NewRejectedItems(prometheus.NewRegistry())
	h := NewItemFilter(slog.NewJSONHandler(&out, &slog.HandlerOptions{Level: slog.LevelWarn}), items, "remote_write",
		map[string]string{"Out of order sample": "out_of_order_or_too_old"})
	l := slog.New(h).With("component", "api")

	for range 3 {
		l.Error("Out of order sample", "series", `{__name__="x"}`)
	}
	l.Error("Error decoding v2 remote write request", "err", "bad")
	l.Info("below the level")

	require.Equal(t, 3.0, testutil.ToFloat64(items.WithLabelValues("remote_write", "out_of_order_or_too_old")))
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	require.Len(t, lines, 1, "only the request-level error is written: %s", out.String())
	require.Contains(t, lines[0], "Error decoding v2 remote write request")
	require.Contains(t, lines[0], `"component":"api"`, "attributes added with With survive the filter")
}
