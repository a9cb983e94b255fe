package main

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"cloud.google.com/go/firestore"
)

// The floor writes exactly the data set's documents, no queries, no change
// stream: floorWriters BulkWriters at a time, each over floorChunk
// references (one BulkWriter alone is limited by its client-side pipeline,
// not by the backend).
const (
	floorChunk   = 500
	floorWriters = 8
)

// floorDelete deletes exactly the data set's documents (subcollection
// documents included).
func floorDelete(ctx context.Context, client *firestore.Client, d *dataset) error {
	var refs []*firestore.DocumentRef
	for _, p := range d.projects {
		refs = append(refs, p.subs...)
		refs = append(refs, p.assets...)
	}
	return bulk(ctx, client, refs, func(bw *firestore.BulkWriter, ref *firestore.DocumentRef) (*firestore.BulkWriterJob, error) {
		return bw.Delete(ref)
	})
}

// floorRename sets the new project name on exactly the data set's assets.
func floorRename(ctx context.Context, client *firestore.Client, d *dataset, newName func(project) string) error {
	var refs []*firestore.DocumentRef
	names := map[string]string{}
	for _, p := range d.projects {
		refs = append(refs, p.assets...)
		names[p.id.Hex()] = newName(p)
	}
	byRef := map[string]string{}
	for _, p := range d.projects {
		for _, r := range p.assets {
			byRef[r.Path] = names[p.id.Hex()]
		}
	}
	return bulk(ctx, client, refs, func(bw *firestore.BulkWriter, ref *firestore.DocumentRef) (*firestore.BulkWriterJob, error) {
		return bw.Update(ref, []firestore.Update{{Path: nameField, Value: byRef[ref.Path]}})
	})
}

// bulk applies op to refs: chunks of floorChunk, floorWriters at a time.
func bulk(ctx context.Context, client *firestore.Client, refs []*firestore.DocumentRef,
	op func(*firestore.BulkWriter, *firestore.DocumentRef) (*firestore.BulkWriterJob, error)) error {
	sem := make(chan struct{}, floorWriters)
	errs := make([]error, (len(refs)+floorChunk-1)/floorChunk)
	var wg sync.WaitGroup
	for i := range errs {
		chunk := refs[i*floorChunk : min((i+1)*floorChunk, len(refs))]
		sem <- struct{}{}
		wg.Go(func() {
			defer func() { <-sem }()
			errs[i] = bulkOne(ctx, client, chunk, op)
		})
	}
	wg.Wait()
	return errors.Join(errs...)
}

func bulkOne(ctx context.Context, client *firestore.Client, refs []*firestore.DocumentRef,
	op func(*firestore.BulkWriter, *firestore.DocumentRef) (*firestore.BulkWriterJob, error)) error {
	bw := client.BulkWriter(ctx)
	jobs := make([]*firestore.BulkWriterJob, 0, len(refs))
	var enqueueErr error
	for _, ref := range refs {
		job, err := op(bw, ref)
		if err != nil {
			enqueueErr = fmt.Errorf("enqueueing %s: %w", ref.Path, err)
			break
		}
		jobs = append(jobs, job)
	}
	bw.End()
	return errors.Join(enqueueErr, results(jobs))
}

func results(jobs []*firestore.BulkWriterJob) error {
	for _, j := range jobs {
		if _, err := j.Results(); err != nil {
			return fmt.Errorf("bulk write: %w", err)
		}
	}
	return nil
}
