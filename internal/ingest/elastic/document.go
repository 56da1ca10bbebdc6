package elastic

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/lookout-dev/lookout/internal/event"
	"github.com/lookout-dev/lookout/internal/ingest/jsondoc"
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

// mapping names the fields lifted out of a source document, in order of
// preference.
var mapping = jsondoc.Mapping{
	Message: []string{"message", "log", "msg"},
	Level:   []string{"level", "log.level", "severity"},
}

const timestampField = "@timestamp"

// decodeDocument turns one source document into a record: the index and
// promoted fields become stream labels; message, @timestamp and level are
// lifted out; every other field, flattened with dots, becomes an attribute.
// A document without a message field is stored whole as the body, and its
// fields are not repeated as attributes.
func decodeDocument(source []byte, index string, o docOptions, now time.Time) (event.Record, error) {
	fields, err := jsondoc.Decode(source)
	switch {
	case errors.Is(err, jsondoc.ErrTrailingData):
		return event.Record{}, errors.New("unexpected data after the source document")
	case errors.Is(err, jsondoc.ErrNotObject):
		return event.Record{}, errors.New("source document is not a JSON object")
	case err != nil:
		return event.Record{}, fmt.Errorf("decode source document: %w", err)
	}

	rec := event.Record{Kind: event.KindLog, Time: now.UnixNano(), Level: event.LevelUnknown}
	lb := labels.NewScratchBuilder(1 + len(o.promote))
	lb.Add("index", o.line(index))
	for _, p := range o.promote {
		if p.label == "index" {
			continue
		}
		if i := fields.Find(p.field); i >= 0 {
			if val := fields.Take(i); val != "" {
				lb.Add(p.label, o.line(val))
			}
		}
	}
	lb.Sort()
	rec.Labels = lb.Labels()

	if i := fields.Find(timestampField); i >= 0 {
		if ts, ok := parseTimestamp(fields[i].Value, fields[i].Numeric); ok {
			rec.Time = ts
			fields.Take(i)
		}
	}
	mapping.Lift(&rec, fields, source, o.line)
	return rec, nil
}

func (o docOptions) line(s string) string { return o.metrics.Line(protocol, s, o.maxLine) }

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
