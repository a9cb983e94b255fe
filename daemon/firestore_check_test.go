package daemon

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/projectwatcher/watcher/internal/firestoretest"
	"google.golang.org/grpc/codes"
)

// TestStartWithFirestoreRefusingSaysWhatIsWrong: Firestore answers every
// call with an error the emulator never sends (a gRPC server injecting the
// status). The daemon keeps running, is not ready, names Firestore and the
// error on /readyz, and logs each failed start-up check at warn saying
// what is wrong and where to look; watcher_firestore_up is 0 and
// watcher_firestore_errors_total counts the code.
func TestStartWithFirestoreRefusingSaysWhatIsWrong(t *testing.T) {
	cases := []struct {
		code       codes.Code
		msg        string
		what, hint string
	}{
		{codes.PermissionDenied, "Missing or insufficient permissions.", "permission denied", "roles/datastore.user"},
		{codes.Unauthenticated, "Request had invalid authentication credentials.", "unauthenticated", "Application Default Credentials"},
		{codes.NotFound, "The database (default) does not exist for project demo", "project or database not found", "check firestore.projectId"},
	}
	for _, tc := range cases {
		t.Run(tc.code.String(), func(t *testing.T) {
			w := newWorld(t)
			t.Setenv(firestoretest.EmulatorEnv, firestoretest.Refusing(t, tc.code, tc.msg))
			d, _ := startRun(t, w.cfg)
			var body string
			d.waitFor(t, 30*time.Second, "/readyz to name the Firestore error", func() bool {
				var code int
				code, body = d.get("/readyz")
				return code == http.StatusServiceUnavailable && strings.Contains(body, "firestore: error: Firestore start-up check failed: "+tc.what)
			})
			if !strings.Contains(body, tc.msg) {
				t.Errorf("/readyz does not carry what Firestore said (%q):\n%s", tc.msg, body)
			}
			d.waitFor(t, 30*time.Second, "two failed checks in the logs", func() bool {
				return strings.Count(d.logs.String(), `"message":"Firestore start-up check failed: `+tc.what) >= 2
			})
			logs := d.logs.String()
			if !strings.Contains(logs, `"level":"warn"`) || !strings.Contains(logs, tc.hint) {
				t.Errorf("the failed check is not logged at warn with the hint %q:\n%s", tc.hint, logs)
			}
			select {
			case <-d.done:
				t.Fatalf("the daemon stopped while Firestore refused: %v", d.err)
			default:
			}
			_, metrics := d.get("/metrics")
			for _, want := range []string{"watcher_firestore_up 0", `watcher_firestore_errors_total{code="` + tc.code.String() + `"} `} {
				if !strings.Contains(metrics, want) {
					t.Errorf("/metrics lacks %q", want)
				}
			}
			if strings.Contains(metrics, `watcher_firestore_errors_total{code="`+tc.code.String()+`"} 0`) {
				t.Errorf("watcher_firestore_errors_total does not count %s", tc.code)
			}
			_, status := d.get("/status")
			if !strings.Contains(status, `"firestore": "Firestore start-up check failed: `+tc.what) {
				t.Errorf("/status does not show the current Firestore error:\n%s", status)
			}
		})
	}
}
