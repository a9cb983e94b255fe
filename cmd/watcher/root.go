package main

import (
	"io"

	"github.com/projectwatcher/watcher/config"
	"github.com/spf13/cobra"
)

// globals are the persistent flags.
type globals struct {
	configPath string
	logLevel   string
}

// execute runs the command line args and returns the exit code.
func execute(args []string, stdout, stderr io.Writer) int {
	root := newRootCmd(stdout, stderr)
	root.SetArgs(args)
	return report(root.Execute(), stderr)
}

func newRootCmd(stdout, stderr io.Writer) *cobra.Command {
	g := &globals{}
	root := &cobra.Command{
		Use:           "watcher",
		Short:         "Keep Firestore assets consistent with the MongoDB projects collection",
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError(err) })
	root.PersistentFlags().StringVarP(&g.configPath, "config", "c", "./"+config.DefaultPath,
		"config file (YAML); the default may be missing, an explicit one must exist")
	root.PersistentFlags().StringVar(&g.logLevel, "log-level", "", "override log.level (trace|debug|info|warn|error)")
	root.AddCommand(
		newVersionCmd(),
		newConfigCmd(g),
		newRunCmd(g),
		newHealthcheckCmd(g),
		newCheckpointCmd(g),
		newDLQCmd(g),
		newReconcileCmd(g),
	)
	return root
}

// path is the config path for config.Load: "" when -c was not given, so
// that a missing ./config.yaml means defaults + environment.
func (g *globals) path(cmd *cobra.Command) string {
	if cmd.Flags().Changed("config") {
		return g.configPath
	}
	return ""
}

// load loads and validates the configuration with the flag overrides; its
// problems are a configuration error (exit 2).
func (g *globals) load(cmd *cobra.Command, overrides map[string]string) (config.Config, error) {
	if overrides == nil {
		overrides = map[string]string{}
	}
	if g.logLevel != "" {
		overrides["log.level"] = g.logLevel
	}
	cfg, err := config.LoadValid(g.path(cmd), config.WithOverrides(nil, overrides))
	if err != nil {
		return cfg, configError(err)
	}
	return cfg, nil
}
