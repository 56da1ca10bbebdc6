package main

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math"
	"net/http"
	"os"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/lookout-dev/lookout/bench/internal/loopback"
	"github.com/lookout-dev/lookout/bench/internal/procstat"
)

// postableAlert is one element of the body of POST /api/v2/alerts.
type postableAlert struct {
	Labels       map[string]string `json:"labels"`
	Annotations  map[string]string `json:"annotations"`
	StartsAt     time.Time         `json:"startsAt"`
	EndsAt       time.Time         `json:"endsAt"`
	GeneratorURL string            `json:"generatorURL"`
}

// routeAlertNames is how many alertnames the routing alerts spread over; every alert has its
// own instance, so with group_by [alertname, instance] every alert is its own group.
const routeAlertNames = 10

func routingAlerts(n int, now time.Time) []postableAlert {
	out := make([]postableAlert, n)
	for i := range out {
		inst := fmt.Sprintf("host-%05d", i)
		out[i] = postableAlert{
			Labels: map[string]string{
				"alertname": fmt.Sprintf("%s%02d", routeAlert, i%routeAlertNames),
				"instance":  inst,
				"job":       benchJob,
				"severity":  []string{"warning", "critical"}[i%2],
				"zone":      zoneName(i),
			},
			Annotations:  map[string]string{"summary": inst + " needs attention"},
			StartsAt:     now,
			EndsAt:       now.Add(time.Hour),
			GeneratorURL: "http://127.0.0.1/alertbench",
		}
	}
	return out
}

func routeKey(ls map[string]string) (string, bool) {
	if !strings.HasPrefix(ls["alertname"], routeAlert) {
		return "", false
	}
	return ls["alertname"] + "/" + ls["instance"], true
}

type routeSummary struct {
	Server          string `json:"server"`
	URL             string `json:"url"`
	Alerts          int    `json:"alerts"`
	Batch           int    `json:"batch"`
	Concurrency     int    `json:"concurrency"`
	Received        int    `json:"alerts_received"`    // distinct alerts at the sink
	Notifications   int    `json:"notifications"`      // webhook requests carrying them
	AlertsDelivered int    `json:"alerts_delivered"`   // alerts in those requests, repeats included
	WebhookRequests int    `json:"webhook_requests"`   // all requests, within the grace period too
	LateDuplicates  int    `json:"late_notifications"` // notifications in the grace period after all arrived
	Complete        bool   `json:"complete"`
	// From the first POST: until the last POST was answered, until the sink held every alert.
	PostSeconds        float64 `json:"post_seconds"`
	DeliverSeconds     float64 `json:"deliver_seconds"`
	AlertsPerSecond    float64 `json:"alerts_per_second"`
	NotificationsPerS  float64 `json:"notifications_per_second"`
	FirstArrivalSecond float64 `json:"first_arrival_seconds"`
	// Per alert: from the start of the POST that carried it to its arrival at the sink.
	LatencyP50Seconds float64 `json:"latency_p50_seconds"`
	LatencyP99Seconds float64 `json:"latency_p99_seconds"`
	LatencyMaxSeconds float64 `json:"latency_max_seconds"`
	ServerCPUSeconds  float64 `json:"server_cpu_seconds"`
	BackgroundCores   float64 `json:"background_cores"`
	PeakRSSBytes      int64   `json:"peak_rss_bytes"`
	IdleRSSBytes      int64   `json:"idle_rss_bytes"` // VmRSS before the first POST
	PostErrors        int     `json:"post_errors"`
	FirstPostError    string  `json:"first_post_error,omitempty"`
}

func runRoute(ctx context.Context, args []string) error {
	fs := newFlagSet("route")
	server := fs.String("server", "", "name of the server, for the report")
	base := fs.String("url", "", "the server's base URL (loopback only)")
	path := fs.String("path", "/api/v2/alerts", "the alerts endpoint under -url")
	sinkAddr := fs.String("sink", "127.0.0.1:0", "listen address of the webhook sink (its URL is http://ADDR/hook)")
	pid := fs.Int("pid", 0, "the server's process id, for its CPU time and peak RSS")
	n := fs.Int("alerts", 5000, "firing alerts to post, each with its own instance label")
	batch := fs.Int("batch", 250, "alerts per POST")
	conc := fs.Int("concurrency", 4, "POSTs in flight")
	timeout := fs.Duration("timeout", 3*time.Minute, "give up waiting for the sink after this long")
	grace := fs.Duration("grace", 2*time.Second, "after every alert arrived, count further notifications this long")
	if err := fs.Parse(args); err != nil {
		return err
	}
	target := strings.TrimRight(*base, "/") + *path
	if err := loopback.Check(target); err != nil {
		return err
	}
	if *n <= 0 || *batch <= 0 || *conc <= 0 {
		return errors.New("-alerts, -batch and -concurrency must be positive")
	}
	sk, err := startSink(*sinkAddr, routeKey)
	if err != nil {
		return err
	}
	defer sk.close()
	ctx, cancel := context.WithTimeout(ctx, *timeout)
	defer cancel()

	alerts := routingAlerts(*n, time.Now())
	sum := routeSummary{Server: *server, URL: target, Alerts: *n, Batch: *batch, Concurrency: *conc}
	type job struct{ lo, hi int }
	postStart := make([]time.Time, *n) // per alert: when the POST carrying it started
	jobs := make(chan job)
	var (
		wg sync.WaitGroup
		mu sync.Mutex
	)
	cl := &http.Client{Timeout: 60 * time.Second, Transport: &http.Transport{MaxIdleConnsPerHost: *conc}}
	if *pid > 0 {
		sum.IdleRSSBytes, _ = rssBytes(*pid)
	}
	u0, err := procstat.Snapshot(*pid)
	if err != nil {
		return err
	}
	t0 := time.Now()
	for range *conc {
		wg.Go(func() {
			for j := range jobs {
				start := time.Now()
				for i := j.lo; i < j.hi; i++ {
					postStart[i] = start
				}
				if err := postAlerts(ctx, cl, target, alerts[j.lo:j.hi]); err != nil {
					mu.Lock()
					sum.PostErrors++
					if sum.FirstPostError == "" {
						sum.FirstPostError = err.Error()
					}
					mu.Unlock()
				}
			}
		})
	}
	for lo := 0; lo < *n; lo += *batch {
		jobs <- job{lo, min(lo+*batch, *n)}
	}
	close(jobs)
	wg.Wait()
	sum.PostSeconds = time.Since(t0).Seconds()

	waitErr := sk.waitFor(ctx, func() bool { return sk.stats().Distinct >= *n })
	tEnd := time.Now()
	u1, _ := procstat.Snapshot(*pid)
	st := sk.stats()
	sum.Received, sum.Notifications, sum.AlertsDelivered = st.Distinct, st.Notifications, st.Alerts
	sum.Complete = waitErr == nil
	if sum.Complete {
		tEnd = sk.lastArrival()
	}
	sum.DeliverSeconds = tEnd.Sub(t0).Seconds()
	sum.AlertsPerSecond = float64(st.Distinct) / sum.DeliverSeconds
	sum.NotificationsPerS = float64(st.Notifications) / sum.DeliverSeconds
	used := u1.Sub(u0)
	sum.ServerCPUSeconds = used.Server
	sum.BackgroundCores = used.Background() / time.Since(t0).Seconds()

	var lat []float64
	firstArrival := time.Time{}
	for i, a := range alerts {
		k, _ := routeKey(a.Labels)
		if t, ok := sk.seen(k); ok {
			lat = append(lat, t.Sub(postStart[i]).Seconds())
			if firstArrival.IsZero() || t.Before(firstArrival) {
				firstArrival = t
			}
		}
	}
	if len(lat) > 0 {
		slices.Sort(lat)
		sum.LatencyP50Seconds = nearestRank(lat, 0.50)
		sum.LatencyP99Seconds = nearestRank(lat, 0.99)
		sum.LatencyMaxSeconds = lat[len(lat)-1]
		sum.FirstArrivalSecond = firstArrival.Sub(t0).Seconds()
	}
	if sum.Complete && *grace > 0 {
		select {
		case <-time.After(*grace):
		case <-ctx.Done():
		}
		after := sk.stats()
		sum.LateDuplicates = after.Notifications - st.Notifications
		st = after
	}
	sum.WebhookRequests = st.Requests
	if *pid > 0 {
		sum.PeakRSSBytes, _ = procstat.PeakRSSBytes(*pid)
	}
	if err := json.NewEncoder(os.Stdout).Encode(sum); err != nil {
		return err
	}
	switch {
	case waitErr != nil:
		return fmt.Errorf("%d of %d alerts reached the sink: %w", st.Distinct, *n, waitErr)
	case sum.PostErrors > 0:
		return fmt.Errorf("%d POSTs failed: %s", sum.PostErrors, sum.FirstPostError)
	}
	return nil
}

func postAlerts(ctx context.Context, cl *http.Client, url string, alerts []postableAlert) error {
	body, err := json.Marshal(alerts)
	if err != nil {
		return err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, url, bytes.NewReader(body))
	if err != nil {
		return err
	}
	req.Header.Set("Content-Type", "application/json")
	req.Header.Set("User-Agent", userAgent)
	resp, err := cl.Do(req)
	if err != nil {
		return err
	}
	defer resp.Body.Close()
	msg, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
	if resp.StatusCode/100 != 2 {
		return fmt.Errorf("HTTP %d: %s", resp.StatusCode, bytes.TrimSpace(msg))
	}
	return nil
}

// rssBytes returns VmRSS, the resident set of process pid now.
func rssBytes(pid int) (int64, error) {
	b, err := os.ReadFile(fmt.Sprintf("/proc/%d/status", pid))
	if err != nil {
		return 0, err
	}
	for line := range strings.Lines(string(b)) {
		if rest, ok := strings.CutPrefix(line, "VmRSS:"); ok {
			var kb int64
			if _, err := fmt.Sscan(rest, &kb); err != nil {
				return 0, err
			}
			return kb * 1024, nil
		}
	}
	return 0, errors.New("no VmRSS line")
}

// nearestRank returns the q-quantile of sorted values by the nearest-rank method.
func nearestRank(sorted []float64, q float64) float64 {
	if len(sorted) == 0 {
		return 0
	}
	i := int(math.Ceil(q*float64(len(sorted)))) - 1
	return sorted[min(max(i, 0), len(sorted)-1)]
}
