package daemon

import (
	"context"
	"errors"
	"strings"
	"testing"
	"time"

	"github.com/projectwatcher/watcher/config"
	"github.com/projectwatcher/watcher/event"
	"github.com/projectwatcher/watcher/internal/firestoretest"
	"github.com/projectwatcher/watcher/internal/watchertest"
	"github.com/projectwatcher/watcher/reconcile"
	"github.com/rs/zerolog"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// TestOpenSharesOneClientEach: every part Open builds works, and all of
// them stop working at Close: they sit on the one MongoDB client and the
// one Firestore client Open opened (a part with a client of its own would
// still answer).
func TestOpenSharesOneClientEach(t *testing.T) {
	w := newWorld(t)
	ctx := watchertest.Context(t, time.Minute)
	firestoretest.Seed(t, w.fs, "storyboards", map[string]map[string]any{"a": {"projectId": "p1"}})
	d := open(t, w.cfg, zerolog.Nop())

	cp := event.Checkpoint{Token: watchertest.Token("t1"), ClusterTime: bson.Timestamp{T: 1, I: 1}}
	if err := d.Checkpoints().Save(ctx, cp); err != nil {
		t.Fatalf("checkpoint store: %v", err)
	}
	if _, err := d.DeadLetters().Count(ctx); err != nil {
		t.Fatalf("dead-letter store: %v", err)
	}
	if err := d.Projects().FindOne(ctx, bson.D{}).Err(); !errors.Is(err, mongo.ErrNoDocuments) {
		t.Fatalf("projects: %v", err)
	}
	if rep, err := d.Applier().Apply(ctx, event.Event{Kind: event.ProjectDeleted, ProjectID: "p1"}); err != nil || rep.Total() != 1 {
		t.Fatalf("applier: %v, %d matched, want 1", err, rep.Total())
	}
	if _, ok := firestoretest.Get(t, w.fs, "storyboards/a"); ok {
		t.Fatal("the applier's delete did not reach the emulator")
	}
	if _, err := d.NewReconciler(reconcile.Options{DryRun: true}); err != nil {
		t.Fatalf("reconciler: %v", err)
	}

	if err := d.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := d.Close(); err != nil {
		t.Fatalf("a second Close: %v", err)
	}
	if _, _, err := d.Checkpoints().Load(ctx); !errors.Is(err, mongo.ErrClientDisconnected) {
		t.Errorf("checkpoint store after Close: %v, want %v", err, mongo.ErrClientDisconnected)
	}
	if _, err := d.DeadLetters().Count(ctx); !errors.Is(err, mongo.ErrClientDisconnected) {
		t.Errorf("dead-letter store after Close: %v, want %v", err, mongo.ErrClientDisconnected)
	}
	if err := d.Projects().FindOne(ctx, bson.D{}).Err(); !errors.Is(err, mongo.ErrClientDisconnected) {
		t.Errorf("projects after Close: %v, want %v", err, mongo.ErrClientDisconnected)
	}
	if _, err := d.UnlimitedApplier().Apply(ctx, event.Event{Kind: event.ProjectDeleted, ProjectID: "p1"}); err == nil {
		t.Error("the unlimited applier still writes after Close: it has a Firestore client of its own")
	}
}

// TestOpenWhatACommandNeeds: MongoOnly opens no Firestore client;
// CheckpointsOnly with the file store opens no client at all (a URI the
// driver cannot parse does not matter then).
func TestOpenWhatACommandNeeds(t *testing.T) {
	w := newWorld(t)
	ctx := watchertest.Context(t, time.Minute)
	d, err := Open(ctx, w.cfg, zerolog.Nop(), MongoOnly())
	if err != nil {
		t.Fatal(err)
	}
	defer func() { _ = d.Close() }()
	if d.Firestore() != nil || d.Applier() != nil || d.DeadLetters() == nil {
		t.Errorf("MongoOnly: Firestore %v, Applier %v, DeadLetters %v; want only MongoDB", d.Firestore(), d.Applier(), d.DeadLetters())
	}

	cfg := w.cfg
	cfg.Mongo.URI = "mongodb://alice:s3cr%zzet@localhost:27017/"
	cfg.Resume.Store, cfg.Resume.Path = "file", t.TempDir()+"/checkpoint.json"
	f, err := Open(ctx, cfg, zerolog.Nop(), CheckpointsOnly())
	if err != nil {
		t.Fatalf("CheckpointsOnly with the file store needs no MongoDB: %v", err)
	}
	defer func() { _ = f.Close() }()
	if _, ok, err := f.Checkpoints().Load(ctx); err != nil || ok {
		t.Errorf("a fresh file store: found %v, %v", ok, err)
	}
	if f.DeadLetters() != nil || f.Firestore() != nil {
		t.Error("CheckpointsOnly opened more than the checkpoint store needs")
	}
}

// TestOpenBadURI: a MongoDB URI the driver cannot parse is a clear error
// naming the URI redacted, with no piece of the credentials.
func TestOpenBadURI(t *testing.T) {
	cases := []struct {
		uri, want, secret string
	}{
		{"mongodb://alice:s3cr%zzet@db.example:27017/", "invalid password", "zz"},
		{"mongodb://alice:s3cretpw@db.example:notaport/", "port must be an integer", "s3cretpw"},
		{"mongodb://alice:s3:cretpw@db.example/", "unescaped colon in password", "cretpw"},
		{"mongodb://alice:s3cretpw@db.example/?journal=maybe", `invalid value for "journal"`, "s3cretpw"},
	}
	for _, tc := range cases {
		cfg := config.Defaults()
		cfg.Mongo.URI = tc.uri
		d, err := Open(context.Background(), cfg, zerolog.Nop(), MongoOnly())
		if err == nil {
			_ = d.Close()
			t.Errorf("%s: Open succeeded", tc.uri)
			continue
		}
		msg := err.Error()
		if !strings.Contains(msg, "mongodb client for mongodb://alice:xxxxx@") || !strings.Contains(msg, tc.want) {
			t.Errorf("%s: error %q, want the redacted URI and %q", tc.uri, msg, tc.want)
		}
		if strings.Contains(msg, tc.secret) || strings.Contains(msg, "s3cr") {
			t.Errorf("%s: error %q leaks the password", tc.uri, msg)
		}
		if errors.Is(err, ErrConfig) {
			t.Errorf("%s: a URI the driver refuses is marked ErrConfig (exit 2); the commands exit 1 for it", tc.uri)
		}
	}
}

// TestOpenConfigError: a section a part refuses is ErrConfig, and Open
// leaves nothing open.
func TestOpenConfigError(t *testing.T) {
	cfg := config.Defaults()
	cfg.Resume.Store = "nowhere"
	_, err := Open(context.Background(), cfg, zerolog.Nop(), MongoOnly())
	if !errors.Is(err, ErrConfig) || !strings.Contains(err.Error(), "nowhere") {
		t.Fatalf("Open with resume.store nowhere: %v, want ErrConfig naming the store", err)
	}
}
