package config

import (
	"errors"
	"os"
	"testing"
)

// FuzzLoad feeds arbitrary bytes as the config file: Load must never panic,
// and whatever it rejects it rejects with a Problems list.
func FuzzLoad(f *testing.F) {
	if repo, err := os.ReadFile("../config.yaml"); err == nil {
		f.Add(repo)
	}
	f.Add([]byte("sync:\n  workers: x\n  collections: [{name: a, group: yes}]\n"))
	f.Add([]byte("mongo: [1, 2]\n"))
	f.Fuzz(func(t *testing.T, data []byte) {
		noFile := func(string) ([]byte, error) { return nil, os.ErrNotExist }
		cfg, err := load("fuzz.yaml", data, env(), noFile)
		if err != nil {
			var problems Problems
			if !errors.As(err, &problems) || len(problems) == 0 {
				t.Fatalf("load error %v (%T) is not a non-empty Problems", err, err)
			}
		}
		_ = cfg.Validate() // must not panic either, whatever was decoded
	})
}
