package alerting

import (
	"context"
	"net/url"
	"regexp"
	"slices"
	"sync"
	"time"

	"github.com/prometheus/alertmanager/notify"
	"github.com/prometheus/alertmanager/types"
	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/common/model"
)

// Notification is one delivery of one alert group to one integration of a
// receiver, with every attempt the retry loop made for it.
type Notification struct {
	Time            time.Time      `json:"time"`
	Receiver        string         `json:"receiver"`
	Integration     string         `json:"integration"`
	Index           int            `json:"index"`
	GroupKey        string         `json:"groupKey"`
	GroupLabels     model.LabelSet `json:"groupLabels"`
	Firing          int            `json:"firing"`
	Resolved        int            `json:"resolved"`
	Alerts          []string       `json:"alerts"`
	Status          string         `json:"status"` // "success" or "failed"
	Attempts        int            `json:"attempts"`
	Error           string         `json:"error,omitempty"`
	DurationSeconds float64        `json:"durationSeconds"`

	flush time.Time // the dispatcher's flush time, to merge retries
}

// History keeps the most recent notifications in memory.
type History struct {
	mu    sync.Mutex
	size  int
	items []Notification // oldest first
}

func newHistory(size int) *History { return &History{size: size} }

// List returns up to limit notifications, newest first; limit <= 0 means all.
func (h *History) List(limit int) []Notification {
	h.mu.Lock()
	defer h.mu.Unlock()
	n := len(h.items)
	if limit <= 0 || limit > n {
		limit = n
	}
	out := make([]Notification, 0, limit)
	for i := n - 1; i >= n-limit; i-- {
		out = append(out, h.items[i])
	}
	return out
}

// record adds an attempt, merging it into the entry of an earlier attempt
// of the same flush.
func (h *History) record(n Notification) {
	h.mu.Lock()
	defer h.mu.Unlock()
	for i := len(h.items) - 1; i >= 0 && i >= len(h.items)-50; i-- {
		e := &h.items[i]
		if e.flush.Equal(n.flush) && e.GroupKey == n.GroupKey && e.Receiver == n.Receiver &&
			e.Integration == n.Integration && e.Index == n.Index {
			e.Attempts++
			e.Status, e.Error, e.DurationSeconds = n.Status, n.Error, n.DurationSeconds
			e.Time = n.Time
			return
		}
	}
	n.Attempts = 1
	h.items = append(h.items, n)
	if len(h.items) > h.size {
		h.items = slices.Delete(h.items, 0, len(h.items)-h.size)
	}
}

type notifyMetrics struct {
	total, failed *prometheus.CounterVec
}

func newNotifyMetrics(reg prometheus.Registerer) *notifyMetrics {
	m := &notifyMetrics{
		total: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lookout_notifications_total",
			Help: "Notification attempts per integration type and receiver.",
		}, []string{"integration", "receiver"}),
		failed: prometheus.NewCounterVec(prometheus.CounterOpts{
			Name: "lookout_notifications_failed_total",
			Help: "Notification attempts that failed, per integration type and receiver; failed attempts are retried with backoff.",
		}, []string{"integration", "receiver"}),
	}
	reg.MustRegister(m.total, m.failed)
	return m
}

// recordingNotifier sits between Alertmanager's retry stage and a real
// notifier: it records each attempt in the history and the metrics, and
// strips URLs from errors so webhook secrets reach neither logs nor UI.
type recordingNotifier struct {
	inner    *notify.Integration
	receiver string
	m        *Manager
}

func (n *recordingNotifier) Notify(ctx context.Context, alerts ...*types.Alert) (bool, error) {
	start := time.Now()
	retry, err := n.inner.Notify(ctx, alerts...)
	if err != nil {
		err = redactedError{msg: redactURLs(err.Error()), err: err}
	}
	name := n.inner.Name()
	n.m.metrics.total.WithLabelValues(name, n.receiver).Inc()
	e := Notification{
		Time:            time.Now(),
		Receiver:        n.receiver,
		Integration:     name,
		Index:           n.inner.Index(),
		Status:          "success",
		DurationSeconds: time.Since(start).Seconds(),
	}
	if err != nil {
		n.m.metrics.failed.WithLabelValues(name, n.receiver).Inc()
		e.Status, e.Error = "failed", err.Error()
	}
	e.GroupKey, _ = notify.GroupKey(ctx)
	e.GroupLabels, _ = notify.GroupLabels(ctx)
	e.flush, _ = notify.Now(ctx)
	for _, a := range alerts {
		if a.Resolved() {
			e.Resolved++
		} else {
			e.Firing++
		}
		e.Alerts = append(e.Alerts, a.Labels.String())
	}
	n.m.history.record(e)
	return retry, err
}

// redactedError keeps the original error for errors.Is/As but prints
// without URLs.
type redactedError struct {
	msg string
	err error
}

func (e redactedError) Error() string { return e.msg }
func (e redactedError) Unwrap() error { return e.err }

var urlPattern = regexp.MustCompile(`[a-zA-Z][a-zA-Z0-9+.-]*://[^\s"'<>]+`)

// redactURLs keeps scheme and host of every URL in s and drops user info,
// path and query, which often carry tokens (Slack and Teams webhooks).
func redactURLs(s string) string {
	return urlPattern.ReplaceAllStringFunc(s, func(raw string) string {
		u, err := url.Parse(raw)
		if err != nil || u.Host == "" {
			return "<redacted-url>"
		}
		if u.User == nil && (u.Path == "" || u.Path == "/") && u.RawQuery == "" {
			return raw
		}
		return u.Scheme + "://" + u.Host + "/<redacted>"
	})
}
