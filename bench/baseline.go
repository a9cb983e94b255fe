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

func baselineDelete(ctx context.Context, client *firestore.Client, d *dataset, b *budget) error {
	for _, p := range d.projects {
		for _, coll := range assetCollections() {
			snaps, err := client.Collection(coll).Where(idField, "==", p.id.Hex()).Documents(ctx).GetAll()
			if err != nil {
				return fmt.Errorf("baseline query %s: %w", coll, err)
			}
			for _, s := range snaps {
				if coll == collStoryboards {
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
