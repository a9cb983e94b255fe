package main

import (
	"fmt"

	"github.com/projectwatcher/watcher/config"
	"github.com/projectwatcher/watcher/logging"
	"github.com/spf13/cobra"
)

func newConfigCmd(g *globals) *cobra.Command {
	cmd := groupCmd("config", "Work with the configuration")
	cmd.AddCommand(&cobra.Command{
		Use:   "validate",
		Short: `Check the configuration: prints the file read and "ok", or every problem on stderr (exit 2)`,
		Args:  cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			l, err := g.loadFrom(cmd, nil)
			if err != nil {
				return err
			}
			fmt.Fprintln(cmd.OutOrStdout(), l.Origin())
			fmt.Fprintln(cmd.OutOrStdout(), "ok")
			return nil
		},
	}, newConfigPrintCmd(g))
	return cmd
}

func newConfigPrintCmd(g *globals) *cobra.Command {
	var asJSON bool
	cmd := &cobra.Command{
		Use:   "print",
		Short: "Print the configuration in effect (file + environment + defaults), the MongoDB password redacted",
		Long: `Print the configuration the watcher would run with: the config file merged with the
WATCHER_* environment variables over the built-in defaults, as YAML (or --json).
The password of the MongoDB URI is redacted; with mongo.uriFile, nothing of the
file's URI is printed.`,
		Args: cobra.NoArgs,
		RunE: func(cmd *cobra.Command, _ []string) error {
			l, err := g.loadFrom(cmd, nil)
			if err != nil {
				return err
			}
			cfg, comments := redacted(l.Config)
			var out []byte
			if asJSON {
				out, err = cfg.JSON()
				out = append(out, '\n')
			} else {
				out, err = cfg.YAML(comments)
				out = append([]byte("# "+l.Origin()+", with the environment's overrides\n"), out...)
			}
			if err != nil {
				return failure(err)
			}
			_, err = cmd.OutOrStdout().Write(out)
			return err
		},
	}
	cmd.Flags().BoolVar(&asJSON, "json", false, "print JSON instead of YAML")
	return cmd
}

// redacted is cfg fit to print, and a comment on what was hidden: the
// password of mongo.uri redacted, and the URI read from mongo.uriFile not
// shown at all.
func redacted(cfg config.Config) (config.Config, map[string]string) {
	comments := map[string]string{}
	switch r := logging.RedactURI(cfg.Mongo.URI); {
	case cfg.Mongo.URIFile != "":
		cfg.Mongo.URI = ""
		comments["mongo.uri"] = "read from mongo.uriFile (not shown)"
	case r != cfg.Mongo.URI:
		cfg.Mongo.URI = r
		comments["mongo.uri"] = "redacted"
	}
	return cfg, comments
}
