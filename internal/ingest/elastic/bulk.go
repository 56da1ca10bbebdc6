package elastic

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"net/http"
	"time"

	"github.com/lookout-dev/lookout/internal/event"
	"github.com/lookout-dev/lookout/internal/ingest/logmetrics"
)

// errBulk is a structurally malformed bulk body; the whole request is
// rejected with 400.
var errBulk = errors.New("malformed bulk request")

// item is one action of a bulk request and the answer it gets.
type item struct {
	action string // index, create, delete or update
	index  string
	id     string
	// rec is the action's record in the batch, or -1 when the item failed.
	rec     int
	status  int
	errType string
	reason  string
}

// bulkAction is the metadata of an action line.
type bulkAction struct {
	Index string          `json:"_index"`
	ID    json.RawMessage `json:"_id"`
}

// parseBulk decodes an NDJSON bulk body into records and one item per
// action. defaultIndex comes from the URL (/<index>/_bulk). An error means
// the body's structure is broken and nothing may be stored.
func parseBulk(body []byte, defaultIndex string, o docOptions, now time.Time) ([]event.Record, []item, error) {
	var (
		recs  []event.Record
		items []item
	)
	lineNo := 0
	next := func() ([]byte, bool) {
		if len(body) == 0 {
			return nil, false
		}
		line, rest, _ := bytes.Cut(body, []byte{'\n'})
		body = rest
		lineNo++
		return bytes.TrimSuffix(line, []byte{'\r'}), true
	}
	for {
		line, ok := next()
		if !ok {
			break
		}
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		action, meta, err := parseAction(line)
		if err != nil {
			return nil, nil, fmt.Errorf("%w: malformed action/metadata line [%d]: %w", errBulk, lineNo, err)
		}
		it := item{action: action, index: meta.Index, rec: -1}
		if it.index == "" {
			it.index = defaultIndex
		}
		it.id = idString(meta.ID)
		var source []byte
		if action != "delete" {
			actionLine := lineNo
			if source, ok = next(); !ok {
				return nil, nil, fmt.Errorf("%w: the %s action on line [%d] has no source document line", errBulk, action, actionLine)
			}
		}
		switch {
		case action == "delete" || action == "update":
			it.status, it.errType = http.StatusBadRequest, "illegal_argument_exception"
			it.reason = action + " is not supported: Lookout stores logs append-only; use index or create"
		case it.index == "":
			it.status, it.errType = http.StatusBadRequest, "action_request_validation_exception"
			it.reason = "Validation Failed: 1: index is missing;"
		default:
			rec, err := decodeDocument(source, it.index, o, now)
			if err != nil {
				it.status, it.errType = http.StatusBadRequest, "mapper_parsing_exception"
				it.reason = "failed to parse: " + err.Error()
				break
			}
			it.rec = len(recs)
			recs = append(recs, rec)
		}
		items = append(items, it)
	}
	return recs, items, nil
}

// parseAction decodes {"<action>": {metadata}}.
func parseAction(line []byte) (string, bulkAction, error) {
	var m map[string]json.RawMessage
	if err := json.Unmarshal(line, &m); err != nil {
		return "", bulkAction{}, fmt.Errorf("expected a JSON object: %w", err)
	}
	if len(m) != 1 {
		return "", bulkAction{}, fmt.Errorf("expected one action among [create, delete, index, update], found %d keys", len(m))
	}
	for action, raw := range m {
		switch action {
		case "index", "create", "delete", "update":
		default:
			return "", bulkAction{}, fmt.Errorf("expected one of [create, delete, index, update] but found [%s]", truncate(action, 64))
		}
		var meta bulkAction
		if err := json.Unmarshal(raw, &meta); err != nil {
			return "", bulkAction{}, fmt.Errorf("decode %s metadata: %w", action, err)
		}
		meta.Index, _ = logmetrics.Clean(meta.Index, 255)
		return action, meta, nil
	}
	return "", bulkAction{}, errors.New("expected an action") // len(m) == 1: not reached
}

// idString returns the document id as given (a string or a number), or "".
func idString(raw json.RawMessage) string {
	if len(raw) == 0 {
		return ""
	}
	var s string
	if err := json.Unmarshal(raw, &s); err == nil {
		s, _ = logmetrics.Clean(s, 512)
		return s
	}
	var n json.Number
	if err := json.Unmarshal(raw, &n); err == nil {
		return n.String()
	}
	return ""
}

func truncate(s string, n int) string {
	if len(s) <= n {
		return s
	}
	return s[:n] + "…"
}

// bulkResponse is the answer to a bulk request.
type bulkResponse struct {
	Took   int64                   `json:"took"`
	Errors bool                    `json:"errors"`
	Items  []map[string]itemResult `json:"items"`
}

type itemResult struct {
	Index       string    `json:"_index"`
	ID          string    `json:"_id"`
	Version     int       `json:"_version,omitempty"`
	Result      string    `json:"result,omitempty"`
	Shards      *shards   `json:"_shards,omitempty"`
	SeqNo       *int64    `json:"_seq_no,omitempty"`
	PrimaryTerm int       `json:"_primary_term,omitempty"`
	Status      int       `json:"status"`
	Error       *esReason `json:"error,omitempty"`
}

type shards struct {
	Total      int `json:"total"`
	Successful int `json:"successful"`
	Failed     int `json:"failed"`
}

func (rc *Receiver) bulk(w http.ResponseWriter, r *http.Request) { rc.serveBulk(w, r, "") }

// indexBulk serves /<index>/<op>; only _bulk is an operation Lookout has.
func (rc *Receiver) indexBulk(w http.ResponseWriter, r *http.Request) {
	if r.PathValue("op") != "_bulk" {
		rc.notFound(w, r)
		return
	}
	rc.serveBulk(w, r, r.PathValue("index"))
}

func (rc *Receiver) serveBulk(w http.ResponseWriter, r *http.Request, index string) {
	start := rc.now()
	body, err := logmetrics.ReadBody(r, rc.maxBody)
	if err != nil {
		status, reason := logmetrics.BodyStatus(err)
		rc.fail(w, status, reason, "parse_exception", err.Error())
		return
	}
	recs, items, err := parseBulk(body, index, rc.doc, start)
	if err != nil {
		rc.fail(w, http.StatusBadRequest, logmetrics.ReasonMalformed, "illegal_argument_exception", err.Error())
		return
	}
	if len(items) == 0 {
		rc.fail(w, http.StatusBadRequest, logmetrics.ReasonMalformed, "action_request_validation_exception", "Validation Failed: 1: no requests added;")
		return
	}
	if status, err := rc.metrics.Store(protocol, rc.logger, rc.next, w, r, recs); err != nil {
		errType := "es_rejected_execution_exception"
		if status != http.StatusTooManyRequests {
			errType = "unavailable_shards_exception"
		}
		rc.fail(w, status, "", errType, "store logs: "+err.Error()) // "": Store counted the rejection
		return
	}
	resp := bulkResponse{Items: make([]map[string]itemResult, len(items))}
	for i, it := range items {
		res := itemResult{Index: it.index, ID: it.id, Status: it.status}
		if it.rec >= 0 {
			if res.ID == "" {
				res.ID = rc.newID()
			}
			seq := rc.seqNo.Add(1) - 1
			res.Version, res.Result, res.Status = 1, "created", http.StatusCreated
			res.Shards, res.SeqNo, res.PrimaryTerm = &shards{Total: 1, Successful: 1}, &seq, 1
		} else {
			resp.Errors = true
			res.Error = &esReason{Type: it.errType, Reason: it.reason}
			reason := logmetrics.ReasonMalformed
			switch it.errType {
			case "illegal_argument_exception":
				reason = logmetrics.ReasonUnsupportedOp
			case "action_request_validation_exception":
				reason = logmetrics.ReasonInvalidLabels
			}
			rc.metrics.Reject(protocol, reason, 1)
		}
		resp.Items[i] = map[string]itemResult{it.action: res}
	}
	resp.Took = rc.now().Sub(start).Milliseconds()
	writeJSON(w, http.StatusOK, resp)
}
