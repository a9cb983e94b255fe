package archtest

import (
	"go/build"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
)

const module = "github.com/projectwatcher/watcher/"

// allowed is the import graph of docs/ARCHITECTURE.md: for every package
// of the daemon, the project packages it may import (its own test files
// excepted). Packages not listed are tools and test support (bench, e2e,
// deploy, internal/mongotest, …): no listed package may import them.
var allowed = map[string][]string{
	// plain types and leaves
	"event":               nil,
	"bsonvalue":           nil,
	"config":              nil,
	"internal/clock":      nil,
	"internal/crashpoint": nil,
	"fscall":              nil,
	// the stages around the pipeline: MongoDB, Firestore, the lease, HTTP
	"source":  {"event", "bsonvalue"},
	"sync":    {"event", "bsonvalue", "config", "internal/crashpoint", "fscall"},
	"lease":   {"internal/clock"},
	"logging": {"config"},
	"health":  {"internal/clock"},
	"fsmeter": nil,
	"fsfence": {"event"},
	// the pipeline: it declares the ports the others implement
	"watcher": {"event", "bsonvalue", "internal/clock", "internal/crashpoint"},
	// what implements or drives the pipeline's ports
	"resume":     {"event", "config", "watcher"},
	"deadletter": {"event", "bsonvalue", "watcher"},
	"reconcile":  {"event", "bsonvalue", "config", "fscall", "internal/clock", "watcher", "sync"},
	"metrics":    {"event", "internal/clock", "fsmeter", "lease", "reconcile", "watcher"},
	"bus":        {"event", "bsonvalue", "config", "watcher", "deadletter"},
	// the assembly and the command
	"daemon": {"event", "bsonvalue", "config", "internal/clock", "fscall", "source", "sync", "lease", "logging", "health", "fsmeter", "fsfence",
		"watcher", "resume", "deadletter", "reconcile", "metrics", "bus"},
	"cmd/watcher": {"event", "config", "logging", "health", "resume", "deadletter", "reconcile", "daemon", "bus",
		"cmd/watcher/internal/buildinfo", "cmd/watcher/internal/checkpointview"},
	"cmd/watcher/internal/buildinfo":      nil,
	"cmd/watcher/internal/checkpointview": {"event", "config"},
}

// TestImportGraph fails on an import the graph does not allow, and on a
// package of the daemon the graph does not list.
func TestImportGraph(t *testing.T) {
	root := repoRoot(t)
	for _, pkg := range packages(t, root) {
		bp, err := build.ImportDir(filepath.Join(root, pkg), 0)
		if err != nil {
			t.Fatalf("%s: %v", pkg, err)
		}
		ok, listed := allowed[pkg]
		if !listed {
			if isDaemonPackage(pkg) {
				t.Errorf("%s is not in the import graph of docs/ARCHITECTURE.md: add it there and to allowed", pkg)
			}
			continue
		}
		for _, imp := range bp.Imports {
			if dep, ours := strings.CutPrefix(imp, module); ours && !slices.Contains(ok, dep) {
				t.Errorf("%s imports %s: not in the import graph of docs/ARCHITECTURE.md", pkg, dep)
			}
		}
	}
}

// TestNothingImportsToolsOrTestSupport: the daemon's packages import no
// test support or tool package.
func TestNothingImportsToolsOrTestSupport(t *testing.T) {
	root := repoRoot(t)
	for _, pkg := range packages(t, root) {
		if _, listed := allowed[pkg]; !listed {
			continue
		}
		bp, err := build.ImportDir(filepath.Join(root, pkg), 0)
		if err != nil {
			t.Fatal(err)
		}
		for _, imp := range bp.Imports {
			dep, ours := strings.CutPrefix(imp, module)
			if _, depListed := allowed[dep]; ours && !depListed {
				t.Errorf("%s imports %s, which is a tool or test support", pkg, dep)
			}
		}
	}
}

// isDaemonPackage is a package the daemon is built from (not a tool, a test
// helper or a test-only package).
func isDaemonPackage(pkg string) bool {
	for _, p := range []string{"bench", "e2e", "deploy", "internal/"} {
		if pkg == strings.TrimSuffix(p, "/") || strings.HasPrefix(pkg, p) {
			return pkg == "internal/clock" || pkg == "internal/crashpoint"
		}
	}
	return true
}

// packages lists the directories of the module holding non-test Go files.
func packages(t *testing.T, root string) []string {
	t.Helper()
	var out []string
	err := filepath.WalkDir(root, func(path string, d os.DirEntry, err error) error {
		if err != nil {
			return err
		}
		if d.IsDir() && (strings.HasPrefix(d.Name(), ".") || d.Name() == "testdata") && path != root {
			return filepath.SkipDir
		}
		if d.IsDir() || !strings.HasSuffix(path, ".go") || strings.HasSuffix(path, "_test.go") {
			return nil
		}
		rel, err := filepath.Rel(root, filepath.Dir(path))
		if err != nil {
			return err
		}
		if rel != "." && !slices.Contains(out, filepath.ToSlash(rel)) {
			out = append(out, filepath.ToSlash(rel))
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
	sort.Strings(out)
	return out
}

// repoRoot is the directory of go.mod above this package.
func repoRoot(t *testing.T) string {
	t.Helper()
	dir, err := filepath.Abs("../..")
	if err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(filepath.Join(dir, "go.mod")); err != nil {
		t.Fatalf("no go.mod at %s: %v", dir, err)
	}
	return dir
}
