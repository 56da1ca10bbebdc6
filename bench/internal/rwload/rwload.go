// Package rwload drives a remote write receiver at full speed with synthetic series and
// reports what it accepted.
package rwload

import (
	"context"
	"errors"
	"log/slog"
	"runtime"
	"sync"
	"time"

	"github.com/lookout-dev/lookout/bench/internal/loopback"
	"github.com/lookout-dev/lookout/bench/internal/procstat"
	"github.com/lookout-dev/lookout/bench/internal/rwencode"
	"github.com/lookout-dev/lookout/bench/internal/seriesgen"
)

// Config is one load run.
type Config struct {
	URL         string // remote write endpoint; must be a loopback address
	Protocol    rwencode.Protocol
	Series      int
	Metrics     int
	Seed        uint64
	Rounds      int           // samples per series; 0 means until Duration elapses
	Duration    time.Duration // wall-clock cap; 0 means none (then Rounds must be set)
	Interval    time.Duration // simulated scrape interval between rounds
	Align       time.Duration // if set, the first timestamp is a multiple of Align
	Backfill    time.Duration // with Rounds == 0: how far before now the first timestamp lies
	Batch       int           // samples per request
	Concurrency int           // parallel senders
	MaxSkew     int           // how many rounds the fastest sender may run ahead of the slowest
	PreEncode   bool          // encode every request before the clock starts (needs Rounds)
	Bearer      string
	Timeout     time.Duration // per request
	MaxRetries  int           // per request, on 429, 5xx and transport errors
	ServerPID   int           // if set, report the CPU time this process used while sending
}

// Validate reports the first setting that cannot work.
func (c *Config) Validate() error {
	switch {
	case c.URL == "":
		return errors.New("-url is required")
	case c.Series <= 0:
		return errors.New("-series must be positive")
	case c.Batch <= 0 || c.Concurrency <= 0:
		return errors.New("-batch and -concurrency must be positive")
	case c.Interval <= 0:
		return errors.New("-interval must be positive")
	case c.Rounds < 0:
		return errors.New("-samples-per-series must not be negative")
	case c.Rounds == 0 && c.Duration <= 0:
		return errors.New("set -samples-per-series or -duration so that the load stops by itself")
	case c.Rounds == 0 && c.PreEncode:
		return errors.New("-preencode needs -samples-per-series")
	}
	return loopback.Check(c.URL)
}

// Summary is what a run reports, as one JSON object.
type Summary struct {
	URL              string         `json:"url"`
	Protocol         string         `json:"protocol"`
	Series           int            `json:"series"`
	MetricNames      int            `json:"metric_names"`
	Targets          int            `json:"targets"`
	Batch            int            `json:"batch"`
	Concurrency      int            `json:"concurrency"`
	IntervalSeconds  float64        `json:"interval_seconds"`
	RoundsPlanned    int            `json:"rounds_planned"`
	RoundsCompleted  int            `json:"rounds_completed"`
	SamplesSent      int64          `json:"samples_sent"` // acknowledged with a 2xx
	SamplesFailed    int64          `json:"samples_failed"`
	Requests         int64          `json:"requests"` // acknowledged with a 2xx
	Attempts         int64          `json:"attempts"`
	Retries          map[string]int `json:"retries_by_status"`
	Errors           map[string]int `json:"errors_by_status"`
	FirstError       string         `json:"first_error,omitempty"`
	BytesSent        int64          `json:"bytes_sent"`
	WrittenReported  int64          `json:"samples_written_reported,omitempty"` // RW 2.0 response headers
	PreEncodeSeconds float64        `json:"preencode_seconds"`
	WallSeconds      float64        `json:"wall_seconds"`
	SamplesPerSecond float64        `json:"samples_per_second"`
	FirstTimestampMs int64          `json:"first_timestamp_ms"`
	LastTimestampMs  int64          `json:"last_timestamp_ms"`
	StoppedBy        string         `json:"stopped_by"`
	// CPU time while sending: the server's (with -server-pid), the generator's own, the whole
	// machine's busy time, and what other processes used (machine − server − generator).
	ServerCPUSeconds     *float64 `json:"server_cpu_seconds,omitempty"`
	OwnCPUSeconds        float64  `json:"own_cpu_seconds"`
	MachineCPUSeconds    float64  `json:"machine_busy_cpu_seconds"`
	BackgroundCPUSeconds *float64 `json:"background_cpu_seconds,omitempty"`
}

// Run sends the configured load and returns its summary. It stops when every round is sent,
// when Duration elapses, or when ctx is cancelled.
func Run(ctx context.Context, cfg Config, logger *slog.Logger) (*Summary, error) {
	if err := cfg.Validate(); err != nil {
		return nil, err
	}
	set, err := seriesgen.Build(seriesgen.Options{Series: cfg.Series, Metrics: cfg.Metrics, Seed: cfg.Seed})
	if err != nil {
		return nil, err
	}
	start := firstTimestamp(time.Now(), cfg)
	sum := &Summary{
		URL: cfg.URL, Protocol: string(cfg.Protocol), Series: len(set.Series), MetricNames: set.MetricNames,
		Targets: set.Targets, Batch: cfg.Batch, Concurrency: cfg.Concurrency,
		IntervalSeconds: cfg.Interval.Seconds(), RoundsPlanned: cfg.Rounds,
		Retries: map[string]int{}, Errors: map[string]int{}, FirstTimestampMs: start,
	}

	// Batches are consecutive slices of the shuffled series; batch b always goes through sender
	// b % Concurrency, so each series' samples reach the receiver in timestamp order, as with
	// the per-series sharding of a Prometheus remote write queue.
	senders := make([]*sender, cfg.Concurrency)
	for w := range senders {
		senders[w] = &sender{id: w}
	}
	for b, lo := 0, 0; lo < len(set.Series); b, lo = b+1, lo+cfg.Batch {
		hi := min(lo+cfg.Batch, len(set.Series))
		s := senders[b%cfg.Concurrency]
		s.encoders = append(s.encoders, rwencode.New(cfg.Protocol, set.Series[lo:hi]))
	}
	senders = trimIdle(senders)

	if cfg.PreEncode {
		t0 := time.Now()
		if err := preEncode(ctx, senders, cfg, start); err != nil {
			return nil, err
		}
		sum.PreEncodeSeconds = time.Since(t0).Seconds()
		logger.Info("pre-encoded requests", "seconds", sum.PreEncodeSeconds)
	}

	cl := newClient(cfg)
	gate := newRoundGate(len(senders), cfg.MaxSkew)
	runCtx := ctx
	if cfg.Duration > 0 {
		var cancel context.CancelFunc
		runCtx, cancel = context.WithTimeout(ctx, cfg.Duration)
		defer cancel()
	}

	u0, err := procstat.Snapshot(cfg.ServerPID)
	if err != nil {
		return nil, err
	}
	t0 := time.Now()
	var wg sync.WaitGroup
	for _, s := range senders {
		wg.Go(func() { s.run(runCtx, cfg, cl, gate, start) })
	}
	wg.Wait()
	sum.WallSeconds = time.Since(t0).Seconds()
	u1, err := procstat.Snapshot(cfg.ServerPID)
	if err != nil {
		return nil, err
	}
	used := u1.Sub(u0)
	sum.OwnCPUSeconds, sum.MachineCPUSeconds = used.Self, used.Machine
	if cfg.ServerPID > 0 {
		sum.ServerCPUSeconds = &used.Server
		bg := used.Background()
		sum.BackgroundCPUSeconds = &bg
	}

	cl.fill(sum)
	sum.RoundsCompleted = gate.completed()
	if sum.RoundsCompleted > 0 {
		sum.LastTimestampMs = start + int64(sum.RoundsCompleted-1)*cfg.Interval.Milliseconds()
	}
	sum.SamplesPerSecond = float64(sum.SamplesSent) / sum.WallSeconds
	switch {
	case ctx.Err() != nil:
		sum.StoppedBy = "cancelled"
	case cfg.Rounds > 0 && sum.RoundsCompleted == cfg.Rounds:
		sum.StoppedBy = "complete"
	case runCtx.Err() != nil:
		sum.StoppedBy = "duration"
	default:
		sum.StoppedBy = "clock" // the next round would have been too far in the future
	}
	return sum, nil
}

// maxAhead is how far past the wall clock an unbounded run may stamp samples. Prometheus
// rejects samples more than 10 minutes ahead.
const maxAhead = 5 * time.Minute

// firstTimestamp returns the first round's timestamp in milliseconds: with a fixed number of
// rounds the last one lands at now (or, with Align, at the latest time ≤ now that keeps the
// first timestamp aligned); without, the first lands Backfill before now.
func firstTimestamp(now time.Time, cfg Config) int64 {
	nowMs := now.UnixMilli()
	var first int64
	if cfg.Rounds > 0 {
		first = nowMs - int64(cfg.Rounds-1)*cfg.Interval.Milliseconds()
	} else {
		first = nowMs - cfg.Backfill.Milliseconds()
	}
	if a := cfg.Align.Milliseconds(); a > 0 {
		first -= ((first % a) + a) % a
	}
	return first
}

func trimIdle(ss []*sender) []*sender {
	out := ss[:0]
	for _, s := range ss {
		if len(s.encoders) > 0 {
			out = append(out, s)
		}
	}
	for i, s := range out {
		s.id = i
	}
	return out
}

// preEncode fills every sender's requests for every round, using all CPUs.
func preEncode(ctx context.Context, senders []*sender, cfg Config, start int64) error {
	type job struct {
		s *sender
		e int
	}
	jobs := make(chan job)
	errc := make(chan error, 1)
	var wg sync.WaitGroup
	for range runtime.GOMAXPROCS(0) {
		wg.Go(func() {
			var buf []byte
			for j := range jobs {
				enc := j.s.encoders[j.e]
				for r := range cfg.Rounds {
					out, err := enc.Encode(buf, r, start+int64(r)*cfg.Interval.Milliseconds())
					if err != nil {
						select {
						case errc <- err:
						default:
						}
						return
					}
					buf = out
					j.s.pre[r][j.e] = append([]byte(nil), out...)
				}
			}
		})
	}
	for _, s := range senders {
		s.pre = make([][][]byte, cfg.Rounds)
		for r := range s.pre {
			s.pre[r] = make([][]byte, len(s.encoders))
		}
	}
	var err error
feed:
	for _, s := range senders {
		for e := range s.encoders {
			select {
			case jobs <- job{s, e}:
			case err = <-errc:
				break feed
			case <-ctx.Done():
				err = ctx.Err()
				break feed
			}
		}
	}
	close(jobs)
	wg.Wait()
	if err == nil {
		select {
		case err = <-errc:
		default:
		}
	}
	return err
}

// sender owns a fixed set of batches and sends them round after round.
type sender struct {
	id       int
	encoders []rwencode.Encoder
	pre      [][][]byte // [round][batch], when pre-encoded
}

func (s *sender) run(ctx context.Context, cfg Config, cl *client, gate *roundGate, start int64) {
	var buf []byte
	for r := 0; cfg.Rounds == 0 || r < cfg.Rounds; r++ {
		ts := start + int64(r)*cfg.Interval.Milliseconds()
		if cfg.Rounds == 0 && time.UnixMilli(ts).After(time.Now().Add(maxAhead)) {
			return
		}
		if err := gate.wait(ctx, r); err != nil {
			return
		}
		for e, enc := range s.encoders {
			var body []byte
			if s.pre != nil {
				body = s.pre[r][e]
			} else {
				var err error
				if body, err = enc.Encode(buf, r, ts); err != nil {
					cl.fail("encode", enc.Samples(), err)
					continue
				}
				buf = body
			}
			if !cl.send(ctx, body, enc.Samples()) {
				return
			}
		}
		gate.done(s.id, r)
	}
}

// roundGate keeps senders within MaxSkew rounds of each other, so that the receiver never sees
// one series far ahead of another (a TSDB head only accepts samples within about an hour of
// its newest one).
type roundGate struct {
	mu      sync.Mutex
	cond    *sync.Cond
	next    []int // per sender: the first round not yet completed
	maxSkew int
}

func newRoundGate(n, maxSkew int) *roundGate {
	g := &roundGate{next: make([]int, n), maxSkew: max(maxSkew, 1)}
	g.cond = sync.NewCond(&g.mu)
	return g
}

func (g *roundGate) minNext() int {
	m := g.next[0]
	for _, n := range g.next[1:] {
		m = min(m, n)
	}
	return m
}

func (g *roundGate) wait(ctx context.Context, r int) error {
	stop := context.AfterFunc(ctx, func() {
		g.mu.Lock()
		g.cond.Broadcast()
		g.mu.Unlock()
	})
	defer stop()
	g.mu.Lock()
	defer g.mu.Unlock()
	for r-g.minNext() >= g.maxSkew {
		if ctx.Err() != nil {
			return ctx.Err()
		}
		g.cond.Wait()
	}
	return ctx.Err()
}

func (g *roundGate) done(id, r int) {
	g.mu.Lock()
	g.next[id] = r + 1
	g.cond.Broadcast()
	g.mu.Unlock()
}

// completed is the number of rounds every sender finished.
func (g *roundGate) completed() int {
	g.mu.Lock()
	defer g.mu.Unlock()
	return g.minNext()
}
