package config

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/alecthomas/units"
	"github.com/prometheus/common/model"
	promconfig "github.com/prometheus/prometheus/config"
	"github.com/stretchr/testify/require"
)

func TestDefault(t *testing.T) {
	c := Default()
	require.Equal(t, "127.0.0.1:9900", c.Server.Listen)
	require.Equal(t, "127.0.0.1:4317", c.Server.OTLPGRPCListen)
	require.Equal(t, "127.0.0.1:4318", c.Server.OTLPHTTPListen)
	require.False(t, c.Auth.Enabled())
	require.Equal(t, DefaultMetrics, c.Metrics)
	require.Equal(t, DefaultIngest, c.Ingest)
	require.Equal(t, promconfig.DefaultGlobalConfig.ScrapeInterval, c.Prometheus.GlobalConfig.ScrapeInterval)
}

func TestPrometheusFileIsValid(t *testing.T) {
	c, err := LoadFile("testdata/prometheus.good.yaml", nil)
	require.NoError(t, err)
	p := c.Prometheus
	require.Equal(t, model.Duration(15*time.Second), p.GlobalConfig.ScrapeInterval)
	require.Len(t, p.ScrapeConfigs, 2)
	require.Equal(t, "crm-api", p.ScrapeConfigs[0].JobName)
	require.Len(t, p.ScrapeConfigs[0].RelabelConfigs, 1)
	require.Len(t, p.RemoteWriteConfigs, 1)
	require.Equal(t, int64(30*time.Minute/time.Millisecond), p.StorageConfig.TSDBConfig.OutOfOrderTimeWindow)
	// Relative paths resolve against the file's directory, as in Prometheus.
	abs, _ := filepath.Abs("testdata")
	require.Equal(t, filepath.Join(abs, "rules/*.yml"), mustAbs(t, p.RuleFiles[0]))
	// Lookout's sections take their defaults.
	require.Equal(t, DefaultServer, c.Server)
}

func mustAbs(t *testing.T, p string) string {
	t.Helper()
	a, err := filepath.Abs(p)
	require.NoError(t, err)
	return a
}

func TestLookoutSections(t *testing.T) {
	c, err := LoadFile("testdata/lookout.good.yaml", nil)
	require.NoError(t, err)
	require.Equal(t, "127.0.0.1:9911", c.Server.Listen)
	require.Equal(t, "off", c.Server.OTLPGRPCListen)
	require.Equal(t, DefaultServer.OTLPHTTPListen, c.Server.OTLPHTTPListen, "unset keys keep their defaults")
	require.Equal(t, "debug", c.Server.LogLevel)
	require.True(t, c.Auth.Enabled())
	require.Equal(t, model.Duration(30*24*time.Hour), c.Metrics.RetentionTime)
	require.Equal(t, model.Duration(time.Minute), c.Metrics.QueryTimeout)
	require.Equal(t, DefaultMetrics.QueryMaxSamples, c.Metrics.QueryMaxSamples)
	require.Equal(t, 8*units.MiB, c.Ingest.MaxBodyBytes)
	require.Equal(t, model.Duration(10*time.Second), c.Prometheus.GlobalConfig.ScrapeInterval)
	require.Len(t, c.Prometheus.ScrapeConfigs, 1)
}

func TestSecretsAreHidden(t *testing.T) {
	for _, f := range []string{"testdata/prometheus.good.yaml", "testdata/lookout.good.yaml"} {
		c, err := LoadFile(f, nil)
		require.NoError(t, err)
		s := c.String()
		for _, secret := range []string{"s3cret-scrape-password", "remote-write-secret-token", "0123456789abcdef0123", "$2y$10$"} {
			require.NotContains(t, s, secret, f)
		}
		require.Contains(t, s, "<secret>", f)
	}
}

func TestBadConfigs(t *testing.T) {
	cases := map[string]string{
		"unknown_top":                  `line 3: unknown top-level key "scrape_configz"`,
		"unknown_server_key":           "line 5: field lisen not found",
		"unknown_nested_prom_key":      "line 5: field labelz not found",
		"bad_log_level":                `server.log_level "loud" is invalid`,
		"token_missing":                "exactly one of token or token_file must be configured",
		"token_short":                  "shorter than 16 characters",
		"plain_password":               "must be a bcrypt hash",
		"no_retention":                 "set retention_time or retention_size",
		"bad_duration":                 "not a valid duration",
		"zero_concurrency":             "ingest.max_concurrent_requests must be positive",
		"prom_timeout":                 "scrape timeout greater than scrape interval",
		"duplicate_section":            `line 3: section "server" already defined at line 1`,
		"not_mapping":                  "must be a mapping",
		"invalid_yaml":                 "invalid YAML",
		"am_both":                      "set config_file or config, not both",
		"am_missing_file":              "does-not-exist.yml: no such file",
		"am_inline_undefined_receiver": `alertmanager.config (line numbers count from the first line under config:): undefined receiver "pager" used in route`,
		"am_external_url":              `alertmanager.external_url "lookout.example.com" must be an absolute http(s) URL`,
		"am_unknown_key":               "field config_fil not found",
	}
	files, err := filepath.Glob("testdata/*.bad.yaml")
	require.NoError(t, err)
	require.Len(t, files, len(cases), "every bad file has an expected error and vice versa")
	for _, f := range files {
		name := strings.TrimSuffix(filepath.Base(f), ".bad.yaml")
		t.Run(name, func(t *testing.T) {
			want, ok := cases[name]
			require.True(t, ok, "no expected error for %s", f)
			_, err := LoadFile(f, nil)
			require.Error(t, err)
			require.Contains(t, err.Error(), want)
			require.Contains(t, err.Error(), f, "the error names the file")
		})
	}
}

func TestEmptyAndMissing(t *testing.T) {
	c, err := Load([]byte(""), nil)
	require.NoError(t, err)
	require.Equal(t, DefaultServer, c.Server)
	c, err = Load([]byte("# only a comment\n"), nil)
	require.NoError(t, err)
	require.Equal(t, DefaultIngest, c.Ingest)
	_, err = LoadFile(filepath.Join(t.TempDir(), "nope.yml"), nil)
	require.ErrorIs(t, err, os.ErrNotExist)
}

func TestBlankLinesKeepsLineNumbers(t *testing.T) {
	src := []byte("a: 1\nb:\n  c: 2\nd: 3")
	got := blankLines(src, []lineRange{{key: "b", start: 2, end: 3}, {key: "d", start: 4}})
	require.Equal(t, "a: 1\n\n\n", string(got))
}

func TestAlertmanagerSection(t *testing.T) {
	// Without the section alerts go to one receiver without integrations.
	c := Default()
	require.NotNil(t, c.Alertmanager.Parsed)
	require.Equal(t, "default", c.Alertmanager.Parsed.Route.Receiver)

	dir := t.TempDir()
	am := "route: {receiver: slack}\nreceivers:\n  - name: slack\n    slack_configs: [{api_url: 'https://hooks.slack.com/services/SECRET-PATH', channel: '#x'}]\ntemplates: [tmpl/*.tmpl]\n"
	require.NoError(t, os.WriteFile(filepath.Join(dir, "am.yml"), []byte(am), 0o600))
	require.NoError(t, os.WriteFile(filepath.Join(dir, "lookout.yml"), []byte("alertmanager:\n  config_file: am.yml\n"), 0o600))
	c, err := LoadFile(filepath.Join(dir, "lookout.yml"), nil)
	require.NoError(t, err)
	require.Equal(t, filepath.Join(dir, "am.yml"), c.Alertmanager.ConfigFile, "relative to lookout.yml")
	require.Equal(t, filepath.Join(dir, "tmpl/*.tmpl"), c.Alertmanager.Parsed.Templates[0], "templates relative to the Alertmanager file")

	// Inline, the secrets stay out of the rendered config.
	inline := "alertmanager:\n  config:\n" + indent(am, "    ")
	require.NoError(t, os.WriteFile(filepath.Join(dir, "lookout.yml"), []byte(inline), 0o600))
	c, err = LoadFile(filepath.Join(dir, "lookout.yml"), nil)
	require.NoError(t, err)
	require.Equal(t, "slack", c.Alertmanager.Parsed.Route.Receiver)
	require.Equal(t, filepath.Join(dir, "tmpl/*.tmpl"), c.Alertmanager.Parsed.Templates[0], "templates relative to lookout.yml")
	out := c.String()
	require.NotContains(t, out, "SECRET-PATH")
	require.Contains(t, out, "<secret>")
}

func indent(s, prefix string) string {
	lines := strings.Split(strings.TrimRight(s, "\n"), "\n")
	for i, l := range lines {
		lines[i] = prefix + l
	}
	return strings.Join(lines, "\n") + "\n"
}
