package logql

import (
	"encoding/base64"
	"encoding/json"
	"fmt"
	"math"
	"net/url"
	"strconv"
	"strings"
	"text/template"
	"time"

	"github.com/grafana/regexp"
)

// templateCtx gives the template functions __line__ and __timestamp__ the
// line being formatted. A compiled pipeline is used by one goroutine, so
// one mutable context per template is enough.
type templateCtx struct {
	line string
	ts   int64
	now  func() time.Time
}

// newTemplate compiles a line_format or label_format template with Loki's
// template functions. ctx may be nil when only validating.
func newTemplate(name, text string, ctx *templateCtx) (*template.Template, error) {
	if ctx == nil {
		ctx = &templateCtx{now: time.Now}
	}
	return template.New(name).Option("missingkey=zero").Funcs(templateFuncs(ctx)).Parse(text)
}

// templateFuncs is the supported subset of Loki's template functions:
//
//	line and time: __line__, __timestamp__, now, date, toDate, toDateInZone,
//	  unixEpoch, unixEpochMillis, unixEpochNanos, unixToTime,
//	  duration, duration_seconds, bytes
//	strings: lower, upper, title, trim, trimAll, trimPrefix, trimSuffix,
//	  trimSpace, replace, substr, trunc, repeat, indent, nindent,
//	  alignLeft, alignRight, contains, hasPrefix, hasSuffix, default,
//	  b64enc, b64dec, urlencode, urldecode, fromJson,
//	  regexReplaceAll, regexReplaceAllLiteral, count, and the Go names
//	  ToLower, ToUpper, Title, Trim, TrimLeft, TrimRight, TrimPrefix,
//	  TrimSuffix, TrimSpace, Replace
//	math: add, sub, mul, div, mod, addf, subf, mulf, divf, max, min,
//	  maxf, minf, ceil, floor, round, int, float64
//
// plus text/template's built-ins (printf, eq, and, or, not, len, index, …).
func templateFuncs(ctx *templateCtx) template.FuncMap {
	return template.FuncMap{
		"__line__":      func() string { return ctx.line },
		"__timestamp__": func() time.Time { return time.Unix(0, ctx.ts).UTC() },
		"now":           func() time.Time { return ctx.now() },

		"ToLower":    strings.ToLower,
		"ToUpper":    strings.ToUpper,
		"Title":      titleCase,
		"Trim":       strings.Trim,
		"TrimLeft":   strings.TrimLeft,
		"TrimRight":  strings.TrimRight,
		"TrimPrefix": strings.TrimPrefix,
		"TrimSuffix": strings.TrimSuffix,
		"TrimSpace":  strings.TrimSpace,
		"Replace":    strings.Replace,

		"lower":      strings.ToLower,
		"upper":      strings.ToUpper,
		"title":      titleCase,
		"trim":       strings.TrimSpace,
		"trimSpace":  strings.TrimSpace,
		"trimAll":    func(cut, s string) string { return strings.Trim(s, cut) },
		"trimPrefix": func(p, s string) string { return strings.TrimPrefix(s, p) },
		"trimSuffix": func(p, s string) string { return strings.TrimSuffix(s, p) },
		"replace":    func(old, repl, s string) string { return strings.ReplaceAll(s, old, repl) },
		"substr":     substr,
		"trunc":      trunc,
		"repeat":     func(n int, s string) string { return strings.Repeat(s, max(n, 0)) },
		"indent":     indent,
		"nindent":    func(n int, s string) string { return "\n" + indent(n, s) },
		"alignLeft":  alignLeft,
		"alignRight": alignRight,
		"contains":   func(sub, s string) bool { return strings.Contains(s, sub) },
		"hasPrefix":  func(p, s string) bool { return strings.HasPrefix(s, p) },
		"hasSuffix":  func(p, s string) bool { return strings.HasSuffix(s, p) },
		"default":    dfault,
		"b64enc":     func(s string) string { return base64.StdEncoding.EncodeToString([]byte(s)) },
		"b64dec": func(s string) string {
			b, err := base64.StdEncoding.DecodeString(s)
			if err != nil {
				return err.Error()
			}
			return string(b)
		},
		"urlencode": url.QueryEscape,
		"urldecode": func(s string) (string, error) { return url.QueryUnescape(s) },
		"fromJson": func(s string) any {
			var v any
			if json.Unmarshal([]byte(s), &v) != nil {
				return ""
			}
			return v
		},
		"regexReplaceAll": func(re, s, repl string) (string, error) {
			r, err := regexp.Compile(re)
			if err != nil {
				return "", err
			}
			return r.ReplaceAllString(s, repl), nil
		},
		"regexReplaceAllLiteral": func(re, s, repl string) (string, error) {
			r, err := regexp.Compile(re)
			if err != nil {
				return "", err
			}
			return r.ReplaceAllLiteralString(s, repl), nil
		},
		"count": func(re, s string) (int, error) {
			r, err := regexp.Compile(re)
			if err != nil {
				return 0, err
			}
			return len(r.FindAllStringIndex(s, -1)), nil
		},

		"date":         func(layout string, t any) string { return toTime(t).Format(layout) },
		"toDate":       func(layout, s string) time.Time { t, _ := time.ParseInLocation(layout, s, time.Local); return t },
		"toDateInZone": toDateInZone,
		"unixEpoch":    func(t time.Time) string { return strconv.FormatInt(t.Unix(), 10) },
		"unixEpochMillis": func(t time.Time) string {
			return strconv.FormatInt(t.UnixMilli(), 10)
		},
		"unixEpochNanos":   func(t time.Time) string { return strconv.FormatInt(t.UnixNano(), 10) },
		"unixToTime":       unixToTime,
		"duration":         durationSeconds,
		"duration_seconds": durationSeconds,
		"bytes": func(s string) (float64, error) {
			b, err := parseBytes(s)
			return float64(b), err
		},

		"add": func(a ...any) int64 { return foldInt(a, func(x, y int64) int64 { return x + y }) },
		"mul": func(a ...any) int64 { return foldInt(a, func(x, y int64) int64 { return x * y }) },
		"sub": func(a, b any) int64 { return toInt64(a) - toInt64(b) },
		"div": func(a, b any) int64 {
			d := toInt64(b)
			if d == 0 {
				return 0
			}
			return toInt64(a) / d
		},
		"mod": func(a, b any) int64 {
			d := toInt64(b)
			if d == 0 {
				return 0
			}
			return toInt64(a) % d
		},
		"max":     func(a ...any) int64 { return foldInt(a, func(x, y int64) int64 { return max(x, y) }) },
		"min":     func(a ...any) int64 { return foldInt(a, func(x, y int64) int64 { return min(x, y) }) },
		"addf":    func(a ...any) float64 { return foldFloat(a, func(x, y float64) float64 { return x + y }) },
		"subf":    func(a ...any) float64 { return foldFloat(a, func(x, y float64) float64 { return x - y }) },
		"mulf":    func(a ...any) float64 { return foldFloat(a, func(x, y float64) float64 { return x * y }) },
		"divf":    func(a ...any) float64 { return foldFloat(a, func(x, y float64) float64 { return x / y }) },
		"maxf":    func(a ...any) float64 { return foldFloat(a, math.Max) },
		"minf":    func(a ...any) float64 { return foldFloat(a, math.Min) },
		"ceil":    func(a any) float64 { return math.Ceil(toFloat64(a)) },
		"floor":   func(a any) float64 { return math.Floor(toFloat64(a)) },
		"round":   round,
		"int":     func(a any) int { return int(toInt64(a)) },
		"float64": toFloat64,
	}
}

func titleCase(s string) string {
	prev := ' '
	var b strings.Builder
	for _, r := range s {
		if prev == ' ' || prev == '\t' || prev == '\n' {
			b.WriteString(strings.ToUpper(string(r)))
		} else {
			b.WriteRune(r)
		}
		prev = r
	}
	return b.String()
}

func substr(start, end int, s string) string {
	if start < 0 {
		return s[:min(max(end, 0), len(s))]
	}
	if end < 0 || end > len(s) {
		return s[min(start, len(s)):]
	}
	if start > end {
		return ""
	}
	return s[start:end]
}

func trunc(n int, s string) string {
	if n < 0 && len(s)+n > 0 {
		return s[len(s)+n:]
	}
	if n >= 0 && len(s) > n {
		return s[:n]
	}
	return s
}

func indent(n int, s string) string {
	pad := strings.Repeat(" ", max(n, 0))
	return pad + strings.ReplaceAll(s, "\n", "\n"+pad)
}

func alignLeft(n int, s string) string {
	if n < 0 {
		return s
	}
	r := []rune(s)
	if len(r) >= n {
		return string(r[:n])
	}
	return s + strings.Repeat(" ", n-len(r))
}

func alignRight(n int, s string) string {
	if n < 0 {
		return s
	}
	r := []rune(s)
	if len(r) >= n {
		return string(r[len(r)-n:])
	}
	return strings.Repeat(" ", n-len(r)) + s
}

// dfault returns d when src is empty, nil or missing.
func dfault(d any, src ...any) any {
	if len(src) == 0 || src[0] == nil {
		return d
	}
	if s, ok := src[0].(string); ok && s == "" {
		return d
	}
	return src[0]
}

func toDateInZone(layout, zone, s string) time.Time {
	loc, err := time.LoadLocation(zone)
	if err != nil {
		loc = time.UTC
	}
	t, _ := time.ParseInLocation(layout, s, loc)
	return t
}

func toTime(v any) time.Time {
	switch t := v.(type) {
	case time.Time:
		return t
	case *time.Time:
		if t != nil {
			return *t
		}
	case int64:
		return time.Unix(t, 0)
	case int:
		return time.Unix(int64(t), 0)
	}
	return time.Time{}
}

// unixToTime reads an epoch in days, seconds, milliseconds, microseconds
// or nanoseconds, told apart by its number of digits.
func unixToTime(s string) (time.Time, error) {
	n, err := strconv.ParseInt(s, 10, 64)
	if err != nil {
		return time.Time{}, fmt.Errorf("unable to parse epoch %q: %w", s, err)
	}
	switch l := len(strings.TrimPrefix(s, "-")); {
	case l <= 5:
		return time.Unix(n*86400, 0).UTC(), nil
	case l <= 10:
		return time.Unix(n, 0).UTC(), nil
	case l <= 13:
		return time.UnixMilli(n).UTC(), nil
	case l <= 16:
		return time.UnixMicro(n).UTC(), nil
	}
	return time.Unix(0, n).UTC(), nil
}

func durationSeconds(s string) (float64, error) {
	d, err := time.ParseDuration(s)
	if err != nil {
		return 0, err
	}
	return d.Seconds(), nil
}

func round(a any, p int, rOpt ...float64) float64 {
	roundOn := .5
	if len(rOpt) > 0 {
		roundOn = rOpt[0]
	}
	val := toFloat64(a)
	pow := math.Pow(10, float64(p))
	digit := pow * val
	_, div := math.Modf(digit)
	if div >= roundOn {
		return math.Ceil(digit) / pow
	}
	return math.Floor(digit) / pow
}

func toFloat64(v any) float64 {
	switch x := v.(type) {
	case float64:
		return x
	case float32:
		return float64(x)
	case int:
		return float64(x)
	case int64:
		return float64(x)
	case int32:
		return float64(x)
	case uint64:
		return float64(x)
	case string:
		f, err := strconv.ParseFloat(strings.TrimSpace(x), 64)
		if err != nil {
			return 0
		}
		return f
	case bool:
		if x {
			return 1
		}
	}
	return 0
}

func toInt64(v any) int64 {
	switch x := v.(type) {
	case int:
		return int64(x)
	case int64:
		return x
	case int32:
		return int64(x)
	case uint64:
		return int64(x)
	case float64:
		return int64(x)
	case string:
		s := strings.TrimSpace(x)
		if n, err := strconv.ParseInt(s, 10, 64); err == nil {
			return n
		}
		if f, err := strconv.ParseFloat(s, 64); err == nil {
			return int64(f)
		}
		return 0
	case bool:
		if x {
			return 1
		}
	}
	return 0
}

func foldInt(a []any, f func(x, y int64) int64) int64 {
	if len(a) == 0 {
		return 0
	}
	acc := toInt64(a[0])
	for _, v := range a[1:] {
		acc = f(acc, toInt64(v))
	}
	return acc
}

func foldFloat(a []any, f func(x, y float64) float64) float64 {
	if len(a) == 0 {
		return 0
	}
	acc := toFloat64(a[0])
	for _, v := range a[1:] {
		acc = f(acc, toFloat64(v))
	}
	return acc
}
