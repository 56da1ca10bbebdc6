package logql

import (
	"errors"
	"math"
	"strconv"
	"strings"
	"time"
)

var errBadDuration = errors.New("invalid duration")

// parseDuration accepts Go durations ("1.5h", "300ms", "2h45m") and
// Prometheus durations, which add the units d, w and y ("1d", "2w").
func parseDuration(s string) (time.Duration, error) {
	if d, err := time.ParseDuration(s); err == nil {
		return d, nil
	}
	if s == "" {
		return 0, errBadDuration
	}
	var total time.Duration
	rest := s
	for rest != "" {
		i := 0
		for i < len(rest) && rest[i] >= '0' && rest[i] <= '9' {
			i++
		}
		if i == 0 {
			return 0, errBadDuration
		}
		n, err := strconv.ParseInt(rest[:i], 10, 64)
		if err != nil {
			return 0, errBadDuration
		}
		rest = rest[i:]
		j := 0
		for j < len(rest) && (rest[j] < '0' || rest[j] > '9') {
			j++
		}
		var unit time.Duration
		switch rest[:j] {
		case "y":
			unit = 365 * 24 * time.Hour
		case "w":
			unit = 7 * 24 * time.Hour
		case "d":
			unit = 24 * time.Hour
		case "h":
			unit = time.Hour
		case "m":
			unit = time.Minute
		case "s":
			unit = time.Second
		case "ms":
			unit = time.Millisecond
		default:
			return 0, errBadDuration
		}
		if n > math.MaxInt64/int64(unit) {
			return 0, errBadDuration
		}
		add := time.Duration(n) * unit
		if total > math.MaxInt64-add {
			return 0, errBadDuration
		}
		total += add
		rest = rest[j:]
	}
	return total, nil
}

// formatDuration prints d so that parseDuration reads it back exactly.
func formatDuration(d time.Duration) string {
	if d == 0 {
		return "0s"
	}
	var b strings.Builder
	if d < 0 {
		b.WriteByte('-')
		if d == math.MinInt64 {
			return time.Duration(d).String()
		}
		d = -d
	}
	units := []struct {
		u    time.Duration
		name string
	}{{time.Hour, "h"}, {time.Minute, "m"}, {time.Second, "s"}, {time.Millisecond, "ms"}, {time.Microsecond, "us"}, {time.Nanosecond, "ns"}}
	for _, u := range units {
		if n := d / u.u; n > 0 {
			b.WriteString(strconv.FormatInt(int64(n), 10))
			b.WriteString(u.name)
			d -= n * u.u
		}
	}
	return b.String()
}

var byteUnits = map[string]float64{
	"b": 1, "": 1,
	"k": 1e3, "kb": 1e3, "ki": 1 << 10, "kib": 1 << 10,
	"m": 1e6, "mb": 1e6, "mi": 1 << 20, "mib": 1 << 20,
	"g": 1e9, "gb": 1e9, "gi": 1 << 30, "gib": 1 << 30,
	"t": 1e12, "tb": 1e12, "ti": 1 << 40, "tib": 1 << 40,
	"p": 1e15, "pb": 1e15, "pi": 1 << 50, "pib": 1 << 50,
	"e": 1e18, "eb": 1e18, "ei": 1 << 60, "eib": 1 << 60,
}

var errBadBytes = errors.New("invalid byte size")

// parseBytes reads a humanised byte size such as "42MB", "1.5KiB", "5 MiB"
// or "3k": a decimal number, optional spaces and a unit (SI units are powers
// of 1000, IEC units of 1024; case-insensitive; none means bytes).
func parseBytes(s string) (uint64, error) {
	s = strings.TrimSpace(s)
	i := 0
	for i < len(s) && (s[i] >= '0' && s[i] <= '9' || s[i] == '.') {
		i++
	}
	if i == 0 {
		return 0, errBadBytes
	}
	n, err := strconv.ParseFloat(s[:i], 64)
	if err != nil {
		return 0, errBadBytes
	}
	mult, ok := byteUnits[strings.ToLower(strings.TrimSpace(s[i:]))]
	if !ok {
		return 0, errBadBytes
	}
	v := n * mult
	if v >= math.MaxUint64 {
		return 0, errBadBytes
	}
	return uint64(v), nil
}
