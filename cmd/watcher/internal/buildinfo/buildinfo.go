// Package buildinfo tells which build of the watcher is running.
package buildinfo

import (
	"fmt"
	"runtime"
	"runtime/debug"
	"strings"
)

// Unset values of the -ldflags -X variables.
const (
	DevVersion    = "dev"
	UnknownCommit = "unknown"
)

// Info identifies a build.
type Info struct {
	Version   string
	Commit    string
	Modified  bool // built from a work tree with uncommitted changes
	GoVersion string
}

// Get completes version and commit (set with -ldflags -X) from the binary's
// build information (vcs.revision, the module version) when they were not
// set. read is debug.ReadBuildInfo when nil.
func Get(version, commit string, read func() (*debug.BuildInfo, bool)) Info {
	if read == nil {
		read = debug.ReadBuildInfo
	}
	info := Info{Version: version, Commit: commit, GoVersion: runtime.Version()}
	info.untagged()
	bi, ok := read()
	if !ok || bi == nil {
		return info
	}
	if bi.GoVersion != "" {
		info.GoVersion = bi.GoVersion
	}
	if info.Version == DevVersion && bi.Main.Version != "" && bi.Main.Version != "(devel)" {
		info.Version = bi.Main.Version
	}
	if info.Commit == UnknownCommit {
		for _, s := range bi.Settings {
			switch s.Key {
			case "vcs.revision":
				info.Commit = s.Value
			case "vcs.modified":
				info.Modified = s.Value == "true"
			}
		}
	}
	return info
}

// untagged turns the version of a build from an untagged tree into
// DevVersion: "git describe --tags --always --dirty" (the Makefile's
// VERSION) then gives the abbreviated commit, maybe with "-dirty", which is
// no version. The commit keeps it; "-dirty" becomes Modified.
func (i *Info) untagged() {
	hash, dirty := strings.CutSuffix(i.Version, "-dirty")
	if !isCommitHash(hash) {
		return
	}
	switch {
	case i.Commit == UnknownCommit || i.Commit == "":
		i.Commit = hash
	case !strings.HasPrefix(i.Commit, hash) && !strings.HasPrefix(hash, i.Commit):
		return // a version that only looks like a hash
	}
	i.Version = DevVersion
	i.Modified = i.Modified || dirty
}

// isCommitHash reports whether s is a git object name as describe abbreviates
// it: 7 to 40 lower-case hexadecimal digits.
func isCommitHash(s string) bool {
	if len(s) < 7 || len(s) > 40 {
		return false
	}
	for _, r := range s {
		if !strings.ContainsRune("0123456789abcdef", r) {
			return false
		}
	}
	return true
}

// String is the output of "watcher version".
func (i Info) String() string {
	commit := i.Commit
	if i.Modified {
		commit += " (modified)"
	}
	return fmt.Sprintf("watcher %s\ncommit  %s\ngo      %s\n", i.Version, commit, i.GoVersion)
}
