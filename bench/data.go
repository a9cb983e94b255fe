package main

import (
	"context"
	"fmt"
	"time"

	"cloud.google.com/go/firestore"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// Collections of the benchmark's watcher config; storyboards is recursive
// and holds every subcollection.
const (
	collStoryboards = "storyboards"
	collAnalyses    = "aiAnalyses"
	collMedia       = "generatedMedia"
	subCollection   = "frames"
	idField         = "projectId"
	nameField       = "projectName"
)

// assetCollections lists the configured collections in config order.
func assetCollections() [3]string { return [3]string{collStoryboards, collAnalyses, collMedia} }

// shape describes a data set: projects, each with assets spread evenly over
// the three collections, and every subEvery-th asset (0: none) owning a
// subcollection of subDocs documents. Subcollections hang off storyboards
// assets only (the recursive collection).
type shape struct {
	projects int
	assets   int // per project, over the three collections
	subEvery int // every subEvery-th asset of a project has a subcollection
	subDocs  int
}

// project is one MongoDB project and its Firestore documents.
type project struct {
	id     bson.ObjectID
	name   string
	assets []*firestore.DocumentRef // top-level asset documents
	subs   []*firestore.DocumentRef // subcollection documents
}

// dataset is a shape laid out on one Firestore client.
type dataset struct {
	shape    shape
	projects []project
}

// newDataset names every document of s on client (nothing is written).
// Assets owning subcollections are storyboards so the recursive cleanup
// finds them; an asset's collection is otherwise round-robin.
func newDataset(client *firestore.Client, s shape) *dataset {
	d := &dataset{shape: s, projects: make([]project, s.projects)}
	colls := assetCollections()
	for p := range d.projects {
		pr := project{id: bson.NewObjectID(), name: fmt.Sprintf("project %d", p)}
		pr.assets = make([]*firestore.DocumentRef, 0, s.assets)
		for a := 0; a < s.assets; a++ {
			coll := colls[a%len(colls)]
			withSub := s.subEvery > 0 && a%s.subEvery == 0
			if withSub {
				coll = collStoryboards
			}
			ref := client.Collection(coll).Doc(fmt.Sprintf("%s-%06d", pr.id.Hex(), a))
			pr.assets = append(pr.assets, ref)
			if withSub {
				for k := 0; k < s.subDocs; k++ {
					pr.subs = append(pr.subs, ref.Collection(subCollection).Doc(fmt.Sprintf("f%d", k)))
				}
			}
		}
		d.projects[p] = pr
	}
	return d
}

// docs counts every Firestore document of the data set.
func (d *dataset) docs() int {
	n := 0
	for _, p := range d.projects {
		n += len(p.assets) + len(p.subs)
	}
	return n
}

// assetCount counts the top-level asset documents.
func (d *dataset) assetCount() int {
	n := 0
	for _, p := range d.projects {
		n += len(p.assets)
	}
	return n
}

// seedFirestore writes every document, through parallel BulkWriters.
func (d *dataset) seedFirestore(ctx context.Context, client *firestore.Client) error {
	sink := newWriteSink(ctx, client)
	now := time.Now().UTC()
	for _, p := range d.projects {
		for i, ref := range p.assets {
			sink.add(bulkWrite{ref: ref, data: map[string]any{
				idField:     p.id.Hex(),
				nameField:   p.name,
				"title":     fmt.Sprintf("asset %d of %s", i, p.name),
				"createdAt": now,
				"size":      int64(i * 1024),
				"tags":      []string{"bench", "generated"},
			}})
		}
		for _, ref := range p.subs {
			sink.add(bulkWrite{ref: ref, data: map[string]any{"frame": ref.ID, "createdAt": now}})
		}
	}
	if err := sink.close(); err != nil {
		return fmt.Errorf("seeding: %w", err)
	}
	return nil
}

// seedMongo inserts the projects.
func (d *dataset) seedMongo(ctx context.Context, coll *mongo.Collection) error {
	const batch = 1000
	for start := 0; start < len(d.projects); start += batch {
		end := min(start+batch, len(d.projects))
		docs := make([]any, 0, end-start)
		for _, p := range d.projects[start:end] {
			docs = append(docs, bson.D{{Key: "_id", Value: p.id}, {Key: "name", Value: p.name}, {Key: "members", Value: int32(3)}})
		}
		if _, err := coll.InsertMany(ctx, docs); err != nil {
			return fmt.Errorf("seeding projects: %w", err)
		}
	}
	return nil
}

// remaining counts the data set's documents still in Firestore (deletes) or
// still lacking newName (renames, newName non-empty), by reading the known
// references in batches.
func (d *dataset) remaining(ctx context.Context, client *firestore.Client, renamed func(project) string) (int, error) {
	const batch = 300
	var refs []*firestore.DocumentRef
	var want []string
	for _, p := range d.projects {
		all := append(append([]*firestore.DocumentRef{}, p.assets...), p.subs...)
		for i, r := range all {
			refs = append(refs, r)
			if renamed != nil && i < len(p.assets) {
				want = append(want, renamed(p))
			} else {
				want = append(want, "")
			}
		}
	}
	left := 0
	for start := 0; start < len(refs); start += batch {
		end := min(start+batch, len(refs))
		snaps, err := client.GetAll(ctx, refs[start:end])
		if err != nil {
			return 0, fmt.Errorf("reading back: %w", err)
		}
		for i, s := range snaps {
			switch {
			case renamed == nil && s.Exists():
				left++
			case renamed != nil && want[start+i] != "":
				if v, err := s.DataAt(nameField); err != nil || v != want[start+i] {
					left++
				}
			}
		}
	}
	return left, nil
}
