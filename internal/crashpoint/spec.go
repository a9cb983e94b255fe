package crashpoint

import (
	"fmt"
	"strconv"
	"strings"
)

// spec is a parsed WATCHER_CRASHPOINT value: at the nth hit of name, kill
// the process (SIGKILL) or, with stop, pause it (SIGSTOP) until the test
// sends SIGCONT.
type spec struct {
	name string
	nth  int64
	stop bool
}

// parseSpec reads "name", "name:n", "name:stop" or "name:n:stop" (n >= 1;
// "kill", the default, may be written too). An empty value is no spec.
func parseSpec(v string) (spec, bool, error) {
	v = strings.TrimSpace(v)
	if v == "" {
		return spec{}, false, nil
	}
	parts := strings.Split(v, ":")
	if parts[0] == "" {
		return spec{}, false, fmt.Errorf("%s=%q: no crash point name", EnvVar, v)
	}
	s := spec{name: parts[0], nth: 1}
	rest := parts[1:]
	if n := len(rest); n > 0 && (rest[n-1] == "stop" || rest[n-1] == "kill") {
		s.stop = rest[n-1] == "stop"
		rest = rest[:n-1]
	}
	switch len(rest) {
	case 0:
	case 1:
		n, err := strconv.ParseInt(rest[0], 10, 64)
		if err != nil || n < 1 {
			return spec{}, false, fmt.Errorf("%s=%q: want name[:n][:stop|kill] with n >= 1", EnvVar, v)
		}
		s.nth = n
	default:
		return spec{}, false, fmt.Errorf("%s=%q: want name[:n][:stop|kill]", EnvVar, v)
	}
	return s, true, nil
}
