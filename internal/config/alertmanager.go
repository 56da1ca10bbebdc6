package config

import (
	"errors"
	"fmt"
	"net/url"
	"time"

	amconfig "github.com/prometheus/alertmanager/config"
	commoncfg "github.com/prometheus/common/config"
	"github.com/prometheus/common/model"
	yamlv2 "go.yaml.in/yaml/v2"
)

// Alertmanager configures the embedded alert routing. It points at a
// standard alertmanager.yml (ConfigFile) or holds one inline (Config); with
// neither, alerts are kept, grouped and shown but sent nowhere.
type Alertmanager struct {
	// ConfigFile is a standard Alertmanager configuration file, relative to
	// the directory of lookout.yml.
	ConfigFile string `yaml:"config_file,omitempty"`
	// Config is an Alertmanager configuration written inline.
	Config yamlv2.MapSlice `yaml:"config,omitempty"`
	// ExternalURL is where users reach Lookout; links in notifications use it.
	// Empty means http://<listen address>.
	ExternalURL string `yaml:"external_url,omitempty"`
	// Retention is how long notification log entries and expired silences
	// are kept (Alertmanager's --data.retention).
	Retention model.Duration `yaml:"retention,omitempty"`

	// Parsed is the loaded Alertmanager configuration.
	Parsed *amconfig.Config `yaml:"-"`
}

// DefaultAlertmanager keeps notification state for five days, as Alertmanager does.
var DefaultAlertmanager = Alertmanager{Retention: model.Duration(120 * time.Hour)}

// defaultAMConfig routes every alert to a receiver without integrations.
const defaultAMConfig = `route:
  receiver: default
  group_by: [alertname]
receivers:
  - name: default
`

// UnmarshalYAML applies defaults, decodes and validates; the Alertmanager
// configuration itself is loaded by resolve once paths are known.
func (a *Alertmanager) UnmarshalYAML(unmarshal func(any) error) error {
	*a = DefaultAlertmanager
	type plain Alertmanager
	if err := unmarshal((*plain)(a)); err != nil {
		return err
	}
	if a.ConfigFile != "" && len(a.Config) > 0 {
		return errors.New("alertmanager: set config_file or config, not both")
	}
	if a.Retention <= 0 {
		return errors.New("alertmanager.retention must be a positive duration such as 120h")
	}
	if a.ExternalURL != "" {
		u, err := url.Parse(a.ExternalURL)
		if err != nil || (u.Scheme != "http" && u.Scheme != "https") || u.Host == "" {
			return fmt.Errorf("alertmanager.external_url %q must be an absolute http(s) URL such as https://lookout.example.com", a.ExternalURL)
		}
	}
	return nil
}

// MarshalYAML shows the loaded configuration, with its secrets as <secret>,
// instead of the inline text.
func (a Alertmanager) MarshalYAML() (any, error) {
	type plain struct {
		ConfigFile  string           `yaml:"config_file,omitempty"`
		Config      *amconfig.Config `yaml:"config,omitempty"`
		ExternalURL string           `yaml:"external_url,omitempty"`
		Retention   model.Duration   `yaml:"retention,omitempty"`
	}
	p := plain{ConfigFile: a.ConfigFile, ExternalURL: a.ExternalURL, Retention: a.Retention}
	if a.ConfigFile == "" {
		p.Config = a.Parsed
	}
	return p, nil
}

// resolve loads the Alertmanager configuration: the file (relative to dir),
// the inline text or the built-in default.
func (a *Alertmanager) resolve(dir string) error {
	var err error
	switch {
	case a.ConfigFile != "":
		a.ConfigFile = commoncfg.JoinDir(dir, a.ConfigFile)
		a.Parsed, err = amconfig.LoadFile(a.ConfigFile)
		if err != nil {
			return fmt.Errorf("alertmanager.config_file %s: %w", a.ConfigFile, err)
		}
	case len(a.Config) > 0:
		b, merr := yamlv2.Marshal(a.Config)
		if merr != nil {
			return fmt.Errorf("alertmanager.config: %w", merr)
		}
		a.Parsed, err = amconfig.Load(string(b))
		if err != nil {
			return fmt.Errorf("alertmanager.config (line numbers count from the first line under config:): %w", err)
		}
		for i, t := range a.Parsed.Templates {
			a.Parsed.Templates[i] = commoncfg.JoinDir(dir, t)
		}
	default:
		a.Parsed, err = amconfig.Load(defaultAMConfig)
		if err != nil {
			panic("BUG: default Alertmanager config does not load: " + err.Error())
		}
	}
	return nil
}
