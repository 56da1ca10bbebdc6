package rwload

import (
	"bytes"
	"context"
	"fmt"
	"io"
	"net"
	"net/http"
	"strconv"
	"sync"
	"sync/atomic"
	"time"
)

const (
	minBackoff    = 30 * time.Millisecond
	maxBackoff    = 5 * time.Second
	maxRetryAfter = 30 * time.Second
	userAgent     = "lookout-bench-rwload/1"
)

// client sends compressed requests and keeps the tallies of a run.
type client struct {
	cfg  Config
	http *http.Client

	samplesSent, samplesFailed, requests, attempts, bytes, written atomic.Int64

	mu       sync.Mutex
	retries  map[string]int
	errs     map[string]int
	firstErr string
}

func newClient(cfg Config) *client {
	tr := &http.Transport{
		DialContext:         (&net.Dialer{Timeout: 5 * time.Second}).DialContext,
		MaxIdleConns:        cfg.Concurrency * 2,
		MaxIdleConnsPerHost: cfg.Concurrency * 2,
		IdleConnTimeout:     90 * time.Second,
		DisableCompression:  true,
	}
	return &client{
		cfg:     cfg,
		http:    &http.Client{Transport: tr, Timeout: cfg.Timeout},
		retries: map[string]int{},
		errs:    map[string]int{},
	}
}

// send delivers one request of n samples, retrying on 429, 5xx and transport errors. It returns
// false when ctx ended, so that the caller stops.
func (c *client) send(ctx context.Context, body []byte, n int) bool {
	backoff := minBackoff
	for attempt := 0; ; attempt++ {
		if ctx.Err() != nil {
			return false
		}
		c.attempts.Add(1)
		status, retryAfter, written, msg, err := c.post(ctx, body)
		if ctx.Err() != nil {
			return false // the run ended while this request was in flight; it does not count
		}
		kind := strconv.Itoa(status)
		switch {
		case err != nil:
			kind, msg = "transport", err.Error()
		case status/100 == 2:
			c.requests.Add(1)
			c.samplesSent.Add(int64(n))
			c.bytes.Add(int64(len(body)))
			c.written.Add(written)
			return true
		case status != http.StatusTooManyRequests && status/100 != 5:
			c.fail(kind, n, fmt.Errorf("HTTP %d: %s", status, msg))
			return true
		}
		if attempt >= c.cfg.MaxRetries {
			c.fail(kind, n, fmt.Errorf("giving up after %d attempts: %s", attempt+1, msg))
			return true
		}
		c.mu.Lock()
		c.retries[kind]++
		c.mu.Unlock()
		wait := backoff
		if retryAfter > 0 {
			wait = retryAfter
		}
		backoff = min(backoff*2, maxBackoff)
		select {
		case <-time.After(wait):
		case <-ctx.Done():
			return false
		}
	}
}

// post makes one attempt. It returns the status, the server's Retry-After, the samples the
// server reports as written (RW 2.0), and the start of an error body.
func (c *client) post(ctx context.Context, body []byte) (status int, retryAfter time.Duration, written int64, msg string, err error) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, c.cfg.URL, bytes.NewReader(body))
	if err != nil {
		return 0, 0, 0, "", err
	}
	req.Header.Set("Content-Type", c.cfg.Protocol.ContentType())
	req.Header.Set("Content-Encoding", "snappy")
	req.Header.Set("X-Prometheus-Remote-Write-Version", c.cfg.Protocol.Version())
	req.Header.Set("User-Agent", userAgent)
	if c.cfg.Bearer != "" {
		req.Header.Set("Authorization", "Bearer "+c.cfg.Bearer)
	}
	resp, err := c.http.Do(req)
	if err != nil {
		return 0, 0, 0, "", err
	}
	defer resp.Body.Close()
	if resp.StatusCode/100 != 2 {
		b, _ := io.ReadAll(io.LimitReader(resp.Body, 512))
		msg = string(bytes.TrimSpace(b))
	}
	_, _ = io.Copy(io.Discard, resp.Body) // let the connection be reused
	if v := resp.Header.Get("X-Prometheus-Remote-Write-Samples-Written"); v != "" {
		written, _ = strconv.ParseInt(v, 10, 64)
	}
	return resp.StatusCode, parseRetryAfter(resp.Header.Get("Retry-After"), time.Now()), written, msg, nil
}

// parseRetryAfter reads delay-seconds or an HTTP date, capped at maxRetryAfter.
func parseRetryAfter(v string, now time.Time) time.Duration {
	if v == "" {
		return 0
	}
	var d time.Duration
	if secs, err := strconv.Atoi(v); err == nil {
		d = time.Duration(secs) * time.Second
	} else if t, err := http.ParseTime(v); err == nil {
		d = t.Sub(now)
	}
	return min(max(d, 0), maxRetryAfter)
}

func (c *client) fail(kind string, n int, err error) {
	c.samplesFailed.Add(int64(n))
	c.mu.Lock()
	defer c.mu.Unlock()
	c.errs[kind]++
	if c.firstErr == "" {
		c.firstErr = err.Error()
	}
}

func (c *client) fill(s *Summary) {
	s.SamplesSent = c.samplesSent.Load()
	s.SamplesFailed = c.samplesFailed.Load()
	s.Requests = c.requests.Load()
	s.Attempts = c.attempts.Load()
	s.BytesSent = c.bytes.Load()
	s.WrittenReported = c.written.Load()
	c.mu.Lock()
	defer c.mu.Unlock()
	s.Retries, s.Errors, s.FirstError = c.retries, c.errs, c.firstErr
}
