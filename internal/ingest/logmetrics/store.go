package logmetrics

import (
	"log/slog"
	"net/http"
	"strconv"

	"github.com/lookout-dev/lookout/internal/event"
	"github.com/lookout-dev/lookout/internal/pipeline"
)

// Store hands the records an HTTP request decoded to next and counts them
// as accepted once next has stored them; an empty batch is not handed on.
// When next fails, Store logs the failure on logger (at debug for an
// overload, which is counted and expected under load, else at warn), counts
// the rejection under protocol, sets Retry-After on w and returns the status
// to answer (see Status) with next's error; the caller writes the answer in
// its protocol's format.
func (m *Metrics) Store(protocol string, logger *slog.Logger, next pipeline.Consumer[[]event.Record],
	w http.ResponseWriter, r *http.Request, recs []event.Record,
) (int, error) {
	if len(recs) == 0 {
		return 0, nil
	}
	if err := next.Consume(r.Context(), recs); err != nil {
		status, reason := Status(err)
		level := slog.LevelWarn
		if status == http.StatusTooManyRequests {
			level = slog.LevelDebug
		}
		logger.Log(r.Context(), level, "store log batch", "err", err, "records", len(recs))
		w.Header().Set("Retry-After", strconv.Itoa(int(RetryAfter.Seconds())))
		m.Reject(protocol, reason, 1)
		return status, err
	}
	m.Accept(protocol, recs)
	return 0, nil
}

// Answer stores recs as Store does and answers the request: 204 No Content
// once they are stored, else Store's status with "store logs: <error>" as
// plain text.
func (m *Metrics) Answer(protocol string, logger *slog.Logger, next pipeline.Consumer[[]event.Record],
	w http.ResponseWriter, r *http.Request, recs []event.Record,
) {
	if status, err := m.Store(protocol, logger, next, w, r, recs); err != nil {
		http.Error(w, "store logs: "+err.Error(), status)
		return
	}
	w.WriteHeader(http.StatusNoContent)
}

// Fail counts a request of protocol rejected for reason and answers it with
// status and msg as plain text.
func (m *Metrics) Fail(w http.ResponseWriter, protocol string, status int, reason, msg string) {
	m.Reject(protocol, reason, 1)
	http.Error(w, msg, status)
}
