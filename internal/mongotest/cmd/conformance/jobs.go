package main

import (
	"fmt"
	"os"
	"path/filepath"
	"regexp"
	"sort"
	"strings"
)

// job is one spec file (or one prose test function), run in one test
// process.
type job struct {
	family string // table row: change-streams, crud, retryable-writes, ...
	key    string // the file as the expectations name it, e.g. "change-streams/change-streams.json"
	bin    string // test binary
	dir    string // its working directory (the package's directory)
	run    string // -test.run pattern selecting the file's tests
	prefix string // the file's tests are named prefix + test name
}

// Families, in table order.
const (
	famChangeStreams  = "change-streams"
	famProse          = "change-streams prose"
	famCRUD           = "crud"
	famRetryUnified   = "retryable-writes (unified)"
	famRetryLegacy    = "retryable-writes (legacy)"
	unifiedTest       = "TestUnifiedSpec"
	legacyRetryTest   = "TestRetryableWritesSpec"
	changeStreamProse = "TestChangeStream_ReplicaSet"
)

var familyOrder = []string{famChangeStreams, famProse, famCRUD, famRetryUnified, famRetryLegacy}

// listJobs lists the spec files of the families this suite runs.
func listJobs(driver, unified, integration string) ([]job, error) {
	unifiedDir := filepath.Join(driver, "internal", "integration", "unified")
	integrationDir := filepath.Join(driver, "internal", "integration")
	var jobs []job
	for _, d := range []struct{ family, dir string }{
		{famChangeStreams, "change-streams"},
		{famCRUD, "crud/unified"},
		{famRetryUnified, "retryable-writes/unified"},
	} {
		files, err := jsonFiles(filepath.Join(driver, "testdata", d.dir))
		if err != nil {
			return nil, err
		}
		for _, f := range files {
			levels := append([]string{unifiedTest}, strings.Split(d.dir, "/")...)
			levels = append(levels, f)
			jobs = append(jobs, job{
				family: d.family, key: d.dir + "/" + f, bin: unified, dir: unifiedDir,
				run: exactPattern(levels), prefix: strings.Join(levels, "/") + "/",
			})
		}
	}
	files, err := jsonFiles(filepath.Join(driver, "testdata", "retryable-writes", "legacy"))
	if err != nil {
		return nil, err
	}
	for _, f := range files {
		levels := []string{legacyRetryTest, f}
		jobs = append(jobs, job{
			family: famRetryLegacy, key: "retryable-writes/legacy/" + f, bin: integration, dir: integrationDir,
			run: exactPattern(levels), prefix: strings.Join(levels, "/") + "/",
		})
	}
	jobs = append(jobs, job{
		family: famProse, key: "prose/" + changeStreamProse, bin: integration, dir: integrationDir,
		run: exactPattern([]string{changeStreamProse}), prefix: changeStreamProse + "/",
	})
	return jobs, nil
}

func jsonFiles(dir string) ([]string, error) {
	entries, err := os.ReadDir(dir)
	if err != nil {
		return nil, fmt.Errorf("spec files: %w", err)
	}
	var out []string
	for _, e := range entries {
		if !e.IsDir() && strings.HasSuffix(e.Name(), ".json") {
			out = append(out, e.Name())
		}
	}
	sort.Strings(out)
	if len(out) == 0 {
		return nil, fmt.Errorf("spec files: none in %s", dir)
	}
	return out, nil
}

// exactPattern is a -test.run/-test.skip pattern matching exactly the test
// named by levels (Go splits both the pattern and the names at '/').
func exactPattern(levels []string) string {
	parts := make([]string, len(levels))
	for i, l := range levels {
		parts[i] = "^" + regexp.QuoteMeta(l) + "$"
	}
	return strings.Join(parts, "/")
}
