// Command conformance runs MongoDB's specification tests, as the official Go
// driver's module ships them, against internal/mongotest, compares every
// result with the committed expectations and writes the results table.
//
// scripts/conformance.sh fetches the driver module, builds its two test
// binaries and runs this command (make conformance). Each spec file runs in
// its own test process against its own fresh mongotest server (the files
// share database names and kill all sessions); a test that makes no
// progress for -test-timeout is killed, recorded as a failure, and the file
// goes on from the next test.
package main

import (
	"flag"
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"time"
)

func main() {
	os.Exit(run())
}

func run() int {
	driver := flag.String("driver", "", "the driver module's copy (its testdata and internal/integration)")
	unified := flag.String("unified", "", "test binary of internal/integration/unified")
	integration := flag.String("integration", "", "test binary of internal/integration")
	expect := flag.String("expect", "internal/mongotest/conformance.expect", "expectations file")
	out := flag.String("out", "internal/mongotest/CONFORMANCE.md", "results table to write (empty: none)")
	jobs := flag.Int("jobs", 2, "spec files run at once, each against its own server")
	testTimeout := flag.Duration("test-timeout", 20*time.Second, "longest a test may run")
	only := flag.String("only", "", "run only the files whose key matches this regular expression (no table, no unlisted-test check)")
	record := flag.String("record", "", "also write to this file the expectations the results would need (existing entries kept), for review")
	flag.Parse()
	if *driver == "" || *unified == "" || *integration == "" {
		fmt.Fprintln(os.Stderr, "conformance: -driver, -unified and -integration are required")
		return 2
	}
	exp, err := readExpectations(*expect)
	if err != nil {
		fmt.Fprintln(os.Stderr, "conformance:", err)
		return 2
	}
	all, err := listJobs(*driver, *unified, *integration)
	if err != nil {
		fmt.Fprintln(os.Stderr, "conformance:", err)
		return 2
	}
	selected := all
	if *only != "" {
		re, err := regexp.Compile(*only)
		if err != nil {
			fmt.Fprintln(os.Stderr, "conformance: -only:", err)
			return 2
		}
		selected = nil
		for _, j := range all {
			if re.MatchString(j.key) {
				selected = append(selected, j)
			}
		}
	}
	start := time.Now()
	results := runJobs(selected, *jobs, *testTimeout)
	elapsed := time.Since(start)
	problems := compare(results, exp, *only == "")
	if *record != "" {
		if err := recordExpectations(*record, results, exp); err != nil {
			fmt.Fprintln(os.Stderr, "conformance:", err)
			return 1
		}
	}
	printTable(os.Stdout, results, exp)
	if *out != "" && *only == "" {
		if err := writeMarkdown(*out, results, exp); err != nil {
			fmt.Fprintln(os.Stderr, "conformance:", err)
			return 1
		}
		fmt.Printf("\nwrote %s\n", filepath.Clean(*out))
	}
	fmt.Printf("\n%d files, %d tests in %s\n", len(results), countTests(results), elapsed.Round(time.Second))
	if len(problems) > 0 {
		fmt.Printf("\nFAILED: %d problems against %s:\n", len(problems), *expect)
		for _, p := range problems {
			fmt.Println("  " + p)
		}
		return 1
	}
	fmt.Println("conformance: every result is as expected")
	return 0
}
