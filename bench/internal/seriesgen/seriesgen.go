// Package seriesgen builds a deterministic set of synthetic series shaped like what a fleet of
// scraped services exposes (node exporters, HTTP and gRPC services, consumers, databases), and
// gives the value of every series at every scrape round without keeping state.
package seriesgen

import (
	"errors"
	"fmt"
	"math/rand/v2"
	"slices"
	"strings"
)

// Label is one name/value pair. Series labels are sorted by name.
type Label struct {
	Name, Value string
}

// Kind is the metadata type of the family a series belongs to.
type Kind uint8

// Metric family types, as remote write metadata reports them.
const (
	Counter Kind = iota + 1
	Gauge
	Histogram
)

// Series is one synthetic time series.
type Series struct {
	Labels []Label // sorted by name; includes __name__
	Family string  // metric family name, without _bucket/_sum/_count
	Kind   Kind

	model model
	seed  uint64
	param float64 // bucket upper-bound fraction (buckets) or mean (sums)
}

// Name returns the series' metric name.
func (s *Series) Name() string {
	for _, l := range s.Labels {
		if l.Name == "__name__" {
			return l.Value
		}
	}
	return ""
}

// Options selects the size of a Set.
type Options struct {
	// Series is the exact number of series to build.
	Series int
	// Metrics is the number of metric names to aim for. Values below the built-in set trim it;
	// values above add small application-specific families. Zero keeps the built-in set.
	Metrics int
	// Seed makes label order and values reproducible. The same options give the same Set.
	Seed uint64
}

// Set is a built series catalogue.
type Set struct {
	// Series in send order: shuffled, so that a batch mixes targets the way a sharded remote
	// write queue does.
	Series      []Series
	Targets     int // number of distinct job/instance pairs
	MetricNames int // number of distinct __name__ values
}

// Build returns the series catalogue for opts.
func Build(opts Options) (*Set, error) {
	if opts.Series <= 0 {
		return nil, errors.New("seriesgen: Series must be positive")
	}
	if opts.Metrics < 0 {
		return nil, errors.New("seriesgen: Metrics must not be negative")
	}
	jobs := catalogue(opts.Metrics)

	set := &Set{Series: make([]Series, 0, opts.Series)}
	names := map[string]struct{}{}
	var lb labelBuf
	for t := 0; len(set.Series) < opts.Series; t++ {
		j := &jobs[t%len(jobs)]
		target := []Label{
			{"cluster", clusters[t%len(clusters)]},
			{"env", envFor(t)},
			{"instance", fmt.Sprintf("%s-%d.svc.internal:%d", j.name, t/len(jobs), j.port)},
			{"job", j.name},
		}
		set.Targets++
		for _, f := range j.families {
			f.expand(func(name string, model model, param float64, comboSeed uint64, dims []Label) bool {
				ls := lb.build(name, target, dims)
				set.Series = append(set.Series, Series{
					Labels: ls,
					Family: f.name,
					Kind:   f.kind,
					model:  model,
					seed:   mix(opts.Seed, uint64(t), comboSeed),
					param:  param,
				})
				names[name] = struct{}{}
				return len(set.Series) < opts.Series
			})
			if len(set.Series) >= opts.Series {
				break
			}
		}
	}
	set.MetricNames = len(names)

	r := rand.New(rand.NewPCG(opts.Seed, 0x5eed))
	r.Shuffle(len(set.Series), func(i, k int) { set.Series[i], set.Series[k] = set.Series[k], set.Series[i] })
	return set, nil
}

var clusters = []string{"eu-west-1", "us-east-1", "ap-south-1"}

func envFor(target int) string {
	if target%8 == 7 {
		return "staging"
	}
	return "prod"
}

// labelBuf builds sorted label slices out of one large backing array, so a 100k-series set
// does not cost 100k small allocations.
type labelBuf struct{ buf []Label }

func (b *labelBuf) build(name string, target, dims []Label) []Label {
	n := 1 + len(target) + len(dims)
	if cap(b.buf)-len(b.buf) < n {
		b.buf = make([]Label, 0, max(4096, n))
	}
	start := len(b.buf)
	b.buf = append(b.buf, Label{"__name__", name})
	b.buf = append(b.buf, target...)
	b.buf = append(b.buf, dims...)
	ls := b.buf[start:len(b.buf):len(b.buf)]
	slices.SortFunc(ls, func(a, c Label) int { return strings.Compare(a.Name, c.Name) })
	return ls
}

// dim is an extra label dimension of a family.
type dim struct {
	name   string
	values []string
}

type family struct {
	name  string
	kind  Kind
	model model // value model of counters and gauges; histograms use their own
	dims  []dim
}

// leBounds are the classic client_golang default buckets, trimmed.
var leBounds = []float64{0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10}

// names returns how many metric names the family contributes.
func (f *family) names() int {
	if f.kind == Histogram {
		return 3
	}
	return 1
}

// expand calls emit for every series of the family on one target, in a fixed order, until emit
// returns false. comboSeed identifies the label combination without le, so the buckets, sum and
// count of one histogram share their underlying event count.
func (f *family) expand(emit func(name string, m model, param float64, comboSeed uint64, dims []Label) bool) {
	combo := make([]Label, len(f.dims), len(f.dims)+1)
	idx := make([]int, len(f.dims))
	for n := 0; ; n++ {
		for i, d := range f.dims {
			combo[i] = Label{d.name, d.values[idx[i]]}
		}
		comboSeed := mix(hashString(f.name), uint64(n), 0)
		if f.kind == Histogram {
			for _, le := range leBounds {
				if !emit(f.name+"_bucket", modelBucket, le, comboSeed, append(combo, Label{"le", formatLe(le)})) {
					return
				}
			}
			if !emit(f.name+"_bucket", modelBucket, inf, comboSeed, append(combo, Label{"le", "+Inf"})) ||
				!emit(f.name+"_sum", modelHistSum, 0, comboSeed, combo) ||
				!emit(f.name+"_count", modelHistCount, 0, comboSeed, combo) {
				return
			}
		} else if !emit(f.name, f.model, 0, comboSeed, combo) {
			return
		}
		// Advance the odometer over the dimension values.
		i := len(idx) - 1
		for ; i >= 0; i-- {
			idx[i]++
			if idx[i] < len(f.dims[i].values) {
				break
			}
			idx[i] = 0
		}
		if i < 0 {
			return
		}
	}
}

func formatLe(v float64) string { return fmt.Sprintf("%g", v) }

type job struct {
	name     string
	port     int
	families []*family
}

var (
	methods   = dim{"method", []string{"GET", "POST", "PUT", "DELETE"}}
	statuses  = dim{"status", []string{"200", "201", "204", "400", "404", "500", "503"}}
	endpoints = dim{"endpoint", []string{"/api/v1/users", "/api/v1/orders", "/api/v1/items", "/api/v1/search", "/healthz"}}
)

// builtinFamilies returns the built-in families by name; priority gives their order.
func builtinFamilies() map[string]*family {
	return map[string]*family{
		"up":                                 {name: "up", kind: Gauge, model: modelConst},
		"http_requests_total":                {name: "http_requests_total", kind: Counter, model: modelCounter, dims: []dim{methods, statuses, endpoints}},
		"http_request_duration_seconds":      {name: "http_request_duration_seconds", kind: Histogram, dims: []dim{{"method", methods.values[:2]}, endpoints}},
		"node_cpu_seconds_total":             {name: "node_cpu_seconds_total", kind: Counter, model: modelCPU, dims: []dim{{"cpu", []string{"0", "1", "2", "3"}}, {"mode", []string{"idle", "iowait", "irq", "nice", "softirq", "steal", "system", "user"}}}},
		"process_resident_memory_bytes":      {name: "process_resident_memory_bytes", kind: Gauge, model: modelBytesGauge},
		"go_goroutines":                      {name: "go_goroutines", kind: Gauge, model: modelIntGauge},
		"grpc_server_handled_total":          {name: "grpc_server_handled_total", kind: Counter, model: modelCounter, dims: []dim{{"grpc_service", []string{"orders.Orders", "users.Users", "search.Search"}}, {"grpc_method", []string{"Get", "List", "Create", "Delete"}}, {"grpc_code", []string{"OK", "NotFound", "Unavailable", "Internal"}}}},
		"kafka_consumergroup_lag":            {name: "kafka_consumergroup_lag", kind: Gauge, model: modelIntGauge, dims: []dim{{"topic", []string{"orders", "payments", "events", "audit", "emails"}}, {"partition", []string{"0", "1", "2", "3", "4", "5", "6", "7"}}}},
		"node_memory_MemAvailable_bytes":     {name: "node_memory_MemAvailable_bytes", kind: Gauge, model: modelBytesGauge},
		"node_load1":                         {name: "node_load1", kind: Gauge, model: modelGauge},
		"process_cpu_seconds_total":          {name: "process_cpu_seconds_total", kind: Counter, model: modelCPU},
		"node_network_receive_bytes_total":   {name: "node_network_receive_bytes_total", kind: Counter, model: modelBytesCounter, dims: []dim{{"device", []string{"eth0", "eth1", "lo"}}}},
		"node_network_transmit_bytes_total":  {name: "node_network_transmit_bytes_total", kind: Counter, model: modelBytesCounter, dims: []dim{{"device", []string{"eth0", "eth1", "lo"}}}},
		"node_filesystem_avail_bytes":        {name: "node_filesystem_avail_bytes", kind: Gauge, model: modelBytesGauge, dims: []dim{{"mountpoint", []string{"/", "/var", "/data"}}}},
		"pg_stat_activity_count":             {name: "pg_stat_activity_count", kind: Gauge, model: modelIntGauge, dims: []dim{{"datname", []string{"app", "billing", "analytics"}}, {"state", []string{"active", "idle", "idle in transaction", "disabled"}}}},
		"pg_stat_database_tup_fetched_total": {name: "pg_stat_database_tup_fetched_total", kind: Counter, model: modelCounter, dims: []dim{{"datname", []string{"app", "billing", "analytics"}}}},
	}
}

// priority is the trimming order of the built-in families: a small Metrics keeps the head of
// the list, which holds what the dashboard queries of querybench read.
var priority = []string{
	"up", "http_requests_total", "http_request_duration_seconds", "node_cpu_seconds_total",
	"process_resident_memory_bytes", "go_goroutines", "grpc_server_handled_total", "kafka_consumergroup_lag",
	"node_memory_MemAvailable_bytes", "node_load1", "process_cpu_seconds_total",
	"node_network_receive_bytes_total", "node_network_transmit_bytes_total", "node_filesystem_avail_bytes",
	"pg_stat_activity_count", "pg_stat_database_tup_fetched_total",
}

// jobLayout says which families each job's targets expose.
var jobLayout = []struct {
	name     string
	port     int
	families []string
}{
	{"api", 8080, []string{"up", "http_requests_total", "http_request_duration_seconds", "process_resident_memory_bytes", "process_cpu_seconds_total", "go_goroutines"}},
	{"node", 9100, []string{"up", "node_cpu_seconds_total", "node_memory_MemAvailable_bytes", "node_load1", "node_network_receive_bytes_total", "node_network_transmit_bytes_total", "node_filesystem_avail_bytes"}},
	{"grpc", 9090, []string{"up", "grpc_server_handled_total", "process_resident_memory_bytes", "process_cpu_seconds_total", "go_goroutines"}},
	{"kafka-consumer", 9308, []string{"up", "kafka_consumergroup_lag", "process_resident_memory_bytes", "go_goroutines"}},
	{"postgres", 9187, []string{"up", "pg_stat_activity_count", "pg_stat_database_tup_fetched_total", "process_resident_memory_bytes"}},
}

// extraWords name the application-specific families added when Metrics exceeds the built-in set.
var extraWords = []string{
	"cache_hits", "cache_misses", "queue_depth", "worker_busy", "jobs_processed", "retries",
	"connections_open", "bytes_buffered", "evictions", "tasks_pending", "locks_held", "batch_size",
}

// catalogue returns the jobs and the families each exposes, sized to roughly metrics names.
func catalogue(metrics int) []job {
	all := builtinFamilies()
	keep := map[string]bool{}
	names := 0
	for _, name := range priority {
		if metrics > 0 && names >= metrics && name != "up" {
			break
		}
		keep[name] = true
		names += all[name].names()
	}
	jobs := make([]job, len(jobLayout))
	for i, jl := range jobLayout {
		jobs[i] = job{name: jl.name, port: jl.port}
		for _, fn := range jl.families {
			if keep[fn] {
				jobs[i].families = append(jobs[i].families, all[fn])
			}
		}
	}
	shards := []dim{{"shard", []string{"0"}}, {"shard", []string{"0", "1"}}, {"shard", []string{"0", "1", "2", "3"}}}
	for k := 0; names < metrics; k++ {
		j := &jobs[k%len(jobs)]
		word := extraWords[k%len(extraWords)]
		f := &family{kind: Gauge, model: modelGauge, dims: []dim{shards[k%len(shards)]}}
		switch k % 3 {
		case 0:
			f.name, f.kind, f.model = fmt.Sprintf("app_%s_%s_%d_total", strings.ReplaceAll(j.name, "-", "_"), word, k), Counter, modelCounter
		case 1:
			f.name, f.model = fmt.Sprintf("app_%s_%s_%d", strings.ReplaceAll(j.name, "-", "_"), word, k), modelIntGauge
		default:
			f.name = fmt.Sprintf("app_%s_%s_%d_ratio", strings.ReplaceAll(j.name, "-", "_"), word, k)
		}
		j.families = append(j.families, f)
		names++
	}
	return jobs
}
