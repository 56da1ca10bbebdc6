package redact

import (
	"os"
	"strings"
	"testing"
)

// FuzzString checks that no input crashes the redactor and that redacting
// its output again changes nothing.
func FuzzString(f *testing.F) {
	data, err := os.ReadFile("testdata/lines.txt")
	if err != nil {
		f.Fatal(err)
	}
	for _, l := range strings.Split(string(data), "\n") {
		f.Add(l)
	}
	for _, s := range []string{"Cookie: a=1", `\"token\":\"x`, "pg://u:p@h", "4111 1111 1111 1111 1", "Bearer ", "password=", `"secret":"`} {
		f.Add(s)
	}
	r, err := NewRedactor(Options{Luhn: true, Patterns: []string{`\bAKIA[0-9A-Z]{16}\b`, `id=(\d+)`}})
	if err != nil {
		f.Fatal(err)
	}
	f.Fuzz(func(t *testing.T, s string) {
		if len(s) > 16<<10 {
			return
		}
		once, _ := r.String(s)
		twice, changed := r.String(once)
		if changed || twice != once {
			t.Fatalf("not idempotent:\n in    %q\n once  %q\n twice %q", s, once, twice)
		}
	})
}
