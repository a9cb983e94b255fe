// Package checkpointview renders a stored checkpoint for "watcher checkpoint show".
package checkpointview

import (
	"encoding/json"
	"fmt"
	"io"
	"path/filepath"
	"time"

	"github.com/projectwatcher/watcher/config"
	"github.com/projectwatcher/watcher/event"
)

// Store names where a stream's checkpoint is kept.
type Store struct {
	Kind       string `json:"kind"` // mongo | file
	Database   string `json:"database,omitempty"`
	Collection string `json:"collection,omitempty"`
	Path       string `json:"path,omitempty"` // absolute when it could be resolved
	Name       string `json:"name"`           // resume.name, the stream's key
}

// StoreOf names the store cfg configures.
func StoreOf(cfg config.Resume) Store {
	if cfg.Store == "file" {
		path := cfg.Path
		if abs, err := filepath.Abs(path); err == nil {
			path = abs
		}
		return Store{Kind: "file", Path: path, Name: cfg.Name}
	}
	return Store{Kind: "mongo", Database: cfg.Database, Collection: cfg.Collection, Name: cfg.Name}
}

// String is "mongo watcher.checkpoints/projects-firestore" or "file /path".
func (s Store) String() string {
	if s.Kind == "file" {
		return "file " + s.Path
	}
	return fmt.Sprintf("mongo %s.%s/%s", s.Database, s.Collection, s.Name)
}

// View is a stored checkpoint (or its absence) as "checkpoint show" prints it.
type View struct {
	Store   Store
	Found   bool
	CP      event.Checkpoint
	Now     time.Time // for the age
	StartAt string    // resume.startAt: what the watcher does without one
}

// Write prints v for people.
func Write(w io.Writer, v View) error {
	if !v.Found {
		_, err := fmt.Fprintf(w, "no checkpoint stored for %q in %s: the watcher starts at resume.startAt (%s)\n", v.Store.Name, v.Store, v.StartAt)
		return err
	}
	cp := v.CP
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
		age = v.Now.Sub(cp.SavedAt).Round(time.Second).String()
	}
	_, err := fmt.Fprintf(w, "name:        %s\nstore:       %s\ntoken:       %s\nclusterTime: %s\nsavedAt:     %s\nage:         %s\n",
		v.Store.Name, v.Store, token, clusterTime, savedAt, age)
	return err
}

// checkpointJSON is the --json form.
type checkpointJSON struct {
	Name        string           `json:"name"`
	Store       Store            `json:"store"`
	Found       bool             `json:"found"`
	StartAt     string           `json:"startAt,omitempty"` // without a checkpoint: where the watcher starts
	Token       *json.RawMessage `json:"token,omitempty"`   // the resume token as relaxed extended JSON
	ClusterTime *clusterTimeJSON `json:"clusterTime,omitempty"`
	SavedAt     *time.Time       `json:"savedAt,omitempty"`
	AgeSeconds  *float64         `json:"ageSeconds,omitempty"`
}

type clusterTimeJSON struct {
	T    uint32    `json:"t"`
	I    uint32    `json:"i"`
	Time time.Time `json:"time"`
}

// WriteJSON prints v as one JSON object.
func WriteJSON(w io.Writer, v View) error {
	out := checkpointJSON{Name: v.Store.Name, Store: v.Store, Found: v.Found}
	if !v.Found {
		out.StartAt = v.StartAt
	} else {
		cp := v.CP
		if len(cp.Token) > 0 {
			raw := json.RawMessage(cp.Token.String())
			out.Token = &raw
		}
		if cp.ClusterTime.T != 0 || cp.ClusterTime.I != 0 {
			out.ClusterTime = &clusterTimeJSON{T: cp.ClusterTime.T, I: cp.ClusterTime.I, Time: time.Unix(int64(cp.ClusterTime.T), 0).UTC()}
		}
		if !cp.SavedAt.IsZero() {
			saved := cp.SavedAt.UTC()
			age := v.Now.Sub(cp.SavedAt).Seconds()
			out.SavedAt, out.AgeSeconds = &saved, &age
		}
	}
	enc := json.NewEncoder(w)
	enc.SetIndent("", "  ")
	return enc.Encode(out)
}
