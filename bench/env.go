package main

import (
	"context"
	"crypto/rand"
	"encoding/hex"
	"errors"
	"fmt"
	"net"
	"net/http"
	"os"
	"os/exec"
	"path/filepath"
	"regexp"
	"runtime"
	"strings"
	"time"

	"cloud.google.com/go/firestore"
	"github.com/projectwatcher/watcher/fsmeter"
	"github.com/projectwatcher/watcher/internal/mongotest"
	"github.com/rs/zerolog"
	"go.mongodb.org/mongo-driver/v2/mongo"
	"go.mongodb.org/mongo-driver/v2/mongo/options"
)

// env is what every scenario shares: the emulator, a MongoDB, the built
// watcher binary and a scratch directory.
type env struct {
	log         zerolog.Logger
	emulator    string // host:port
	emuVersion  string
	mongoURI    string
	mongoServer *mongotest.Server // nil: WATCHER_TEST_MONGO_URI
	mongo       *mongo.Client
	binary      string
	dir         string
	runID       string
	emuPID      int     // 0: unknown (emulator CPU not measured)
	models      []model // how the clients reach the emulator (models.go)
}

// newEnv checks the emulator, starts (or connects to) MongoDB and builds the
// watcher. Close releases everything.
func newEnv(ctx context.Context, log zerolog.Logger) (*env, error) {
	e := &env{log: log, emulator: os.Getenv("FIRESTORE_EMULATOR_HOST")}
	if e.emulator == "" {
		return nil, errors.New("FIRESTORE_EMULATOR_HOST is unset: run `make bench` (it starts the emulator) or start one with `gcloud emulators firestore start --host-port=127.0.0.1:8181`")
	}
	// The harness's clients get the emulator's (or a proxy's) address
	// explicitly (client), and the watcher its own in its environment.
	// Unset, the Firestore client does not dial a connection of its own
	// that the metered one would replace (see fsmeter.ClientOptions).
	if err := os.Unsetenv("FIRESTORE_EMULATOR_HOST"); err != nil {
		return nil, err
	}
	var b [3]byte
	if _, err := rand.Read(b[:]); err != nil {
		return nil, fmt.Errorf("run id: %w", err)
	}
	e.runID = hex.EncodeToString(b[:])
	dir, err := os.MkdirTemp("", "watcher-bench-")
	if err != nil {
		return nil, fmt.Errorf("scratch dir: %w", err)
	}
	e.dir = dir
	e.emuVersion = emulatorVersion(ctx)
	if _, port, err := net.SplitHostPort(e.emulator); err == nil {
		e.emuPID = emulatorPID(port)
	}

	e.mongoURI = os.Getenv("WATCHER_TEST_MONGO_URI")
	if e.mongoURI == "" {
		srv, err := mongotest.Start(mongotest.WithLogger(log.Level(zerolog.WarnLevel)))
		if err != nil {
			e.Close()
			return nil, fmt.Errorf("in-process MongoDB: %w", err)
		}
		e.mongoServer = srv
		e.mongoURI = srv.URI()
	}
	mc, err := mongo.Connect(options.Client().ApplyURI(e.mongoURI))
	if err != nil {
		e.Close()
		return nil, fmt.Errorf("mongodb client: %w", err)
	}
	e.mongo = mc

	e.binary = filepath.Join(dir, "watcher")
	build := exec.CommandContext(ctx, "go", "build", "-trimpath", "-o", e.binary, "./cmd/watcher")
	build.Env = append(os.Environ(), "CGO_ENABLED=0")
	if out, err := build.CombinedOutput(); err != nil {
		e.Close()
		return nil, fmt.Errorf("go build ./cmd/watcher: %w\n%s", err, out)
	}
	return e, nil
}

// Close stops MongoDB (when in-process) and removes the scratch directory.
func (e *env) Close() {
	e.closeModels()
	if e.mongo != nil {
		ctx, cancel := context.WithTimeout(context.Background(), 5*time.Second)
		_ = e.mongo.Disconnect(ctx)
		cancel()
	}
	if e.mongoServer != nil {
		_ = e.mongoServer.Close()
	}
	if e.dir != "" {
		_ = os.RemoveAll(e.dir)
	}
}

// names returns a fresh Firestore project id and MongoDB database name for
// one run of one variant of a scenario under a model (at most 30
// characters, Firestore's limit).
func (e *env) names(scenario string, m model, v variant, rep int) (fsProject, mongoDB string) {
	base := fmt.Sprintf("bench-%s-%s-%s-%s-%d", e.runID, strings.ToLower(scenario), m.name[:1], v.code(), rep)
	return base, strings.ReplaceAll(base, "-", "_")
}

// client connects to the emulator under projectID the way model m does,
// its RPCs counted into rec.
func (e *env) client(ctx context.Context, projectID string, m model, rec fsmeter.Recorder) (*firestore.Client, error) {
	opts, err := fsmeter.ClientOptions(rec, m.addr, nil)
	if err != nil {
		return nil, err
	}
	c, err := firestore.NewClient(ctx, projectID, opts...)
	if err != nil {
		return nil, fmt.Errorf("firestore client for %s: %w", projectID, err)
	}
	return c, nil
}

// firestore connects to the emulator directly under projectID, for what
// is not measured (seeding, checking).
func (e *env) firestore(ctx context.Context, projectID string) (*firestore.Client, error) {
	return e.client(ctx, projectID, e.direct(), &fsmeter.Tally{})
}

// scratch runs fn with a client of a Firestore project of its own, whose
// data is dropped afterwards.
func (e *env) scratch(ctx context.Context, project string, fn func(*firestore.Client) error) error {
	client, err := e.firestore(ctx, project)
	if err != nil {
		return err
	}
	defer func() {
		_ = client.Close()
		e.dropProject(project)
	}()
	return fn(client)
}

// dropProject makes the emulator forget a project's documents (keeps its
// memory flat over a long run). Failures are only logged.
func (e *env) dropProject(projectID string) {
	url := "http://" + e.emulator + "/emulator/v1/projects/" + projectID + "/databases/(default)/documents"
	req, err := http.NewRequest(http.MethodDelete, url, nil)
	if err != nil {
		e.log.Warn().Err(err).Str("project", projectID).Msg("dropping emulator project")
		return
	}
	resp, err := (&http.Client{Timeout: 30 * time.Second}).Do(req)
	if err != nil {
		e.log.Warn().Err(err).Str("project", projectID).Msg("dropping emulator project")
		return
	}
	_ = resp.Body.Close()
}

// emulatorVersion asks gcloud for the installed emulator's version.
func emulatorVersion(ctx context.Context) string {
	if v := os.Getenv("FIRESTORE_EMULATOR_VERSION"); v != "" {
		return v
	}
	ctx, cancel := context.WithTimeout(ctx, 30*time.Second)
	defer cancel()
	out, err := exec.CommandContext(ctx, "gcloud", "version").Output()
	if err != nil {
		return "unknown"
	}
	m := regexp.MustCompile(`(?m)^cloud-firestore-emulator\s+(\S+)`).FindSubmatch(out)
	if m == nil {
		return "unknown"
	}
	return string(m[1])
}

// machine describes the host for the report.
func machine() string {
	return fmt.Sprintf("%d CPUs (%s/%s), %s", runtime.NumCPU(), runtime.GOOS, runtime.GOARCH, runtime.Version())
}

// emulatorCPU is the emulator's CPU seconds so far (0 when unknown).
func (e *env) emulatorCPU() float64 {
	if e.emuPID == 0 {
		return 0
	}
	v, err := cpuSecondsOf(e.emuPID)
	if err != nil {
		return 0
	}
	return v
}

// emulatorUp fails when the emulator process the run started with has
// exited: what was measured since is void (another emulator may even
// answer on its port by now).
func (e *env) emulatorUp() error {
	if e.emuPID == 0 {
		return nil
	}
	if _, err := os.Stat(fmt.Sprintf("/proc/%d", e.emuPID)); err != nil {
		return fmt.Errorf("the Firestore emulator (pid %d) exited during the run: its measurements are void", e.emuPID)
	}
	return nil
}
