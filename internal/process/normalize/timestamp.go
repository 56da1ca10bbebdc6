package normalize

import (
	"context"
	"errors"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/prometheus/client_golang/prometheus"

	"github.com/lookout-dev/lookout/internal/event"
	"github.com/lookout-dev/lookout/internal/pipeline"
)

// Named timestamp layouts. Any other layout is a Go reference layout such as
// "2006-01-02 15:04:05.000".
const (
	// LayoutISO8601 accepts RFC 3339 and its common relaxations: a space
	// instead of T, a comma before the fraction (Python's logging), zones
	// written Z, +hh:mm, +hhmm or +hh, or no zone at all.
	LayoutISO8601     = "ISO8601"
	LayoutRFC3339     = "RFC3339"
	LayoutRFC3339Nano = "RFC3339Nano"
	// LayoutHTTPDate is the access-log time of Apache's %t and Nginx's
	// $time_local: 02/Jan/2006:15:04:05 -0700.
	LayoutHTTPDate = "HTTPDATE"
	// Unix time in seconds, milliseconds, microseconds or nanoseconds; a
	// decimal fraction is allowed ("1717243200.25").
	LayoutUnix   = "unix"
	LayoutUnixMs = "unix_ms"
	LayoutUnixUs = "unix_us"
	LayoutUnixNs = "unix_ns"
)

// DefaultLayout is used when TimestampOptions.Layout is empty.
const DefaultLayout = LayoutISO8601

const httpDateLayout = "02/Jan/2006:15:04:05 -0700"

// Times outside this range are refused: they are parse accidents, and
// event.Record.Time (Unix nanoseconds in an int64) cannot hold years past 2262.
var (
	minTime = time.Date(1970, 1, 1, 0, 0, 0, 0, time.UTC)
	maxTime = time.Date(2262, 1, 1, 0, 0, 0, 0, time.UTC)
)

// TimestampOptions configures the Timestamp stage.
type TimestampOptions struct {
	// Field is the attribute holding the time, e.g. "timestamp".
	Field string
	// Layout is a named layout (LayoutISO8601, …) or a Go layout; empty
	// means DefaultLayout.
	Layout string
	// Location applies to times written without a zone; nil means UTC.
	Location *time.Location
	// Errors counts records whose field is present but cannot be parsed.
	// Nil counts nothing.
	Errors prometheus.Counter

	_ struct{}
}

// Timestamp returns a stage that sets each record's Time from opts.Field. A
// record without the field, or whose value does not parse, keeps the time
// the receiver gave it. The stage is safe for concurrent use.
func Timestamp(opts TimestampOptions) (pipeline.Stage[[]event.Record], error) {
	if opts.Field == "" {
		return nil, errors.New("timestamp field is empty")
	}
	layout := opts.Layout
	if layout == "" {
		layout = DefaultLayout
	}
	if err := CheckLayout(layout); err != nil {
		return nil, err
	}
	loc := opts.Location
	if loc == nil {
		loc = time.UTC
	}
	names := fieldNames([]string{opts.Field})
	return func(_ context.Context, batch []event.Record) ([]event.Record, error) {
		for i := range batch {
			r := &batch[i]
			lookup(r, names, func(v string) bool {
				ns, err := ParseTime(v, layout, loc)
				if err != nil {
					if opts.Errors != nil {
						opts.Errors.Inc()
					}
					return true
				}
				r.Time = ns
				return true
			})
		}
		return batch, nil
	}, nil
}

// CheckLayout reports whether layout is a named layout or a Go layout that
// contains at least one element of the reference time.
func CheckLayout(layout string) error {
	switch layout {
	case LayoutISO8601, LayoutRFC3339, LayoutRFC3339Nano, LayoutHTTPDate, LayoutUnix, LayoutUnixMs, LayoutUnixUs, LayoutUnixNs:
		return nil
	}
	ref := time.Date(2001, 2, 3, 4, 5, 6, 0, time.UTC) // differs from the reference time in every element
	if ref.Format(layout) == layout {
		return fmt.Errorf("timestamp layout %q has no date or time elements: use a named layout (%s) or a Go layout such as 2006-01-02 15:04:05",
			layout, strings.Join([]string{LayoutISO8601, LayoutRFC3339, LayoutRFC3339Nano, LayoutHTTPDate, LayoutUnix, LayoutUnixMs, LayoutUnixUs, LayoutUnixNs}, ", "))
	}
	return nil
}

// ParseTime parses v with layout and returns Unix nanoseconds. loc applies
// to values without a zone.
func ParseTime(v, layout string, loc *time.Location) (int64, error) {
	v = strings.TrimSpace(v)
	var (
		t   time.Time
		err error
	)
	switch layout {
	case LayoutUnix:
		return parseUnix(v, 1e9)
	case LayoutUnixMs:
		return parseUnix(v, 1e6)
	case LayoutUnixUs:
		return parseUnix(v, 1e3)
	case LayoutUnixNs:
		return parseUnix(v, 1)
	case LayoutISO8601:
		t, err = parseISO8601(v, loc)
	case LayoutRFC3339:
		t, err = time.Parse(time.RFC3339, v)
	case LayoutRFC3339Nano:
		t, err = time.Parse(time.RFC3339Nano, v)
	case LayoutHTTPDate:
		t, err = time.Parse(httpDateLayout, v)
	default:
		t, err = time.ParseInLocation(layout, v, loc)
	}
	if err != nil {
		return 0, err
	}
	return checkRange(t)
}

func checkRange(t time.Time) (int64, error) {
	if t.Before(minTime) || !t.Before(maxTime) {
		return 0, fmt.Errorf("time %s is outside 1970–2261", t.Format(time.RFC3339))
	}
	return t.UnixNano(), nil
}

// iso8601Layouts are tried in order; time.Parse accepts an optional
// fraction (with '.' or ',') after the seconds of each.
var iso8601Layouts = []string{
	"2006-01-02T15:04:05Z07:00",
	"2006-01-02 15:04:05Z07:00",
	"2006-01-02T15:04:05",
	"2006-01-02 15:04:05",
	"2006-01-02T15:04:05Z0700",
	"2006-01-02 15:04:05Z0700",
	"2006-01-02T15:04:05Z07",
	"2006-01-02 15:04:05Z07",
	"2006-01-02 15:04:05 -0700",
	"2006-01-02T15:04Z07:00",
	"2006-01-02T15:04",
}

func parseISO8601(v string, loc *time.Location) (time.Time, error) {
	if len(v) < len("2006-01-02T15:04") || v[4] != '-' {
		return time.Time{}, fmt.Errorf("%q is not an ISO 8601 time", v)
	}
	if v[10] == 't' {
		v = v[:10] + "T" + v[11:]
	}
	if v[len(v)-1] == 'z' {
		v = v[:len(v)-1] + "Z"
	}
	for _, l := range iso8601Layouts {
		if t, err := time.ParseInLocation(l, v, loc); err == nil {
			return t, nil
		}
	}
	return time.Time{}, fmt.Errorf("%q is not an ISO 8601 time", v)
}

// parseUnix parses a decimal number of units, each unit nanoseconds long,
// without going through float64 so that nanosecond values stay exact.
func parseUnix(v string, unit int64) (int64, error) {
	intPart, frac, _ := strings.Cut(v, ".")
	if intPart == "" || strings.HasPrefix(intPart, "+") || strings.HasPrefix(intPart, "-") {
		return 0, fmt.Errorf("%q is not a non-negative Unix time", v)
	}
	n, err := strconv.ParseInt(intPart, 10, 64)
	if err != nil {
		return 0, fmt.Errorf("parse Unix time %q: %w", v, err)
	}
	if n > (maxTime.UnixNano()-1)/unit {
		return 0, fmt.Errorf("unix time %q is after 2261", v)
	}
	ns := n * unit
	if frac != "" {
		for i := 0; i < len(frac); i++ {
			if frac[i] < '0' || frac[i] > '9' {
				return 0, fmt.Errorf("%q is not a Unix time", v)
			}
		}
		if len(frac) > 9 {
			frac = frac[:9]
		}
		f, _ := strconv.ParseInt(frac+strings.Repeat("0", 9-len(frac)), 10, 64) // billionths of a unit
		ns += f * unit / 1e9
	}
	return ns, nil
}
