package demo

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"path/filepath"
	"time"

	"cloud.google.com/go/firestore"
	"go.mongodb.org/mongo-driver/v2/bson"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// Options configure Run.
type Options struct {
	Root             string // the repository root (holds go.mod)
	FirestoreProject string // "" : demo-project
	MongoAddr        string // preferred listen address of the MongoDB test server ("" : any free port)
	HTTPAddr         string // preferred http.addr of the watcher ("" : any free port)
	Out              io.Writer
	// Stay keeps everything running after the script, until ctx is done.
	Stay bool
}

// Result is what Firestore held before the script and after it, one State
// per seeded project (deleted, renamed, untouched).
type Result struct {
	Before, After []State
}

// How long the script waits for the watcher.
const (
	readyTimeout  = 90 * time.Second
	effectTimeout = 60 * time.Second
)

// renamedTo is the new name of the renamed project.
const renamedTo = "Ocean documentary"

// Run builds and starts the MongoDB test server and the watcher, runs the
// script and, with o.Stay, waits for ctx before it stops everything it
// started. FIRESTORE_EMULATOR_HOST must name a running emulator.
func Run(ctx context.Context, o Options) (Result, error) {
	emulator := os.Getenv("FIRESTORE_EMULATOR_HOST")
	if emulator == "" {
		return Result{}, errors.New("FIRESTORE_EMULATOR_HOST is unset: run `make demo`, which starts the Firestore emulator")
	}
	if o.FirestoreProject == "" {
		o.FirestoreProject = "demo-project"
	}
	c := &console{w: o.Out}
	work, err := os.MkdirTemp("", "watcher-demo-")
	if err != nil {
		return Result{}, err
	}
	defer os.RemoveAll(work)
	st := &stack{emulator: emulator, fsProject: o.FirestoreProject, work: work,
		configPath: filepath.Join(o.Root, "internal", "demo", "config.yaml")}
	defer st.stop(c)
	ps := demoProjects()
	var res Result
	if err := st.startMongo(ctx, c, o, ps); err != nil {
		return res, err
	}
	if res.Before, err = readAll(ctx, st.fs, ps); err != nil {
		return res, err
	}
	c.printf("\n== Seeded three projects in MongoDB (collaboration.projects) and their assets in Firestore:\n")
	printStates(c, res.Before)
	if err := st.startWatcher(ctx, c, o); err != nil {
		return res, err
	}
	if res.After, err = script(ctx, c, st, ps); err != nil || !o.Stay {
		return res, err
	}
	st.instructions(c)
	select {
	case <-ctx.Done():
		c.printf("\n== Stopping the watcher and the MongoDB test server\n")
		return res, nil
	case <-st.watcher.done:
		return res, st.watcher.exited()
	}
}

// stack is what Run started.
type stack struct {
	emulator, fsProject, work, configPath string
	watcherBin, mongoURI, httpAddr        string
	mongo, watcher                        *proc
	mc                                    *mongo.Client
	fs                                    *firestore.Client
}

// startMongo builds and starts the test server, connects to it and to the
// emulator, and seeds ps.
func (s *stack) startMongo(ctx context.Context, c *console, o Options, ps []project) error {
	c.printf("== Building the MongoDB test server (internal/mongotest) and the watcher\n")
	mongotestBin, err := build(ctx, o.Root, s.work, "./internal/mongotest/cmd/mongotest")
	if err != nil {
		return err
	}
	if s.watcherBin, err = build(ctx, o.Root, s.work, "./cmd/watcher"); err != nil {
		return err
	}
	mongoAddr, err := pickAddr(o.MongoAddr)
	if err != nil {
		return err
	}
	if s.mongo, s.mongoURI, err = startMongo(ctx, mongotestBin, mongoAddr, filepath.Join(s.work, "mongotest.log")); err != nil {
		return err
	}
	c.printf("== MongoDB test server on %s; Firestore emulator on %s (project %s)\n", s.mongoURI, s.emulator, s.fsProject)
	if s.mc, err = mongo.Connect(options.Client().ApplyURI(s.mongoURI).SetServerSelectionTimeout(30 * time.Second)); err != nil {
		return err
	}
	if s.fs, err = firestore.NewClient(ctx, s.fsProject); err != nil {
		return err
	}
	return seed(ctx, s.projects(), s.fs, ps)
}

// startWatcher starts the watcher and waits until it is ready (its change
// stream open).
func (s *stack) startWatcher(ctx context.Context, c *console, o Options) error {
	var err error
	if s.httpAddr, err = pickAddr(o.HTTPAddr); err != nil {
		return err
	}
	c.printf("\n== Starting the watcher: watcher run -c %s (its log lines start with \"watcher |\")\n", s.configPath)
	cmd := execWatcher(s.watcherBin, s.configPath, s.env())
	cmd.Stdout, cmd.Stderr = c.prefixed("  watcher | "), c.prefixed("  watcher | ")
	if s.watcher, err = start("the watcher", cmd); err != nil {
		return err
	}
	return waitReady(ctx, s.watcher, s.httpAddr, readyTimeout)
}

// env is what the watcher is run with besides config.yaml.
func (s *stack) env() []string {
	return []string{
		"WATCHER_MONGO_URI=" + s.mongoURI,
		"WATCHER_HTTP_ADDR=" + s.httpAddr,
		"WATCHER_FIRESTORE_PROJECTID=" + s.fsProject,
		"FIRESTORE_EMULATOR_HOST=" + s.emulator,
	}
}

func (s *stack) projects() *mongo.Collection {
	return s.mc.Database("collaboration").Collection("projects")
}

// stop ends what start started: the watcher first (it saves its last
// checkpoint in MongoDB), then the clients and the test server.
func (s *stack) stop(c *console) {
	if s.watcher != nil {
		s.watcher.stop(40 * time.Second) // above shutdown.drainTimeout
	}
	if s.fs != nil {
		_ = s.fs.Close()
	}
	if s.mc != nil {
		_ = s.mc.Disconnect(context.Background())
	}
	if s.mongo != nil {
		s.mongo.stop(5 * time.Second)
	}
}

// script deletes one project and renames another, and returns what
// Firestore holds then.
func script(ctx context.Context, c *console, s *stack, ps []project) ([]State, error) {
	del, ren := ps[0], ps[1]
	c.printf("\n== Deleting project %q (_id %s) in MongoDB: the watcher deletes its assets and their frames\n", del.name, del.projectID())
	if _, err := s.projects().DeleteOne(ctx, bson.D{{Key: "_id", Value: del.id}}); err != nil {
		return nil, err
	}
	if _, err := waitFor(ctx, s.fs, del, effectTimeout, func(st State) bool { return st.Total() == 0 }); err != nil {
		return nil, err
	}
	settle()

	c.printf("\n== Renaming project %q to %q in MongoDB: the watcher rewrites projectName in its assets\n", ren.name, renamedTo)
	update := bson.D{{Key: "$set", Value: bson.D{{Key: "name", Value: renamedTo}}}}
	if _, err := s.projects().UpdateOne(ctx, bson.D{{Key: "_id", Value: ren.id}}, update); err != nil {
		return nil, err
	}
	if _, err := waitFor(ctx, s.fs, ren, effectTimeout, func(st State) bool {
		return len(st.Names) == 1 && st.Names[0] == renamedTo
	}); err != nil {
		return nil, err
	}
	settle()

	after, err := readAll(ctx, s.fs, ps)
	if err != nil {
		return nil, err
	}
	c.printf("\n== After:\n")
	printStates(c, after)
	return after, nil
}

// settle gives the watcher's log line of the event time to arrive before
// the next heading.
func settle() { time.Sleep(300 * time.Millisecond) }

// FindRoot returns the directory at or above dir that holds go.mod.
func FindRoot(dir string) (string, error) {
	dir, err := filepath.Abs(dir)
	if err != nil {
		return "", err
	}
	for d := dir; ; d = filepath.Dir(d) {
		if _, err := os.Stat(filepath.Join(d, "go.mod")); err == nil {
			return d, nil
		}
		if filepath.Dir(d) == d {
			return "", fmt.Errorf("no go.mod at or above %s: run the demo in the repository", dir)
		}
	}
}
