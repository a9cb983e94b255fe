package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/projectwatcher/watcher/config"
)

// Exit codes (docs/ARCHITECTURE.md, "Command line").
const (
	exitOK      = 0 // clean stop
	exitFailure = 1 // runtime failure
	exitUsage   = 2 // bad config or usage
)

// exitError carries the exit code of a failed command. quiet: the command
// already printed everything there is to say.
type exitError struct {
	code   int
	err    error
	quiet  bool
	hint   bool   // point at the command's --help
	origin string // where a configuration with problems came from
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func usageError(err error) error  { return &exitError{code: exitUsage, err: err, hint: true} }
func failure(err error) error     { return &exitError{code: exitFailure, err: err} }
func quietExit(code int) error    { return &exitError{code: code, err: errors.New("exit"), quiet: true} }
func configError(err error) error { return &exitError{code: exitUsage, err: err} }

// configProblems is a configuration error read from origin (config.Loaded.Origin).
func configProblems(err error, origin string) error {
	return &exitError{code: exitUsage, err: err, origin: origin}
}

// report prints err to stderr and returns its exit code. An error without a
// code comes from cobra itself (unknown command or flag, wrong arguments):
// usage. cmdPath ("watcher dlq retry") is the command that failed, whose
// --help a usage error points to.
func report(err error, stderr io.Writer, cmdPath string) int {
	if err == nil {
		return exitOK
	}
	code := exitUsage
	var ee *exitError
	if errors.As(err, &ee) {
		code = ee.code
		if ee.quiet {
			return code
		}
	}
	var problems config.Problems
	if errors.As(err, &problems) {
		where := ""
		if ee != nil && ee.origin != "" {
			where = "; " + ee.origin
		}
		fmt.Fprintf(stderr, "invalid configuration (%s%s):\n", plural(len(problems), "problem"), where)
		for _, p := range problems {
			fmt.Fprintf(stderr, "  %s\n", p)
		}
		return code
	}
	fmt.Fprintf(stderr, "watcher: %v\n", err)
	if ee == nil || ee.hint {
		fmt.Fprintf(stderr, "Run '%s --help' for usage.\n", cmdPath)
	}
	return code
}

// plural is "1 problem", "2 problems".
func plural(n int, noun string) string {
	if n == 1 {
		return "1 " + noun
	}
	return fmt.Sprintf("%d %ss", n, noun)
}
