package bus_test

import (
	"context"
	"fmt"
	"strings"
	"sync"
	"testing"
	"time"

	"cloud.google.com/go/firestore"
	"cloud.google.com/go/pubsub/v2"
	"github.com/projectwatcher/watcher/bus"
	"github.com/projectwatcher/watcher/config"
	"github.com/projectwatcher/watcher/deadletter"
	"github.com/projectwatcher/watcher/event"
	"github.com/projectwatcher/watcher/internal/firestoretest"
	"github.com/projectwatcher/watcher/internal/pubsubtest"
	"github.com/projectwatcher/watcher/internal/watchertest"
	"github.com/projectwatcher/watcher/source"
	fssync "github.com/projectwatcher/watcher/sync"
	"github.com/projectwatcher/watcher/watcher"
	"github.com/rs/zerolog"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

// world is one worker test's MongoDB, Firestore and Pub/Sub: the real
// parts of a worker (source.Resolver, the Firestore applier, the
// dead-letter collection) on the test servers.
type world struct {
	t        *testing.T
	projects *mongo.Collection
	dead     *deadletter.Store
	fs       *firestore.Client
	ps       *pubsub.Client
	project  string // Pub/Sub project
	cfg      config.Bus
	sync     config.Sync
	pub      *bus.Publisher
	seq      int
}

func newWorld(t *testing.T) *world {
	t.Helper()
	project := pubsubtest.Project(t)
	return newWorldOn(t, project, pubsubtest.Client(t, project))
}

// newWorldOn is newWorld on the Pub/Sub client ps (the emulator, or the
// in-process fake).
func newWorldOn(t *testing.T, project string, ps *pubsub.Client) *world {
	t.Helper()
	fs, _ := firestoretest.Client(t)
	db, _ := watchertest.Mongo(t)
	w := &world{t: t, projects: db.Collection("projects"), dead: deadletter.New(db.Collection("deadLetters")),
		fs: fs, ps: ps, project: project, cfg: pubsubtest.Bus(project),
		sync: config.Sync{IDField: "projectId", Mode: "delete", Workers: 4,
			Collections: []config.Collection{{Name: "aiAnalyses"}},
			Fields:      []config.Field{{Source: "name", Target: "projectName"}}}}
	pubsubtest.Setup(t, ps, project, w.cfg)
	w.pub = bus.NewPublisher(ps, w.cfg.Topic, bus.PublisherOptions{Logger: zerolog.Nop()})
	t.Cleanup(w.pub.Stop)
	return w
}

// applier is the Firestore applier of direct mode (limit: safety.maxDocsPerEvent).
func (w *world) applier(limit int) watcher.Applier {
	a, err := fssync.New(w.fs, w.sync, zerolog.Nop(), fssync.WithLimit(limit))
	if err != nil {
		w.t.Fatal(err)
	}
	return a
}

// options are a worker's options on the world's parts.
func (w *world) options(a watcher.Applier, obs bus.WorkerObserver) bus.WorkerOptions {
	return bus.WorkerOptions{Subscription: w.cfg.Subscription, DeadSubscription: w.cfg.DeadLetterTopic,
		Resolver: source.NewResolver(w.projects), Applier: a, DeadLetters: w.dead,
		Retry:       watcher.RetryPolicy{InitialBackoff: 20 * time.Millisecond, MaxBackoff: 100 * time.Millisecond, MaxAttempts: 3},
		Concurrency: 4, DrainTimeout: 200 * time.Millisecond, MaxDeliveryAttempts: w.cfg.MaxDeliveryAttempts,
		Observer: obs, Logger: zerolog.New(zerolog.NewTestWriter(w.t)).Level(zerolog.InfoLevel)}
}

// run starts a worker until the returned stop is called (or the test ends).
func (w *world) run(o bus.WorkerOptions) (stop func()) {
	w.t.Helper()
	wk, err := bus.NewWorker(w.ps, o)
	if err != nil {
		w.t.Fatal(err)
	}
	ctx, cancel := context.WithCancel(context.Background())
	done := make(chan error, 1)
	go func() { done <- wk.Run(ctx) }()
	var once sync.Once
	stop = func() {
		once.Do(func() {
			cancel()
			select {
			case err := <-done:
				if err != nil {
					w.t.Errorf("worker: %v", err)
				}
			case <-time.After(30 * time.Second):
				w.t.Error("the worker did not stop within 30 s")
			}
		})
	}
	w.t.Cleanup(stop)
	watchertest.WaitFor(w.t, "the worker receiving", func() bool { return wk.Ready(ctx) == nil })
	return stop
}

// addProject inserts a project named name with n aiAnalyses carrying its
// name, and returns its id.
func (w *world) addProject(name string, n int) string {
	w.t.Helper()
	ctx := context.Background()
	oid := bson.NewObjectID()
	if _, err := w.projects.InsertOne(ctx, bson.D{{Key: "_id", Value: oid}, {Key: "name", Value: name}}); err != nil {
		w.t.Fatal(err)
	}
	for i := range n {
		ref := w.fs.Collection("aiAnalyses").Doc(fmt.Sprintf("%s-%d", oid.Hex(), i))
		if _, err := ref.Set(ctx, map[string]any{"projectId": oid.Hex(), "projectName": name}); err != nil {
			w.t.Fatal(err)
		}
	}
	return oid.Hex()
}

// rename sets the project's name in MongoDB.
func (w *world) rename(pid, name string) {
	w.t.Helper()
	oid, _ := bson.ObjectIDFromHex(pid)
	if _, err := w.projects.UpdateOne(context.Background(), bson.D{{Key: "_id", Value: oid}},
		bson.D{{Key: "$set", Value: bson.D{{Key: "name", Value: name}}}}); err != nil {
		w.t.Fatal(err)
	}
}

func (w *world) remove(pid string) {
	w.t.Helper()
	oid, _ := bson.ObjectIDFromHex(pid)
	if _, err := w.projects.DeleteOne(context.Background(), bson.D{{Key: "_id", Value: oid}}); err != nil {
		w.t.Fatal(err)
	}
}

// event is the next stream event of project pid: a rename to name, or a
// delete when name is empty.
func (w *world) event(pid, name string) event.Event {
	w.t.Helper()
	w.seq++
	oid, _ := bson.ObjectIDFromHex(pid)
	ev := event.Event{Kind: event.ProjectDeleted, ProjectID: pid, DocumentID: watchertest.IDValue(oid), Op: "delete",
		Token: watchertest.Token(fmt.Sprintf("%s-%d", pid, w.seq)), ClusterTime: bson.Timestamp{T: uint32(time.Now().Unix()), I: uint32(w.seq)},
		WallTime: time.Now().UTC().Truncate(time.Millisecond)}
	if name != "" {
		ev.Kind, ev.Op, ev.Set = event.ProjectUpdated, "update", map[string]any{"name": name}
	}
	return ev
}

// publish publishes ev as the leader does.
func (w *world) publish(ev event.Event) {
	w.t.Helper()
	if _, err := w.pub.Apply(context.Background(), ev); err != nil {
		w.t.Fatal(err)
	}
}

// names returns the projectName of every aiAnalyses document of pid
// (nothing when they are gone).
func (w *world) names(pid string) []any {
	w.t.Helper()
	docs, err := w.fs.Collection("aiAnalyses").Where("projectId", "==", pid).Documents(context.Background()).GetAll()
	if err != nil {
		w.t.Fatal(err)
	}
	var out []any
	for _, d := range docs {
		out = append(out, d.Data()["projectName"])
	}
	return out
}

// outcomes counts what a worker answered, per event id.
type outcomes struct {
	mu   sync.Mutex
	done map[string]int // outcome → count
	recv []int          // delivery attempts, in arrival order
}

func newOutcomes() *outcomes { return &outcomes{done: map[string]int{}} }

func (o *outcomes) MessageReceived(_ string, _ time.Time, attempt int) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.recv = append(o.recv, attempt)
}

func (o *outcomes) MessageDone(_, outcome string, _ time.Duration, _ time.Time) {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.done[outcome]++
}

func (o *outcomes) Receiving(string, bool) {}
func (o *outcomes) DeadLetterMoved() {
	o.mu.Lock()
	defer o.mu.Unlock()
	o.done["moved"]++
}

func (o *outcomes) count(outcome string) int {
	o.mu.Lock()
	defer o.mu.Unlock()
	return o.done[outcome]
}

func contains(s, sub string) bool { return strings.Contains(s, sub) }
