package promtool

import (
	"bytes"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
)

// checkCase is one file of testdata/check. TestCheckRuleFiles runs Lookout
// on it, TestCheckRulesMatchesPromtool runs promtool 2.42 too.
type checkCase struct {
	file string
	// exit is Lookout's exit status with the default lint.
	exit int
	// rules is the count in "SUCCESS: N rules found" when the file is valid.
	rules int
	// stderr holds substrings of the report on standard error.
	stderr []string
	// peerExit, when peerDiffers is set, is promtool 2.42's exit status;
	// otherwise it must equal exit. why says why they differ.
	peerExit    int
	peerDiffers bool
	why         string
}

var checkCases = []checkCase{
	{file: "good.rules.yml", exit: 0, rules: 3},
	{file: "keep_firing_for.rules.yml", exit: 0, rules: 1},
	{file: "empty.rules.yml", exit: 0, rules: 0},
	{
		file: "bad_yaml.rules.yml", exit: 1,
		stderr: []string{"FAILED:", "bad_yaml.rules.yml: yaml: line 3: did not find expected '-' indicator"},
	},
	{
		file: "bad_promql.rules.yml", exit: 1,
		stderr: []string{`bad_promql.rules.yml: 5:15: group "promql", rule 1, "BadExpr": could not parse expression: 1:38: parse error: unclosed left parenthesis`},
	},
	{
		file: "bad_template.rules.yml", exit: 1,
		stderr: []string{`group "templates", rule 1, "BadTemplate": annotation "summary": template: __alert_BadTemplate:1: unclosed action`},
	},
	{
		// rulefmt v0.315 reports this group at 0:0; Lookout fills in the
		// position, as promtool 2.42 shows it.
		file: "duplicate_group.rules.yml", exit: 1,
		stderr: []string{`duplicate_group.rules.yml: 6:5: groupname: "same" is repeated in the same file`},
	},
	{
		file: "empty_group_name.rules.yml", exit: 1,
		stderr: []string{"empty_group_name.rules.yml: 2:5: Groupname must not be empty"},
	},
	{
		file: "unknown_field.rules.yml", exit: 1,
		stderr: []string{"line 5: field expresion not found"},
	},
	{
		file: "record_and_alert.rules.yml", exit: 1,
		stderr: []string{`4:17: 5:16: group "both", rule 1, "Both": only one of 'record' and 'alert' must be set`},
	},
	{
		file: "record_with_for.rules.yml", exit: 1,
		stderr: []string{`4:17: group "record", rule 1, "job:up:sum": invalid field 'for' in recording rule`},
	},
	{
		file: "bad_duration.rules.yml", exit: 1,
		stderr: []string{`unknown unit " minutes" in duration "5 minutes"`},
	},
	{
		// A lint finding: reported as FAILED, but the exit status is 0
		// without --lint-fatal, as in promtool.
		file: "duplicate_rules.rules.yml", exit: 0,
		stderr: []string{"FAILED:", "lint error 1 duplicate rule(s) found.", "Metric: job:up:sum"},
	},
	{
		file: "utf8_record_name.rules.yml", exit: 0, rules: 1,
		peerExit: 1, peerDiffers: true,
		why: "Prometheus 3 validates names as UTF-8, 2.x rejects job.up.sum as a recording rule name",
	},
	{
		file: "query_offset.rules.yml", exit: 0, rules: 1,
		peerExit: 1, peerDiffers: true,
		why: "query_offset is a Prometheus 2.53 field, unknown to 2.42",
	},
	{
		file: "group_labels.rules.yml", exit: 0, rules: 1,
		peerExit: 1, peerDiffers: true,
		why: "group labels are a Prometheus 3 field, unknown to 2.42",
	},
	{
		file: "holt_winters.rules.yml", exit: 1,
		stderr:   []string{`unknown function with name "holt_winters"`},
		peerExit: 0, peerDiffers: true,
		why: "Prometheus 3 renamed holt_winters to double_exponential_smoothing, behind a feature flag",
	},
}

func (c checkCase) path() string { return filepath.Join("testdata", "check", c.file) }

func TestCheckRuleFiles(t *testing.T) {
	for _, tc := range checkCases {
		t.Run(tc.file, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			v := CheckRuleFiles(&stdout, &stderr, CheckOptions{Lint: DefaultLint}, tc.path())
			require.Equal(t, tc.exit, v.ExitCode(false), "stdout:\n%s\nstderr:\n%s", &stdout, &stderr)
			require.True(t, strings.HasPrefix(stdout.String(), "Checking "+tc.path()+"\n"), stdout.String())
			if tc.exit == 0 && len(tc.stderr) == 0 {
				require.Equal(t, tc.rules, successCount(t, stdout.String()))
				require.Empty(t, stderr.String())
			}
			for _, s := range tc.stderr {
				require.Contains(t, stderr.String(), s)
			}
		})
	}
}

// TestCheckCorpusIsCovered keeps checkCases and testdata/check in step.
func TestCheckCorpusIsCovered(t *testing.T) {
	files, err := filepath.Glob(filepath.Join("testdata", "check", "*.yml"))
	require.NoError(t, err)
	var want, got []string
	for _, f := range files {
		want = append(want, filepath.Base(f))
	}
	for _, tc := range checkCases {
		got = append(got, tc.file)
	}
	require.ElementsMatch(t, want, got)
}

func TestCheckLint(t *testing.T) {
	dups := filepath.Join("testdata", "check", "duplicate_rules.rules.yml")
	utf8 := filepath.Join("testdata", "check", "utf8_record_name.rules.yml")
	for _, tc := range []struct {
		name, lint string
		files      []string
		want       Verdict
		stderr     string
	}{
		{name: "none", lint: LintNone, files: []string{dups}, want: Valid},
		{name: "duplicates", lint: LintDuplicateRules, files: []string{dups}, want: LintFailed, stderr: "duplicate rule(s) found"},
		{name: "legacy names off by default", lint: DefaultLint, files: []string{utf8}, want: Valid},
		{name: "legacy names", lint: LintLegacyNames, files: []string{utf8}, want: LintFailed, stderr: `group "utf8", rule 1, "job.up.sum": recording rule name is not a legacy Prometheus metric name`},
		{name: "all", lint: LintAll, files: []string{utf8, dups}, want: LintFailed, stderr: "duplicate rule(s) found"},
		{name: "unknown option is a warning", lint: "bogus", files: []string{dups}, want: Valid, stderr: `WARNING: unknown lint option: "bogus"`},
		{name: "an error outweighs a lint finding", lint: LintAll, files: []string{dups, filepath.Join("testdata", "check", "bad_promql.rules.yml")}, want: Invalid},
	} {
		t.Run(tc.name, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			got := CheckRuleFiles(&stdout, &stderr, CheckOptions{Lint: tc.lint}, tc.files...)
			require.Equal(t, tc.want, got, "stdout:\n%s\nstderr:\n%s", &stdout, &stderr)
			require.Contains(t, stderr.String(), tc.stderr)
		})
	}
}

func TestVerdictExitCode(t *testing.T) {
	require.Equal(t, 0, Valid.ExitCode(true))
	require.Equal(t, 0, LintFailed.ExitCode(false))
	require.Equal(t, 3, LintFailed.ExitCode(true))
	require.Equal(t, 1, Invalid.ExitCode(false))
	require.Equal(t, 1, Invalid.ExitCode(true))
}

func TestCheckRulesReader(t *testing.T) {
	good, err := os.ReadFile(filepath.Join("testdata", "check", "good.rules.yml"))
	require.NoError(t, err)
	var stdout, stderr bytes.Buffer
	require.Equal(t, Valid, CheckRulesReader(&stdout, &stderr, bytes.NewReader(good), CheckOptions{}))
	require.Equal(t, "Checking standard input\n  SUCCESS: 3 rules found\n\n", stdout.String())

	stdout.Reset()
	require.Equal(t, Invalid, CheckRulesReader(&stdout, &stderr, strings.NewReader("groups:\n- name: g\n  rules:\n  - record: r\n    expr: sum(\n"), CheckOptions{}))
	// Without a file there is no file name in front of the position.
	require.Contains(t, stderr.String(), "\n5:11: group \"g\", rule 1, \"r\": could not parse expression")

	// Every group error gets its own position, as in promtool 2.42.
	stderr.Reset()
	require.Equal(t, Invalid, CheckRulesReader(&stdout, &stderr, strings.NewReader("groups:\n- name: a\n- name: a\n- name: ''\n- name: ''\n"), CheckOptions{}))
	require.Equal(t, `  FAILED:
3:3: groupname: "a" is repeated in the same file
4:3: Groupname must not be empty
5:3: Groupname must not be empty
5:3: groupname: "" is repeated in the same file
`, stderr.String())
}

func TestCheckMissingFileAndMultipleDocuments(t *testing.T) {
	dir := t.TempDir()
	multi := filepath.Join(dir, "multi.yml")
	require.NoError(t, os.WriteFile(multi, []byte("groups: []\n---\ngroups: []\n"), 0o600))
	var stdout, stderr bytes.Buffer
	v := CheckRuleFiles(&stdout, &stderr, CheckOptions{}, multi, filepath.Join(dir, "missing.yml"))
	require.Equal(t, Invalid, v)
	require.Contains(t, stdout.String(), "Checking "+multi+"\n  SUCCESS: 0 rules found\n")
	require.Contains(t, stderr.String(), "WARNING: the file has more than one YAML document")
	require.Contains(t, stderr.String(), "missing.yml: no such file or directory")
}

// successCount returns N of the last "SUCCESS: N rules found" line, or -1.
func successCount(t testing.TB, out string) int {
	t.Helper()
	n := -1
	for line := range strings.Lines(out) {
		if s, ok := strings.CutPrefix(strings.TrimSpace(line), "SUCCESS: "); ok {
			var k int
			_, err := fmt.Sscanf(s, "%d rules found", &k)
			require.NoError(t, err, line)
			n = k
		}
	}
	return n
}

// FuzzCheckRulesReader feeds arbitrary rule files to the checker, which
// post-processes rulefmt's errors and walks the YAML itself.
func FuzzCheckRulesReader(f *testing.F) {
	files, err := filepath.Glob(filepath.Join("testdata", "*", "*.rules.yml"))
	require.NoError(f, err)
	for _, file := range files {
		b, err := os.ReadFile(file)
		require.NoError(f, err)
		f.Add(b)
	}
	f.Add([]byte("groups:\n- name: a\n- name: a\n- name: ''\n- name: ''\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		if len(data) > 64<<10 {
			t.Skip()
		}
		var stdout, stderr bytes.Buffer
		v := CheckRulesReader(&stdout, &stderr, bytes.NewReader(data), CheckOptions{Lint: LintAll})
		require.Contains(t, []Verdict{Valid, LintFailed, Invalid}, v)
		if v == Invalid {
			require.Contains(t, stderr.String(), "  FAILED:\n")
		}
	})
}
