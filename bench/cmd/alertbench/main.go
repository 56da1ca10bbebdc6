// Command alertbench holds the helpers of bench/alerting.sh, the alerting benchmark: it writes
// the rule files, loads series by remote write, measures rule evaluation from a server's own
// metrics, posts alerts to an Alertmanager API v2 while a loopback webhook sink counts what
// arrives, times the path from a remote write to a webhook, and renders the report.
//
// Every subcommand stops by itself and only talks to loopback addresses.
package main

import (
	"flag"
	"github.com/lookout-dev/lookout/bench/internal/subcmd"
	"os"
)

var commands = map[string]subcmd.Command{
	"rules":    {Summary: "write the benchmark's alerting rule files", Run: runRules},
	"write":    {Summary: "load the benchmark series into a server by remote write", Run: runWrite},
	"ruleeval": {Summary: "measure rule evaluation time per cycle from a server's /metrics", Run: runRuleEval},
	"route":    {Summary: "post firing alerts to an Alertmanager API v2 and time their delivery to a webhook sink", Run: runRoute},
	"e2e":      {Summary: "time a threshold crossing written by remote write until its webhook arrives", Run: runE2E},
	"report":   {Summary: "merge the JSON results into a Markdown section", Run: runReport},
}

func main() { os.Exit(subcmd.Main("alertbench", commands, os.Args[1:], os.Stderr)) }

// newFlagSet returns a flag set that reports errors instead of exiting.
func newFlagSet(name string) *flag.FlagSet { return subcmd.FlagSet("alertbench", name) }
