package demo

import (
	"context"
	"errors"
	"fmt"
	"log/slog"
	"net"
	"net/http"
	"sync"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promhttp"
	dto "github.com/prometheus/client_model/go"
)

// DefaultListen is the address the demo service binds when Options.Listen
// is empty: loopback only, on a port chosen by the kernel.
const DefaultListen = "127.0.0.1:0"

// tick is how often the generator advances the simulation, and also the
// largest slice a single simulation step covers.
const tick = 250 * time.Millisecond

// maxCatchUp bounds how much simulated time one tick may add after the
// process was suspended, so a laptop waking up does not replay hours of
// traffic in one go.
const maxCatchUp = 10 * time.Second

// Options configures a Service.
type Options struct {
	// Logger receives lifecycle events. Nil discards them.
	Logger *slog.Logger
	// Listen is the host:port of the /metrics endpoint. Empty means
	// DefaultListen.
	Listen string
	// Seed makes the simulated traffic reproducible.
	Seed int64
	// Now is the clock the generator uses to decide how much traffic to
	// simulate on each tick. Nil means time.Now. A clock that never moves
	// produces no background traffic, leaving Step as the only driver.
	Now func() time.Time
	// LogsURL, when set, receives the simulated service's JSON log lines
	// as NDJSON every tick (Lookout's /api/v1/logs).
	LogsURL string
	_       struct{}
}

// Service is a simulated web service exposing Prometheus metrics.
//
// Its methods are safe for concurrent use.
type Service struct {
	logger  *slog.Logger
	listen  string
	logsURL string
	now     func() time.Time
	reg     *prometheus.Registry

	// mu guards the simulation and makes every scrape see whole steps.
	mu  sync.Mutex
	sim *simulation

	// lifeMu guards the lifecycle fields below.
	lifeMu  sync.Mutex
	started bool
	stopped bool
	addr    string
	srv     *http.Server
	cancel  context.CancelFunc
	wg      sync.WaitGroup
}

// New returns a Service configured by opts. It registers the metrics on a
// private registry but binds nothing and starts no goroutines.
func New(opts Options) *Service {
	logger := opts.Logger
	if logger == nil {
		logger = slog.New(slog.DiscardHandler)
	}
	listen := opts.Listen
	if listen == "" {
		listen = DefaultListen
	}
	now := opts.Now
	if now == nil {
		now = time.Now
	}
	reg := prometheus.NewRegistry()
	return &Service{
		logger:  logger.With("component", "demo"),
		listen:  listen,
		logsURL: opts.LogsURL,
		now:     now,
		reg:     reg,
		sim:     newSimulation(reg, opts.Seed),
	}
}

// Start binds the listener, serves /metrics and starts the traffic
// generator. It returns once the listener is bound. ctx only bounds the
// bind; use Shutdown to stop the service.
func (s *Service) Start(ctx context.Context) error {
	s.lifeMu.Lock()
	defer s.lifeMu.Unlock()
	if s.started {
		return errors.New("start demo service: already started")
	}

	var lc net.ListenConfig
	ln, err := lc.Listen(ctx, "tcp", s.listen)
	if err != nil {
		return fmt.Errorf("listen on %s: %w", s.listen, err)
	}
	s.started = true
	s.addr = ln.Addr().String()

	s.srv = &http.Server{
		Handler:           s.handler(),
		ReadHeaderTimeout: 5 * time.Second,
		ReadTimeout:       10 * time.Second,
		WriteTimeout:      30 * time.Second,
		IdleTimeout:       time.Minute,
	}

	runCtx, cancel := context.WithCancel(context.Background())
	s.cancel = cancel
	s.wg.Go(func() {
		if err := s.srv.Serve(ln); err != nil && !errors.Is(err, http.ErrServerClosed) {
			s.logger.Error("demo metrics server stopped", "err", err)
		}
	})
	s.wg.Go(func() { s.run(runCtx) })

	s.logger.Info("demo service started", "addr", s.addr)
	return nil
}

// Addr returns the host:port of the /metrics endpoint, or "" before Start.
func (s *Service) Addr() string {
	s.lifeMu.Lock()
	defer s.lifeMu.Unlock()
	return s.addr
}

// Shutdown stops the generator and the HTTP server and waits for their
// goroutines. It is idempotent and a no-op before Start. If ctx ends before
// open connections drain, they are closed and ctx's error is returned.
func (s *Service) Shutdown(ctx context.Context) error {
	s.lifeMu.Lock()
	defer s.lifeMu.Unlock()
	if !s.started || s.stopped {
		return nil
	}
	s.stopped = true

	s.cancel()
	err := s.srv.Shutdown(ctx)
	if err != nil {
		// Graceful drain ran out of time; drop what is left so that the
		// serve goroutine can return.
		_ = s.srv.Close() // the Shutdown error is the one worth reporting
		err = fmt.Errorf("shut down demo metrics server: %w", err)
	}
	s.wg.Wait()
	s.logger.Info("demo service stopped")
	return err
}

// Step advances the simulation by d of simulated traffic and records the
// resulting metrics. Long durations are simulated in slices of at most
// 250ms, so Step(time.Minute) behaves like 240 generator ticks.
func (s *Service) Step(d time.Duration) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if s.sim.clock.IsZero() {
		s.sim.clock = s.now()
	}
	for d > 0 {
		slice := min(d, tick)
		s.sim.advance(slice)
		d -= slice
	}
}

// run drives Step from a ticker until ctx is cancelled. The amount of
// traffic per tick follows the injected clock, not the ticker, so a late
// tick simulates correspondingly more requests.
func (s *Service) run(ctx context.Context) {
	t := time.NewTicker(tick)
	defer t.Stop()
	last := s.now()
	for {
		select {
		case <-ctx.Done():
			s.logger.Debug("demo traffic generator stopped", "err", ctx.Err())
			return
		case <-t.C:
			now := s.now()
			elapsed := now.Sub(last)
			last = now
			if elapsed > 0 {
				s.Step(min(elapsed, maxCatchUp))
				s.shipLogs(ctx)
			}
		}
	}
}

// handler serves the metrics exposition at /metrics.
func (s *Service) handler() http.Handler {
	mux := http.NewServeMux()
	mux.Handle("GET /metrics", promhttp.HandlerFor(prometheus.GathererFunc(s.gather), promhttp.HandlerOpts{
		ErrorLog:          slog.NewLogLogger(s.logger.Handler(), slog.LevelError),
		EnableOpenMetrics: true,
	}))
	return mux
}

// gather collects the registry under mu so that a scrape never observes a
// step half applied: histogram counts always match the request counters.
func (s *Service) gather() ([]*dto.MetricFamily, error) {
	s.mu.Lock()
	defer s.mu.Unlock()
	return s.reg.Gather()
}
