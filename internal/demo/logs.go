package demo

import (
	"bytes"
	"context"
	"encoding/hex"
	"encoding/json"
	"fmt"
	"net/http"
	"strconv"
	"time"
)

// maxLogBuffer bounds the log lines waiting to be shipped; the oldest go
// first when Lookout is not reachable.
const maxLogBuffer = 5000

// logLine is one JSON application log line, with the fields the seeds'
// services log.
type logLine struct {
	Timestamp  string  `json:"timestamp"`
	Level      string  `json:"level"`
	Message    string  `json:"message"`
	Method     string  `json:"method"`
	Path       string  `json:"path"`
	Status     int     `json:"status"`
	DurationMS float64 `json:"duration_ms"`
	RequestID  string  `json:"request_id"`
	UserID     int     `json:"user_id,omitempty"`
	IP         string  `json:"ip"`
	TraceID    string  `json:"trace_id,omitempty"`
}

// logRequest records a log line for a sample of requests: every failure,
// every slow one, one in five others (one in fifty health checks).
func (s *simulation) logRequest(r *route, out int, lat float64) {
	slow := lat > 4*r.median
	sample := 5
	if r.path == "/health" {
		sample = 50
	}
	if out == outOK && !slow && s.rng.IntN(sample) != 0 {
		return
	}
	status, _ := strconv.Atoi(r.okStatus)
	l := logLine{Level: "info", Message: "request completed"}
	switch out {
	case outClient:
		status, _ = strconv.Atoi(r.clientStatus)
		l.Level, l.Message = "warn", "request rejected: invalid input"
	case outInternal:
		status = 500
		l.Level, l.Message = "error", "unhandled exception: database query failed"
	case outUnavailable:
		status = 503
		l.Level, l.Message = "error", "upstream unavailable: connection pool exhausted"
	}
	if out == outOK && slow {
		l.Level, l.Message = "warn", "slow request"
	}
	l.Timestamp = s.clock.UTC().Format(time.RFC3339Nano)
	l.Method, l.Path, l.Status = r.method, r.path, status
	l.DurationMS = float64(int(lat*1e4)) / 10
	l.RequestID = s.hexID(8)
	if r.path != "/health" {
		l.UserID = 1000 + s.rng.IntN(9000)
	}
	l.IP = fmt.Sprintf("10.%d.%d.%d", s.rng.IntN(4), s.rng.IntN(256), 1+s.rng.IntN(254))
	if status >= 500 {
		l.TraceID = s.hexID(16)
	}
	b, _ := json.Marshal(l)
	if len(s.logs) >= maxLogBuffer {
		s.logs = s.logs[1:]
	}
	s.logs = append(s.logs, string(b))
}

func (s *simulation) hexID(n int) string {
	b := make([]byte, n)
	for i := range b {
		b[i] = byte(s.rng.IntN(256))
	}
	return hex.EncodeToString(b)
}

// TakeLogs returns the log lines simulated since the last call.
func (s *Service) TakeLogs() []string {
	s.mu.Lock()
	defer s.mu.Unlock()
	out := s.sim.logs
	s.sim.logs = nil
	return out
}

// shipLogs posts the waiting log lines as NDJSON to Options.LogsURL, as an
// application shipping its logs would. Lines that cannot be delivered are
// dropped: this is a demo.
func (s *Service) shipLogs(ctx context.Context) {
	lines := s.TakeLogs()
	if s.logsURL == "" || len(lines) == 0 {
		return
	}
	var body bytes.Buffer
	for _, l := range lines {
		body.WriteString(l)
		body.WriteByte('\n')
	}
	ctx, cancel := context.WithTimeout(ctx, 2*time.Second)
	defer cancel()
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, s.logsURL, &body)
	if err != nil {
		return
	}
	req.Header.Set("Content-Type", "application/x-ndjson")
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		s.logger.Debug("ship demo logs", "err", err)
		return
	}
	_ = resp.Body.Close()
}
