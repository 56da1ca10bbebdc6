package amtool

import (
	"bytes"
	"errors"
	"os/exec"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"

	"github.com/lookout-dev/lookout/internal/testutil/peers"
)

// runAmtool runs amtool with args in testdata, with a HOME of its own so
// that no user's amtool config.yml applies, and returns its stdout and exit
// code.
func runAmtool(t *testing.T, bin string, args ...string) (string, int) {
	t.Helper()
	cmd := exec.Command(bin, args...)
	cmd.Dir = "testdata"
	cmd.Env = []string{"HOME=" + t.TempDir(), "PATH=/usr/bin:/bin"}
	var stdout, stderr bytes.Buffer
	cmd.Stdout, cmd.Stderr = &stdout, &stderr
	err := cmd.Run()
	var ee *exec.ExitError
	if errors.As(err, &ee) {
		return stdout.String(), ee.ExitCode()
	}
	require.NoError(t, err, "stderr: %s", &stderr)
	return stdout.String(), 0
}

// TestCompareAmtool runs Debian's amtool 0.25 on the corpus and expects the
// same verdicts, receivers and trees as Lookout, except in cases marked
// lookoutOnly. Error messages are not compared: they changed between
// Alertmanager 0.25 and 0.34.
func TestCompareAmtool(t *testing.T) {
	bin := peers.Binary(t, "/usr/bin/amtool", "prometheus-alertmanager")

	t.Run("check-config", func(t *testing.T) {
		for _, tc := range checkCases {
			t.Run(tc.file, func(t *testing.T) {
				out, code := runAmtool(t, bin, "check-config", tc.file)
				res := CheckFile(filepath.Join("testdata", tc.file))
				if tc.lookoutOnly {
					require.NotEqual(t, res.OK(), code == 0, "amtool now agrees; drop lookoutOnly\n%s", out)
					return
				}
				require.Equal(t, res.OK(), code == 0, "amtool's verdict differs:\n%s", out)
				// The same sections: the reports are equal once the
				// FAILED lines, whose wording changed, are set aside.
				var lookout bytes.Buffer
				res.File = tc.file // the name amtool was given
				WriteResult(&lookout, res)
				require.Equal(t, withoutReasons(out), withoutReasons(lookout.String()))
			})
		}
	})

	t.Run("routes test", func(t *testing.T) {
		for _, tc := range routeCases {
			t.Run(tc.name, func(t *testing.T) {
				args := append([]string{"config", "routes", "test", "--config.file", tc.file}, tc.labels...)
				out, code := runAmtool(t, bin, args...)
				if tc.lookoutOnly {
					require.NotEqual(t, 0, code, "amtool now accepts %q; drop lookoutOnly\n%s", tc.labels, out)
					return
				}
				require.Equal(t, 0, code, out)
				require.Equal(t, strings.Join(tc.want, ",")+"\n", out)
			})
		}
	})

	t.Run("routes test --verify.receivers", func(t *testing.T) {
		args := []string{"config", "routes", "test", "--config.file", "seeds/alertmanager.yml", "severity=critical"}
		_, code := runAmtool(t, bin, append(args, "--verify.receivers=pagerduty")...)
		require.Equal(t, 0, code)
		require.NoError(t, VerifyReceivers([]string{"pagerduty"}, "pagerduty"))
		out, code := runAmtool(t, bin, append(args, "--verify.receivers=slack")...)
		require.Equal(t, 1, code)
		require.Equal(t, "pagerduty\nWARNING: Expected receivers did not match resolved receivers.\n", out)
		require.ErrorIs(t, VerifyReceivers([]string{"pagerduty"}, "slack"), ErrReceiversMismatch)
	})

	t.Run("label parse errors", func(t *testing.T) {
		for _, arg := range []string{"severity!=info", "severity=~crit", "severity", "{severity=critical}"} {
			_, code := runAmtool(t, bin, "config", "routes", "test", "--config.file", "routes/nested.yml", arg)
			require.Equal(t, 1, code, arg)
			_, err := ParseLabels([]string{arg}, nil)
			require.Error(t, err, arg)
		}
	})

	t.Run("trees", func(t *testing.T) {
		for _, tc := range treeCases {
			t.Run(tc.golden, func(t *testing.T) {
				args := []string{"config", "routes", "show", "--config.file", tc.file}
				if tc.labels != nil {
					args = append([]string{"config", "routes", "test", "--tree", "--config.file", tc.file}, tc.labels...)
				}
				out, code := runAmtool(t, bin, args...)
				require.Equal(t, 0, code, out)
				got := renderTreeCase(t, tc)
				if tc.labels != nil {
					// The receivers line follows amtool's tree.
					root, err := LoadRoute(filepath.Join("testdata", tc.file))
					require.NoError(t, err)
					ls, err := ParseLabels(tc.labels, nil)
					require.NoError(t, err)
					got += strings.Join(Receivers(root, ls), ",") + "\n"
				}
				require.Equal(t, out, got)
			})
		}
	})
}

// withoutReasons drops the text after each "FAILED:".
func withoutReasons(report string) string {
	lines := strings.Split(report, "\n")
	for i, l := range lines {
		if j := strings.Index(l, "FAILED:"); j >= 0 {
			lines[i] = l[:j+len("FAILED:")]
		}
	}
	return strings.Join(lines, "\n")
}
