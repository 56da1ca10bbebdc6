package logsapi

import (
	"bytes"
	"encoding/json"
	"errors"
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/lookout-dev/lookout/internal/event"
	"github.com/lookout-dev/lookout/internal/ingest/jsondoc"
	"github.com/lookout-dev/lookout/internal/ingest/logmetrics"
)

// Fields read from a JSON line, in order of preference.
var (
	mapping = jsondoc.Mapping{
		Message: []string{"message", "msg", "log"},
		Level:   []string{"level", "severity"},
	}
	timeFields = []string{"timestamp", "time", "ts", "@timestamp"}
)

// decoder turns a request body into records.
type decoder struct {
	labels  labels.Labels
	now     int64 // Unix ns stamped on records without a time
	maxLine int
	metrics *logmetrics.Metrics
}

func (d decoder) line(s string) string { return d.metrics.Line(protocol, s, d.maxLine) }

// text makes each non-blank line of body a record.
func (d decoder) text(body []byte) []event.Record {
	var recs []event.Record
	for len(body) > 0 {
		var line []byte
		line, body, _ = bytes.Cut(body, []byte{'\n'})
		line = bytes.TrimSuffix(line, []byte{'\r'})
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		recs = append(recs, event.Record{Kind: event.KindLog, Time: d.now, Labels: d.labels, Body: d.line(string(line)), Level: event.LevelUnknown})
	}
	return recs
}

// json decodes one JSON object per non-blank line or, when the body is a
// JSON array, one per element. The first bad line fails the whole body.
func (d decoder) json(body []byte) ([]event.Record, error) {
	if trimmed := bytes.TrimSpace(body); len(trimmed) > 0 && trimmed[0] == '[' {
		return d.jsonArray(trimmed)
	}
	var recs []event.Record
	for n := 1; len(body) > 0; n++ {
		var line []byte
		line, body, _ = bytes.Cut(body, []byte{'\n'})
		if len(bytes.TrimSpace(line)) == 0 {
			continue
		}
		rec, err := d.object(line)
		if err != nil {
			return nil, fmt.Errorf("line %d: %w", n, err)
		}
		recs = append(recs, rec)
	}
	return recs, nil
}

func (d decoder) jsonArray(body []byte) ([]event.Record, error) {
	var elems []json.RawMessage
	if err := json.Unmarshal(body, &elems); err != nil {
		return nil, fmt.Errorf("decode JSON array: %w", err)
	}
	recs := make([]event.Record, 0, len(elems))
	for i, e := range elems {
		rec, err := d.object(e)
		if err != nil {
			return nil, fmt.Errorf("array element %d: %w", i, err)
		}
		recs = append(recs, rec)
	}
	return recs, nil
}

// object turns one JSON object into a record: message, time and level are
// lifted out and every other field, flattened with dots, becomes an
// attribute. An object without a message field is stored whole as the
// body, without repeating its fields as attributes.
func (d decoder) object(raw []byte) (event.Record, error) {
	fields, err := jsondoc.Decode(raw)
	switch {
	case errors.Is(err, jsondoc.ErrTrailingData):
		return event.Record{}, errors.New("invalid JSON: unexpected data after the object")
	case errors.Is(err, jsondoc.ErrNotObject):
		return event.Record{}, errors.New("want a JSON object")
	case err != nil:
		return event.Record{}, fmt.Errorf("invalid JSON: %w", err)
	}

	rec := event.Record{Kind: event.KindLog, Time: d.now, Labels: d.labels, Level: event.LevelUnknown}
	// A time field that does not parse may be a field of the same name
	// meaning something else ("time": "12ms"); it stays an attribute.
	for _, f := range timeFields {
		if i := fields.Find(f); i >= 0 {
			if ts, err := parseTime(fields[i].Value); err == nil {
				rec.Time = ts
				fields.Take(i)
				break
			}
		}
	}
	mapping.Lift(&rec, fields, raw, d.line)
	return rec, nil
}

// timeLayouts are the accepted time strings besides plain numbers; a
// missing zone means UTC.
var timeLayouts = []string{
	time.RFC3339Nano,
	"2006-01-02T15:04:05.999999999Z0700",
	"2006-01-02T15:04:05.999999999",
	"2006-01-02 15:04:05.999999999Z07:00",
	"2006-01-02 15:04:05.999999999",
}

// Magnitudes that tell the unit of a Unix timestamp: a value below 1e11 is
// in seconds (until year 5138), below 1e14 in milliseconds, below 1e17 in
// microseconds, and nanoseconds otherwise.
const (
	maxSeconds = 1e11
	maxMillis  = 1e14
	maxMicros  = 1e17
)

// parseTime reads an RFC 3339 time or a Unix timestamp in seconds,
// milliseconds, microseconds or nanoseconds (told apart by magnitude), given
// as a JSON number or a string. Decimal fractions are read exactly.
func parseTime(s string) (int64, error) {
	for _, layout := range timeLayouts {
		if t, err := time.Parse(layout, s); err == nil {
			return t.UnixNano(), nil
		}
	}
	whole, frac, hasFrac := strings.Cut(s, ".")
	n, err := strconv.ParseInt(whole, 10, 64)
	if err != nil || hasFrac && (frac == "" || !isDigits(frac)) {
		return parseFloatTime(s)
	}
	a := uint64(n)
	if n < 0 {
		a = uint64(-(n + 1)) + 1
	}
	var unit int64
	switch {
	case a < maxSeconds:
		unit = 1e9
	case a < maxMillis:
		unit = 1e6
	case a < maxMicros:
		unit = 1e3
	default:
		return n, nil // nanoseconds; a fraction of a nanosecond is dropped
	}
	if a > math.MaxInt64/uint64(unit) {
		return 0, fmt.Errorf("time %q is out of range", truncate(s, 64))
	}
	ns := n * unit
	if hasFrac {
		digits := len(strconv.FormatInt(unit, 10)) - 1
		frac = (frac + strings.Repeat("0", digits))[:digits]
		f, _ := strconv.ParseInt(frac, 10, 64) // digits only, at most 9
		if strings.HasPrefix(whole, "-") {
			f = -f
		}
		ns += f
	}
	return ns, nil
}

// parseFloatTime reads exponent forms such as 1.7637192e9.
func parseFloatTime(s string) (int64, error) {
	f, err := strconv.ParseFloat(s, 64)
	if err != nil || math.IsNaN(f) || math.IsInf(f, 0) || strings.ContainsAny(s, "xXpP_") {
		return 0, fmt.Errorf("time %q is neither RFC 3339 nor a Unix timestamp", truncate(s, 64))
	}
	a := math.Abs(f)
	switch {
	case a < maxSeconds:
		f *= 1e9
	case a < maxMillis:
		f *= 1e6
	case a < maxMicros:
		f *= 1e3
	}
	if math.Abs(f) > math.MaxInt64/2 {
		return 0, fmt.Errorf("time %q is out of range", truncate(s, 64))
	}
	return int64(math.Round(f)), nil
}

func isDigits(s string) bool { return strings.Trim(s, "0123456789") == "" }
