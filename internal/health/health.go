// Package health serves /health: a JSON report of each component's state in
// the shape the seeds' applications use (status healthy|degraded|unhealthy,
// checks per component with response_time), with 503 when unhealthy.
package health

import (
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"time"
)

// Status values, ordered from best to worst.
const (
	Healthy   = "healthy"
	Degraded  = "degraded"
	Unhealthy = "unhealthy"
)

// ErrDegraded marks a check result that is working but impaired; wrap it to
// give the reason.
var ErrDegraded = errors.New("degraded")

// Check probes one component. It returns nil when healthy, an error wrapping
// ErrDegraded when impaired, and any other error when unhealthy. Details, if
// not nil, are merged into the component's report.
type Check func(ctx context.Context) (details map[string]any, err error)

// Named is a check with the component name it reports under.
type Named struct {
	Name  string
	Check Check
}

// Report is the /health response body.
type Report struct {
	Status    string                    `json:"status"`
	Timestamp int64                     `json:"timestamp"`
	Version   string                    `json:"version"`
	Checks    map[string]map[string]any `json:"checks"`
}

// Run executes the checks and folds their states into one status.
func Run(ctx context.Context, version string, checks []Named, now func() time.Time) Report {
	rep := Report{Status: Healthy, Timestamp: now().Unix(), Version: version, Checks: map[string]map[string]any{}}
	for _, c := range checks {
		start := now()
		details, err := c.Check(ctx)
		out := map[string]any{}
		for k, v := range details {
			out[k] = v
		}
		out["response_time"] = float64(now().Sub(start).Microseconds()) / 1000 // milliseconds
		state := Healthy
		switch {
		case errors.Is(err, ErrDegraded):
			state = Degraded
		case err != nil:
			state = Unhealthy
		}
		if err != nil {
			out["error"] = err.Error()
		}
		out["status"] = state
		rep.Checks[c.Name] = out
		if rank(state) > rank(rep.Status) {
			rep.Status = state
		}
	}
	return rep
}

func rank(s string) int {
	switch s {
	case Degraded:
		return 1
	case Unhealthy:
		return 2
	}
	return 0
}

// Handler serves the report: 200 when healthy or degraded, 503 when unhealthy.
func Handler(version string, checks []Named) http.Handler {
	return http.HandlerFunc(func(w http.ResponseWriter, r *http.Request) {
		ctx, cancel := context.WithTimeout(r.Context(), 5*time.Second)
		defer cancel()
		rep := Run(ctx, version, checks, time.Now)
		w.Header().Set("Content-Type", "application/json")
		w.Header().Set("Cache-Control", "no-store")
		if rep.Status == Unhealthy {
			w.WriteHeader(http.StatusServiceUnavailable)
		}
		_ = json.NewEncoder(w).Encode(rep)
	})
}
