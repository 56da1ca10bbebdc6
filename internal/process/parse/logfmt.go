package parse

import "strconv"

// LogfmtFields calls fn for every key=value pair of the logfmt line s and
// returns how many pairs it found. A key is a run of bytes other than space,
// tab, '=' and '"'; a value is either a run of bytes up to the next space or
// tab, or a double-quoted string with Go escapes. Words without '=' (such as
// a leading timestamp or level in "2024-05-01 INFO user=42") are skipped, so
// mixed lines yield their pairs. Values are substrings of s unless they had
// to be unescaped.
func LogfmtFields(s string, fn func(key, value string)) int {
	n := 0
	i := 0
	for i < len(s) {
		for i < len(s) && isLogfmtSpace(s[i]) {
			i++
		}
		start := i
		for i < len(s) && !isLogfmtSpace(s[i]) && s[i] != '=' && s[i] != '"' {
			i++
		}
		key := s[start:i]
		if i >= len(s) || s[i] != '=' || key == "" {
			// A bare word, or a quote or '=' where a key should start: skip
			// to the next space.
			i = skipWord(s, i)
			continue
		}
		i++ // =
		if i < len(s) && s[i] == '"' {
			end, escaped, ok := quoted(s, i)
			if !ok {
				// An unterminated quote ends the line: nothing reliable follows.
				return n
			}
			v := s[i+1 : end-1]
			if escaped {
				u, err := strconv.Unquote(s[i:end])
				if err == nil {
					v = u
				}
			}
			i = end
			fn(key, v)
			n++
			continue
		}
		vs := i
		for i < len(s) && !isLogfmtSpace(s[i]) {
			i++
		}
		fn(key, s[vs:i])
		n++
	}
	return n
}

func isLogfmtSpace(c byte) bool { return c == ' ' || c == '\t' || c == '\n' || c == '\r' }

// skipWord moves to the next space, stepping over quoted strings so that
// their contents are not taken for pairs.
func skipWord(s string, i int) int {
	for i < len(s) && !isLogfmtSpace(s[i]) {
		if s[i] == '"' {
			end, _, ok := quoted(s, i)
			if !ok {
				return len(s)
			}
			i = end
			continue
		}
		i++
	}
	return i
}

// quoted finds the end (one past the closing quote) of the string opening at
// s[i] == '"'.
func quoted(s string, i int) (end int, escaped, ok bool) {
	for j := i + 1; j < len(s); j++ {
		switch s[j] {
		case '\\':
			escaped = true
			j++
		case '"':
			return j + 1, escaped, true
		}
	}
	return 0, false, false
}
