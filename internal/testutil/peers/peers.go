// Package peers finds the real programs that tests compare Lookout with
// (Debian's prometheus, promtool, amtool). scripts/install-test-deps.sh
// installs them.
package peers

import (
	"os"
	"testing"
)

// Binary returns path when the program exists. Otherwise it skips the test,
// or fails it when the CI environment variable is set, naming the Debian
// package to install.
func Binary(t testing.TB, path, debianPackage string) string {
	t.Helper()
	if _, err := os.Stat(path); err != nil {
		if os.Getenv("CI") != "" {
			t.Fatalf("%s is missing in CI; install Debian's %s package", path, debianPackage)
		}
		t.Skipf("%s not installed (apt-get install %s)", path, debianPackage)
	}
	return path
}
