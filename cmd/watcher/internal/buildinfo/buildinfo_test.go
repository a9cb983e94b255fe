package buildinfo

import (
	"runtime/debug"
	"strings"
	"testing"
)

func TestGet(t *testing.T) {
	vcs := func() (*debug.BuildInfo, bool) {
		return &debug.BuildInfo{
			GoVersion: "go1.26.8",
			Main:      debug.Module{Version: "v1.2.3"},
			Settings:  []debug.BuildSetting{{Key: "vcs.revision", Value: "abc123"}, {Key: "vcs.modified", Value: "true"}},
		}, true
	}
	none := func() (*debug.BuildInfo, bool) { return nil, false }
	tests := []struct {
		name            string
		version, commit string
		read            func() (*debug.BuildInfo, bool)
		want            Info
	}{
		{"ldflags win", "1.0.0", "deadbeef", vcs, Info{Version: "1.0.0", Commit: "deadbeef", GoVersion: "go1.26.8"}},
		{"build info fills the gaps", DevVersion, UnknownCommit, vcs, Info{Version: "v1.2.3", Commit: "abc123", Modified: true, GoVersion: "go1.26.8"}},
		{"nothing known", DevVersion, UnknownCommit, none, Info{Version: DevVersion, Commit: UnknownCommit}},
		// make build on an untagged tree: VERSION=$(git describe --tags --always --dirty).
		{"untagged tree", "d1d783b", "d1d783b", none, Info{Version: DevVersion, Commit: "d1d783b"}},
		{"untagged, dirty", "d1d783b-dirty", "d1d783b", none, Info{Version: DevVersion, Commit: "d1d783b", Modified: true}},
		{"untagged, longer commit", "d1d783b", "d1d783b2f0", none, Info{Version: DevVersion, Commit: "d1d783b2f0"}},
		{"untagged, commit unset", "d1d783b", UnknownCommit, none, Info{Version: DevVersion, Commit: "d1d783b"}},
		{"tagged", "v1.2.0", "d1d783b", none, Info{Version: "v1.2.0", Commit: "d1d783b"}},
		{"tag after commits", "v1.2.0-3-gd1d783b-dirty", "d1d783b", none, Info{Version: "v1.2.0-3-gd1d783b-dirty", Commit: "d1d783b"}},
		{"a version that looks like a hash", "2024010", "d1d783b", none, Info{Version: "2024010", Commit: "d1d783b"}},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			got := Get(tt.version, tt.commit, tt.read)
			if tt.want.GoVersion == "" {
				tt.want.GoVersion = got.GoVersion // runtime.Version()
				if !strings.HasPrefix(got.GoVersion, "go") {
					t.Errorf("GoVersion = %q", got.GoVersion)
				}
			}
			if got != tt.want {
				t.Errorf("Get = %+v, want %+v", got, tt.want)
			}
		})
	}
	if s := Get("d1d783b-dirty", "d1d783b", none).String(); !strings.HasPrefix(s, "watcher dev\ncommit  d1d783b (modified)\n") {
		t.Errorf("untagged String() = %q", s)
	}
	if s := Get("1.0.0", "abc", vcs).String(); !strings.Contains(s, "watcher 1.0.0") || !strings.Contains(s, "commit  abc") || !strings.Contains(s, "go1.26.8") {
		t.Errorf("String() = %q", s)
	}
}
