package config

import (
	"fmt"
	"strings"
)

// Problems is every problem found in a configuration, one per entry, each
// starting with the key path it concerns. It is returned as an error by Load
// and Validate so that a user sees all problems at once.
type Problems []string

// Error joins the problems, one per line.
func (p Problems) Error() string {
	return strings.Join(p, "\n")
}

func (p *Problems) addf(format string, args ...any) {
	*p = append(*p, fmt.Sprintf(format, args...))
}

// err returns p as an error, or nil when there is no problem.
func (p Problems) err() error {
	if len(p) == 0 {
		return nil
	}
	return p
}
