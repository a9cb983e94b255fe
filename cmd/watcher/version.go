package main

import (
	"fmt"

	"github.com/projectwatcher/watcher/cmd/watcher/internal/buildinfo"
	"github.com/spf13/cobra"
)

func newVersionCmd(info buildinfo.Info) *cobra.Command {
	return &cobra.Command{
		Use:   "version",
		Short: "Print the version, commit and Go version (also: watcher --version)",
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			_, err := fmt.Fprint(cmd.OutOrStdout(), info)
			return err
		},
	}
}
