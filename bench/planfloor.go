package main

import (
	"context"
	"errors"
	"fmt"
	"sync"

	"cloud.google.com/go/firestore"
)

// The plan floor is the least backend work any implementation needs to
// find and write the data set's documents, with no change stream and
// maximal parallelism: per collection one query per planIDs projects
// (`projectId in [...]`), per document below a recursive collection (at
// any depth) one listing of its subcollections, per subcollection found
// one listing of its documents, and the writes through BulkWriters as the
// documents are found.
const (
	planIDs         = 30  // Firestore's limit of values in an `in` filter
	planConcurrency = 100 // discovery calls in flight at once
)

// planner runs one plan floor.
type planner struct {
	ctx       context.Context
	client    *firestore.Client
	sink      *writeSink
	recursive bool // storyboards is recursive (S1), or not (S4)
	sem       chan struct{}
	wg        sync.WaitGroup

	mu   sync.Mutex
	errs []error
}

func newPlanner(ctx context.Context, client *firestore.Client, recursive bool) *planner {
	return &planner{ctx: ctx, client: client, sink: newWriteSink(ctx, client), recursive: recursive,
		sem: make(chan struct{}, planConcurrency)}
}

// planDelete is the plan floor of a cleanup: every document found is
// deleted.
func planDelete(ctx context.Context, client *firestore.Client, d *dataset, recursive bool) error {
	p := newPlanner(ctx, client, recursive)
	return p.run(d, func(s *firestore.DocumentSnapshot) bulkWrite { return bulkWrite{ref: s.Ref} })
}

// planRename is the plan floor of a rename: every document found gets its
// project's new name.
func planRename(ctx context.Context, client *firestore.Client, d *dataset, newName func(project) string) error {
	names := map[string]string{}
	for _, p := range d.projects {
		names[p.id.Hex()] = newName(p)
	}
	p := newPlanner(ctx, client, false)
	return p.run(d, func(s *firestore.DocumentSnapshot) bulkWrite {
		id, _ := s.DataAt(idField)
		name, _ := id.(string)
		return bulkWrite{ref: s.Ref, updates: []firestore.Update{{Path: nameField, Value: names[name]}}}
	})
}

// run starts every query at once and waits for them, the listings they
// lead to and the writes.
func (p *planner) run(d *dataset, write func(*firestore.DocumentSnapshot) bulkWrite) error {
	var groups [][]any
	for start := 0; start < len(d.projects); start += planIDs {
		var ids []any
		for _, pr := range d.projects[start:min(start+planIDs, len(d.projects))] {
			ids = append(ids, pr.id.Hex())
		}
		groups = append(groups, ids)
	}
	for _, coll := range assetCollections() {
		for _, ids := range groups {
			p.wg.Go(func() {
				q := p.client.Collection(coll).Where(idField, "in", ids).Select(idField)
				p.query(q, coll == collStoryboards && p.recursive, write)
			})
		}
	}
	p.wg.Wait()
	return errors.Join(errors.Join(p.errs...), p.sink.close())
}

func (p *planner) query(q firestore.Query, recursive bool, write func(*firestore.DocumentSnapshot) bulkWrite) {
	p.sem <- struct{}{}
	defer func() { <-p.sem }()
	snaps, err := q.Documents(p.ctx).GetAll()
	if err != nil {
		p.fail(fmt.Errorf("plan floor query: %w", err))
		return
	}
	for _, s := range snaps {
		p.sink.add(write(s))
		if recursive {
			p.wg.Go(func() { p.visit(s.Ref) })
		}
	}
}

// visit lists doc's subcollections and their documents, deletes those and
// visits them in turn.
func (p *planner) visit(doc *firestore.DocumentRef) {
	var colls []*firestore.CollectionRef
	err := p.call(func() (err error) {
		colls, err = doc.Collections(p.ctx).GetAll()
		return err
	})
	if err != nil {
		p.fail(fmt.Errorf("plan floor: listing subcollections of %s: %w", doc.Path, err))
		return
	}
	for _, c := range colls {
		var refs []*firestore.DocumentRef
		err := p.call(func() (err error) {
			refs, err = c.DocumentRefs(p.ctx).GetAll()
			return err
		})
		if err != nil {
			p.fail(fmt.Errorf("plan floor: listing %s: %w", c.Path, err))
			return
		}
		for _, r := range refs {
			p.sink.add(bulkWrite{ref: r})
			p.wg.Go(func() { p.visit(r) })
		}
	}
}

// call runs one discovery call within planConcurrency.
func (p *planner) call(f func() error) error {
	p.sem <- struct{}{}
	defer func() { <-p.sem }()
	return f()
}

func (p *planner) fail(err error) {
	p.mu.Lock()
	defer p.mu.Unlock()
	p.errs = append(p.errs, err)
}
