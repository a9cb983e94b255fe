package resume

import (
	"context"
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/projectwatcher/watcher/event"
	"go.mongodb.org/mongo-driver/v2/bson"
)

func token(t testing.TB, data string) bson.Raw {
	t.Helper()
	b, err := bson.Marshal(bson.D{{Key: "_data", Value: data}})
	if err != nil {
		t.Fatal(err)
	}
	return b
}

func sameCheckpoint(a, b event.Checkpoint) bool {
	return string(a.Token) == string(b.Token) && a.ClusterTime == b.ClusterTime && a.SavedAt.Equal(b.SavedAt)
}

func TestFileStoreRoundTrip(t *testing.T) {
	ctx := context.Background()
	path := filepath.Join(t.TempDir(), "cp.json")
	s := NewFileStore(path, "projects-firestore")

	if _, ok, err := s.Load(ctx); err != nil || ok {
		t.Fatalf("Load of a missing file = ok %v, err %v; want no checkpoint, no error", ok, err)
	}
	cps := []event.Checkpoint{
		{Token: token(t, "8263A1B2C3000000012B"), ClusterTime: bson.Timestamp{T: 1671541443, I: 1}, SavedAt: time.Date(2024, 5, 1, 10, 0, 0, 123000000, time.UTC)},
		{Token: token(t, "8263A1B2C4000000022B"), ClusterTime: bson.Timestamp{T: 1671541444, I: 2}, SavedAt: time.Date(2024, 5, 1, 10, 0, 1, 0, time.UTC)},
	}
	for i, cp := range cps {
		if err := s.Save(ctx, cp); err != nil {
			t.Fatalf("save %d: %v", i, err)
		}
		got, ok, err := NewFileStore(path, "projects-firestore").Load(ctx)
		if err != nil || !ok {
			t.Fatalf("load %d: ok %v, err %v", i, ok, err)
		}
		if !sameCheckpoint(got, cp) {
			t.Fatalf("load %d = %+v, want %+v", i, got, cp)
		}
	}
	if err := s.Reset(ctx); err != nil {
		t.Fatal(err)
	}
	if _, ok, err := s.Load(ctx); err != nil || ok {
		t.Fatalf("Load after Reset = ok %v, err %v", ok, err)
	}
	if err := s.Reset(ctx); err != nil {
		t.Fatalf("Reset without a checkpoint = %v, want nil", err)
	}
}

func TestFileStoreSaveIsAtomic(t *testing.T) {
	ctx := context.Background()
	dir := t.TempDir()
	path := filepath.Join(dir, "cp.json")
	s := NewFileStore(path, "n")
	old := event.Checkpoint{Token: token(t, "old"), SavedAt: time.Unix(1, 0).UTC()}
	if err := s.Save(ctx, old); err != nil {
		t.Fatal(err)
	}
	before, err := os.ReadFile(path)
	if err != nil {
		t.Fatal(err)
	}

	// The new content goes to a temp file in the same directory, renamed
	// over the checkpoint; a failed rename leaves the old file untouched.
	var renamedFrom string
	renameErr := errors.New("disk gone")
	s.rename = func(oldpath, newpath string) error {
		renamedFrom = oldpath
		if newpath != path {
			t.Errorf("renamed to %s, want %s", newpath, path)
		}
		data, err := os.ReadFile(oldpath)
		if err != nil || !strings.Contains(string(data), `"name": "n"`) {
			t.Errorf("temp file not fully written before the rename: %q, %v", data, err)
		}
		return renameErr
	}
	if err := s.Save(ctx, event.Checkpoint{Token: token(t, "new")}); !errors.Is(err, renameErr) {
		t.Fatalf("Save = %v, want the rename error", err)
	}
	if filepath.Dir(renamedFrom) != dir {
		t.Fatalf("temp file %s is not in the checkpoint's directory %s", renamedFrom, dir)
	}
	after, err := os.ReadFile(path)
	if err != nil || string(after) != string(before) {
		t.Fatalf("checkpoint changed by a failed save:\n%s\nwant\n%s", after, before)
	}
	entries, err := os.ReadDir(dir)
	if err != nil {
		t.Fatal(err)
	}
	if len(entries) != 1 {
		var names []string
		for _, e := range entries {
			names = append(names, e.Name())
		}
		t.Fatalf("directory holds %v, want only the checkpoint (temp file removed)", names)
	}

	s.rename = os.Rename
	if err := s.Save(ctx, event.Checkpoint{Token: token(t, "new")}); err != nil {
		t.Fatal(err)
	}
	got, _, err := s.Load(ctx)
	if err != nil || string(got.Token) != string(token(t, "new")) {
		t.Fatalf("Load = %v, %v; want the new token", got.Token, err)
	}
	if entries, _ := os.ReadDir(dir); len(entries) != 1 {
		t.Fatalf("%d files after a save, want 1", len(entries))
	}
}

func TestFileStoreCorrupt(t *testing.T) {
	tests := []struct {
		name    string
		content string
	}{
		{"empty", ""},
		{"truncated", `{"version": 1, "name": "n", "tok`},
		{"not json", "garbage\x00"},
		{"no token", `{"version": 1, "name": "n", "clusterTime": {"t": 1, "i": 1}}`},
		{"token not bson", `{"version": 1, "name": "n", "token": "AAAA"}`},
		{"other stream", `{"version": 1, "name": "other", "token": "FAAAAAJfZGF0YQAEAAAAYWJjAAA="}`},
		{"unknown version", `{"version": 9, "name": "n", "token": "FAAAAAJfZGF0YQAEAAAAYWJjAAA="}`},
		{"unknown field", `{"version": 1, "name": "n", "token": "FAAAAAJfZGF0YQAEAAAAYWJjAAA=", "x": 1}`},
		{"trailing data", `{"version": 1, "name": "n", "token": "FAAAAAJfZGF0YQAEAAAAYWJjAAA="} {}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			path := filepath.Join(t.TempDir(), "cp.json")
			if err := os.WriteFile(path, []byte(tt.content), 0o600); err != nil {
				t.Fatal(err)
			}
			_, ok, err := NewFileStore(path, "n").Load(context.Background())
			if !errors.Is(err, ErrCorrupt) || ok {
				t.Fatalf("Load = ok %v, err %v; want ErrCorrupt (never \"no checkpoint\")", ok, err)
			}
			if !strings.Contains(err.Error(), path) {
				t.Fatalf("error %q does not name the file", err)
			}
		})
	}
}

func TestFileStoreValidTokenFixture(t *testing.T) {
	// The fixture token of TestFileStoreCorrupt is valid, so those cases fail
	// for the reason they name.
	path := filepath.Join(t.TempDir(), "cp.json")
	content := `{"version": 1, "name": "n", "token": "FAAAAAJfZGF0YQAEAAAAYWJjAAA=", "clusterTime": {"t": 5, "i": 6}, "savedAt": "2024-01-02T03:04:05Z"}`
	if err := os.WriteFile(path, []byte(content), 0o600); err != nil {
		t.Fatal(err)
	}
	cp, ok, err := NewFileStore(path, "n").Load(context.Background())
	if err != nil || !ok {
		t.Fatalf("Load = ok %v, err %v", ok, err)
	}
	if string(cp.Token) != string(token(t, "abc")) || cp.ClusterTime != (bson.Timestamp{T: 5, I: 6}) {
		t.Fatalf("Load = %+v", cp)
	}
}

func TestFileStoreSaveWithoutToken(t *testing.T) {
	s := NewFileStore(filepath.Join(t.TempDir(), "cp.json"), "n")
	if err := s.Save(context.Background(), event.Checkpoint{}); !errors.Is(err, errNoToken) {
		t.Fatalf("Save = %v, want errNoToken", err)
	}
}

func TestValidToken(t *testing.T) {
	good := token(t, "abc")
	tests := []struct {
		name string
		b    []byte
		ok   bool
	}{
		{"document", good, true},
		{"trailing byte", append(append([]byte(nil), good...), 0), false},
		{"short", good[:4], false},
		{"cut", good[:len(good)-1], false},
	}
	for _, tt := range tests {
		if err := validToken(tt.b); (err == nil) != tt.ok {
			t.Errorf("%s: validToken = %v, want ok %v", tt.name, err, tt.ok)
		}
	}
}
