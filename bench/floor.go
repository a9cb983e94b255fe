package main

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"cloud.google.com/go/firestore"
)

// Both floors write through BulkWriters: floorWriters at a time, each over
// floorChunk writes (one BulkWriter alone is limited by its client-side
// pipeline, not by the backend).
const (
	floorChunk   = 500
	floorWriters = 8
)

// The write floor writes exactly the data set's documents: known
// references, no queries, no change stream.

// floorDelete deletes exactly the data set's documents (subcollection
// documents included).
func floorDelete(ctx context.Context, client *firestore.Client, d *dataset) error {
	s := newWriteSink(ctx, client)
	for _, p := range d.projects {
		for _, ref := range p.subs {
			s.add(bulkWrite{ref: ref})
		}
		for _, ref := range p.assets {
			s.add(bulkWrite{ref: ref})
		}
	}
	return s.close()
}

// floorRename sets the new project name on exactly the data set's assets.
func floorRename(ctx context.Context, client *firestore.Client, d *dataset, newName func(project) string) error {
	s := newWriteSink(ctx, client)
	for _, p := range d.projects {
		name := newName(p)
		for _, ref := range p.assets {
			s.add(bulkWrite{ref: ref, updates: []firestore.Update{{Path: nameField, Value: name}}})
		}
	}
	return s.close()
}

// bulkWrite is one write through a writeSink: a delete, an update when
// updates is set, a set when data is.
type bulkWrite struct {
	ref     *firestore.DocumentRef
	updates []firestore.Update
	data    map[string]any
}

// writeSink writes what it is given as it comes: every floorChunk writes
// go to a BulkWriter of their own, floorWriters at a time. It is safe for
// concurrent use.
type writeSink struct {
	ctx    context.Context
	client *firestore.Client
	sem    chan struct{}
	wg     sync.WaitGroup

	mu    sync.Mutex
	chunk []bulkWrite
	errs  []error
}

func newWriteSink(ctx context.Context, client *firestore.Client) *writeSink {
	return &writeSink{ctx: ctx, client: client, sem: make(chan struct{}, floorWriters)}
}

// add queues w; a full chunk starts its BulkWriter (waiting for a free one).
func (s *writeSink) add(w bulkWrite) {
	s.mu.Lock()
	s.chunk = append(s.chunk, w)
	var full []bulkWrite
	if len(s.chunk) == floorChunk {
		full, s.chunk = s.chunk, nil
	}
	s.mu.Unlock()
	if full != nil {
		s.start(full)
	}
}

func (s *writeSink) start(chunk []bulkWrite) {
	s.sem <- struct{}{}
	s.wg.Go(func() {
		defer func() { <-s.sem }()
		if err := bulkOne(s.ctx, s.client, chunk); err != nil {
			s.mu.Lock()
			s.errs = append(s.errs, err)
			s.mu.Unlock()
		}
	})
}

// close writes what is left and waits for every BulkWriter.
func (s *writeSink) close() error {
	s.mu.Lock()
	rest := s.chunk
	s.chunk = nil
	s.mu.Unlock()
	if len(rest) > 0 {
		s.start(rest)
	}
	s.wg.Wait()
	return errors.Join(s.errs...)
}

func bulkOne(ctx context.Context, client *firestore.Client, writes []bulkWrite) error {
	bw := client.BulkWriter(ctx)
	jobs := make([]*firestore.BulkWriterJob, 0, len(writes))
	var enqueueErr error
	for _, w := range writes {
		var job *firestore.BulkWriterJob
		var err error
		switch {
		case w.data != nil:
			job, err = bw.Set(w.ref, w.data)
		case w.updates != nil:
			job, err = bw.Update(w.ref, w.updates)
		default:
			job, err = bw.Delete(w.ref)
		}
		if err != nil {
			enqueueErr = fmt.Errorf("enqueueing %s: %w", w.ref.Path, err)
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
