// Package checkpointview renders a stored checkpoint for "watcher checkpoint show".
package checkpointview

import (
	"fmt"
	"io"
	"time"

	"github.com/projectwatcher/watcher/event"
)

// Write prints cp (ok: one is stored) for the stream name, its age relative
// to now. startAt is what the watcher does without a checkpoint.
func Write(w io.Writer, name string, cp event.Checkpoint, ok bool, now time.Time, startAt string) error {
	if !ok {
		_, err := fmt.Fprintf(w, "no checkpoint stored for %q: the watcher starts at resume.startAt (%s)\n", name, startAt)
		return err
	}
	token := "(none)"
	if len(cp.Token) > 0 {
		token = cp.Token.String() // extended JSON, e.g. {"_data": "8266..."}
	}
	clusterTime := "(none)"
	if cp.ClusterTime.T != 0 || cp.ClusterTime.I != 0 {
		clusterTime = fmt.Sprintf("{T: %d, I: %d} (%s)", cp.ClusterTime.T, cp.ClusterTime.I,
			time.Unix(int64(cp.ClusterTime.T), 0).UTC().Format(time.RFC3339))
	}
	savedAt, age := "(unknown)", "(unknown)"
	if !cp.SavedAt.IsZero() {
		savedAt = cp.SavedAt.UTC().Format(time.RFC3339Nano)
		age = now.Sub(cp.SavedAt).Round(time.Second).String()
	}
	_, err := fmt.Fprintf(w, "name:        %s\ntoken:       %s\nclusterTime: %s\nsavedAt:     %s\nage:         %s\n",
		name, token, clusterTime, savedAt, age)
	return err
}
