package seriesgen

import "math"

// model is how a series' value evolves from round to round. Every model is a closed form of
// (seed, round), so that any round can be encoded in any order, and counters never decrease.
type model uint8

const (
	modelConst        model = iota // always 1, like up
	modelCounter                   // integer events counter
	modelCPU                       // seconds counter with 0.01 resolution
	modelBytesCounter              // large integer counter
	modelGauge                     // float that drifts around a centre
	modelIntGauge                  // integer that drifts around a centre
	modelBytesGauge                // byte count in 4 KiB pages
	modelBucket                    // cumulative histogram bucket: floor(events × CDF(le))
	modelHistSum                   // histogram sum: events × mean
	modelHistCount                 // histogram count: events
)

var inf = math.Inf(1)

// Value returns the series' value at scrape round r (r ≥ 0).
func (s *Series) Value(r int) float64 {
	switch s.model {
	case modelConst:
		return 1
	case modelCounter:
		return counter(s.seed, r, 1, 1000)
	case modelCPU:
		step := logUniform(s.seed, 3, 0.01, 30) // CPU seconds used per round
		base := float64(hash(s.seed, 4<<40) % 1_000_000)
		v := base + step*(float64(r)+0.5*unit(s.seed, uint64(r)))
		return math.Round(v*100) / 100
	case modelBytesCounter:
		return counter(s.seed, r, 1e3, 1e8)
	case modelGauge:
		return math.Round(wave(s.seed, r, 0.5, 500)*1000) / 1000
	case modelIntGauge:
		return math.Round(wave(s.seed, r, 10, 2000))
	case modelBytesGauge:
		return math.Floor(wave(s.seed, r, 64<<20, 8<<30)/4096) * 4096
	case modelBucket:
		n := counter(s.seed, r, 1, 1000)
		if math.IsInf(s.param, 1) {
			return n
		}
		return math.Floor(n * (1 - math.Exp(-s.param/latencyScale(s.seed))))
	case modelHistSum:
		return counter(s.seed, r, 1, 1000) * latencyScale(s.seed)
	case modelHistCount:
		return counter(s.seed, r, 1, 1000)
	}
	return 0
}

// counter is base + r·rate + jitter(r) with 0 ≤ jitter < rate, which never decreases.
func counter(seed uint64, r int, lo, hi float64) float64 {
	rate := math.Floor(logUniform(seed, 1, lo, hi))
	base := float64(hash(seed, 2<<40) % 10_000_000)
	jitter := math.Floor(unit(seed, uint64(r)) * rate)
	return base + float64(r)*rate + jitter
}

// latencyScale is the mean of the exponential latency distribution of one histogram.
func latencyScale(seed uint64) float64 { return logUniform(seed, 5, 0.01, 0.8) }

// wave drifts around a centre drawn from [lo, hi): a slow sine plus 2% noise.
func wave(seed uint64, r int, lo, hi float64) float64 {
	centre := logUniform(seed, 6, lo, hi)
	period := 20 + float64(hash(seed, 7<<40)%200)
	phase := unit(seed, 8<<40) * 2 * math.Pi
	noise := unit(seed, uint64(r)+1<<32) - 0.5
	return centre * (1 + 0.2*math.Sin(2*math.Pi*float64(r)/period+phase) + 0.04*noise)
}

func logUniform(seed, salt uint64, lo, hi float64) float64 {
	return lo * math.Exp(unit(seed, salt<<40)*math.Log(hi/lo))
}

// unit returns a uniform value in [0, 1).
func unit(seed, salt uint64) float64 { return float64(hash(seed, salt)>>11) / (1 << 53) }

func hash(seed, salt uint64) uint64 { return splitmix(seed ^ splitmix(salt+0x9e3779b97f4a7c15)) }

func mix(a, b, c uint64) uint64 { return splitmix(a ^ splitmix(b^splitmix(c))) }

func splitmix(x uint64) uint64 {
	x += 0x9e3779b97f4a7c15
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9
	x = (x ^ (x >> 27)) * 0x94d049bb133111eb
	return x ^ (x >> 31)
}

func hashString(s string) uint64 {
	h := uint64(14695981039346656037)
	for i := 0; i < len(s); i++ {
		h ^= uint64(s[i])
		h *= 1099511628211
	}
	return h
}
