// Command rwload sends synthetic Prometheus remote write traffic to a receiver on this machine
// at full speed and prints a JSON summary line. It stops by itself after -samples-per-series
// rounds or -duration, whichever comes first.
package main

import (
	"context"
	"encoding/json"
	"flag"
	"fmt"
	"log/slog"
	"os"
	"os/signal"
	"syscall"
	"time"

	"github.com/lookout-dev/lookout/bench/internal/rwencode"
	"github.com/lookout-dev/lookout/bench/internal/rwload"
)

func main() { os.Exit(run()) }

func run() int {
	var cfg rwload.Config
	var protocol string
	flag.StringVar(&cfg.URL, "url", "http://127.0.0.1:9090/api/v1/write", "remote write endpoint (loopback only)")
	flag.StringVar(&protocol, "protocol", "v1", "remote write protocol: v1 (prometheus.WriteRequest) or v2 (io.prometheus.write.v2.Request)")
	flag.IntVar(&cfg.Series, "series", 100_000, "number of active series")
	flag.IntVar(&cfg.Metrics, "metrics", 100, "number of metric names to spread series over (0: the built-in 18)")
	flag.Uint64Var(&cfg.Seed, "seed", 1, "seed of the series layout and values")
	flag.IntVar(&cfg.Rounds, "samples-per-series", 30, "scrape rounds to send; 0 means until -duration")
	flag.DurationVar(&cfg.Duration, "duration", 0, "stop after this long even if rounds remain (0: no limit)")
	flag.DurationVar(&cfg.Interval, "interval", 15*time.Second, "simulated scrape interval: timestamps advance by it every round")
	flag.DurationVar(&cfg.Align, "align", 0, "align the first timestamp down to a multiple of this (e.g. 2h, a TSDB block)")
	flag.DurationVar(&cfg.Backfill, "backfill", time.Hour, "with -samples-per-series 0: first timestamp this long before now")
	flag.IntVar(&cfg.Batch, "batch", 2000, "samples per request")
	flag.IntVar(&cfg.Concurrency, "concurrency", 4, "parallel senders")
	flag.IntVar(&cfg.MaxSkew, "max-skew", 4, "rounds the fastest sender may run ahead of the slowest")
	flag.BoolVar(&cfg.PreEncode, "preencode", true, "encode all requests before sending (needs -samples-per-series)")
	flag.StringVar(&cfg.Bearer, "bearer", "", "bearer token for the Authorization header")
	flag.DurationVar(&cfg.Timeout, "timeout", 30*time.Second, "per-request timeout")
	flag.IntVar(&cfg.MaxRetries, "max-retries", 10, "retries per request on 429, 5xx and transport errors")
	flag.IntVar(&cfg.ServerPID, "server-pid", 0, "if set, report the CPU seconds this process used while sending")
	flag.Parse()

	logger := slog.New(slog.NewTextHandler(os.Stderr, nil))
	p, err := rwencode.ParseProtocol(protocol)
	if err != nil {
		fmt.Fprintln(os.Stderr, "rwload:", err)
		return 2
	}
	cfg.Protocol = p
	if cfg.Rounds == 0 {
		cfg.PreEncode = false
	}
	if err := cfg.Validate(); err != nil {
		fmt.Fprintln(os.Stderr, "rwload:", err)
		return 2
	}

	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	sum, err := rwload.Run(ctx, cfg, logger)
	if err != nil {
		fmt.Fprintln(os.Stderr, "rwload:", err)
		return 1
	}
	if err := json.NewEncoder(os.Stdout).Encode(sum); err != nil {
		fmt.Fprintln(os.Stderr, "rwload:", err)
		return 1
	}
	if sum.SamplesSent == 0 || sum.SamplesFailed > 0 {
		return 1
	}
	return 0
}
