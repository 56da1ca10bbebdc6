// Package report gathers the measurements of one benchmark run per server, derives the figures
// the issue asks for, and renders them as JSON and as a Markdown table of Lookout/Prometheus
// ratios.
package report

import (
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"strings"

	"github.com/lookout-dev/lookout/bench/internal/querybench"
	"github.com/lookout-dev/lookout/bench/internal/rwload"
)

// Process is what bench/run.sh records about a server process (server.json).
type Process struct {
	Name              string  `json:"name"`
	Binary            string  `json:"binary"`
	Version           string  `json:"version"`
	StartupSeconds    float64 `json:"startup_seconds"`       // start to ready
	SettleCPUSeconds  float64 `json:"settle_cpu_seconds"`    // after the load, until idle
	SettleWallSeconds float64 `json:"settle_wall_seconds"`   // likewise
	CPUTotalSeconds   float64 `json:"cpu_total_seconds"`     // whole life, read before stopping
	PeakRSSBytes      int64   `json:"peak_rss_bytes"`        // VmHWM before stopping
	PeakRSSIngest     int64   `json:"peak_rss_ingest_bytes"` // VmHWM after the load, before queries
	StopSeconds       float64 `json:"stop_seconds"`          // SIGTERM to exit
	ExitCode          int     `json:"exit_code"`
	DataDir           string  `json:"data_dir"`
}

// Derived are the per-server figures that are compared.
type Derived struct {
	SamplesPerSecond        float64 `json:"samples_per_second"`
	CPUPerMillionIngest     float64 `json:"cpu_seconds_per_million_samples"`             // during the load
	CPUPerMillionWithSettle float64 `json:"cpu_seconds_per_million_samples_with_settle"` // plus compaction afterwards
	PeakRSSMiB              float64 `json:"peak_rss_mib"`
	PeakRSSIngestMiB        float64 `json:"peak_rss_ingest_mib"`     // before the queries
	QueryCPUSeconds         float64 `json:"query_cpu_seconds"`       // server CPU over the timed query passes
	BytesPerSampleBlocks    float64 `json:"bytes_per_sample_blocks"` // persisted blocks only
	BytesPerSampleTSDB      float64 `json:"bytes_per_sample_tsdb"`   // whole TSDB dir after stop / samples accepted
	QueryP50Ms              float64 `json:"query_p50_ms"`
	QueryP99Ms              float64 `json:"query_p99_ms"`
	// Average cores that other processes on the machine used during the load and the queries;
	// anything well above zero means the figures were disturbed.
	BackgroundCoresLoad  float64 `json:"background_cores_load"`
	BackgroundCoresQuery float64 `json:"background_cores_query"`
}

// disturbed is the background load, in cores, above which a run is flagged.
const disturbed = 0.2

// Server is everything measured for one server.
type Server struct {
	Name    string              `json:"name"`
	Process Process             `json:"process"`
	Load    *rwload.Summary     `json:"load"`
	Query   *querybench.Summary `json:"query"`
	Disk    *Disk               `json:"disk"`
	Derived Derived             `json:"derived"`
	Issues  []string            `json:"issues,omitempty"` // anything that makes a figure doubtful
}

// Report is one run.
type Report struct {
	Date    string            `json:"date"`
	Host    map[string]string `json:"host"`
	Notes   []string          `json:"notes,omitempty"`
	Servers []*Server         `json:"servers"`
	// Ratios are Lookout/Prometheus for each Derived figure, when both servers have it.
	Ratios map[string]float64 `json:"ratios_lookout_over_prometheus,omitempty"`
}

// LoadServer reads dir/server.json, dir/rwload.json and dir/querybench.json, and scans the
// data directory named in server.json. Missing pieces are recorded as issues.
func LoadServer(name, dir string) (*Server, error) {
	s := &Server{Name: name}
	if err := readJSON(filepath.Join(dir, "server.json"), &s.Process); err != nil {
		return nil, err
	}
	s.Load = &rwload.Summary{}
	if err := readJSON(filepath.Join(dir, "rwload.json"), s.Load); err != nil {
		s.Load = nil
		s.Issues = append(s.Issues, "no load summary: "+err.Error())
	}
	s.Query = &querybench.Summary{}
	if err := readJSON(filepath.Join(dir, "querybench.json"), s.Query); err != nil {
		s.Query = nil
		s.Issues = append(s.Issues, "no query summary: "+err.Error())
	}
	if s.Process.DataDir != "" {
		d, err := ScanDisk(s.Process.DataDir)
		if err != nil {
			s.Issues = append(s.Issues, "disk: "+err.Error())
		}
		s.Disk = d
	}
	s.derive()
	return s, nil
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	b = []byte(strings.TrimSpace(string(b)))
	if len(b) == 0 {
		return errors.New(path + " is empty")
	}
	return json.Unmarshal(b, v)
}

func (s *Server) derive() {
	d := &s.Derived
	d.PeakRSSMiB = float64(s.Process.PeakRSSBytes) / (1 << 20)
	d.PeakRSSIngestMiB = float64(s.Process.PeakRSSIngest) / (1 << 20)
	if l := s.Load; l != nil && l.SamplesSent > 0 {
		d.SamplesPerSecond = l.SamplesPerSecond
		million := float64(l.SamplesSent) / 1e6
		if l.ServerCPUSeconds != nil {
			d.CPUPerMillionIngest = *l.ServerCPUSeconds / million
			d.CPUPerMillionWithSettle = (*l.ServerCPUSeconds + s.Process.SettleCPUSeconds) / million
		}
		if l.SamplesFailed > 0 {
			s.Issues = append(s.Issues, fmt.Sprintf("%d samples were rejected: %v %s", l.SamplesFailed, l.Errors, l.FirstError))
		}
		if l.StoppedBy != "complete" {
			s.Issues = append(s.Issues, "load stopped early: "+l.StoppedBy)
		}
		if l.BackgroundCPUSeconds != nil && l.WallSeconds > 0 {
			d.BackgroundCoresLoad = *l.BackgroundCPUSeconds / l.WallSeconds
			if d.BackgroundCoresLoad > disturbed {
				s.Issues = append(s.Issues, fmt.Sprintf("other processes used %.2f cores on average during the load", d.BackgroundCoresLoad))
			}
		}
		if s.Disk != nil && s.Disk.TSDBBytes > 0 {
			d.BytesPerSampleTSDB = float64(s.Disk.TSDBBytes) / float64(l.SamplesSent)
		}
	}
	if s.Disk != nil && s.Disk.BlockSamples > 0 {
		d.BytesPerSampleBlocks = float64(s.Disk.BlockBytes) / float64(s.Disk.BlockSamples)
	} else if s.Disk != nil {
		s.Issues = append(s.Issues, "no persisted block: bytes/sample after compaction unavailable")
	}
	if q := s.Query; q != nil {
		d.QueryP50Ms, d.QueryP99Ms = q.Overall.P50, q.Overall.P99
		if q.ServerCPUSeconds != nil {
			d.QueryCPUSeconds = *q.ServerCPUSeconds
		}
		if q.BackgroundCPUSeconds != nil && q.WallSeconds > 0 {
			d.BackgroundCoresQuery = *q.BackgroundCPUSeconds / q.WallSeconds
			if d.BackgroundCoresQuery > disturbed {
				s.Issues = append(s.Issues, fmt.Sprintf("other processes used %.2f cores on average during the queries", d.BackgroundCoresQuery))
			}
		}
		if q.Errors > 0 {
			s.Issues = append(s.Issues, fmt.Sprintf("%d query errors", q.Errors))
		}
		if q.EmptyResults > 0 {
			s.Issues = append(s.Issues, fmt.Sprintf("%d queries returned no series", q.EmptyResults))
		}
	}
	if s.Process.ExitCode != 0 {
		s.Issues = append(s.Issues, fmt.Sprintf("exit code %d after SIGTERM", s.Process.ExitCode))
	}
}

// row is one line of the comparison table.
type row struct {
	key, label, better string
	get                func(*Derived) float64
	format             string
}

var rows = []row{
	{"samples_per_second", "ingest samples/s", "higher", func(d *Derived) float64 { return d.SamplesPerSecond }, "%.0f"},
	{"cpu_seconds_per_million_samples", "CPU s per 1M samples (during load)", "lower", func(d *Derived) float64 { return d.CPUPerMillionIngest }, "%.2f"},
	{"cpu_seconds_per_million_samples_with_settle", "CPU s per 1M samples (load + compaction)", "lower", func(d *Derived) float64 { return d.CPUPerMillionWithSettle }, "%.2f"},
	{"peak_rss_ingest_mib", "peak RSS MiB after ingest", "lower", func(d *Derived) float64 { return d.PeakRSSIngestMiB }, "%.0f"},
	{"peak_rss_mib", "peak RSS MiB after queries", "lower", func(d *Derived) float64 { return d.PeakRSSMiB }, "%.0f"},
	{"bytes_per_sample_blocks", "bytes/sample in compacted blocks", "lower", func(d *Derived) float64 { return d.BytesPerSampleBlocks }, "%.3f"},
	{"bytes_per_sample_tsdb", "bytes/sample, whole TSDB dir after stop", "lower", func(d *Derived) float64 { return d.BytesPerSampleTSDB }, "%.3f"},
	{"query_p50_ms", "query p50 ms (all queries)", "lower", func(d *Derived) float64 { return d.QueryP50Ms }, "%.1f"},
	{"query_p99_ms", "query p99 ms (all queries)", "lower", func(d *Derived) float64 { return d.QueryP99Ms }, "%.1f"},
	{"query_cpu_seconds", "server CPU s over the timed query passes", "lower", func(d *Derived) float64 { return d.QueryCPUSeconds }, "%.1f"},
}

// ComputeRatios fills r.Ratios when both a "lookout" and a "prometheus" server are present.
func (r *Report) ComputeRatios() {
	l, p := r.server("lookout"), r.server("prometheus")
	if l == nil || p == nil {
		return
	}
	r.Ratios = map[string]float64{}
	for _, rw := range rows {
		if v, ok := ratio(rw.get(&l.Derived), rw.get(&p.Derived)); ok {
			r.Ratios[rw.key] = v
		}
	}
}

func ratio(a, b float64) (float64, bool) {
	if a <= 0 || b <= 0 || math.IsNaN(a) || math.IsNaN(b) {
		return 0, false
	}
	return a / b, true
}

func (r *Report) server(name string) *Server {
	for _, s := range r.Servers {
		if s.Name == name {
			return s
		}
	}
	return nil
}

// Markdown writes the comparison tables.
func (r *Report) Markdown(w io.Writer) {
	l, p := r.server("lookout"), r.server("prometheus")
	fmt.Fprintf(w, "### Lookout vs Prometheus, %s\n\n", r.Date)
	if s := r.Servers; len(s) > 0 && s[0].Load != nil {
		ld := s[0].Load
		fmt.Fprintf(w, "%d series, %d metric names, %d rounds at %gs, RW %s, batch %d, %d senders.\n\n",
			ld.Series, ld.MetricNames, ld.RoundsPlanned, ld.IntervalSeconds, ld.Protocol, ld.Batch, ld.Concurrency)
	}
	fmt.Fprintln(w, "| figure | Lookout | Prometheus | Lookout/Prometheus | better |")
	fmt.Fprintln(w, "|---|---:|---:|---:|---|")
	for _, rw := range rows {
		lv, pv := cell(l, rw), cell(p, rw)
		rs := "n/a"
		if l != nil && p != nil {
			if v, ok := ratio(rw.get(&l.Derived), rw.get(&p.Derived)); ok {
				rs = fmt.Sprintf("%.2f", v)
			}
		}
		fmt.Fprintf(w, "| %s | %s | %s | %s | %s |\n", rw.label, lv, pv, rs, rw.better)
	}
	if l != nil && p != nil && l.Query != nil && p.Query != nil {
		fmt.Fprintln(w, "\n| query | type | Lookout p50/p99 ms | Prometheus p50/p99 ms | p50 ratio | series L/P |")
		fmt.Fprintln(w, "|---|---|---:|---:|---:|---|")
		for _, lq := range l.Query.Queries {
			for _, pq := range p.Query.Queries {
				if lq.Name != pq.Name || lq.Type != pq.Type {
					continue
				}
				rs := "n/a"
				if v, ok := ratio(lq.P50, pq.P50); ok {
					rs = fmt.Sprintf("%.2f", v)
				}
				fmt.Fprintf(w, "| %s | %s | %.1f / %.1f | %.1f / %.1f | %s | %d / %d |\n",
					lq.Name, lq.Type, lq.P50, lq.P99, pq.P50, pq.P99, rs, lq.Series, pq.Series)
			}
		}
	}
	fmt.Fprint(w, "\nOther processes on the machine used, on average (cores):")
	for _, s := range r.Servers {
		fmt.Fprintf(w, " %s %.2f during the load, %.2f during the queries;", s.Name, s.Derived.BackgroundCoresLoad, s.Derived.BackgroundCoresQuery)
	}
	fmt.Fprintln(w)
	for _, s := range r.Servers {
		for _, is := range s.Issues {
			fmt.Fprintf(w, "\n- %s: %s", s.Name, is)
		}
	}
	fmt.Fprintln(w)
}

func cell(s *Server, rw row) string {
	if s == nil {
		return "n/a"
	}
	v := rw.get(&s.Derived)
	if v <= 0 {
		return "n/a"
	}
	return fmt.Sprintf(rw.format, v)
}
