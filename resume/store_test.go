package resume

import (
	"path/filepath"
	"testing"

	"github.com/projectwatcher/watcher/config"
	"go.mongodb.org/mongo-driver/v2/mongo"
)

func TestNewChoosesStore(t *testing.T) {
	client, err := mongo.Connect() // lazy: no server needed to build a store
	if err != nil {
		t.Fatal(err)
	}
	path := filepath.Join(t.TempDir(), "cp.json")
	tests := []struct {
		name   string
		client *mongo.Client
		cfg    config.Resume
		want   string // "mongo", "file" or "error"
	}{
		{"mongo", client, config.Resume{Store: "mongo", Name: "n", Database: "w", Collection: "c"}, "mongo"},
		{"file", nil, config.Resume{Store: "file", Name: "n", Path: path}, "file"},
		{"mongo without client", nil, config.Resume{Store: "mongo"}, "error"},
		{"file without path", nil, config.Resume{Store: "file"}, "error"},
		{"unknown", client, config.Resume{Store: "redis"}, "error"},
	}
	for _, tt := range tests {
		s, err := New(tt.client, tt.cfg)
		got := "error"
		switch s.(type) {
		case *MongoStore:
			got = "mongo"
		case *FileStore:
			got = "file"
		}
		if got != tt.want || (tt.want == "error") != (err != nil) {
			t.Errorf("%s: New = %T, %v; want %s", tt.name, s, err, tt.want)
		}
	}
}
