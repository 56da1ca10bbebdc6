package logmetrics

// ValidLabelName reports whether s is a legacy Prometheus/Loki label name:
// [a-zA-Z_][a-zA-Z0-9_]*. Stream labels are held to it so that every stream
// can be selected in LogQL without quoting.
func ValidLabelName(s string) bool {
	if s == "" {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if c == '_' || c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || i > 0 && c >= '0' && c <= '9' {
			continue
		}
		return false
	}
	return true
}

// SanitizeLabelName turns a field name such as "kubernetes.namespace" into a
// valid label name ("kubernetes_namespace") by replacing every invalid byte
// with '_' and prefixing '_' when it starts with a digit.
func SanitizeLabelName(s string) string {
	if ValidLabelName(s) {
		return s
	}
	b := []byte(s)
	for i, c := range b {
		if c != '_' && (c < 'a' || c > 'z') && (c < 'A' || c > 'Z') && (c < '0' || c > '9') {
			b[i] = '_'
		}
	}
	if len(b) == 0 || b[0] >= '0' && b[0] <= '9' {
		b = append([]byte{'_'}, b...)
	}
	return string(b)
}
