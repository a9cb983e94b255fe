package resume

import (
	"bytes"
	"context"
	"encoding/binary"
	"encoding/json"
	"errors"
	"fmt"
	"io/fs"
	"os"
	"path/filepath"
	"time"

	"github.com/projectwatcher/watcher/event"
	"go.mongodb.org/mongo-driver/v2/bson"
)

// FileStore keeps the checkpoint in a JSON file. A save writes a temporary
// file in the same directory, fsyncs it, renames it over the old one and
// fsyncs the directory: a crash leaves the old checkpoint or the new one,
// never a torn file.
type FileStore struct {
	path string
	name string
	// rename replaces the file (os.Rename; tests inject failures).
	rename func(oldpath, newpath string) error
}

// fileCheckpoint is the file's content. Token holds the BSON bytes of the
// resume token (base64 in JSON).
type fileCheckpoint struct {
	Version     int       `json:"version"`
	Name        string    `json:"name"`
	Token       []byte    `json:"token"`
	ClusterTime fileTS    `json:"clusterTime"`
	SavedAt     time.Time `json:"savedAt"`
}

type fileTS struct {
	T uint32 `json:"t"`
	I uint32 `json:"i"`
}

const fileVersion = 1

// NewFileStore returns a store in the file at path for the stream name.
func NewFileStore(path, name string) *FileStore {
	return &FileStore{path: path, name: name, rename: os.Rename}
}

// Load reads the checkpoint; ok is false when the file does not exist. A
// file that exists but cannot be read as a checkpoint is an ErrCorrupt error.
func (s *FileStore) Load(ctx context.Context) (event.Checkpoint, bool, error) {
	data, err := os.ReadFile(s.path)
	if errors.Is(err, fs.ErrNotExist) {
		return event.Checkpoint{}, false, nil
	}
	if err != nil {
		return event.Checkpoint{}, false, fmt.Errorf("load checkpoint: %w", err)
	}
	var fc fileCheckpoint
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.DisallowUnknownFields()
	if err := dec.Decode(&fc); err != nil {
		return event.Checkpoint{}, false, s.corrupt("%v", err)
	}
	if dec.More() {
		return event.Checkpoint{}, false, s.corrupt("data after the checkpoint")
	}
	switch {
	case fc.Version != fileVersion:
		return event.Checkpoint{}, false, s.corrupt("version %d, want %d", fc.Version, fileVersion)
	case fc.Name != s.name:
		return event.Checkpoint{}, false, s.corrupt("it holds the checkpoint of %q, not of resume.name %q", fc.Name, s.name)
	case len(fc.Token) == 0:
		return event.Checkpoint{}, false, s.corrupt("no token")
	}
	if err := validToken(fc.Token); err != nil {
		return event.Checkpoint{}, false, s.corrupt("token: %v", err)
	}
	return event.Checkpoint{
		Token:       bson.Raw(fc.Token),
		ClusterTime: bson.Timestamp{T: fc.ClusterTime.T, I: fc.ClusterTime.I},
		SavedAt:     fc.SavedAt.UTC(),
	}, true, nil
}

// validToken checks that b is exactly one valid BSON document.
func validToken(b []byte) error {
	if len(b) < 5 || int(binary.LittleEndian.Uint32(b)) != len(b) {
		return fmt.Errorf("%d bytes do not hold one BSON document", len(b))
	}
	return bson.Raw(b).Validate()
}

func (s *FileStore) corrupt(format string, args ...any) error {
	return fmt.Errorf("%w: %s: %s (fix or delete the file, e.g. with \"watcher checkpoint reset --yes\")",
		ErrCorrupt, s.path, fmt.Sprintf(format, args...))
}

// Save replaces the file atomically (temp file, fsync, rename, fsync dir).
func (s *FileStore) Save(ctx context.Context, cp event.Checkpoint) error {
	if len(cp.Token) == 0 {
		return errNoToken
	}
	savedAt := cp.SavedAt
	if savedAt.IsZero() {
		savedAt = time.Now()
	}
	data, err := json.MarshalIndent(fileCheckpoint{
		Version:     fileVersion,
		Name:        s.name,
		Token:       cp.Token,
		ClusterTime: fileTS{T: cp.ClusterTime.T, I: cp.ClusterTime.I},
		SavedAt:     savedAt.UTC(),
	}, "", "  ")
	if err != nil {
		return fmt.Errorf("save checkpoint: %w", err)
	}
	data = append(data, '\n')
	if err := s.writeAtomic(data); err != nil {
		return fmt.Errorf("save checkpoint to %s: %w", s.path, err)
	}
	return nil
}

func (s *FileStore) writeAtomic(data []byte) (err error) {
	dir, base := filepath.Split(s.path)
	if dir == "" {
		dir = "."
	}
	tmp, err := os.CreateTemp(dir, "."+base+".tmp-*")
	if err != nil {
		return err
	}
	defer func() {
		if err != nil {
			_ = tmp.Close()
			_ = os.Remove(tmp.Name())
		}
	}()
	if _, err = tmp.Write(data); err != nil {
		return err
	}
	if err = tmp.Sync(); err != nil {
		return err
	}
	if err = tmp.Close(); err != nil {
		return err
	}
	if err = s.rename(tmp.Name(), s.path); err != nil {
		return err
	}
	return syncDir(dir)
}

// Reset deletes the file (no error when it does not exist).
func (s *FileStore) Reset(ctx context.Context) error {
	if err := os.Remove(s.path); err != nil && !errors.Is(err, fs.ErrNotExist) {
		return fmt.Errorf("reset checkpoint %s: %w", s.path, err)
	}
	dir := filepath.Dir(s.path)
	if err := syncDir(dir); err != nil {
		return fmt.Errorf("reset checkpoint %s: %w", s.path, err)
	}
	return nil
}

// syncDir makes a rename or removal in dir durable.
func syncDir(dir string) error {
	d, err := os.Open(dir)
	if err != nil {
		return err
	}
	serr := d.Sync()
	cerr := d.Close()
	if serr != nil {
		return fmt.Errorf("sync directory %s: %w", dir, serr)
	}
	return cerr
}
