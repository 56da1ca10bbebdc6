package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/rand/v2"
	"os"
	"slices"
	"time"

	"github.com/prometheus/prometheus/prompb"
)

type e2eSummary struct {
	Server        string    `json:"server"`
	WriteURL      string    `json:"write_url"`
	Repeats       int       `json:"repeats"`
	Received      int       `json:"received"`
	Seconds       []float64 `json:"latency_seconds"` // in the order measured; a miss is -1
	P50Seconds    float64   `json:"latency_p50_seconds"`
	MaxSeconds    float64   `json:"latency_max_seconds"`
	MinSeconds    float64   `json:"latency_min_seconds"`
	TargetSeconds float64   `json:"target_seconds"`
	TargetMet     bool      `json:"target_met"`
	EvalInterval  string    `json:"evaluation_interval"`
	GroupWait     string    `json:"group_wait"`
}

func runE2E(ctx context.Context, args []string) error {
	fs := newFlagSet("e2e")
	server := fs.String("server", "", "name of the server, for the report")
	writeURL := fs.String("write-url", "", "remote write endpoint (loopback only)")
	sinkAddr := fs.String("sink", "127.0.0.1:0", "listen address of the webhook sink (its URL is http://ADDR/hook)")
	n := fs.Int("n", 8, "threshold crossings to time")
	each := fs.Duration("timeout", 30*time.Second, "give up on one crossing after this long")
	spread := fs.Duration("spread", 5*time.Second, "wait a random time up to this long before each crossing (use the evaluation interval)")
	target := fs.Duration("target", 10*time.Second, "the latency target, for the report")
	evalInterval := fs.String("evaluation-interval", "", "the server's evaluation interval, for the report")
	groupWait := fs.String("group-wait", "", "the route's group_wait, for the report")
	seed := fs.Uint64("seed", 0, "seed of the random waits (0: from the clock, so that runs hit different phases of the evaluation schedule)")
	if err := fs.Parse(args); err != nil {
		return err
	}
	if *n <= 0 {
		return errors.New("-n must be positive")
	}
	rw, err := newRWClient(*writeURL)
	if err != nil {
		return err
	}
	sk, err := startSink(*sinkAddr, func(ls map[string]string) (string, bool) {
		return ls[e2eProbeLbl], ls["alertname"] == e2eAlert
	})
	if err != nil {
		return err
	}
	defer sk.close()

	if *seed == 0 {
		*seed = uint64(time.Now().UnixNano())
	}
	rnd := rand.New(rand.NewPCG(*seed, 0xe2e))
	run := time.Now().UnixMilli()
	sum := e2eSummary{Server: *server, WriteURL: *writeURL, Repeats: *n, TargetSeconds: target.Seconds(),
		EvalInterval: *evalInterval, GroupWait: *groupWait}
	sleep := func(d time.Duration) error {
		select {
		case <-time.After(d):
			return nil
		case <-ctx.Done():
			return ctx.Err()
		}
	}
	for k := range *n {
		probe := fmt.Sprintf("run%d-p%02d", run, k)
		// The series exists below the threshold first, then crosses it.
		if err := rw.write(ctx, e2eSeries(probe, 0, time.Now())); err != nil {
			return err
		}
		if err := sleep(time.Second + time.Duration(rnd.Int64N(int64(*spread)))); err != nil {
			return err
		}
		t0 := time.Now()
		if err := rw.write(ctx, e2eSeries(probe, 1, t0)); err != nil {
			return err
		}
		wctx, cancel := context.WithTimeout(ctx, *each)
		werr := sk.waitFor(wctx, func() bool { _, ok := sk.seen(probe); return ok })
		cancel()
		if werr != nil {
			if ctx.Err() != nil {
				return ctx.Err()
			}
			fmt.Fprintf(os.Stderr, "alertbench e2e: %s: no webhook within %s\n", probe, *each)
			sum.Seconds = append(sum.Seconds, -1)
			continue
		}
		t, _ := sk.seen(probe)
		sum.Seconds = append(sum.Seconds, t.Sub(t0).Seconds())
		sum.Received++
	}

	var got []float64
	for _, s := range sum.Seconds {
		if s >= 0 {
			got = append(got, s)
		}
	}
	if len(got) > 0 {
		slices.Sort(got)
		sum.P50Seconds = nearestRank(got, 0.5)
		sum.MinSeconds, sum.MaxSeconds = got[0], got[len(got)-1]
	}
	sum.TargetMet = sum.Received == *n && sum.MaxSeconds <= target.Seconds()
	if err := json.NewEncoder(os.Stdout).Encode(sum); err != nil {
		return err
	}
	if sum.Received < *n {
		return fmt.Errorf("%d of %d crossings reached the sink", sum.Received, *n)
	}
	return nil
}

func e2eSeries(probe string, v float64, at time.Time) []prompb.TimeSeries {
	return []prompb.TimeSeries{{
		Labels: []prompb.Label{
			{Name: "__name__", Value: e2eMetric},
			{Name: "job", Value: benchJob},
			{Name: e2eProbeLbl, Value: probe},
		},
		Samples: []prompb.Sample{{Value: v, Timestamp: at.UnixMilli()}},
	}}
}
