// Package normalize sets a record's canonical metadata (time, level, trace
// context) from the fields that parsing extracted into its attributes.
package normalize

import (
	"strings"

	"github.com/lookout-dev/lookout/internal/event"
)

// fieldNames expands attribute names for lookup: a name with dots is followed
// by its underscore spelling, because parsed JSON keys are joined and
// sanitised with underscores. "log.level" thus finds both {"log.level": …}
// and {"log": {"level": …}}.
func fieldNames(names []string) []string {
	out := make([]string, 0, len(names))
	for _, n := range names {
		if n == "" {
			continue
		}
		out = append(out, n)
		if strings.IndexByte(n, '.') >= 0 {
			out = append(out, strings.ReplaceAll(n, ".", "_"))
		}
	}
	return out
}

// lookup calls fn with the value of each of names the record has as an
// attribute, in order, until fn returns true, and reports whether it did.
func lookup(r *event.Record, names []string, fn func(value string) bool) bool {
	for _, n := range names {
		if v, ok := r.Attr(n); ok && fn(v) {
			return true
		}
	}
	return false
}
