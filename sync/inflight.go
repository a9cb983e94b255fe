package sync

import (
	"errors"
	"sync"

	"github.com/projectwatcher/watcher/event"
)

// pagesInFlight bounds how many pages of one collection are written at the
// same time while the query keeps reading: waiting for each page's writes
// before sending the next makes the round trip, not the backend's write
// rate, the limit of a large cleanup.
const pagesInFlight = 4

// inflight runs the writes of a collection's pages concurrently, at most
// pagesInFlight at a time (and within its budget, shared with the other
// collections and events of the same call: see Applier.pageBudget), and
// adds up their reports. After the first failure it starts nothing more.
type inflight struct {
	sem    chan struct{}
	budget chan struct{} // nil: none
	wg     sync.WaitGroup
	mu     sync.Mutex
	rep    event.CollectionReport // Deleted, Archived, Updated of the pages done
	errs   []error
}

func newInflight() *inflight {
	return &inflight{sem: make(chan struct{}, pagesInFlight)}
}

// newInflightIn is an inflight whose pages also take a place in budget.
func newInflightIn(budget chan struct{}) *inflight {
	f := newInflight()
	f.budget = budget
	return f
}

// errPageFailed stops a query's reading once a page write has failed;
// wait returns the failure itself.
var errPageFailed = errors.New("a page write failed")

// start runs write in the background once fewer than pagesInFlight pages
// are in flight. It returns errPageFailed (and starts nothing) when a page
// has failed already, so the caller stops reading.
func (f *inflight) start(write func() (event.CollectionReport, error)) error {
	f.sem <- struct{}{}
	if f.budget != nil {
		f.budget <- struct{}{}
	}
	if f.failed() {
		f.release()
		return errPageFailed
	}
	f.wg.Go(func() {
		defer f.release()
		r, err := write()
		f.mu.Lock()
		defer f.mu.Unlock()
		addWrites(&f.rep, r)
		if err != nil {
			f.errs = append(f.errs, err)
		}
	})
	return nil
}

func (f *inflight) release() {
	if f.budget != nil {
		<-f.budget
	}
	<-f.sem
}

func (f *inflight) failed() bool {
	f.mu.Lock()
	defer f.mu.Unlock()
	return len(f.errs) > 0
}

// wait waits for every page started and returns their summed report and
// errors, joined with readErr (the error that ended the reading, if any;
// errPageFailed is left out, as the page's own error is there).
func (f *inflight) wait(readErr error) (event.CollectionReport, error) {
	f.wg.Wait()
	f.mu.Lock()
	defer f.mu.Unlock()
	if errors.Is(readErr, errPageFailed) {
		readErr = nil
	}
	return f.rep, errors.Join(append([]error{readErr}, f.errs...)...)
}
