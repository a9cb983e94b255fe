package sync

import (
	"context"
	"errors"
	"fmt"

	"cloud.google.com/go/firestore"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// maxReportedFailures bounds how many write errors one error message carries.
const maxReportedFailures = 5

// write is one document write of a bulk page.
type write struct {
	ref     *firestore.DocumentRef
	updates []firestore.Update // nil: delete the document
}

// commit applies writes with a BulkWriter and waits for every job's result:
// a BulkWriter drops failed writes silently unless each result is checked.
// Updates of documents that no longer exist are not errors (someone deleted
// them meanwhile; there is nothing left to rewrite). It returns how many
// writes took effect.
//
// The page runs under the idle limit (firestore.callTimeout): its writes
// fail when neither a write is enqueued nor a result arrives for that long.
func (a *Applier) commit(ctx context.Context, writes []write) (int, error) {
	if len(writes) == 0 {
		return 0, nil
	}
	idle := a.limit.Stream(ctx)
	defer idle.Stop()
	bw := a.client.BulkWriter(idle.Context())
	jobs := make([]*firestore.BulkWriterJob, 0, len(writes))
	var enqueueErr error
	for _, w := range writes {
		var (
			job *firestore.BulkWriterJob
			err error
		)
		if w.updates == nil {
			job, err = bw.Delete(w.ref)
		} else {
			job, err = bw.Update(w.ref, w.updates)
		}
		if err != nil {
			enqueueErr = fmt.Errorf("enqueueing write of %s: %w", w.ref.Path, idle.Err(err))
			break
		}
		idle.Touch() // enqueueing waits for the writer's rate limit and buffer
		jobs = append(jobs, job)
	}
	// End flushes and waits for every batch; the results are read while it
	// does, each one restarting the idle limit.
	ended := make(chan struct{})
	go func() {
		defer close(ended)
		bw.End()
	}()
	defer func() { <-ended }()

	done := 0
	var failures []error
	for i, job := range jobs {
		_, err := job.Results()
		idle.Touch()
		err = idle.Err(err)
		switch {
		case err == nil:
			done++
		case writes[i].updates != nil && status.Code(err) == codes.NotFound:
		default:
			failures = append(failures, fmt.Errorf("writing %s: %w", writes[i].ref.Path, err))
		}
	}
	if enqueueErr != nil {
		failures = append(failures, enqueueErr)
	}
	if len(failures) == 0 {
		return done, nil
	}
	err := errors.Join(failures[:min(len(failures), maxReportedFailures)]...)
	return done, fmt.Errorf("%d of %d writes failed (first %d shown): %w",
		len(failures), len(writes), min(len(failures), maxReportedFailures), err)
}

// refsOf lists the documents writes go to.
func refsOf(writes []write) []*firestore.DocumentRef {
	refs := make([]*firestore.DocumentRef, len(writes))
	for i, w := range writes {
		refs[i] = w.ref
	}
	return refs
}
