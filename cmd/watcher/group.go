package main

import (
	"fmt"

	"github.com/spf13/cobra"
)

// groupCmd is a command that only holds subcommands. Alone it prints its
// help; with an argument that names no subcommand it is a usage error
// (cobra would print the help and exit 0).
func groupCmd(use, short string) *cobra.Command {
	return &cobra.Command{
		Use:   use,
		Short: short,
		RunE: func(cmd *cobra.Command, args []string) error {
			if len(args) > 0 {
				return usageError(fmt.Errorf("unknown command %q for %q", args[0], cmd.CommandPath()))
			}
			return cmd.Help()
		},
	}
}
