package e2e

import (
	"context"
	"fmt"
	"time"

	"cloud.google.com/go/firestore"
	"go.mongodb.org/mongo-driver/v2/bson"
)

func (w *world) replaceProject(ctx context.Context, pid string, doc bson.D) {
	w.t.Helper()
	oid, err := bson.ObjectIDFromHex(pid)
	if err != nil {
		w.t.Fatal(err)
	}
	if _, err := w.projects.ReplaceOne(ctx, bson.D{{Key: "_id", Value: oid}}, doc); err != nil {
		w.t.Fatal(err)
	}
}

// addProjectAssets inserts a project with n aiAnalyses only.
func (w *world) addProjectAssets(ctx context.Context, name string, n int) string {
	w.t.Helper()
	oid := bson.NewObjectID()
	pid := oid.Hex()
	if _, err := w.projects.InsertOne(ctx, bson.D{{Key: "_id", Value: oid}, {Key: "name", Value: name}}); err != nil {
		w.t.Fatal(err)
	}
	bw := w.fs.BulkWriter(ctx)
	var jobs []*firestore.BulkWriterJob
	for i := 0; i < n; i++ {
		ref := w.fs.Collection("aiAnalyses").Doc(fmt.Sprintf("%s-ai-%d", pid, i))
		j, err := bw.Set(ref, map[string]any{"projectId": pid, "projectName": name})
		if err != nil {
			w.t.Fatal(err)
		}
		jobs = append(jobs, j)
		w.assets[pid] = append(w.assets[pid], ref)
	}
	bw.End()
	for _, j := range jobs {
		if _, err := j.Results(); err != nil {
			w.t.Fatal(err)
		}
	}
	return pid
}

func (w *world) updateTimes(ctx context.Context, pid string) map[string]time.Time {
	w.t.Helper()
	out := map[string]time.Time{}
	for _, ref := range w.assets[pid] {
		path := relPath(ref)
		snap, err := ref.Get(ctx)
		if err != nil {
			w.t.Fatal(err)
		}
		out[path] = snap.UpdateTime
	}
	return out
}

func (w *world) field(ctx context.Context, path, field string) any {
	w.t.Helper()
	snap, err := w.fs.Doc(path).Get(ctx)
	if err != nil {
		w.t.Fatal(err)
	}
	v, err := snap.DataAt(field)
	if err != nil {
		return nil
	}
	return v
}

// archivedAt returns the archivedAt of every asset document (carrying
// projectId) of the project; an error when one is not archived.
func (w *world) archivedAt(ctx context.Context, pid string) (map[string]time.Time, error) {
	out := map[string]time.Time{}
	for _, ref := range w.assets[pid] {
		path := relPath(ref)
		snap, err := ref.Get(ctx)
		if err != nil {
			return nil, fmt.Errorf("%s: %w", path, err)
		}
		data := snap.Data()
		if _, ok := data["projectId"]; !ok {
			continue // subcollection documents are left as they are in archive mode
		}
		if data["archived"] != true {
			return nil, fmt.Errorf("%s not archived", path)
		}
		ts, ok := data["archivedAt"].(time.Time)
		if !ok {
			return nil, fmt.Errorf("%s: archivedAt %T", path, data["archivedAt"])
		}
		out[path] = ts
	}
	return out, nil
}
