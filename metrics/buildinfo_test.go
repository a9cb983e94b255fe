package metrics

import (
	"strings"
	"testing"

	"github.com/prometheus/client_golang/prometheus"
	"github.com/prometheus/client_golang/prometheus/testutil"
)

func TestRegisterBuildInfo(t *testing.T) {
	reg := prometheus.NewPedanticRegistry()
	if err := RegisterBuildInfo(reg, Build{Version: "v1.4.0", Commit: "d1d783b", GoVersion: "go1.26.8"}); err != nil {
		t.Fatal(err)
	}
	want := `
# HELP watcher_build_info Always 1; the labels name the running build (version, commit, Go version).
# TYPE watcher_build_info gauge
watcher_build_info{commit="d1d783b",goversion="go1.26.8",version="v1.4.0"} 1
`
	if err := testutil.GatherAndCompare(reg, strings.NewReader(want), "watcher_build_info"); err != nil {
		t.Error(err)
	}
	if err := RegisterBuildInfo(reg, Build{Version: "v1.4.0", Commit: "d1d783b", GoVersion: "go1.26.8"}); err == nil {
		t.Error("registering twice: want an error")
	}
	if err := RegisterBuildInfo(nil, Build{}); err == nil {
		t.Error("nil registerer: want an error")
	}
}
