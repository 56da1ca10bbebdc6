package app

import (
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/stretchr/testify/require"
)

// peerBinary returns the path of a real peer program, skipping the test when
// it is missing outside CI (scripts/install-test-deps.sh installs it).
func peerBinary(t *testing.T, path, pkg string) string {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is missing in CI; install Debian's %s package", path, pkg)
		}
		t.Skipf("%s not installed (apt-get install %s)", path, pkg)
	}
	return path
}

func freePort(t *testing.T) string {
	t.Helper()
	l, err := net.Listen("tcp", "127.0.0.1:0")
	require.NoError(t, err)
	defer l.Close()
	return l.Addr().String()
}

// TestPrometheusRemoteWriteSender points a real Prometheus (Debian's 2.42)
// at Lookout's remote-write receiver and finds its scraped series in Lookout.
func TestPrometheusRemoteWriteSender(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Prometheus server")
	}
	prom := peerBinary(t, "/usr/bin/prometheus", "prometheus")
	ta := startApp(t, nil)
	dir := t.TempDir()
	addr := freePort(t)
	cfg := fmt.Sprintf(`global:
  scrape_interval: 1s
  external_labels:
    sender: debian-prometheus
scrape_configs:
  - job_name: prom-sender
    static_configs:
      - targets: [%q]
remote_write:
  - url: %s/api/v1/write
    queue_config:
      batch_send_deadline: 1s
`, addr, ta.base)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(cfg), 0o600))
	var logs syncBuffer
	cmd := exec.Command(prom, "--config.file="+filepath.Join(dir, "prometheus.yml"), "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+addr)
	cmd.Stdout, cmd.Stderr = &logs, &logs
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })

	require.Eventually(t, func() bool {
		got := ta.query(t, `up{job="prom-sender",sender="debian-prometheus"}`, time.Time{})
		return len(got) == 1 && got[0].Value[1] == "1"
	}, 90*time.Second, 250*time.Millisecond, "Prometheus' samples did not arrive; its log:\n%s", &logs)
	got := ta.query(t, `prometheus_build_info{job="prom-sender"}`, time.Time{})
	require.Len(t, got, 1)
	require.True(t, strings.HasPrefix(got[0].Metric["version"], "2."), got[0].Metric["version"])
	require.Equal(t, 0.0, counterValue(t, ta.App, "lookout_ingest_rejected_total", map[string]string{"protocol": "remote_write"}))
	code, _, _ := ta.do(t, http.MethodGet, "/-/healthy", nil, nil)
	require.Equal(t, http.StatusOK, code)
}
