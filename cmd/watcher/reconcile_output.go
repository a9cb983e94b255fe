package main

import (
	"encoding/json"
	"fmt"
	"io"
	"text/tabwriter"

	"github.com/projectwatcher/watcher/reconcile"
)

// printSummary writes the summary as a table per collection, or as JSON.
func printSummary(w io.Writer, s reconcile.Summary, asJSON bool) error {
	if asJSON {
		enc := json.NewEncoder(w)
		enc.SetIndent("", "  ")
		if err := enc.Encode(s); err != nil {
			return fmt.Errorf("writing the summary: %w", err)
		}
		return nil
	}
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', tabwriter.AlignRight)
	fmt.Fprintln(tw, "COLLECTION\tSCANNED\tORPHANS\tDRIFTED\tREPAIRED\tSKIPPED\tINVALID ID\t")
	for _, c := range append(s.Collections, s.Totals) {
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\t%d\t%d\t\n", c.Collection, c.Scanned, c.Orphans, c.Drifted, c.Repaired, c.Skipped, c.Invalid)
	}
	if err := tw.Flush(); err != nil {
		return fmt.Errorf("writing the summary: %w", err)
	}
	if s.DryRun {
		fmt.Fprintln(w, "dry run: nothing was changed")
	}
	for _, p := range s.InvalidDocs {
		fmt.Fprintf(w, "invalid project id: %s\n", p)
	}
	for _, sk := range s.Skips {
		fmt.Fprintf(w, "skipped: %s\n", sk)
	}
	for _, e := range s.Errors {
		fmt.Fprintf(w, "error: %s\n", e)
	}
	fmt.Fprintf(w, "took %.1fs\n", s.Seconds)
	return nil
}
