// Command benchreport merges the per-server measurements of bench/run.sh into one JSON report
// and prints a Markdown table of Lookout/Prometheus ratios.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"runtime"
	"strconv"
	"strings"
	"time"

	"github.com/lookout-dev/lookout/bench/internal/report"
)

type multi []string

func (m *multi) String() string     { return strings.Join(*m, ",") }
func (m *multi) Set(v string) error { *m = append(*m, v); return nil }

func main() { os.Exit(run()) }

func run() int {
	var servers, notes multi
	flag.Var(&servers, "server", "NAME=DIR with server.json, rwload.json and querybench.json (repeatable)")
	flag.Var(&notes, "note", "free-text note stored in the report (repeatable)")
	out := flag.String("out", "", "write the JSON report here")
	flag.Parse()

	rep := &report.Report{
		Date:  time.Now().UTC().Format(time.RFC3339),
		Host:  map[string]string{"cpus": strconv.Itoa(runtime.NumCPU()), "goos": runtime.GOOS, "goarch": runtime.GOARCH, "go": runtime.Version()},
		Notes: notes,
	}
	if b, err := os.ReadFile("/proc/meminfo"); err == nil {
		if line, _, ok := strings.Cut(string(b), "\n"); ok {
			rep.Host["memory"] = strings.Join(strings.Fields(line)[1:], " ")
		}
	}
	for _, sv := range servers {
		name, dir, ok := strings.Cut(sv, "=")
		if !ok {
			fmt.Fprintf(os.Stderr, "benchreport: -server %q: want NAME=DIR\n", sv)
			return 2
		}
		s, err := report.LoadServer(name, dir)
		if err != nil {
			fmt.Fprintf(os.Stderr, "benchreport: %s: %v\n", name, err)
			continue
		}
		rep.Servers = append(rep.Servers, s)
	}
	if len(rep.Servers) == 0 {
		fmt.Fprintln(os.Stderr, "benchreport: no server measured")
		return 1
	}
	rep.ComputeRatios()
	if *out != "" {
		b, err := json.MarshalIndent(rep, "", "  ")
		if err != nil {
			fmt.Fprintln(os.Stderr, "benchreport:", err)
			return 1
		}
		if err := os.WriteFile(*out, append(b, '\n'), 0o644); err != nil {
			fmt.Fprintln(os.Stderr, "benchreport:", err)
			return 1
		}
	}
	rep.Markdown(os.Stdout)
	return 0
}
