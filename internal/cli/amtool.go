package cli

import "github.com/spf13/cobra"

// newCheckAlertmanagerCmd is `lookout check alertmanager FILE` (amtool check-config).
func newCheckAlertmanagerCmd(io IO) *cobra.Command {
	return &cobra.Command{Use: "alertmanager FILE...", Short: "not implemented yet", Hidden: true}
}

// newAlertmanagerCmd is `lookout alertmanager routes test LABELS...` (amtool config routes test).
func newAlertmanagerCmd(io IO) *cobra.Command {
	return &cobra.Command{Use: "alertmanager", Short: "not implemented yet", Hidden: true}
}
