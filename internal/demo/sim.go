package demo

import (
	"math"
	"math/rand/v2"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/promauto"
)

// appVersion is the version the simulated application reports in app_info.
const appVersion = "2.4.1"

// cacheName is the value of the cache label on the cache counters.
const cacheName = "redis"

// Traffic shape. The "day" is compressed so that the load cycle is visible
// within a demo session.
const (
	baseRate     = 35.0             // requests per second at the mean of the cycle
	dayLength    = 20 * time.Minute // period of the load cycle
	dayAmplitude = 0.4              // relative swing of the load cycle
	walkRevert   = 1.0 / 120        // per second pull of the rate walk back to zero
	walkVol      = 0.04             // volatility of the rate walk in log space
	spikeChance  = 0.003            // share of requests hit by a latency spike
	dbPoolSize   = 100
	dbIdle       = 3.0 // connections held by background work
)

// route describes one endpoint of the simulated CRM application.
type route struct {
	method, path string
	share        float64 // fraction of all requests
	median       float64 // median latency, seconds
	spread       float64 // sigma of the log-normal latency
	okStatus     string
	clientStatus string  // 4xx status returned for bad input
	clientErr    float64 // probability of clientStatus
	serverErr    float64 // baseline probability of a 5xx
	exposure     float64 // how strongly error bursts affect the route
	cacheLookups int     // cache reads per successful request
	dbHold       float64 // share of the latency spent holding a DB connection
}

// routes is the simulated traffic mix; the shares sum to one. It is a
// read-only table. Columns: method, path, share, median, spread, okStatus,
// clientStatus, clientErr, serverErr, exposure, cacheLookups, dbHold.
var routes = [...]route{
	{"GET", "/api/contacts", 0.30, 0.045, 0.5, "200", "404", 0.020, 0.008, 1, 2, 0.6},
	{"POST", "/api/contacts", 0.06, 0.090, 0.5, "201", "400", 0.040, 0.012, 1, 1, 0.7},
	{"GET", "/api/deals", 0.20, 0.060, 0.5, "200", "404", 0.015, 0.008, 1, 2, 0.6},
	{"POST", "/api/deals", 0.05, 0.120, 0.5, "201", "400", 0.030, 0.012, 1, 1, 0.7},
	{"POST", "/api/auth/login", 0.08, 0.180, 0.3, "200", "400", 0.070, 0.010, 1, 1, 0.3},
	{"GET", "/api/reports/export", 0.02, 1.800, 0.6, "200", "400", 0.010, 0.040, 1, 0, 0.9},
	{"GET", "/health", 0.29, 0.002, 0.3, "200", "", 0, 0.001, 0.3, 0, 0},
}

// Outcome slots per route, in the order routeMetrics.byOutcome holds them.
const (
	outOK = iota
	outClient
	outInternal // 500
	outUnavailable
	numOutcomes
)

// routeMetrics holds a route's pre-resolved metric children, so that every
// series exists from the first scrape and the hot loop skips label lookups.
type routeMetrics struct {
	duration  prometheus.Observer
	byOutcome [numOutcomes]prometheus.Counter // nil where a route never answers so
}

// simulation is the traffic model. It is not safe for concurrent use;
// Service serialises access to it.
type simulation struct {
	rng   *rand.Rand
	clock time.Time // simulated wall time; zero until the first step
	cum   []float64 // cumulative route shares for weighted sampling
	per   []routeMetrics

	rateWalk  float64       // log-space offset of the request rate
	cacheWalk float64       // drives the cache hit ratio
	dbActive  float64       // smoothed connection count
	elapsed   time.Duration // simulated time since the first step
	burstAt   time.Duration // start of the next error burst
	burstEnd  time.Duration // end of the current or next error burst
	burstErr  float64       // extra 5xx probability during the burst

	cacheHits, cacheMisses prometheus.Counter
	dbGauge                prometheus.Gauge

	logs []string // JSON log lines not yet taken, at most maxLogBuffer
}

func newSimulation(reg prometheus.Registerer, seed int64) *simulation {
	f := promauto.With(reg)
	requests := f.NewCounterVec(prometheus.CounterOpts{
		Name: "http_requests_total",
		Help: "Total HTTP requests handled.",
	}, []string{"method", "endpoint", "status"})
	duration := f.NewHistogramVec(prometheus.HistogramOpts{
		Name:                            "http_request_duration_seconds",
		Help:                            "HTTP request latency.",
		Buckets:                         []float64{.005, .01, .025, .05, .075, .1, .25, .5, .75, 1, 2.5, 5, 7.5, 10},
		NativeHistogramBucketFactor:     1.1,
		NativeHistogramMaxBucketNumber:  160,
		NativeHistogramMinResetDuration: time.Hour,
	}, []string{"method", "endpoint"})
	hits := f.NewCounterVec(prometheus.CounterOpts{
		Name: "cache_hits_total",
		Help: "Cache lookups that found the key.",
	}, []string{"cache_type"})
	misses := f.NewCounterVec(prometheus.CounterOpts{
		Name: "cache_misses_total",
		Help: "Cache lookups that missed.",
	}, []string{"cache_type"})
	info := f.NewGaugeVec(prometheus.GaugeOpts{
		Name: "app_info",
		Help: "Build information of the application; always 1.",
	}, []string{"version"})
	info.WithLabelValues(appVersion).Set(1)
	f.NewGauge(prometheus.GaugeOpts{
		Name: "db_connections_max",
		Help: "Size of the database connection pool.",
	}).Set(dbPoolSize)

	rng := rand.New(rand.NewPCG(uint64(seed), uint64(seed)^0x9e3779b97f4a7c15))
	s := &simulation{
		rng:         rng,
		cacheHits:   hits.WithLabelValues(cacheName),
		cacheMisses: misses.WithLabelValues(cacheName),
		dbGauge: f.NewGauge(prometheus.GaugeOpts{
			Name: "db_connections_active",
			Help: "Database connections currently in use.",
		}),
		dbActive: dbIdle,
	}
	var total float64
	for _, r := range routes {
		total += r.share
		s.cum = append(s.cum, total)
		rm := routeMetrics{duration: duration.WithLabelValues(r.method, r.path)}
		rm.byOutcome[outOK] = requests.WithLabelValues(r.method, r.path, r.okStatus)
		if r.clientStatus != "" {
			rm.byOutcome[outClient] = requests.WithLabelValues(r.method, r.path, r.clientStatus)
		}
		rm.byOutcome[outInternal] = requests.WithLabelValues(r.method, r.path, "500")
		rm.byOutcome[outUnavailable] = requests.WithLabelValues(r.method, r.path, "503")
		s.per = append(s.per, rm)
	}
	s.dbGauge.Set(dbIdle)
	s.scheduleBurst()
	return s
}

// scheduleBurst picks the next error burst: it starts 3 to 8 minutes after
// the previous one ended and lasts 20 to 60 seconds.
func (s *simulation) scheduleBurst() {
	s.burstAt = s.burstEnd + s.uniformDuration(3*time.Minute, 8*time.Minute)
	s.burstEnd = s.burstAt + s.uniformDuration(20*time.Second, 60*time.Second)
	s.burstErr = 0.06 + 0.14*s.rng.Float64()
}

func (s *simulation) uniformDuration(lo, hi time.Duration) time.Duration {
	return lo + time.Duration(s.rng.Int64N(int64(hi-lo)))
}

// advance simulates one slice of traffic of length d.
func (s *simulation) advance(d time.Duration) {
	dt := d.Seconds()
	s.clock = s.clock.Add(d)
	s.elapsed += d
	if s.elapsed >= s.burstEnd {
		s.scheduleBurst()
	}
	inBurst := s.elapsed >= s.burstAt

	// Mean-reverting random walks for the request rate and cache ratio.
	noise := math.Sqrt(dt)
	s.rateWalk += -walkRevert*s.rateWalk*dt + walkVol*noise*s.rng.NormFloat64()
	s.cacheWalk += -walkRevert*s.cacheWalk*dt + 0.05*noise*s.rng.NormFloat64()
	phase := float64(s.clock.UnixNano()%int64(dayLength)) / float64(dayLength)
	rate := baseRate * (1 + dayAmplitude*math.Sin(2*math.Pi*phase)) * math.Exp(s.rateWalk)
	hitRatio := 0.90 + 0.05*math.Tanh(s.cacheWalk)

	slow := 1.0
	if inBurst {
		// Failures come with queueing: everything gets slower.
		slow = 2.5
	}

	var counts [len(routes)][numOutcomes]float64
	var held float64 // connection-seconds used in this slice
	lookups := 0
	for range s.poisson(rate * dt) {
		i := s.pickRoute()
		r := &routes[i]
		lat := r.median * math.Exp(r.spread*s.rng.NormFloat64()) * slow
		if s.rng.Float64() < spikeChance {
			lat *= 4 + 11*s.rng.Float64()
		}
		out := s.outcome(r, inBurst)
		if out == outOK {
			lookups += r.cacheLookups
		}
		counts[i][out]++
		s.logRequest(r, out, lat)
		held += lat * r.dbHold
		s.per[i].duration.Observe(lat)
	}
	for i := range counts {
		for o, n := range counts[i] {
			if n > 0 {
				s.per[i].byOutcome[o].Add(n)
			}
		}
	}

	hits := 0
	for range lookups {
		if s.rng.Float64() < hitRatio {
			hits++
		}
	}
	s.cacheHits.Add(float64(hits))
	s.cacheMisses.Add(float64(lookups - hits))

	// Little's law: connections in use = connection-seconds / seconds.
	target := dbIdle + held/dt + s.rng.NormFloat64()
	s.dbActive += (target - s.dbActive) * min(1, dt)
	s.dbGauge.Set(math.Round(min(max(s.dbActive, 0), dbPoolSize)))
}

// outcome draws the response class of one request to r.
func (s *simulation) outcome(r *route, inBurst bool) int {
	serverErr := r.serverErr
	unavailable := 0.3 // share of 5xx that are 503 rather than 500
	if inBurst {
		serverErr += s.burstErr * r.exposure
		unavailable = 0.8
	}
	u := s.rng.Float64()
	switch {
	case u < serverErr:
		if s.rng.Float64() < unavailable {
			return outUnavailable
		}
		return outInternal
	case u < serverErr+r.clientErr:
		return outClient
	default:
		return outOK
	}
}

// pickRoute samples a route index according to the traffic shares.
func (s *simulation) pickRoute() int {
	u := s.rng.Float64() * s.cum[len(s.cum)-1]
	for i, c := range s.cum {
		if u < c {
			return i
		}
	}
	return len(s.cum) - 1
}

// poisson draws the number of requests arriving in a slice with mean
// lambda. Knuth's method is exact and cheap for the small means a slice
// has; larger means use the normal approximation.
func (s *simulation) poisson(lambda float64) int {
	if lambda <= 0 {
		return 0
	}
	if lambda > 30 {
		return max(0, int(math.Round(lambda+math.Sqrt(lambda)*s.rng.NormFloat64())))
	}
	limit, p, n := math.Exp(-lambda), 1.0, 0
	for {
		p *= s.rng.Float64()
		if p <= limit {
			return n
		}
		n++
	}
}
