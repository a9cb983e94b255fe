package reconcile

import (
	"context"
	"testing"

	"cloud.google.com/go/firestore"
	"github.com/projectwatcher/watcher/config"
	"github.com/projectwatcher/watcher/internal/firestoretest"
	"github.com/projectwatcher/watcher/internal/mongotest"
	"github.com/projectwatcher/watcher/source"
	fssync "github.com/projectwatcher/watcher/sync"
	"github.com/projectwatcher/watcher/watcher"
	"github.com/rs/zerolog"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// fixture is one test's projects collection, Firestore project and applier.
type fixture struct {
	t        *testing.T
	srv      *mongotest.Server
	projects *mongo.Collection
	fs       *firestore.Client
	fsID     string // the Firestore project of fs
	cfg      config.Sync
	applier  *fssync.Applier
	log      zerolog.Logger
}

func testSync(mode string) config.Sync {
	return config.Sync{
		IDField: "projectId",
		Mode:    mode,
		Workers: 2,
		Collections: []config.Collection{
			{Name: "storyboards", Recursive: true},
			{Name: "aiAnalyses"},
			{Name: "generatedMedia", Group: true},
		},
		Fields: []config.Field{
			{Source: "name", Target: "projectName"},
			{Source: "owner.team", Target: "project.team", Collections: []string{"storyboards"}},
		},
	}
}

func newFixture(t *testing.T, mode string) *fixture {
	t.Helper()
	return newFixtureWith(t, mode, func(uri string) *options.ClientOptions { return options.Client().ApplyURI(uri) })
}

// newFixtureWith is newFixture with the MongoDB client's options made by
// client from the test server's URI.
func newFixtureWith(t *testing.T, mode string, client func(uri string) *options.ClientOptions) *fixture {
	t.Helper()
	fs, fsID := firestoretest.Client(t)
	uri, srv := mongotest.ForTest(t)
	mc, err := mongo.Connect(client(uri))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { _ = mc.Disconnect(context.Background()) })
	log := zerolog.New(zerolog.NewTestWriter(t)).Level(zerolog.InfoLevel)
	cfg := testSync(mode)
	a, err := fssync.New(fs, cfg, log)
	if err != nil {
		t.Fatal(err)
	}
	return &fixture{
		t: t, srv: srv, fs: fs, fsID: fsID, cfg: cfg, applier: a, log: log,
		projects: mc.Database(mongotest.DBName(t)).Collection("projects"),
	}
}

// reconciler is a Reconciler wired as "watcher reconcile" wires it: each
// repair prepared with a source.Resolver right before f.applier applies it.
func (f *fixture) reconciler(opts Options) *Reconciler {
	f.t.Helper()
	return f.reconcilerWith(f.applier, opts)
}

// reconcilerWith is reconciler with another applier under the preparation.
func (f *fixture) reconcilerWith(a watcher.Applier, opts Options) *Reconciler {
	f.t.Helper()
	r, err := New(f.fs, f.projects, f.cfg, Prepared(source.NewResolver(f.projects), a), f.log, opts)
	if err != nil {
		f.t.Fatal(err)
	}
	return r
}

func (f *fixture) insert(docs ...bson.D) {
	f.t.Helper()
	for _, d := range docs {
		if _, err := f.projects.InsertOne(context.Background(), d); err != nil {
			f.t.Fatal(err)
		}
	}
}

func (f *fixture) seed(docs map[string]map[string]any) {
	f.t.Helper()
	firestoretest.SeedPaths(f.t, f.fs, docs)
}

func (f *fixture) dump() map[string]map[string]any {
	f.t.Helper()
	return firestoretest.Dump(f.t, f.fs)
}

// byCollection indexes a summary's collections.
func byCollection(s Summary) map[string]CollectionSummary {
	out := map[string]CollectionSummary{}
	for _, c := range s.Collections {
		out[c.Collection] = c
	}
	return out
}
