package lokiapi

import (
	"encoding/json"
	"net/http"
	"strconv"
	"time"

	"github.com/gorilla/websocket"

	"github.com/lookout-dev/lookout/internal/event"
	"github.com/lookout-dev/lookout/internal/eventstore"
	"github.com/lookout-dev/lookout/internal/logql"
)

// Tail bounds.
const (
	maxTailConnections = 32
	maxDelayFor        = 5 * time.Second
	tailPoll           = time.Second
)

var upgrader = websocket.Upgrader{
	ReadBufferSize:  1024,
	WriteBufferSize: 32 << 10,
	// Same-origin checks are the auth layer's job; Grafana connects from
	// its own server, logcli from the command line.
	CheckOrigin: func(*http.Request) bool { return true },
}

type tailResponse struct {
	Streams        []streamJSON `json:"streams"`
	DroppedEntries []any        `json:"dropped_entries"`
}

// handleTail streams new log lines over a WebSocket, as Loki's tail
// endpoint: first up to limit lines since start, then new lines as they are
// stored, each message a {"streams":[…]} object. Lines are read from the
// store every second, delay_for seconds behind now so late writes are seen.
func (a *API) handleTail(w http.ResponseWriter, r *http.Request) {
	if err := a.parse(r); err != nil {
		a.writeError(w, r, err)
		return
	}
	q := r.Form.Get("query")
	expr, err := logql.ParseExpr(q)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	if _, ok := expr.(*logql.LogSelectorExpr); !ok {
		a.writeError(w, r, errBad("tail requires a log query, not a metric query"))
		return
	}
	limit, err := a.limitParam(r)
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	var delay time.Duration
	if v := r.Form.Get("delay_for"); v != "" {
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 || time.Duration(n)*time.Second > maxDelayFor {
			a.writeError(w, r, errBad("invalid delay_for %q: whole seconds from 0 to 5", v))
			return
		}
		delay = time.Duration(n) * time.Second
	}
	now := a.opts.Now()
	from, err := parseTimestamp(r, "start", now.Add(-time.Hour))
	if err != nil {
		a.writeError(w, r, err)
		return
	}
	if a.tailing.Add(1) > maxTailConnections {
		a.tailing.Add(-1)
		w.Header().Set("Retry-After", "10")
		http.Error(w, "too many tail connections", http.StatusTooManyRequests)
		return
	}
	defer a.tailing.Add(-1)
	conn, err := upgrader.Upgrade(w, r, nil)
	if err != nil {
		return // the upgrader has answered
	}
	defer conn.Close()

	ctx := r.Context()
	closed := make(chan struct{})
	go func() { // reads only to notice the client closing
		defer close(closed)
		for {
			if _, _, err := conn.ReadMessage(); err != nil {
				return
			}
		}
	}()
	next := from.UnixNano()
	first := true
	for {
		end := a.opts.Now().Add(-delay)
		if end.UnixNano() > next {
			p := logql.QueryParams{Query: q, Start: time.Unix(0, next), End: end, Limit: limit,
				Direction: eventstore.Forward, Kind: event.KindLog}
			if first {
				// History: the newest limit lines, sent oldest first.
				p.Direction = eventstore.Backward
			}
			res, err := a.engine.Query(ctx, p)
			if err != nil {
				_ = conn.WriteControl(websocket.CloseMessage,
					websocket.FormatCloseMessage(websocket.CloseInternalServerErr, err.Error()), time.Now().Add(time.Second))
				return
			}
			streams, _ := res.Value.(logql.Streams)
			merged := streams.Merged(eventstore.Forward)
			n, last := 0, next-1
			for _, s := range merged {
				n += len(s.Entries)
				for _, e := range s.Entries {
					last = max(last, e.T)
				}
			}
			if n > 0 {
				b, _ := json.Marshal(tailResponse{Streams: encodeStreams(merged, false)})
				_ = conn.SetWriteDeadline(time.Now().Add(10 * time.Second))
				if err := conn.WriteMessage(websocket.TextMessage, b); err != nil {
					return
				}
			}
			if first || n < limit {
				next = max(last+1, end.UnixNano())
			} else {
				next = last + 1 // more are waiting: fetch them at once
			}
			first = false
			if n >= limit {
				continue
			}
		}
		select {
		case <-ctx.Done():
			return
		case <-closed:
			return
		case <-time.After(tailPoll):
		}
	}
}
