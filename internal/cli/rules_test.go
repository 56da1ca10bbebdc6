package cli

import (
	"bytes"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

func TestRulesCommands(t *testing.T) {
	data := filepath.Join("..", "promtool", "testdata")
	check := func(name string) string { return filepath.Join(data, "check", name) }
	unit := func(name string) string { return filepath.Join(data, "unittest", name) }
	for _, tc := range []struct {
		name           string
		args           []string
		code           int
		stdout, stderr string
	}{
		{
			name: "check valid", args: []string{"check", "rules", check("good.rules.yml"), check("empty.rules.yml")},
			stdout: "Checking " + check("good.rules.yml") + "\n  SUCCESS: 3 rules found\n\nChecking " + check("empty.rules.yml") + "\n  SUCCESS: 0 rules found\n",
		},
		{
			name: "check invalid", args: []string{"check", "rules", check("good.rules.yml"), check("bad_promql.rules.yml")}, code: 1,
			stderr: "could not parse expression",
		},
		{
			name: "lint finding exits 0", args: []string{"check", "rules", check("duplicate_rules.rules.yml")},
			stderr: "duplicate rule(s) found",
		},
		{
			name: "lint-fatal exits 3", args: []string{"check", "rules", "--lint-fatal", check("duplicate_rules.rules.yml")}, code: 3,
			stderr: "duplicate rule(s) found",
		},
		{
			name: "lint none", args: []string{"check", "rules", "--lint=none", "--lint-fatal", check("duplicate_rules.rules.yml")},
			stdout: "SUCCESS: 2 rules found",
		},
		{
			name: "test pass", args: []string{"test", "rules", unit("pass_test.yml")},
			stdout: "Unit Testing:  " + unit("pass_test.yml") + "\n  SUCCESS\n",
		},
		{
			name: "test fail", args: []string{"test", "rules", unit("pass_test.yml"), unit("fail_wrong_value_test.yml")}, code: 1,
			stderr: "    name: wrong value,\n    expr: \"job:up:sum\", time: 5m,\n",
		},
		{
			name: "test --run skips the failing group", args: []string{"test", "rules", "--run", "^nothing$", unit("fail_wrong_value_test.yml")},
			stdout: "  SUCCESS\n",
		},
		{
			name: "test --run takes a regular expression", args: []string{"test", "rules", "--run", "(", unit("pass_test.yml")}, code: 2,
			stderr: "--run: error parsing regexp",
		},
		{
			name: "test needs a file", args: []string{"test", "rules"}, code: 1,
			stderr: "requires at least 1 arg",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			code := Main(t.Context(), tc.args, IO{Stdout: &stdout, Stderr: &stderr})
			require.Equal(t, tc.code, code, "stdout:\n%s\nstderr:\n%s", &stdout, &stderr)
			require.Contains(t, stdout.String(), tc.stdout)
			require.Contains(t, stderr.String(), tc.stderr)
		})
	}
}
