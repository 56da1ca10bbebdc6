package promtool

import (
	"bytes"
	"errors"
	"os"
	"os/exec"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lookout-dev/lookout/internal/testutil/peers"
)

// runPromtool runs promtool and returns its exit status and output.
func runPromtool(t *testing.T, bin string, args ...string) (code int, stdout, stderr string) {
	t.Helper()
	var out, errOut bytes.Buffer
	cmd := exec.CommandContext(t.Context(), bin, args...)
	cmd.Stdout, cmd.Stderr = &out, &errOut
	// promtool 2.42 leaves its test storage behind when rules fail to
	// evaluate; keep it in a directory that the test removes.
	cmd.Env = append(os.Environ(), "TMPDIR="+t.TempDir())
	err := cmd.Run()
	var exit *exec.ExitError
	if errors.As(err, &exit) {
		return exit.ExitCode(), out.String(), errOut.String()
	}
	require.NoError(t, err)
	return 0, out.String(), errOut.String()
}

// TestCheckRulesMatchesPromtool runs promtool 2.42 on the check corpus and
// requires the same exit status and rule count as Lookout, except for the
// cases that say why they differ.
func TestCheckRulesMatchesPromtool(t *testing.T) {
	bin := peers.Binary(t, "/usr/bin/promtool", "prometheus")
	for _, tc := range checkCases {
		t.Run(tc.file, func(t *testing.T) {
			t.Parallel()
			var stdout, stderr bytes.Buffer
			code := CheckRuleFiles(&stdout, &stderr, CheckOptions{Lint: DefaultLint}, tc.path()).ExitCode(false)

			peerCode, peerOut, peerErr := runPromtool(t, bin, "check", "rules", tc.path())
			if tc.peerDiffers {
				require.NotEqual(t, code, tc.peerExit, "a differing case must differ")
				require.Equal(t, tc.peerExit, peerCode, "promtool no longer differs (%s); stdout:\n%s\nstderr:\n%s", tc.why, peerOut, peerErr)
				return
			}
			require.Equal(t, peerCode, code, "promtool stdout:\n%s\nstderr:\n%s\nLookout stdout:\n%s\nstderr:\n%s", peerOut, peerErr, &stdout, &stderr)
			require.Equal(t, successCount(t, peerOut), successCount(t, stdout.String()))
		})
	}
}

// TestUnitTestsMatchPromtool runs promtool 2.42 on the unit-test corpus and
// requires the same verdict as Lookout, except for the cases that say why
// they differ.
func TestUnitTestsMatchPromtool(t *testing.T) {
	bin := peers.Binary(t, "/usr/bin/promtool", "prometheus")
	for _, tc := range unitCases {
		t.Run(tc.file, func(t *testing.T) {
			t.Parallel()
			var stdout, stderr bytes.Buffer
			pass := RunUnitTests(&stdout, &stderr, TestOptions{}, tc.path())

			peerCode, peerOut, peerErr := runPromtool(t, bin, "test", "rules", tc.path())
			peerPass := peerCode == 0
			if tc.peerDiffers {
				require.NotEqual(t, pass, tc.peerPass, "a differing case must differ")
				require.Equal(t, tc.peerPass, peerPass, "promtool no longer differs (%s); stdout:\n%s\nstderr:\n%s", tc.why, peerOut, peerErr)
				return
			}
			require.Equal(t, peerPass, pass, "promtool stdout:\n%s\nstderr:\n%s\nLookout stdout:\n%s\nstderr:\n%s", peerOut, peerErr, &stdout, &stderr)
			if !pass {
				require.Equal(t, 1, peerCode)
			}
		})
	}
}
