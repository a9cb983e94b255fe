package main

import (
	"errors"
	"fmt"
	"io"

	"github.com/projectwatcher/watcher/config"
)

// Exit codes (DESIGN.md "Command line").
const (
	exitOK      = 0 // clean stop
	exitFailure = 1 // runtime failure
	exitUsage   = 2 // bad config or usage
)

// exitError carries the exit code of a failed command. quiet: the command
// already printed everything there is to say.
type exitError struct {
	code  int
	err   error
	quiet bool
	hint  bool // point at --help
}

func (e *exitError) Error() string { return e.err.Error() }
func (e *exitError) Unwrap() error { return e.err }

func usageError(err error) error  { return &exitError{code: exitUsage, err: err, hint: true} }
func failure(err error) error     { return &exitError{code: exitFailure, err: err} }
func quietExit(code int) error    { return &exitError{code: code, err: errors.New("exit"), quiet: true} }
func configError(err error) error { return &exitError{code: exitUsage, err: err} }

// report prints err and returns its exit code. An error without a code
// comes from cobra itself (unknown command or flag, wrong arguments): usage.
func report(err error, stderr io.Writer) int {
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
		fmt.Fprintf(stderr, "invalid configuration (%d problems):\n", len(problems))
		for _, p := range problems {
			fmt.Fprintf(stderr, "  %s\n", p)
		}
		return code
	}
	fmt.Fprintf(stderr, "watcher: %v\n", err)
	if ee == nil || ee.hint {
		fmt.Fprintln(stderr, "Run 'watcher --help' for usage.")
	}
	return code
}
