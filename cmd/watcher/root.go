package main

import (
	"io"
	"os"

	"github.com/projectwatcher/watcher/cmd/watcher/internal/buildinfo"
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
	cmd, err := root.ExecuteC()
	if cmd == nil {
		cmd = root
	}
	return report(err, stderr, cmd.CommandPath())
}

func newRootCmd(stdout, stderr io.Writer) *cobra.Command {
	g := &globals{}
	info := buildinfo.Get(version, commit, nil)
	root := &cobra.Command{
		Use:           "watcher",
		Short:         "Keep Firestore assets consistent with the MongoDB projects collection",
		Version:       info.Version, // --version
		SilenceUsage:  true,
		SilenceErrors: true,
	}
	root.SetVersionTemplate(info.String())
	root.SetOut(stdout)
	root.SetErr(stderr)
	root.SetFlagErrorFunc(func(_ *cobra.Command, err error) error { return usageError(err) })
	root.PersistentFlags().StringVarP(&g.configPath, "config", "c", "./"+config.DefaultPath,
		"config file (YAML); the default may be missing, an explicit one must exist")
	root.PersistentFlags().StringVar(&g.logLevel, "log-level", "", "override log.level (trace|debug|info|warn|error)")
	root.AddCommand(
		newVersionCmd(info),
		newConfigCmd(g),
		newRunCmd(g),
		newHealthcheckCmd(g),
		newCheckpointCmd(g),
		newDLQCmd(g),
		newReconcileCmd(g),
		newWorkerCmd(g),
		newBusCmd(g),
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
	l, err := g.loadFrom(cmd, overrides)
	return l.Config, err
}

// loadFrom is load that also tells which file was read.
func (g *globals) loadFrom(cmd *cobra.Command, overrides map[string]string) (config.Loaded, error) {
	if overrides == nil {
		overrides = map[string]string{}
	}
	if g.logLevel != "" {
		overrides["log.level"] = g.logLevel
	}
	src := config.Source{
		Path:      g.path(cmd),
		LookupEnv: config.WithOverrides(nil, overrides),
		Environ:   os.Environ(),
	}
	l, err := src.LoadValid()
	if err != nil {
		return l, configProblems(err, l.Origin())
	}
	return l, nil
}
