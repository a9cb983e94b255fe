package config

import (
	"os"
	"path/filepath"
	"reflect"
	"strings"
	"testing"

	"go.yaml.in/yaml/v3"
)

func TestRepoConfigYAMLEqualsDefaults(t *testing.T) {
	cfg, err := Load(filepath.Join("..", "config.yaml"), env())
	if err != nil {
		t.Fatalf("Load(../config.yaml): %v", err)
	}
	if want := Defaults(); !reflect.DeepEqual(cfg, want) {
		t.Errorf("config.yaml drifted from Defaults():\n got %+v\nwant %+v", cfg, want)
	}
	if err := cfg.Validate(); err != nil {
		t.Errorf("defaults do not validate:\n%v", err)
	}
}

// TestRepoConfigYAMLDocumentsEveryKey checks that config.yaml shows every
// key (not only that the keys it shows hold the defaults) and that each
// scalar key carries a comment on its line.
func TestRepoConfigYAMLDocumentsEveryKey(t *testing.T) {
	data, err := os.ReadFile(filepath.Join("..", "config.yaml"))
	if err != nil {
		t.Fatal(err)
	}
	var doc yaml.Node
	if err := yaml.Unmarshal(data, &doc); err != nil {
		t.Fatal(err)
	}
	comments := map[string]string{} // dotted key path -> the comment on its line
	var walk func(prefix string, n *yaml.Node)
	walk = func(prefix string, n *yaml.Node) {
		if n.Kind != yaml.MappingNode {
			return
		}
		for i := 0; i+1 < len(n.Content); i += 2 {
			key := prefix + n.Content[i].Value
			comments[key] = n.Content[i].LineComment + n.Content[i+1].LineComment
			walk(key+".", n.Content[i+1])
		}
	}
	walk("", doc.Content[0])
	for _, l := range leaves() {
		comment, ok := comments[l.key]
		switch {
		case !ok:
			t.Errorf("config.yaml lacks %s", l.key)
		case l.typ.Kind() != reflect.Slice && strings.TrimSpace(comment) == "":
			t.Errorf("config.yaml: %s has no comment on its line", l.key)
		}
	}
}
