package cli

import (
	"bytes"
	"context"
	"os"
	"path/filepath"
	"testing"

	"github.com/stretchr/testify/require"
)

// amFixture is a file of the amtool package's corpus.
func amFixture(name string) string { return filepath.Join("..", "amtool", "testdata", name) }

func runLookout(t *testing.T, args ...string) (stdout, stderr string, code int) {
	t.Helper()
	var out, errOut bytes.Buffer
	code = Main(context.Background(), args, IO{Stdout: &out, Stderr: &errOut})
	return out.String(), errOut.String(), code
}

func TestCheckAlertmanagerCmd(t *testing.T) {
	for _, tc := range []struct {
		name     string
		files    []string
		wantCode int
		wantOut  []string
		wantErr  string
	}{
		{
			name:    "seeds",
			files:   []string{"seeds/alertmanager.yml"},
			wantOut: []string{"alertmanager.yml'  SUCCESS\n", " - global config\n - route\n - 1 inhibit rules\n - 3 receivers\n - 0 templates\n"},
		},
		{
			name:    "templates",
			files:   []string{"check/templates.good.yml", "check/missing-template.good.yml"},
			wantOut: []string{" - 2 templates\n  SUCCESS\n", " - 1 templates\n  SUCCESS\n"},
		},
		{
			name:     "undefined receiver",
			files:    []string{"check/undefined-receiver.bad.yml"},
			wantCode: 1,
			wantOut:  []string{`FAILED: undefined receiver "pagerduty" used in route`},
			wantErr:  "1 of 1 alertmanager config file(s) failed the check",
		},
		{
			name:     "bad template among good files",
			files:    []string{"check/minimal.good.yml", "check/bad-template-syntax.bad.yml", "check/unknown-field.bad.yml"},
			wantCode: 1,
			wantOut:  []string{"bad-template-syntax.bad.yml'  SUCCESS\n", "  FAILED: template: broken.tmpl.txt:2: unexpected EOF\n", "field group_wiat not found"},
			wantErr:  "2 of 3 alertmanager config file(s) failed the check",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			args := []string{"check", "alertmanager"}
			for _, f := range tc.files {
				args = append(args, amFixture(f))
			}
			out, errOut, code := runLookout(t, args...)
			require.Equal(t, tc.wantCode, code, errOut)
			for _, s := range tc.wantOut {
				require.Contains(t, out, s)
			}
			if tc.wantErr == "" {
				require.Empty(t, errOut)
			} else {
				require.Contains(t, errOut, tc.wantErr)
			}
		})
	}

	_, errOut, code := runLookout(t, "check", "alertmanager")
	require.Equal(t, 1, code)
	require.Contains(t, errOut, "requires at least 1 arg")
}

func TestAlertmanagerRoutesCmd(t *testing.T) {
	seeds, nested := amFixture("seeds/alertmanager.yml"), amFixture("routes/nested.yml")
	// lookout.yml files: one with the routing inline, one pointing at the
	// seeds' alertmanager.yml (relative to lookout.yml), one without.
	dir := t.TempDir()
	inline := filepath.Join(dir, "inline.yml")
	require.NoError(t, os.WriteFile(inline, []byte(`alertmanager:
  config:
    route:
      receiver: default
      routes:
        - matchers: ['team="db"']
          receiver: db-pager
    receivers:
      - name: default
      - name: db-pager
`), 0o600))
	seedsAbs, err := filepath.Abs(seeds)
	require.NoError(t, err)
	seedsYAML, err := os.ReadFile(seedsAbs)
	require.NoError(t, err)
	require.NoError(t, os.WriteFile(filepath.Join(dir, "alertmanager.yml"), seedsYAML, 0o600))
	byFile := filepath.Join(dir, "by-file.yml")
	require.NoError(t, os.WriteFile(byFile, []byte("alertmanager:\n  config_file: alertmanager.yml\n"), 0o600))
	bare := filepath.Join(dir, "bare.yml")
	require.NoError(t, os.WriteFile(bare, []byte("global:\n  scrape_interval: 15s\n"), 0o600))
	badLookout := filepath.Join(dir, "bad.yml")
	require.NoError(t, os.WriteFile(badLookout, []byte("alertmanager:\n  config:\n    route: {}\n"), 0o600))
	for _, tc := range []struct {
		name     string
		args     []string
		wantCode int
		wantOut  string
		wantErr  string
	}{
		{name: "critical", args: []string{"test", "--config.file", seeds, "severity=critical"}, wantOut: "pagerduty\n"},
		{name: "default", args: []string{"test", "--config.file", seeds, "alertname=Foo"}, wantOut: "team-notifications\n"},
		{name: "continue and nesting", args: []string{"test", "--config.file", nested, "team=db", "severity=critical"}, wantOut: "audit,db-pager,db-chat\n"},
		{name: "verify ok", args: []string{"test", "--config.file", nested, "--verify.receivers=on-call,incident-channel", "severity=critical"}, wantOut: "on-call,incident-channel\n"},
		{
			name: "verify mismatch", args: []string{"test", "--config.file", seeds, "--verify.receivers", "slack", "severity=critical"},
			wantCode: 1, wantOut: "pagerduty\nWARNING: Expected receivers did not match resolved receivers.\n",
			wantErr: `expected receivers did not match resolved receivers: want "slack", got "pagerduty"`,
		},
		{
			name: "tree", args: []string{"test", "--tree", "--config.file", seeds, "severity=warning"},
			wantOut: "Matching routes:\n.\n└── default-route\n    └── {severity=\"warning\"}  receiver: slack\n\n\nslack\n",
		},
		{name: "not key=value", args: []string{"test", "--config.file", seeds, "severity!=info"}, wantCode: 1, wantErr: "labels must be specified as key=value pairs"},
		{name: "bad label", args: []string{"test", "--config.file", seeds, "severity"}, wantCode: 1, wantErr: "bad matcher format"},
		{name: "invalid config", args: []string{"test", "--config.file", amFixture("check/root-continue.bad.yml"), "a=b"}, wantCode: 1, wantErr: "cannot have continue in root route"},
		{name: "no config flag", args: []string{"test", "a=b"}, wantCode: 1, wantErr: "no configuration: give --config.file (alertmanager.yml) or --config (lookout.yml)"},
		{name: "both config flags", args: []string{"test", "--config.file", seeds, "--config", inline, "a=b"}, wantCode: 1, wantErr: "not both"},
		{name: "lookout.yml inline", args: []string{"test", "--config", inline, "team=db"}, wantOut: "db-pager\n"},
		{name: "lookout.yml inline default", args: []string{"test", "--config", inline, "team=web"}, wantOut: "default\n"},
		{name: "lookout.yml config_file", args: []string{"test", "--config", byFile, "severity=critical"}, wantOut: "pagerduty\n"},
		{name: "lookout.yml without alertmanager", args: []string{"test", "--config", bare, "severity=critical"}, wantOut: "default\n"},
		{name: "lookout.yml invalid", args: []string{"test", "--config", badLookout, "a=b"}, wantCode: 1, wantErr: "load " + badLookout},
		{
			name: "show", args: []string{"show", "--config.file", seeds},
			wantOut: "Routing tree:\n.\n└── default-route  receiver: team-notifications\n" +
				"    ├── {severity=\"critical\"}  continue: true  receiver: pagerduty\n" +
				"    └── {severity=\"warning\"}  receiver: slack\n\n",
		},
		{
			name: "routes defaults to show", args: []string{"--config.file", seeds},
			wantOut: "Routing tree:\n.\n└── default-route  receiver: team-notifications\n" +
				"    ├── {severity=\"critical\"}  continue: true  receiver: pagerduty\n" +
				"    └── {severity=\"warning\"}  receiver: slack\n\n",
		},
	} {
		t.Run(tc.name, func(t *testing.T) {
			out, errOut, code := runLookout(t, append([]string{"alertmanager", "routes"}, tc.args...)...)
			require.Equal(t, tc.wantCode, code, errOut)
			require.Equal(t, tc.wantOut, out)
			if tc.wantErr == "" {
				require.Empty(t, errOut)
			} else {
				require.Contains(t, errOut, tc.wantErr)
			}
		})
	}
}
