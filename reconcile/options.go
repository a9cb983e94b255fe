package reconcile

import (
	"fmt"
	"time"
)

// Defaults of Options.
const (
	DefaultPageSize  = 300
	DefaultBatchSize = 300
	maxPageSize      = 500
	// pendingDocsPerID bounds the documents held for a batch: a batch is
	// looked up when it reaches BatchSize ids or BatchSize*pendingDocsPerID
	// documents, so memory stays bounded even when one project owns
	// every document.
	pendingDocsPerID = 10
)

// Progress is told how the scan advances (a progress bar, log lines). Its
// methods are called from the goroutine running Run.
type Progress interface {
	// Start begins a collection; total is its document count, -1 when
	// unknown.
	Start(collection string, total int)
	// Add reports n more documents scanned.
	Add(n int)
	// Done ends a collection.
	Done(CollectionSummary)
}

// Options tune a Reconciler.
type Options struct {
	DryRun bool   // find and report; change nothing
	Checks Checks // what to look for; the zero value means both
	// PageSize is the documents per Firestore page (default 300, at most 500).
	PageSize int
	// BatchSize is the distinct project ids per MongoDB lookup (default 300).
	BatchSize int
	// PagesPerSecond limits the scan's Firestore pages per second, so that
	// a background run leaves room to the event path. 0: no limit.
	PagesPerSecond float64
	// Progress, when set, is told about the scan; each collection is then
	// counted first (one aggregation query) for the total.
	Progress Progress
	// CallTimeout is firestore.callTimeout for the scan's calls: a count
	// fails after it without an answer, a page after it without a
	// document (a transient DeadlineExceeded; see package fscall). 0: the
	// default, 5s. Repairs go through the applier, with its own.
	CallTimeout time.Duration
}

func (o *Options) defaults() error {
	if o.Checks == (Checks{}) {
		o.Checks = Checks{Orphans: true, Drift: true}
	}
	if o.PageSize == 0 {
		o.PageSize = DefaultPageSize
	}
	if o.BatchSize == 0 {
		o.BatchSize = DefaultBatchSize
	}
	switch {
	case o.PageSize < 1 || o.PageSize > maxPageSize:
		return fmt.Errorf("reconcile: page size %d: want 1..%d", o.PageSize, maxPageSize)
	case o.BatchSize < 1:
		return fmt.Errorf("reconcile: batch size %d: want at least 1", o.BatchSize)
	case o.PagesPerSecond < 0:
		return fmt.Errorf("reconcile: pages per second %v: want 0 (no limit) or more", o.PagesPerSecond)
	case o.CallTimeout < 0:
		return fmt.Errorf("reconcile: call timeout %s: want 0 (the default) or more", o.CallTimeout)
	}
	return nil
}
