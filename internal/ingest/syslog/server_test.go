package syslog

import (
	"context"
	"errors"
	"fmt"
	"net"
	"strings"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/stretchr/testify/require"
	"go.uber.org/goleak"

	"github.com/lookout-dev/lookout/internal/event"
	"github.com/lookout-dev/lookout/internal/ingest/logmetrics"
	"github.com/lookout-dev/lookout/internal/testutil/recsink"
)

func TestMain(m *testing.M) { goleak.VerifyTestMain(m) }

// waitTimeout is how long tests wait for messages to travel through the
// server; generous, since the machine may be busy.
const waitTimeout = 20 * time.Second

// startServer starts a server on a free loopback port and shuts it down
// at the end of the test.
func startServer(t testing.TB, next *recsink.Sink, reg *prometheus.Registry, opts Options) *Server {
	t.Helper()
	if opts.Listen == "" {
		opts.Listen = "127.0.0.1:0"
	}
	if opts.FlushInterval == 0 {
		opts.FlushInterval = 10 * time.Millisecond
	}
	s := New(nil, reg, next, opts)
	require.NoError(t, s.Start(context.Background()))
	t.Cleanup(func() {
		ctx, cancel := context.WithTimeout(context.Background(), waitTimeout)
		defer cancel()
		require.NoError(t, s.Shutdown(ctx))
	})
	return s
}

func waitRecords(t testing.TB, s *recsink.Sink, n int) []event.Record {
	t.Helper()
	require.Eventually(t, func() bool { return len(s.Records()) >= n }, waitTimeout, 5*time.Millisecond,
		"want %d records", n)
	return s.Records()
}

// counter returns the value of the counter name with the given labels.
func counter(t testing.TB, reg *prometheus.Registry, name string, lbls map[string]string) float64 {
	t.Helper()
	mfs, err := reg.Gather()
	require.NoError(t, err)
	for _, mf := range mfs {
		if mf.GetName() != name {
			continue
		}
	metrics:
		for _, m := range mf.GetMetric() {
			for _, lp := range m.GetLabel() {
				if v, ok := lbls[lp.GetName()]; ok && v != lp.GetValue() {
					continue metrics
				}
			}
			return m.GetCounter().GetValue()
		}
	}
	return 0
}

func send(t testing.TB, network, addr string, payloads ...string) {
	t.Helper()
	c, err := net.Dial(network, addr)
	require.NoError(t, err)
	defer c.Close()
	for _, p := range payloads {
		_, err := c.Write([]byte(p))
		require.NoError(t, err)
	}
}

func TestServerTransports(t *testing.T) {
	now := testNow.UnixNano()
	ex1 := "<34>1 2003-10-11T22:14:15.003Z mymachine.example.com su - ID47 - 'su root' failed"
	ex1Rec := event.Record{Kind: event.KindLog, Time: at(time.RFC3339Nano, "2003-10-11T22:14:15.003Z").UnixNano(),
		Labels: labels.FromStrings("app_name", "su", "facility", "auth", "hostname", "mymachine.example.com", "severity", "crit"),
		Body:   "'su root' failed", Level: event.LevelCritical, Attrs: []event.Attr{{Key: "msgid", Value: "ID47"}}}
	noHost := "<30>sshd[7]: Accepted publickey\n"
	noHostRec := event.Record{Kind: event.KindLog, Time: now,
		Labels: labels.FromStrings("app_name", "sshd", "facility", "daemon", "hostname", "127.0.0.1", "severity", "info"),
		Body:   "Accepted publickey", Level: event.LevelInfo, Attrs: []event.Attr{{Key: "procid", Value: "7"}}}
	tests := []struct {
		name      string
		network   string
		payloads  []string
		want      []event.Record
		malformed float64
	}{
		{name: "udp rfc5424", network: "udp", payloads: []string{ex1}, want: []event.Record{ex1Rec}},
		{name: "udp rfc3164 without hostname", network: "udp", payloads: []string{noHost}, want: []event.Record{noHostRec}},
		{name: "tcp octet counted", network: "tcp", payloads: []string{fmt.Sprintf("%d %s%d %s", len(ex1), ex1, len(noHost), noHost)},
			want: []event.Record{ex1Rec, noHostRec}},
		{name: "tcp lf framed, split writes", network: "tcp", payloads: []string{ex1[:10], ex1[10:] + "\n" + noHost},
			want: []event.Record{ex1Rec, noHostRec}},
		{name: "tcp malformed message", network: "tcp", payloads: []string{"no priority here\n" + noHost},
			want: []event.Record{noHostRec}, malformed: 1},
	}
	for _, tc := range tests {
		t.Run(tc.name, func(t *testing.T) {
			s := &recsink.Sink{}
			reg := prometheus.NewRegistry()
			srv := startServer(t, s, reg, Options{Now: func() time.Time { return testNow }})
			send(t, tc.network, srv.Addr(), tc.payloads...)
			require.Equal(t, tc.want, waitRecords(t, s, len(tc.want)))
			require.Equal(t, tc.malformed, counter(t, reg, "lookout_log_ingest_rejected_total", map[string]string{"reason": "malformed"}))
			require.Eventually(t, func() bool {
				return counter(t, reg, "lookout_log_ingest_lines_total", map[string]string{"protocol": "syslog"}) == float64(len(tc.want))
			}, waitTimeout, 5*time.Millisecond)
		})
	}
}

func TestServerBatchesAndFlushesOnShutdown(t *testing.T) {
	s := &recsink.Sink{}
	reg := prometheus.NewRegistry()
	srv := New(nil, reg, s, Options{Listen: "127.0.0.1:0", BatchSize: 2, FlushInterval: time.Hour})
	require.NoError(t, srv.Start(context.Background()))
	var msgs []string
	for i := range 5 {
		msgs = append(msgs, fmt.Sprintf("<13>app: message %d\n", i))
	}
	send(t, "tcp", srv.Addr(), msgs...)
	// Two full batches go out at once; the fifth record waits for a flush.
	require.Eventually(t, func() bool { return len(s.Records()) == 4 }, waitTimeout, 5*time.Millisecond)
	require.Eventually(t, func() bool {
		return counter(t, reg, "lookout_syslog_messages_received_total", map[string]string{"transport": "tcp"}) == 5
	}, waitTimeout, 5*time.Millisecond)
	require.NoError(t, srv.Shutdown(context.Background()))
	require.Equal(t, []int{2, 2, 1}, s.BatchSizes())
	require.Equal(t, "message 4", s.Records()[4].Body)
}

func TestServerQueueFullDropsUDP(t *testing.T) {
	s := &recsink.Sink{Block: make(chan struct{})}
	reg := prometheus.NewRegistry()
	srv := startServer(t, s, reg, Options{BatchSize: 1, QueueSize: 1})
	c, err := net.Dial("udp", srv.Addr())
	require.NoError(t, err)
	defer c.Close()
	// The first record blocks the consumer, the second fills the queue,
	// and later ones are dropped.
	require.Eventually(t, func() bool {
		_, _ = c.Write([]byte("<13>app: x"))
		return counter(t, reg, "lookout_log_ingest_rejected_total", map[string]string{"reason": "queue_full"}) > 0
	}, waitTimeout, 5*time.Millisecond)
	close(s.Block)
	require.NotEmpty(t, waitRecords(t, s, 2))
}

func TestServerConsumerError(t *testing.T) {
	s := &recsink.Sink{Err: fmt.Errorf("append: %w", logmetrics.ErrOverloaded)}
	reg := prometheus.NewRegistry()
	srv := startServer(t, s, reg, Options{})
	send(t, "tcp", srv.Addr(), "<13>app: a\n<13>app: b\n")
	require.Eventually(t, func() bool {
		return counter(t, reg, "lookout_log_ingest_rejected_total", map[string]string{"reason": "overloaded"}) == 2
	}, waitTimeout, 5*time.Millisecond)
}

func TestServerMaxConnections(t *testing.T) {
	s := &recsink.Sink{}
	reg := prometheus.NewRegistry()
	srv := startServer(t, s, reg, Options{MaxConnections: 1})
	first, err := net.Dial("tcp", srv.Addr())
	require.NoError(t, err)
	defer first.Close()
	_, err = first.Write([]byte("<13>app: first\n"))
	require.NoError(t, err)
	waitRecords(t, s, 1) // the first connection is being served

	second, err := net.Dial("tcp", srv.Addr())
	require.NoError(t, err)
	defer second.Close()
	require.NoError(t, second.SetReadDeadline(time.Now().Add(waitTimeout)))
	_, err = second.Read(make([]byte, 1))
	require.Error(t, err, "the server closes a connection over the limit")
	require.Equal(t, 1.0, counter(t, reg, "lookout_log_ingest_rejected_total", map[string]string{"reason": "too_many_connections"}))
}

func TestServerTruncates(t *testing.T) {
	s := &recsink.Sink{}
	reg := prometheus.NewRegistry()
	srv := startServer(t, s, reg, Options{MaxLineBytes: 32})
	long := strings.Repeat("x", 100)
	// Frames are cut at the line limit plus header room, so this one is
	// whole when read and cut by the line limit afterwards; the second is
	// cut by the reader.
	huge := strings.Repeat("y", 5000)
	send(t, "tcp", srv.Addr(), "<13>app: "+long+"\n", "<13>app: "+huge+"\n")
	recs := waitRecords(t, s, 2)
	want := strings.Repeat("x", 32-len(logmetrics.TruncatedSuffix)) + logmetrics.TruncatedSuffix
	require.Equal(t, want, recs[0].Body)
	require.Equal(t, strings.Repeat("y", 32-len(logmetrics.TruncatedSuffix))+logmetrics.TruncatedSuffix, recs[1].Body)
	require.Equal(t, 2.0, counter(t, reg, "lookout_log_ingest_truncated_total", nil))
}

func TestServerLifecycle(t *testing.T) {
	srv := New(nil, nil, &recsink.Sink{}, Options{Listen: "127.0.0.1:0"})
	require.Empty(t, srv.Addr())
	require.NoError(t, srv.Shutdown(context.Background()), "shutdown before start")
	require.NoError(t, srv.Start(context.Background()))
	require.Error(t, srv.Start(context.Background()), "second start")
	host, port, err := net.SplitHostPort(srv.Addr())
	require.NoError(t, err)
	require.Equal(t, "127.0.0.1", host)
	require.NotEqual(t, "0", port)
	require.NoError(t, srv.Shutdown(context.Background()))
	require.NoError(t, srv.Shutdown(context.Background()), "second shutdown")

	busy := New(nil, nil, &recsink.Sink{}, Options{Listen: "256.0.0.1:1"})
	require.Error(t, busy.Start(context.Background()))
}

func TestServerShutdownDeadline(t *testing.T) {
	s := &recsink.Sink{Block: make(chan struct{})}
	srv := New(nil, nil, s, Options{Listen: "127.0.0.1:0", FlushInterval: time.Millisecond})
	require.NoError(t, srv.Start(context.Background()))
	send(t, "tcp", srv.Addr(), "<13>app: stuck\n")
	ctx, cancel := context.WithCancel(context.Background())
	cancel()
	// A consumer that never returns cannot hold shutdown past its deadline:
	// its context is cancelled.
	err := srv.Shutdown(ctx)
	require.True(t, err == nil || errors.Is(err, context.Canceled), "err %v", err)
}

// TestServerShutdownDrains checks that what a sender wrote before Shutdown
// is read and stored, not dropped with the sockets.
func TestServerShutdownDrains(t *testing.T) {
	s := &recsink.Sink{}
	reg := prometheus.NewRegistry()
	srv := New(nil, reg, s, Options{Listen: "127.0.0.1:0", FlushInterval: time.Hour})
	require.NoError(t, srv.Start(context.Background()))
	c, err := net.Dial("tcp", srv.Addr())
	require.NoError(t, err)
	defer c.Close()
	require.Eventually(t, func() bool {
		mfs, err := reg.Gather()
		require.NoError(t, err)
		for _, mf := range mfs {
			if mf.GetName() == "lookout_syslog_tcp_connections" {
				return mf.GetMetric()[0].GetGauge().GetValue() == 1
			}
		}
		return false
	}, waitTimeout, 5*time.Millisecond, "connection accepted")
	var payload strings.Builder
	for i := range 100 {
		fmt.Fprintf(&payload, "<13>app: message %d\n", i)
	}
	_, err = c.Write([]byte(payload.String()))
	require.NoError(t, err)
	require.NoError(t, srv.Shutdown(context.Background()))
	require.Len(t, s.Records(), 100)
}
