package main

import (
	"bufio"
	"fmt"
	"os"
	"sort"
	"strings"
)

// The expectations file lists, per spec file, every test and what it must
// do against mongotest:
//
//	[change-streams/change-streams.json]
//	pass Test_array_truncation
//	skip Test_with_document_comment_-_pre_4.4
//	exclude Test_that_uses_collation -- collation: the watcher never sends one
//	exclude * -- every test of this file (the reason says why)
//
// pass: the test must pass. skip: the driver's runner must skip it on a
// MongoDB 7.0 replica set (its reason is shown in the table). exclude: the
// test needs something mongotest does not implement, for the reason given;
// its outcome is shown, never checked.

// Expectations.
const (
	expPass    = "pass"
	expSkip    = "skip"
	expExclude = "exclude"
)

type expectation struct {
	kind   string
	reason string
}

// expectations maps a file key to its tests' expectations ("*": every test).
type expectations map[string]map[string]expectation

func readExpectations(path string) (expectations, error) {
	f, err := os.Open(path)
	if err != nil {
		return nil, fmt.Errorf("expectations: %w", err)
	}
	defer func() { _ = f.Close() }()
	exp := expectations{}
	var file string
	sc := bufio.NewScanner(f)
	for n := 1; sc.Scan(); n++ {
		line := strings.TrimSpace(sc.Text())
		if line == "" || strings.HasPrefix(line, "#") {
			continue
		}
		if strings.HasPrefix(line, "[") && strings.HasSuffix(line, "]") {
			file = line[1 : len(line)-1]
			if exp[file] == nil {
				exp[file] = map[string]expectation{}
			}
			continue
		}
		if file == "" {
			return nil, fmt.Errorf("%s:%d: a test before any [file] line", path, n)
		}
		kind, rest, _ := strings.Cut(line, " ")
		name, reason, _ := strings.Cut(strings.TrimSpace(rest), " -- ")
		name = strings.TrimSpace(name)
		switch {
		case name == "":
			return nil, fmt.Errorf("%s:%d: no test name", path, n)
		case kind != expPass && kind != expSkip && kind != expExclude:
			return nil, fmt.Errorf("%s:%d: %q: want pass, skip or exclude", path, n, kind)
		case kind == expExclude && strings.TrimSpace(reason) == "":
			return nil, fmt.Errorf("%s:%d: exclude %s: the reason is missing (exclude NAME -- REASON)", path, n, name)
		}
		if _, dup := exp[file][name]; dup {
			return nil, fmt.Errorf("%s:%d: %s listed twice", path, n, name)
		}
		exp[file][name] = expectation{kind: kind, reason: strings.TrimSpace(reason)}
	}
	if err := sc.Err(); err != nil {
		return nil, fmt.Errorf("expectations: %w", err)
	}
	return exp, nil
}

// lookup returns the expectation of a test, the file's "*" one if the test
// is not listed.
func (e expectations) lookup(file, test string) (expectation, bool) {
	tests := e[file]
	if x, ok := tests[test]; ok {
		return x, true
	}
	x, ok := tests["*"]
	return x, ok
}

// compare lists every result that breaks an expectation, and, when the run
// was complete, every expected test or file that did not run.
func compare(results []fileResult, exp expectations, complete bool) []string {
	var problems []string
	ran := map[string]map[string]bool{}
	for _, r := range results {
		key := r.job.key
		ran[key] = map[string]bool{}
		if r.err != "" {
			problems = append(problems, fmt.Sprintf("%s: %s", key, r.err))
		}
		if exp[key] == nil {
			problems = append(problems, fmt.Sprintf("%s: unlisted file (add a [%s] section)", key, key))
			continue
		}
		for _, t := range r.tests {
			ran[key][t.name] = true
			x, ok := exp.lookup(key, t.name)
			switch {
			case !ok:
				problems = append(problems, fmt.Sprintf("%s: unlisted test %s (%s)", key, t.name, t.outcome))
			case x.kind == expPass && t.outcome != outPass:
				problems = append(problems, fmt.Sprintf("%s: %s: expected to pass, %s: %s", key, t.name, t.outcome, t.reason))
			case x.kind == expSkip && t.outcome != outSkip:
				problems = append(problems, fmt.Sprintf("%s: %s: expected the runner to skip it, it ran: %s", key, t.name, t.outcome))
			}
		}
	}
	if !complete {
		sort.Strings(problems)
		return problems
	}
	for key, tests := range exp {
		if ran[key] == nil {
			problems = append(problems, fmt.Sprintf("%s: listed, but the driver has no such file", key))
			continue
		}
		for name, x := range tests {
			if name != "*" && !ran[key][name] && x.kind != expExclude {
				problems = append(problems, fmt.Sprintf("%s: %s: expected to %s, did not run", key, name, x.kind))
			}
		}
	}
	sort.Strings(problems)
	return problems
}

// recordExpectations writes the expectations the results call for: the
// listed ones as they are, a new test as what it did (a failure as an
// exclusion whose reason must be written by hand).
func recordExpectations(path string, results []fileResult, exp expectations) error {
	var b strings.Builder
	for _, r := range results {
		fmt.Fprintf(&b, "\n[%s]\n", r.job.key)
		if x, ok := exp[r.job.key]["*"]; ok {
			fmt.Fprintf(&b, "%s * -- %s\n", x.kind, x.reason)
			continue
		}
		for _, t := range r.tests {
			x, ok := exp[r.job.key][t.name]
			switch {
			case ok && x.kind == expExclude:
				fmt.Fprintf(&b, "exclude %s -- %s\n", t.name, x.reason)
			case ok:
				fmt.Fprintf(&b, "%s %s\n", x.kind, t.name)
			case t.outcome == outFail:
				fmt.Fprintf(&b, "exclude %s -- TODO (fails: %s)\n", t.name, t.reason)
			default:
				fmt.Fprintf(&b, "%s %s\n", t.outcome, t.name)
			}
		}
	}
	return os.WriteFile(path, []byte(b.String()), 0o644)
}
