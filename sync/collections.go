package sync

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"github.com/projectwatcher/watcher/config"
	"github.com/projectwatcher/watcher/event"
)

// eachCollection runs fn for every collection (with its index in colls), at most opts.concurrency at a
// time, and gathers the reports in the order of colls. A failing collection
// does not stop the others: every write is idempotent, so doing the rest now
// only shortens the retry.
func (a *Applier) eachCollection(ctx context.Context, colls []config.Collection,
	fn func(context.Context, int, config.Collection) (event.CollectionReport, error)) (event.Report, error) {
	reports := make([]event.CollectionReport, len(colls))
	errs := make([]error, len(colls))
	sem := make(chan struct{}, a.opts.concurrency)
	var wg sync.WaitGroup
	for i, c := range colls {
		wg.Go(func() {
			sem <- struct{}{}
			defer func() { <-sem }()
			r, err := fn(ctx, i, c)
			r.Collection = c.Name
			reports[i] = r
			if err != nil {
				errs[i] = fmt.Errorf("collection %s: %w", c.Name, err)
			}
		})
	}
	wg.Wait()
	return event.Report{Collections: reports}, errors.Join(errs...)
}
