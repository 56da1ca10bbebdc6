package main

import (
	"encoding/binary"
	"strconv"
	"unicode/utf8"

	"github.com/golang/snappy"
)

// entry is one log line bound for a stream. line points into its batch's arena.
type entry struct {
	stream int
	ts     int64 // Unix nanoseconds
	line   []byte
}

// stream is one Loki stream: its labels as a JSON object and as a LogQL selector.
type stream struct {
	json     string // {"app":"bench",...}
	selector string // {app="bench", ...}
}

func newStream(labels [][2]string) stream {
	var j, s []byte
	j = append(j, '{')
	s = append(s, '{')
	for i, kv := range labels {
		if i > 0 {
			j = append(j, ',')
			s = append(s, ", "...)
		}
		j = appendJSONString(j, kv[0])
		j = append(j, ':')
		j = appendJSONString(j, kv[1])
		s = append(s, kv[0]...)
		s = append(s, '=')
		s = strconv.AppendQuote(s, kv[1])
	}
	j = append(j, '}')
	s = append(s, '}')
	return stream{json: string(j), selector: string(s)}
}

// group returns the entries' indexes grouped by stream, streams in order of first appearance
// and entries in their original order within each stream.
func group(entries []entry) [][]int {
	var order []int
	by := map[int][]int{}
	for i, e := range entries {
		if _, ok := by[e.stream]; !ok {
			order = append(order, e.stream)
		}
		by[e.stream] = append(by[e.stream], i)
	}
	out := make([][]int, len(order))
	for i, s := range order {
		out[i] = by[s]
	}
	return out
}

// encodeJSON appends the Loki push request in JSON:
// {"streams":[{"stream":{labels},"values":[["<ns>","<line>"],...]},...]}.
func encodeJSON(b []byte, streams []stream, entries []entry) []byte {
	b = append(b, `{"streams":[`...)
	for gi, idx := range group(entries) {
		if gi > 0 {
			b = append(b, ',')
		}
		b = append(b, `{"stream":`...)
		b = append(b, streams[entries[idx[0]].stream].json...)
		b = append(b, `,"values":[`...)
		for k, i := range idx {
			if k > 0 {
				b = append(b, ',')
			}
			b = append(b, `["`...)
			b = strconv.AppendInt(b, entries[i].ts, 10)
			b = append(b, `",`...)
			b = appendJSONBytes(b, entries[i].line)
			b = append(b, ']')
		}
		b = append(b, "]}"...)
	}
	return append(b, "]}"...)
}

// encodeProto appends the snappy-compressed protobuf logproto.PushRequest that Promtail and
// Alloy send:
//
//	PushRequest  { repeated StreamAdapter streams = 1; }
//	StreamAdapter { string labels = 1; repeated EntryAdapter entries = 2; }
//	EntryAdapter { Timestamp timestamp = 1; string line = 2; }
//	Timestamp    { int64 seconds = 1; int32 nanos = 2; }
//
// scratch is reused for the uncompressed message; both buffers are returned for reuse.
func encodeProto(dst, scratch []byte, streams []stream, entries []entry) (out, scratchOut []byte) {
	m := scratch[:0]
	for _, idx := range group(entries) {
		size := lenField(len(streams[entries[idx[0]].stream].selector))
		for _, i := range idx {
			size += lenField(entrySize(entries[i]))
		}
		m = appendTag(m, 1, 2)
		m = binary.AppendUvarint(m, uint64(size))
		sel := streams[entries[idx[0]].stream].selector
		m = appendTag(m, 1, 2)
		m = binary.AppendUvarint(m, uint64(len(sel)))
		m = append(m, sel...)
		for _, i := range idx {
			e := entries[i]
			m = appendTag(m, 2, 2)
			m = binary.AppendUvarint(m, uint64(entrySize(e)))
			sec, nsec := e.ts/1e9, e.ts%1e9
			m = appendTag(m, 1, 2)
			m = binary.AppendUvarint(m, uint64(tsSize(sec, nsec)))
			if sec != 0 {
				m = appendTag(m, 1, 0)
				m = binary.AppendUvarint(m, uint64(sec))
			}
			if nsec != 0 {
				m = appendTag(m, 2, 0)
				m = binary.AppendUvarint(m, uint64(nsec))
			}
			m = appendTag(m, 2, 2)
			m = binary.AppendUvarint(m, uint64(len(e.line)))
			m = append(m, e.line...)
		}
	}
	n := snappy.MaxEncodedLen(len(m))
	if cap(dst) < n {
		dst = make([]byte, n)
	}
	return snappy.Encode(dst[:n], m), m
}

func appendTag(b []byte, field, wire int) []byte {
	return binary.AppendUvarint(b, uint64(field<<3|wire))
}

func uvarintLen(v uint64) int {
	n := 1
	for v >= 0x80 {
		v >>= 7
		n++
	}
	return n
}

// lenField is the size of a length-delimited field of n bytes with a one-byte tag.
func lenField(n int) int { return 1 + uvarintLen(uint64(n)) + n }

func tsSize(sec, nsec int64) int {
	n := 0
	if sec != 0 {
		n += 1 + uvarintLen(uint64(sec))
	}
	if nsec != 0 {
		n += 1 + uvarintLen(uint64(nsec))
	}
	return n
}

func entrySize(e entry) int {
	return lenField(tsSize(e.ts/1e9, e.ts%1e9)) + lenField(len(e.line))
}

const hexDigits = "0123456789abcdef"

func appendJSONString(b []byte, s string) []byte { return appendJSONBytes(b, []byte(s)) }

// appendJSONBytes appends s as a JSON string. Invalid UTF-8 becomes U+FFFD, as in encoding/json.
func appendJSONBytes(b, s []byte) []byte {
	b = append(b, '"')
	start := 0
	for i := 0; i < len(s); {
		c := s[i]
		if c < utf8.RuneSelf {
			if c >= 0x20 && c != '"' && c != '\\' {
				i++
				continue
			}
			b = append(b, s[start:i]...)
			switch c {
			case '"', '\\':
				b = append(b, '\\', c)
			case '\n':
				b = append(b, '\\', 'n')
			case '\r':
				b = append(b, '\\', 'r')
			case '\t':
				b = append(b, '\\', 't')
			default:
				b = append(b, '\\', 'u', '0', '0', hexDigits[c>>4], hexDigits[c&0xf])
			}
			i++
			start = i
			continue
		}
		r, size := utf8.DecodeRune(s[i:])
		if r == utf8.RuneError && size == 1 {
			b = append(b, s[start:i]...)
			b = append(b, `\ufffd`...)
			i += size
			start = i
			continue
		}
		i += size
	}
	b = append(b, s[start:]...)
	return append(b, '"')
}
