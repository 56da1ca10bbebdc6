// Package labelname checks and repairs label names: the one place the log
// receivers, the LogQL engine and the Loki API decide what a valid label
// name is and how a field name becomes one.
package labelname

import (
	"strings"

	"github.com/prometheus/common/model"
)

// Valid reports whether s is a legacy Prometheus/Loki label name,
// [a-zA-Z_][a-zA-Z0-9_]*, which LogQL can select without quoting.
func Valid(s string) bool { return model.LegacyValidation.IsValidLabelName(s) }

// Sanitize turns a field name such as "kubernetes.namespace" into a valid
// label name ("kubernetes_namespace") as Loki does: every character outside
// [a-zA-Z0-9_] becomes one '_', and a name that is empty or starts with a
// digit gets a leading '_'.
func Sanitize(s string) string {
	if Valid(s) {
		return s
	}
	var b strings.Builder
	b.Grow(len(s) + 1)
	if s == "" || s[0] >= '0' && s[0] <= '9' {
		b.WriteByte('_')
	}
	for _, r := range s {
		if r == '_' || r >= 'a' && r <= 'z' || r >= 'A' && r <= 'Z' || r >= '0' && r <= '9' {
			b.WriteRune(r)
		} else {
			b.WriteByte('_')
		}
	}
	return b.String()
}
