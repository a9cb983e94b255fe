package firestoretest

import (
	"reflect"
	"strings"
	"testing"
)

func TestSanitize(t *testing.T) {
	tests := []struct{ in, want string }{
		{"TestDelete/three_collections", "testdelete-three-collections"},
		{"Test#01", "test-01"},
		{"__x__", "x"},
		{"", ""},
	}
	for _, tt := range tests {
		if got := sanitize(tt.in); got != tt.want {
			t.Errorf("sanitize(%q) = %q, want %q", tt.in, got, tt.want)
		}
	}
}

func TestProjectIDIsShortUniqueAndPrefixed(t *testing.T) {
	a, b := ProjectID(t), ProjectID(t)
	if a == b {
		t.Fatalf("two ids are equal: %s", a)
	}
	for _, id := range []string{a, b} {
		if !strings.HasPrefix(id, "test-") || len(id) > maxProjectIDLen {
			t.Errorf("bad project id %q", id)
		}
	}
}

func TestSeedReadDump(t *testing.T) {
	client, _ := Client(t)
	Seed(t, client, "storyboards", map[string]map[string]any{
		"a": {"projectId": "p1", "n": int64(1)},
		"b": {"projectId": "p2"},
	})
	Seed(t, client, "storyboards/a/scenes", map[string]map[string]any{"s1": {"k": "v"}})
	SeedPaths(t, client, map[string]map[string]any{
		"storyboards/missing/scenes/s2":   {"k": "w"},
		"aiAnalyses/x/frames/f1/notes/n1": {"deep": true},
	})

	got := ReadAll(t, client, "storyboards")
	want := map[string]map[string]any{
		"a": {"projectId": "p1", "n": int64(1)},
		"b": {"projectId": "p2"},
	}
	if !reflect.DeepEqual(got, want) {
		t.Errorf("ReadAll = %v, want %v", got, want)
	}
	if n := CountGroup(t, client, "scenes"); n != 2 {
		t.Errorf("CountGroup(scenes) = %d, want 2", n)
	}
	wantPaths := []string{
		"aiAnalyses/x/frames/f1/notes/n1",
		"storyboards/a",
		"storyboards/a/scenes/s1",
		"storyboards/b",
		"storyboards/missing/scenes/s2",
	}
	if got := Paths(t, client); !reflect.DeepEqual(got, wantPaths) {
		t.Errorf("Paths = %v, want %v", got, wantPaths)
	}
	if _, ok := Get(t, client, "storyboards/missing"); ok {
		t.Error("Get(storyboards/missing) reports a document that was never written")
	}
	if d, ok := Get(t, client, "storyboards/a/scenes/s1"); !ok || d["k"] != "v" {
		t.Errorf("Get(storyboards/a/scenes/s1) = %v, %v", d, ok)
	}
}

func TestProjectsAreIsolated(t *testing.T) {
	c1, p1 := Client(t)
	c2, p2 := Client(t)
	if p1 == p2 {
		t.Fatalf("same project id twice: %s", p1)
	}
	Seed(t, c1, "storyboards", map[string]map[string]any{"a": {"x": 1}})
	if got := ReadAll(t, c2, "storyboards"); len(got) != 0 {
		t.Errorf("second project sees the first one's data: %v", got)
	}
}
