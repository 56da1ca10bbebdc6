package normalize

import (
	"context"
	"testing"
	"time"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
	"github.com/stretchr/testify/require"

	"github.com/lookout-dev/lookout/internal/event"
)

func ns(t *testing.T, s string) int64 {
	t.Helper()
	tm, err := time.Parse(time.RFC3339Nano, s)
	require.NoError(t, err)
	return tm.UnixNano()
}

func TestParseTime(t *testing.T) {
	berlin, err := time.LoadLocation("Europe/Berlin")
	require.NoError(t, err)
	cases := []struct {
		name, value, layout string
		loc                 *time.Location
		want                string // RFC 3339; empty means an error
	}{
		{"rfc3339", "2026-02-19T10:00:00Z", LayoutRFC3339, nil, "2026-02-19T10:00:00Z"},
		{"rfc3339 with fraction", "2026-02-19T10:00:00.5+01:00", LayoutRFC3339, nil, "2026-02-19T09:00:00.5Z"},
		{"rfc3339nano", "2026-02-19T10:00:00.123456789Z", LayoutRFC3339Nano, nil, "2026-02-19T10:00:00.123456789Z"},
		{"iso8601 structlog, no zone", "2026-02-19T10:00:00", LayoutISO8601, nil, "2026-02-19T10:00:00Z"},
		{"iso8601 no zone in a location", "2026-02-19T10:00:00", LayoutISO8601, berlin, "2026-02-19T09:00:00Z"},
		{"iso8601 python logging", "2025-01-14 09:12:44,123", LayoutISO8601, nil, "2025-01-14T09:12:44.123Z"},
		{"iso8601 monolog", "2025-01-14T09:12:44.123456+00:00", LayoutISO8601, nil, "2025-01-14T09:12:44.123456Z"},
		{"iso8601 django isoformat+Z", "2025-11-30T08:15:02.481516Z", LayoutISO8601, nil, "2025-11-30T08:15:02.481516Z"},
		{"iso8601 compact offset", "2026-02-19T10:00:00+0530", LayoutISO8601, nil, "2026-02-19T04:30:00Z"},
		{"iso8601 hour offset", "2026-02-19 10:00:00-03", LayoutISO8601, nil, "2026-02-19T13:00:00Z"},
		{"iso8601 lowercase", "2026-02-19t10:00:00z", LayoutISO8601, nil, "2026-02-19T10:00:00Z"},
		{"iso8601 minutes only", "2026-02-19T10:00", LayoutISO8601, nil, "2026-02-19T10:00:00Z"},
		{"iso8601 garbage", "yesterday", LayoutISO8601, nil, ""},
		{"httpdate", "19/Feb/2026:10:00:00 +0100", LayoutHTTPDate, nil, "2026-02-19T09:00:00Z"},
		{"httpdate wrong", "2026-02-19", LayoutHTTPDate, nil, ""},
		{"unix", "1771495200", LayoutUnix, nil, "2026-02-19T10:00:00Z"},
		{"unix fraction", "1771495200.25", LayoutUnix, nil, "2026-02-19T10:00:00.25Z"},
		{"unix ms", "1771495200123", LayoutUnixMs, nil, "2026-02-19T10:00:00.123Z"},
		{"unix us", "1771495200123456", LayoutUnixUs, nil, "2026-02-19T10:00:00.123456Z"},
		{"unix ns exact", "1771495200123456789", LayoutUnixNs, nil, "2026-02-19T10:00:00.123456789Z"},
		{"unix negative", "-5", LayoutUnix, nil, ""},
		{"unix overflow", "99999999999999", LayoutUnix, nil, ""},
		{"unix not a number", "12a", LayoutUnixMs, nil, ""},
		{"go layout", "19.02.2026 10:00:00.000", "02.01.2006 15:04:05.000", nil, "2026-02-19T10:00:00Z"},
		{"go layout without year", "Feb 19 10:00:00", "Jan _2 15:04:05", nil, ""},
		{"before 1970", "1969-12-31T23:59:59Z", LayoutRFC3339, nil, ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			loc := c.loc
			if loc == nil {
				loc = time.UTC
			}
			got, err := ParseTime(c.value, c.layout, loc)
			if c.want == "" {
				require.Error(t, err)
				return
			}
			require.NoError(t, err)
			require.Equal(t, ns(t, c.want), got)
		})
	}
}

func TestTimestampStage(t *testing.T) {
	errs := prometheus.NewCounter(prometheus.CounterOpts{Name: "errors_total"})
	stage, err := Timestamp(TimestampOptions{Field: "@timestamp", Layout: LayoutHTTPDate, Errors: errs})
	require.NoError(t, err)
	recs := []event.Record{
		{Time: 1, Attrs: []event.Attr{{Key: "@timestamp", Value: "19/Feb/2026:10:00:00 +0000"}}},
		{Time: 2, Attrs: []event.Attr{{Key: "@timestamp", Value: "not a time"}}},
		{Time: 3},
	}
	out, err := stage(context.Background(), recs)
	require.NoError(t, err)
	require.Equal(t, ns(t, "2026-02-19T10:00:00Z"), out[0].Time)
	require.Equal(t, int64(2), out[1].Time, "an unparsable time keeps the receiver's")
	require.Equal(t, int64(3), out[2].Time)
	require.Equal(t, 1.0, testutil.ToFloat64(errs))

	// Dotted field names also find the flattened JSON key.
	stage, err = Timestamp(TimestampOptions{Field: "event.created"})
	require.NoError(t, err)
	out, err = stage(context.Background(), []event.Record{{Attrs: []event.Attr{{Key: "event_created", Value: "2026-02-19T10:00:00Z"}}}})
	require.NoError(t, err)
	require.Equal(t, ns(t, "2026-02-19T10:00:00Z"), out[0].Time)
}

func TestCheckLayout(t *testing.T) {
	require.NoError(t, CheckLayout(LayoutUnixMs))
	require.NoError(t, CheckLayout("2006-01-02"))
	require.ErrorContains(t, CheckLayout("yyyy-MM-dd"), "has no date or time elements")
	_, err := Timestamp(TimestampOptions{Field: "t", Layout: "dd/mm"})
	require.Error(t, err)
	_, err = Timestamp(TimestampOptions{})
	require.Error(t, err)
}

func TestParseLevel(t *testing.T) {
	for in, want := range map[string]string{
		"WARNING": event.LevelWarn, "warn": event.LevelWarn, "W": event.LevelWarn, " Warn ": event.LevelWarn,
		"ERR": event.LevelError, "error": event.LevelError, "E": event.LevelError, "SEVERE": event.LevelError,
		"FATAL": event.LevelCritical, "CRIT": event.LevelCritical, "CRITICAL": event.LevelCritical, "emerg": event.LevelCritical,
		"alert": event.LevelCritical, "panic": event.LevelCritical, "DPANIC": event.LevelCritical, "emergency": event.LevelCritical,
		"INFO": event.LevelInfo, "notice": event.LevelInfo, "Informational": event.LevelInfo, "[info]": event.LevelInfo,
		"debug": event.LevelDebug, "DBG": event.LevelDebug, "trace": event.LevelTrace, "verbose": event.LevelTrace,
		"": "", "200": "", "loud": "", "warnings": "", "this is not a level at all": "",
	} {
		require.Equal(t, want, ParseLevel(in), in)
	}
}

func TestNumericLevel(t *testing.T) {
	cases := []struct {
		scheme string
		n      int
		want   string
	}{
		{NumericSyslog, 0, event.LevelCritical}, {NumericSyslog, 3, event.LevelError}, {NumericSyslog, 4, event.LevelWarn},
		{NumericSyslog, 5, event.LevelInfo}, {NumericSyslog, 7, event.LevelDebug}, {NumericSyslog, 8, ""},
		{NumericOTLP, 1, event.LevelTrace}, {NumericOTLP, 9, event.LevelInfo}, {NumericOTLP, 13, event.LevelWarn},
		{NumericOTLP, 17, event.LevelError}, {NumericOTLP, 24, event.LevelCritical}, {NumericOTLP, 0, ""},
		{NumericPino, 30, event.LevelInfo}, {NumericPino, 60, event.LevelCritical}, {NumericPino, 35, ""},
		{NumericPython, 30, event.LevelWarn}, {NumericPython, 50, event.LevelCritical},
		{NumericMonolog, 200, event.LevelInfo}, {NumericMonolog, 250, event.LevelInfo}, {NumericMonolog, 550, event.LevelCritical},
		{NumericAuto, 3, event.LevelError}, {NumericAuto, 50, event.LevelError}, {NumericAuto, 400, event.LevelError},
		{NumericAuto, 13, ""}, {NumericAuto, -1, ""},
	}
	for _, c := range cases {
		require.Equal(t, c.want, NumericLevel(c.n, c.scheme), "%s %d", c.scheme, c.n)
	}
	require.Error(t, CheckNumericScheme("log4j"))
}

func TestDetectLevel(t *testing.T) {
	for body, want := range map[string]string{
		"2026-02-19 10:00:00 ERROR payment failed":         event.LevelError,
		"[WARN] cache hit rate below 50%":                  event.LevelWarn,
		"level=debug msg=\"cache key user:123\"":           event.LevelDebug,
		"Info: user logged in":                             event.LevelInfo,
		"E0219 10:00:00.000000 1 main.go:12] FATAL: boom":  event.LevelCritical,
		`GET /error HTTP/1.1 200`:                          event.LevelUnknown,
		"trace_id=4bf9 span started":                       event.LevelUnknown,
		"errors are counted in errors_total":               event.LevelUnknown,
		"pkg.Debug was called":                             event.LevelUnknown,
		"eRRor in mixed case is not a keyword":             event.LevelUnknown,
		"critical section entered; then an error happened": event.LevelCritical,
		"": event.LevelUnknown,
		"Database connection failed (severe) after 3 retries": event.LevelError,
	} {
		require.Equal(t, want, DetectLevel(body), body)
	}
}

func TestLevelStage(t *testing.T) {
	stage, err := Level(LevelOptions{Fields: DefaultLevelFields, Detect: true})
	require.NoError(t, err)
	recs := []event.Record{
		{Attrs: []event.Attr{{Key: "severity", Value: "WARNING"}}},                              // Django
		{Attrs: []event.Attr{{Key: "level", Value: "200"}, {Key: "level_name", Value: "INFO"}}}, // Monolog
		{Attrs: []event.Attr{{Key: "level", Value: "30"}}},                                      // pino
		{Attrs: []event.Attr{{Key: "log_level", Value: "error"}}},                               // ECS, flattened
		{Attrs: []event.Attr{{Key: "level", Value: "loud"}, {Key: "lvl", Value: "crit"}}},       // first recognised wins
		{Level: event.LevelError, Attrs: []event.Attr{{Key: "level", Value: "debug"}}},          // the field wins
		{Level: "WARN", Body: "ERROR in body"},                                                  // receiver's level kept
		{Body: "2026-02-19 ERROR boom"},                                                         // detected
		{Body: "nothing to see"},
	}
	out, err := stage(context.Background(), recs)
	require.NoError(t, err)
	var got []string
	for _, r := range out {
		got = append(got, r.Level)
	}
	require.Equal(t, []string{
		event.LevelWarn, event.LevelInfo, event.LevelInfo, event.LevelError, event.LevelCritical,
		event.LevelDebug, event.LevelWarn, event.LevelError, event.LevelUnknown,
	}, got)

	stage, err = Level(LevelOptions{Fields: []string{"level"}, Numeric: NumericOTLP})
	require.NoError(t, err)
	out, err = stage(context.Background(), []event.Record{{Attrs: []event.Attr{{Key: "level", Value: "17"}}}, {Body: "ERROR"}})
	require.NoError(t, err)
	require.Equal(t, event.LevelError, out[0].Level)
	require.Equal(t, event.LevelUnknown, out[1].Level, "detection is off")

	_, err = Level(LevelOptions{Numeric: "log4j"})
	require.Error(t, err)
}

func TestTrace(t *testing.T) {
	const (
		tid = "4bf92f3577b34da6a3ce929d0e0e4736"
		sid = "00f067aa0ba902b7"
	)
	stage := Trace(TraceOptions{TraceIDFields: DefaultTraceIDFields, SpanIDFields: DefaultSpanIDFields, TraceparentFields: DefaultTraceparentFields})
	cases := []struct {
		name     string
		rec      event.Record
		tid, sid string
	}{
		{"snake case, uppercase hex", event.Record{Attrs: []event.Attr{{Key: "trace_id", Value: "4BF92F3577B34DA6A3CE929D0E0E4736"}, {Key: "span_id", Value: sid}}}, tid, sid},
		{"camel case", event.Record{Attrs: []event.Attr{{Key: "traceId", Value: tid}, {Key: "spanId", Value: sid}}}, tid, sid},
		{"ECS nested", event.Record{Attrs: []event.Attr{{Key: "trace_id", Value: tid}, {Key: "span_id", Value: sid}}}, tid, sid},
		{"traceparent", event.Record{Attrs: []event.Attr{{Key: "traceparent", Value: "00-" + tid + "-" + sid + "-01"}}}, tid, sid},
		{"wrong length ignored", event.Record{Attrs: []event.Attr{{Key: "trace_id", Value: "4bf92f35"}, {Key: "span_id", Value: "xyz"}}}, "", ""},
		{"all zeros ignored", event.Record{Attrs: []event.Attr{{Key: "trace_id", Value: "00000000000000000000000000000000"}}}, "", ""},
		{"next field tried", event.Record{Attrs: []event.Attr{{Key: "trace_id", Value: "bad"}, {Key: "traceID", Value: tid}}}, tid, ""},
		{"receiver's IDs kept", event.Record{TraceID: "11111111111111111111111111111111", SpanID: "2222222222222222", Attrs: []event.Attr{{Key: "trace_id", Value: tid}}}, "11111111111111111111111111111111", "2222222222222222"},
		{"traceparent of another trace ignored", event.Record{TraceID: "11111111111111111111111111111111", Attrs: []event.Attr{{Key: "traceparent", Value: "00-" + tid + "-" + sid + "-01"}}}, "11111111111111111111111111111111", ""},
	}
	for _, c := range cases {
		t.Run(c.name, func(t *testing.T) {
			out, err := stage(context.Background(), []event.Record{c.rec})
			require.NoError(t, err)
			require.Equal(t, c.tid, out[0].TraceID)
			require.Equal(t, c.sid, out[0].SpanID)
		})
	}
}

func TestParseTraceparent(t *testing.T) {
	const tid, sid = "4bf92f3577b34da6a3ce929d0e0e4736", "00f067aa0ba902b7"
	for in, ok := range map[string]bool{
		"00-" + tid + "-" + sid + "-01":                      true,
		"00-" + tid + "-" + sid + "-00":                      true,
		"01-" + tid + "-" + sid + "-01-future":               true,
		"00-" + tid + "-" + sid + "-01-extra":                false,
		"ff-" + tid + "-" + sid + "-01":                      false,
		"00-00000000000000000000000000000000-" + sid + "-01": false,
		"00-" + tid + "-0000000000000000-01":                 false,
		"00-" + tid + "-" + sid + "-zz":                      false,
		"00_" + tid + "_" + sid + "_01":                      false,
		"":                                                   false,
	} {
		gotT, gotS, gotOK := ParseTraceparent(in)
		require.Equal(t, ok, gotOK, in)
		if ok {
			require.Equal(t, tid, gotT)
			require.Equal(t, sid, gotS)
		}
	}
}
