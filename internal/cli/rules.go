package cli

import "github.com/spf13/cobra"

// newCheckRulesCmd is `lookout check rules FILE...` (promtool check rules).
func newCheckRulesCmd(io IO) *cobra.Command {
	return &cobra.Command{Use: "rules FILE...", Short: "not implemented yet", Hidden: true}
}

// newTestCmd is `lookout test rules TEST.yml...` (promtool test rules).
func newTestCmd(io IO) *cobra.Command {
	return &cobra.Command{Use: "test", Short: "not implemented yet", Hidden: true}
}
