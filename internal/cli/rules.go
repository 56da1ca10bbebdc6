package cli

import (
	"errors"
	"fmt"
	"regexp"
	"strings"

	"github.com/spf13/cobra"

	"github.com/lookout-dev/lookout/internal/promtool"
)

// newCheckRulesCmd is `lookout check rules FILE...` (promtool check rules).
func newCheckRulesCmd(stdio IO) *cobra.Command {
	var (
		opts      promtool.CheckOptions
		lintFatal bool
	)
	cmd := &cobra.Command{
		Use:   "rules [FILE...]",
		Short: "Check Prometheus rule files, as promtool check rules does; without FILE, read standard input",
		Long: `Check Prometheus rule files, as promtool check rules does.

Exit status: 0 when every file is valid, 1 when a file is invalid, 3 when a
lint found problems and --lint-fatal is set.`,
		RunE: func(cmd *cobra.Command, args []string) error {
			var v promtool.Verdict
			if len(args) == 0 {
				v = promtool.CheckRulesReader(stdio.Stdout, stdio.Stderr, cmd.InOrStdin(), opts)
			} else {
				v = promtool.CheckRuleFiles(stdio.Stdout, stdio.Stderr, opts, args...)
			}
			switch code := v.ExitCode(lintFatal); {
			case v == promtool.Invalid:
				return exitError{code: code, err: errors.New("check rules: invalid rule files")}
			case code != 0:
				return exitError{code: code, err: errors.New("check rules: lint found problems")}
			}
			return nil
		},
	}
	fl := cmd.Flags()
	fl.StringVar(&opts.Lint, "lint", promtool.DefaultLint, "lint checks to apply: "+
		strings.Join([]string{promtool.LintAll, promtool.LintDuplicateRules, promtool.LintLegacyNames, promtool.LintNone}, ", "))
	fl.BoolVar(&lintFatal, "lint-fatal", false, "exit with status 3 when a lint finds problems")
	fl.BoolVar(&opts.IgnoreUnknownFields, "ignore-unknown-fields", false, "accept unknown fields in rule files")
	return cmd
}

// newTestCmd is `lookout test rules TEST.yml...` (promtool test rules).
func newTestCmd(stdio IO) *cobra.Command {
	test := &cobra.Command{Use: "test", Short: "Run unit tests"}
	var (
		opts promtool.TestOptions
		run  []string
	)
	rulesCmd := &cobra.Command{
		Use:   "rules TEST.yml...",
		Short: "Unit-test alerting and recording rules, as promtool test rules does",
		Long: `Unit-test alerting and recording rules against synthetic series. The test
files use promtool's format (rule_files, evaluation_interval, group_eval_order,
tests with input_series, alert_rule_test and promql_expr_test).

Exit status: 0 when every test passes, 1 otherwise.`,
		Args: cobra.MinimumNArgs(1),
		RunE: func(_ *cobra.Command, args []string) error {
			if len(run) > 0 {
				re, err := regexp.Compile(strings.Join(run, "|"))
				if err != nil {
					return exitError{code: 2, err: fmt.Errorf("--run: %w", err)}
				}
				opts.Run = re
			}
			if !promtool.RunUnitTests(stdio.Stdout, stdio.Stderr, opts, args...) {
				return exitError{code: 1, err: errors.New("test rules: tests failed")}
			}
			return nil
		},
	}
	fl := rulesCmd.Flags()
	fl.StringArrayVar(&run, "run", nil, "run only the test groups whose name matches this regular expression; repeatable")
	fl.BoolVar(&opts.IgnoreUnknownFields, "ignore-unknown-fields", false, "accept unknown fields in the rule files under test")
	test.AddCommand(rulesCmd)
	return test
}
