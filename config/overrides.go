package config

import "os"

// WithOverrides returns a lookupEnv for Load in which overrides (keyed by key
// path, e.g. "log.level") win over lookupEnv (os.LookupEnv when nil). The
// command line uses it so that a flag such as --dry-run is decoded and
// validated exactly like its environment variable.
func WithOverrides(lookupEnv func(string) (string, bool), overrides map[string]string) func(string) (string, bool) {
	byEnv := make(map[string]string, len(overrides))
	for key, value := range overrides {
		byEnv[EnvName(key)] = value
	}
	return func(name string) (string, bool) {
		if v, ok := byEnv[name]; ok {
			return v, true
		}
		if lookupEnv == nil {
			return os.LookupEnv(name)
		}
		return lookupEnv(name)
	}
}
