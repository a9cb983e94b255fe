package firestoretest

import (
	"context"
	"errors"
	"sort"
	"testing"
	"time"

	"cloud.google.com/go/firestore"
	"google.golang.org/api/iterator"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

const opTimeout = 60 * time.Second

// Seed writes docs by id into collectionPath, which may be nested
// ("storyboards/a/scenes"). Existing documents are overwritten.
func Seed(t testing.TB, client *firestore.Client, collectionPath string, docs map[string]map[string]any) {
	t.Helper()
	coll := client.Collection(collectionPath)
	if coll == nil {
		t.Fatalf("firestoretest: %q is not a collection path", collectionPath)
	}
	writeAll(t, client, func(bw *firestore.BulkWriter) ([]*firestore.BulkWriterJob, error) {
		jobs := make([]*firestore.BulkWriterJob, 0, len(docs))
		for id, data := range docs {
			job, err := bw.Set(coll.Doc(id), data)
			if err != nil {
				return nil, err
			}
			jobs = append(jobs, job)
		}
		return jobs, nil
	})
}

// SeedPaths writes documents by their path relative to the database root
// ("storyboards/a/scenes/s1").
func SeedPaths(t testing.TB, client *firestore.Client, docs map[string]map[string]any) {
	t.Helper()
	writeAll(t, client, func(bw *firestore.BulkWriter) ([]*firestore.BulkWriterJob, error) {
		jobs := make([]*firestore.BulkWriterJob, 0, len(docs))
		for path, data := range docs {
			ref := client.Doc(path)
			if ref == nil {
				t.Fatalf("firestoretest: %q is not a document path", path)
			}
			job, err := bw.Set(ref, data)
			if err != nil {
				return nil, err
			}
			jobs = append(jobs, job)
		}
		return jobs, nil
	})
}

func writeAll(t testing.TB, client *firestore.Client, enqueue func(*firestore.BulkWriter) ([]*firestore.BulkWriterJob, error)) {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	bw := client.BulkWriter(ctx)
	jobs, err := enqueue(bw)
	bw.End()
	if err != nil {
		t.Fatalf("firestoretest: seeding: %v", err)
	}
	for _, job := range jobs {
		if _, err := job.Results(); err != nil {
			t.Fatalf("firestoretest: seeding: %v", err)
		}
	}
}

// ReadAll returns every document of collectionPath (not its subcollections),
// keyed by document id.
func ReadAll(t testing.TB, client *firestore.Client, collectionPath string) map[string]map[string]any {
	t.Helper()
	coll := client.Collection(collectionPath)
	if coll == nil {
		t.Fatalf("firestoretest: %q is not a collection path", collectionPath)
	}
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	snaps, err := coll.Documents(ctx).GetAll()
	if err != nil {
		t.Fatalf("firestoretest: reading %s: %v", collectionPath, err)
	}
	out := make(map[string]map[string]any, len(snaps))
	for _, s := range snaps {
		out[s.Ref.ID] = s.Data()
	}
	return out
}

// Get returns the document at path (relative to the database root) and
// whether it exists.
func Get(t testing.TB, client *firestore.Client, path string) (map[string]any, bool) {
	t.Helper()
	ref := client.Doc(path)
	if ref == nil {
		t.Fatalf("firestoretest: %q is not a document path", path)
	}
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	snap, err := ref.Get(ctx)
	if status.Code(err) == codes.NotFound {
		return nil, false
	}
	if err != nil {
		t.Fatalf("firestoretest: reading %s: %v", path, err)
	}
	return snap.Data(), true
}

// CountGroup counts the documents of every collection with this id, at any
// depth (a collection-group query).
func CountGroup(t testing.TB, client *firestore.Client, collectionID string) int {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	snaps, err := client.CollectionGroup(collectionID).Select().Documents(ctx).GetAll()
	if err != nil {
		t.Fatalf("firestoretest: counting group %s: %v", collectionID, err)
	}
	return len(snaps)
}

// Dump returns every existing document of the project, at any depth, keyed
// by its path relative to the database root ("storyboards/a/scenes/s1").
// Documents that do not exist but have subcollections are walked, not listed.
func Dump(t testing.TB, client *firestore.Client) map[string]map[string]any {
	t.Helper()
	ctx, cancel := context.WithTimeout(context.Background(), opTimeout)
	defer cancel()
	out := map[string]map[string]any{}
	root := rootPrefix(client)
	colls, err := client.Collections(ctx).GetAll()
	if err != nil {
		t.Fatalf("firestoretest: listing root collections: %v", err)
	}
	for _, c := range colls {
		if err := dumpCollection(ctx, c, root, out); err != nil {
			t.Fatalf("firestoretest: %v", err)
		}
	}
	return out
}

// Paths returns the sorted paths of Dump.
func Paths(t testing.TB, client *firestore.Client) []string {
	t.Helper()
	all := Dump(t, client)
	paths := make([]string, 0, len(all))
	for p := range all {
		paths = append(paths, p)
	}
	sort.Strings(paths)
	return paths
}

func dumpCollection(ctx context.Context, coll *firestore.CollectionRef, root string, out map[string]map[string]any) error {
	refs := coll.DocumentRefs(ctx) // includes missing documents that have subcollections
	for {
		ref, err := refs.Next()
		if errors.Is(err, iterator.Done) {
			return nil
		}
		if err != nil {
			return err
		}
		snap, err := ref.Get(ctx)
		switch {
		case status.Code(err) == codes.NotFound:
		case err != nil:
			return err
		default:
			out[relative(ref.Path, root)] = snap.Data()
		}
		subs, err := ref.Collections(ctx).GetAll()
		if err != nil {
			return err
		}
		for _, sub := range subs {
			if err := dumpCollection(ctx, sub, root, out); err != nil {
				return err
			}
		}
	}
}

// rootPrefix is the "projects/p/databases/d/documents/" prefix of full paths.
func rootPrefix(client *firestore.Client) string {
	full := client.Collection("x").Path
	return full[:len(full)-len("x")]
}

func relative(path, root string) string {
	if len(path) >= len(root) && path[:len(root)] == root {
		return path[len(root):]
	}
	return path
}
