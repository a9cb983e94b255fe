package config

import (
	"encoding/json"
	"reflect"
	"strings"
	"testing"
	"time"
)

func TestEncodeRoundTrips(t *testing.T) {
	other := Defaults()
	other.Mongo.URI = "mongodb://db:27017/?replicaSet=rs0"
	other.Sync.Collections = []Collection{{Name: "a", Group: true}, {Name: "b", Recursive: true}}
	other.Sync.Fields = []Field{{Source: "meta.title", Target: "title", Collections: []string{"a"}}, {Source: "n", Target: "n", Collections: []string{}}}
	other.Resume.CheckpointInterval = 250 * time.Millisecond
	other.Safety.DryRun = true
	other.Bus.MaxDeliveryAttempts = 17
	for name, cfg := range map[string]Config{"defaults": Defaults(), "other": other} {
		t.Run(name, func(t *testing.T) {
			out, err := cfg.YAML(nil)
			if err != nil {
				t.Fatal(err)
			}
			got, err := Load(writeFile(t, "c.yaml", string(out)), env())
			if err != nil {
				t.Fatalf("Load(YAML()): %v\n%s", err, out)
			}
			if !reflect.DeepEqual(got, cfg) {
				t.Errorf("YAML does not read back:\n%s\n got %+v\nwant %+v", out, got, cfg)
			}
		})
	}
}

func TestYAMLLayoutAndComments(t *testing.T) {
	out, err := Defaults().YAML(map[string]string{"mongo.uri": "redacted", "sync.fields": "copies"})
	if err != nil {
		t.Fatal(err)
	}
	for _, want := range []string{
		"mongo:\n  uri: \"mongodb://localhost:27017/?replicaSet=rs0\" # redacted\n",
		"checkpointInterval: \"1s\"\n",
		"fields: # copies\n",
		"collections: []\n",
	} {
		if !strings.Contains(string(out), want) {
			t.Errorf("YAML lacks %q:\n%s", want, out)
		}
	}
	if strings.Index(string(out), "mongo:") > strings.Index(string(out), "log:") {
		t.Errorf("sections not in struct order:\n%s", out)
	}
}

func TestJSON(t *testing.T) {
	out, err := Defaults().JSON()
	if err != nil {
		t.Fatal(err)
	}
	var m struct {
		Resume struct {
			CheckpointInterval string `json:"checkpointInterval"`
		} `json:"resume"`
		Sync struct {
			Workers     int `json:"workers"`
			Collections []struct {
				Name      string `json:"name"`
				Recursive bool   `json:"recursive"`
			} `json:"collections"`
		} `json:"sync"`
	}
	if err := json.Unmarshal(out, &m); err != nil {
		t.Fatalf("%v\n%s", err, out)
	}
	if m.Resume.CheckpointInterval != "1s" || m.Sync.Workers != 8 || len(m.Sync.Collections) != 3 || !m.Sync.Collections[0].Recursive {
		t.Errorf("decoded %+v from\n%s", m, out)
	}
}
