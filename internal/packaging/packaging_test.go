package packaging

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
)

// repoRoot is the repository root, two levels above this package.
func repoRoot(t *testing.T) string {
	t.Helper()
	root, err := filepath.Abs(filepath.Join("..", ".."))
	if err != nil {
		t.Fatalf("repo root: %v", err)
	}
	if _, err := os.Stat(filepath.Join(root, "go.mod")); err != nil {
		t.Fatalf("repo root %s has no go.mod: %v", root, err)
	}
	return root
}

func readRootFile(t *testing.T, name string) []byte {
	t.Helper()
	b, err := os.ReadFile(filepath.Join(repoRoot(t), name))
	if err != nil {
		t.Fatalf("read %s: %v", name, err)
	}
	return b
}

func TestDockerfile(t *testing.T) {
	df, err := parseDockerfile(readRootFile(t, "Dockerfile"))
	if err != nil {
		t.Fatalf("Dockerfile: %v", err)
	}
	for _, e := range checkDockerfile(df) {
		t.Error(e)
	}
}

// TestDockerfileChecksCatchMistakes breaks the real Dockerfile one way at a
// time and expects the checks to say so.
func TestDockerfileChecksCatchMistakes(t *testing.T) {
	real := string(readRootFile(t, "Dockerfile"))
	tests := []struct {
		name     string
		old, new string
		wantErr  string
	}{
		{name: "root user", old: "USER nonroot:nonroot", new: "USER root", wantErr: "final USER is \"root\""},
		{name: "no user", old: "USER nonroot:nonroot", new: "", wantErr: "sets no USER"},
		{name: "shell-form healthcheck", old: `CMD ["/watcher", "healthcheck"]`, new: "CMD /watcher healthcheck", wantErr: "HEALTHCHECK test"},
		{name: "shell-form entrypoint", old: `ENTRYPOINT ["/watcher"]`, new: "ENTRYPOINT /watcher", wantErr: "ENTRYPOINT is"},
		{name: "other final image", old: "FROM gcr.io/distroless/static-debian12:nonroot", new: "FROM debian:12", wantErr: "final image is \"debian:12\""},
		{name: "cgo on", old: "ENV CGO_ENABLED=0 ", new: "ENV ", wantErr: "CGO_ENABLED=0 is not set"},
		{name: "no trimpath", old: "go build -trimpath", new: "go build", wantErr: "-trimpath"},
		{name: "no version stamp", old: "-X main.version=${VERSION} ", new: "", wantErr: "-X main.version="},
		{name: "old go", old: "golang:1.26", new: "golang:1.22", wantErr: "build stage image"},
		{name: "config not copied", old: "COPY config.yaml /etc/watcher/config.yaml", new: "", wantErr: "config.yaml"},
		{name: "port not exposed", old: "EXPOSE 8080", new: "EXPOSE 9090", wantErr: "EXPOSE 8080"},
		{name: "binary from nowhere", old: "COPY --from=build", new: "COPY --from=builder", wantErr: "no such earlier stage"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !strings.Contains(real, tt.old) {
				t.Fatalf("the Dockerfile no longer contains %q: update this case", tt.old)
			}
			df, err := parseDockerfile([]byte(strings.Replace(real, tt.old, tt.new, 1)))
			if err != nil {
				t.Fatalf("parse mutated Dockerfile: %v", err)
			}
			errs := checkDockerfile(df)
			for _, e := range errs {
				if strings.Contains(e.Error(), tt.wantErr) {
					return
				}
			}
			t.Errorf("no error mentioning %q; got %v", tt.wantErr, errs)
		})
	}
}

func TestDockerfileSingleStage(t *testing.T) {
	df, err := parseDockerfile([]byte("FROM gcr.io/distroless/static-debian12:nonroot\nCOPY watcher /watcher\n"))
	if err != nil {
		t.Fatalf("parse: %v", err)
	}
	errs := checkDockerfile(df)
	if len(errs) == 0 || !strings.Contains(errs[0].Error(), "not multi-stage") {
		t.Errorf("errors = %v, want not multi-stage", errs)
	}
}

func TestCompose(t *testing.T) {
	root := repoRoot(t)
	p, err := loadCompose(context.Background(), root, readRootFile(t, "docker-compose.yml"))
	if err != nil {
		t.Fatal(err)
	}
	if p.Name != projectName {
		t.Errorf("project name = %q, want %q", p.Name, projectName)
	}
	for _, e := range checkCompose(p, root) {
		t.Error(e)
	}
	// The mounted file is the one another part documents; it must exist.
	if _, err := os.Stat(filepath.Join(root, "config.yaml")); err != nil {
		t.Errorf("config.yaml mounted by the compose file: %v", err)
	}
}

// TestComposeChecksCatchMistakes breaks the real compose file one way at a
// time and expects the checks to say so.
func TestComposeChecksCatchMistakes(t *testing.T) {
	root := repoRoot(t)
	real := string(readRootFile(t, "docker-compose.yml"))
	tests := []struct {
		name     string
		old, new string
		wantErr  string
	}{
		{name: "no replica set", old: `"--replSet", "rs0", `, new: "", wantErr: "--replSet rs0"},
		{name: "no initiate", old: "rs.initiate(", new: "rs.status(", wantErr: "rs.initiate("},
		{name: "depends on started mongo", old: "condition: service_healthy", new: "condition: service_started", wantErr: "depend on mongo with condition service_healthy"},
		{name: "wrong mongo uri", old: `WATCHER_MONGO_URI: "mongodb://mongo:27017/?replicaSet=rs0"`, new: `WATCHER_MONGO_URI: "mongodb://mongo:27017"`, wantErr: "WATCHER_MONGO_URI"},
		{name: "no emulator host", old: `FIRESTORE_EMULATOR_HOST: "firestore:8080"`, new: `OTHER: "x"`, wantErr: "FIRESTORE_EMULATOR_HOST"},
		{name: "writable config", old: "read_only: true", new: "read_only: false", wantErr: "read-only"},
		{name: "emulator port", old: `"8181:8080"`, new: `"8182:8080"`, wantErr: "8181:8080"},
		{name: "watcher port", old: `"8080:8080"`, new: `"18080:8080"`, wantErr: "watcher does not publish"},
		{name: "old mongo", old: "image: mongo:7", new: "image: mongo:6", wantErr: "mongo:7"},
		{name: "no firestore", old: "  firestore:\n    image:", new: "  firestore2:\n    image:", wantErr: `undefined service "firestore"`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if !strings.Contains(real, tt.old) {
				t.Fatalf("docker-compose.yml no longer contains %q: update this case", tt.old)
			}
			p, err := loadCompose(context.Background(), root, []byte(strings.Replace(real, tt.old, tt.new, 1)))
			if err != nil {
				// A mutation the loader itself rejects is caught too.
				if strings.Contains(err.Error(), tt.wantErr) {
					return
				}
				t.Fatalf("load mutated compose file: %v", err)
			}
			errs := checkCompose(p, root)
			for _, e := range errs {
				if strings.Contains(e.Error(), tt.wantErr) {
					return
				}
			}
			t.Errorf("no error mentioning %q; got %v", tt.wantErr, errs)
		})
	}
}

func TestComposeRejectedByLoader(t *testing.T) {
	tests := []struct {
		name string
		src  string
	}{
		{name: "unknown service key", src: "services:\n  mongo:\n    image: mongo:7\n    imagee: x\n"},
		{name: "not yaml", src: "services: [\n"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if _, err := loadCompose(context.Background(), repoRoot(t), []byte(tt.src)); err == nil {
				t.Error("loader accepted an invalid compose file")
			}
		})
	}
}

func TestDockerignoreKeepsBuildInputs(t *testing.T) {
	lines := strings.Split(string(readRootFile(t, ".dockerignore")), "\n")
	for _, needed := range []string{"go.mod", "go.sum", "config.yaml", "cmd", "config", "watcher", "sync", "resume", "metrics", "health"} {
		for _, l := range lines {
			l = strings.TrimSpace(l)
			if l == "" || strings.HasPrefix(l, "#") {
				continue
			}
			if strings.TrimSuffix(strings.TrimPrefix(l, "/"), "/") == needed || l == "*" || l == "**" {
				t.Errorf(".dockerignore line %q excludes %s, which the build needs", l, needed)
			}
		}
	}
}
