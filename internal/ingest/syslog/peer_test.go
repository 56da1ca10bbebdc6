package syslog

import (
	"context"
	"fmt"
	"net"
	"os"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/stretchr/testify/require"

	"github.com/lookout-dev/lookout/internal/event"
	"github.com/lookout-dev/lookout/internal/testutil/peers"
	"github.com/lookout-dev/lookout/internal/testutil/recsink"
)

// TestLogger sends with util-linux logger over every transport, format and
// framing it offers.
func TestLogger(t *testing.T) {
	logger := peers.Binary(t, "/usr/bin/logger", "bsdutils")
	tests := []struct {
		name string
		args []string
		sd   bool // RFC 5424 carries structured data and a msgid
	}{
		{name: "udp rfc3164", args: []string{"--udp", "--rfc3164"}},
		{name: "udp rfc5424", args: []string{"--udp", "--rfc5424"}, sd: true},
		{name: "tcp rfc3164", args: []string{"--tcp", "--rfc3164"}},
		{name: "tcp rfc5424", args: []string{"--tcp", "--rfc5424"}, sd: true},
		{name: "tcp rfc5424 octet counted", args: []string{"--tcp", "--rfc5424", "--octet-count"}, sd: true},
		{name: "tcp rfc3164 octet counted", args: []string{"--tcp", "--rfc3164", "--octet-count"}},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := &recsink.Sink{}
			srv := startServer(t, s, prometheus.NewRegistry(), Options{})
			host, port, err := net.SplitHostPort(srv.Addr())
			require.NoError(t, err)
			args := append([]string{"-n", host, "-P", port, "-t", "myapp", "-p", "local3.warning", "-i"}, tc.args...)
			if tc.sd {
				args = append(args, "--msgid", "m1", "--sd-id", "zoo@123", "--sd-param", `tiger="hungry"`)
			}
			args = append(args, "hello from logger")
			out, err := exec.Command(logger, args...).CombinedOutput()
			require.NoError(t, err, string(out))

			recs := waitRecords(t, s, 1)
			require.Len(t, recs, 1)
			r := recs[0]
			require.Equal(t, "hello from logger", r.Body)
			require.Equal(t, event.LevelWarn, r.Level)
			require.Equal(t, "myapp", r.Labels.Get("app_name"))
			require.Equal(t, "local3", r.Labels.Get("facility"))
			require.Equal(t, "warning", r.Labels.Get("severity"))
			require.NotEmpty(t, r.Labels.Get("hostname"))
			require.InDelta(t, time.Now().UnixNano(), r.Time, float64(time.Hour), "logger stamps the current time")
			pid, ok := r.Attr("procid")
			require.True(t, ok, "logger -i sends its pid")
			require.NotEmpty(t, pid)
			if tc.sd {
				v, _ := r.Attr("msgid")
				require.Equal(t, "m1", v)
				v, _ = r.Attr("zoo@123.tiger")
				require.Equal(t, "hungry", v)
			}
		})
	}
}

// TestRsyslog relays through a real rsyslogd: messages written to its
// imtcp input are forwarded by omfwd over TCP with octet-counted framing in
// RFC 5424, as a syslog relay in front of Lookout would.
func TestRsyslog(t *testing.T) {
	rsyslogd := peers.Binary(t, "/usr/sbin/rsyslogd", "rsyslog")
	s := &recsink.Sink{}
	srv := startServer(t, s, prometheus.NewRegistry(), Options{})
	host, port, err := net.SplitHostPort(srv.Addr())
	require.NoError(t, err)

	dir := t.TempDir()
	portFile := filepath.Join(dir, "imtcp.port")
	conf := fmt.Sprintf(`global(workDirectory=%q)
module(load="imtcp")
input(type="imtcp" address="127.0.0.1" port="0" listenPortFileName=%q ruleset="relay")
ruleset(name="relay") {
	action(type="omfwd" target=%q port=%q protocol="tcp" TCP_Framing="octet-counted"
		template="RSYSLOG_SyslogProtocol23Format")
}
`, dir, portFile, host, port)
	confFile := filepath.Join(dir, "rsyslog.conf")
	require.NoError(t, os.WriteFile(confFile, []byte(conf), 0o600))

	ctx, cancel := context.WithCancel(context.Background())
	cmd := exec.CommandContext(ctx, rsyslogd, "-n", "-f", confFile, "-i", filepath.Join(dir, "rsyslogd.pid"))
	var out strings.Builder
	cmd.Stdout, cmd.Stderr = &out, &out
	require.NoError(t, cmd.Start())
	t.Cleanup(func() {
		cancel()
		_ = cmd.Wait() // killed by the cancel; its exit status says nothing
		if t.Failed() {
			t.Logf("rsyslogd output:\n%s", out.String())
		}
	})

	var inPort string
	require.Eventually(t, func() bool {
		b, err := os.ReadFile(portFile)
		inPort = strings.TrimSpace(string(b))
		return err == nil && inPort != ""
	}, waitTimeout, 10*time.Millisecond, "rsyslogd did not open its imtcp input")

	c, err := net.Dial("tcp", net.JoinHostPort("127.0.0.1", inPort))
	require.NoError(t, err)
	defer c.Close()
	_, err = c.Write([]byte("<163>Nov 21 11:59:58 edge-1 billing[4242]: invoice 17 failed\n" +
		"<14>Nov 21 11:59:59 edge-2 cron: nightly job done\n"))
	require.NoError(t, err)

	recs := waitRecords(t, s, 2)
	require.Len(t, recs, 2)
	byHost := map[string]event.Record{}
	for _, r := range recs {
		byHost[r.Labels.Get("hostname")] = r
	}
	billing := byHost["edge-1"]
	require.Equal(t, "invoice 17 failed", billing.Body)
	require.Equal(t, "billing", billing.Labels.Get("app_name"))
	require.Equal(t, "local4", billing.Labels.Get("facility"))
	require.Equal(t, "err", billing.Labels.Get("severity"))
	require.Equal(t, event.LevelError, billing.Level)
	pid, _ := billing.Attr("procid")
	require.Equal(t, "4242", pid)
	cron := byHost["edge-2"]
	require.Equal(t, "nightly job done", cron.Body)
	require.Equal(t, "cron", cron.Labels.Get("app_name"))
	require.Equal(t, "user", cron.Labels.Get("facility"))
	require.Equal(t, event.LevelInfo, cron.Level)
}
