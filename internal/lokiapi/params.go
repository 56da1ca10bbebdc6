package lokiapi

import (
	"fmt"
	"math"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/common/model"
	"github.com/prometheus/prometheus/model/labels"
	"github.com/prometheus/prometheus/promql/parser"
)

// badRequest is an error caused by the request; it is answered with 400.
type badRequest struct{ msg string }

func (e badRequest) Error() string { return e.msg }

func errBad(format string, args ...any) error { return badRequest{msg: fmt.Sprintf(format, args...)} }

// parseTimestamp reads a Loki time parameter: Unix seconds (≤ 10 digits),
// Unix nanoseconds, float seconds, or RFC 3339.
func parseTimestamp(r *http.Request, name string, def time.Time) (time.Time, error) {
	v := r.Form.Get(name)
	if v == "" {
		return def, nil
	}
	if strings.Contains(v, ".") {
		if f, err := strconv.ParseFloat(v, 64); err == nil {
			s, frac := math.Modf(f)
			return time.Unix(int64(s), int64(math.Round(frac*1e6))*1e3), nil
		}
	}
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil {
		if t, err := time.Parse(time.RFC3339Nano, v); err == nil {
			return t, nil
		}
		return time.Time{}, errBad("invalid %s %q: use Unix seconds or nanoseconds, or RFC 3339", name, v)
	}
	if len(strings.TrimPrefix(v, "-")) <= 10 {
		return time.Unix(n, 0), nil
	}
	return time.Unix(0, n), nil
}

// parseSecondsOrDuration reads "15", "1.5" (seconds) or "1m30s", "5m".
func parseSecondsOrDuration(name, v string) (time.Duration, error) {
	if f, err := strconv.ParseFloat(v, 64); err == nil {
		d := time.Duration(f * float64(time.Second))
		if d <= 0 || math.IsNaN(f) || math.IsInf(f, 0) {
			return 0, errBad("invalid %s %q: must be positive", name, v)
		}
		return d, nil
	}
	d, err := model.ParseDuration(v)
	if err != nil {
		return 0, errBad("invalid %s %q: use seconds or a duration like 30s or 5m", name, v)
	}
	if d <= 0 {
		return 0, errBad("invalid %s %q: must be positive", name, v)
	}
	return time.Duration(d), nil
}

// timeRange reads start/end/since with Loki's defaults: end = now, start =
// end - since (since defaults to 1h).
func timeRange(r *http.Request, now time.Time) (start, end time.Time, err error) {
	if end, err = parseTimestamp(r, "end", now); err != nil {
		return
	}
	since := time.Hour
	if v := r.Form.Get("since"); v != "" {
		if since, err = parseSecondsOrDuration("since", v); err != nil {
			return
		}
	}
	if start, err = parseTimestamp(r, "start", end.Add(-since)); err != nil {
		return
	}
	if end.Before(start) {
		err = errBad("end timestamp must not be before start time")
	}
	return
}

// selParser parses stream selectors, which share PromQL's syntax.
var selParser = parser.NewParser(parser.Options{})

// selectorParam parses an optional stream selector such as {app="api"}.
func selectorParam(name, v string) ([]*labels.Matcher, error) {
	if v == "" {
		return nil, nil
	}
	ms, err := selParser.ParseMetricSelector(v)
	if err != nil {
		return nil, errBad("invalid %s %q: %v", name, v, err)
	}
	return ms, nil
}
