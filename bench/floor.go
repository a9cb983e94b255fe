package main

import (
	"context"
	"errors"
	"fmt"

	"cloud.google.com/go/firestore"
)

// floorDelete deletes exactly the data set's documents with one BulkWriter:
// no queries, no change stream; the fastest the backend takes these writes.
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
	bw := client.BulkWriter(ctx)
	var jobs []*firestore.BulkWriterJob
	var enqueueErr error
	for _, p := range d.projects {
		name := newName(p)
		for _, ref := range p.assets {
			job, err := bw.Update(ref, []firestore.Update{{Path: nameField, Value: name}})
			if err != nil {
				enqueueErr = err
				break
			}
			jobs = append(jobs, job)
		}
	}
	bw.End()
	return errors.Join(enqueueErr, results(jobs))
}

func bulk(ctx context.Context, client *firestore.Client, refs []*firestore.DocumentRef,
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
