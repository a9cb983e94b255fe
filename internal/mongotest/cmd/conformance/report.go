package main

import (
	"fmt"
	"io"
	"os"
	"strings"
	"text/tabwriter"
)

// counts are a family's or a file's numbers.
type counts struct {
	files, pass, fail, skip, excluded, excludedPass int
}

func (c *counts) add(r fileResult, exp expectations) {
	c.files++
	for _, t := range r.tests {
		switch t.outcome {
		case outPass:
			c.pass++
		case outFail:
			c.fail++
		case outSkip:
			c.skip++
		}
		if x, ok := exp.lookup(r.job.key, t.name); ok && x.kind == expExclude {
			c.excluded++
			if t.outcome == outPass {
				c.excludedPass++
			}
		}
	}
}

func byFamily(results []fileResult, exp expectations) map[string]*counts {
	out := map[string]*counts{}
	for _, r := range results {
		c := out[r.job.family]
		if c == nil {
			c = &counts{}
			out[r.job.family] = c
		}
		c.add(r, exp)
	}
	return out
}

func countTests(results []fileResult) int {
	n := 0
	for _, r := range results {
		n += len(r.tests)
	}
	return n
}

// printTable prints one line per file and the totals per family.
func printTable(w io.Writer, results []fileResult, exp expectations) {
	tw := tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "file\tpass\tfail\tskip\texcluded")
	for _, r := range results {
		var c counts
		c.add(r, exp)
		fmt.Fprintf(tw, "%s\t%d\t%d\t%d\t%d\n", r.job.key, c.pass, c.fail, c.skip, c.excluded)
	}
	_ = tw.Flush()
	// the tests that did not pass, with the runner's reason
	for _, r := range results {
		for _, t := range r.tests {
			if t.outcome == outPass {
				continue
			}
			why := t.reason
			if x, _ := exp.lookup(r.job.key, t.name); x.kind == expExclude {
				why = "excluded: " + x.reason
			}
			line := fmt.Sprintf("  %s %s / %s: %s", t.outcome, r.job.key, t.name, why)
			if len(line) > 200 {
				line = line[:197] + "..."
			}
			fmt.Fprintln(w, line)
		}
	}
	fmt.Fprintln(w)
	tw = tabwriter.NewWriter(w, 0, 4, 2, ' ', 0)
	fmt.Fprintln(tw, "family\tpass\tfail\tskip\texcluded")
	fams := byFamily(results, exp)
	for _, f := range familyOrder {
		if c := fams[f]; c != nil {
			fmt.Fprintf(tw, "%s (%d files)\t%d\t%d\t%d\t%d\n", f, c.files, c.pass, c.fail, c.skip, c.excluded)
		}
	}
	_ = tw.Flush()
}

// generatedMarker separates CONFORMANCE.md's hand-written part from the
// results written below it.
const generatedMarker = "<!-- Everything below is written by make conformance. -->"

// writeMarkdown rewrites the results part of path (everything after the
// marker; the part before it is kept as it is).
func writeMarkdown(path string, results []fileResult, exp expectations) error {
	head := "# mongotest conformance\n\n"
	if old, err := os.ReadFile(path); err == nil {
		if i := strings.Index(string(old), generatedMarker); i >= 0 {
			head = string(old[:i])
		}
	}
	var b strings.Builder
	b.WriteString(head)
	b.WriteString(generatedMarker + "\n\n")
	b.WriteString("## Results\n\n")
	b.WriteString("pass, fail and skip are the outcomes of the run (skip: the driver's runner skips the test on a MongoDB 7.0 replica set, for the reason shown; a file it skips as a whole, listed as `*`, counts once); ")
	b.WriteString("excluded: tests that `conformance.expect` excludes, with the reason, counted in their outcome too (in brackets: how many of them pass anyway). ")
	b.WriteString("Every other test must pass: `make conformance` fails otherwise, and on any test the expectations do not list.\n\n")
	b.WriteString("| family | files | pass | fail | skip | excluded |\n|---|---:|---:|---:|---:|---:|\n")
	fams := byFamily(results, exp)
	for _, f := range familyOrder {
		if c := fams[f]; c != nil {
			fmt.Fprintf(&b, "| %s | %d | %d | %d | %d | %d (%d) |\n", f, c.files, c.pass, c.fail, c.skip, c.excluded, c.excludedPass)
		}
	}
	fmt.Fprintf(&b, "\n%d tests in %d files.\n", countTests(results), len(results))
	for _, r := range results {
		var c counts
		c.add(r, exp)
		fmt.Fprintf(&b, "\n### %s\n\n%d pass, %d fail, %d skip", r.job.key, c.pass, c.fail, c.skip)
		if c.excluded > 0 {
			fmt.Fprintf(&b, "; %d excluded", c.excluded)
		}
		b.WriteString("\n\n| test | result | expected | reason |\n|---|---|---|---|\n")
		if r.err != "" {
			fmt.Fprintf(&b, "| (file) | error | | %s |\n", cell(r.err))
		}
		for _, t := range r.tests {
			x, _ := exp.lookup(r.job.key, t.name)
			why := t.reason
			if x.kind == expExclude {
				why = "excluded: " + x.reason
				if t.outcome != outPass && t.reason != "" {
					why += " (" + t.reason + ")"
				}
			}
			fmt.Fprintf(&b, "| %s | %s | %s | %s |\n", cell(t.name), t.outcome, x.kind, cell(why))
		}
	}
	if err := os.WriteFile(path, []byte(b.String()), 0o644); err != nil {
		return fmt.Errorf("write %s: %w", path, err)
	}
	return nil
}

// cell escapes a table cell.
func cell(s string) string {
	s = strings.ReplaceAll(s, "|", `\|`)
	return strings.ReplaceAll(s, "\n", " ")
}
