// Command alertbench holds the helpers of bench/alerting.sh, the alerting benchmark: it writes
// the rule files, loads series by remote write, measures rule evaluation from a server's own
// metrics, posts alerts to an Alertmanager API v2 while a loopback webhook sink counts what
// arrives, times the path from a remote write to a webhook, and renders the report.
//
// Every subcommand stops by itself and only talks to loopback addresses.
package main

import (
	"context"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"sort"
	"syscall"
)

type command struct {
	summary string
	run     func(ctx context.Context, args []string) error
}

var commands = map[string]command{
	"rules":    {"write the benchmark's alerting rule files", runRules},
	"write":    {"load the benchmark series into a server by remote write", runWrite},
	"ruleeval": {"measure rule evaluation time per cycle from a server's /metrics", runRuleEval},
	"route":    {"post firing alerts to an Alertmanager API v2 and time their delivery to a webhook sink", runRoute},
	"e2e":      {"time a threshold crossing written by remote write until its webhook arrives", runE2E},
	"report":   {"merge the JSON results into a Markdown section", runReport},
}

func main() { os.Exit(run()) }

func run() int {
	if len(os.Args) < 2 || commands[os.Args[1]].run == nil {
		usage()
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	name := os.Args[1]
	if err := commands[name].run(ctx, os.Args[2:]); err != nil {
		fmt.Fprintf(os.Stderr, "alertbench %s: %v\n", name, err)
		return 1
	}
	return 0
}

func usage() {
	fmt.Fprintln(os.Stderr, "usage: alertbench COMMAND [flags]   (alertbench COMMAND -h for its flags)")
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(os.Stderr, "  %-9s %s\n", n, commands[n].summary)
	}
}

// newFlagSet returns a flag set that reports errors instead of exiting.
func newFlagSet(name string) *flag.FlagSet {
	fs := flag.NewFlagSet("alertbench "+name, flag.ContinueOnError)
	return fs
}
