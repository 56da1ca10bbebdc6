package promtool

import (
	"bytes"
	"os"
	"path/filepath"
	"regexp"
	"slices"
	"strings"
	"testing"

	"github.com/stretchr/testify/require"
	"go.yaml.in/yaml/v2"

	"github.com/prometheus/prometheus/model/rulefmt"
)

// unitCase is one test file of testdata/unittest or testdata/seeds.
// TestRunUnitTests runs Lookout on it, TestUnitTestsMatchPromtool runs
// promtool 2.42 too.
type unitCase struct {
	file string // relative to testdata
	pass bool
	// stderr holds substrings of the failure report.
	stderr []string
	// peerPass, when peerDiffers is set, is promtool 2.42's verdict;
	// otherwise it must equal pass. why says why they differ.
	peerPass    bool
	peerDiffers bool
	why         string
}

var unitCases = []unitCase{
	{file: "unittest/pass_test.yml", pass: true},
	{
		file: "unittest/fail_wrong_labels_test.yml",
		stderr: []string{
			"    name: wrong labels,\n    alertname: InstanceDown, time: 5m, \n        exp:[\n",
			`Labels:{alertname="InstanceDown", instance="api-1", job="api", severity="critical"}`,
			"        got:[\n",
			`Labels:{alertname="InstanceDown", instance="api-1", job="api", severity="page"}`,
		},
	},
	{
		file: "unittest/fail_wrong_annotation_test.yml",
		stderr: []string{
			`Annotations:{dashboard="/d/up?cluster=", summary="api-1 is down"}`,
			`Annotations:{dashboard="/d/up?cluster=", summary="api-1 of api is down"}`,
		},
	},
	{
		file: "unittest/fail_wrong_value_test.yml",
		stderr: []string{
			"    name: wrong value,\n    expr: \"job:up:sum\", time: 5m,\n" +
				"        exp: {__name__=\"job:up:sum\", job=\"api\"} 2E+00\n" +
				"        got: {__name__=\"job:up:sum\", job=\"api\"} 1E+00\n",
		},
	},
	{
		file:   "unittest/fail_missing_alert_test.yml",
		stderr: []string{"alertname: InstanceDown, time: 3m, ", "        got:[]"},
	},
	{
		file:   "unittest/fail_unexpected_alert_test.yml",
		stderr: []string{"alertname: InstanceDown, time: 6m, \n        exp:[], \n        got:[\n"},
	},
	{
		file:   "unittest/fail_missing_sample_test.yml",
		stderr: []string{`expr: "job:up:sum{job=\"web\"}", time: 5m,`, "        got: nil"},
	},
	{
		file:   "unittest/fail_bad_series_test.yml",
		stderr: []string{`input_series "up{job=\"api\"} 1 one 0": 1:17: parse error: unexpected identifier "one"`},
	},
	{
		file:   "unittest/fail_bad_expr_test.yml",
		stderr: []string{`expr: "sum(up", time: 1m, err: 1:7: parse error: unclosed left parenthesis`},
	},
	{
		file:   "unittest/fail_bad_rules_test.yml",
		stderr: []string{`bad_promql.rules.yml: 5:15: group "promql", rule 1, "BadExpr": could not parse expression`},
	},
	{
		file:   "unittest/fail_eval_error_test.yml",
		stderr: []string{"rule: up:clashing, time: 0s, err: vector cannot contain metrics with the same labelset"},
	},
	{
		file:   "unittest/fail_unknown_field_test.yml",
		stderr: []string{"field evaluation_intervall not found"},
	},
	{
		file:   "unittest/fail_missing_alertname_test.yml",
		stderr: []string{"an item under alert_rule_test misses required attribute alertname at eval_time 5m"},
	},
	{
		file:   "unittest/fail_repeated_group_order_test.yml",
		stderr: []string{"group name repeated in evaluation order: availability"},
	},
	{
		file: "unittest/lookout_no_interval_test.yml", pass: true,
		peerPass: false, peerDiffers: true,
		why: "promtool 2.42 loads the series of a group without interval with a zero step",
	},
	{
		file: "unittest/lookout_start_timestamp_test.yml", pass: true,
		peerPass: false, peerDiffers: true,
		why: "start_timestamp is a promtool 3 field, unknown to 2.42",
	},
	{
		file: "unittest/lookout_fuzzy_test.yml", pass: true,
		peerPass: false, peerDiffers: true,
		why: "fuzzy_compare is a promtool 3 field, unknown to 2.42",
	},
	{
		file: "unittest/lookout_histogram_test.yml", pass: true,
		peerPass: false, peerDiffers: true,
		why: "exp_samples.histogram is a promtool 3 field, unknown to 2.42",
	},
	{
		file: "unittest/lookout_left_open_range_test.yml", pass: true,
		peerPass: false, peerDiffers: true,
		why: "Prometheus 3 range selectors exclude the sample at the start of the range, 2.42 counts 6 samples",
	},
	{file: "seeds/000_application_infrastructure_test.yml", pass: true},
	{file: "seeds/001_monitoring_test.yml", pass: true},
	{file: "seeds/002_api_alerts_test.yml", pass: true},
	{file: "seeds/003_application_alerts_test.yml", pass: true},
	{file: "seeds/004_license_api_test.yml", pass: true},
}

func (c unitCase) path() string { return filepath.Join("testdata", c.file) }

func TestRunUnitTests(t *testing.T) {
	for _, tc := range unitCases {
		t.Run(tc.file, func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			got := RunUnitTests(&stdout, &stderr, TestOptions{}, tc.path())
			require.Equal(t, tc.pass, got, "stdout:\n%s\nstderr:\n%s", &stdout, &stderr)
			require.True(t, strings.HasPrefix(stdout.String(), "Unit Testing:  "+tc.path()+"\n"), stdout.String())
			if tc.pass {
				require.Contains(t, stdout.String(), "\n  SUCCESS\n")
				require.Empty(t, stderr.String())
				return
			}
			require.True(t, strings.HasPrefix(stderr.String(), "  FAILED:\n"), stderr.String())
			for _, s := range tc.stderr {
				require.Contains(t, stderr.String(), s)
			}
		})
	}
}

// TestUnitCorpusIsCovered keeps unitCases and the test files in step.
func TestUnitCorpusIsCovered(t *testing.T) {
	var want, got []string
	for _, dir := range []string{"unittest", "seeds"} {
		files, err := filepath.Glob(filepath.Join("testdata", dir, "*_test.yml"))
		require.NoError(t, err)
		for _, f := range files {
			want = append(want, dir+"/"+filepath.Base(f))
		}
	}
	for _, tc := range unitCases {
		got = append(got, tc.file)
	}
	require.ElementsMatch(t, want, got)
}

func TestRunUnitTestsSelectsGroups(t *testing.T) {
	// fail_wrong_value_test.yml's only group is "wrong value".
	file := filepath.Join("testdata", "unittest", "fail_wrong_value_test.yml")
	var stdout, stderr bytes.Buffer
	require.True(t, RunUnitTests(&stdout, &stderr, TestOptions{Run: regexp.MustCompile("^other$")}, file))
	require.False(t, RunUnitTests(&stdout, &stderr, TestOptions{Run: regexp.MustCompile("wrong")}, file))
}

func TestRunUnitTestsReportsEveryFile(t *testing.T) {
	pass := filepath.Join("testdata", "unittest", "pass_test.yml")
	fail := filepath.Join("testdata", "unittest", "fail_wrong_value_test.yml")
	var stdout, stderr bytes.Buffer
	require.False(t, RunUnitTests(&stdout, &stderr, TestOptions{}, fail, pass, "testdata/missing_test.yml"))
	require.Equal(t, "Unit Testing:  "+fail+"\n\nUnit Testing:  "+pass+"\n  SUCCESS\n\nUnit Testing:  testdata/missing_test.yml\n\n", stdout.String())
	require.Contains(t, stderr.String(), "wrong value")
	require.Contains(t, stderr.String(), "missing_test.yml: no such file or directory")
}

func TestRunUnitTestsWarnsAboutUnmatchedRuleFiles(t *testing.T) {
	dir := t.TempDir()
	file := filepath.Join(dir, "t_test.yml")
	require.NoError(t, os.WriteFile(file, []byte("rule_files: [nothing*.yml]\ntests: []\n"), 0o600))
	var stdout, stderr bytes.Buffer
	require.True(t, RunUnitTests(&stdout, &stderr, TestOptions{}, file))
	require.Contains(t, stderr.String(), "WARNING: no file match pattern "+filepath.Join(dir, "nothing*.yml"))
}

// TestSeedAlertsAllFire checks that the seed tests make every alert of the
// seed rule files fire at least once.
func TestSeedAlertsAllFire(t *testing.T) {
	rulesFiles, err := filepath.Glob(filepath.Join("testdata", "seeds", "*.rules.yml"))
	require.NoError(t, err)
	require.Len(t, rulesFiles, 5)
	for _, rf := range rulesFiles {
		t.Run(filepath.Base(rf), func(t *testing.T) {
			var stdout, stderr bytes.Buffer
			require.Equal(t, Valid, CheckRuleFiles(&stdout, &stderr, CheckOptions{Lint: LintAll}, rf), "%s", &stderr)

			b, err := os.ReadFile(rf)
			require.NoError(t, err)
			var rgs rulefmt.RuleGroups
			require.NoError(t, yaml.Unmarshal(b, &rgs))
			var alerts []string
			for _, g := range rgs.Groups {
				for _, r := range g.Rules {
					alerts = append(alerts, r.Alert)
				}
			}

			b, err = os.ReadFile(strings.TrimSuffix(rf, ".rules.yml") + "_test.yml")
			require.NoError(t, err)
			var tf testFile
			require.NoError(t, yaml.UnmarshalStrict(b, &tf))
			require.Equal(t, []string{filepath.Base(rf)}, tf.RuleFiles)
			var fired []string
			for _, tg := range tf.Tests {
				for _, at := range tg.AlertTests {
					if len(at.ExpAlerts) > 0 && !slices.Contains(fired, at.Alertname) {
						fired = append(fired, at.Alertname)
					}
				}
			}
			require.ElementsMatch(t, alerts, fired)
		})
	}
}
