package redact

import (
	"bufio"
	"os"
	"strings"
	"testing"

	"github.com/prometheus/prometheus/model/labels"

	"github.com/lookout-dev/lookout/internal/event"
)

// readLines returns testdata/lines.txt: application and access log lines as
// the users' services write them, a few of them with secrets.
func readLines(tb testing.TB) []string {
	tb.Helper()
	f, err := os.Open("testdata/lines.txt")
	if err != nil {
		tb.Fatal(err)
	}
	tb.Cleanup(func() { _ = f.Close() })
	var lines []string
	sc := bufio.NewScanner(f)
	for sc.Scan() {
		lines = append(lines, sc.Text())
	}
	if err := sc.Err(); err != nil {
		tb.Fatal(err)
	}
	return lines
}

func BenchmarkString(b *testing.B) {
	r, err := NewRedactor(Options{Luhn: true})
	if err != nil {
		b.Fatal(err)
	}
	lines := readLines(b)
	var clean, secret []string
	for _, l := range lines {
		if _, changed := r.String(l); changed {
			secret = append(secret, l)
		} else {
			clean = append(clean, l)
		}
	}
	for _, c := range []struct {
		name  string
		lines []string
	}{
		{"clean", clean},
		{"secrets", secret},
		{"long-clean", []string{strings.Repeat(clean[0], 16)}},
	} {
		n := 0
		for _, l := range c.lines {
			n += len(l)
		}
		b.Run(c.name, func(b *testing.B) {
			b.ReportAllocs()
			b.SetBytes(int64(n))
			for b.Loop() {
				for _, l := range c.lines {
					r.String(l)
				}
			}
		})
	}
	withPattern, err := NewRedactor(Options{Luhn: true, Patterns: []string{`\bAKIA[0-9A-Z]{16}\b`, `(?i)iban[=:]\s*([A-Z]{2}[0-9]{2}[A-Z0-9]{10,30})`}})
	if err != nil {
		b.Fatal(err)
	}
	b.Run("clean-with-patterns", func(b *testing.B) {
		n := 0
		for _, l := range clean {
			n += len(l)
		}
		b.ReportAllocs()
		b.SetBytes(int64(n))
		for b.Loop() {
			for _, l := range clean {
				withPattern.String(l)
			}
		}
	})
}

func BenchmarkRecord(b *testing.B) {
	r, err := NewRedactor(Options{Luhn: true})
	if err != nil {
		b.Fatal(err)
	}
	lines := readLines(b)
	lbls := labels.FromStrings("service", "crm-api", "env", "production")
	attrs := []event.Attr{{Key: "user_id", Value: "789"}, {Key: "path", Value: "/api/v1/orders"}, {Key: "method", Value: "POST"}, {Key: "status", Value: "201"}}
	recs := make([]event.Record, len(lines))
	n := 0
	for _, l := range lines {
		n += len(l)
	}
	b.ReportAllocs()
	b.SetBytes(int64(n))
	for b.Loop() {
		for i, l := range lines {
			recs[i] = event.Record{Body: l, Labels: lbls, Attrs: append(recs[i].Attrs[:0], attrs...)}
			r.Record(&recs[i])
		}
	}
}
