package packaging

import (
	"bytes"
	"errors"
	"fmt"
	"slices"
	"strings"

	"github.com/moby/buildkit/frontend/dockerfile/instructions"
	"github.com/moby/buildkit/frontend/dockerfile/linter"
	"github.com/moby/buildkit/frontend/dockerfile/parser"
)

// What the image promises (docs/ARCHITECTURE.md; the compose file and the daemon rely on it).
const (
	builderImage  = "golang:1.26"
	finalImage    = "gcr.io/distroless/static-debian12:nonroot"
	binaryPath    = "/watcher"
	imageConfig   = "/etc/watcher/config.yaml"
	httpPort      = "8080"
	nonrootUID    = "65532"
	nonrootName   = "nonroot"
	mainPkgSuffix = "./cmd/watcher"
)

// dockerfile is the parsed Dockerfile.
type dockerfile struct {
	stages []instructions.Stage
}

// parseDockerfile parses src as BuildKit does; lint warnings are errors.
func parseDockerfile(src []byte) (*dockerfile, error) {
	res, err := parser.Parse(bytes.NewReader(src))
	if err != nil {
		return nil, fmt.Errorf("parse: %w", err)
	}
	var lintErrs []error
	for _, w := range res.Warnings {
		lintErrs = append(lintErrs, fmt.Errorf("parser warning: %s", w.Short))
	}
	lint := linter.New(&linter.Config{Warn: func(rule, _, _, msg string, _ []parser.Range) {
		lintErrs = append(lintErrs, fmt.Errorf("lint %s: %s", rule, msg))
	}})
	stages, _, err := instructions.Parse(res.AST, lint)
	if err != nil {
		return nil, fmt.Errorf("instructions: %w", err)
	}
	if len(lintErrs) > 0 {
		return nil, errors.Join(lintErrs...)
	}
	return &dockerfile{stages: stages}, nil
}

// commands returns the commands of type T in stage s.
func commands[T instructions.Command](s instructions.Stage) []T {
	var out []T
	for _, c := range s.Commands {
		if t, ok := c.(T); ok {
			out = append(out, t)
		}
	}
	return out
}

// checkDockerfile returns every way df misses the image's essentials.
func checkDockerfile(df *dockerfile) []error {
	var errs []error
	fail := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	if len(df.stages) < 2 {
		fail("not multi-stage: %d stage(s)", len(df.stages))
		return errs
	}
	final := df.stages[len(df.stages)-1]
	if final.BaseName != finalImage {
		fail("final image is %q, want %q", final.BaseName, finalImage)
	}
	build, buildErrs := buildStage(df, final)
	errs = append(errs, buildErrs...)
	if build != nil {
		errs = append(errs, checkBuildStage(*build, final)...)
	}
	return append(errs, checkFinalStage(final)...)
}

// buildStage returns the earlier stage that the final one copies the binary
// from (nil and an error when there is none).
func buildStage(df *dockerfile, final instructions.Stage) (*instructions.Stage, []error) {
	var errs []error
	fail := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	var build *instructions.Stage
	for _, cp := range commands[*instructions.CopyCommand](final) {
		if cp.DestPath == binaryPath && cp.From != "" {
			for i := range df.stages[:len(df.stages)-1] {
				if df.stages[i].Name == cp.From {
					build = &df.stages[i]
				}
			}
			if build == nil {
				fail("COPY --from=%s: no such earlier stage", cp.From)
			}
		}
	}
	if build == nil {
		fail("final stage does not COPY --from a build stage to %s", binaryPath)
	}
	return build, errs
}

// checkFinalStage checks what the final stage gives the running image:
// its config, user, healthcheck, entrypoint, command and port.
func checkFinalStage(final instructions.Stage) []error {
	var errs []error
	fail := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	copiesConfig := false
	for _, cp := range commands[*instructions.CopyCommand](final) {
		if cp.From == "" && cp.DestPath == imageConfig && slices.Equal(cp.SourcePaths, []string{"config.yaml"}) {
			copiesConfig = true
		}
	}
	if !copiesConfig {
		fail("final stage does not COPY config.yaml to %s", imageConfig)
	}

	users := commands[*instructions.UserCommand](final)
	if len(users) == 0 {
		fail("final stage sets no USER")
	} else if u, _, _ := strings.Cut(users[len(users)-1].User, ":"); u != nonrootName && u != nonrootUID {
		fail("final USER is %q, want %s or %s", users[len(users)-1].User, nonrootName, nonrootUID)
	}

	hcs := commands[*instructions.HealthCheckCommand](final)
	if len(hcs) == 0 {
		fail("final stage has no HEALTHCHECK")
	} else if got, want := hcs[len(hcs)-1].Health.Test, []string{"CMD", binaryPath, "healthcheck"}; !slices.Equal(got, want) {
		fail("HEALTHCHECK test is %q, want exec form %q", got, want)
	}

	eps := commands[*instructions.EntrypointCommand](final)
	if len(eps) == 0 {
		fail("final stage has no ENTRYPOINT")
	} else if ep := eps[len(eps)-1]; ep.PrependShell || !slices.Equal(ep.CmdLine, []string{binaryPath}) {
		fail("ENTRYPOINT is %q (shell form %v), want exec form [%q]", ep.CmdLine, ep.PrependShell, binaryPath)
	}

	cmds := commands[*instructions.CmdCommand](final)
	if len(cmds) == 0 {
		fail("final stage has no CMD")
	} else if c := cmds[len(cmds)-1]; c.PrependShell || !slices.Equal(c.CmdLine, []string{"run", "-c", imageConfig}) {
		fail("CMD is %q (shell form %v), want exec form run -c %s", c.CmdLine, c.PrependShell, imageConfig)
	}

	exposed := false
	for _, e := range commands[*instructions.ExposeCommand](final) {
		for _, p := range e.Ports {
			if strings.TrimSuffix(p, "/tcp") == httpPort {
				exposed = true
			}
		}
	}
	if !exposed {
		fail("final stage does not EXPOSE %s", httpPort)
	}
	return errs
}

// checkBuildStage checks the stage that builds the binary.
func checkBuildStage(build, final instructions.Stage) []error {
	var errs []error
	fail := func(format string, args ...any) { errs = append(errs, fmt.Errorf(format, args...)) }

	if build.BaseName != builderImage {
		fail("build stage image is %q, want %q", build.BaseName, builderImage)
	}
	cgoOff := false
	for _, env := range commands[*instructions.EnvCommand](build) {
		for _, kv := range env.Env {
			if kv.Key == "CGO_ENABLED" {
				cgoOff = kv.Value == "0"
			}
		}
	}
	var goBuild string
	for _, run := range commands[*instructions.RunCommand](build) {
		line := strings.Join(run.CmdLine, " ")
		if strings.Contains(line, "go build") {
			goBuild = line
		}
	}
	if goBuild == "" {
		fail("build stage has no RUN go build")
		return errs
	}
	if strings.Contains(goBuild, "CGO_ENABLED=0") {
		cgoOff = true
	}
	if !cgoOff {
		fail("CGO_ENABLED=0 is not set for the build: the binary would not be static")
	}
	var out string
	for _, cp := range commands[*instructions.CopyCommand](final) {
		if cp.DestPath == binaryPath && len(cp.SourcePaths) == 1 {
			out = cp.SourcePaths[0]
		}
	}
	for _, want := range []string{"-trimpath", "-X main.version=", "-X main.commit=", "-o " + out + " ", mainPkgSuffix} {
		if !strings.Contains(goBuild, want) {
			fail("go build lacks %q: %s", want, goBuild)
		}
	}
	return errs
}
