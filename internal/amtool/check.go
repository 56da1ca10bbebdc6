// Package amtool implements the offline Alertmanager tools of the lookout
// command line with amtool's inputs, verdicts and output: checking
// configuration files and testing the routing tree.
//
// Configurations are loaded by the Alertmanager config package with its
// default (classic) matcher and label name parsing, the same parsing amtool
// 0.25 applies.
package amtool

import (
	"fmt"
	"io"

	"github.com/prometheus/alertmanager/config"
	"github.com/prometheus/alertmanager/template"
)

// CheckResult is the outcome of checking one Alertmanager configuration file.
type CheckResult struct {
	File string
	// Config is the loaded configuration; nil when LoadErr is set.
	Config *config.Config
	// LoadErr is why the file is not a valid configuration.
	LoadErr error
	// TemplateErr is why the configuration's templates do not parse. It is
	// nil when LoadErr is set or the configuration has no templates.
	TemplateErr error
}

// OK reports whether the file passed the check.
func (r CheckResult) OK() bool { return r.LoadErr == nil && r.TemplateErr == nil }

// CheckFile loads file as Alertmanager does and parses the templates it
// lists. Template paths are globs relative to the file, so a path that matches
// no file is not an error (amtool behaves the same).
func CheckFile(file string) CheckResult {
	res := CheckResult{File: file}
	res.Config, res.LoadErr = config.LoadFile(file)
	if res.LoadErr != nil {
		res.Config = nil
		return res
	}
	if len(res.Config.Templates) > 0 {
		_, res.TemplateErr = template.FromGlobs(res.Config.Templates)
	}
	return res
}

// Check checks each file and writes the report amtool check-config prints
// to w. It returns the number of files that failed.
func Check(w io.Writer, files ...string) (failed int) {
	for _, f := range files {
		res := CheckFile(f)
		WriteResult(w, res)
		if !res.OK() {
			failed++
		}
	}
	return failed
}

// WriteResult writes the report on one file in amtool check-config's format:
// the verdict, then what the configuration holds, then the verdict on its
// templates if it has any.
func WriteResult(w io.Writer, res CheckResult) {
	fmt.Fprintf(w, "Checking '%s'", res.File)
	if res.LoadErr != nil {
		fmt.Fprintf(w, "  FAILED: %s\n\n", res.LoadErr)
		return
	}
	fmt.Fprintln(w, "  SUCCESS")
	cfg := res.Config
	fmt.Fprintln(w, "Found:")
	if cfg.Global != nil {
		fmt.Fprintln(w, " - global config")
	}
	if cfg.Route != nil {
		fmt.Fprintln(w, " - route")
	}
	fmt.Fprintf(w, " - %d inhibit rules\n", len(cfg.InhibitRules))
	fmt.Fprintf(w, " - %d receivers\n", len(cfg.Receivers))
	fmt.Fprintf(w, " - %d templates\n", len(cfg.Templates))
	switch {
	case len(cfg.Templates) == 0:
	case res.TemplateErr != nil:
		fmt.Fprintf(w, "  FAILED: %s\n", res.TemplateErr)
	default:
		fmt.Fprintln(w, "  SUCCESS")
	}
	fmt.Fprintln(w)
}
