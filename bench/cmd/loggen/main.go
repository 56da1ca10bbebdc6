// Command loggen holds the helpers of bench/logs.sh, the logs benchmark: it generates JSON
// application logs and nginx access logs from a seed, pushes them to a Loki push API, times
// LogQL queries, times grep and zstd on the raw files, and renders the report.
//
// Every subcommand stops by itself and only talks to loopback addresses. Results are printed as
// one JSON object per line on stdout.
package main

import (
	"encoding/json"
	"flag"
	"fmt"
	"github.com/lookout-dev/lookout/bench/internal/subcmd"
	"os"
)

var commands = map[string]subcmd.Command{
	"gen":      {Summary: "write JSON app log and nginx access log files from a seed", Run: runGen},
	"push":     {Summary: "send log files to a Loki push API (/loki/api/v1/push)", Run: runPush},
	"query":    {Summary: "time a LogQL query against /loki/api/v1/query_range or /query", Run: runQuery},
	"baseline": {Summary: "time grep and zstd on the raw files", Run: runBaseline},
	"report":   {Summary: "merge the JSON results into one report and print Markdown", Run: runReport},
}

func main() { os.Exit(subcmd.Main("loggen", commands, os.Args[1:], os.Stderr)) }

// newFlagSet returns a flag set that reports errors instead of exiting.
func newFlagSet(name string) *flag.FlagSet { return subcmd.FlagSet("loggen", name) }

// emit prints v as one JSON line on stdout.
func emit(v any) error {
	return json.NewEncoder(os.Stdout).Encode(v)
}

type multi []string

func (m *multi) String() string     { return fmt.Sprint(*m) }
func (m *multi) Set(v string) error { *m = append(*m, v); return nil }
