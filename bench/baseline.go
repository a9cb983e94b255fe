package main

import (
	"context"
	"errors"
	"fmt"
	"time"

	"cloud.google.com/go/firestore"
)

// errBudget stops a baseline that ran out of its time budget.
var errBudget = errors.New("baseline time budget spent")

// budget counts a baseline's writes and stops it at the deadline (zero: no
// deadline); the harness then extrapolates from the rate so far.
type budget struct {
	deadline time.Time
	writes   int
}

func (b *budget) spend() error {
	if !b.deadline.IsZero() && time.Now().After(b.deadline) {
		return errBudget
	}
	b.writes++
	return nil
}

// The baseline is the straightforward implementation the design document
// sketches, one event at a time: for each collection, query the project's
// documents, then delete (subcollections first) or update them one by one.

func baselineDelete(ctx context.Context, client *firestore.Client, d *dataset, recursive bool, b *budget) error {
	for _, p := range d.projects {
		for _, coll := range assetCollections() {
			snaps, err := client.Collection(coll).Where(idField, "==", p.id.Hex()).Documents(ctx).GetAll()
			if err != nil {
				return fmt.Errorf("baseline query %s: %w", coll, err)
			}
			for _, s := range snaps {
				if recursive && coll == collStoryboards {
					if err := baselineDeleteSubcollections(ctx, s.Ref, b); err != nil {
						return err
					}
				}
				if err := b.spend(); err != nil {
					return err
				}
				if _, err := s.Ref.Delete(ctx); err != nil {
					return fmt.Errorf("baseline delete %s: %w", s.Ref.Path, err)
				}
			}
		}
	}
	return nil
}

func baselineDeleteSubcollections(ctx context.Context, doc *firestore.DocumentRef, b *budget) error {
	colls, err := doc.Collections(ctx).GetAll()
	if err != nil {
		return fmt.Errorf("baseline list %s: %w", doc.Path, err)
	}
	for _, c := range colls {
		refs, err := c.DocumentRefs(ctx).GetAll()
		if err != nil {
			return fmt.Errorf("baseline list %s: %w", c.Path, err)
		}
		for _, r := range refs {
			if err := baselineDeleteSubcollections(ctx, r, b); err != nil {
				return err
			}
			if err := b.spend(); err != nil {
				return err
			}
			if _, err := r.Delete(ctx); err != nil {
				return fmt.Errorf("baseline delete %s: %w", r.Path, err)
			}
		}
	}
	return nil
}

func baselineRename(ctx context.Context, client *firestore.Client, d *dataset, newName func(project) string, b *budget) error {
	for _, p := range d.projects {
		name := newName(p)
		for _, coll := range assetCollections() {
			snaps, err := client.Collection(coll).Where(idField, "==", p.id.Hex()).Documents(ctx).GetAll()
			if err != nil {
				return fmt.Errorf("baseline query %s: %w", coll, err)
			}
			for _, s := range snaps {
				if err := b.spend(); err != nil {
					return err
				}
				if _, err := s.Ref.Update(ctx, []firestore.Update{{Path: nameField, Value: name}}); err != nil {
					return fmt.Errorf("baseline update %s: %w", s.Ref.Path, err)
				}
			}
		}
	}
	return nil
}

// baselineCost is what the baseline asks of Firestore for d, by its
// algorithm: per project and collection one query (billed its documents,
// or one read when it returns none); when recursive, per storyboards
// document a listing of its subcollections, per subcollection a listing of
// its documents, per subdocument a listing of its subcollections (one read
// per listing or document listed); one Commit of one write per document.
// A baseline stopped by its budget reports this instead of its partial
// count; one that finishes is checked against it.
func baselineCost(d *dataset, recursive, rename bool) cost {
	c := cost{ByMethod: map[string]int{}}
	add := func(method string, calls, reads, writes int) {
		c.ByMethod[method] += calls
		c.RPCs += calls
		c.Reads += reads
		c.Writes += writes
	}
	for _, p := range d.projects {
		for _, coll := range assetCollections() {
			n := 0
			for _, a := range p.assets {
				if a.Parent.ID == coll {
					n++
				}
			}
			add("RunQuery", 1, max(n, 1), 0)
		}
		add("Commit", len(p.assets), 0, len(p.assets))
		if rename {
			continue
		}
		add("Commit", len(p.subs), 0, len(p.subs))
		if recursive {
			baselineListings(p, add)
		}
	}
	return c
}

func baselineListings(p project, add func(method string, calls, reads, writes int)) {
	for _, a := range p.assets {
		if a.Parent.ID != collStoryboards {
			continue
		}
		add("ListCollectionIds", 1, 1, 0)
		subs := 0
		for _, s := range p.subs {
			if s.Parent.Parent.Path == a.Path {
				subs++
			}
		}
		if subs > 0 { // one subcollection per asset that has any
			add("ListDocuments", 1, subs, 0)
			add("ListCollectionIds", subs, subs, 0)
		}
	}
}
