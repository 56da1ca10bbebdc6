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

	"github.com/lookout-dev/lookout/internal/testutil/peers"
)

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
	prom := peers.Binary(t, "/usr/bin/prometheus", "prometheus")
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

// TestPrometheusSendsAlertsToLookout points a real Prometheus (Debian's
// 2.42) at Lookout's Alertmanager API, with and without the /alertmanager
// path prefix, and finds its alert in Lookout.
func TestPrometheusSendsAlertsToLookout(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a Prometheus server")
	}
	prom := peers.Binary(t, "/usr/bin/prometheus", "prometheus")
	ta := startApp(t, nil)
	dir := t.TempDir()
	rules := `groups:
  - name: external
    interval: 1s
    rules:
      - alert: ExternalPrometheusAlert
        expr: vector(1)
        labels: {severity: warning}
        annotations: {summary: "sent by an external Prometheus"}
`
	require.NoError(t, os.WriteFile(filepath.Join(dir, "rules.yml"), []byte(rules), 0o600))
	host := strings.TrimPrefix(ta.base, "http://")
	cfg := fmt.Sprintf(`global:
  evaluation_interval: 1s
rule_files: [rules.yml]
alerting:
  alertmanagers:
    - path_prefix: /alertmanager
      static_configs: [{targets: [%q]}]
    - static_configs: [{targets: [%q]}]
`, host, host)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "prometheus.yml"), []byte(cfg), 0o600))
	var logs syncBuffer
	cmd := exec.Command(prom, "--config.file="+filepath.Join(dir, "prometheus.yml"), "--storage.tsdb.path="+filepath.Join(dir, "data"),
		"--web.listen-address="+freePort(t),
		// The first evaluation may run before the Alertmanagers are discovered;
		// resend within a second rather than Prometheus' default minute.
		"--rules.alert.resend-delay=1s")
	cmd.Stdout, cmd.Stderr = &logs, &logs
	require.NoError(t, cmd.Start())
	t.Cleanup(func() { _ = cmd.Process.Kill(); _ = cmd.Wait() })

	require.Eventually(t, func() bool {
		_, _, body := ta.do(t, http.MethodGet, "/alertmanager/api/v2/alerts?filter=alertname%3D%22ExternalPrometheusAlert%22", nil, nil)
		return strings.Contains(string(body), "sent by an external Prometheus")
	}, 90*time.Second, 250*time.Millisecond, "the alert did not arrive; Prometheus' log:\n%s", &logs)
	// Both Alertmanager entries (prefix and root) delivered without errors.
	require.Eventually(t, func() bool {
		return strings.Count(logs.String(), "Error sending alert") == 0 &&
			strings.Contains(logs.String(), "Starting rule manager")
	}, 10*time.Second, 100*time.Millisecond)
	code, _, body := ta.do(t, http.MethodGet, "/api/v2/alerts/groups", nil, nil)
	require.Equal(t, http.StatusOK, code)
	require.Contains(t, string(body), "ExternalPrometheusAlert")
}

// TestAmtoolAgainstLookout drives Lookout's Alertmanager API with Debian's
// amtool: silences are added, queried and expired, alerts listed, and the
// routing config read back.
func TestAmtoolAgainstLookout(t *testing.T) {
	amtool := peers.Binary(t, "/usr/bin/amtool", "prometheus-alertmanager")
	ta := startApp(t, nil)
	run := func(url string, args ...string) string {
		t.Helper()
		cmd := exec.Command(amtool, append([]string{"--alertmanager.url=" + url}, args...)...)
		cmd.Env = []string{"HOME=" + t.TempDir(), "PATH=/usr/bin:/bin"}
		var stderr strings.Builder
		cmd.Stderr = &stderr // amtool warns there that its version differs from Lookout's
		out, err := cmd.Output()
		require.NoError(t, err, "amtool %v: %s%s", args, out, stderr.String())
		return strings.TrimSpace(string(out))
	}
	for _, url := range []string{ta.base + "/alertmanager", ta.base} {
		id := run(url, "silence", "add", "alertname=Maintenance", "instance=~db.*", "--comment=planned work", "--author=ops", "--duration=2h")
		require.Regexp(t, `^[0-9a-f-]{36}$`, id)
		q := run(url, "silence", "query", "-o", "json")
		require.Contains(t, q, id)
		require.Contains(t, q, "planned work")
		run(url, "silence", "expire", id)
		q = run(url, "silence", "query", "-q")
		require.NotContains(t, q, id, "expired silences are not listed as active")

		// amtool posts alerts with the same API Prometheus uses.
		run(url, "alert", "add", "alertname=FromAmtool", "severity=warning", "--annotation=summary=hello")
		require.Contains(t, run(url, "alert", "query", "alertname=FromAmtool"), "FromAmtool")
		require.Contains(t, run(url, "config", "show"), "receiver: default")
	}
}

// TestLogcli runs Grafana's logcli (Loki 3.7.8, built from the module proxy
// by bench/logs.sh; not a Debian package, so the test skips without it, also
// in CI) against Lookout's Loki API.
func TestLogcli(t *testing.T) {
	bin := os.Getenv("LOOKOUT_LOGCLI")
	if bin == "" {
		bin = "/tmp/lookout-bench-cache/loki-v3.7.8/logcli"
	}
	if _, err := os.Stat(bin); err != nil {
		t.Skipf("logcli not found at %s (make bench-logs builds it; or set LOOKOUT_LOGCLI)", bin)
	}
	ta := startApp(t, nil)
	now := time.Now()
	push := fmt.Sprintf(`{"streams":[{"stream":{"app":"api","env":"prod"},"values":[["%d","GET /orders 200"],["%d","POST /pay 502 upstream error"]]}]}`,
		now.Add(-2*time.Second).UnixNano(), now.Add(-time.Second).UnixNano())
	code, _, body := ta.do(t, "POST", "/loki/api/v1/push", strings.NewReader(push), map[string]string{"Content-Type": "application/json"})
	require.Equal(t, 204, code, "%s", body)

	run := func(args ...string) string {
		t.Helper()
		out, err := exec.Command(bin, append([]string{"--addr=" + ta.base, "--quiet"}, args...)...).CombinedOutput()
		require.NoError(t, err, "logcli %v:\n%s", args, out)
		return string(out)
	}
	require.Equal(t, "app\nenv\n", run("labels"))
	require.Equal(t, "api\n", run("labels", "app"))
	out := run("query", "--since=1m", `{app="api"} |= "error"`)
	require.Contains(t, out, "POST /pay 502 upstream error")
	require.NotContains(t, out, "GET /orders")
	require.Contains(t, run("series", "--since=1m", `{app="api"}`), `{app="api", env="prod"}`)
	require.Contains(t, run("instant-query", `count_over_time({app="api"}[1m])`), `"value"`)
	require.Contains(t, run("stats", "--since=1m", `{app="api"}`), "entries: 2")
}
