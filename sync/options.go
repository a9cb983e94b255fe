package sync

import (
	"fmt"
	"time"

	"github.com/projectwatcher/watcher/fscall"
)

const (
	defaultPageSize    = 500
	maxPageSize        = 500 // a BulkWriter page stays well under Firestore's request limits
	defaultConcurrency = 4
	defaultMaxPasses   = 3
	// subcollectionConcurrency bounds the documents of one page whose
	// subcollections are listed and deleted at the same time.
	subcollectionConcurrency = 16
)

// Option tunes an Applier.
type Option func(*options)

type options struct {
	pageSize    int
	concurrency int
	maxPasses   int
	limit       int  // safety.maxDocsPerEvent; <= 0: no limit
	dryRun      bool // safety.dryRun
	callTimeout time.Duration
}

func defaultOptions() options {
	return options{pageSize: defaultPageSize, concurrency: defaultConcurrency, maxPasses: defaultMaxPasses,
		callTimeout: fscall.DefaultTimeout}
}

func (o options) validate() error {
	if o.pageSize < 1 || o.pageSize > maxPageSize {
		return fmt.Errorf("sync: page size %d: want 1..%d", o.pageSize, maxPageSize)
	}
	if o.concurrency < 1 {
		return fmt.Errorf("sync: collection concurrency %d: want at least 1", o.concurrency)
	}
	if o.maxPasses < 2 {
		return fmt.Errorf("sync: max passes %d: want at least 2", o.maxPasses)
	}
	if o.callTimeout <= 0 {
		return fmt.Errorf("sync: call timeout %s: want more than 0", o.callTimeout)
	}
	return nil
}

// WithPageSize sets how many documents one query page (and one bulk write)
// holds. Default 500.
func WithPageSize(n int) Option { return func(o *options) { o.pageSize = n } }

// WithCollectionConcurrency bounds how many collections of one event are
// processed at the same time. Default 4.
func WithCollectionConcurrency(n int) Option { return func(o *options) { o.concurrency = n } }

// WithMaxPasses bounds the passes over one collection: a cleanup repeats its
// query until a pass finds nothing left to do (documents written concurrently
// with the cleanup are caught by the next pass). Default 3.
func WithMaxPasses(n int) Option { return func(o *options) { o.maxPasses = n } }

// WithLimit is safety.maxDocsPerEvent: an event that would touch more than
// n of the project's documents writes nothing and fails with an error
// wrapping event.ErrSafetyLimit (the watcher dead-letters it). The limit
// counts the project's documents in the collections the event reaches (for
// an update, those its changed fields are copied to), with the reads the
// event makes anyway. Documents written while the event is applied are not
// counted: the limit guards against mass changes, it is not a transaction.
// n <= 0: no limit (the default).
func WithLimit(n int) Option { return func(o *options) { o.limit = n } }

// WithDryRun is safety.dryRun: every event makes the reads it would make
// anyway and writes nothing; per collection it logs (component dryrun) the
// documents matched, how many it would write, and what: delete or archive
// (recursive or not), or the fields it would set or remove. Its report
// lists the matched documents only. Behind WithLimit it stops, and
// reports, where the limit would stop the event.
func WithDryRun() Option { return func(o *options) { o.dryRun = true } }

// WithCallTimeout is firestore.callTimeout: a unary Firestore call (a
// count) fails after d without an answer; a streamed one (a query page, a
// listing, the results of a page of writes) after d without a result. The
// error is a gRPC DeadlineExceeded status naming the limit
// (fscall.NoAnswerError): transient, so the event is retried. Default 5s.
func WithCallTimeout(d time.Duration) Option { return func(o *options) { o.callTimeout = d } }
