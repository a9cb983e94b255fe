package crashpoint

import (
	"fmt"
	"strconv"
	"strings"
)

// spec is a parsed WATCHER_CRASHPOINT value: kill at the nth hit of name.
type spec struct {
	name string
	nth  int64
}

// parseSpec reads "name" or "name:n" (n >= 1). An empty value is no spec.
func parseSpec(v string) (spec, bool, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return spec{}, false, nil
	}
	name, count, hasCount := strings.Cut(v, ":")
	if name == "" {
		return spec{}, false, fmt.Errorf("%s=%q: no crash point name", EnvVar, v)
	}
	s := spec{name: name, nth: 1}
	if hasCount {
		n, err := strconv.ParseInt(count, 10, 64)
		if err != nil || n < 1 {
			return spec{}, false, fmt.Errorf("%s=%q: want name:n with n >= 1", EnvVar, v)
		}
		s.nth = n
	}
	return s, true, nil
}
