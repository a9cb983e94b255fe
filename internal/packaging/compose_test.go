package packaging

import (
	"context"
	"fmt"
	"path/filepath"
	"slices"
	"strings"

	"github.com/compose-spec/compose-go/v2/loader"
	"github.com/compose-spec/compose-go/v2/types"
)

const projectName = "projectwatcher"

// loadCompose loads src as docker compose does, with root as the working
// directory (relative paths resolve against it) and an empty environment.
func loadCompose(ctx context.Context, root string, src []byte) (*types.Project, error) {
	details := types.ConfigDetails{
		WorkingDir:  root,
		ConfigFiles: []types.ConfigFile{{Filename: filepath.Join(root, "docker-compose.yml"), Content: src}},
		Environment: types.Mapping{},
	}
	p, err := loader.LoadWithContext(ctx, details, func(o *loader.Options) {
		o.SetProjectName(projectName, true)
	})
	if err != nil {
		return nil, fmt.Errorf("load compose file: %w", err)
	}
	return p, nil
}

// checkCompose returns every way p misses the local stack's essentials.
func checkCompose(p *types.Project, root string) []error {
	var errs []error
	services := map[string]types.ServiceConfig{}
	for _, name := range []string{"mongo", "firestore", "watcher"} {
		s, ok := p.Services[name]
		if !ok {
			errs = append(errs, fmt.Errorf("no %s service", name))
			continue
		}
		services[name] = s
	}
	if s, ok := services["mongo"]; ok {
		errs = append(errs, checkMongoService(s)...)
	}
	if s, ok := services["firestore"]; ok {
		errs = append(errs, checkFirestoreService(s)...)
	}
	if s, ok := services["watcher"]; ok {
		errs = append(errs, checkWatcherService(s, root)...)
	}
	return errs
}

// checkMongoService checks the mongo:7 service: replica set rs0 on every
// interface, initiated by its healthcheck.
func checkMongoService(mongo types.ServiceConfig) []error {
	var errs []error
	fail := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if mongo.Image != "mongo:7" {
		fail("mongo image is %q, want mongo:7", mongo.Image)
	}
	if i := slices.Index(mongo.Command, "--replSet"); i < 0 || i+1 >= len(mongo.Command) || mongo.Command[i+1] != "rs0" {
		fail("mongo command %q does not start replica set rs0 (--replSet rs0)", mongo.Command)
	}
	if !slices.Contains(mongo.Command, "--bind_ip_all") {
		fail("mongo command %q lacks --bind_ip_all", mongo.Command)
	}
	hc := mongo.HealthCheck
	switch {
	case hc == nil || hc.Disable || len(hc.Test) == 0:
		fail("mongo has no healthcheck")
	case hc.Test[0] != "CMD" && hc.Test[0] != "CMD-SHELL":
		fail("mongo healthcheck test %q is not a command", hc.Test)
	default:
		test := strings.Join(hc.Test[1:], " ")
		for _, want := range []string{"mongosh", "rs.initiate(", "_id:'rs0'", "host:'mongo:27017'"} {
			if !strings.Contains(test, want) {
				fail("mongo healthcheck does not initiate the replica set (lacks %q): %s", want, test)
			}
		}
	}
	return errs
}

// checkFirestoreService checks the Firestore emulator on host port 8181.
func checkFirestoreService(fs types.ServiceConfig) []error {
	var errs []error
	fail := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if fs.Image != "gcr.io/google.com/cloudsdktool/google-cloud-cli:emulators" {
		fail("firestore image is %q", fs.Image)
	}
	if cmd := strings.Join(fs.Command, " "); !strings.Contains(cmd, "gcloud emulators firestore start") || !strings.Contains(cmd, "--host-port=0.0.0.0:8080") {
		fail("firestore command %q does not start the emulator on 0.0.0.0:8080", fs.Command)
	}
	if !publishes(fs, "8181", 8080) {
		fail("firestore does not publish 8181:8080 (ports %+v)", fs.Ports)
	}
	return errs
}

// checkWatcherService checks the watcher built from root, started after
// its dependencies, pointed at them and given ./config.yaml.
func checkWatcherService(w types.ServiceConfig, root string) []error {
	var errs []error
	fail := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }
	if w.Build == nil || filepath.Clean(w.Build.Context) != filepath.Clean(root) {
		fail("watcher is not built from the repository root (build %+v)", w.Build)
	}
	for dep, cond := range map[string]string{"mongo": types.ServiceConditionHealthy, "firestore": types.ServiceConditionStarted} {
		if d, ok := w.DependsOn[dep]; !ok || d.Condition != cond {
			fail("watcher does not depend on %s with condition %s (depends_on %+v)", dep, cond, w.DependsOn)
		}
	}
	for name, want := range map[string]string{
		"WATCHER_MONGO_URI":       "mongodb://mongo:27017/?replicaSet=rs0",
		"FIRESTORE_EMULATOR_HOST": "firestore:8080",
	} {
		if v, ok := w.Environment[name]; !ok || v == nil || *v != want {
			fail("watcher env %s is not %q", name, want)
		}
	}
	mounted := false
	for _, v := range w.Volumes {
		if v.Type == types.VolumeTypeBind && v.Source == filepath.Join(root, "config.yaml") && v.Target == imageConfig && v.ReadOnly {
			mounted = true
		}
	}
	if !mounted {
		fail("watcher does not mount ./config.yaml read-only at %s (volumes %+v)", imageConfig, w.Volumes)
	}
	if !publishes(w, httpPort, 8080) {
		fail("watcher does not publish %s:8080 (ports %+v)", httpPort, w.Ports)
	}
	return errs
}

// publishes reports whether s publishes container port target on host port.
func publishes(s types.ServiceConfig, host string, target uint32) bool {
	for _, p := range s.Ports {
		if p.Published == host && p.Target == target {
			return true
		}
	}
	return false
}
