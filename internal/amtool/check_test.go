package amtool

import (
	"bytes"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// checkCase is one file of the check corpus and its expected verdict.
type checkCase struct {
	file string
	// loadErr and templateErr are substrings of the expected errors; both
	// empty means the file passes.
	loadErr, templateErr string
	// inhibit, receivers and templates are the counts reported when the
	// file loads.
	inhibit, receivers, templates int
	// lookoutOnly marks files amtool 0.25 judges differently because they
	// use a feature newer than it; the comparison test skips them.
	lookoutOnly bool
}

// checkCases lists every file under testdata/check and testdata/seeds, and
// the routing fixtures, which must be valid too.
var checkCases = []checkCase{
	{file: "seeds/alertmanager.yml", inhibit: 1, receivers: 3},
	{file: "routes/nested.yml", receivers: 11},
	{file: "check/minimal.good.yml", receivers: 1},
	{file: "check/full.good.yml", inhibit: 2, receivers: 3},
	{file: "check/templates.good.yml", receivers: 1, templates: 2},
	{file: "check/missing-template.good.yml", receivers: 1, templates: 1},
	// msteams_configs arrived in Alertmanager 0.26.
	{file: "check/newer-receiver.good.yml", receivers: 1, lookoutOnly: true},

	{file: "check/bad-template-syntax.bad.yml", templateErr: "broken.tmpl.txt:2: unexpected EOF", receivers: 1, templates: 1},
	{file: "check/bad-template-glob.bad.yml", templateErr: "syntax error in pattern", receivers: 1, templates: 1},
	{file: "check/undefined-receiver.bad.yml", loadErr: `undefined receiver "pagerduty" used in route`},
	{file: "check/bad-matcher.bad.yml", loadErr: "bad matcher format: severity critical"},
	{file: "check/bad-regexp.bad.yml", loadErr: "error parsing regexp: missing closing )"},
	{file: "check/bad-duration.bad.yml", loadErr: `unknown unit " seconds" in duration "30 seconds"`},
	{file: "check/unknown-field.bad.yml", loadErr: "field group_wiat not found"},
	{file: "check/unknown-top-field.bad.yml", loadErr: "field recievers not found"},
	{file: "check/duplicate-receiver.bad.yml", loadErr: `notification config name "default" is not unique`},
	{file: "check/no-route.bad.yml", loadErr: "no routes provided"},
	{file: "check/empty.bad.yml", loadErr: "no route provided in config"},
	{file: "check/root-continue.bad.yml", loadErr: "cannot have continue in root route"},
	{file: "check/root-matchers.bad.yml", loadErr: "root route must not have any matchers"},
	{file: "check/root-no-receiver.bad.yml", loadErr: "root route must specify a default receiver"},
	{file: "check/bad-group-by.bad.yml", loadErr: `invalid label name "alert-name" in group_by list`},
	{file: "check/bad-inhibit-equal.bad.yml", loadErr: `invalid label name "instance-name" in equal list`},
	{file: "check/undefined-time-interval.bad.yml", loadErr: `undefined time interval "weekends" used in route`},
	{file: "check/webhook-no-url.bad.yml", loadErr: "one of url or url_file must be configured"},
	{file: "check/slack-no-api-url.bad.yml", loadErr: "no Slack API URL nor App token set"},
	{file: "check/invalid-yaml.bad.yml", loadErr: "did not find expected key"},
}

func TestCheckFile(t *testing.T) {
	for _, tc := range checkCases {
		t.Run(tc.file, func(t *testing.T) {
			res := CheckFile(filepath.Join("testdata", tc.file))
			if tc.loadErr != "" {
				require.ErrorContains(t, res.LoadErr, tc.loadErr)
				require.Nil(t, res.Config)
				require.NoError(t, res.TemplateErr)
				require.False(t, res.OK())
				return
			}
			require.NoError(t, res.LoadErr)
			require.Len(t, res.Config.InhibitRules, tc.inhibit)
			require.Len(t, res.Config.Receivers, tc.receivers)
			require.Len(t, res.Config.Templates, tc.templates)
			if tc.templateErr != "" {
				require.ErrorContains(t, res.TemplateErr, tc.templateErr)
				require.False(t, res.OK())
				return
			}
			require.NoError(t, res.TemplateErr)
			require.True(t, res.OK())
		})
	}
}

// TestCheckCorpusComplete keeps the table in step with the fixtures.
func TestCheckCorpusComplete(t *testing.T) {
	listed := map[string]bool{}
	for _, tc := range checkCases {
		listed[tc.file] = true
	}
	for _, pattern := range []string{"check/*.yml", "seeds/*.yml", "routes/*.yml"} {
		files, err := filepath.Glob(filepath.Join("testdata", pattern))
		require.NoError(t, err)
		for _, f := range files {
			rel, err := filepath.Rel("testdata", f)
			require.NoError(t, err)
			require.True(t, listed[filepath.ToSlash(rel)], "%s has no row in checkCases", rel)
		}
	}
}

func TestCheckReport(t *testing.T) {
	var out bytes.Buffer
	failed := Check(&out,
		"testdata/seeds/alertmanager.yml",
		"testdata/check/templates.good.yml",
		"testdata/check/bad-template-syntax.bad.yml",
		"testdata/check/root-continue.bad.yml",
	)
	require.Equal(t, 2, failed)
	require.Equal(t, `Checking 'testdata/seeds/alertmanager.yml'  SUCCESS
Found:
 - global config
 - route
 - 1 inhibit rules
 - 3 receivers
 - 0 templates

Checking 'testdata/check/templates.good.yml'  SUCCESS
Found:
 - global config
 - route
 - 0 inhibit rules
 - 1 receivers
 - 2 templates
  SUCCESS

Checking 'testdata/check/bad-template-syntax.bad.yml'  SUCCESS
Found:
 - global config
 - route
 - 0 inhibit rules
 - 1 receivers
 - 1 templates
  FAILED: template: broken.tmpl.txt:2: unexpected EOF

Checking 'testdata/check/root-continue.bad.yml'  FAILED: cannot have continue in root route

`, out.String())
}

func TestCheckMissingFile(t *testing.T) {
	var out bytes.Buffer
	require.Equal(t, 1, Check(&out, filepath.Join(t.TempDir(), "nope.yml")))
	require.Contains(t, out.String(), "FAILED: open ")
	require.Contains(t, out.String(), "no such file or directory")
}
