package metrics

import (
	"errors"
	"fmt"

	"github.com/prometheus/client_golang/prometheus"
)

// Build identifies the running binary for watcher_build_info.
type Build struct {
	Version   string // "dev" for an untagged build
	Commit    string
	GoVersion string
}

// RegisterBuildInfo registers watcher_build_info{version,commit,goversion},
// a gauge that is always 1: dashboards join on it to show which build runs
// where, and a rollout shows as two label sets for a while.
func RegisterBuildInfo(reg prometheus.Registerer, b Build) error {
	if reg == nil {
		return errors.New("metrics: nil registerer")
	}
	g := prometheus.NewGauge(prometheus.GaugeOpts{
		Namespace:   namespace,
		Name:        "build_info",
		Help:        "Always 1; the labels name the running build (version, commit, Go version).",
		ConstLabels: prometheus.Labels{"version": b.Version, "commit": b.Commit, "goversion": b.GoVersion},
	})
	g.Set(1)
	if err := reg.Register(g); err != nil {
		return fmt.Errorf("metrics: register build info: %w", err)
	}
	return nil
}
