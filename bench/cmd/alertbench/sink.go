package main

import (
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"net"
	"net/http"
	"sync"
	"time"
)

// webhookMessage is the part of Alertmanager's webhook payload (version 4) that the sink reads.
type webhookMessage struct {
	Version  string `json:"version"`
	Status   string `json:"status"`
	Receiver string `json:"receiver"`
	Alerts   []struct {
		Status string            `json:"status"`
		Labels map[string]string `json:"labels"`
	} `json:"alerts"`
}

// sink is a webhook receiver on loopback that records when it first saw each alert. key maps
// an alert's labels to the name it is counted under, or reports that it is not counted.
type sink struct {
	key func(labels map[string]string) (string, bool)

	mu            sync.Mutex
	first         map[string]time.Time
	notifications int // requests with at least one counted alert
	requests      int
	alerts        int // counted alerts in all payloads, repeats included
	badRequests   int
	changed       chan struct{}

	srv *http.Server
	ln  net.Listener
}

func startSink(addr string, key func(map[string]string) (string, bool)) (*sink, error) {
	host, _, err := net.SplitHostPort(addr)
	if err != nil {
		return nil, fmt.Errorf("sink address %q: %w", addr, err)
	}
	if ip := net.ParseIP(host); ip == nil || !ip.IsLoopback() {
		return nil, fmt.Errorf("sink address %q: must be a loopback IP such as 127.0.0.1", addr)
	}
	ln, err := net.Listen("tcp", addr)
	if err != nil {
		return nil, err
	}
	s := &sink{key: key, first: map[string]time.Time{}, changed: make(chan struct{}, 1), ln: ln}
	mux := http.NewServeMux()
	mux.HandleFunc("POST "+sinkPath, s.handle)
	s.srv = &http.Server{Handler: mux, ReadHeaderTimeout: 10 * time.Second}
	go func() { _ = s.srv.Serve(ln) }()
	return s, nil
}

func (s *sink) URL() string { return "http://" + s.ln.Addr().String() + sinkPath }

func (s *sink) close() {
	ctx, cancel := context.WithTimeout(context.Background(), 2*time.Second)
	defer cancel()
	_ = s.srv.Shutdown(ctx)
}

func (s *sink) handle(w http.ResponseWriter, r *http.Request) {
	now := time.Now()
	var msg webhookMessage
	err := json.NewDecoder(http.MaxBytesReader(w, r.Body, 64<<20)).Decode(&msg)
	s.mu.Lock()
	s.requests++
	if err != nil {
		s.badRequests++
		s.mu.Unlock()
		http.Error(w, err.Error(), http.StatusBadRequest)
		return
	}
	counted := false
	for _, a := range msg.Alerts {
		k, ok := s.key(a.Labels)
		if !ok || a.Status != "firing" {
			continue
		}
		counted = true
		s.alerts++
		if _, seen := s.first[k]; !seen {
			s.first[k] = now
		}
	}
	if counted {
		s.notifications++
	}
	s.mu.Unlock()
	select {
	case s.changed <- struct{}{}:
	default:
	}
	w.WriteHeader(http.StatusOK)
}

type sinkStats struct {
	Distinct, Notifications, Requests, Alerts, BadRequests int
}

func (s *sink) stats() sinkStats {
	s.mu.Lock()
	defer s.mu.Unlock()
	return sinkStats{len(s.first), s.notifications, s.requests, s.alerts, s.badRequests}
}

// seen returns when key first arrived.
func (s *sink) seen(key string) (time.Time, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	t, ok := s.first[key]
	return t, ok
}

// lastArrival is the latest first-arrival time over all keys.
func (s *sink) lastArrival() time.Time {
	s.mu.Lock()
	defer s.mu.Unlock()
	var last time.Time
	for _, t := range s.first {
		if t.After(last) {
			last = t
		}
	}
	return last
}

var errSinkTimeout = errors.New("timed out waiting for the webhook sink")

// waitFor blocks until done() holds, checking after every webhook and at least every 100 ms.
func (s *sink) waitFor(ctx context.Context, done func() bool) error {
	t := time.NewTicker(100 * time.Millisecond)
	defer t.Stop()
	for !done() {
		select {
		case <-ctx.Done():
			if errors.Is(ctx.Err(), context.DeadlineExceeded) {
				return errSinkTimeout
			}
			return ctx.Err()
		case <-s.changed:
		case <-t.C:
		}
	}
	return nil
}
