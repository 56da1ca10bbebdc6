// Command querybench times a dashboard-like set of PromQL queries, each as an instant and as a
// range query, against a Prometheus-compatible HTTP API on this machine and prints a JSON summary.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"os"
	"os/signal"
	"strconv"
	"syscall"
	"time"

	"github.com/lookout-dev/lookout/bench/internal/querybench"
)

func main() { os.Exit(run()) }

func run() int {
	var cfg querybench.Config
	var end string
	flag.StringVar(&cfg.URL, "url", "http://127.0.0.1:9090", "Prometheus HTTP API base URL (loopback only)")
	flag.StringVar(&end, "end", "now", "evaluation time: now, unix seconds, unix milliseconds (13 digits) or RFC 3339")
	flag.DurationVar(&cfg.Range, "range", time.Hour, "range of range queries")
	flag.DurationVar(&cfg.Step, "step", 15*time.Second, "step of range queries")
	flag.IntVar(&cfg.Iterations, "n", 20, "timed passes over the query set")
	flag.IntVar(&cfg.Warmup, "warmup", 1, "untimed passes first")
	flag.DurationVar(&cfg.Timeout, "timeout", 2*time.Minute, "per-query timeout")
	flag.StringVar(&cfg.Bearer, "bearer", "", "bearer token for the Authorization header")
	flag.IntVar(&cfg.ServerPID, "server-pid", 0, "if set, report the CPU seconds this process used during the timed passes")
	list := flag.Bool("list", false, "print the query set and exit")
	flag.Parse()

	if *list {
		for _, q := range querybench.Dashboard {
			fmt.Printf("%s\t%s\n", q.Name, q.Expr)
		}
		return 0
	}
	t, err := parseTime(end, time.Now())
	if err != nil {
		fmt.Fprintln(os.Stderr, "querybench:", err)
		return 2
	}
	cfg.End = t

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	sum, err := querybench.Run(ctx, cfg)
	if err != nil {
		fmt.Fprintln(os.Stderr, "querybench:", err)
		return 1
	}
	if err := json.NewEncoder(os.Stdout).Encode(sum); err != nil {
		fmt.Fprintln(os.Stderr, "querybench:", err)
		return 1
	}
	if sum.Errors > 0 {
		return 1
	}
	return 0
}

func parseTime(s string, now time.Time) (time.Time, error) {
	if s == "now" {
		return now, nil
	}
	if n, err := strconv.ParseInt(s, 10, 64); err == nil {
		if len(s) >= 13 {
			return time.UnixMilli(n), nil
		}
		return time.Unix(n, 0), nil
	}
	if f, err := strconv.ParseFloat(s, 64); err == nil {
		return time.UnixMilli(int64(f * 1000)), nil
	}
	return time.Parse(time.RFC3339, s)
}
