// Package subcmd runs the "TOOL COMMAND [flags]" command lines of the bench
// tools: it picks the command, cancels its context on SIGINT/SIGTERM, and
// prints usage and errors with the tool's name.
package subcmd

import (
	"context"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"sort"
	"syscall"
)

// Command is one subcommand.
type Command struct {
	Summary string
	Run     func(ctx context.Context, args []string) error
}

// Main runs the command named by args[0] and returns the exit code: 2 for
// an unknown command (after printing usage), 1 when it fails.
func Main(tool string, commands map[string]Command, args []string, stderr io.Writer) int {
	if len(args) < 1 || commands[args[0]].Run == nil {
		usage(tool, commands, stderr)
		return 2
	}
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	if err := commands[args[0]].Run(ctx, args[1:]); err != nil {
		fmt.Fprintf(stderr, "%s %s: %v\n", tool, args[0], err)
		return 1
	}
	return 0
}

func usage(tool string, commands map[string]Command, w io.Writer) {
	fmt.Fprintf(w, "usage: %s COMMAND [flags]   (%s COMMAND -h for its flags)\n", tool, tool)
	names := make([]string, 0, len(commands))
	for n := range commands {
		names = append(names, n)
	}
	sort.Strings(names)
	for _, n := range names {
		fmt.Fprintf(w, "  %-9s %s\n", n, commands[n].Summary)
	}
}

// FlagSet returns a flag set for "tool command" that reports errors
// instead of exiting.
func FlagSet(tool, command string) *flag.FlagSet {
	return flag.NewFlagSet(tool+" "+command, flag.ContinueOnError)
}
