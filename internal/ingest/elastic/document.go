package elastic

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"slices"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/lookout-dev/lookout/internal/event"
	"github.com/lookout-dev/lookout/internal/ingest/logmetrics"
)

// docOptions are the rules turning a source document into a record.
type docOptions struct {
	maxLine int
	promote []promotion
	metrics *logmetrics.Metrics
}

// promotion moves a source field into a stream label.
type promotion struct{ field, label string }

// Fields read from a source document, in order of preference.
var (
	messageFields = []string{"message", "log", "msg"}
	levelFields   = []string{"level", "log.level", "severity"}
)

const timestampField = "@timestamp"

// decodeDocument turns one source document into a record: the index and
// promoted fields become stream labels; message, @timestamp and level are
// lifted out; every other field, flattened with dots, becomes an attribute.
// A document without a message field is stored whole as the body, and its
// fields are not repeated as attributes.
func decodeDocument(source []byte, index string, o docOptions, now time.Time) (event.Record, error) {
	dec := json.NewDecoder(bytes.NewReader(source))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return event.Record{}, fmt.Errorf("decode source document: %w", err)
	}
	if _, err := dec.Token(); !errors.Is(err, io.EOF) {
		return event.Record{}, errors.New("unexpected data after the source document")
	}
	obj, ok := v.(map[string]any)
	if !ok {
		return event.Record{}, errors.New("source document is not a JSON object")
	}
	fields := flatten(nil, "", obj)

	rec := event.Record{Kind: event.KindLog, Time: now.UnixNano(), Level: event.LevelUnknown}
	take := func(i int) string {
		val := fields[i].Value
		fields = slices.Delete(fields, i, i+1)
		return val
	}

	lb := labels.NewScratchBuilder(1 + len(o.promote))
	lb.Add("index", o.line(index))
	for _, p := range o.promote {
		if p.label == "index" {
			continue
		}
		if i := find(fields, p.field); i >= 0 {
			if val := take(i); val != "" {
				lb.Add(p.label, o.line(val))
			}
		}
	}
	lb.Sort()
	rec.Labels = lb.Labels()

	if i := find(fields, timestampField); i >= 0 {
		if ts, ok := parseTimestamp(fields[i].Value, fields[i].numeric); ok {
			rec.Time = ts
			take(i)
		}
	}
	for _, f := range levelFields {
		if i := find(fields, f); i >= 0 {
			if lvl := logmetrics.Level(fields[i].Value); lvl != event.LevelUnknown {
				rec.Level = lvl
				take(i)
				break
			}
		}
	}
	msg := -1
	for _, f := range messageFields {
		if msg = find(fields, f); msg >= 0 {
			break
		}
	}
	if msg < 0 {
		rec.Body = o.line(string(bytes.TrimSpace(source)))
		return rec, nil
	}
	rec.Body = o.line(take(msg))
	if len(fields) > 0 {
		rec.Attrs = make([]event.Attr, len(fields))
		for i, f := range fields {
			rec.Attrs[i] = event.Attr{Key: o.line(f.Key), Value: o.line(f.Value)}
		}
	}
	return rec, nil
}

func (o docOptions) line(s string) string { return o.metrics.Line(protocol, s, o.maxLine) }

// field is a flattened source field.
type field struct {
	event.Attr
	numeric bool
}

func find(fields []field, key string) int {
	for i := range fields {
		if fields[i].Key == key {
			return i
		}
	}
	return -1
}

// flatten appends obj's scalar fields to dst with nested object keys joined
// by dots, in key order. Arrays are kept as compact JSON; nulls and empty
// objects are dropped.
func flatten(dst []field, prefix string, obj map[string]any) []field {
	keys := make([]string, 0, len(obj))
	for k := range obj {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, k := range keys {
		name := k
		if prefix != "" {
			name = prefix + "." + k
		}
		switch v := obj[k].(type) {
		case map[string]any:
			dst = flatten(dst, name, v)
		case string:
			dst = append(dst, field{Attr: event.Attr{Key: name, Value: v}})
		case json.Number:
			dst = append(dst, field{Attr: event.Attr{Key: name, Value: v.String()}, numeric: true})
		case bool:
			dst = append(dst, field{Attr: event.Attr{Key: name, Value: strconv.FormatBool(v)}})
		case nil:
		default: // []any
			b, err := json.Marshal(v)
			if err == nil {
				dst = append(dst, field{Attr: event.Attr{Key: name, Value: string(b)}})
			}
		}
	}
	return dst
}

// isoLayouts are the date formats accepted in @timestamp besides RFC 3339,
// covering Elasticsearch's strict_date_optional_time; a missing zone means
// UTC.
var isoLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999Z0700",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999",
	"2006-01-02T15:04Z07:00",
	"2006-01-02T15:04",
	"2006-01-02",
}

// parseTimestamp reads @timestamp as an ISO 8601 date or, when it is a
// number or a string of digits, as epoch milliseconds (Elasticsearch's
// default date format strict_date_optional_time||epoch_millis).
func parseTimestamp(s string, numeric bool) (int64, bool) {
	if numeric || isDigits(s) {
		whole, frac, _ := strings.Cut(s, ".")
		ms, err := strconv.ParseInt(whole, 10, 64)
		if err != nil || ms < -maxMillis || ms > maxMillis {
			return 0, false
		}
		ns := ms * 1e6
		if frac != "" {
			f, err := strconv.ParseFloat("0."+frac, 64)
			if err != nil {
				return 0, false
			}
			if ms < 0 || strings.HasPrefix(whole, "-") {
				f = -f
			}
			ns += int64(f * 1e6)
		}
		return ns, true
	}
	for _, layout := range isoLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UnixNano(), true
		}
	}
	return 0, false
}

// maxMillis keeps epoch milliseconds within int64 nanoseconds.
const maxMillis = 9_000_000_000_000

func isDigits(s string) bool {
	if s == "" {
		return false
	}
	return strings.Trim(s, "0123456789") == ""
}

func slogLevel(status int) slog.Level {
	if status == http.StatusTooManyRequests {
		return slog.LevelDebug
	}
	return slog.LevelWarn
}
