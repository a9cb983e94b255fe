package demo

import (
	"context"
	"fmt"
	"slices"
	"time"

	"cloud.google.com/go/firestore"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// The collections of config.yaml, and the subcollection of each storyboard.
var collections = []string{"storyboards", "aiAnalyses", "generatedMedia"}

const frames = "frames"

// project is one seeded project and its assets.
type project struct {
	label  string // what the demo does with it
	id     bson.ObjectID
	name   string
	assets map[string]int // collection -> documents
	frames int            // subdocuments per storyboard
}

func (p project) projectID() string { return p.id.Hex() }

// demoProjects are the seeded projects: one to delete, one to rename, one
// left alone (its assets must not change).
func demoProjects() []project {
	return []project{
		{label: "deleted", id: bson.NewObjectID(), name: "Moon landing", frames: 2,
			assets: map[string]int{"storyboards": 4, "aiAnalyses": 3, "generatedMedia": 5}},
		{label: "renamed", id: bson.NewObjectID(), name: "Ocean film", frames: 1,
			assets: map[string]int{"storyboards": 3, "aiAnalyses": 2, "generatedMedia": 2}},
		{label: "untouched", id: bson.NewObjectID(), name: "City timelapse", frames: 1,
			assets: map[string]int{"storyboards": 2, "aiAnalyses": 2, "generatedMedia": 1}},
	}
}

// seed writes the projects to MongoDB and their assets to Firestore.
func seed(ctx context.Context, projects *mongo.Collection, fs *firestore.Client, ps []project) error {
	type write struct {
		doc  *firestore.DocumentRef
		data map[string]any
	}
	var writes []write
	for _, p := range ps {
		if _, err := projects.InsertOne(ctx, bson.D{{Key: "_id", Value: p.id}, {Key: "name", Value: p.name}}); err != nil {
			return fmt.Errorf("insert project %q: %w", p.name, err)
		}
		for _, coll := range collections {
			for i := range p.assets[coll] {
				doc := assetRef(fs, p, coll, i)
				writes = append(writes, write{doc, map[string]any{"projectId": p.projectID(), "projectName": p.name, "n": i}})
				for f := range p.frames {
					if coll == "storyboards" {
						writes = append(writes, write{doc.Collection(frames).Doc(fmt.Sprint(f)), map[string]any{"frame": f}})
					}
				}
			}
		}
	}
	bw := fs.BulkWriter(ctx)
	jobs := make([]*firestore.BulkWriterJob, 0, len(writes))
	for _, w := range writes {
		job, err := bw.Set(w.doc, w.data)
		if err != nil {
			bw.End()
			return fmt.Errorf("seed Firestore: %w", err)
		}
		jobs = append(jobs, job)
	}
	bw.End()
	for _, job := range jobs {
		if _, err := job.Results(); err != nil {
			return fmt.Errorf("seed Firestore: %w", err)
		}
	}
	return nil
}

// assetRef is the i-th seeded document of p in coll.
func assetRef(fs *firestore.Client, p project, coll string, i int) *firestore.DocumentRef {
	return fs.Collection(coll).Doc(fmt.Sprintf("%s-%s-%d", p.projectID(), coll, i))
}

// State is what Firestore holds for one project.
type State struct {
	Project string         // its name in MongoDB when seeded
	Label   string         // deleted | renamed | untouched
	Docs    map[string]int // collection (and "storyboards/frames") -> documents
	Names   []string       // distinct projectName values in its assets
}

// Total is the number of documents of the project.
func (s State) Total() int {
	n := 0
	for _, c := range s.Docs {
		n += c
	}
	return n
}

// readState counts the project's documents, frames included (looked up by
// their known paths: a frame left behind by a deleted storyboard would
// still count).
func readState(ctx context.Context, fs *firestore.Client, p project) (State, error) {
	s := State{Project: p.name, Label: p.label, Docs: map[string]int{"storyboards/" + frames: 0}}
	for _, coll := range collections {
		docs, err := fs.Collection(coll).Where("projectId", "==", p.projectID()).Documents(ctx).GetAll()
		if err != nil {
			return s, fmt.Errorf("count %s: %w", coll, err)
		}
		s.Docs[coll] = len(docs)
		for _, d := range docs {
			if name, ok := d.Data()["projectName"].(string); ok && !slices.Contains(s.Names, name) {
				s.Names = append(s.Names, name)
			}
		}
	}
	var refs []*firestore.DocumentRef
	for i := range p.assets["storyboards"] {
		doc := assetRef(fs, p, "storyboards", i)
		for f := range p.frames {
			refs = append(refs, doc.Collection(frames).Doc(fmt.Sprint(f)))
		}
	}
	snaps, err := fs.GetAll(ctx, refs)
	if err != nil {
		return s, fmt.Errorf("read frames: %w", err)
	}
	for _, snap := range snaps {
		if snap.Exists() {
			s.Docs["storyboards/"+frames]++
		}
	}
	slices.Sort(s.Names)
	return s, nil
}

// readAll is readState of every project.
func readAll(ctx context.Context, fs *firestore.Client, ps []project) ([]State, error) {
	out := make([]State, 0, len(ps))
	for _, p := range ps {
		s, err := readState(ctx, fs, p)
		if err != nil {
			return nil, err
		}
		out = append(out, s)
	}
	return out, nil
}

// waitFor polls the project's state until done says so.
func waitFor(ctx context.Context, fs *firestore.Client, p project, timeout time.Duration, done func(State) bool) (State, error) {
	deadline := time.Now().Add(timeout)
	for {
		s, err := readState(ctx, fs, p)
		if err == nil && done(s) {
			return s, nil
		}
		if time.Now().After(deadline) {
			return s, fmt.Errorf("project %q: still %v after %s (%v)", p.name, s.Docs, timeout, err)
		}
		select {
		case <-ctx.Done():
			return s, ctx.Err()
		case <-time.After(250 * time.Millisecond):
		}
	}
}
