package grok

import (
	"maps"
	"slices"
)

// builtin is the pattern library. The regexps are written for this package
// from the formats they describe (RFC 3986 for URIs, RFC 4291 for IPv6,
// Apache's LogFormat for the access logs); names follow Logstash's so that
// existing grok expressions keep working. It is never modified.
var builtin = map[string]string{
	// Numbers.
	"INT":       `[+-]?[0-9]+`,
	"POSINT":    `\b[1-9][0-9]*\b`,
	"NONNEGINT": `\b[0-9]+\b`,
	"BASE10NUM": `[+-]?(?:[0-9]+(?:\.[0-9]*)?|\.[0-9]+)`,
	"NUMBER":    `%{BASE10NUM}(?:[eE][+-]?[0-9]+)?`,
	"BASE16NUM": `[+-]?(?:0[xX])?[0-9A-Fa-f]+`,

	// Words and strings.
	"WORD":         `\b\w+\b`,
	"NOTSPACE":     `\S+`,
	"SPACE":        `\s*`,
	"DATA":         `.*?`,
	"GREEDYDATA":   `.*`,
	"QUOTEDSTRING": `"(?:[^"\\]|\\.)*"|'(?:[^'\\]|\\.)*'|` + "`[^`]*`",
	"QS":           `%{QUOTEDSTRING}`,
	"UUID":         `[0-9A-Fa-f]{8}-(?:[0-9A-Fa-f]{4}-){3}[0-9A-Fa-f]{12}`,
	"USERNAME":     `[A-Za-z0-9._-]+`,
	"USER":         `%{USERNAME}`,
	"EMAILADDRESS": `[A-Za-z0-9!#$%&'*+/=?^_{|}~-]+(?:\.[A-Za-z0-9!#$%&'*+/=?^_{|}~-]+)*@%{HOSTNAME}`,
	"HTTPDUSER":    `%{EMAILADDRESS}|%{USER}`,
	"LOGLEVEL":     `\b(?i:trace|debug|dbug|info(?:rmation(?:al)?)?|notice|warn(?:ing)?|err(?:or)?|crit(?:ical)?|fatal|severe|emerg(?:ency)?|alert|panic)\b`,

	// Network.
	"IPV4":     `\b(?:` + octet + `\.){3}` + octet + `\b`,
	"IPV6":     ipv6(),
	"IP":       `%{IPV6}|%{IPV4}`,
	"HOSTNAME": `\b[0-9A-Za-z](?:[0-9A-Za-z-]*[0-9A-Za-z])?(?:\.[0-9A-Za-z](?:[0-9A-Za-z-]*[0-9A-Za-z])?)*\b`,
	"IPORHOST": `%{IP}|%{HOSTNAME}`,
	"HOSTPORT": `%{IPORHOST}:%{POSINT}`,
	"MAC":      `[0-9A-Fa-f]{2}(?:[:-][0-9A-Fa-f]{2}){5}`,

	// Paths and URIs.
	"UNIXPATH":     `(?:/[A-Za-z0-9_%!$@:.,+~-]*)+`,
	"PATH":         `%{UNIXPATH}`,
	"URIPROTO":     `[A-Za-z][A-Za-z0-9+.-]*`,
	"URIHOST":      `%{IPORHOST}(?::%{POSINT})?`,
	"URIPATH":      `(?:/[A-Za-z0-9$.+!*'(){},~:;=@#%&_-]*)+`,
	"URIQUERY":     `[A-Za-z0-9$.+!*'|(){},~@#%&/=:;_?\[\]<>^-]*`,
	"URIPARAM":     `\?%{URIQUERY}`,
	"URIPATHPARAM": `%{URIPATH}(?:%{URIPARAM})?`,
	"URI":          `%{URIPROTO}://(?:%{USER}(?::[^@\s]*)?@)?(?:%{URIHOST})?(?:%{URIPATHPARAM})?`,

	// Dates and times.
	"MONTH":             `\b(?:[Jj]an(?:uary)?|[Ff]eb(?:ruary)?|[Mm]ar(?:ch)?|[Aa]pr(?:il)?|[Mm]ay|[Jj]une?|[Jj]uly?|[Aa]ug(?:ust)?|[Ss]ep(?:t(?:ember)?)?|[Oo]ct(?:ober)?|[Nn]ov(?:ember)?|[Dd]ec(?:ember)?)\b`,
	"MONTHNUM":          `(?:1[0-2]|0?[1-9])`,
	"MONTHDAY":          `(?:3[01]|[12][0-9]|0?[1-9])`,
	"DAY":               `\b(?:[Mm]on(?:day)?|[Tt]ue(?:sday)?|[Ww]ed(?:nesday)?|[Tt]hu(?:rsday)?|[Ff]ri(?:day)?|[Ss]at(?:urday)?|[Ss]un(?:day)?)\b`,
	"YEAR":              `[0-9]{4}`,
	"HOUR":              `(?:2[0-3]|[01]?[0-9])`,
	"MINUTE":            `[0-5][0-9]`,
	"SECOND":            `(?:60|[0-5]?[0-9])(?:[.,][0-9]+)?`,
	"TIME":              `%{HOUR}:%{MINUTE}(?::%{SECOND})?`,
	"ISO8601_TIMEZONE":  `Z|[+-](?:2[0-3]|[01][0-9])(?::?[0-5][0-9])?`,
	"TIMESTAMP_ISO8601": `%{YEAR}-%{MONTHNUM}-%{MONTHDAY}[T ]%{HOUR}:?%{MINUTE}(?::?%{SECOND})?(?:%{ISO8601_TIMEZONE})?`,
	"HTTPDATE":          `(?:3[01]|[12][0-9]|0[1-9])/[A-Z][a-z]{2}/[0-9]{4}:(?:2[0-3]|[01][0-9]):[0-5][0-9]:(?:60|[0-5][0-9]) [+-][0-9]{4}`,
	"SYSLOGTIMESTAMP":   `%{MONTH} +%{MONTHDAY} %{TIME}`,

	// Access logs. Apache's "common" format is LogFormat "%h %l %u %t \"%r\"
	// %>s %b"; "combined" adds "\"%{Referer}i\" \"%{User-agent}i\"". Nginx's
	// default log_format "combined" writes the same fields.
	"COMMONAPACHELOG": `%{IPORHOST:clientip} %{HTTPDUSER:ident} %{HTTPDUSER:auth} \[%{HTTPDATE:timestamp}\] ` +
		`"(?:%{WORD:verb} %{NOTSPACE:request}(?: HTTP/%{NUMBER:httpversion})?|%{DATA:rawrequest})" ` +
		`%{INT:response} (?:%{INT:bytes}|-)`,
	"COMBINEDAPACHELOG": `%{COMMONAPACHELOG} "%{DATA:referrer}" "%{DATA:agent}"`,
}

// octet is one decimal IPv4 component, 0–255 (leading zeros allowed).
const octet = `(?:25[0-5]|2[0-4][0-9]|1?[0-9]?[0-9])`

// ipv6 matches the RFC 4291 text forms: eight groups; "::" standing for
// zero groups; an IPv4 address in place of the last two groups; an optional
// zone after %. It is deliberately loose (it does not count the groups of a
// compressed address nor the range of the embedded IPv4 octets, and an IPv4
// tail needs a "::" before it, as in ::ffff:192.0.2.1): Go's
// regexp runs a program of more than 500 instructions on its slowest
// engine, and the composite patterns that include IP stay below that.
func ipv6() string {
	const (
		h  = `[0-9A-Fa-f]{1,4}`
		v4 = `[0-9]{1,3}(?:\.[0-9]{1,3}){3}`
	)
	full := `(?:` + h + `:){7}` + h
	compressed := `(?:` + h + `:)*(?:` + h + `)?::(?:(?:` + h + `:)*(?:` + v4 + `|` + h + `))?`
	return `(?:` + full + `|` + compressed + `)(?:%[0-9A-Za-z_.-]+)?`
}

// Names returns the names of the built-in patterns, sorted.
func Names() []string { return slices.Sorted(maps.Keys(builtin)) }

// Definition returns the regexp of a built-in pattern, which may contain
// %{…} references to other built-in patterns.
func Definition(name string) (string, bool) {
	d, ok := builtin[name]
	return d, ok
}
