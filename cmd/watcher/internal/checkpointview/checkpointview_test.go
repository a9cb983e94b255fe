package checkpointview

import (
	"bytes"
	"encoding/json"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/projectwatcher/watcher/config"
	"github.com/projectwatcher/watcher/event"
	"go.mongodb.org/mongo-driver/v2/bson"
)

var mongoStore = Store{Kind: "mongo", Database: "watcher", Collection: "checkpoints", Name: "s"}

func TestWrite(t *testing.T) {
	token, err := bson.Marshal(bson.D{{Key: "_data", Value: "82ABCDEF"}})
	if err != nil {
		t.Fatal(err)
	}
	saved := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	now := saved.Add(90 * time.Second)
	tests := []struct {
		name  string
		store Store
		cp    event.Checkpoint
		ok    bool
		want  []string
	}{
		{"none stored", mongoStore, event.Checkpoint{}, false, []string{`no checkpoint stored for "s" in mongo watcher.checkpoints/s`, "resume.startAt (now)"}},
		{"none stored in a file", Store{Kind: "file", Path: "/var/lib/w/cp.json", Name: "s"}, event.Checkpoint{}, false,
			[]string{`no checkpoint stored for "s" in file /var/lib/w/cp.json`}},
		{"stored", mongoStore, event.Checkpoint{Token: token, ClusterTime: bson.Timestamp{T: 1714557600, I: 3}, SavedAt: saved}, true, []string{
			"name:        s\n",
			"store:       mongo watcher.checkpoints/s\n",
			`token:       {"_data": "82ABCDEF"}`,
			"clusterTime: {T: 1714557600, I: 3} (2024-05-01T10:00:00Z)",
			"savedAt:     2024-05-01T10:00:00Z",
			"age:         1m30s",
		}},
		{"stored without times", mongoStore, event.Checkpoint{Token: token}, true, []string{"clusterTime: (none)", "savedAt:     (unknown)", "age:         (unknown)"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			var buf bytes.Buffer
			if err := Write(&buf, View{Store: tt.store, Found: tt.ok, CP: tt.cp, Now: now, StartAt: "now"}); err != nil {
				t.Fatal(err)
			}
			for _, w := range tt.want {
				if !strings.Contains(buf.String(), w) {
					t.Errorf("output lacks %q:\n%s", w, buf.String())
				}
			}
		})
	}
}

func TestWriteJSON(t *testing.T) {
	token, _ := bson.Marshal(bson.D{{Key: "_data", Value: "82ABCDEF"}})
	saved := time.Date(2024, 5, 1, 10, 0, 0, 0, time.UTC)
	var buf bytes.Buffer
	v := View{Store: mongoStore, Found: true, Now: saved.Add(time.Minute),
		CP: event.Checkpoint{Token: token, ClusterTime: bson.Timestamp{T: 1714557600, I: 3}, SavedAt: saved}}
	if err := WriteJSON(&buf, v); err != nil {
		t.Fatal(err)
	}
	var got struct {
		Name  string
		Store Store
		Found bool
		Token struct {
			Data string `json:"_data"`
		}
		ClusterTime struct {
			T, I uint32
			Time time.Time
		}
		SavedAt    time.Time
		AgeSeconds float64
	}
	if err := json.Unmarshal(buf.Bytes(), &got); err != nil {
		t.Fatalf("%v\n%s", err, buf.String())
	}
	if got.Name != "s" || got.Store != mongoStore || !got.Found || got.Token.Data != "82ABCDEF" || got.ClusterTime.T != 1714557600 ||
		got.ClusterTime.I != 3 || !got.ClusterTime.Time.Equal(saved) || !got.SavedAt.Equal(saved) || got.AgeSeconds != 60 {
		t.Errorf("decoded %+v from\n%s", got, buf.String())
	}

	buf.Reset()
	if err := WriteJSON(&buf, View{Store: mongoStore, StartAt: "now"}); err != nil {
		t.Fatal(err)
	}
	var none map[string]any
	if err := json.Unmarshal(buf.Bytes(), &none); err != nil || none["found"] != false || none["startAt"] != "now" || none["token"] != nil {
		t.Errorf("no checkpoint: %v (%v)", none, err)
	}
}

func TestStoreOf(t *testing.T) {
	r := config.Defaults().Resume
	if got := StoreOf(r).String(); got != "mongo watcher.checkpoints/projects-firestore" {
		t.Errorf("mongo store = %q", got)
	}
	r.Store, r.Path = "file", "cp.json"
	abs, _ := filepath.Abs("cp.json")
	if got := StoreOf(r); got.String() != "file "+abs || got.Name != "projects-firestore" {
		t.Errorf("file store = %+v", got)
	}
}
