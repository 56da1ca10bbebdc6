// Package syslog receives syslog messages (RFC 5424 and RFC 3164) over UDP
// and TCP on one address, as rsyslog, syslog-ng, the logger command, nginx
// and network devices send them.
//
// Each message becomes a record with stream labels app_name, hostname (the
// sender's address when the message names none), facility and severity; its
// level is the severity, normalised. RFC 5424 PROCID, MSGID and structured
// data become attributes (procid, msgid, sd_id.param).
//
// Records are batched: a batch goes to the consumer when it is full or
// every flush interval. Syslog has no acknowledgements, so a batch the
// consumer refuses is lost and counted. The queue in front of the batcher
// is bounded: a UDP message that finds it full is dropped and counted, a TCP
// connection waits, pushing back on its sender.
package syslog

import (
	"context"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net"
	"sync"
	"sync/atomic"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/lookout-dev/lookout/internal/event"
	"github.com/lookout-dev/lookout/internal/ingest/logmetrics"
	"github.com/lookout-dev/lookout/internal/pipeline"
	"github.com/lookout-dev/lookout/internal/selfobs"
)

// protocol is the protocol label of this receiver's metrics.
const protocol = "syslog"

// Defaults for Options.
const (
	DefaultListen         = "127.0.0.1:1514"
	DefaultBatchSize      = 1000
	DefaultFlushInterval  = 200 * time.Millisecond
	DefaultQueueSize      = 10000
	DefaultMaxConnections = 256
	DefaultIdleTimeout    = 5 * time.Minute
)

// maxDatagram is the largest UDP payload.
const maxDatagram = 65535

// On Shutdown, readers take in what senders have already sent: each socket
// is read until it is idle for drainIdle, for at most drainTimeout.
const (
	drainIdle    = 50 * time.Millisecond
	drainTimeout = 500 * time.Millisecond
)

// Options configures a Server. Zero values mean the defaults.
type Options struct {
	// Listen is the host:port both the UDP and the TCP listener bind.
	// Port 0 picks a port free for both.
	Listen string
	// MaxLineBytes bounds one message's text; longer ones are cut and end
	// in logmetrics.TruncatedSuffix. Default logmetrics.DefaultMaxLineBytes.
	MaxLineBytes int
	// BatchSize is the most records handed to the consumer at once.
	BatchSize int
	// FlushInterval is the longest a record waits for its batch to fill.
	FlushInterval time.Duration
	// QueueSize bounds the records waiting for the batcher.
	QueueSize int
	// MaxConnections bounds concurrent TCP connections; further ones are
	// closed at once and counted.
	MaxConnections int
	// IdleTimeout closes a TCP connection that sends nothing for this long.
	IdleTimeout time.Duration
	// Metrics receives the ingest counters. Nil means logmetrics.New(reg).
	Metrics *logmetrics.Metrics
	// Now is the clock for receive times and RFC 3164 timestamps, whose
	// zone is its location. Nil means time.Now.
	Now func() time.Time

	_ struct{}
}

// Server receives syslog over UDP and TCP. Its methods are safe for
// concurrent use.
type Server struct {
	logger  *slog.Logger
	next    pipeline.Consumer[[]event.Record]
	metrics *logmetrics.Metrics
	opts    Options
	conns   prometheus.Gauge
	recv    *prometheus.CounterVec

	mu      sync.Mutex
	started bool
	stopped bool
	addr    string
	tcp     net.Listener
	udp     net.PacketConn
	active  map[net.Conn]struct{}
	queue   chan event.Record
	abort   chan struct{} // closed when Shutdown's context ends: stop waiting
	// drainBy is non-zero (Unix ns) once Shutdown began: readers stop at
	// that deadline instead of their idle timeout.
	drainBy  atomic.Int64
	readers  sync.WaitGroup
	batcher  sync.WaitGroup
	flushCtx context.Context
	cancel   context.CancelFunc
}

// New returns a Server handing batches of records to next. It binds
// nothing and starts no goroutines until Start. A nil logger discards; reg
// may be nil.
func New(logger *slog.Logger, reg prometheus.Registerer, next pipeline.Consumer[[]event.Record], opts Options) *Server {
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	if opts.Listen == "" {
		opts.Listen = DefaultListen
	}
	if opts.MaxLineBytes <= 0 {
		opts.MaxLineBytes = logmetrics.DefaultMaxLineBytes
	}
	if opts.BatchSize <= 0 {
		opts.BatchSize = DefaultBatchSize
	}
	if opts.FlushInterval <= 0 {
		opts.FlushInterval = DefaultFlushInterval
	}
	if opts.QueueSize <= 0 {
		opts.QueueSize = DefaultQueueSize
	}
	if opts.MaxConnections <= 0 {
		opts.MaxConnections = DefaultMaxConnections
	}
	if opts.IdleTimeout <= 0 {
		opts.IdleTimeout = DefaultIdleTimeout
	}
	if opts.Now == nil {
		opts.Now = time.Now
	}
	m := opts.Metrics
	if m == nil {
		m = logmetrics.New(reg)
	}
	s := &Server{
		logger:  logger.With("component", "ingest", "protocol", protocol),
		next:    next,
		metrics: m,
		opts:    opts,
		conns: prometheus.NewGauge(prometheus.GaugeOpts{
			Name: "lookout_syslog_tcp_connections",
			Help: "Open syslog TCP connections.",
		}),
		recv: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lookout_syslog_messages_received_total",
			Help: "Syslog messages read from the network, by transport, before parsing and queueing.",
		}, []string{"transport"}),
	}
	if reg != nil {
		s.conns = selfobs.Register(reg, s.conns)
		s.recv = selfobs.Register(reg, s.recv)
	}
	return s
}

// Start binds the UDP and TCP listeners and starts receiving. It returns
// once both are bound; ctx bounds only the binding. Use Shutdown to stop.
func (s *Server) Start(ctx context.Context) error {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.started {
		return errors.New("start syslog server: already started")
	}
	tcp, udp, err := listen(ctx, s.opts.Listen)
	if err != nil {
		return err
	}
	s.started = true
	s.tcp, s.udp = tcp, udp
	s.addr = tcp.Addr().String()
	s.active = make(map[net.Conn]struct{})
	s.queue = make(chan event.Record, s.opts.QueueSize)
	s.abort = make(chan struct{})
	s.flushCtx, s.cancel = context.WithCancel(context.Background())

	s.batcher.Go(s.batch)
	s.readers.Go(s.serveUDP)
	s.readers.Go(s.serveTCP)
	s.logger.Info("syslog receiver started", "addr", s.addr, "transports", "udp,tcp")
	return nil
}

// listen binds TCP and then UDP on the same address. When the port is 0
// the kernel's TCP choice may be taken for UDP, so it tries a few times.
func listen(ctx context.Context, addr string) (net.Listener, net.PacketConn, error) {
	var lc net.ListenConfig
	_, port, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, nil, fmt.Errorf("parse syslog listen address %q: %w", addr, err)
	}
	attempts := 1
	if port == "0" {
		attempts = 10
	}
	for i := 0; ; i++ {
		tcp, err := lc.Listen(ctx, "tcp", addr)
		if err != nil {
			return nil, nil, fmt.Errorf("listen on tcp %s: %w", addr, err)
		}
		udp, err := lc.ListenPacket(ctx, "udp", tcp.Addr().String())
		if err == nil {
			return tcp, udp, nil
		}
		_ = tcp.Close() // the bind error below is what matters
		if i+1 >= attempts {
			return nil, nil, fmt.Errorf("listen on udp %s: %w", tcp.Addr(), err)
		}
	}
}

// Addr returns the host:port both listeners are bound to, or "" before
// Start.
func (s *Server) Addr() string {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.addr
}

// Shutdown stops accepting connections, reads what senders have already
// sent (until each socket is idle for 50ms, at most 500ms), closes the
// sockets, waits for the readers, and flushes queued records to the
// consumer. It is idempotent and a no-op before Start. If ctx ends first,
// waiting readers drop their records, the consumer's context is cancelled,
// and ctx's error is returned once every goroutine has stopped.
func (s *Server) Shutdown(ctx context.Context) error {
	s.mu.Lock()
	if !s.started || s.stopped {
		s.mu.Unlock()
		return nil
	}
	s.stopped = true
	_ = s.tcp.Close() // closing is how the accept loop learns to stop
	// Readers take in what was already sent, then time out.
	drainBy := time.Now().Add(drainTimeout)
	if d, ok := ctx.Deadline(); ok && d.Before(drainBy) {
		drainBy = d
	}
	s.drainBy.Store(drainBy.UnixNano())
	_ = s.udp.SetReadDeadline(s.drainDeadline())
	for c := range s.active {
		_ = c.SetReadDeadline(s.drainDeadline())
	}
	s.mu.Unlock()

	done := make(chan struct{})
	go func() {
		s.readers.Wait()
		close(s.queue)
		s.batcher.Wait()
		close(done)
	}()
	var err error
	select {
	case <-done:
	case <-ctx.Done():
		close(s.abort)
		s.cancel()
		s.mu.Lock()
		for c := range s.active {
			_ = c.Close() // unblocks a reader waiting on the queue's sender side
		}
		s.mu.Unlock()
		<-done
		err = fmt.Errorf("shut down syslog server: %w", ctx.Err())
	}
	s.cancel()
	s.logger.Info("syslog receiver stopped")
	return err
}

// drainDeadline is the read deadline while Shutdown drains: drainIdle from
// now, but no later than drainBy.
func (s *Server) drainDeadline() time.Time {
	d := time.Now().Add(drainIdle)
	if by := time.Unix(0, s.drainBy.Load()); by.Before(d) {
		return by
	}
	return d
}

func (s *Server) serveUDP() {
	buf := make([]byte, maxDatagram)
	for {
		n, peer, err := s.udp.ReadFrom(buf)
		if err != nil {
			if errors.Is(err, net.ErrClosed) || s.drainBy.Load() != 0 {
				_ = s.udp.Close() // drained; nothing else reads it
				return
			}
			s.logger.Debug("read syslog datagram", "err", err)
			continue
		}
		if s.drainBy.Load() != 0 {
			_ = s.udp.SetReadDeadline(s.drainDeadline())
		}
		s.recv.WithLabelValues("udp").Inc()
		msg := trimFrame(buf[:n])
		if len(msg) == 0 {
			continue
		}
		rec, ok := s.record(msg, false, peer)
		if !ok {
			continue
		}
		select {
		case s.queue <- rec:
		default:
			s.metrics.Reject(protocol, logmetrics.ReasonQueueFull, 1)
		}
	}
}

func (s *Server) serveTCP() {
	for {
		c, err := s.tcp.Accept()
		if err != nil {
			if errors.Is(err, net.ErrClosed) {
				return
			}
			var ne net.Error
			if errors.As(err, &ne) && ne.Timeout() {
				continue
			}
			s.logger.Warn("accept syslog connection", "err", err)
			// Back off on errors such as EMFILE rather than spin.
			time.Sleep(50 * time.Millisecond)
			continue
		}
		s.mu.Lock()
		if s.stopped || len(s.active) >= s.opts.MaxConnections {
			s.mu.Unlock()
			s.metrics.Reject(protocol, logmetrics.ReasonTooManyClients, 1)
			_ = c.Close() // refused; nothing was read
			continue
		}
		s.active[c] = struct{}{}
		s.readers.Add(1)
		s.mu.Unlock()
		s.conns.Inc()
		go func() {
			defer s.readers.Done()
			s.serveConn(c)
		}()
	}
}

func (s *Server) serveConn(c net.Conn) {
	defer func() {
		s.mu.Lock()
		delete(s.active, c)
		s.mu.Unlock()
		_ = c.Close() // the connection is done either way
		s.conns.Dec()
	}()
	// Frames are read up to the line limit plus room for the header.
	fr := newFrameReader(c, s.opts.MaxLineBytes+4096)
	for {
		_ = c.SetReadDeadline(time.Now().Add(s.opts.IdleTimeout))
		// Shutdown stores drainBy before it sets the connections' deadlines,
		// so either it overrode the deadline above or this sees drainBy.
		if s.drainBy.Load() != 0 {
			_ = c.SetReadDeadline(s.drainDeadline())
		}
		frame, cut, err := fr.next()
		if err != nil {
			if !errors.Is(err, net.ErrClosed) && !errors.Is(err, io.EOF) {
				s.logger.Debug("read syslog connection", "err", err, "peer", c.RemoteAddr().String())
			}
			return
		}
		if len(frame) == 0 {
			continue
		}
		s.recv.WithLabelValues("tcp").Inc()
		rec, ok := s.record(frame, cut, c.RemoteAddr())
		if !ok {
			continue
		}
		select {
		case s.queue <- rec:
		case <-s.abort:
			s.metrics.Reject(protocol, logmetrics.ReasonQueueFull, 1)
		}
	}
}

// record parses one message into a record; false means it was rejected
// (and counted).
func (s *Server) record(msg []byte, cut bool, peer net.Addr) (event.Record, bool) {
	now := s.opts.Now()
	m, err := Parse(msg, now)
	if err != nil {
		s.metrics.Reject(protocol, logmetrics.ReasonMalformed, 1)
		return event.Record{}, false
	}
	if m.Hostname == "" {
		m.Hostname = peerHost(peer)
	}
	rec := m.Record(now)
	if cut {
		// The reader dropped the frame's tail: mark the text as incomplete
		// even when what is left fits.
		rec.Body = logmetrics.Truncate(rec.Body, s.opts.MaxLineBytes)
		s.metrics.Truncated(protocol)
	}
	rec.Body = s.metrics.Line(protocol, rec.Body, s.opts.MaxLineBytes)
	for i := range rec.Attrs {
		rec.Attrs[i].Value = s.metrics.Line(protocol, rec.Attrs[i].Value, s.opts.MaxLineBytes)
	}
	return rec, true
}

func peerHost(a net.Addr) string {
	if a == nil {
		return ""
	}
	host, _, err := net.SplitHostPort(a.String())
	if err != nil {
		return a.String()
	}
	return host
}

// batch collects queued records and flushes them by size and by time until
// the queue is closed, then flushes what is left.
func (s *Server) batch() {
	t := time.NewTicker(s.opts.FlushInterval)
	defer t.Stop()
	batch := make([]event.Record, 0, s.opts.BatchSize)
	flush := func() {
		if len(batch) == 0 {
			return
		}
		if err := s.next.Consume(s.flushCtx, batch); err != nil {
			_, reason := logmetrics.Status(err)
			s.metrics.Reject(protocol, reason, len(batch))
			s.logger.Warn("store syslog batch", "err", err, "records", len(batch))
		} else {
			s.metrics.Accept(protocol, batch)
		}
		clear(batch) // drop references to the records' strings
		batch = batch[:0]
	}
	for {
		select {
		case rec, ok := <-s.queue:
			if !ok {
				flush()
				return
			}
			batch = append(batch, rec)
			if len(batch) >= s.opts.BatchSize {
				flush()
			}
		case <-t.C:
			flush()
		}
	}
}
