package main

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"os"
	"path/filepath"
	"runtime"
	"slices"
	"strconv"
	"strings"
	"time"
)

// systemInfo is what bench/logs.sh records about one server in DIR/system.json.
type systemInfo struct {
	Name           string           `json:"name"`
	Version        string           `json:"version"`
	Binary         string           `json:"binary"`
	StartupSeconds float64          `json:"startup_seconds"`
	ReadySeconds   float64          `json:"ready_seconds"`       // push end → every line counted by a query (and, for Loki, flushed)
	SettleCPU      float64          `json:"settle_cpu_seconds"`  // server CPU over that time
	CountCheck     *float64         `json:"count_check"`         // lines the count query saw
	DiskBytes      int64            `json:"disk_bytes"`          // data dir after the settle phase, without WALs
	DiskWithWAL    int64            `json:"disk_bytes_with_wal"` //
	DiskDetail     map[string]int64 `json:"disk_detail"`
	DiskStopped    int64            `json:"disk_bytes_after_stop"`
	RSSIngest      int64            `json:"peak_rss_ingest_bytes"`
	RSS            int64            `json:"peak_rss_bytes"`
	CPUTotal       float64          `json:"cpu_total_seconds"`
	ExitCode       int              `json:"exit_code"`
}

type systemReport struct {
	Name    string        `json:"name"`
	System  systemInfo    `json:"system"`
	Push    *pushResult   `json:"push"`
	Queries []queryResult `json:"queries"`
	Derived derived       `json:"derived"`
}

// derived holds the figures the report computes from the raw measurements.
type derived struct {
	MBPerCore          float64 `json:"ingest_mb_per_cpu_second"`       // raw MB ÷ server CPU s of the push
	LinesPerCore       float64 `json:"ingest_lines_per_cpu_second"`    //
	MBPerCoreSettled   float64 `json:"ingest_mb_per_cpu_second_total"` // CPU of push + settle/flush
	BytesPerLine       float64 `json:"disk_bytes_per_line"`
	CompressionRatio   float64 `json:"compression_ratio"` // raw bytes ÷ disk bytes
	BytesPerLineStop   float64 `json:"disk_bytes_per_line_after_stop"`
	CompressionStopped float64 `json:"compression_ratio_after_stop"`
}

type logsReport struct {
	Date     string            `json:"date"`
	Host     map[string]string `json:"host"`
	Notes    []string          `json:"notes,omitempty"`
	Gen      *genResult        `json:"gen"`
	Baseline *baselineResult   `json:"baseline,omitempty"`
	Systems  []*systemReport   `json:"systems"`
}

func runReport(ctx context.Context, args []string) error {
	var systems, notes multi
	fs := newFlagSet("report")
	fs.Var(&systems, "system", "NAME=DIR with system.json, push.json and queries.jsonl (repeatable; the first is the numerator of the ratios)")
	fs.Var(&notes, "note", "free-text note stored in the report (repeatable)")
	genPath := fs.String("gen", "", "gen.json from loggen gen")
	basePath := fs.String("baseline", "", "baseline.json from loggen baseline (optional)")
	out := fs.String("out", "", "write the JSON report here")
	from := fs.String("from", "", "print the Markdown of this JSON report (from -out) instead of merging")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *from != "" {
		var rep logsReport
		if err := readJSON(*from, &rep); err != nil {
			return err
		}
		if rep.Gen == nil || len(rep.Systems) == 0 {
			return fmt.Errorf("%s: not a logs report", *from)
		}
		rep.markdown(os.Stdout)
		return nil
	}
	rep := &logsReport{
		Date:  time.Now().UTC().Format(time.RFC3339),
		Host:  map[string]string{"cpus": strconv.Itoa(runtime.NumCPU()), "goos": runtime.GOOS, "goarch": runtime.GOARCH},
		Notes: notes,
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		if line, _, ok := strings.Cut(string(b), "\n"); ok {
			rep.Host["memory"] = strings.Join(strings.Fields(line)[1:], " ")
		}
	}
	if err := readJSON(*genPath, &rep.Gen); err != nil {
		return fmt.Errorf("-gen: %w", err)
	}
	if *basePath != "" {
		if err := readJSON(*basePath, &rep.Baseline); err != nil {
			fmt.Fprintf(os.Stderr, "loggen report: baseline: %v\n", err)
			rep.Baseline = nil
		}
	}
	for _, sv := range systems {
		name, dir, ok := strings.Cut(sv, "=")
		if !ok {
			return fmt.Errorf("-system %q: want NAME=DIR", sv)
		}
		s, err := loadSystem(name, dir, rep.Gen)
		if err != nil {
			fmt.Fprintf(os.Stderr, "loggen report: %s: %v\n", name, err)
			continue
		}
		rep.Systems = append(rep.Systems, s)
	}
	if len(rep.Systems) == 0 {
		return errors.New("no system measured")
	}
	if *out != "" {
		b, err := json.MarshalIndent(rep, "", "  ")
		if err != nil {
			return err
		}
		if err := os.WriteFile(*out, append(b, '\n'), 0o644); err != nil {
			return err
		}
	}
	rep.markdown(os.Stdout)
	return nil
}

func readJSON(path string, v any) error {
	b, err := os.ReadFile(path)
	if err != nil {
		return err
	}
	return json.Unmarshal(b, v)
}

func loadSystem(name, dir string, gen *genResult) (*systemReport, error) {
	s := &systemReport{Name: name}
	if err := readJSON(filepath.Join(dir, "system.json"), &s.System); err != nil {
		return nil, err
	}
	if err := readJSON(filepath.Join(dir, "push.json"), &s.Push); err != nil {
		fmt.Fprintf(os.Stderr, "loggen report: %s: push: %v\n", name, err)
		s.Push = nil
	}
	if f, err := os.Open(filepath.Join(dir, "queries.jsonl")); err == nil {
		defer f.Close()
		sc := bufio.NewScanner(f)
		sc.Buffer(nil, 1<<20)
		for sc.Scan() {
			var q queryResult
			if json.Unmarshal(sc.Bytes(), &q) == nil {
				s.Queries = append(s.Queries, q)
			}
		}
	}
	d := &s.Derived
	if p := s.Push; p != nil && p.ServerCPU > 0 {
		d.MBPerCore = float64(p.RawBytes) / 1e6 / p.ServerCPU
		d.LinesPerCore = float64(p.LinesSent) / p.ServerCPU
		d.MBPerCoreSettled = float64(p.RawBytes) / 1e6 / (p.ServerCPU + s.System.SettleCPU)
	}
	lines, raw := float64(gen.Lines), float64(gen.Bytes)
	if s.System.DiskBytes > 0 {
		d.BytesPerLine = float64(s.System.DiskBytes) / lines
		d.CompressionRatio = raw / float64(s.System.DiskBytes)
	}
	if s.System.DiskStopped > 0 {
		d.BytesPerLineStop = float64(s.System.DiskStopped) / lines
		d.CompressionStopped = raw / float64(s.System.DiskStopped)
	}
	return s, nil
}

func (r *logsReport) query(s *systemReport, name string) *queryResult {
	for i := range s.Queries {
		if s.Queries[i].Name == name {
			return &s.Queries[i]
		}
	}
	return nil
}

// markdown prints the tables: one column per system, then the ratio of the first system to the
// second, then the raw-file baseline where one applies.
func (r *logsReport) markdown(w io.Writer) {
	g := r.Gen
	fmt.Fprintf(w, "## Logs: %s\n\n", strings.Join(r.names(), " vs "))
	fmt.Fprintf(w, "%s lines (%s JSON app, %s nginx), %.1f MB raw (%.0f bytes/line), timestamps over %s; seed %d; %s CPUs, %s.\n\n",
		thousands(int64(g.Lines)), thousands(int64(r.fileLines("json"))), thousands(int64(r.fileLines("nginx"))),
		float64(g.Bytes)/1e6, float64(g.Bytes)/float64(g.Lines), time.Duration(g.EndNS-g.StartNS), g.Seed, r.Host["cpus"], r.Host["memory"])
	for _, s := range r.Systems {
		fmt.Fprintf(w, "- %s: %s\n", s.Name, s.System.Version)
	}
	if b := r.Baseline; b != nil {
		fmt.Fprintf(w, "- raw files: %s, %s\n", b.GrepVersion, b.ZstdVersion)
	}
	fmt.Fprintln(w)

	ratio := len(r.Systems) >= 2
	header := "| figure | " + strings.Join(r.names(), " | ") + " |"
	sep := "|---|" + strings.Repeat("---:|", len(r.Systems))
	if ratio {
		header += fmt.Sprintf(" %s/%s |", r.Systems[0].Name, r.Systems[1].Name)
		sep += "---:|"
	}
	header += " raw files | target |"
	sep += "---:|---|"
	fmt.Fprintln(w, header)
	fmt.Fprintln(w, sep)

	type row struct {
		name   string
		val    func(s *systemReport) float64
		format func(float64) string
		base   string
		target string
	}
	b := r.Baseline
	baseOr := func(f func() string) string {
		if b == nil {
			return ""
		}
		return f()
	}
	qms := func(name string) func(s *systemReport) float64 {
		return func(s *systemReport) float64 {
			q := r.query(s, name)
			switch {
			case q == nil:
				return math.NaN()
			case q.TimedOut || (q.Error != "" && timedOut(errors.New(q.Error))):
				return math.Inf(1)
			case q.Error != "":
				return math.NaN()
			}
			return q.MedianMS
		}
	}
	qcpu := func(name string) func(s *systemReport) float64 {
		return func(s *systemReport) float64 {
			if q := r.query(s, name); q != nil && q.Error == "" && len(q.LatenciesMS) > 0 && q.ServerCPU > 0 {
				return q.ServerCPU / float64(len(q.LatenciesMS))
			}
			return math.NaN()
		}
	}
	pushF := func(f func(p *pushResult) float64) func(s *systemReport) float64 {
		return func(s *systemReport) float64 {
			if s.Push == nil {
				return math.NaN()
			}
			return f(s.Push)
		}
	}
	rows := []row{
		{"lines accepted", pushF(func(p *pushResult) float64 { return float64(p.LinesSent) }), fmtInt, "", ""},
		{"ingest wall time, s", pushF(func(p *pushResult) float64 { return p.WallSeconds }), fmt2, "", ""},
		{"ingest lines/s (wall)", pushF(func(p *pushResult) float64 { return p.LinesPerSecond }), fmtInt, "", ""},
		{"ingest MB/s (wall)", pushF(func(p *pushResult) float64 { return p.MBPerSecond }), fmt2, "", ""},
		{"server CPU s during the push", pushF(func(p *pushResult) float64 { return p.ServerCPU }), fmt2, "", ""},
		{"**ingest MB/s per core** (raw MB ÷ server CPU s)", func(s *systemReport) float64 { return s.Derived.MBPerCore }, fmt2,
			baseOr(func() string { return fmt.Sprintf("zstd -%d: %.1f", b.ZstdLevel, b.Zstd.MBPerCore) }), "≥ 25"},
		{"ingest lines/s per core", func(s *systemReport) float64 { return s.Derived.LinesPerCore }, fmtInt, "", ""},
		{"ingest MB/s per core, with flush/settle CPU", func(s *systemReport) float64 { return s.Derived.MBPerCoreSettled }, fmt2, "", ""},
		{"push end → all lines queryable (and flushed), s", func(s *systemReport) float64 { return s.System.ReadySeconds }, fmt2, "", ""},
		{"bytes on disk", func(s *systemReport) float64 { return float64(s.System.DiskBytes) }, fmtInt,
			baseOr(func() string { return fmt.Sprintf("zstd -%d: %s", b.ZstdLevel, thousands(b.ZstdBytes)) }), ""},
		{"bytes on disk with the WAL", func(s *systemReport) float64 { return float64(s.System.DiskWithWAL) }, fmtInt, "", ""},
		{"bytes on disk per line", func(s *systemReport) float64 { return s.Derived.BytesPerLine }, fmt2,
			baseOr(func() string { return fmt.Sprintf("%.2f", b.ZstdPerLn) }), ""},
		{"**compression ratio** (raw ÷ disk)", func(s *systemReport) float64 { return s.Derived.CompressionRatio }, fmt2,
			baseOr(func() string { return fmt.Sprintf("%.2f", b.ZstdRatio) }), "≥ 10"},
		{"compression ratio after stop", func(s *systemReport) float64 { return s.Derived.CompressionStopped }, fmt2, "", ""},
		{"peak RSS after ingest, MiB", func(s *systemReport) float64 { return float64(s.System.RSSIngest) / (1 << 20) }, fmt1, "", ""},
		{"peak RSS after queries, MiB", func(s *systemReport) float64 { return float64(s.System.RSS) / (1 << 20) }, fmt1, "", ""},
		{"**needle search**, median ms", qms("needle"), fmt1,
			baseOr(func() string {
				return fmt.Sprintf("grep -F: %.1f; zstdcat | grep: %.1f", b.Grep.MedianMS, b.ZstdGrep.MedianMS)
			}), "≤ 500"},
		{"sum by (level) … | json [5m], median ms", qms("level_json"), fmt1, "", ""},
		{"sum by (detected_level) [5m], median ms", qms("detected_level"), fmt1, "", ""},
		{"count_over_time of every line (instant), median ms", qms("count_all"), fmt1, "", ""},
		{"server CPU s per query: needle", qcpu("needle"), fmt2, "", ""},
		{"server CPU s per query: sum by (level) … | json", qcpu("level_json"), fmt2, "", ""},
		{"server CPU s per query: sum by (detected_level)", qcpu("detected_level"), fmt2, "", ""},
		{"server CPU s per query: count of every line", qcpu("count_all"), fmt2, "", ""},
		{"background cores during the push", pushF(func(p *pushResult) float64 { return p.BackgroundCores }), fmt2, "", ""},
		{"background cores during the queries (highest)", func(s *systemReport) float64 {
			v := math.NaN()
			for _, q := range s.Queries {
				if math.IsNaN(v) || q.Background > v {
					v = q.Background
				}
			}
			return v
		}, fmt2, "", ""},
		{"pusher CPU s", pushF(func(p *pushResult) float64 { return p.PusherCPU }), fmt2, "", ""},
	}
	for _, rw := range rows {
		var cells []string
		var vals []float64
		for _, s := range r.Systems {
			v := rw.val(s)
			vals = append(vals, v)
			cells = append(cells, cell(v, rw.format))
		}
		line := "| " + esc(rw.name) + " | " + strings.Join(cells, " | ") + " |"
		if ratio {
			line += " " + ratioCell(vals[0], vals[1]) + " |"
		}
		line += " " + esc(rw.base) + " | " + rw.target + " |"
		fmt.Fprintln(w, line)
	}

	fmt.Fprintln(w)
	fmt.Fprintln(w, "Queries (median of the timed runs after a warm-up; min–max; what each answered):")
	fmt.Fprintln(w)
	seen := map[string]bool{}
	for _, s := range r.Systems {
		for _, q := range s.Queries {
			if seen[q.Name] {
				continue
			}
			seen[q.Name] = true
			fmt.Fprintf(w, "- `%s`: `%s` (%s", q.Name, q.Query, q.Endpoint)
			if q.StepSeconds > 0 {
				fmt.Fprintf(w, ", step %gs", q.StepSeconds)
			}
			fmt.Fprintf(w, ")%s\n", r.sameAnswer(q.Name))
			for _, s2 := range r.Systems {
				q2 := r.query(s2, q.Name)
				if q2 == nil {
					fmt.Fprintf(w, "  - %s: not run\n", s2.Name)
					continue
				}
				if q2.Error != "" {
					fmt.Fprintf(w, "  - %s: error: %s\n", s2.Name, q2.Error)
					continue
				}
				if q2.Cut {
					fmt.Fprintf(w, "  - %s: slow, so timed once after the warm-up\n", s2.Name)
				}
				fmt.Fprintf(w, "  - %s: %.1f ms (%.1f–%.1f), server CPU %.2f s over %d runs, background %.2f cores; %s\n",
					s2.Name, q2.MedianMS, q2.MinMS, q2.MaxMS, q2.ServerCPU, len(q2.LatenciesMS), q2.Background, answer(q2))
			}
		}
	}
	if len(r.Notes) > 0 {
		fmt.Fprintln(w)
		for _, n := range r.Notes {
			fmt.Fprintf(w, "- %s\n", n)
		}
	}
}

// sameAnswer says whether every system that answered query name gave the same answer, by its
// shape and the sum of its values (for log lines: their number and streams).
func (r *logsReport) sameAnswer(name string) string {
	var first *queryResult
	n := 0
	for _, s := range r.Systems {
		q := r.query(s, name)
		if q == nil || q.Error != "" {
			continue
		}
		n++
		if first == nil {
			first = q
			continue
		}
		if q.ResultType != first.ResultType || q.Series != first.Series || q.Entries != first.Entries ||
			q.Points != first.Points || q.ValuesSum != first.ValuesSum ||
			// Streams carry each server's own extra labels (Loki: service_name; Lookout: parsed fields).
			(q.ResultType != "streams" && !slices.Equal(q.Labels, first.Labels)) {
			return ": **answers differ**"
		}
	}
	if n < 2 {
		return ""
	}
	return ": same answer"
}

// esc makes s safe inside a Markdown table cell.
func esc(s string) string { return strings.ReplaceAll(s, "|", `\|`) }

func answer(q *queryResult) string {
	switch q.ResultType {
	case "streams":
		return fmt.Sprintf("%d lines in %d streams", q.Entries, q.Series)
	case "vector", "scalar":
		if q.Value != nil {
			return fmt.Sprintf("value %s", strconv.FormatFloat(*q.Value, 'f', -1, 64))
		}
		return fmt.Sprintf("%d series, sum %s", q.Series, strconv.FormatFloat(q.ValuesSum, 'f', -1, 64))
	default:
		return fmt.Sprintf("%d series, %d points, sum of all points %s: %s", q.Series, q.Points,
			strconv.FormatFloat(q.ValuesSum, 'f', -1, 64), strings.Join(q.Labels, " "))
	}
}

func (r *logsReport) names() []string {
	var n []string
	for _, s := range r.Systems {
		n = append(n, s.Name)
	}
	return n
}

func (r *logsReport) fileLines(source string) int {
	n := 0
	for _, f := range r.Gen.Files {
		if f.Source == source {
			n += f.Lines
		}
	}
	return n
}

// cell formats a figure; +Inf stands for a query that timed out.
func cell(v float64, f func(float64) string) string {
	switch {
	case math.IsInf(v, 1):
		return "timeout"
	case math.IsNaN(v) || math.IsInf(v, 0):
		return "—"
	}
	return f(v)
}

func ratioCell(a, b float64) string {
	if math.IsNaN(a) || math.IsNaN(b) || math.IsInf(a, 0) || math.IsInf(b, 0) || b == 0 {
		return "—"
	}
	return fmt.Sprintf("%.2f", a/b)
}

func fmt1(v float64) string   { return strconv.FormatFloat(v, 'f', 1, 64) }
func fmt2(v float64) string   { return strconv.FormatFloat(v, 'f', 2, 64) }
func fmtInt(v float64) string { return thousands(int64(math.Round(v))) }

func thousands(n int64) string {
	s := strconv.FormatInt(n, 10)
	neg := strings.HasPrefix(s, "-")
	s = strings.TrimPrefix(s, "-")
	var b bytes.Buffer
	for i, c := range s {
		if i > 0 && (len(s)-i)%3 == 0 {
			b.WriteByte(',')
		}
		b.WriteRune(c)
	}
	if neg {
		return "-" + b.String()
	}
	return b.String()
}
