package lokipush

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"strconv"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/lookout-dev/lookout/internal/event"
)

// jsonPush is the JSON encoding of a push request:
//
//	{"streams":[{"stream":{"job":"app"},"values":[["<unix ns>","line",{"k":"v"}]]}]}
type jsonPush struct {
	Streams []jsonStream `json:"streams"`
}

type jsonStream struct {
	Stream json.RawMessage   `json:"stream"`
	Values []json.RawMessage `json:"values"`
}

// decodeJSON decodes a JSON push request into records.
func decodeJSON(b []byte, l limits) ([]event.Record, error) {
	var req jsonPush
	if err := json.Unmarshal(b, &req); err != nil {
		return nil, fmt.Errorf("decode JSON push request: %w", err)
	}
	var recs []event.Record
	for si, s := range req.Streams {
		pairs, err := decodeStringObject(s.Stream)
		if err != nil {
			return nil, &labelError{fmt.Errorf("stream %d: decode \"stream\" labels: %w", si, err)}
		}
		lps := make([]labels.Label, len(pairs))
		for i, p := range pairs {
			lps[i] = labels.Label{Name: p.Key, Value: p.Value}
		}
		ls, err := streamLabels(lps)
		if err != nil {
			return nil, &labelError{fmt.Errorf("stream %d: %w", si, err)}
		}
		for ei, raw := range s.Values {
			rec, err := decodeJSONEntry(raw, ls, l)
			if err != nil {
				return nil, fmt.Errorf("stream %d entry %d: %w", si, ei, err)
			}
			recs = append(recs, rec)
		}
	}
	return recs, nil
}

func decodeJSONEntry(raw json.RawMessage, ls labels.Labels, l limits) (event.Record, error) {
	var parts []json.RawMessage
	if err := json.Unmarshal(raw, &parts); err != nil {
		return event.Record{}, errors.New(`want an array ["<unix ns>", "<line>", {structured metadata}?]`)
	}
	if len(parts) != 2 && len(parts) != 3 {
		return event.Record{}, fmt.Errorf(`want 2 or 3 elements ["<unix ns>", "<line>", {structured metadata}?], got %d`, len(parts))
	}
	ts, err := decodeTimestamp(parts[0])
	if err != nil {
		return event.Record{}, err
	}
	var line string
	if err := json.Unmarshal(parts[1], &line); err != nil || bytes.Equal(bytes.TrimSpace(parts[1]), []byte("null")) {
		return event.Record{}, errors.New("log line must be a JSON string")
	}
	rec := event.Record{Kind: event.KindLog, Time: ts, Labels: ls, Body: l.line(line)}
	if len(parts) == 3 {
		attrs, err := decodeStringObject(parts[2])
		if err != nil {
			return event.Record{}, fmt.Errorf("decode structured metadata: %w", err)
		}
		for i := range attrs {
			attrs[i].Value = l.line(attrs[i].Value)
		}
		rec.Attrs = attrs
	}
	rec.Level = detectLevel(rec.Attrs, ls)
	return rec, nil
}

// decodeTimestamp reads Unix nanoseconds from a JSON string, as Loki
// clients send them, or from a JSON integer.
func decodeTimestamp(raw json.RawMessage) (int64, error) {
	s := string(bytes.TrimSpace(raw))
	if len(s) >= 2 && s[0] == '"' {
		if err := json.Unmarshal(raw, &s); err != nil {
			return 0, fmt.Errorf("decode timestamp: %w", err)
		}
	}
	ts, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("timestamp %q is not an integer number of Unix nanoseconds", truncate(s, 64))
	}
	return ts, nil
}

// decodeStringObject decodes a JSON object whose values are all strings,
// keeping the keys' order. null decodes to no pairs.
func decodeStringObject(raw json.RawMessage) ([]event.Attr, error) {
	if len(bytes.TrimSpace(raw)) == 0 {
		return nil, nil
	}
	dec := json.NewDecoder(bytes.NewReader(raw))
	tok, err := dec.Token()
	if err != nil {
		return nil, err
	}
	if tok == nil {
		return nil, nil
	}
	if d, ok := tok.(json.Delim); !ok || d != '{' {
		return nil, errors.New("want a JSON object of string values")
	}
	var out []event.Attr
	for dec.More() {
		kt, err := dec.Token()
		if err != nil {
			return nil, err
		}
		key, _ := kt.(string)
		vt, err := dec.Token()
		if err != nil {
			return nil, err
		}
		v, ok := vt.(string)
		if !ok {
			return nil, fmt.Errorf("value of %q must be a string", truncate(key, 128))
		}
		out = append(out, event.Attr{Key: key, Value: v})
	}
	return out, nil
}
