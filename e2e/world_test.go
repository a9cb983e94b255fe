package e2e

import (
	"context"
	"fmt"
	"sort"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/firestore"
	"github.com/projectwatcher/watcher/internal/firestoretest"
	"github.com/projectwatcher/watcher/internal/mongotest"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"google.golang.org/api/iterator"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// world is one test's MongoDB database and Firestore project, with the
// assets it created, so the expected end state can be computed.
type world struct {
	t         *testing.T
	srv       *mongotest.Server // nil against a real replica set
	mongoURI  string
	dbName    string
	projects  *mongo.Collection
	fs        *firestore.Client
	fsProject string
	// assets lists every asset document path created per project id, with
	// the subcollection documents under it.
	assets map[string][]*firestore.DocumentRef
}

func newWorld(t *testing.T, opts ...mongotest.Option) *world {
	t.Helper()
	fs, fsProject := firestoretest.Client(t)
	uri, srv := mongotest.ForTest(t, opts...)
	// A short heartbeat: after an injected connection fault the driver
	// finds the server again quickly (see internal/mongotest).
	client, err := mongo.Connect(mongotest.ClientOptions(uri))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = client.Disconnect(context.Background()) })
	db := mongotest.DBName(t)
	return &world{
		t: t, srv: srv, mongoURI: uri, dbName: db,
		projects: client.Database(db).Collection("projects"),
		fs:       fs, fsProject: fsProject,
		assets: map[string][]*firestore.DocumentRef{},
	}
}

func (w *world) setup() setup {
	return setup{mongoURI: w.mongoURI, mongoDB: w.dbName, fsProject: w.fsProject}
}

// addProject inserts a project into MongoDB and its assets into Firestore:
// n storyboards (each with a scene subcollection two levels deep when deep
// is set), n aiAnalyses, and n generatedMedia under a parent document
// (reached by a collection-group query).
func (w *world) addProject(ctx context.Context, name, team string, n int, deep bool) string {
	w.t.Helper()
	return w.addProjectWithID(ctx, bson.NewObjectID(), name, team, n, deep)
}

// addProjectWithID is addProject for the _id id (an ObjectID or a string).
func (w *world) addProjectWithID(ctx context.Context, id any, name, team string, n int, deep bool) string {
	w.t.Helper()
	pid, ok := id.(string)
	if oid, isOID := id.(bson.ObjectID); isOID {
		pid, ok = oid.Hex(), true
	}
	if !ok {
		w.t.Fatalf("project id %v: want an ObjectID or a string", id)
	}
	w.write(func() error {
		_, err := w.projects.InsertOne(ctx, bson.D{{Key: "_id", Value: id}, {Key: "name", Value: name},
			{Key: "owner", Value: bson.D{{Key: "team", Value: team}}}, {Key: "description", Value: "d"}})
		return err
	})
	w.addAssets(ctx, pid, name, team, n, deep)
	return pid
}

// addAssets writes the assets of addProject for the project id pid.
func (w *world) addAssets(ctx context.Context, pid, name, team string, n int, deep bool) {
	w.t.Helper()
	bw := w.fs.BulkWriter(ctx)
	var jobs []*firestore.BulkWriterJob
	add := func(ref *firestore.DocumentRef, data map[string]any) {
		j, err := bw.Set(ref, data)
		if err != nil {
			w.t.Fatal(err)
		}
		jobs = append(jobs, j)
		w.assets[pid] = append(w.assets[pid], ref)
	}
	for i := 0; i < n; i++ {
		sb := w.fs.Collection("storyboards").Doc(fmt.Sprintf("%s-sb-%d", pid, i))
		add(sb, map[string]any{"projectId": pid, "projectName": name, "project": map[string]any{"team": team}, "title": "t"})
		if deep {
			scene := sb.Collection("scenes").Doc("s1")
			add(scene, map[string]any{"order": 1})
			add(scene.Collection("shots").Doc("x1"), map[string]any{"frame": 1})
		}
		add(w.fs.Collection("aiAnalyses").Doc(fmt.Sprintf("%s-ai-%d", pid, i)), map[string]any{"projectId": pid, "projectName": name})
		add(w.fs.Collection("renders").Doc("r1").Collection("generatedMedia").Doc(fmt.Sprintf("%s-gm-%d", pid, i)),
			map[string]any{"projectId": pid, "projectName": name})
	}
	bw.End()
	for _, j := range jobs {
		if _, err := j.Results(); err != nil {
			w.t.Fatal(err)
		}
	}
}

func (w *world) deleteProject(ctx context.Context, pid string) {
	w.t.Helper()
	oid, err := bson.ObjectIDFromHex(pid)
	if err != nil {
		w.t.Fatal(err)
	}
	w.write(func() error {
		_, err := w.projects.DeleteOne(ctx, bson.D{{Key: "_id", Value: oid}})
		return err
	})
}

func (w *world) updateProject(ctx context.Context, pid string, update bson.D) {
	w.t.Helper()
	oid, err := bson.ObjectIDFromHex(pid)
	if err != nil {
		w.t.Fatal(err)
	}
	w.write(func() error {
		_, err := w.projects.UpdateOne(ctx, bson.D{{Key: "_id", Value: oid}}, update)
		return err
	})
}

// write runs one of the test's own MongoDB writes, retrying as an
// application would: right after a fault is injected (every connection
// dropped, say) the driver's single retry can meet a pool that is still
// paused. The writes are idempotent (an insert whose first attempt went
// through fails its retry with a duplicate key, which counts as done).
func (w *world) write(op func() error) {
	w.t.Helper()
	var err error
	for attempt := 1; attempt <= 10; attempt++ {
		if err = op(); err == nil || attempt > 1 && mongo.IsDuplicateKeyError(err) {
			return
		}
		w.t.Logf("test write failed (attempt %d, retrying): %v", attempt, err)
		time.Sleep(300 * time.Millisecond)
	}
	w.t.Fatal(err)
}

// consistent returns nil when Firestore matches MongoDB: every asset of a
// live project still exists with copies equal to MongoDB's values, and no
// asset of a deleted project (nor anything under it) is left.
func (w *world) consistent(ctx context.Context) error {
	live := map[string]projectDoc{}
	cur, err := w.projects.Find(ctx, bson.D{})
	if err != nil {
		return err
	}
	var docs []projectDoc
	if err := cur.All(ctx, &docs); err != nil {
		return err
	}
	for _, d := range docs {
		if id, ok := projectKey(d.ID); ok {
			live[id] = d
		}
	}
	var problems []string
	for pid, refs := range w.assets {
		p, alive := live[pid]
		for _, ref := range refs {
			path := relPath(ref)
			snap, err := ref.Get(ctx)
			if err != nil && status.Code(err) != codes.NotFound {
				return err
			}
			exists := err == nil && snap.Exists()
			switch {
			case !alive && exists:
				problems = append(problems, "left behind: "+path)
			case alive && !exists:
				problems = append(problems, "deleted but its project lives: "+path)
			case alive && exists:
				problems = append(problems, copyProblems(path, snap.Data(), p)...)
			}
		}
	}
	sort.Strings(problems)
	if len(problems) > 0 {
		if len(problems) > 10 {
			problems = append(problems[:10], fmt.Sprintf("... and %d more", len(problems)-10))
		}
		return fmt.Errorf("%d inconsistencies: %v", len(problems), problems)
	}
	return nil
}

// projectDoc is the part of a MongoDB project the copies come from.
type projectDoc struct {
	ID    bson.RawValue `bson:"_id"`
	Name  string        `bson:"name"`
	Owner struct {
		Team string `bson:"team"`
	} `bson:"owner"`
}

// projectKey is the projectId of a project _id: an ObjectID's hex or a
// string; false for ids that cannot name a project (the bad-input tests
// put such documents in the collection).
func projectKey(id bson.RawValue) (string, bool) {
	if oid, ok := id.ObjectIDOK(); ok {
		return oid.Hex(), true
	}
	if s, ok := id.StringValueOK(); ok && s != "" {
		return s, true
	}
	return "", false
}

func copyProblems(path string, data map[string]any, project projectDoc) []string {
	var out []string
	if _, ok := data["projectId"]; !ok {
		return nil // a subcollection document: carries no copies
	}
	if got, want := data["projectName"], project.Name; got != want {
		out = append(out, fmt.Sprintf("%s: projectName %v, want %v", path, got, want))
	}
	if nested, ok := data["project"].(map[string]any); ok {
		want := project.Owner.Team
		if got := nested["team"]; got != want {
			out = append(out, fmt.Sprintf("%s: project.team %v, want %v", path, got, want))
		}
	}
	return out
}

// countAll counts the documents of a collection group.
func (w *world) countAll(ctx context.Context, collectionID string) int {
	w.t.Helper()
	it := w.fs.CollectionGroup(collectionID).Documents(ctx)
	defer it.Stop()
	n := 0
	for {
		_, err := it.Next()
		if err == iterator.Done {
			return n
		}
		if err != nil {
			w.t.Fatal(err)
		}
		n++
	}
}

// relPath is a document's path inside its database ("aiAnalyses/x").
func relPath(ref *firestore.DocumentRef) string {
	if _, rest, ok := strings.Cut(ref.Path, "/documents/"); ok {
		return rest
	}
	return ref.Path
}
