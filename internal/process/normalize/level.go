package normalize

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/lookout-dev/lookout/internal/event"
	"github.com/lookout-dev/lookout/internal/pipeline"
)

// DefaultLevelFields are the attributes a level is read from, in order.
var DefaultLevelFields = []string{"level", "severity", "lvl", "log.level", "levelname", "level_name"}

// Schemes for numeric levels. Numbers mean different things to different
// loggers, so the scheme is chosen per pipeline.
const (
	// NumericAuto reads 0–7 as syslog severities, 10–60 in steps of ten as
	// pino/bunyan levels and 100–600 as Monolog levels; nothing else.
	NumericAuto = "auto"
	// NumericSyslog: RFC 5424 severities, 0 emergency … 7 debug.
	NumericSyslog = "syslog"
	// NumericOTLP: OpenTelemetry severity numbers 1–24.
	NumericOTLP = "otlp"
	// NumericPino: pino and bunyan, 10 trace, 20 debug, 30 info, 40 warn,
	// 50 error, 60 fatal.
	NumericPino = "pino"
	// NumericPython: Python's logging, 10 DEBUG, 20 INFO, 30 WARNING,
	// 40 ERROR, 50 CRITICAL.
	NumericPython = "python"
	// NumericMonolog: PHP Monolog, 100 DEBUG … 600 EMERGENCY.
	NumericMonolog = "monolog"
)

// LevelOptions configures the Level stage.
type LevelOptions struct {
	// Fields are the attributes to read the level from, in order; the first
	// whose value is a recognised level wins.
	Fields []string
	// Detect looks for a level keyword in the body (as Loki's
	// detected_level does) when no field gives one and the receiver set none.
	Detect bool
	// Numeric is the scheme for numeric values; empty means NumericAuto.
	Numeric string

	_ struct{}
}

// Level returns a stage that sets each record's Level to one of event's
// normalised levels. A recognised value in one of opts.Fields wins over the
// level the receiver set (the application knows best); otherwise a level set
// by the receiver is kept; otherwise the body is searched when opts.Detect is
// set; otherwise the level is event.LevelUnknown. The stage is safe for
// concurrent use.
func Level(opts LevelOptions) (pipeline.Stage[[]event.Record], error) {
	scheme := opts.Numeric
	if scheme == "" {
		scheme = NumericAuto
	}
	if err := CheckNumericScheme(scheme); err != nil {
		return nil, err
	}
	names := fieldNames(opts.Fields)
	return func(_ context.Context, batch []event.Record) ([]event.Record, error) {
		for i := range batch {
			r := &batch[i]
			found := lookup(r, names, func(v string) bool {
				l := ParseLevel(v)
				if l == "" {
					if n, err := strconv.Atoi(strings.TrimSpace(v)); err == nil {
						l = NumericLevel(n, scheme)
					}
				}
				if l == "" {
					return false
				}
				r.Level = l
				return true
			})
			switch {
			case found:
			case r.Level != "" && r.Level != event.LevelUnknown:
				r.Level = canonical(r.Level)
			case opts.Detect:
				r.Level = DetectLevel(r.Body)
			default:
				r.Level = event.LevelUnknown
			}
		}
		return batch, nil
	}, nil
}

// canonical maps a level set by a receiver onto the normalised set, keeping
// it when it is already normalised.
func canonical(l string) string {
	if p := ParseLevel(l); p != "" {
		return p
	}
	return event.LevelUnknown
}

// CheckNumericScheme reports whether s names a numeric level scheme.
func CheckNumericScheme(s string) error {
	switch s {
	case NumericAuto, NumericSyslog, NumericOTLP, NumericPino, NumericPython, NumericMonolog:
		return nil
	}
	return fmt.Errorf("unknown numeric level scheme %q: use one of auto, syslog, otlp, pino, python, monolog", s)
}

// levelWords maps lowercased level names onto normalised levels.
var levelWords = map[string]string{
	"trace": event.LevelTrace, "trc": event.LevelTrace, "finest": event.LevelTrace, "finer": event.LevelTrace,
	"verbose": event.LevelTrace, "t": event.LevelTrace,

	"debug": event.LevelDebug, "dbg": event.LevelDebug, "dbug": event.LevelDebug, "fine": event.LevelDebug,
	"d": event.LevelDebug,

	"info": event.LevelInfo, "inf": event.LevelInfo, "information": event.LevelInfo, "informational": event.LevelInfo,
	"notice": event.LevelInfo, "ok": event.LevelInfo, "i": event.LevelInfo, "n": event.LevelInfo,

	"warn": event.LevelWarn, "warning": event.LevelWarn, "wrn": event.LevelWarn, "w": event.LevelWarn,

	"error": event.LevelError, "err": event.LevelError, "eror": event.LevelError, "severe": event.LevelError,
	"e": event.LevelError,

	"critical": event.LevelCritical, "crit": event.LevelCritical, "fatal": event.LevelCritical,
	"ftl": event.LevelCritical, "emerg": event.LevelCritical, "emergency": event.LevelCritical,
	"alert": event.LevelCritical, "panic": event.LevelCritical, "dpanic": event.LevelCritical,
	"f": event.LevelCritical, "c": event.LevelCritical,

	"unknown": event.LevelUnknown,
}

// ParseLevel maps a level name ("WARNING", "warn", "W", "Err", "FATAL",
// "[info]", …) onto a normalised level, ignoring case, surrounding space and
// brackets. It returns "" for anything else, numbers included.
func ParseLevel(s string) string {
	s = strings.TrimSpace(s)
	s = strings.Trim(s, "[]<>()")
	if len(s) == 0 || len(s) > len("informational") {
		return ""
	}
	var buf [16]byte
	b := buf[:0]
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		b = append(b, c)
	}
	return levelWords[string(b)] // no allocation: the conversion is only a map key
}

// NumericLevel maps a numeric level in scheme onto a normalised level, or ""
// when the number means nothing in that scheme.
func NumericLevel(n int, scheme string) string {
	switch scheme {
	case NumericSyslog:
		return SyslogLevel(n)
	case NumericOTLP:
		return OTLPLevel(n)
	case NumericPino:
		return pinoLevel(n)
	case NumericPython:
		return pythonLevel(n)
	case NumericMonolog:
		return monologLevel(n)
	case NumericAuto:
		switch {
		case n >= 0 && n <= 7:
			return SyslogLevel(n)
		case n >= 10 && n <= 60 && n%10 == 0:
			return pinoLevel(n)
		default:
			return monologLevel(n)
		}
	}
	return ""
}

// SyslogLevel maps an RFC 5424 severity (0–7) onto a normalised level.
func SyslogLevel(severity int) string {
	switch severity {
	case 0, 1, 2: // emergency, alert, critical
		return event.LevelCritical
	case 3:
		return event.LevelError
	case 4:
		return event.LevelWarn
	case 5, 6: // notice, informational
		return event.LevelInfo
	case 7:
		return event.LevelDebug
	}
	return ""
}

// OTLPLevel maps an OpenTelemetry SeverityNumber (1–24) onto a normalised
// level.
func OTLPLevel(n int) string {
	switch {
	case n >= 1 && n <= 4:
		return event.LevelTrace
	case n >= 5 && n <= 8:
		return event.LevelDebug
	case n >= 9 && n <= 12:
		return event.LevelInfo
	case n >= 13 && n <= 16:
		return event.LevelWarn
	case n >= 17 && n <= 20:
		return event.LevelError
	case n >= 21 && n <= 24:
		return event.LevelCritical
	}
	return ""
}

func pinoLevel(n int) string {
	switch n {
	case 10:
		return event.LevelTrace
	case 20:
		return event.LevelDebug
	case 30:
		return event.LevelInfo
	case 40:
		return event.LevelWarn
	case 50:
		return event.LevelError
	case 60:
		return event.LevelCritical
	}
	return ""
}

func pythonLevel(n int) string {
	switch n {
	case 10:
		return event.LevelDebug
	case 20:
		return event.LevelInfo
	case 30:
		return event.LevelWarn
	case 40:
		return event.LevelError
	case 50:
		return event.LevelCritical
	}
	return ""
}

func monologLevel(n int) string {
	switch n {
	case 100:
		return event.LevelDebug
	case 200, 250: // info, notice
		return event.LevelInfo
	case 300:
		return event.LevelWarn
	case 400:
		return event.LevelError
	case 500, 550, 600: // critical, alert, emergency
		return event.LevelCritical
	}
	return ""
}

// detectWords are the keywords DetectLevel looks for. Single letters, "ok",
// "notice" and "alert" are left out: in free text they are too often plain
// words.
var detectWords = map[string]string{
	"trace": event.LevelTrace,
	"debug": event.LevelDebug, "dbg": event.LevelDebug,
	"info": event.LevelInfo, "inf": event.LevelInfo,
	"warn": event.LevelWarn, "warning": event.LevelWarn, "wrn": event.LevelWarn,
	"error": event.LevelError, "err": event.LevelError, "eror": event.LevelError, "severe": event.LevelError,
	"critical": event.LevelCritical, "crit": event.LevelCritical, "fatal": event.LevelCritical,
	"panic": event.LevelCritical, "emerg": event.LevelCritical,
}

// detectLimit is how much of a body DetectLevel reads; levels are written
// near the start of a line.
const detectLimit = 512

// DetectLevel looks for the first level keyword in the body and returns its
// normalised level, or event.LevelUnknown. A keyword is a whole word written
// in one case ("error", "ERROR", "Error"), standing alone or delimited by
// brackets, quotes, '=' or ':' ("[WARN]", "level=error", "ERROR:"). Words
// inside paths, identifiers or dotted names ("/error", "trace_id",
// "pkg.Debug") do not count.
func DetectLevel(body string) string {
	if len(body) > detectLimit {
		body = body[:detectLimit]
	}
	for i := 0; i < len(body); {
		c := body[i]
		if !isLetter(c) {
			i++
			continue
		}
		j := i
		for j < len(body) && isLetter(body[j]) {
			j++
		}
		word := body[i:j]
		if len(word) >= 3 && len(word) <= 8 && wordBoundary(body, i, j) {
			if l, ok := detectWord(word); ok {
				return l
			}
		}
		// Skip the rest of an identifier such as trace_id or x2.
		for j < len(body) && (isLetter(body[j]) || body[j] == '_' || body[j] >= '0' && body[j] <= '9') {
			j++
		}
		i = j
	}
	return event.LevelUnknown
}

func isLetter(c byte) bool { return c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' }

// wordBoundary reports whether body[i:j] stands alone: preceded and
// followed by the start or end, white space or punctuation that delimits
// values, and not by '/', '.', '-', '_' or a digit.
func wordBoundary(body string, i, j int) bool {
	return (i == 0 || delim(body[i-1])) && (j == len(body) || delim(body[j]))
}

func delim(c byte) bool {
	switch c {
	case ' ', '\t', '\n', '\r', '[', ']', '(', ')', '<', '>', '{', '}', '"', '\'', '=', ':', ',', ';', '|', '!':
		return true
	}
	return false
}

// detectWord looks up an ASCII word written in one case ("ERROR", "error",
// "Error"); mixed case ("eRRor") is not a keyword.
func detectWord(w string) (string, bool) {
	upper := 0
	for i := 1; i < len(w); i++ {
		if w[i] >= 'A' && w[i] <= 'Z' {
			upper++
		}
	}
	firstUpper := w[0] >= 'A' && w[0] <= 'Z'
	if upper != 0 && (upper != len(w)-1 || !firstUpper) {
		return "", false
	}
	var buf [8]byte
	for i := 0; i < len(w); i++ {
		c := w[i]
		if c >= 'A' && c <= 'Z' {
			c += 'a' - 'A'
		}
		buf[i] = c
	}
	l, ok := detectWords[string(buf[:len(w)])]
	return l, ok
}
