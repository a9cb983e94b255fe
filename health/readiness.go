package health

import (
	"context"
	"errors"
	"fmt"
	"net/http"
	"slices"
	"strings"
	"sync"
)

// Check is one readiness check: nil when ready. It receives a context
// bounded by the check timeout.
type Check func(ctx context.Context) error

// CheckResult is the outcome of one named check.
type CheckResult struct {
	Name string
	Err  error
}

// AddCheck registers (or replaces) the readiness check called name.
func (s *Server) AddCheck(name string, fn func(context.Context) error) {
	s.checksMu.Lock()
	defer s.checksMu.Unlock()
	s.checks[name] = fn
}

// Readiness runs every check concurrently, each with the check timeout, and
// returns the results sorted by name. ready is true when all passed.
func (s *Server) Readiness(ctx context.Context) (ready bool, results []CheckResult) {
	results = s.runChecks(ctx, s.checks)
	ready = true
	for _, r := range results {
		if r.Err != nil {
			ready = false
		}
	}
	return ready, results
}

// runChecks runs the checks of set (s.checks or s.liveChecks) concurrently
// and returns their results sorted by name.
func (s *Server) runChecks(ctx context.Context, set map[string]Check) []CheckResult {
	s.checksMu.RLock()
	names := make([]string, 0, len(set))
	fns := make([]Check, 0, len(set))
	for name := range set {
		names = append(names, name)
	}
	slices.Sort(names)
	for _, name := range names {
		fns = append(fns, set[name])
	}
	s.checksMu.RUnlock()

	results := make([]CheckResult, len(names))
	var wg sync.WaitGroup
	for i := range names {
		wg.Add(1)
		go func() {
			defer wg.Done()
			results[i] = CheckResult{Name: names[i], Err: s.runCheck(ctx, fns[i])}
		}()
	}
	wg.Wait()
	return results
}

// errCheckTimeout is reported for a check that outlives its timeout even
// though it ignores its context.
var errCheckTimeout = errors.New("check timed out")

// runCheck runs fn with the check timeout. A check that ignores its context
// is abandoned at the timeout (its goroutine ends when fn returns).
func (s *Server) runCheck(ctx context.Context, fn Check) error {
	ctx, cancel := context.WithTimeout(ctx, s.checkTimeout)
	defer cancel()
	done := make(chan error, 1)
	go func() {
		defer func() {
			if p := recover(); p != nil {
				done <- fmt.Errorf("check panicked: %v", p)
			}
		}()
		done <- fn(ctx)
	}()
	select {
	case err := <-done:
		return err
	case <-ctx.Done():
		return fmt.Errorf("%w after %s: %w", errCheckTimeout, s.checkTimeout, ctx.Err())
	}
}

func (s *Server) handleReadyz(w http.ResponseWriter, r *http.Request) {
	ready, results := s.Readiness(r.Context())
	var b strings.Builder
	failed := 0
	for _, res := range results {
		if res.Err != nil {
			failed++
			fmt.Fprintf(&b, "%s: error: %s\n", res.Name, oneLine(res.Err.Error()))
			continue
		}
		fmt.Fprintf(&b, "%s: ok\n", res.Name)
	}
	if role := s.role(); role != "" {
		fmt.Fprintf(&b, "role: %s\n", role)
	}
	status := http.StatusOK
	if ready {
		b.WriteString("ready\n")
	} else {
		status = http.StatusServiceUnavailable
		fmt.Fprintf(&b, "not ready: %d of %d checks failing\n", failed, len(results))
	}
	s.logReadiness(ready, results)
	writeText(w, status, b.String())
}

// logReadiness logs when the readiness verdict changes, not on every probe.
func (s *Server) logReadiness(ready bool, results []CheckResult) {
	state := int32(2)
	if ready {
		state = 1
	}
	if s.ready.Swap(state) == state {
		return
	}
	if ready {
		s.log.Info().Msg("ready")
		return
	}
	ev := s.log.Warn()
	for _, r := range results {
		if r.Err != nil {
			ev = ev.Str("check."+r.Name, r.Err.Error())
		}
	}
	ev.Msg("not ready")
}

func oneLine(s string) string {
	return strings.Join(strings.Fields(s), " ")
}
