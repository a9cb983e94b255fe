package config

import (
	"errors"
	"io/fs"
	"os"
	"path/filepath"
	"reflect"
	"testing"
)

func TestLoadMissingFile(t *testing.T) {
	t.Run("explicit path missing is an error", func(t *testing.T) {
		_, err := Load(filepath.Join(t.TempDir(), "nope.yaml"), env())
		if !errors.Is(err, fs.ErrNotExist) {
			t.Fatalf("err = %v, want fs.ErrNotExist", err)
		}
	})
	t.Run("default path missing gives defaults and env", func(t *testing.T) {
		t.Chdir(t.TempDir())
		got, err := Load("", env("WATCHER_SYNC_WORKERS", "2"))
		if err != nil {
			t.Fatal(err)
		}
		want := Defaults()
		want.Sync.Workers = 2
		if !reflect.DeepEqual(got, want) {
			t.Errorf("got %+v\nwant %+v", got, want)
		}
	})
	t.Run("default path present is read", func(t *testing.T) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, DefaultPath), []byte("sync:\n  workers: 4\n"), 0o600); err != nil {
			t.Fatal(err)
		}
		t.Chdir(dir)
		got, err := Load("", env())
		if err != nil {
			t.Fatal(err)
		}
		if got.Sync.Workers != 4 {
			t.Errorf("workers = %d, want 4 from ./config.yaml", got.Sync.Workers)
		}
	})
}

func TestCredentialsFile(t *testing.T) {
	dir := t.TempDir()
	good := writeFile(t, "sa.json", `{"type": "service_account"}`)
	empty := writeFile(t, "empty.json", "\n")
	unreadable := writeFile(t, "secret.json", "{}")
	if err := os.Chmod(unreadable, 0); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name, path, want string
	}{
		{"readable", good, ""},
		{"missing", filepath.Join(dir, "nope.json"), "firestore.credentialsFile: open " + filepath.Join(dir, "nope.json") + ": no such file or directory"},
		{"a directory", dir, "firestore.credentialsFile: read " + dir + ": is a directory"},
		{"empty", empty, "firestore.credentialsFile: " + empty + " is empty"},
	}
	if os.Geteuid() != 0 { // root reads it anyway
		tests = append(tests, struct{ name, path, want string }{"unreadable", unreadable, "permission denied"})
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := Load(writeFile(t, "c.yaml", ""), env("WATCHER_FIRESTORE_CREDENTIALSFILE", tt.path))
			if tt.want == "" {
				if err != nil {
					t.Fatalf("Load: %v", err)
				}
				return
			}
			var problems Problems
			if !errors.As(err, &problems) {
				t.Fatalf("Load error = %v, want Problems", err)
			}
			assertProblems(t, problems, []string{tt.want})
		})
	}
}

func TestLoadedSaysWhichFile(t *testing.T) {
	t.Run("default path missing", func(t *testing.T) {
		t.Chdir(t.TempDir())
		l, err := Source{LookupEnv: env()}.Load()
		if err != nil {
			t.Fatal(err)
		}
		if l.File != "" || l.Origin() != "no config file: defaults and environment" {
			t.Errorf("File %q, Origin %q; want none", l.File, l.Origin())
		}
	})
	t.Run("default path present", func(t *testing.T) {
		dir := t.TempDir()
		if err := os.WriteFile(filepath.Join(dir, DefaultPath), nil, 0o600); err != nil {
			t.Fatal(err)
		}
		t.Chdir(dir)
		l, err := Source{LookupEnv: env()}.Load()
		want, _ := filepath.Abs(DefaultPath)
		if err != nil || l.File != want || l.Origin() != "config file "+want {
			t.Errorf("File %q, Origin %q, err %v; want %s", l.File, l.Origin(), err, want)
		}
	})
	t.Run("explicit path, with problems", func(t *testing.T) {
		path := writeFile(t, "c.yaml", "sync:\n  workers: 0\n")
		l, err := Source{Path: path, LookupEnv: env()}.LoadValid()
		if err == nil || l.File != path {
			t.Errorf("File %q, err %v; want %s and a problem", l.File, err, path)
		}
	})
}
