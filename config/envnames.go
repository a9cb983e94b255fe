package config

import (
	"slices"
	"strings"
)

// checkEnvNames reports every variable of environ ("NAME=value" entries,
// as os.Environ returns them) that looks like a misspelt override: its
// upper-case form starts with EnvPrefix, it is no key's variable, and it is
// within maxTypoEdits of one. Other WATCHER_ variables are left alone: they
// are not ours to judge (Kubernetes service links such as WATCHER_PORT and
// WATCHER_SERVICE_HOST for a Service named watcher, WATCHER_TEST_MONGO_URI
// of the tests).
func checkEnvNames(environ []string, p *Problems) {
	known := make([]string, 0, len(leaves()))
	for _, l := range leaves() {
		known = append(known, EnvName(l.key))
	}
	var names []string
	for _, kv := range environ {
		name, _, _ := strings.Cut(kv, "=")
		if !slices.Contains(names, name) {
			names = append(names, name)
		}
	}
	slices.Sort(names)
	for _, name := range names {
		upper := strings.ToUpper(name)
		if !strings.HasPrefix(upper, EnvPrefix) || slices.Contains(known, name) {
			continue
		}
		if want, ok := nearest(upper, known); ok {
			p.addf("%s: not a configuration variable (did you mean %s?)", name, want)
		}
	}
}
