package reconcile

import (
	"context"
	"strings"
	"testing"
	"time"

	"cloud.google.com/go/firestore"
	"github.com/projectwatcher/watcher/internal/firestoretest"
	"github.com/projectwatcher/watcher/internal/tcpproxy"
	fssync "github.com/projectwatcher/watcher/sync"
	"google.golang.org/grpc/codes"
	"google.golang.org/grpc/status"
)

// countOnly reports nothing; setting it makes Run count each collection.
type countOnly struct{}

func (countOnly) Start(string, int)      {}
func (countOnly) Add(int)                {}
func (countOnly) Done(CollectionSummary) {}

// TestScanFailsWithinCallTimeoutWhenFirestoreDoesNotAnswer: a
// reconciliation against a Firestore that stopped answering (a blackholed
// proxy in front of the emulator) fails within about CallTimeout with a
// DeadlineExceeded status naming the limit, both in its count and in its
// page reads, instead of hanging.
func TestScanFailsWithinCallTimeoutWhenFirestoreDoesNotAnswer(t *testing.T) {
	for name, progress := range map[string]Progress{"page": nil, "count": countOnly{}} {
		t.Run(name, func(t *testing.T) {
			f := newFixture(t, fssync.ModeDelete)
			seedWorld(f)
			p, err := tcpproxy.Start(firestoretest.RequireEmulator(t), tcpproxy.WithLogf(t.Logf))
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(p.Close)
			t.Setenv(firestoretest.EmulatorEnv, p.Addr())
			fs, err := firestore.NewClient(context.Background(), f.fsID)
			if err != nil {
				t.Fatal(err)
			}
			t.Cleanup(func() { _ = fs.Close() })
			p.Blackhole()
			f.fs = fs
			r := f.reconciler(Options{CallTimeout: time.Second, Progress: progress, DryRun: true})
			ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
			defer cancel()
			start := time.Now()
			_, err = r.Run(ctx)
			if took := time.Since(start); took > 6*time.Second {
				t.Errorf("Run took %s against a Firestore that does not answer, want about the call timeout (1s)", took)
			}
			if status.Code(err) != codes.DeadlineExceeded || !strings.Contains(err.Error(), "no answer from Firestore within firestore.callTimeout (1s)") {
				t.Fatalf("Run: %v (code %v), want DeadlineExceeded naming the limit", err, status.Code(err))
			}
		})
	}
}
