package syslog

import (
	"bytes"
	"errors"
	"time"

	"github.com/lookout-dev/lookout/internal/event"
)

// Message is one parsed syslog message. Empty strings stand for absent
// fields (RFC 5424's "-").
type Message struct {
	Facility int // 0–23
	Severity int // 0–7
	// RFC5424 says the message was in RFC 5424 format; otherwise it was
	// read as RFC 3164 (BSD) syslog.
	RFC5424 bool
	// Time is zero when the message carries no (readable) timestamp.
	Time     time.Time
	Hostname string
	AppName  string // RFC 5424 APP-NAME, or the RFC 3164 tag without its [pid]
	ProcID   string // RFC 5424 PROCID, or the RFC 3164 tag's [pid]
	MsgID    string
	// StructuredData holds RFC 5424 SD-PARAMs keyed "sd_id.param_name";
	// an element without parameters is one pair keyed "sd_id" with an
	// empty value.
	StructuredData []event.Attr
	Text           string
}

// ErrNoPriority is returned for input that does not start with a valid
// <PRI> (0–191), the only part of a syslog message that is required.
var ErrNoPriority = errors.New("syslog message does not start with <PRI>")

// Parse parses one syslog message (without framing). It reads RFC 5424
// when the priority is followed by a version number, and otherwise RFC 3164
// the way rsyslog does: timestamp, hostname and tag are each optional, and
// anything it cannot place becomes the message text. A message in RFC 5424
// form whose header is broken is read as RFC 3164 too. RFC 3164 timestamps
// carry no year or zone: they are read in now's location, in the year that
// puts them nearest to now. Parse fails only without a valid <PRI>.
func Parse(b []byte, now time.Time) (Message, error) {
	pri, rest, ok := parsePriority(b)
	if !ok {
		return Message{}, ErrNoPriority
	}
	m := Message{Facility: pri / 8, Severity: pri % 8}
	if parse5424(rest, &m) {
		return m, nil
	}
	m = Message{Facility: pri / 8, Severity: pri % 8}
	parse3164(rest, now, &m)
	return m, nil
}

func parsePriority(b []byte) (int, []byte, bool) {
	if len(b) < 3 || b[0] != '<' {
		return 0, nil, false
	}
	pri := 0
	i := 1
	for ; i < len(b) && i <= 4 && b[i] >= '0' && b[i] <= '9'; i++ {
		pri = pri*10 + int(b[i]-'0')
	}
	if i == 1 || i > 4 || i >= len(b) || b[i] != '>' || pri > 191 {
		return 0, nil, false
	}
	return pri, b[i+1:], true
}

// parse5424 parses what follows <PRI> as
// VERSION SP TIMESTAMP SP HOSTNAME SP APP-NAME SP PROCID SP MSGID SP SD [SP MSG].
// It returns false, leaving m in an undefined state, when the header does
// not have that shape.
func parse5424(b []byte, m *Message) bool {
	version, b, ok := token(b)
	if !ok || len(version) == 0 || len(version) > 3 || version[0] < '1' || version[0] > '9' || !allDigits(version) {
		return false
	}
	var ts, host, app, proc, msgid []byte
	for _, f := range []*[]byte{&ts, &host, &app, &proc, &msgid} {
		if *f, b, ok = token(b); !ok || len(*f) == 0 {
			return false
		}
	}
	if string(ts) != "-" {
		// An unreadable timestamp is not worth losing the message over;
		// the receive time is used instead.
		if t, err := time.Parse(time.RFC3339Nano, string(ts)); err == nil {
			m.Time = t
		}
	}
	m.Hostname, m.AppName, m.ProcID, m.MsgID = nilValue(host), nilValue(app), nilValue(proc), nilValue(msgid)
	sd, rest, ok := parseSD(b)
	if !ok {
		return false
	}
	m.StructuredData = sd
	if len(rest) > 0 {
		if rest[0] != ' ' {
			return false
		}
		rest = rest[1:]
	}
	rest = bytes.TrimPrefix(rest, []byte("\xef\xbb\xbf")) // BOM announcing UTF-8
	// rsyslog relays RFC 3164 input with %msg%, which keeps the space that
	// followed the tag, so its RFC 5424 output has two spaces before MSG.
	rest = bytes.TrimPrefix(rest, []byte(" "))
	m.RFC5424 = true
	m.Text = string(rest)
	return true
}

// token returns the bytes up to the next space and what follows the space.
// ok is false when there is no space.
func token(b []byte) (tok, rest []byte, ok bool) {
	i := bytes.IndexByte(b, ' ')
	if i < 0 {
		return nil, nil, false
	}
	return b[:i], b[i+1:], true
}

func nilValue(b []byte) string {
	if string(b) == "-" {
		return ""
	}
	return string(b)
}

func allDigits(b []byte) bool {
	for _, c := range b {
		if c < '0' || c > '9' {
			return false
		}
	}
	return true
}

// parseSD parses STRUCTURED-DATA: "-" or one or more [SD-ID *(SP name="value")].
func parseSD(b []byte) ([]event.Attr, []byte, bool) {
	if len(b) > 0 && b[0] == '-' {
		return nil, b[1:], true
	}
	if len(b) == 0 || b[0] != '[' {
		return nil, nil, false
	}
	var attrs []event.Attr
	for len(b) > 0 && b[0] == '[' {
		b = b[1:]
		i := bytes.IndexAny(b, " ]")
		if i <= 0 || !sdName(b[:i]) {
			return nil, nil, false
		}
		id := string(b[:i])
		b = b[i:]
		params := 0
		for len(b) > 0 && b[0] == ' ' {
			b = b[1:]
			eq := bytes.IndexByte(b, '=')
			if eq <= 0 || eq+1 >= len(b) || b[eq+1] != '"' || !sdName(b[:eq]) {
				return nil, nil, false
			}
			name := string(b[:eq])
			value, rest, ok := sdValue(b[eq+2:])
			if !ok {
				return nil, nil, false
			}
			attrs = append(attrs, event.Attr{Key: id + "." + name, Value: value})
			params++
			b = rest
		}
		if len(b) == 0 || b[0] != ']' {
			return nil, nil, false
		}
		b = b[1:]
		if params == 0 {
			attrs = append(attrs, event.Attr{Key: id})
		}
	}
	return attrs, b, true
}

// sdName reports whether b is an SD-NAME: printable US-ASCII except '=',
// space, ']' and '"'.
func sdName(b []byte) bool {
	for _, c := range b {
		if c < 33 || c > 126 || c == '=' || c == ']' || c == '"' {
			return false
		}
	}
	return true
}

// sdValue reads a PARAM-VALUE up to its closing quote, undoing the escapes
// \" \\ and \]; any other backslash is kept, as RFC 5424 requires.
func sdValue(b []byte) (string, []byte, bool) {
	var out []byte
	for i := 0; i < len(b); i++ {
		switch c := b[i]; {
		case c == '\\' && i+1 < len(b) && (b[i+1] == '"' || b[i+1] == '\\' || b[i+1] == ']'):
			out = append(out, b[i+1])
			i++
		case c == '"':
			return string(out), b[i+1:], true
		default:
			out = append(out, c)
		}
	}
	return "", nil, false
}

// parse3164 parses what follows <PRI> as [TIMESTAMP SP [HOSTNAME SP]] [TAG] MSG.
func parse3164(b []byte, now time.Time, m *Message) {
	if t, rest, ok := parseBSDTime(b, now); ok {
		m.Time = t
		b = rest
		if host, rest, ok := token(b); ok && isHostname(host) {
			m.Hostname = string(host)
			b = rest
		}
	} else if t, rest, ok := parseRFC3339Prefix(b); ok {
		m.Time = t
		b = rest
		if host, rest, ok := token(b); ok && isHostname(host) {
			m.Hostname = string(host)
			b = rest
		}
	}
	if app, pid, rest, ok := parseTag(b); ok {
		m.AppName, m.ProcID = app, pid
		b = rest
	}
	m.Text = string(b)
}

var months = map[string]time.Month{
	"Jan": time.January, "Feb": time.February, "Mar": time.March, "Apr": time.April,
	"May": time.May, "Jun": time.June, "Jul": time.July, "Aug": time.August,
	"Sep": time.September, "Oct": time.October, "Nov": time.November, "Dec": time.December,
}

// parseBSDTime reads "Mmm dd hh:mm:ss" (day padded with a space or a zero,
// or unpadded), optionally with fractional seconds or a year before the
// time ("Mmm dd yyyy hh:mm:ss"), followed by a space.
func parseBSDTime(b []byte, now time.Time) (time.Time, []byte, bool) {
	if len(b) < 15 {
		return time.Time{}, nil, false
	}
	month, ok := months[string(b[:3])]
	if !ok || b[3] != ' ' {
		return time.Time{}, nil, false
	}
	b = b[4:]
	if b[0] == ' ' {
		b = b[1:]
	}
	day, b, ok := number(b, 1, 2)
	if !ok || len(b) == 0 || b[0] != ' ' || day < 1 || day > 31 {
		return time.Time{}, nil, false
	}
	b = b[1:]
	year := -1
	if y, rest, ok := number(b, 4, 4); ok && len(rest) > 0 && rest[0] == ' ' {
		year, b = y, rest[1:]
	}
	hour, b, ok := number(b, 2, 2)
	if !ok || len(b) == 0 || b[0] != ':' {
		return time.Time{}, nil, false
	}
	minute, b, ok := number(b[1:], 2, 2)
	if !ok || len(b) == 0 || b[0] != ':' {
		return time.Time{}, nil, false
	}
	sec, b, ok := number(b[1:], 2, 2)
	if !ok || hour > 23 || minute > 59 || sec > 60 {
		return time.Time{}, nil, false
	}
	nsec := 0
	if len(b) > 1 && b[0] == '.' {
		digits := 0
		i := 1
		for ; i < len(b) && b[i] >= '0' && b[i] <= '9'; i++ {
			if digits < 9 {
				nsec = nsec*10 + int(b[i]-'0')
				digits++
			}
		}
		for ; digits < 9; digits++ {
			nsec *= 10
		}
		b = b[i:]
	}
	if len(b) > 0 && b[0] != ' ' {
		return time.Time{}, nil, false
	}
	if len(b) > 0 {
		b = b[1:]
	}
	loc := now.Location()
	if year >= 0 {
		return time.Date(year, month, day, hour, minute, sec, nsec, loc), b, true
	}
	// No year: take the one that puts the time nearest to now, so that a
	// December message read in January lands in the previous year.
	t := time.Date(now.Year(), month, day, hour, minute, sec, nsec, loc)
	switch {
	case t.Sub(now) > 7*24*time.Hour:
		t = t.AddDate(-1, 0, 0)
	case now.Sub(t) > 358*24*time.Hour:
		t = t.AddDate(1, 0, 0)
	}
	return t, b, true
}

// number reads between minDigits and maxDigits decimal digits.
func number(b []byte, minDigits, maxDigits int) (int, []byte, bool) {
	n, i := 0, 0
	for ; i < len(b) && i < maxDigits && b[i] >= '0' && b[i] <= '9'; i++ {
		n = n*10 + int(b[i]-'0')
	}
	if i < minDigits {
		return 0, nil, false
	}
	return n, b[i:], true
}

// parseRFC3339Prefix reads an RFC 3339 timestamp followed by a space, which
// rsyslog and syslog-ng accept in place of the BSD one.
func parseRFC3339Prefix(b []byte) (time.Time, []byte, bool) {
	tok, rest, ok := token(b)
	if !ok || len(tok) < 20 || tok[4] != '-' {
		return time.Time{}, nil, false
	}
	t, err := time.Parse(time.RFC3339Nano, string(tok))
	if err != nil {
		return time.Time{}, nil, false
	}
	return t, rest, true
}

// isHostname reports whether a token can be a hostname or an IP address
// rather than a tag: letters, digits, '.', '-', '_' and ':' (for IPv6),
// not ending in ':' and without '['.
func isHostname(b []byte) bool {
	if len(b) == 0 || len(b) > 255 || b[len(b)-1] == ':' {
		return false
	}
	for _, c := range b {
		if c == '.' || c == '-' || c == '_' || c == ':' || c >= '0' && c <= '9' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' {
			continue
		}
		return false
	}
	return true
}

// maxTag bounds what is taken for a tag; longer words are message text.
const maxTag = 128

// parseTag reads "app[pid]:", "app:" or "app[pid]" followed by a space or
// the end. A word that is none of these is message text, not a tag.
func parseTag(b []byte) (app, pid string, rest []byte, ok bool) {
	end := bytes.IndexByte(b, ' ')
	word := b
	rest = nil
	if end >= 0 {
		word, rest = b[:end], b[end+1:]
	}
	if len(word) == 0 || len(word) > maxTag {
		return "", "", nil, false
	}
	colon := word[len(word)-1] == ':'
	if colon {
		word = word[:len(word)-1]
	}
	if i := bytes.IndexByte(word, '['); i >= 0 {
		if i == 0 || word[len(word)-1] != ']' {
			return "", "", nil, false
		}
		return string(word[:i]), string(word[i+1 : len(word)-1]), rest, true
	}
	if !colon || len(word) == 0 {
		return "", "", nil, false
	}
	return string(word), "", rest, true
}
