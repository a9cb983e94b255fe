package main

import (
	"bufio"
	"fmt"
	"io"
	"os"
	"os/exec"
	"regexp"
	"sort"
	"strings"
	"sync"
	"time"

	"github.com/projectwatcher/watcher/internal/mongotest"
)

// Outcomes of a test.
const (
	outPass = "pass"
	outFail = "fail"
	outSkip = "skip"
)

// testResult is one test's outcome; reason is the runner's skip reason or
// the first line of the failure.
type testResult struct {
	name    string
	outcome string
	reason  string
}

// fileResult is a job's results, in the order the tests ran.
type fileResult struct {
	job   job
	tests []testResult
	err   string // the file could not be run (setup failure, crash)
}

// runJobs runs the jobs, n at a time, and returns their results in job order.
func runJobs(jobs []job, n int, testTimeout time.Duration) []fileResult {
	if n < 1 {
		n = 1
	}
	results := make([]fileResult, len(jobs))
	next := make(chan int)
	var wg sync.WaitGroup
	for range n {
		wg.Add(1)
		go func() {
			defer wg.Done()
			for i := range next {
				results[i] = runJob(jobs[i], testTimeout)
				fmt.Fprintf(os.Stderr, "conformance: %-60s %s\n", jobs[i].key, summarize(results[i]))
			}
		}()
	}
	for i := range jobs {
		next <- i
	}
	close(next)
	wg.Wait()
	return results
}

func summarize(r fileResult) string {
	c := map[string]int{}
	for _, t := range r.tests {
		c[t.outcome]++
	}
	s := fmt.Sprintf("%d pass, %d fail, %d skip", c[outPass], c[outFail], c[outSkip])
	if r.err != "" {
		s += " (" + r.err + ")"
	}
	return s
}

// maxRestarts bounds how often one file is restarted after a hung test.
const maxRestarts = 5

// runJob runs one file: a fresh server, the test process, and, when a test
// hangs, a new process (and server) that skips every test already done.
func runJob(j job, testTimeout time.Duration) fileResult {
	res := fileResult{job: j}
	done := map[string]bool{} // first name component under the prefix
	for attempt := 0; ; attempt++ {
		tests, hung, err := runOnce(j, done, testTimeout)
		res.tests = append(res.tests, tests...)
		for _, t := range tests {
			done[firstComponent(t.name)] = true
		}
		if hung == "" {
			if err != "" {
				res.err = err
			}
			return res
		}
		res.tests = append(res.tests, testResult{name: hung, outcome: outFail,
			reason: fmt.Sprintf("timed out: no progress for %s (killed; the file went on from the next test)", testTimeout)})
		done[firstComponent(hung)] = true
		if attempt == maxRestarts {
			res.err = "too many hung tests"
			return res
		}
	}
}

func firstComponent(name string) string {
	first, _, _ := strings.Cut(name, "/")
	return first
}

// runOnce runs the file's tests except those in skip, against a new server.
// hung names the test that made no progress for testTimeout (the process
// was killed), err a failure of the process itself.
func runOnce(j job, skip map[string]bool, testTimeout time.Duration) (tests []testResult, hung, errMsg string) {
	srv, err := mongotest.Start()
	if err != nil {
		return nil, "", "start mongotest: " + err.Error()
	}
	defer func() { _ = srv.Close() }()
	args := []string{"-test.run", j.run, "-test.v=test2json", "-test.count=1", "-test.timeout=30m"}
	if len(skip) > 0 {
		args = append(args, "-test.skip", skipPattern(j, skip))
	}
	cmd := exec.Command(j.bin, args...)
	cmd.Dir = j.dir
	cmd.Env = append(os.Environ(), "MONGODB_URI="+srv.URI())
	stdout, err := cmd.StdoutPipe()
	if err != nil {
		return nil, "", err.Error()
	}
	cmd.Stderr = cmd.Stdout
	if err := cmd.Start(); err != nil {
		return nil, "", "start " + j.bin + ": " + err.Error()
	}
	p := newParser(j.prefix)
	progress := make(chan struct{}, 1)
	finished := make(chan struct{})
	go func() {
		defer close(finished)
		p.read(stdout, progress)
	}()
	hung = watch(cmd, p, progress, finished, testTimeout)
	<-finished
	waitErr := cmd.Wait()
	tests = p.results()
	if hung == "" && waitErr != nil && len(tests) == 0 {
		errMsg = fmt.Sprintf("test process: %v; output: %s", waitErr, p.tail())
	}
	return tests, hung, errMsg
}

// watch kills the test process when no test starts or ends for
// testTimeout, and returns the test that was running then.
func watch(cmd *exec.Cmd, p *parser, progress <-chan struct{}, finished <-chan struct{}, testTimeout time.Duration) string {
	t := time.NewTimer(testTimeout)
	defer t.Stop()
	for {
		select {
		case <-finished:
			return ""
		case <-progress:
			if !t.Stop() {
				<-t.C
			}
			t.Reset(testTimeout)
		case <-t.C:
			name := p.running()
			_ = cmd.Process.Kill()
			if name == "" {
				name = "(setup)"
			}
			return name
		}
	}
}

func skipPattern(j job, skip map[string]bool) string {
	names := make([]string, 0, len(skip))
	for n := range skip {
		names = append(names, regexp.QuoteMeta(n))
	}
	sort.Strings(names)
	levels := strings.Split(strings.TrimSuffix(j.prefix, "/"), "/")
	parts := make([]string, 0, len(levels)+1)
	for _, l := range levels {
		parts = append(parts, "^"+regexp.QuoteMeta(l)+"$")
	}
	return strings.Join(parts, "/") + "/^(" + strings.Join(names, "|") + ")$"
}

// parser reads the framed verbose output of a Go test binary
// (-test.v=test2json): "\x16=== RUN   name", "\x16--- PASS: name (0.01s)",
// "\x16=== NAME  name"; other lines are the output of the current test.
type parser struct {
	prefix string
	mu     sync.Mutex
	order  []string
	out    map[string][]string // output lines by test
	state  map[string]string   // outcome by test
	parent map[string]bool     // tests that have subtests
	stack  []string            // tests started and not ended, innermost last
	cur    string
	last   []string // the last lines, for a process that died
}

func newParser(prefix string) *parser {
	return &parser{prefix: prefix, out: map[string][]string{}, state: map[string]string{}, parent: map[string]bool{}}
}

var frame = regexp.MustCompile(`^\x16(?:=== (RUN|NAME|CONT|PAUSE) +(.*)|--- (PASS|FAIL|SKIP): (.*) \([0-9.]+s\))$`)

func (p *parser) read(r io.Reader, progress chan<- struct{}) {
	sc := bufio.NewScanner(r)
	sc.Buffer(make([]byte, 1<<20), 16<<20)
	for sc.Scan() {
		line := sc.Text()
		p.mu.Lock()
		p.last = append(p.last, line)
		if len(p.last) > 20 {
			p.last = p.last[1:]
		}
		m := frame.FindStringSubmatch(strings.TrimLeft(line, " "))
		switch {
		case m == nil:
			p.out[p.cur] = append(p.out[p.cur], line)
		case m[1] == "RUN":
			name := m[2]
			if len(p.stack) > 0 {
				p.parent[p.stack[len(p.stack)-1]] = true
			}
			p.stack = append(p.stack, name)
			p.order = append(p.order, name)
			p.cur = name
		case m[1] != "":
			p.cur = m[2]
		default:
			name := m[4]
			p.state[name] = strings.ToLower(m[3])
			for i := len(p.stack) - 1; i >= 0; i-- {
				if p.stack[i] == name {
					p.stack = append(p.stack[:i], p.stack[i+1:]...)
					break
				}
			}
		}
		p.mu.Unlock()
		if m != nil && (m[1] == "RUN" || m[3] != "") {
			select {
			case progress <- struct{}{}:
			default:
			}
		}
	}
}

// running is the innermost test started and not ended, without the prefix.
func (p *parser) running() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	for i := len(p.stack) - 1; i >= 0; i-- {
		if name, ok := strings.CutPrefix(p.stack[i], p.prefix); ok {
			return name
		}
	}
	return ""
}

func (p *parser) tail() string {
	p.mu.Lock()
	defer p.mu.Unlock()
	return strings.Join(p.last, " | ")
}

// results are the ended leaf tests under the prefix, in the order they
// started; a file that ended without any (skipped or failed as a whole) is
// one result named "*".
func (p *parser) results() []testResult {
	p.mu.Lock()
	defer p.mu.Unlock()
	file := strings.TrimSuffix(p.prefix, "/")
	if st := p.state[file]; st != "" && st != outPass && !p.parent[file] {
		return []testResult{{name: "*", outcome: st, reason: reason(st, p.out[file])}}
	}
	var out []testResult
	for _, full := range p.order {
		name, ok := strings.CutPrefix(full, p.prefix)
		st := p.state[full]
		if !ok || st == "" || p.parent[full] {
			continue
		}
		out = append(out, testResult{name: name, outcome: st, reason: reason(st, p.out[full])})
	}
	return out
}

// reason is the runner's skip reason, or the first line a failing test
// logged.
var logLine = regexp.MustCompile(`^\s+[\w.-]+\.go:\d+: (.*)$`)

func reason(outcome string, lines []string) string {
	if outcome == outPass {
		return ""
	}
	for i, l := range lines {
		m := logLine.FindStringSubmatch(l)
		if m == nil {
			continue
		}
		if strings.TrimSpace(m[1]) != "" {
			return shorten(m[1])
		}
		// a testify report: the message is on its "Error:" line
		for _, next := range lines[i+1:] {
			if msg, ok := strings.CutPrefix(strings.TrimSpace(next), "Error:"); ok {
				return shorten(msg)
			}
		}
	}
	for _, l := range lines {
		if t := strings.TrimSpace(l); t != "" {
			return shorten(t)
		}
	}
	return ""
}

func shorten(s string) string {
	s = strings.TrimPrefix(s, "skipping due to environmental constraints: ")
	s = strings.TrimPrefix(s, "no matching RunOnBlock; comparison errors: ")
	s = strings.Join(strings.Fields(s), " ")
	if len(s) > 240 {
		s = s[:237] + "..."
	}
	return s
}
