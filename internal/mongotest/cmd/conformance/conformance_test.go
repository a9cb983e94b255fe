package main

import (
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// A test binary's output with -test.v=test2json (framing lines start with
// 0x16), as the driver's unified runner prints it.
const sampleOutput = "\x16=== RUN   TestUnifiedSpec\n" +
	"\x16=== RUN   TestUnifiedSpec/crud/unified/f.json\n" +
	"\x16=== RUN   TestUnifiedSpec/crud/unified/f.json/passes\n" +
	"\x16--- PASS: TestUnifiedSpec/crud/unified/f.json/passes (0.01s)\n" +
	"\x16=== NAME  TestUnifiedSpec/crud/unified/f.json\n" +
	"\x16=== RUN   TestUnifiedSpec/crud/unified/f.json/fails\n" +
	"    unified_spec_runner.go:234: error running operation \"find\" at index 0: boom\n" +
	"\x16--- FAIL: TestUnifiedSpec/crud/unified/f.json/fails (0.00s)\n" +
	"\x16=== NAME  TestUnifiedSpec/crud/unified/f.json\n" +
	"\x16=== RUN   TestUnifiedSpec/crud/unified/f.json/a/b\n" +
	"    mongotest.go:112: skipping due to environmental constraints: no matching RunOnBlock; comparison errors: [server version \"7.0.0\" is higher than max version \"4.2.99\"]\n" +
	"\x16--- SKIP: TestUnifiedSpec/crud/unified/f.json/a/b (0.00s)\n" +
	"\x16=== RUN   TestUnifiedSpec/crud/unified/f.json/testify\n" +
	"    crud_spec_test.go:161: \n" +
	"        \tError Trace:\tx.go:1\n" +
	"        \tError:      \tExpected nil, but got: oops\n" +
	"\x16--- FAIL: TestUnifiedSpec/crud/unified/f.json/testify (0.00s)\n" +
	"\x16--- FAIL: TestUnifiedSpec/crud/unified/f.json (0.02s)\n" +
	"\x16--- FAIL: TestUnifiedSpec (0.02s)\n"

func TestParserReadsLeafResultsAndReasons(t *testing.T) {
	p := newParser("TestUnifiedSpec/crud/unified/f.json/")
	p.read(strings.NewReader(sampleOutput), make(chan struct{}, 1))
	got := p.results()
	want := []testResult{
		{"passes", outPass, ""},
		{"fails", outFail, `error running operation "find" at index 0: boom`},
		{"a/b", outSkip, `[server version "7.0.0" is higher than max version "4.2.99"]`},
		{"testify", outFail, "Expected nil, but got: oops"},
	}
	if len(got) != len(want) {
		t.Fatalf("results = %+v, want %+v", got, want)
	}
	for i := range want {
		if got[i] != want[i] {
			t.Errorf("result %d = %+v, want %+v", i, got[i], want[i])
		}
	}
	if r := p.running(); r != "" {
		t.Errorf("running after the end = %q", r)
	}
}

func TestParserReportsAWholeFileSkip(t *testing.T) {
	p := newParser("TestUnifiedSpec/crud/unified/g.json/")
	p.read(strings.NewReader("\x16=== RUN   TestUnifiedSpec/crud/unified/g.json\n"+
		"    mongotest.go:112: skipping due to environmental constraints: needs 8.0\n"+
		"\x16--- SKIP: TestUnifiedSpec/crud/unified/g.json (0.00s)\n"), make(chan struct{}, 1))
	got := p.results()
	if len(got) != 1 || got[0].name != "*" || got[0].outcome != outSkip || got[0].reason != "needs 8.0" {
		t.Errorf("results = %+v, want one skip of *", got)
	}
}

func TestParserKnowsTheRunningTest(t *testing.T) {
	p := newParser("TestX/")
	p.read(strings.NewReader("\x16=== RUN   TestX\n\x16=== RUN   TestX/waits\n"), make(chan struct{}, 1))
	if r := p.running(); r != "waits" {
		t.Errorf("running = %q, want waits", r)
	}
}

func TestCompareAgainstExpectations(t *testing.T) {
	path := filepath.Join(t.TempDir(), "e")
	content := "[f.json]\npass a\nskip b\nexclude c -- collation: never sent\npass gone\n[g.json]\nskip *\n[missing.json]\npass x\n"
	if err := os.WriteFile(path, []byte(content), 0o644); err != nil {
		t.Fatal(err)
	}
	exp, err := readExpectations(path)
	if err != nil {
		t.Fatal(err)
	}
	results := []fileResult{
		{job: job{key: "f.json"}, tests: []testResult{
			{name: "a", outcome: outFail, reason: "boom"},
			{name: "b", outcome: outPass},
			{name: "c", outcome: outFail},
			{name: "new", outcome: outPass},
		}},
		{job: job{key: "g.json"}, tests: []testResult{{name: "*", outcome: outSkip}}},
		{job: job{key: "h.json"}},
	}
	got := strings.Join(compare(results, exp, true), "\n")
	for _, want := range []string{
		"f.json: a: expected to pass, fail: boom",
		"f.json: b: expected the runner to skip it, it ran: pass",
		"f.json: unlisted test new (pass)",
		"f.json: gone: expected to pass, did not run",
		"h.json: unlisted file",
		"missing.json: listed, but the driver has no such file",
	} {
		if !strings.Contains(got, want) {
			t.Errorf("problems lack %q:\n%s", want, got)
		}
	}
	if strings.Contains(got, "f.json: c:") || strings.Contains("\n"+got, "\ng.json") {
		t.Errorf("an excluded test or a skipped file reported:\n%s", got)
	}
}

func TestExpectationsRejectAnExclusionWithoutReason(t *testing.T) {
	path := filepath.Join(t.TempDir(), "e")
	if err := os.WriteFile(path, []byte("[f.json]\nexclude a\n"), 0o644); err != nil {
		t.Fatal(err)
	}
	if _, err := readExpectations(path); err == nil || !strings.Contains(err.Error(), "reason is missing") {
		t.Errorf("err = %v, want the missing reason reported", err)
	}
}
